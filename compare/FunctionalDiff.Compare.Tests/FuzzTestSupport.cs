using FunctionalDiff.Compare.Fuzz;
using Xunit;

namespace FunctionalDiff.Compare.Tests;

/// <summary>The shrunk fuzz programs the convention tests rebuild, torch's values read back, and the check that one passes the fuzzer.</summary>
internal static class FuzzTestSupport
{
    /// <summary>A one-output program over inputs of these shapes and values, its root the last step.</summary>
    internal static FuzzProgram Program(string name, int[][] shapes, double[][] values, params Step[] steps) =>
        new(name, 1, shapes, values, steps, shapes.Length + steps.Length - 1);

    /// <summary>A float64 torch leaf of these values and shape that requires its gradient.</summary>
    internal static TorchSharp.torch.Tensor Tensor64(double[] values, params long[] shape) =>
        TorchSharp.torch.tensor(values, dtype: TorchSharp.torch.ScalarType.Float64).reshape(shape).requires_grad_(true);

    /// <summary>A torch tensor's entries as float64 values, detached and copied.</summary>
    internal static double[] Values(TorchSharp.torch.Tensor t) => t.detach().contiguous().clone().data<double>().ToArray();

    /// <summary>Asserts that the program's forward run names the convention (a torch-wrong or torch-NaN name, for both dtypes
    /// or the float32 run, starting with <paramref name="why"/>) and that every check then passes, in float64 and in float32.</summary>
    internal static void PassesNamed(FuzzProgram program, string why)
    {
        var forward = program.Forward();
        bool Named(string name) => name.StartsWith(why, StringComparison.Ordinal);
        Assert.True(forward.TorchWrong.Concat(forward.TorchWrongFloat32).Any(w => Named(w.Why)) || forward.TorchNaN.Concat(forward.TorchNaNFloat32).Any(Named),
            $"{program.Name} does not name \"{why}\"");
        Passes(program);
    }

    /// <summary>Asserts that every check of the fuzzer passes on the program, in float64 and in float32.</summary>
    internal static void Passes(FuzzProgram program)
    {
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var results = FuzzCheck.Checked(program, dtype);
            Assert.NotEmpty(results);
            var failed = results.Where(r => !r.Passed).Select(r => r.Check).ToList();
            Assert.True(failed.Count == 0, $"{dtype} failed: " + string.Join(", ", failed));
        }
    }
}
