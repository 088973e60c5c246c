using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A physics-informed loss as a JAX user writes it: u(x) a small MLP of a scalar x, the residual u″(x) + u(x) of the
/// equation u″ = −u over a batch of collocation points, u″ taken as vmap(grad(grad(u))) (and, the PyTorch way, as
/// two gradients of a batch sum, and as a JVP of the gradient), and the gradient of the mean squared residual in the
/// MLP's parameters (a derivative of a vmapped second derivative). u″ is checked against central second differences of
/// the same MLP written over doubles and its closed form, and the parameter gradient against central differences of
/// the whole loss written over doubles.
/// </summary>
public class ClientSevenPinnTests
{
    const int H = 6, B = 7;

    static readonly Tensor[] Initial =
    [
        Tensor.RandomNormal([H], seed: 91), Tensor.RandomNormal([H], seed: 92),
        0.5 * Tensor.RandomNormal([H], seed: 93), Tensor.Scalar(0.1),
    ];

    static readonly Tensor Points = Tensor.Linspace(-2, 2, B);

    /// <summary>u(x) = w2 · tanh(w1 x + b1) + b2 for a scalar x: p = [w1, b1, w2, b2].</summary>
    static Expr U(Expr[] p, Expr x) => (p[2] * (p[0] * x + p[1]).Tanh()).Sum() + p[3];

    /// <summary>jax: vmap(grad(grad(u)))(xs) + vmap(u)(xs), then mean of the square.</summary>
    static Expr ResidualLoss(Expr[] p, Expr xs)
    {
        var uxx = Diff.Grad(Diff.Grad(x => U(p, x)));
        var residual = Diff.Vmap(x => uxx(x) + U(p, x))(xs);
        return residual.Square().Mean();
    }

    // ---- doubles ----

    static double Ud(double[][] p, double x)
    {
        double s = p[3][0];
        for (int j = 0; j < H; j++) s += p[2][j] * Math.Tanh(p[0][j] * x + p[1][j]);
        return s;
    }

    static double UxxClosed(double[][] p, double x)
    {
        double s = 0;
        for (int j = 0; j < H; j++)
        {
            double t = Math.Tanh(p[0][j] * x + p[1][j]);
            s += p[2][j] * p[0][j] * p[0][j] * (-2 * t * (1 - t * t));
        }
        return s;
    }

    static double LossClosed(double[][] p, double[] xs) => xs.Select(x => Math.Pow(UxxClosed(p, x) + Ud(p, x), 2)).Average();

    static double[][] Doubles(Tensor[] p) => p.Select(t => t.ToDoubleArray()).ToArray();

    [Fact]
    public void SecondDerivativeByVmapOfNestedGradMatchesCentralDifferences()
    {
        Expr[] p = [.. Initial];
        var d = Doubles(Initial);
        var xs = Points.ToDoubleArray();
        var uxx = Diff.Grad(Diff.Grad(x => U(p, x)));

        var byVmap = Diff.Vmap(uxx)(Points).Eval().ToDoubleArray();
        // the PyTorch way: u over the batch, grad of its sum (each u_i depends only on x_i), twice
        Expr BatchU(Expr x) => (p[2] * (x.Unsqueeze(-1) * p[0] + p[1]).Tanh()).Sum(-1) + p[3];
        var bySums = Diff.Grad(x => Diff.Grad(v => BatchU(v).Sum())(x).Sum())(Points).Eval().ToDoubleArray();
        // forward over reverse: the JVP of u′ along 1 at each point, vmapped
        var byJvp = Diff.Vmap(x => Diff.Jvp(Diff.Grad(y => U(p, y)), x, Expr.OnesLike(x)).Tangent)(Points).Eval().ToDoubleArray();
        // and the Hessian of a scalar function is its second derivative
        var byHessian = xs.Select(x => Diff.Hessian(v => U(p, v))(Tensor.Scalar(x)).Eval().ToScalar()).ToArray();

        const double h = 1e-4;
        for (int i = 0; i < B; i++)
        {
            double x = xs[i];
            double differences = (Ud(d, x + h) - 2 * Ud(d, x) + Ud(d, x - h)) / (h * h);
            double closed = UxxClosed(d, x);
            Close(closed, differences, 1e-6, $"the reference at {x}");
            Close(closed, byVmap[i], 1e-13, $"vmap(grad(grad u)) at {x}");
            Close(closed, bySums[i], 1e-13, $"grad of sums at {x}");
            Close(closed, byJvp[i], 1e-13, $"jvp of grad at {x}");
            Close(closed, byHessian[i], 1e-13, $"hessian at {x}");
        }
    }

