using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's physics-informed network for the heat equation u_t = u_xx (<see cref="ClientFifteenPinnReadme"/>): a
/// tanh MLP u(x, t), the residual from gradients of the output with respect to the input taken inside the loss (u_xx a
/// gradient of a gradient), and Adam on the compiled loss. The reference is the same network over doubles carrying its
/// input derivatives through each layer by the chain rule (exact, no differences), its loss's gradient by central
/// differences, and torch's Adam written out.
/// </summary>
public class ClientFifteenPinnTests
{
    const int Hidden = 5, Steps = 4;
    static readonly (string Name, int[] Shape)[] Layout =
        [("l1.w", [Hidden, 2]), ("l1.b", [Hidden]), ("l2.w", [Hidden, Hidden]), ("l2.b", [Hidden]), ("l3.w", [1, Hidden]), ("l3.b", [1])];

    static Parameters InitialModel() => Parameters.Of(
        ("l1.w", Init.XavierNormal([Hidden, 2], seed: 1)), ("l1.b", 0.1 * Tensor.RandomNormal([Hidden], seed: 2)),
        ("l2.w", Init.XavierNormal([Hidden, Hidden], seed: 3)), ("l2.b", 0.1 * Tensor.RandomNormal([Hidden], seed: 4)),
        ("l3.w", Init.XavierNormal([1, Hidden], seed: 5)), ("l3.b", Tensor.Zeros(1)));

    static readonly double[] Collocation = [0.1, 0.2, 0.35, 0.8, 0.5, 0.05, 0.9, 0.6, 0.25, 0.45, 0.7, 0.15];   // 6 (x, t)
    static readonly double[] InitialX = [0.0, 0.3, 0.6, 0.9];
    static double[] U0 => InitialX.Select(x => Math.Sin(Math.PI * x)).ToArray();

    static Tensor CollocationTensor => Tensor.FromArray(Collocation, 6, 2);
    static Tensor InitialTensor => Tensor.FromArray(InitialX.SelectMany(x => new[] { x, 0.0 }).ToArray(), 4, 2);

    // ---- the network over doubles, with d/dx, d/dt and d²/dx² carried through each layer ----

    /// <summary>u, u_x, u_t and u_xx at (x, t).</summary>
    static (double U, double Ux, double Ut, double Uxx) Network(Dictionary<string, double[]> p, double x, double t)
    {
        double[] v = [x, t], dx = [1, 0], dt = [0, 1], dxx = [0, 0];
        (double[], double[], double[], double[]) Layer(string w, string b, int inputs, int outputs, bool tanh, double[] a, double[] ax, double[] at, double[] axx)
        {
            var (z, zx, zt, zxx) = (new double[outputs], new double[outputs], new double[outputs], new double[outputs]);
            for (int o = 0; o < outputs; o++)
            {
                z[o] = p[b][o];
                for (int i = 0; i < inputs; i++)
                {
                    double wi = p[w][o * inputs + i];
                    z[o] += wi * a[i];
                    zx[o] += wi * ax[i];
                    zt[o] += wi * at[i];
                    zxx[o] += wi * axx[i];
                }
                if (!tanh) continue;
                double h = Math.Tanh(z[o]), slope = 1 - h * h;
                (z[o], zxx[o], zx[o], zt[o]) = (h, slope * zxx[o] - 2 * h * slope * zx[o] * zx[o], slope * zx[o], slope * zt[o]);
            }
            return (z, zx, zt, zxx);
        }
        (v, dx, dt, dxx) = Layer("l1.w", "l1.b", 2, Hidden, true, v, dx, dt, dxx);
        (v, dx, dt, dxx) = Layer("l2.w", "l2.b", Hidden, Hidden, true, v, dx, dt, dxx);
        (v, dx, dt, dxx) = Layer("l3.w", "l3.b", Hidden, 1, false, v, dx, dt, dxx);
        return (v[0], dx[0], dt[0], dxx[0]);
    }

    static double ReferenceLoss(Dictionary<string, double[]> p)
    {
        double pde = 0;
        for (int i = 0; i < 6; i++)
        {
            var (_, _, ut, uxx) = Network(p, Collocation[2 * i], Collocation[2 * i + 1]);
            pde += (ut - uxx) * (ut - uxx) / 6;
        }
        double fit = InitialX.Select((x, j) => Math.Pow(Network(p, x, 0).U - U0[j], 2)).Average();
        return pde + fit;
    }

