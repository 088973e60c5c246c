using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

public static partial class CaseTable
{
    // structural ops are linear: a smooth function after them makes the second-order checks non-trivial
    static IEnumerable<Case> Structural()
    {
        var cube = new[] { 2, 3, 4 };
        yield return C("transpose [2,3]", new[] { I(2, 3) }, x => x[0].Transpose().Sin(), x => x[0].t().sin());
        yield return C("permute [2,3,4] 2,0,1", new[] { I(cube) }, x => x[0].Transpose(2, 0, 1).Sin(), x => x[0].permute(2, 0, 1).sin());
        yield return C("reshape [2,3,4]→[4,6]", new[] { I(cube) }, x => x[0].Reshape(4, 6).Sin(), x => x[0].reshape(4, 6).sin());
        yield return C("reshape [1]→[]", new[] { I(1) }, x => x[0].Reshape().Exp(), x => x[0].reshape(Array.Empty<long>()).exp());
        yield return C("broadcastTo [3,1]→[2,3,4]", new[] { I(3, 1) }, x => x[0].BroadcastTo(2, 3, 4).Sin(), x => x[0].broadcast_to(2, 3, 4).sin());
        yield return C("broadcastTo []→[2,2]", new[] { I() }, x => x[0].BroadcastTo(2, 2).Sin(), x => x[0].broadcast_to(2, 2).sin());
        yield return C("slice axis 1 [1:3]", new[] { I(cube) }, x => x[0].Slice(1, 1, 3).Sin(), x => x[0].slice(1, 1, 3, 1).sin());
        yield return C("slice step 2 axis 2", new[] { I(cube) }, x => x[0].Slice(2, 0, 4, 2).Sin(), x => x[0].slice(2, 0, 4, 2).sin());
        yield return C("pad [2,3] (1,0),(2,1)", new[] { I(2, 3) }, x => x[0].Pad(new[] { 1, 2 }, new[] { 0, 1 }).Cos(), x => F.pad(x[0], new long[] { 2, 1, 1, 0 }).cos());
        yield return C("concat axis 0", new[] { I(2, 3), I(1, 3) }, x => Expr.Concat(0, x[0], x[1]).Sin(), x => torch.cat(new[] { x[0], x[1] }, 0).sin());
        yield return C("concat axis -1", new[] { I(2, 3), I(2, 2), I(2, 1) }, x => Expr.Concat(-1, x[0], x[1], x[2]).Sin(), x => torch.cat(new[] { x[0], x[1], x[2] }, -1).sin());
        yield return C("stack axis 1", new[] { I(2, 3), I(2, 3) }, x => Expr.Stack(1, x[0], x[1]).Sin(), x => torch.stack(new[] { x[0], x[1] }, 1).sin());
        yield return C("flip axes 0,2", new[] { I(cube) }, x => x[0].Flip(0, 2).Sin() * x[0], x => x[0].flip(0, 2).sin() * x[0]);
        yield return C("gather axis 1", new[] { I(3, 4) }, x => x[0].Gather(1, Const(GatherIndex, new[] { 3, 2 }, x[0])).Sin(),
            x => x[0].gather(1, torch.tensor(GatherIndex.Select(v => (long)v).ToArray()).reshape(3, 2)).sin());
        yield return C("gather axis 0", new[] { I(3, 4) }, x => x[0].Gather(0, Const(GatherIndex0, new[] { 2, 4 }, x[0])).Sin(),
            x => x[0].gather(0, torch.tensor(GatherIndex0.Select(v => (long)v).ToArray()).reshape(2, 4)).sin());
        yield return C("scatterAdd axis 1", new[] { I(3, 2) }, x => Expr.ScatterAdd(1, Const(GatherIndex, new[] { 3, 2 }, x[0]), x[0], new[] { 3, 4 }).Sin(),
            x => torch.zeros(new long[] { 3, 4 }, dtype: x[0].dtype).scatter_add(1, torch.tensor(GatherIndex.Select(v => (long)v).ToArray()).reshape(3, 2), x[0]).sin());
    }

    // index 2 appears twice in row 1, so scatter-add's accumulation is exercised
    static readonly double[] GatherIndex = { 0, 3, 2, 2, 1, 0 };
    static readonly double[] GatherIndex0 = { 2, 0, 1, 1, 0, 0, 2, 1 };
}
