using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

// torch_geometric's scatter softmax (2026-12-07), added for a graph attention network: Nn.SegmentSoftmax against the
// softmax of each segment written densely in torch, every segment's row of scores with −∞ outside its members, softmax,
// and each entry read back from its own segment's row. Every segment has members (a row of −∞ would be NaN in torch's
// softmax), the ids are unsorted, and a sine after each makes the second-order checks non-trivial.
public static partial class CaseTable
{
    static readonly double[] SegmentIds = { 2, 0, 3, 2, 1, 0, 2 };

    /// <summary>The segment softmax of scores [entries, heads] along axis 0, spelled densely: [segments, entries, heads].</summary>
    static TT TorchSegmentSoftmax(TT scores, double[] ids, int segments)
    {
        var members = torch.tensor(Enumerable.Range(0, segments).SelectMany(s => ids.Select(i => i == s)).ToArray())
            .reshape(segments, ids.Length, 1);
        var rows = scores.unsqueeze(0).expand(segments, -1, -1).masked_fill(members.logical_not(), double.NegativeInfinity).softmax(1);
        return torch.where(members, rows, torch.zeros_like(rows)).sum(0);
    }

    static IEnumerable<Case> ClientTwentyOne()
    {
        yield return C("segmentSoftmax [7,2] in 4 segments (GAT's scores over incoming edges)", new[] { I(7, 2) },
            x => Nn.SegmentSoftmax(x[0], Const(SegmentIds, [7], x[0]), 4).Sin() * x[0],
            x => TorchSegmentSoftmax(x[0], SegmentIds, 4).sin() * x[0]);
        yield return C("segmentSoftmax [3,7] along axis -1 in 4 segments", new[] { I(3, 7) },
            x => Nn.SegmentSoftmax(x[0] * 3.0, Const(SegmentIds, [7], x[0]), 4, axis: -1).Sin(),
            x => TorchSegmentSoftmax((x[0] * 3.0).t(), SegmentIds, 4).t().sin());
    }
}
