using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

public static partial class CaseTable
{
    static IEnumerable<Case> Reductions()
    {
        var cube = new[] { 2, 3, 4 };
        yield return C("sum all [2,3,4]", new[] { I(cube) }, x => x[0].Sum(), x => x[0].sum());
        yield return C("sum axis 1 [2,3,4]", new[] { I(cube) }, x => x[0].Sum(1), x => x[0].sum(new long[] { 1 }));
        yield return C("sum axis -1 keep [2,3,4]", new[] { I(cube) }, x => x[0].Sum(-1, true), x => x[0].sum(new long[] { -1 }, true));
        yield return C("sum axes 0,2 [2,3,4]", new[] { I(cube) }, x => x[0].Sum(new[] { 0, 2 }), x => x[0].sum(new long[] { 0, 2 }));
        yield return C("sum rank 0", new[] { I() }, x => x[0].Sum(), x => x[0].sum());
        yield return C("mean all [2,3]", new[] { I(2, 3) }, x => x[0].Mean(), x => x[0].mean());
        yield return C("mean axis 0 [2,3]", new[] { I(2, 3) }, x => x[0].Mean(0), x => x[0].mean(new long[] { 0 }));
        yield return C("mean axes 0,1 keep [2,3,4]", new[] { I(cube) }, x => x[0].Mean(new[] { 0, 1 }, true), x => x[0].mean(new long[] { 0, 1 }, true));
        yield return C("max all [2,3]", new[] { D(2, 3) }, x => x[0].Max(), x => x[0].amax(new long[] { 0, 1 }));
        yield return C("max axis 1 [2,3,4]", new[] { D(cube) }, x => x[0].Max(1), x => x[0].amax(new long[] { 1 }));
        yield return C("max axes 0,2 keep [2,3,4]", new[] { D(cube) }, x => x[0].Max(new[] { 0, 2 }, true), x => x[0].amax(new long[] { 0, 2 }, true));
        yield return C("min all [2,3]", new[] { D(2, 3) }, x => x[0].Min(), x => x[0].amin(new long[] { 0, 1 }));
        yield return C("min axis -1 [2,3,4]", new[] { D(cube) }, x => x[0].Min(-1), x => x[0].amin(new long[] { -1 }));
        yield return C("max all [5]", new[] { D(5) }, x => x[0].Max(), x => x[0].amax(new long[] { 0 }));
        yield return C("max rank 0", new[] { I() }, x => x[0].Max(), x => x[0].amax(Array.Empty<long>()));
        yield return C("min axis 0 keep [3,2]", new[] { D(3, 2) }, x => x[0].Min(0, true), x => x[0].amin(new long[] { 0 }, true));
        yield return C("mean [5]", new[] { I(5) }, x => x[0].Mean(), x => x[0].mean());
        yield return C("prod [4]", new[] { Z(4) }, x => x[0].Prod(), x => x[0].prod());
        yield return C("argmax axis 0 [4,3]", new[] { D(4, 3) }, x => x[0].ArgMax(0) * x[0].Sum(0), x => x[0].argmax(0L, false).to_type(x[0].dtype) * x[0].sum(0L));
        yield return C("prod all [2,3]", new[] { Z(2, 3) }, x => x[0].Prod(), x => x[0].prod());
        yield return C("prod axis 0 [3,4]", new[] { Z(3, 4) }, x => x[0].Prod(0), x => x[0].prod(0L, false));
        yield return C("prod axis 1 keep [2,3,4]", new[] { Z(cube) }, x => x[0].Prod(1, true), x => x[0].prod(1L, true));
        // argmax is piecewise constant: its indices weight the input so value and derivatives are both checked
        yield return C("argmax axis 1 [3,4]", new[] { D(3, 4) }, x => x[0].ArgMax(1, true) * x[0], x => x[0].argmax(1, true).to_type(x[0].dtype) * x[0]);
        yield return C("matmul [2,3]@[3,4]", new[] { I(2, 3), I(3, 4) }, x => x[0].MatMul(x[1]), x => x[0].matmul(x[1]));
        yield return C("matmul [3]@[3]", new[] { I(3), I(3) }, x => x[0].MatMul(x[1]), x => x[0].matmul(x[1]));
        yield return C("matmul [3]@[3,2]", new[] { I(3), I(3, 2) }, x => x[0].MatMul(x[1]), x => x[0].matmul(x[1]));
        yield return C("matmul [2,3]@[3]", new[] { I(2, 3), I(3) }, x => x[0].MatMul(x[1]), x => x[0].matmul(x[1]));
        yield return C("matmul batched [2,1,2,3]@[3,3,2]", new[] { I(2, 1, 2, 3), I(3, 3, 2) }, x => x[0].MatMul(x[1]), x => x[0].matmul(x[1]));
        yield return C("matmul [1,4]@[4,1]", new[] { I(1, 4), I(4, 1) }, x => x[0].MatMul(x[1]), x => x[0].matmul(x[1]));
    }
}
