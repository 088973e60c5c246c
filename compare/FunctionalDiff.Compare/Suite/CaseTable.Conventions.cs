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
        // torch.median() without a dim shares the cotangent evenly among the entries equal to the median (the NaN entries
        // where it is NaN), and its forward mode reads their mean tangent; median along a dim picks one index (above)
        yield return C("convention median ties", new[] { I(5) }, x => x[0].Median().Sin() * x[0], x => x[0].median().sin() * x[0])
            with { Fixed = new[] { new double[] { 1, 3, 3, 2, 3 } } };
        yield return C("convention median of zeros", new[] { I(2, 2) }, x => x[0].Median(), x => x[0].median())
            with { Fixed = new[] { new double[] { 0, 0, -0.0, 0 } } };
        yield return C("convention median of NaN ties", new[] { I(4) }, x => x[0].Median(), x => x[0].median())
            with { Fixed = new[] { new double[] { 1, double.NaN, 2, double.NaN } } };
        // kthvalue counts NaN as larger than every number: the 3rd smallest of [3, NaN, 1, 2] is 3, the 4th is NaN
        yield return C("convention kthvalue past the numbers is NaN", new[] { I(2, 4) },
            x => x[0].KthValue(3, 1).Values + x[0].KthValue(3, 1).Indices * 10 + x[0].KthValue(4, 1, true).Indices.Sum() * 100,
            x => x[0].kthvalue(3, 1).Item1 + x[0].kthvalue(3, 1).Item2.to_type(x[0].dtype) * 10 + x[0].kthvalue(4, 1, true).Item2.to_type(x[0].dtype).sum() * 100)
            with { Fixed = new[] { new double[] { 3, double.NaN, 1, 2, 0.5, -1, 4, 2.5 } } };
        yield return C("convention kthvalue NaN value", new[] { I(4) }, x => x[0].KthValue(4).Values, x => x[0].kthvalue(4, -1).Item1)
            with { Fixed = new[] { new double[] { 3, double.NaN, 1, 2 } } };
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
        // elu branches on x <= 0 as torch's kernel: -inf gives -alpha (not inf - inf), NaN takes the identity (slope 1)
        yield return C("convention elu at -inf and NaN", new[] { I(5) }, x => x[0].Elu(1.5), x => torch.nn.functional.elu(x[0], 1.5))
            with { Fixed = new[] { new[] { double.NegativeInfinity, double.NaN, 0, -2, 3 } } };
        // logdet of a negative determinant: torch's where(sign = -1, NaN, log|det|) passes no cotangent
        yield return C("convention logdet negative det", new[] { I(2, 2) }, x => x[0].LogDet(), x => torch.logdet(x[0]))
            with { Fixed = new[] { new double[] { 1, 2, 3, 4 } } };
        // a NaN bound propagates through torch's min(max(x, lower), upper): NaN everywhere, no cotangent
        yield return C("convention clamp NaN bound", new[] { I(3) }, x => x[0].Clamp(double.NaN, 1.0), x => x[0].clamp(double.NaN, 1.0))
            with { Fixed = new[] { new double[] { -1, 0.5, 2 } } };
        // a cotangent that cancels exactly (c - c) still multiplies c' as IEEE: 0 * NaN is NaN where z is infinite
        yield return C("convention cancelled cotangent at inf", new[] { I(3) },
            x => { var c = (x[0] - x[0]).Exp(); return c - c; },
            x => { var c = (x[0] - x[0]).exp(); return c - c; })
            with
            {
                Fixed = new[] { new[] { double.PositiveInfinity, 1.5, double.NaN } }, SkipHessian = true,
                Why = "every derivative is NaN at the non-finite entries through 0·NaN; which off-diagonal Hessian entries turn NaN " +
                      "depends on each engine's evaluation order, not on mathematics (value, VJP, second order and JVP are still compared)",
            };
        // sqrt near 0: derivatives grow like x^-1/2 and x^-3/2; relative error must stay small
        yield return C("convention sqrt near 0", new[] { I(4) }, x => x[0].Sqrt(), x => x[0].sqrt()) with { Fixed = new[] { new double[] { 1e-8, 1e-6, 1e-4, 1e-2 } } };
    }
}
