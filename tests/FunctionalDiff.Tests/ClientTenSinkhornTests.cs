using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Entropic optimal transport by Sinkhorn's iterations in the log domain, ported from PyTorch as a user writes it
/// first: <c>C = torch.cdist(x, y) ** 2</c> (or the broadcast difference squared and summed), uniform weights, 50
/// updates <c>f = eps * log a - eps * torch.logsumexp((g[None, :] - C) / eps, dim=1)</c> and the same for g, the plan
/// <c>P = exp((f[:, None] + g[None, :] - C) / eps)</c> and the cost <c>(P * C).sum()</c>. The cost is compared with the
/// same iterations over doubles, its gradient in the first cloud with central differences (also compiled), and the
/// plan's marginals with the weights.
/// </summary>
public class ClientTenSinkhornTests
{
    const int N = 5, M = 4, D = 2, Iterations = 50;
    const double Eps = 0.5;

    static readonly Tensor X = Tensor.RandomNormal([N, D], seed: 61);
    static readonly Tensor Y = Tensor.RandomNormal([M, D], seed: 62) + 0.5;

    // ---- what a torch user writes ----

    static Expr CostMatrix(Expr x, Expr y, bool cdist) =>
        cdist ? Expr.Cdist(x, y).Square()                                        // torch.cdist(x, y) ** 2
              : (x.Unsqueeze(1) - y.Unsqueeze(0)).Pow(2).Sum(-1);               // ((x[:, None] - y[None]) ** 2).sum(-1)

    static (Expr Cost, Expr Plan) Sinkhorn(Expr x, Expr y, bool cdist = true)
    {
        int n = x.Shape[0], m = y.Shape[0];
        var c = CostMatrix(x, y, cdist);
        double logA = Math.Log(1.0 / n), logB = Math.Log(1.0 / m);
        Expr f = Expr.Zeros(n), g = Expr.Zeros(m);
        for (int i = 0; i < Iterations; i++)
        {
            f = Eps * logA - Eps * ((g.Unsqueeze(0) - c) / Eps).LogSumExp(1);
            g = Eps * logB - Eps * ((f.Unsqueeze(1) - c) / Eps).LogSumExp(0);
        }
        var plan = ((f.Unsqueeze(1) + g.Unsqueeze(0) - c) / Eps).Exp();
        return ((plan * c).Sum(), plan);
    }

    // ---- the same iterations over doubles ----

    static double LogSumExp(IEnumerable<double> values)
    {
        var v = values.ToArray();
        double max = v.Max();
        return max + Math.Log(v.Sum(a => Math.Exp(a - max)));
    }

    static (double Cost, double[,] Plan) Reference(double[] x, double[] y)
    {
        var c = new double[N, M];
        for (int i = 0; i < N; i++)
            for (int j = 0; j < M; j++)
                for (int k = 0; k < D; k++) c[i, j] += (x[i * D + k] - y[j * D + k]) * (x[i * D + k] - y[j * D + k]);
        var f = new double[N];
        var g = new double[M];
        for (int it = 0; it < Iterations; it++)
        {
            for (int i = 0; i < N; i++) f[i] = Eps * Math.Log(1.0 / N) - Eps * LogSumExp(Enumerable.Range(0, M).Select(j => (g[j] - c[i, j]) / Eps));
            for (int j = 0; j < M; j++) g[j] = Eps * Math.Log(1.0 / M) - Eps * LogSumExp(Enumerable.Range(0, N).Select(i => (f[i] - c[i, j]) / Eps));
        }
        var plan = new double[N, M];
        double cost = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < M; j++)
            {
                plan[i, j] = Math.Exp((f[i] + g[j] - c[i, j]) / Eps);
                cost += plan[i, j] * c[i, j];
            }
        return (cost, plan);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void CostIsTheReferenceIterationAndGradientIsCentralDifferences(bool cdist)
    {
        var (cost, gradient) = Diff.ValueAndGrad(x => Sinkhorn(x, Y, cdist).Cost, X);
        var values = Expr.EvalMany([cost, gradient]);
        var y = Y.ToDoubleArray();
        Close(Reference(X.ToDoubleArray(), y).Cost, values[0].ToScalar(), 1e-12, "cost");
        Close(Gradient(x => Reference(x, y).Cost, X.ToDoubleArray()), values[1].ToDoubleArray(), 1e-7, "gradient");
    }

