using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

// torch's structural conveniences (Core.Structure): squeeze, unsqueeze, flatten, split, chunk, roll, trace, outer,
// cross, median and kthvalue. They are linear (median picks), so a smooth function after them keeps the second-order checks
// meaningful; split and chunk return their pieces in reverse order, joined, so every piece's place is checked.
public static partial class CaseTable
{
    static Expr Reversed(Expr[] pieces, int axis) => Expr.Concat(axis, pieces.Reverse().ToArray());
    static TT Reversed(TT[] pieces, long axis) => torch.cat(pieces.Reverse().ToArray(), axis);

    /// <summary>
    /// torch.median along a dim, which TorchSharp 0.107 does not bind (only the whole-tensor median): entry (n - 1)/2
    /// of torch's sort, torch's definition of the lower median, whose backward is the same scatter to the entry picked.
    /// </summary>
    static (TT Values, TT Indices) MedianAlong(TT x, long axis)
    {
        var (values, indices) = x.sort(axis);
        long middle = (x.shape[axis < 0 ? x.dim() + axis : axis] - 1) / 2;
        return (values.narrow(axis, middle, 1).squeeze(axis), indices.narrow(axis, middle, 1).squeeze(axis));
    }

    /// <summary>
    /// torch_geometric's softmax(src, index, num_nodes, dim) written densely in torch: the entries along the axis (from 0)
    /// spread over the segments (−∞ outside each), a softmax per segment, and each entry read back from its own segment by a
    /// selection, so a segment's NaN or infinity stays in it (the mask a float 0/1 constant, its comparison the only Bool).
    /// Every segment must hold an entry (a softmax of a row of −∞ is NaN). Also the fuzzer's reference for Nn.SegmentSoftmax.
    /// </summary>
    internal static TT DenseSegmentSoftmax(TT x, int[] index, int segments, long axis)
    {
        int entries = index.Length;
        var member = Enumerable.Range(0, segments * entries).Select(k => index[k % entries] == k / entries ? 1.0 : 0.0).ToArray();
        // the segment axis just before the entries' axis: x [..., E, ...] as [..., 1, E, ...] against the mask [S, E, 1, ...]
        var spread = x.unsqueeze(axis);
        var maskShape = new long[] { segments, entries }.Concat(Enumerable.Repeat(1L, (int)(x.dim() - axis - 1))).ToArray();
        var inSegment = Const(member, maskShape, x).gt(0.5);
        var masked = torch.where(inSegment, spread, Const([double.NegativeInfinity], [1], x));
        return torch.where(inSegment, masked.softmax(axis + 1), Const([0.0], [1], x)).sum(axis);
    }