    [Fact]
    public void ParameterGradientOfTheResidualLossMatchesCentralDifferencesOfTheWholeLoss()
    {
        var (loss, gradients) = Diff.ValueAndGrad((Expr[] q) => ResidualLoss(q, Points), [.. Initial]);
        var values = Expr.EvalMany([loss, .. gradients]);
        var d = Doubles(Initial);
        var xs = Points.ToDoubleArray();
        Close(LossClosed(d, xs), values[0].ToScalar(), 1e-13, "loss");
        for (int k = 0; k < d.Length; k++)
        {
            int which = k;
            var expected = Gradient(v => LossClosed(d.Select((a, i) => i == which ? v : a).ToArray(), xs), d[k]);
            Assert.Equal(Initial[k].Shape, values[k + 1].Shape);
            Close(expected, values[k + 1].ToDoubleArray(), 1e-7, $"parameter {k}");
        }
    }

    [Fact]
    public void ACompiledAdamStepLowersTheResidualAndMatchesTheDoubleLossEveryStep()
    {
        var model = Parameters.Of(("w1", Initial[0]), ("b1", Initial[1]), ("w2", Initial[2]), ("b2", Initial[3]));
        var step = Diff.CompileValueAndGrad((p, data) => ResidualLoss([p["w1"], p["b1"], p["w2"], p["b2"]], data[0]));
        var adam = new Adam(model, lr: 0.01);
        var losses = new List<double>();
        for (int i = 0; i < 25; i++)
        {
            var before = adam.Parameters;
            var d = Doubles([before["w1"], before["b1"], before["w2"], before["b2"]]);
            // collocation points move each step, as a PINN resamples them: data, not constants of the plan
            var xs = Tensor.Linspace(-2 + 0.01 * i, 2 - 0.01 * i, B);
            var (loss, gradients) = step.Invoke(before, xs);
            Close(LossClosed(d, xs.ToDoubleArray()), loss.ToScalar(), 1e-12, $"loss at step {i}");
            if (i % 8 == 0)
                Close(Gradient(v => LossClosed([v, d[1], d[2], d[3]], xs.ToDoubleArray()), d[0]), gradients["w1"].ToDoubleArray(), 1e-7, $"w1 at step {i}");
            losses.Add(loss.ToScalar());
            adam.Step(gradients);
        }
        Assert.Equal(1, step.TraceCount);
        Assert.True(losses[^1] < losses[0], string.Join(", ", losses));
    }

    [Fact]
    public void InFloat32TheVmappedSecondDerivativeAndTheCompiledParameterGradientStayFloat32AndClose()
    {
        // a float32 model: every result float32, within float32 rounding of the double closed forms
        Tensor[] initial = [.. Initial.Select(t => t.Cast(DType.Float32))];
        var points = Points.Cast(DType.Float32);
        var d = Doubles(initial);                      // the float32 values, widened
        var xs = points.ToDoubleArray();
        Expr[] p = [.. initial];
        var uxx = Diff.Vmap(Diff.Grad(Diff.Grad(x => U(p, x))))(points).Eval();
        Assert.Equal(DType.Float32, uxx.DType);
        Close(xs.Select(x => UxxClosed(d, x)).ToArray(), uxx.ToDoubleArray(), 2e-5, "u''");

        var step = Diff.Compile((Expr[] a) =>
        {
            var (loss, g) = Diff.ValueAndGrad((Expr[] q) => ResidualLoss(q, a[4]), a[..4]);
            return [loss, .. g];
        });
        var outs = step.Invoke([.. initial, points]);
        Assert.All(outs, o => Assert.Equal(DType.Float32, o.DType));
        double scale = Math.Max(1, LossClosed(d, xs));
        Close(LossClosed(d, xs), outs[0].ToScalar(), 1e-5 * scale, "loss");
        for (int k = 0; k < d.Length; k++)
        {
            int which = k;
            var expected = Gradient(v => LossClosed(d.Select((a, i) => i == which ? v : a).ToArray(), xs), d[k]);
            Close(expected, outs[k + 1].ToDoubleArray(), 1e-4 * scale, $"parameter {k}");
        }
    }
}
