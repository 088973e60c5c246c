using FunctionalDiff.Compare.Train;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// Nn.GridSample and Nn.AffineGrid against TorchSharp's F.grid_sample and F.affine_grid: a spatial transformer's grid
/// (an affine map that reaches past the image, plus a warp, so taps fall outside, on the borders and between pixels) over
/// a small image, in every mode, padding mode and align_corners: the samples and the gradient of a weighted sum of them
/// in the image, the grid and theta; and (bilinear, float64) a Hessian-vector product against central differences of
/// torch's gradient (libtorch has no double backward of grid_sample).
/// </summary>
public class GridSampleTorchTests
{
    const int N = 2, C = 3, H = 5, W = 4, Ho = 6, Wo = 7;

    static Tensor Data(int[] shape, int salt, DType dtype) =>
        Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(i => Math.Sin(0.7 * i + salt)).ToArray(), shape).To(dtype);

    public static TheoryData<GridSampleMode, GridSamplePadding, bool, DType> Configs()
    {
        var data = new TheoryData<GridSampleMode, GridSamplePadding, bool, DType>();
        foreach (var mode in new[] { GridSampleMode.Bilinear, GridSampleMode.Nearest })
            foreach (var padding in new[] { GridSamplePadding.Zeros, GridSamplePadding.Border, GridSamplePadding.Reflection })
                foreach (var align in new[] { false, true })
                    data.Add(mode, padding, align, DType.Float64);
        data.Add(GridSampleMode.Bilinear, GridSamplePadding.Reflection, false, DType.Float32);
        data.Add(GridSampleMode.Bilinear, GridSamplePadding.Zeros, true, DType.Float32);
        return data;
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void SamplesAndGradientsAreTorchs(GridSampleMode mode, GridSamplePadding padding, bool alignCorners, DType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var image = Data([N, C, H, W], 1, dtype);
        // a zoom out past the image (1.4), a rotation and a shift, per batch entry
        var theta = Tensor.FromArray([1.4 * Math.Cos(0.3), -1.4 * Math.Sin(0.3), 0.2, 1.4 * Math.Sin(0.3), 1.4 * Math.Cos(0.3), -0.1,
                                      0.8, 0.3, -0.45, -0.2, 1.9, 0.35], [N, 2, 3]).To(dtype);
        var warp = Data([N, Ho, Wo, 2], 2, dtype) * 0.15;
        var weight = Data([N, C, Ho, Wo], 3, dtype);
        int[] size = [N, C, Ho, Wo];

        Expr Sampled(Expr x, Expr t, Expr v) => Nn.GridSample(x, Nn.AffineGrid(t, size, alignCorners) + v, mode, padding, alignCorners);
        Expr Loss(Expr[] a) => (Sampled(a[0], a[1], a[2]) * weight).Sum();
        Expr[] primals = [image, theta, warp];
        var ours = Sampled(image, theta, warp).Eval();
        var ourGradients = Expr.EvalMany(Diff.Grad(Loss)(primals));

        var torchMode = mode == GridSampleMode.Bilinear ? torch.GridSampleMode.Bilinear : torch.GridSampleMode.Nearest;
        var torchPadding = padding switch
        {
            GridSamplePadding.Zeros => torch.GridSamplePaddingMode.Zeros,
            GridSamplePadding.Border => torch.GridSamplePaddingMode.Border,
            _ => torch.GridSamplePaddingMode.Reflection,
        };
        var inputs = primals.Select(p => TorchBridge.ToTorch(p.Eval()).requires_grad_(true)).ToArray();
        TT TorchSampled(TT x, TT t, TT v) =>
            nn.functional.grid_sample(x, nn.functional.affine_grid(t, size.Select(d => (long)d).ToArray(), alignCorners) + v, torchMode, torchPadding, alignCorners);
        var theirs = TorchSampled(inputs[0], inputs[1], inputs[2]);
        var torchLoss = (theirs * TorchBridge.ToTorch(weight)).sum();
        var gradients = torch.autograd.grad([torchLoss], inputs);

        double tolerance = dtype == DType.Float64 ? 1e-12 : 2e-5;
        string what = $"{mode} {padding} alignCorners {alignCorners} {dtype}";
        Assert.True(TorchBridge.TensorRelative(ours.ToDoubleArray(), TorchBridge.Values(theirs)) <= tolerance, $"{what}: samples");
        string[] names = ["image", "theta", "grid offset"];
        for (int k = 0; k < 3; k++)
        {
            double relative = TorchBridge.TensorRelative(ourGradients[k].ToDoubleArray(), TorchBridge.Values(gradients[k]));
            Assert.True(relative <= tolerance, $"{what}: gradient in the {names[k]}: {relative}");
        }
        if (mode == GridSampleMode.Bilinear && dtype == DType.Float64)
        {
            // libtorch has no derivative of grid_sampler_2d_backward (a double backward aborts the process), so the
            // Hessian-vector product in the image, theta and the grid is held to central differences of torch's own
            // gradient along the direction: (∇L(p + εv) − ∇L(p − εv)) / 2ε
            var tangents = primals.Select((p, k) => Data(p.Shape, 10 + k, dtype)).ToArray();
            var ourHvp = Expr.EvalMany(Diff.Hvp(Loss, primals, tangents.Select(t => (Expr)t).ToArray()));
            const double step = 1e-6;
            double[][] TorchGradient(double sign)
            {
                var moved = primals.Select((p, k) => TorchBridge.ToTorch((p + sign * step * tangents[k]).Eval()).requires_grad_(true)).ToArray();
                var loss = (TorchSampled(moved[0], moved[1], moved[2]) * TorchBridge.ToTorch(weight)).sum();
                return torch.autograd.grad([loss], moved).Select(TorchBridge.Values).ToArray();
            }
            var (plus, minus) = (TorchGradient(1), TorchGradient(-1));
            for (int k = 0; k < 3; k++)
            {
                var expected = plus[k].Select((v, i) => (v - minus[k][i]) / (2 * step)).ToArray();
                double relative = TorchBridge.TensorRelative(ourHvp[k].ToDoubleArray(), expected);
                Assert.True(relative <= 1e-7, $"{what}: Hessian-vector product in the {names[k]}: {relative}");
            }
        }
    }
}
