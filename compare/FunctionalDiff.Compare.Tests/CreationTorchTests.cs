using TorchSharp;
using Xunit;

namespace FunctionalDiff.Compare.Tests;

/// <summary>Tensor.Logspace, TrilIndices and TriuIndices against torch.logspace, tril_indices and triu_indices.</summary>
public class CreationTorchTests
{
    [Theory]
    [InlineData(-2.0, 3.0, 11, 10.0)]
    [InlineData(0.5, -1.25, 8, 2.0)]
    [InlineData(1.0, 1.0, 1, 3.0)]
    [InlineData(-3.0, 2.0, 7, Math.E)]
    public void LogspaceIsTorchsInBothDTypes(double start, double stop, int count, double logBase)
    {
        foreach (var (dtype, torchType) in new[] { (DType.Float64, torch.ScalarType.Float64), (DType.Float32, torch.ScalarType.Float32) })
        {
            using var scope = torch.NewDisposeScope();
            var theirs = torch.logspace(start, stop, count, logBase, torchType).to_type(torch.ScalarType.Float64).data<double>().ToArray();
            var ours = Tensor.Logspace(start, stop, count, logBase, dtype).ToDoubleArray();
            Assert.Equal(theirs.Length, ours.Length);
            // torch's kernel raises base to each exponent in the dtype's own pow; ours in float64 rounded once
            for (int i = 0; i < ours.Length; i++)
                Assert.True(Math.Abs(ours[i] - theirs[i]) <= (dtype == DType.Float64 ? 4e-16 : 2.4e-7) * Math.Abs(theirs[i]), $"{dtype} entry {i}: ours {ours[i]}, torch {theirs[i]}");
        }
    }

    [Theory]
    [InlineData(4, 3, 0)]
    [InlineData(3, 5, 1)]
    [InlineData(5, 4, -2)]
    [InlineData(0, 3, 0)]
    public void TriangleIndicesAreTorchs(int rows, int columns, int offset)
    {
        using var scope = torch.NewDisposeScope();
        // TorchSharp's data accessor fails on an empty tensor: its values are then none
        static double[] Values(torch.Tensor t) => t.numel() == 0 ? [] : t.to_type(torch.ScalarType.Float64).data<double>().ToArray();
        var lower = torch.tril_indices(rows, columns, offset);
        var upper = torch.triu_indices(rows, columns, offset);
        Assert.Equal(lower.shape.Select(d => (int)d), Tensor.TrilIndices(rows, columns, offset).Shape);
        Assert.Equal(upper.shape.Select(d => (int)d), Tensor.TriuIndices(rows, columns, offset).Shape);
        Assert.Equal(Values(lower), Tensor.TrilIndices(rows, columns, offset).ToDoubleArray());
        Assert.Equal(Values(upper), Tensor.TriuIndices(rows, columns, offset).ToDoubleArray());
    }
}
