using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Suite;

// torch's Tensor.unfold(dimension, size, step) (2026-12-06), added for a ViT's patches (x.unfold(2, p, p).unfold(3, p, p))
// and sliding windows: windows that tile the axis (a slice and a reshape), overlapping ones and gapped ones (one gather,
// whose derivative adds every window's cotangent back where it came from). A sine after each, weighted by the input
// broadcast against the windows, makes the second-order checks non-trivial. torch.searchsorted (2026-12-06), for NeRF's
// inverse-transform sampling: its positions pass no derivative, so each case multiplies them into a smooth function of the
// values, and torch's int64 positions are cast to the input's dtype.
public static partial class CaseTable
{
    static IEnumerable<Case> ClientSeventeen()
    {
        yield return C("unfold patches 2,2 then 3,2 of [2,2,4,4]", new[] { I(2, 2, 4, 4) },
            x => x[0].Unfold(2, 2, 2).Unfold(3, 2, 2).Sin().Square(), x => x[0].unfold(2, 2, 2).unfold(3, 2, 2).sin().square());
        yield return C("unfold overlapping size 3 step 1 of [2,6]", new[] { I(2, 6) },
            x => x[0].Unfold(1, 3, 1).Sin() * x[0].Slice(1, 0, 4).Unsqueeze(-1),
            x => x[0].unfold(1, 3, 1).sin() * x[0].narrow(1, 0, 4).unsqueeze(-1));
        yield return C("unfold gapped size 2 step 3 of [7,3] axis 0", new[] { I(7, 3) },
            x => x[0].Unfold(0, 2, 3).Sin() * x[0].Slice(0, 0, 2).Unsqueeze(-1),
            x => x[0].unfold(0, 2, 3).sin() * x[0].narrow(0, 0, 2).unsqueeze(-1));
        yield return C("unfold last axis size 4 step 2 of [3,9] (a tail left out)", new[] { I(3, 9) },
            x => x[0].Unfold(-1, 4, 2).Cos() * x[0].Slice(1, 0, 3).Unsqueeze(-1),
            x => x[0].unfold(-1, 4, 2).cos() * x[0].narrow(1, 0, 3).unsqueeze(-1));
        yield return C("searchsorted of [2,3] in a vector, left", new[] { I(2, 3) },
            x => Expr.Searchsorted(Const(SortedRow, [5], x[0]), x[0]) * x[0].Sin(),
            x => torch.searchsorted(torch.tensor(SortedRow, dtype: x[0].dtype), x[0]).to(x[0].dtype) * x[0].sin());
        yield return C("searchsorted of [2,3] in rows [2,5], right", new[] { I(2, 3) },
            x => Expr.Searchsorted(Const(SortedRows, [2, 5], x[0]), x[0], right: true) * x[0].Sin(),
            x => torch.searchsorted(torch.tensor(SortedRows, dtype: x[0].dtype).reshape(2, 5), x[0], right: true).to(x[0].dtype) * x[0].sin());
    }

    static readonly double[] SortedRow = { -1.5, -0.5, 0.0, 0.25, 1.0 };
    static readonly double[] SortedRows = { -1.5, -0.5, 0.0, 0.25, 1.0, -2.0, -1.0, -0.3, 0.6, 0.9 };
}