    static IEnumerable<Case> StructureConveniences()
    {
        // Nn.SegmentSoftmax: a GAT's softmax over each node's incoming edges
        int[] ids = [0, 2, 0, 1, 2, 0];
        yield return C("segment softmax 3 segments axis 0 [6]", new[] { I(6) },
            x => Nn.SegmentSoftmax(x[0], Const(ids.Select(v => (double)v).ToArray(), [6], x[0]), 3),
            x => DenseSegmentSoftmax(x[0], ids, 3, 0));
        int[] columns = [1, 0, 1, 1, 0];
        yield return C("segment softmax 2 segments axis 1 [2,5]", new[] { I(2, 5) },
            x => Nn.SegmentSoftmax(x[0], Const(columns.Select(v => (double)v).ToArray(), [5], x[0]), 2, axis: 1) * x[0],
            x => DenseSegmentSoftmax(x[0], columns, 2, 1) * x[0]);

        yield return C("squeeze axis 1 [2,1,3]", new[] { I(2, 1, 3) }, x => x[0].Squeeze(1).Sin(), x => x[0].squeeze(1).sin());
        yield return C("squeeze axis of length 3 is a no-op [2,3]", new[] { I(2, 3) }, x => x[0].Squeeze(-1).Sin(), x => x[0].squeeze(-1).sin());
        yield return C("squeeze axes 0,2,1 [1,2,1,3]", new[] { I(1, 2, 1, 3) }, x => x[0].Squeeze(0, 2, 1).Sin(), x => x[0].squeeze(0).squeeze(1).sin());
        yield return C("squeeze all [1,2,1,3]", new[] { I(1, 2, 1, 3) }, x => x[0].Squeeze().Sin(), x => x[0].squeeze().sin());
        yield return C("unsqueeze -1 [2,3]", new[] { I(2, 3) }, x => x[0].Unsqueeze(-1).Sin() * Const(new double[] { 1, 2 }, new[] { 1, 1, 2 }, x[0]),
            x => x[0].unsqueeze(-1).sin() * Const(new double[] { 1, 2 }, new long[] { 1, 1, 2 }, x[0]));
        yield return C("unsqueeze 0 []", new[] { I() }, x => x[0].Unsqueeze(0).Exp(), x => x[0].unsqueeze(0).exp());
        yield return C("flatten [2,3,4]", new[] { I(2, 3, 4) }, x => x[0].Flatten().Sin(), x => x[0].flatten().sin());
        yield return C("flatten 1..-2 [2,3,2,2]", new[] { I(2, 3, 2, 2) }, x => x[0].Flatten(1, -2).Sin(), x => x[0].flatten(1, -2).sin());
        yield return C("flatten []", new[] { I() }, x => x[0].Flatten().Sin(), x => x[0].flatten().sin());
        yield return C("split 2 axis 1 [3,5]", new[] { I(3, 5) }, x => Reversed(x[0].Split(2, 1), 1).Sin() * x[0],
            x => Reversed(x[0].split(2, 1), 1).sin() * x[0]);
        yield return C("split sizes 1,3,1 axis -1 [2,5]", new[] { I(2, 5) }, x => Reversed(x[0].Split(new[] { 1, 3, 1 }, -1), -1).Sin() * x[0],
            x => Reversed(x[0].split(new long[] { 1, 3, 1 }, -1), -1).sin() * x[0]);
        yield return C("chunk 4 axis 0 [5,2]", new[] { I(5, 2) }, x => Reversed(x[0].Chunk(4, 0), 0).Sin() * x[0],
            x => Reversed(x[0].chunk(4, 0), 0).sin() * x[0]);
        yield return C("chunk 3 axis 1 [2,6]", new[] { I(2, 6) }, x => Reversed(x[0].Chunk(3, 1), 1).Sin() * x[0],
            x => Reversed(x[0].chunk(3, 1), 1).sin() * x[0]);
        yield return C("roll 2 axis 1 [3,4]", new[] { I(3, 4) }, x => x[0].Roll(2, 1).Sin() * x[0], x => x[0].roll(2, 1).sin() * x[0]);
        yield return C("roll -7 axis 0 [5,2]", new[] { I(5, 2) }, x => x[0].Roll(-7, 0).Sin() * x[0], x => x[0].roll(-7, 0).sin() * x[0]);
        yield return C("roll 1,-2 axes 0,1 [2,3]", new[] { I(2, 3) }, x => x[0].Roll(new[] { 1, -2 }, new[] { 0, 1 }).Sin() * x[0],
            x => x[0].roll(new long[] { 1, -2 }, new long[] { 0, 1 }).sin() * x[0]);
        yield return C("roll 4 flattened [2,3]", new[] { I(2, 3) }, x => x[0].Roll(4).Sin() * x[0], x => x[0].roll(4).sin() * x[0]);
        yield return C("trace [3,3]", new[] { I(3, 3) }, x => x[0].Sin().Trace(), x => x[0].sin().trace());
        yield return C("trace [2,4]", new[] { I(2, 4) }, x => (x[0] * x[0]).Trace().Sin(), x => (x[0] * x[0]).trace().sin());
        yield return C("outer [3]·[4]", new[] { I(3), I(4) }, x => x[0].Outer(x[1]).Sin(), x => torch.outer(x[0], x[1]).sin());
        yield return C("cross [2,3]·[2,3]", new[] { I(2, 3), I(2, 3) }, x => x[0].Cross(x[1]).Sin(), x => torch.linalg.cross(x[0], x[1]).sin());
        yield return C("cross axis 0 broadcast [3,2]·[3,1]", new[] { I(3, 2), I(3, 1) }, x => x[0].Cross(x[1], 0).Sin(), x => torch.linalg.cross(x[0], x[1], 0).sin());
        yield return C("cross broadcast [2,1,3]·[1,4,3]", new[] { I(2, 1, 3), I(1, 4, 3) }, x => x[0].Cross(x[1]).Sin(), x => torch.linalg.cross(x[0], x[1]).sin());
        yield return C("median axis 1 [3,5]", new[] { D(3, 5) }, x => x[0].Median(1).Values.Sin() + x[0].Median(1).Indices,
            x => MedianAlong(x[0], 1).Values.sin() + MedianAlong(x[0], 1).Indices.to_type(x[0].dtype));
        yield return C("median even axis -1 kept [2,4]", new[] { D(2, 4) }, x => x[0].Median(-1, true).Values.Sin() * x[0],
            x => MedianAlong(x[0], -1).Values.unsqueeze(-1).sin() * x[0]);
        // torch.kthvalue: D draws distinct values, so the index picked is defined and compared too
        yield return C("kthvalue 2 axis 1 [3,5]", new[] { D(3, 5) }, x => x[0].KthValue(2, 1).Values.Sin() + x[0].KthValue(2, 1).Indices,
            x => x[0].kthvalue(2, 1).Item1.sin() + x[0].kthvalue(2, 1).Item2.to_type(x[0].dtype));
        yield return C("kthvalue 4 last axis kept [2,4]", new[] { D(2, 4) }, x => x[0].KthValue(4, keepDims: true).Values.Sin() * x[0],
            x => x[0].kthvalue(4, -1, true).Item1.sin() * x[0]);
        yield return C("kthvalue 1 axis 0 [3,2]", new[] { D(3, 2) }, x => x[0].KthValue(1, 0).Values.Exp() * x[0].Sum(),
            x => x[0].kthvalue(1, 0).Item1.exp() * x[0].sum());
        yield return C("median all [7]", new[] { D(7) }, x => x[0].Median().Sin() * x[0], x => x[0].median().sin() * x[0]);
        yield return C("median all even [2,3]", new[] { D(2, 3) }, x => x[0].Median().Exp(), x => x[0].median().exp());
        // torch's spellings a porting user reaches for (Expr.Torch.cs): .T, .mT, expand, repeat, masked_fill
        yield return C("T reverses axes [2,3,4]", new[] { I(2, 3, 4) }, x => x[0].T.Sin() * x[0].T, x => x[0].permute(2, 1, 0).sin() * x[0].permute(2, 1, 0));
        yield return C("MT swaps the last two [2,3,4]", new[] { I(2, 3, 4) }, x => x[0].MT.Sin() * x[0].MT, x => x[0].mT.sin() * x[0].mT);
        yield return C("expand 2,-1,4 [3,1]", new[] { I(3, 1) }, x => x[0].Expand(2, -1, 4).Sin() * Const(Enumerable.Range(1, 4).Select(i => (double)i).ToArray(), new[] { 4 }, x[0]),
            x => x[0].expand(2, -1, 4).sin() * Const(Enumerable.Range(1, 4).Select(i => (double)i).ToArray(), new long[] { 4 }, x[0]));
        yield return C("repeat 2,1,2 [2,3]", new[] { I(2, 3) }, x => x[0].Repeat(2, 1, 2).Sin() * Const(Enumerable.Range(1, 6).Select(i => 0.5 * i).ToArray(), new[] { 6 }, x[0]),
            x => x[0].repeat(2, 1, 2).sin() * Const(Enumerable.Range(1, 6).Select(i => 0.5 * i).ToArray(), new long[] { 6 }, x[0]));
        yield return C("masked_fill broadcast mask [3,4]", new[] { I(3, 4) }, x => x[0].MaskedFill(Const(new double[] { 1, 0, 0, 1 }, new[] { 4 }, x[0]), 0.25).Square() * x[0].Sin(),
            x => x[0].masked_fill(Const(new double[] { 1, 0, 0, 1 }, new long[] { 4 }, x[0]).to_type(ScalarType.Bool), 0.25).square() * x[0].sin());
    }
}
