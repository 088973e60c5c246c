using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A user's Hessian-free (truncated Newton) training of a small tanh MLP regression, as written in JAX or with
/// torch.func: the Gauss-Newton matrix G = Jᵀ H_L J of the mean squared error (J the Jacobian of the predictions in
/// the parameters, H_L = 2/n I the loss's Hessian in the predictions) applied to a direction without forming it, J v by
/// <see cref="Diff.Jvp(Func{Expr[], Expr}, Expr[], Expr[])"/> (forward mode) and Jᵀ u by the pullback of
/// <see cref="Diff.Vjp(Func{Expr[], Expr}, Expr[])"/> (reverse mode); then a few iterations of conjugate gradient on
/// (G + λI) d = −∇L from d = 0, unrolled in one <see cref="Diff.Compile(Func{Expr[], Expr[]})"/>d step that returns the
/// loss and the parameters plus d. Held to the reference loop: the MLP over doubles, its Jacobian by central
/// differences, G and the gradient formed explicitly from it, and the same conjugate gradient on the explicit matrix.
/// </summary>
public class ClientTwentyOneHessianFreeTests
{
    const int N = 8, In = 2, Hidden = 5, Iterations = 4, Steps = 3;
    const double Damping = 0.1;
    static readonly (string Name, int[] Shape)[] Layout = [("w1", [Hidden, In]), ("b1", [Hidden]), ("w2", [1, Hidden]), ("b2", [1])];
    static readonly int P = Layout.Sum(e => e.Shape.Aggregate(1, (a, b) => a * b));
    static readonly double[] X = Values(N * In, 2).Select(v => 1.5 * v).ToArray();
    static readonly double[] Y = Enumerable.Range(0, N).Select(i => Math.Sin(2 * X[i * In]) * Math.Cos(X[i * In + 1])).ToArray();

    static Expr Predict(Expr[] p, Expr x) => Nn.Linear(Nn.Linear(x, p[0], p[1]).Tanh(), p[2], p[3]);

    /// <summary>G v = Jᵀ (2/n) J v: a forward-mode product, then a reverse-mode one, with no matrix formed.</summary>
    static Expr[] GaussNewtonProduct(Expr[] p, Expr x, Expr[] v)
    {
        var (_, jv) = Diff.Jvp(q => Predict(q, x), p, v);
        var (_, pullback) = Diff.Vjp(q => Predict(q, x), p);
        return pullback(2.0 / N * jv);
    }

    static Expr Dot(Expr[] a, Expr[] b) => a.Zip(b, (u, w) => (u * w).Sum()).Aggregate((s, t) => s + t);

    /// <summary>The user's step: inputs w1, b1, w2, b2, x, y; results the loss and the parameters moved by CG's d.</summary>
    static Expr[] HessianFreeStep(Expr[] inputs)
    {
        Expr[] p = inputs[..4];
        Expr x = inputs[4], y = inputs[5];
        var (loss, gradient) = Diff.ValueAndGrad(q => Loss.Mse(Predict(q, x), y), p);
        Expr[] Apply(Expr[] v) => GaussNewtonProduct(p, x, v).Zip(v, (gv, d) => gv + Damping * d).ToArray();
        var d = p.Select(Expr.ZerosLike).ToArray();
        var r = gradient.Select(g => -g).ToArray();                          // b − A·0
        var direction = r;
        var rr = Dot(r, r);
        for (int k = 0; k < Iterations; k++)
        {
            var ad = Apply(direction);
            var alpha = rr / Dot(direction, ad);
            d = d.Zip(direction, (di, pi) => di + alpha * pi).ToArray();
            r = r.Zip(ad, (ri, api) => ri - alpha * api).ToArray();
            var next = Dot(r, r);
            direction = r.Zip(direction, (ri, pi) => ri + next / rr * pi).ToArray();
            rr = next;
        }
        return [loss, .. p.Zip(d, (pi, di) => pi + di)];
    }

    // ---- the reference: doubles, the Jacobian by central differences, G formed, CG on it ----

    static double[] ReferencePredictions(double[] flat)
    {
        var w = Unflatten(Layout, flat);
        var hidden = Linear(X, N, In, Hidden, w["w1"], w["b1"]).Select(Math.Tanh).ToArray();
        return Linear(hidden, N, Hidden, 1, w["w2"], w["b2"]);
    }

    /// <summary>J [N, P] by central differences of the predictions in each parameter.</summary>
    static double[,] ReferenceJacobian(double[] flat, double h = 1e-6)
    {
        var j = new double[N, P];
        for (int q = 0; q < P; q++)
        {
            var up = (double[])flat.Clone();
            var down = (double[])flat.Clone();
            up[q] += h;
            down[q] -= h;
            var (fu, fd) = (ReferencePredictions(up), ReferencePredictions(down));
            for (int i = 0; i < N; i++) j[i, q] = (fu[i] - fd[i]) / (2 * h);
        }
        return j;
    }