    [Fact]
    public void TheReadmeShowsExactlyThePinnThatIsCompiledHere() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/ClientFifteenPinnReadme.cs",
            "### A PINN, a VAE and a transformer encoder block, ported from PyTorch");

    [Fact]
    public void NestedInputGradientsAreTheChainRuleCarriedThroughTheLayers()
    {
        var model = InitialModel();
        var p = model.AsExprs();
        var d = Unflatten(Layout, Flatten(Layout, model));
        Expr U(Expr xt) => Nn.Linear(Nn.Linear(Nn.Linear(xt, p["l1.w"], p["l1.b"]).Tanh(), p["l2.w"], p["l2.b"]).Tanh(), p["l3.w"], p["l3.b"]);
        Expr Du(Expr z) => Diff.Grad(v => U(v).Sum())(z);
        var du = Du(CollocationTensor).Eval().ToDoubleArray();
        var uxx = Diff.Grad(z => Du(z).Select(1, 0).Sum())(CollocationTensor).Select(1, 0).Eval().ToDoubleArray();
        for (int i = 0; i < 6; i++)
        {
            var r = Network(d, Collocation[2 * i], Collocation[2 * i + 1]);
            Close(r.Ux, du[2 * i], 1e-13, $"u_x {i}");
            Close(r.Ut, du[2 * i + 1], 1e-13, $"u_t {i}");
            Close(r.Uxx, uxx[i], 1e-13, $"u_xx {i}");
        }
        // the loss's gradient in the weights (a derivative of a second derivative) against central differences
        var gradient = Diff.Grad((IReadOnlyDictionary<string, Expr> q) =>
        {
            Expr Uq(Expr xt) => Nn.Linear(Nn.Linear(Nn.Linear(xt, q["l1.w"], q["l1.b"]).Tanh(), q["l2.w"], q["l2.b"]).Tanh(), q["l3.w"], q["l3.b"]);
            Expr Duq(Expr z) => Diff.Grad(v => Uq(v).Sum())(z);
            var residual = Duq(CollocationTensor).Select(1, 1) - Diff.Grad(z => Duq(z).Select(1, 0).Sum())(CollocationTensor).Select(1, 0);
            return residual.Square().Mean() + Loss.Mse(Uq(InitialTensor).Reshape(-1), Tensor.FromArray(U0));
        }, model);
        var evaluated = Parameters.Of(gradient.Select(kv => (kv.Key, kv.Value.Eval())).ToArray());
        Close(Gradient(flat => ReferenceLoss(Unflatten(Layout, flat)), Flatten(Layout, model)), Flatten(Layout, evaluated), 1e-6, "gradient");
    }

    [Fact]
    public void ThePinnTrainsAsTheSameProgramWrittenOverDoubles()
    {
        var (losses, trained) = ClientFifteenPinnReadme.Train(InitialModel(), CollocationTensor, InitialTensor, Tensor.FromArray(U0), Steps);
        var theta = Flatten(Layout, InitialModel());
        var (m, v) = (new double[theta.Length], new double[theta.Length]);
        for (int t = 0; t < Steps; t++)
        {
            double LossAt(double[] flat) => ReferenceLoss(Unflatten(Layout, flat));
            Close(LossAt(theta), losses[t], 1e-10, $"loss {t}");
            AdamStep(theta, m, v, Gradient(LossAt, theta), t + 1, 0.01);   // torch's Adam, lr 0.01
        }
        Close(theta, Flatten(Layout, trained), 1e-6, "trained parameters");
        Assert.True(losses[^1] < losses[0], "the loss falls");
    }

    [Fact]
    public void SelectIsTorchsSelectOnExprAndTensor()
    {
        var x = T([3, 4, 2]);
        var values = x.ToDoubleArray();
        for (int axis = -3; axis < 3; axis++)
        {
            int a = axis < 0 ? axis + 3 : axis;
            int[] shape = [3, 4, 2];
            for (int index = -shape[a]; index < shape[a]; index++)
            {
                int k = index < 0 ? index + shape[a] : index;
                // torch's x.select(a, k): every entry whose index along a is k, in row-major order
                var expected = Enumerable.Range(0, 24).Where(f => new[] { f / 8, f / 2 % 4, f % 2 }[a] == k).Select(f => values[f]).ToArray();
                var fromExpr = ((Expr)x).Select(axis, index).Eval();
                Assert.Equal(shape.Where((_, i) => i != a).ToArray(), fromExpr.Shape);
                Assert.Equal(expected, fromExpr.ToDoubleArray());
                Assert.Equal(expected, x.Select(axis, index).ToDoubleArray());
            }
        }
        // its gradient puts the cotangent back at the index
        var g = Diff.Grad(e => (e.Select(1, 2) * Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 3, 2)).Sum())(x).Eval().ToDoubleArray();
        Assert.Equal(Enumerable.Range(0, 24).Select(f => f / 2 % 4 == 2 ? (f / 8) * 2 + f % 2 + 1.0 : 0.0).ToArray(), g);
        var e = Assert.ThrowsAny<ArgumentException>(() => ((Expr)x).Select(1, 4));
        Assert.StartsWith("Select: index 4 is out of range for axis 1 of length 4 (input [3,4,2])", e.Message);
        Assert.StartsWith("Select", Assert.ThrowsAny<ArgumentException>(() => x.Select(3, 0)).Message);
    }
}
