using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Gaussian-process regression as a GPyTorch-less PyTorch user writes it: an RBF kernel
/// K = s² exp(−|xi − xj|² / (2 l²)) + noise·I built by broadcasting (torch.cdist, or the expanded square), the negative
/// log marginal likelihood through torch.linalg.cholesky and torch.cholesky_solve (or two triangular solves), its
/// gradient in log s, log l and log noise, a few optimiser steps, and the posterior mean at test points. Every number
/// is compared with a reference computed here with doubles: Gaussian elimination for K⁻¹y, the determinant from the
/// elimination's pivots, and central differences of that reference.
/// </summary>
public class ClientSevenGaussianProcessTests
{
    const int N = 8, M = 5;

    static readonly Tensor X = Tensor.RandomNormal([N, 2], seed: 71);
    static readonly Tensor Y = (X[.., 0].Sin() + 0.3 * X[.., 1]).Reshape(N);
    static readonly Tensor XTest = Tensor.RandomNormal([M, 2], seed: 72);

    static Expr Kernel(Expr a, Expr b, Expr logS, Expr logL, bool cdist)
    {
        // |xi − xj|² by torch.cdist, or by the expanded square (a[:, None, :] − b[None, :, :])².sum(-1)
        var squared = cdist ? Expr.Cdist(a, b).Pow(2) : (a.Unsqueeze(1) - b.Unsqueeze(0)).Pow(2).Sum(-1);
        return (2 * logS).Exp() * (-squared / (2 * (2 * logL).Exp())).Exp();
    }

    /// <summary>The NLML with θ = [log s, log l, log noise], as a torch user writes it.</summary>
    static Expr NegativeLogMarginalLikelihood(Expr theta, Expr x, Expr y, bool cdist, bool choleskySolve)
    {
        var logS = theta.Row(0);                 // torch's theta[0]: Expr has no indexer (an untyped p => p[0] means Expr[])
        var logL = theta.Row(1);
        var logNoise = theta.Row(2);
        int n = x.Shape[0];
        var k = Kernel(x, x, logS, logL, cdist) + logNoise.Exp() * Expr.Eye(n);
        var l = k.Cholesky();
        var column = y.Unsqueeze(-1);
        var alpha = choleskySolve
            ? column.CholeskySolve(l)                                                          // torch.cholesky_solve(y[:, None], L)
            : l.SolveTriangular(l.SolveTriangular(column, upper: false), upper: false, transpose: true);
        return 0.5 * (column * alpha).Sum() + l.Diagonal().Log().Sum() + 0.5 * n * Math.Log(2 * Math.PI);
    }

    // ---- the reference: doubles, Gaussian elimination ----

    static double[,] ReferenceKernel(double[] a, int na, double[] b, int nb, double s, double l)
    {
        var k = new double[na, nb];
        for (int i = 0; i < na; i++)
            for (int j = 0; j < nb; j++)
            {
                double d0 = a[2 * i] - b[2 * j], d1 = a[2 * i + 1] - b[2 * j + 1];
                k[i, j] = s * s * Math.Exp(-(d0 * d0 + d1 * d1) / (2 * l * l));
            }
        return k;
    }

