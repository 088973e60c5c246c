using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch.optim.LBFGS as a torch user drives it: <c>optimizer.step(closure)</c> with the closure giving the loss and the
/// gradients, here a compiled value and gradient. Checked against closed forms: the first iteration's step
/// min(1, 1/‖g‖₁)·lr, the secant step that lands exactly on a 1-D quadratic's minimum, the minimiser A⁻¹b of a quadratic
/// and the normal equations of least squares (solved by Gaussian elimination in this file), and Rosenbrock's (1, 1).
/// </summary>
public class ClientEightLbfgsTests
{
    // A 4×4 symmetric positive definite A and a b: f(x) = ½ xᵀAx − bᵀx has its minimum at A⁻¹b.
    static readonly double[] A = [4, 1, 0.5, 0, 1, 3, 0.2, 0.1, 0.5, 0.2, 2, 0.3, 0, 0.1, 0.3, 1.5];
    static readonly double[] B = [1, -2, 0.5, 3];

    static double[] Solve(double[] matrix, double[] rhs)
    {
        int n = rhs.Length;
        var m = (double[])matrix.Clone();
        var v = (double[])rhs.Clone();
        for (int k = 0; k < n; k++)
        {
            int pivot = Enumerable.Range(k, n - k).MaxBy(r => Math.Abs(m[r * n + k]));
            for (int c = 0; c < n; c++) (m[k * n + c], m[pivot * n + c]) = (m[pivot * n + c], m[k * n + c]);
            (v[k], v[pivot]) = (v[pivot], v[k]);
            for (int r = k + 1; r < n; r++)
            {
                double f = m[r * n + k] / m[k * n + k];
                for (int c = k; c < n; c++) m[r * n + c] -= f * m[k * n + c];
                v[r] -= f * v[k];
            }
        }
        var x = new double[n];
        for (int r = n - 1; r >= 0; r--)
        {
            double s = v[r];
            for (int c = r + 1; c < n; c++) s -= m[r * n + c] * x[c];
            x[r] = s / m[r * n + r];
        }
        return x;
    }

    static Expr Quadratic(Expr x) => 0.5 * (x * ((Expr)Tensor.FromArray(A, 4, 4)).MatMul(x)).Sum() - (x * Tensor.FromArray(B)).Sum();

    [Fact]
    public void OnAQuadraticTheStepReachesTheClosedFormMinimiser()
    {
        var step = Diff.CompileValueAndGrad((p, _) => Quadratic(p["x"]));
        // torch's defaults stop a step once the loss changes by less than 1e-9, which near the minimum is an error in x
        // of about √(2e-9/λ)
        var lbfgs = new Lbfgs(Parameters.Of(("x", Tensor.Zeros(4))));
        double f0 = lbfgs.Step(p => step.Invoke(p)).ToScalar();
        Assert.Equal(0.0, f0);                                   // the loss where the step started, as torch's step returns
        for (int i = 0; i < 3; i++) lbfgs.Step(p => step.Invoke(p));
        Close(Solve(A, B), lbfgs.Parameters["x"].ToDoubleArray(), 1e-4, "A⁻¹b with torch's tolerances");
        Assert.True(lbfgs.EvaluationCount >= lbfgs.IterationCount, $"{lbfgs.EvaluationCount} evaluations, {lbfgs.IterationCount} iterations");

        // with the tolerances tightened, a few steps of 20 iterations reach the minimiser to rounding (without a line
        // search the quasi-Newton steps are not exact, so it takes more than 4 iterations)
        var tight = new Lbfgs(Parameters.Of(("x", Tensor.Zeros(4))), toleranceGrad: 1e-13, toleranceChange: 1e-30);
        for (int i = 0; i < 3; i++) tight.Step(p => step.Invoke(p));
        Close(Solve(A, B), tight.Parameters["x"].ToDoubleArray(), 1e-11, "A⁻¹b");
    }

