using FunctionalDiff.Compare.Fuzz;
using FunctionalDiff.Compare.Suite;
using Xunit;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// Regressions of issue 13's last float64 fuzz failures, programs 934 and 1171 of seed 3: second derivatives
/// through softmax and through a saturated log-softmax, which were composites whose derivative terms cancelled
/// late. With each a primitive with a fused rule, both programs pass the suite's strict float64 checks against
/// TorchSharp (without the conditioning rule) and the fuzzer's float32 checks.
/// The programs are the generated ones, not the shrunk repros the fuzzer printed: the shrunk programs sit at
/// points so ill-conditioned that they no longer test the rule. Against a 60-digit reference (central
/// differences in mpmath), the shrunk 3/1171's Hessian entry (2, 2) is torch's that is 3.9e-9 off, ours 1.7e-12,
/// and its reverse-over-reverse check loses 1e-8 in both engines alike.
/// </summary>
public class FuzzSoftmaxTests
{
    /// <summary>Program k of seed 3, checked to be the program the fuzz run found (the generator has not drifted:
    /// the steps its output depends on are the ones listed). The run drew the classic ops only, before the whole
    /// surface was drawn, so the program comes from that surface.</summary>
    static FuzzProgram Program(int k, OpKind[] expectedKinds)
    {
        var program = FuzzCommand.Programs(1, 3, k, ops: OpSurface.Classic)[0];
        Assert.Equal($"fuzz classic 3/{k}", program.Name);
        Assert.Equal(expectedKinds, program.Compact().Steps.Select(s => s.Kind).ToArray());
        return program;
    }

    static void PassesStrictly(FuzzProgram program)
    {
        var failed = CaseRunner.Run(program.ToCase(), DType.Float64).Where(r => !r.Passed)
            .Select(r => $"{r.Check} (abs {r.MaxAbsError:0.###e+0}, rel {r.MaxRelError:0.###e+0}) {r.Note}").ToList();
        Assert.True(failed.Count == 0, "float64 failed: " + string.Join("; ", failed));
        var float32 = FuzzCheck.Checked(program, DType.Float32).Where(r => !r.Passed).Select(r => r.Check).ToList();
        Assert.True(float32.Count == 0, "float32 failed: " + string.Join(", ", float32));
    }

    [Fact]
    public void SoftmaxOfAMatMulOfQuotients_SecondOrder_Fuzz3_934() => PassesStrictly(Program(934, new[]
    {
        OpKind.Transpose, OpKind.MatMul, OpKind.Reciprocal, OpKind.Pow, OpKind.Mul, OpKind.Add, OpKind.Erf, OpKind.Div,
        OpKind.LayerNorm, OpKind.MatMul, OpKind.Softmax, OpKind.Const, OpKind.MatMul, OpKind.Exp, OpKind.Add, OpKind.Sum,
        OpKind.LogSumExp, OpKind.Add, OpKind.StopGradient, OpKind.Mean, OpKind.Reshape, OpKind.AddScalar, OpKind.Const,
        OpKind.Div, OpKind.Sum, OpKind.Add,
    }));

    [Fact]
    public void SaturatedLogSoftmaxIntoAtan2_SecondOrder_Fuzz3_1171() => PassesStrictly(Program(1171, new[]
    {
        OpKind.Exp, OpKind.Div, OpKind.Transpose, OpKind.MatMul, OpKind.Square, OpKind.Reshape, OpKind.Pad, OpKind.Square,
        OpKind.LogSoftmax, OpKind.Sigmoid, OpKind.AddScalar, OpKind.RDivScalar, OpKind.Relu, OpKind.Atan2, OpKind.Ne,
        OpKind.Square, OpKind.Const, OpKind.Const, OpKind.Linear, OpKind.Exp, OpKind.AddScalar, OpKind.PowScalar,
        OpKind.Tanh, OpKind.Neg, OpKind.LayerNorm, OpKind.Minimum, OpKind.Exp, OpKind.PowScalar, OpKind.Prod,
        OpKind.MatMul, OpKind.Sigmoid, OpKind.Log, OpKind.Stack, OpKind.Abs, OpKind.Rsqrt, OpKind.Sum, OpKind.Add,
        OpKind.Sum, OpKind.Add,
    }));
}
