namespace FunctionalDiff.Tests;

/// <summary>
/// The README's physics-informed network (section "A PINN, a VAE and a transformer encoder block, ported from PyTorch"),
/// verbatim between the markers: <see cref="ClientFifteenPinnTests"/> checks that README.md shows exactly this code and
/// that its losses and parameters follow the same program written over doubles.
/// </summary>
public static class ClientFifteenPinnReadme
{
    /// <summary>Runs the fragment: <paramref name="steps"/> compiled Adam steps on the heat equation's loss.</summary>
    public static (List<double> Losses, Parameters Final) Train(Parameters model, Tensor collocation, Tensor initial, Tensor u0, int steps)
    {
        // BEGIN README
        // u(x, t) is a tanh MLP of points [N, 2] (columns x and t). The residual of the heat equation u_t = u_xx takes
        // gradients of the network's output with respect to its input inside the loss, as torch's
        // autograd.grad(u.sum(), xt, create_graph=True); the compiled step then differentiates the loss in the weights.
        Expr U(IReadOnlyDictionary<string, Expr> p, Expr xt) =>
            Nn.Linear(Nn.Linear(Nn.Linear(xt, p["l1.w"], p["l1.b"]).Tanh(), p["l2.w"], p["l2.b"]).Tanh(), p["l3.w"], p["l3.b"]);
        Expr Residual(IReadOnlyDictionary<string, Expr> p, Expr xt)
        {
            Expr Du(Expr z) => Diff.Grad(v => U(p, v).Sum())(z);                   // [N, 2]: u_x and u_t at each point
            var uxx = Diff.Grad(z => Du(z).Select(1, 0).Sum())(xt).Select(1, 0);    // torch's grad(du[:, 0].sum(), xt)[0][:, 0]
            return Du(xt).Select(1, 1) - uxx;
        }
        var step = Diff.CompileValueAndGrad((p, b) =>
            Residual(p, b[0]).Square().Mean() + Loss.Mse(U(p, b[1]).Reshape(-1), b[2]));   // the PDE, then u(x, 0) = u0
        var adam = new Adam(model, lr: 0.01);
        var losses = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            var (loss, gradients) = step.Invoke(adam.Parameters, collocation, initial, u0);
            adam.Step(gradients);
            losses.Add(loss.Item());
        }
        // END README
        return (losses, adam.Parameters);
    }
}