    [Fact]
    public void TheFirstIterationIsTorchsScaledGradientStepAndTheSecondTheSecantStep()
    {
        // f(x) = ½·a·x² in one variable: g = a·x. The first iteration moves by t = min(1, 1/|g|)·lr along −g; the second
        // has the pair s = x1 − x0, y = a·s, so H = s/y = 1/a and x2 = x1 − g1/a = 0 exactly (lr 1), with no line search.
        const double a = 3.0, x0 = 2.0;
        Func<Parameters, (Tensor, Parameters)> closure = p =>
        {
            double x = p["x"].ToScalar();
            return (Tensor.Scalar(0.5 * a * x * x), Parameters.Of(("x", Tensor.Scalar(a * x))));
        };
        var one = new Lbfgs(Parameters.Of(("x", Tensor.Scalar(x0))), lr: 0.5, maxIter: 1);
        one.Step(closure);
        double g0 = a * x0, t = Math.Min(1, 1 / Math.Abs(g0)) * 0.5;
        Close(x0 - t * g0, one.Parameters["x"].ToScalar(), 1e-15, "first iteration");
        Assert.Equal(1, one.IterationCount);
        Assert.Equal(1, one.EvaluationCount);                   // the last iteration of a step calls no closure, as torch's

        // torch's max_eval of max_iter·5/4 = 2 would end the step after one iteration (its second call of the closure)
        var two = new Lbfgs(Parameters.Of(("x", Tensor.Scalar(x0))), maxIter: 2, maxEval: 10);
        two.Step(closure);
        Assert.Equal(0.0, two.Parameters["x"].ToScalar(), 15);
        Assert.Equal(2, two.IterationCount);

        // the next step starts with a gradient of 0, below tolerance_grad: nothing moves and only the closure runs
        two.Step(closure);
        Assert.Equal(2, two.IterationCount);
        Assert.Equal(3, two.EvaluationCount);
    }

    [Fact]
    public void OnRosenbrockRepeatedStepsReachTheMinimumAtOneOne()
    {
        // (1 − x)² + 100 (y − x²)², from torch's usual start (−1.5, 2)
        var step = Diff.CompileValueAndGrad((p, _) =>
        {
            var v = p["v"];
            var (x, y) = (v.Row(0), v.Row(1));
            return (1 - x).Square() + 100 * (y - x.Square()).Square();
        });
        var lbfgs = new Lbfgs(Parameters.Of(("v", Tensor.FromArray([-1.5, 2.0]))), historySize: 10);
        for (int i = 0; i < 50 && lbfgs.Parameters["v"].ToDoubleArray().Any(c => Math.Abs(c - 1) > 1e-7); i++)
            lbfgs.Step(p => step.Invoke(p));
        Close([1.0, 1.0], lbfgs.Parameters["v"].ToDoubleArray(), 1e-6, "minimum");
        Assert.Equal(1, step.TraceCount);
    }

