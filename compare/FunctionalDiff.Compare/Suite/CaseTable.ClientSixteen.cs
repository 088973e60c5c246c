using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

// torch's fill_diagonal_ and bincount (2026-12-06), added for SimCLR's NT-Xent (the diagonal of the similarities left
// out) and a GCN's degrees. TorchSharp has no fill_diagonal_, so torch's side writes it as diagonal_scatter of a full
// diagonal (a matrix) or masked_fill of the cube's (i, i, i) (torch's definition); torch's bincount has no derivative in
// its weights, so torch's side of the weighted count is the scatter_add it documents (ClientSixteenTorchTests compares
// the values with torch.bincount itself). A sine after each makes the second-order checks non-trivial.
public static partial class CaseTable
{
    static readonly double[] BinIndex = { 0, 3, 1, 3, 3, 0 };

    static IEnumerable<Case> ClientSixteen()
    {
        yield return C("fillDiagonal 0.5 of [3,3]", new[] { I(3, 3) },
            x => x[0].FillDiagonal(0.5).Sin() * x[0], x => x[0].diagonal_scatter(torch.full(3, 0.5, dtype: x[0].dtype)).sin() * x[0]);
        yield return C("fillDiagonal -2 of [2,4]", new[] { I(2, 4) },
            x => x[0].FillDiagonal(-2).Sin() * x[0], x => x[0].diagonal_scatter(torch.full(2, -2.0, dtype: x[0].dtype)).sin() * x[0]);
        yield return C("fillDiagonal 1 of [3,3,3]", new[] { I(3, 3, 3) },
            x => x[0].FillDiagonal(1).Sin() * x[0], x => x[0].masked_fill(CubeDiagonal(), 1.0).sin() * x[0]);
        yield return C("bincount minlength 5 weights [6]", new[] { I(6) },
            x => ((Expr)Const(BinIndex, [6], x[0])).Bincount(5, x[0].Sin()).Square(),
            x => torch.zeros(5, dtype: x[0].dtype).scatter_add(0, torch.tensor(BinIndex.Select(v => (long)v).ToArray()), x[0].sin()).square());
    }

    static TT CubeDiagonal()
    {
        var mask = torch.zeros(new long[] { 3, 3, 3 }, dtype: ScalarType.Bool);
        for (int i = 0; i < 3; i++) mask[i, i, i] = torch.tensor(true);
        return mask;
    }
}
