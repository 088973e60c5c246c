using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

// torch's scatter (no reduce) and scatter_reduce (2026-12-06). scatter is TorchSharp's own, with an index that repeats
// no position (torch leaves repeats undefined). TorchSharp 0.107 has no scatter_reduce, so its side is torch's
// definition written element by element: each position of x stacks its own value (include_self) and the source entries
// the index sends to it, and reduces them with torch's sum, prod, mean, max or min, whose backward (max and min share
// the cotangent evenly among ties) is the convention scatter_reduce's backward follows; a position nothing lands on
// keeps x. The indices repeat positions, so every reduction combines several entries. A sine after each op makes the
// second-order checks non-trivial.
public static partial class CaseTable
{
    // x [3, 4] along axis 1: index [3, 2] (row 1 sends both entries to 2, row 2 both to 0); along axis 0: index [2, 3]
    static readonly double[] ScatterRows = { 0, 3, 2, 2, 0, 0 };
    static readonly double[] ScatterColumns = { 1, 0, 2, 1, 1, 0 };
    static readonly double[] ScatterUnique = { 3, 1, 0, 2, 1, 3 };

    static TT Long(double[] values, params long[] shape) => torch.tensor(values.Select(v => (long)v).ToArray()).reshape(shape);

    /// <summary>torch's scatter_reduce of source into x [3, 4] along the axis, written out with a stack per position.</summary>
    static TT ScatterReduceByElement(TT x, TT source, double[] index, int[] indexShape, int axis, string reduce, bool includeSelf)
    {
        var entries = new List<TT>[12];
        for (int p = 0; p < 12; p++) entries[p] = includeSelf ? [x[p / 4, p % 4]] : [];
        for (int i = 0; i < indexShape[0]; i++)
            for (int j = 0; j < indexShape[1]; j++)
            {
                int at = (int)index[i * indexShape[1] + j];
                int target = axis == 1 ? i * 4 + at : at * 4 + j;
                entries[target].Add(source[i, j]);
            }
        var result = Enumerable.Range(0, 12).Select(p =>
        {
            if (entries[p].Count == 0 || (includeSelf && entries[p].Count == 1)) return x[p / 4, p % 4];
            var s = torch.stack(entries[p]);
            return reduce switch { "sum" => s.sum(), "prod" => s.prod(), "mean" => s.mean(), "amax" => s.max(), _ => s.min() };
        });
        return torch.stack(result.ToArray()).reshape(3, 4);
    }

    static IEnumerable<Case> ClientThirteen()
    {
        yield return C("scatter axis 1 unique [3,4]←[3,3]", new[] { I(3, 4), I(3, 3) },
            x => x[0].Scatter(1, Const(ScatterUnique, [3, 2], x[0]), x[1]).Sin(),
            // libtorch's scatter backward refuses a source larger than the index (its gradient comes back in the index's
            // shape), so torch's side cuts the source to the part scatter reads; ours takes it whole and gives the rest 0
            x => x[0].scatter(1, Long(ScatterUnique, 3, 2), x[1].slice(1, 0, 2, 1)).sin());
        foreach (var reduce in new[] { "sum", "prod", "mean", "amax", "amin" })
            foreach (var includeSelf in new[] { true, false })
            {
                Func<int[], InputSpec> input = reduce is "amax" or "amin" ? D : I;
                yield return C($"scatter_reduce {reduce} include_self={includeSelf} axis 1", new[] { input([3, 4]), input([3, 3]) },
                    x => x[0].ScatterReduce(1, Const(ScatterRows, [3, 2], x[0]), x[1], reduce, includeSelf).Sin(),
                    x => ScatterReduceByElement(x[0], x[1], ScatterRows, [3, 2], 1, reduce, includeSelf).sin());
                yield return C($"scatter_reduce {reduce} include_self={includeSelf} axis 0", new[] { input([3, 4]), input([2, 3]) },
                    x => x[0].ScatterReduce(0, Const(ScatterColumns, [2, 3], x[0]), x[1], reduce, includeSelf).Sin(),
                    x => ScatterReduceByElement(x[0], x[1], ScatterColumns, [2, 3], 0, reduce, includeSelf).sin());
            }
        // include_self's sum is TorchSharp's scatter_add itself
        yield return C("scatter_reduce sum include_self=True is scatter_add", new[] { I(3, 4), I(3, 2) },
            x => x[0].ScatterReduce(1, Const(ScatterRows, [3, 2], x[0]), x[1], "sum").Sin(),
            x => x[0].scatter_add(1, Long(ScatterRows, 3, 2), x[1]).sin());
    }
}
