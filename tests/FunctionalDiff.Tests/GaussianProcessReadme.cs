namespace FunctionalDiff.Tests;

/// <summary>
/// The README's Gaussian-process example (section "A Gaussian process, ported from PyTorch"), verbatim between the
/// markers. <see cref="ClientSevenGaussianProcessTests"/> checks that README.md shows exactly this code and replays it
/// against Gaussian elimination and central differences written with doubles.
/// </summary>
public static class GaussianProcessReadme
{
    /// <summary>What the example computes.</summary>
    public sealed record Outcome(Tensor X, Tensor Y, Tensor XTest, List<double> Nlml, Tensor Theta, Tensor Mean);

    /// <summary>Runs the example.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        // GP regression with an RBF kernel: θ = (log s, log l, log noise) fitted by the negative log marginal likelihood.
        var x = Tensor.RandomNormal([20, 2], seed: 1);
        var y = x[.., 0].Sin() + 0.1 * Tensor.RandomNormal([20], seed: 2);
        var xTest = Tensor.RandomNormal([5, 2], seed: 3);

        Expr Kernel(Expr a, Expr b, Expr theta) =>    // s² exp(−|a − b|² / 2l²); theta.Row(i) is torch's theta[i]
            (2 * theta.Row(0)).Exp() * (-Expr.Cdist(a, b).Square() / (2 * (2 * theta.Row(1)).Exp())).Exp();

        Expr Nlml(Expr theta, Expr xs, Expr ys)
        {
            int n = xs.Shape[0];
            var l = (Kernel(xs, xs, theta) + theta.Row(2).Exp() * Expr.Eye(n)).Cholesky();   // torch.linalg.cholesky
            var alpha = ys.Unsqueeze(-1).CholeskySolve(l);                                     // torch.cholesky_solve(y[:, None], L)
            return 0.5 * (ys.Unsqueeze(-1) * alpha).Sum() + l.Diagonal().Log().Sum() + 0.5 * n * Math.Log(2 * Math.PI);
        }

        // Adam on the compiled value and gradient; torch.optim.LBFGS is new Lbfgs(...).Step(p => step.Invoke(p, x, y)).
        var step = Diff.CompileValueAndGrad((p, data) => Nlml(p["theta"], data[0], data[1]));
        var adam = new Adam(Parameters.Of(("theta", Tensor.FromArray([0.0, 0.0, -1.0]))), lr: 0.05);
        var nlml = new List<double>();
        for (int i = 0; i < 100; i++)
        {
            var (loss, gradients) = step.Invoke(adam.Parameters, x, y);
            nlml.Add(loss.Item());
            adam.Step(gradients);
        }

        // The posterior mean at the test points, K(x*, x) K⁻¹ y.
        Expr theta = adam.Parameters["theta"];
        var factor = (Kernel(x, x, theta) + theta.Row(2).Exp() * Expr.Eye(20)).Cholesky();
        var mean = Kernel(xTest, x, theta).MatMul(((Expr)y).Unsqueeze(-1).CholeskySolve(factor)).Squeeze(-1).Eval();
        // END README
        return new(x, y, xTest, nlml, adam.Parameters["theta"], mean);
    }
}