    [Fact]
    public void LeastSquaresWithAClosureOverDataMatchesTheNormalEquationsForEachHistorySizeAndDtype()
    {
        var x = Tensor.RandomNormal([30, 3], seed: 5);
        var y = Tensor.RandomNormal([30, 1], seed: 6);
        // normal equations XᵀX w = Xᵀy with a bias column
        var xv = x.ToDoubleArray();
        var yv = y.ToDoubleArray();
        var design = new double[30 * 4];
        for (int r = 0; r < 30; r++) { for (int c = 0; c < 3; c++) design[r * 4 + c] = xv[r * 3 + c]; design[r * 4 + 3] = 1; }
        var gram = new double[16];
        var rhs = new double[4];
        for (int i = 0; i < 4; i++)
        {
            for (int j = 0; j < 4; j++) gram[i * 4 + j] = Enumerable.Range(0, 30).Sum(r => design[r * 4 + i] * design[r * 4 + j]);
            rhs[i] = Enumerable.Range(0, 30).Sum(r => design[r * 4 + i] * yv[r]);
        }
        var expected = Solve(gram, rhs);

        var step = Diff.CompileValueAndGrad((p, data) => Loss.Mse(data[0].MatMul(p["w"]) + p["b"], data[1]));
        foreach (var history in new[] { 1, 3, 100 })
        {
            var lbfgs = new Lbfgs(Parameters.Of(("w", Tensor.Zeros(3, 1)), ("b", Tensor.Zeros(1))), historySize: history, toleranceGrad: 1e-13, toleranceChange: 1e-30);
            for (int i = 0; i < 20; i++) lbfgs.Step(p => step.Invoke(p, x, y));
            Close(expected, [.. lbfgs.Parameters["w"].ToDoubleArray(), .. lbfgs.Parameters["b"].ToDoubleArray()], 1e-7, $"history {history}");
        }

        // float32 parameters stay float32 and reach the minimiser to float32's precision
        var f32 = new Lbfgs(Parameters.Of(("w", Tensor.Zeros([3, 1], DType.Float32)), ("b", Tensor.Zeros([1], DType.Float32))), toleranceGrad: 1e-5);
        for (int i = 0; i < 5; i++) f32.Step(p => step.Invoke(p, x.Cast(DType.Float32), y.Cast(DType.Float32)));
        Assert.All(f32.Parameters.Values, t => Assert.Equal(DType.Float32, t.DType));
        Close(expected, [.. f32.Parameters["w"].ToDoubleArray(), .. f32.Parameters["b"].ToDoubleArray()], 1e-4, "float32");
    }

    [Fact]
    public void BadArgumentsAndClosuresAreRefusedByName()
    {
        var p = Parameters.Of(("w", Tensor.Zeros(2)));
        Assert.Equal("lr", Assert.Throws<ArgumentOutOfRangeException>(() => new Lbfgs(p, lr: -1)).ParamName);
        Assert.Equal("historySize", Assert.Throws<ArgumentOutOfRangeException>(() => new Lbfgs(p, historySize: 0)).ParamName);
        Assert.Equal("maxIter", Assert.Throws<ArgumentOutOfRangeException>(() => new Lbfgs(p, maxIter: 0)).ParamName);
        var lbfgs = new Lbfgs(p);
        var missing = Assert.Throws<ArgumentException>(() => lbfgs.Step(_ => (Tensor.Scalar(1.0), Parameters.Of(("v", Tensor.Ones(2))))));
        Assert.Contains("no gradient named 'w'", missing.Message);
        var shape = Assert.Throws<ArgumentException>(() => lbfgs.Step(_ => (Tensor.Scalar(1.0), Parameters.Of(("w", Tensor.Ones(3))))));
        Assert.Contains("[3]", shape.Message);
        var notScalar = Assert.Throws<ArgumentException>(() => lbfgs.Step(_ => (Tensor.Ones(2), Parameters.Of(("w", Tensor.Ones(2))))));
        Assert.Contains("one element", notScalar.Message);
        Assert.Equal(0, lbfgs.IterationCount);
    }
    [Fact]
    public void ASymbolicClosureOfDiffValueAndGradStepsAsTheCompiledOne()
    {
        // torch's closure, written without compiling: lbfgs.Step(p => Diff.ValueAndGrad(LossOf, p))
        var lbfgs = new Lbfgs(Parameters.Of(("x", Tensor.Zeros(4))), toleranceGrad: 1e-13, toleranceChange: 1e-30);
        double f0 = lbfgs.Step(p => Diff.ValueAndGrad(q => Quadratic(q["x"]), p)).ToScalar();
        Assert.Equal(0.0, f0);
        for (int i = 0; i < 2; i++) lbfgs.Step(p => Diff.ValueAndGrad(q => Quadratic(q["x"]), p));
        Close(Solve(A, B), lbfgs.Parameters["x"].ToDoubleArray(), 1e-11, "A⁻¹b");
    }
}

