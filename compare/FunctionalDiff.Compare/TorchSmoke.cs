using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare;

/// <summary>
/// The smallest end-to-end check that libtorch loads here and differentiates twice:
/// f(x) = x·sin x at x = [1, 2, 3] in float64.
/// </summary>
public static class TorchSmoke
{
    /// <summary>First and second derivatives of x·sin x from torch's autograd (double backward).</summary>
    public static (double[] First, double[] Second) XSinXDerivatives(double[] points)
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.tensor(points, dtype: ScalarType.Float64).requires_grad_(true);
        var y = (x * x.sin()).sum();
        // create_graph does not imply retain_graph in TorchSharp: pass both, or the second grad fails.
        var first = torch.autograd.grad(new[] { y }, new[] { x }, create_graph: true, retain_graph: true)[0];
        var second = torch.autograd.grad(new[] { first.sum() }, new[] { x })[0];
        return (first.detach().data<double>().ToArray(), second.detach().data<double>().ToArray());
    }
}