    /// <summary>G = (2/n) JᵀJ and the gradient (2/n) Jᵀ (f − y), formed entry by entry.</summary>
    static (double[,] G, double[] Gradient) ReferenceGaussNewton(double[] flat)
    {
        var j = ReferenceJacobian(flat);
        var f = ReferencePredictions(flat);
        var g = new double[P, P];
        var gradient = new double[P];
        for (int a = 0; a < P; a++)
        {
            for (int i = 0; i < N; i++) gradient[a] += 2.0 / N * j[i, a] * (f[i] - Y[i]);
            for (int b = 0; b < P; b++)
                for (int i = 0; i < N; i++) g[a, b] += 2.0 / N * j[i, a] * j[i, b];
        }
        return (g, gradient);
    }

    static double[] Times(double[,] a, double[] v) =>
        Enumerable.Range(0, v.Length).Select(r => Enumerable.Range(0, v.Length).Sum(c => a[r, c] * v[c])).ToArray();

    static double DotOf(double[] a, double[] b) => a.Zip(b, (u, w) => u * w).Sum();

    /// <summary>Conjugate gradient on (G + λI) d = −gradient from d = 0, <see cref="Iterations"/> iterations.</summary>
    static double[] ReferenceDirection(double[] flat)
    {
        var (g, gradient) = ReferenceGaussNewton(flat);
        var d = new double[P];
        var r = gradient.Select(v => -v).ToArray();
        var direction = (double[])r.Clone();
        double rr = DotOf(r, r);
        for (int k = 0; k < Iterations; k++)
        {
            var ad = Times(g, direction).Zip(direction, (gv, v) => gv + Damping * v).ToArray();
            double alpha = rr / DotOf(direction, ad);
            for (int q = 0; q < P; q++) { d[q] += alpha * direction[q]; r[q] -= alpha * ad[q]; }
            double next = DotOf(r, r);
            for (int q = 0; q < P; q++) direction[q] = r[q] + next / rr * direction[q];
            rr = next;
        }
        return d;
    }

    static double ReferenceLoss(double[] flat) => ReferencePredictions(flat).Zip(Y, (f, y) => (f - y) * (f - y)).Sum() / N;

    static Tensor[] Start() => Layout.Select((e, k) =>
        Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), 60 + k).Select(v => 0.8 * v).ToArray(), e.Shape)).ToArray();

    static Tensor[] Split(double[] flat)
    {
        var w = Unflatten(Layout, flat);
        return Layout.Select(e => Tensor.FromArray(w[e.Name], e.Shape)).ToArray();
    }

    [Fact]
    public void AGaussNewtonVectorProductIsTheExplicitMatrixTimesTheVector()
    {
        var start = Start();
        var flat = start.SelectMany(t => t.ToDoubleArray()).ToArray();
        var v = Values(P, 13);
        var product = GaussNewtonProduct(start.Select(t => (Expr)t).ToArray(), Tensor.FromArray(X, N, In), Split(v).Select(t => (Expr)t).ToArray());
        var ours = Expr.EvalMany(product).SelectMany(t => t.ToDoubleArray()).ToArray();
        Close(Times(ReferenceGaussNewton(flat).G, v), ours, 1e-8, "G v");
    }

    [Fact]
    public void CompiledHessianFreeStepsFollowConjugateGradientOnTheExplicitMatrix()
    {
        var step = Diff.Compile((Expr[] inputs) => HessianFreeStep(inputs));
        Tensor[] x = [Tensor.FromArray(X, N, In), Tensor.FromArray(Y, N, 1)];
        var parameters = Start();
        var losses = new List<double>();
        for (int s = 0; s < Steps; s++)
        {
            // the reference starts each step from our parameters, so its differences' rounding does not accumulate
            var reference = parameters.SelectMany(t => t.ToDoubleArray()).ToArray();
            var results = step.Invoke([.. parameters, .. x]);
            Close(ReferenceLoss(reference), results[0].Item(), 1e-12, $"loss at step {s}");
            losses.Add(results[0].Item());
            var expected = reference.Zip(ReferenceDirection(reference), (p, di) => p + di).ToArray();
            parameters = results[1..];
            Close(expected, parameters.SelectMany(t => t.ToDoubleArray()).ToArray(), 1e-7, $"parameters after step {s}");
        }
        Assert.Equal(1, step.TraceCount);
        // each truncated Newton step lowers the loss here
        double final = ReferenceLoss(parameters.SelectMany(t => t.ToDoubleArray()).ToArray());
        Assert.True(final < losses[^1] && losses[^1] < losses[1] && losses[1] < losses[0], $"losses {string.Join(", ", losses)}, then {final}");
    }
}