    /// <summary>x with k x = y by Gaussian elimination with partial pivoting, and log|det k| from the pivots.</summary>
    static (double[] X, double LogDet) Eliminate(double[,] k, double[] y)
    {
        int n = y.Length;
        var a = (double[,])k.Clone();
        var b = (double[])y.Clone();
        double logDet = 0;
        for (int c = 0; c < n; c++)
        {
            int pivot = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(a[r, c]) > Math.Abs(a[pivot, c])) pivot = r;
            if (pivot != c)
            {
                for (int j = 0; j < n; j++) (a[c, j], a[pivot, j]) = (a[pivot, j], a[c, j]);
                (b[c], b[pivot]) = (b[pivot], b[c]);
            }
            logDet += Math.Log(Math.Abs(a[c, c]));
            for (int r = c + 1; r < n; r++)
            {
                double f = a[r, c] / a[c, c];
                for (int j = c; j < n; j++) a[r, j] -= f * a[c, j];
                b[r] -= f * b[c];
            }
        }
        var x = new double[n];
        for (int r = n - 1; r >= 0; r--)
        {
            double s = b[r];
            for (int j = r + 1; j < n; j++) s -= a[r, j] * x[j];
            x[r] = s / a[r, r];
        }
        return (x, logDet);
    }

    static double[,] TrainingKernel(double[] theta)
    {
        var k = ReferenceKernel(X.ToDoubleArray(), N, X.ToDoubleArray(), N, Math.Exp(theta[0]), Math.Exp(theta[1]));
        for (int i = 0; i < N; i++) k[i, i] += Math.Exp(theta[2]);
        return k;
    }

    static double ReferenceNlml(double[] theta)
    {
        var y = Y.ToDoubleArray();
        var (alpha, logDet) = Eliminate(TrainingKernel(theta), y);
        double fit = 0;
        for (int i = 0; i < N; i++) fit += y[i] * alpha[i];
        // Σ log diag L = ½ log det K
        return 0.5 * fit + 0.5 * logDet + 0.5 * N * Math.Log(2 * Math.PI);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void NlmlAndItsGradientInTheLogHyperparametersMatchEliminationAndCentralDifferences(bool cdist, bool choleskySolve)
    {
        foreach (var theta in new[] { new[] { 0.1, -0.2, -2.0 }, new[] { -0.5, 0.4, -0.7 } })
        {
            var (value, gradient) = Diff.ValueAndGrad(t => NegativeLogMarginalLikelihood(t, X, Y, cdist, choleskySolve), Tensor.FromArray(theta));
            var values = Expr.EvalMany([value, gradient]);
            Close(ReferenceNlml(theta), values[0].ToScalar(), 1e-11, "NLML");
            Close(Gradient(ReferenceNlml, theta), values[1].ToDoubleArray(), 1e-7, "dNLML/dθ");
        }
    }

    [Fact]
    public void AdamLowersTheNlmlWithACompiledStepAndThePosteriorMeanMatchesElimination()
    {
        // There is no LBFGS here (torch.optim.LBFGS): the hyperparameters are fitted with Adam on the compiled gradient.
        var step = Diff.CompileValueAndGrad((p, data) => NegativeLogMarginalLikelihood(p["theta"], data[0], data[1], cdist: true, choleskySolve: true));
        var adam = new Adam(Parameters.Of(("theta", Tensor.FromArray([0.0, 0.0, -1.0]))), lr: 0.05);
        var nlml = new List<double>();
        for (int i = 0; i < 40; i++)
        {
            var theta = adam.Parameters["theta"].ToDoubleArray();
            var (loss, gradients) = step.Invoke(adam.Parameters, X, Y);
            Close(ReferenceNlml(theta), loss.ToScalar(), 1e-11, $"NLML at step {i}");
            if (i % 10 == 0) Close(Gradient(ReferenceNlml, theta), gradients["theta"].ToDoubleArray(), 1e-7, $"gradient at step {i}");
            nlml.Add(loss.ToScalar());
            adam.Step(gradients);
        }
        Assert.Equal(1, step.TraceCount);
        Assert.True(nlml[^1] < nlml[0] - 0.5, string.Join(", ", nlml));

        // posterior mean at test points: K*ᵀ K⁻¹ y, through the Cholesky factor
        var fitted = adam.Parameters["theta"];
        var t = (Expr)fitted;
        var k = Kernel(X, X, t.Row(0), t.Row(1), cdist: true) + t.Row(2).Exp() * Expr.Eye(N);
        var alpha = ((Expr)Y).Unsqueeze(-1).CholeskySolve(k.Cholesky());
        var mean = Kernel(XTest, X, t.Row(0), t.Row(1), cdist: true).MatMul(alpha).Squeeze(-1).Eval().ToDoubleArray();
        var tv = fitted.ToDoubleArray();
        var (weights, _) = Eliminate(TrainingKernel(tv), Y.ToDoubleArray());
        var cross = ReferenceKernel(XTest.ToDoubleArray(), M, X.ToDoubleArray(), N, Math.Exp(tv[0]), Math.Exp(tv[1]));
        for (int i = 0; i < M; i++)
        {
            double expected = 0;
            for (int j = 0; j < N; j++) expected += cross[i, j] * weights[j];
            Close(expected, mean[i], 1e-11, $"posterior mean {i}");
        }
    }

    // ---- the README's example ----

    [Fact]
    public void TheReadmeShowsExactlyTheGaussianProcessExampleThatIsCompiledHere() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/GaussianProcessReadme.cs", "### A Gaussian process, ported from PyTorch");

    [Fact]
    public void TheReadmeExampleLowersTheNlmlAndItsPosteriorMeanMatchesElimination()
    {
        var r = GaussianProcessReadme.Run();
        var x = r.X.ToDoubleArray();
        var y = r.Y.ToDoubleArray();
        int n = y.Length;
        double Reference(double[] theta)
        {
            var k = ReferenceKernel(x, n, x, n, Math.Exp(theta[0]), Math.Exp(theta[1]));
            for (int i = 0; i < n; i++) k[i, i] += Math.Exp(theta[2]);
            var (alpha, logDet) = Eliminate(k, y);
            return 0.5 * alpha.Select((a, i) => a * y[i]).Sum() + 0.5 * logDet + 0.5 * n * Math.Log(2 * Math.PI);
        }
        // the first NLML is the reference's at the start, the last is lower, and the fitted θ is near a stationary point
        // of the reference (Adam's last steps are small), checked by its gradient by central differences
        Close(Reference([0.0, 0.0, -1.0]), r.Nlml[0], 1e-10, "NLML at the start");
        Assert.True(r.Nlml[^1] < r.Nlml[0] - 1, string.Join(", ", r.Nlml));
        var theta = r.Theta.ToDoubleArray();
        Assert.True(Reference(theta) < r.Nlml[0] - 1);
        Assert.True(Gradient(Reference, theta).Select(Math.Abs).Max() < 0.5 * Gradient(Reference, [0.0, 0.0, -1.0]).Select(Math.Abs).Max());

        var k = ReferenceKernel(x, n, x, n, Math.Exp(theta[0]), Math.Exp(theta[1]));
        for (int i = 0; i < n; i++) k[i, i] += Math.Exp(theta[2]);
        var (weights, _) = Eliminate(k, y);
        var xt = r.XTest.ToDoubleArray();
        var cross = ReferenceKernel(xt, 5, x, n, Math.Exp(theta[0]), Math.Exp(theta[1]));
        var mean = r.Mean.ToDoubleArray();
        Assert.Equal(new[] { 5 }, r.Mean.Shape);
        for (int i = 0; i < 5; i++)
        {
            double expected = 0;
            for (int j = 0; j < n; j++) expected += cross[i, j] * weights[j];
            Close(expected, mean[i], 1e-10, $"posterior mean {i}");
        }
    }
}
