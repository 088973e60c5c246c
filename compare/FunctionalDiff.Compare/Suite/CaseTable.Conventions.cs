using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

public static partial class CaseTable
{
    static IEnumerable<Case> Conventions()
    {
        // d|x|/dx at 0 is 0, as in torch
        yield return C("convention abs at 0", new[] { I(4) }, x => x[0].Abs(), x => x[0].abs()) with { Fixed = new[] { new double[] { 0, 1, -2, 0 } } };
        yield return C("convention relu at 0", new[] { I(3) }, x => x[0].Relu(), x => x[0].relu()) with { Fixed = new[] { new double[] { 0, 1, -1 } } };
        // ties in max: the cotangent is split evenly between the tied entries (torch's amax)
        yield return C("convention max ties", new[] { I(4) }, x => x[0].Max(), x => x[0].amax(new long[] { 0 })) with { Fixed = new[] { new double[] { 1, 3, 3, 2 } } };
        yield return C("convention max axis ties", new[] { I(2, 3) }, x => x[0].Max(1), x => x[0].amax(new long[] { 1 }))
            with { Fixed = new[] { new double[] { 5, 5, 5, 1, 4, 4 } } };
        yield return C("convention min ties", new[] { I(4) }, x => x[0].Min(), x => x[0].amin(new long[] { 0 })) with { Fixed = new[] { new double[] { 2, 1, 1, 3 } } };
        yield return C("convention maximum ties", new[] { I(3), I(3) }, x => Expr.Maximum(x[0], x[1]), x => torch.maximum(x[0], x[1]))
            with { Fixed = new[] { new double[] { 1, 2, 3 }, new double[] { 1, 5, 3 } } };
        // where: a NaN in the branch not taken must not leak into the value or the cotangent
        yield return C("convention where NaN constant", new[] { I(4) },
            x => Expr.Where(x[0] > 0.0, x[0] * 2.0, Const(new[] { double.NaN, double.NaN, double.NaN, double.NaN }, new[] { 4 }, x[0])),
            x => torch.where(x[0].gt(0.0), x[0] * 2.0, Const(new[] { double.NaN, double.NaN, double.NaN, double.NaN }, new long[] { 4 }, x[0])))
            with { Fixed = new[] { new double[] { 1, -1, 2, -3 } } };
        // the untaken branch is NaN where computed (sqrt of a negative); torch's gradient there is 0·∞ = NaN too,
        // which the comparison accepts only when both engines agree position by position
        yield return C("convention where sqrt NaN branch", new[] { I(4) },
            x => Expr.Where(x[0] > 0.0, x[0].Sqrt(), x[0] * 0.0),
            x => torch.where(x[0].gt(0.0), x[0].sqrt(), x[0] * 0.0))
            with
            {
                Fixed = new[] { new double[] { 1, -1, 2, -3 } }, SkipHessian = true,
                Why = "every Hessian row is poisoned by 0·NaN in the untaken branch; which off-diagonal entries turn NaN depends on " +
                      "each engine's evaluation order, not on mathematics (value, VJP, second order and JVP are still compared)",
            };
        // sqrt near 0: derivatives grow like x^-1/2 and x^-3/2; relative error must stay small
        yield return C("convention sqrt near 0", new[] { I(4) }, x => x[0].Sqrt(), x => x[0].sqrt()) with { Fixed = new[] { new double[] { 1e-8, 1e-6, 1e-4, 1e-2 } } };
    }
}
