using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

// torch's select and meshgrid (2026-12-06), added for a physics-informed network's input gradients (du[:, 0]) and its
// collocation grid, and a PINN-style residual: a column of a gradient taken inside the function. Each is a composite
// (a slice and a reshape; a reshape and a broadcast), compared at first and second order; torch's meshgrid is written as
// the broadcast it documents. A sine after each makes the second-order checks non-trivial.
public static partial class CaseTable
{
    static IEnumerable<Case> ClientFifteen()
    {
        yield return C("select axis 1 index 2 of [3,4,2]", new[] { I(3, 4, 2) },
            x => x[0].Select(1, 2).Sin(), x => x[0].select(1, 2).sin());
        yield return C("select axis -1 index -1 of [3,4]", new[] { I(3, 4) },
            x => x[0].Select(-1, -1).Sin(), x => x[0].select(-1, 3).sin());
        yield return C("meshgrid ij of [3] and [2]", new[] { I(3), I(2) },
            x => { var g = Expr.Meshgrid([x[0], x[1]]); return (g[0].Sin() * g[1]).Sin(); },
            x => (x[0].reshape(3, 1).expand(3, 2).sin() * x[1].reshape(1, 2).expand(3, 2)).sin());
        yield return C("meshgrid xy of [3] and [2]", new[] { I(3), I(2) },
            x => { var g = Expr.Meshgrid([x[0], x[1]], "xy"); return (g[0].Sin() * g[1]).Sin(); },
            x => (x[0].reshape(1, 3).expand(2, 3).sin() * x[1].reshape(2, 1).expand(2, 3)).sin());
        // torch's _kl_normal_normal, as torch.distributions computes it; the scales kept positive by an exp
        yield return C("kl_divergence Normal Normal [3,2] against [2]", new[] { I(3, 2), I(3, 2), I(2), I(2) },
            x => Distributions.NormalKlDivergence(x[0], x[1].Exp(), x[2], x[3].Exp()).Sin(),
            x =>
            {
                var ratio = (x[1].exp() / x[3].exp()).pow(2);
                var shift = ((x[0] - x[2]) / x[3].exp()).pow(2);
                return (0.5 * (ratio + shift - 1 - ratio.log())).sin();
            });
    }
}
