using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Suite;

// torch.take (2026-12-06), added for a CRF's transitions[prev, next] (transitions.take(prev * K + next)): a gather of the
// flattened input, positions repeated so the cotangent accumulates. x.index_copy(dim, index, source) (2026-12-06), added
// for a static KV cache written at each step's position: the input's cotangent stops where a slice is written and the
// source's arrives from its position. A sine after each makes the second-order checks non-trivial.
public static partial class CaseTable
{
    static readonly double[] TakeAt = { 11, 0, 5, 5, 7, 2 };
    static readonly double[] CopyAt = { 4, 1 };

    static IEnumerable<Case> ClientEighteen()
    {
        yield return C("take of [3,4] at [2,3] with a repeat", new[] { I(3, 4) },
            x => x[0].Take(Const(TakeAt, [2, 3], x[0])).Sin(),
            x => x[0].take(Longs(TakeAt, 2, 3)).sin());
        yield return C("take of [2,2,3] at a vector, times its own square", new[] { I(2, 2, 3) },
            x => x[0].Take(Const(TakeAt, [6], x[0])) * x[0].Square().Take(Const(TakeAt, [6], x[0])).Sin(),
            x => x[0].take(Longs(TakeAt, 6)) * x[0].square().take(Longs(TakeAt, 6)).sin());
        yield return C("indexCopy axis 1 of [2,5,3] from [2,2,3]", new[] { I(2, 5, 3), I(2, 2, 3) },
            x => x[0].IndexCopy(1, Const(CopyAt, [2], x[0]), x[1]).Sin(),
            x => x[0].index_copy(1, Longs(CopyAt, 2), x[1]).sin());
        yield return C("indexCopy axis -1 of [3,5] from x·x [3,2]", new[] { I(3, 5), I(3, 2) },
            x => x[0].IndexCopy(-1, Const(CopyAt, [2], x[0]), x[1] * x[1]).Sin() * x[0],
            x => x[0].index_copy(-1, Longs(CopyAt, 2), x[1] * x[1]).sin() * x[0]);
    }
}