    [Fact]
    public void ThePlansMarginalsAreTheWeights()
    {
        var plan = Sinkhorn(X, Y).Plan.Eval();
        var (_, reference) = Reference(X.ToDoubleArray(), Y.ToDoubleArray());
        Close(reference.Cast<double>().ToArray(), plan.ToDoubleArray(), 1e-12, "plan");
        // g is updated last, so the columns sum to 1/M exactly; the rows approach 1/N as the iterations converge
        // (at ε = 0.5, 50 iterations leave them within 1e-4)
        Close(Enumerable.Repeat(1.0 / M, M).ToArray(), plan.Sum(0).ToDoubleArray(), 1e-12, "column sums");
        Close(Enumerable.Repeat(1.0 / N, N).ToArray(), plan.Sum(1).ToDoubleArray(), 1e-4, "row sums");
    }

    [Fact]
    public void CompiledCostAndGradientMatchTheReferenceOnNewClouds()
    {
        var step = Diff.Compile((Expr[] a) =>
        {
            var (cost, gradient) = Diff.ValueAndGrad(x => Sinkhorn(x, a[1]).Cost, a[0]);
            return [cost, gradient];
        });
        for (int seed = 0; seed < 3; seed++)
        {
            var x = Tensor.RandomNormal([N, D], seed: 70 + seed);
            var y = Tensor.RandomNormal([M, D], seed: 80 + seed);
            var outs = step.Invoke(x, y);
            Close(Reference(x.ToDoubleArray(), y.ToDoubleArray()).Cost, outs[0].ToScalar(), 1e-12, "compiled cost");
            Close(Gradient(xx => Reference(xx, y.ToDoubleArray()).Cost, x.ToDoubleArray()), outs[1].ToDoubleArray(), 1e-7, "compiled gradient");
        }
        Assert.Equal(1, step.TraceCount);
    }

    [Fact]
    public void CoincidentPointsHaveAFiniteGradientThroughCdist()
    {
        // a point of x on a point of y: cdist's distance has a kink at 0, its square does not; torch's cdist gives a
        // zero gradient there, and the squared cost's derivative (2(x − y) = 0) agrees
        var x = Tensor.FromArray(X.ToDoubleArray(), N, D);
        var xs = x.ToDoubleArray();
        var ys = Y.ToDoubleArray();
        xs[0] = ys[0];
        xs[1] = ys[1];
        var moved = Tensor.FromArray(xs, N, D);
        var gradient = Diff.Grad(xx => Sinkhorn(xx, Y).Cost)(moved).Eval().ToDoubleArray();
        Assert.All(gradient, v => Assert.True(double.IsFinite(v)));
        Close(Gradient(xx => Reference(xx, ys).Cost, xs), gradient, 1e-7, "gradient at a coincident point");
    }

    [Fact]
    public void AScanOverTheIterationsIsTheUnrolledLoopInValueAndGradient()
    {
        // jax.lax.fori_loop's form: the potentials are the carries, the cost matrix a captured Expr; the loop is one node
        // whatever the count, and its reverse a Scan, so the gradient reaches the points through the captured matrix
        Expr Scanned(Expr x)
        {
            var c = CostMatrix(x, Y, cdist: true);
            var (carry, _) = Expr.Scan(Iterations, fg =>
            {
                var f = Eps * Math.Log(1.0 / N) - Eps * ((fg[1].Unsqueeze(0) - c) / Eps).LogSumExp(1);
                var g = Eps * Math.Log(1.0 / M) - Eps * ((f.Unsqueeze(1) - c) / Eps).LogSumExp(0);
                return ([f, g], []);
            }, [Expr.Zeros(N), Expr.Zeros(M)]);
            return (((carry[0].Unsqueeze(1) + carry[1].Unsqueeze(0) - c) / Eps).Exp() * c).Sum();
        }
        var (cost, gradient) = Diff.ValueAndGrad(Scanned, X);
        var values = Expr.EvalMany([cost, gradient]);
        var y = Y.ToDoubleArray();
        Close(Reference(X.ToDoubleArray(), y).Cost, values[0].ToScalar(), 1e-12, "scanned cost");
        Close(Gradient(x => Reference(x, y).Cost, X.ToDoubleArray()), values[1].ToDoubleArray(), 1e-7, "scanned gradient");
    }
}
