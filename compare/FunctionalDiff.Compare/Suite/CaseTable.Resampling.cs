using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;
using TorchMode = TorchSharp.torch.InterpolationMode;

namespace FunctionalDiff.Compare.Suite;

// F.interpolate (Core.Resampling) against torch's: nearest and linear modes over one, two and three spatial axes, up and
// down, by sizes and by scale factors, with and without align_corners. The outputs pass through a nonlinear function so
// that the second-order checks see the resampling matrices twice.
public static partial class CaseTable
{
    static IEnumerable<Case> Resampling()
    {
        yield return C("interpolate nearest [1,2,5] to 8", new[] { I(1, 2, 5) },
            x => Nn.Interpolate(x[0], new[] { 8 }).Tanh(), x => F.interpolate(x[0], new long[] { 8 }).tanh());
        yield return C("interpolate nearest [1,2,5] to 3", new[] { I(1, 2, 5) },
            x => Nn.Interpolate(x[0], new[] { 3 }).Tanh(), x => F.interpolate(x[0], new long[] { 3 }).tanh());
        yield return C("interpolate nearest [1,2,3,4] scale 2", new[] { I(1, 2, 3, 4) },
            x => Nn.Interpolate(x[0], new[] { 2.0, 2.0 }).Sin(), x => F.interpolate(x[0], scale_factor: new[] { 2.0, 2.0 }).sin());
        yield return C("interpolate linear [2,1,4] to 7", new[] { I(2, 1, 4) },
            x => Nn.Interpolate(x[0], new[] { 7 }, FunctionalDiff.InterpolationMode.Linear).Tanh(),
            x => F.interpolate(x[0], new long[] { 7 }, mode: TorchMode.Linear, align_corners: false).tanh());
        yield return C("interpolate linear [2,1,4] to 7 aligned", new[] { I(2, 1, 4) },
            x => Nn.Interpolate(x[0], new[] { 7 }, FunctionalDiff.InterpolationMode.Linear, alignCorners: true).Tanh(),
            x => F.interpolate(x[0], new long[] { 7 }, mode: TorchMode.Linear, align_corners: true).tanh());
        yield return C("interpolate bilinear [1,2,3,3] to 5,4", new[] { I(1, 2, 3, 3) },
            x => Nn.Interpolate(x[0], new[] { 5, 4 }, FunctionalDiff.InterpolationMode.Linear).Sin(),
            x => F.interpolate(x[0], new long[] { 5, 4 }, mode: TorchMode.Bilinear, align_corners: false).sin());
        yield return C("interpolate bilinear [1,1,3,4] scale 2 aligned", new[] { I(1, 1, 3, 4) },
            x => Nn.Interpolate(x[0], new[] { 2.0, 2.0 }, FunctionalDiff.InterpolationMode.Linear, alignCorners: true).Sin(),
            x => F.interpolate(x[0], scale_factor: new[] { 2.0, 2.0 }, mode: TorchMode.Bilinear, align_corners: true).sin());
        yield return C("interpolate bilinear [1,1,4,6] scale 0.5", new[] { I(1, 1, 4, 6) },
            x => Nn.Interpolate(x[0], new[] { 0.5, 0.5 }, FunctionalDiff.InterpolationMode.Linear).Sin(),
            x => F.interpolate(x[0], scale_factor: new[] { 0.5, 0.5 }, mode: TorchMode.Bilinear, align_corners: false).sin());
        yield return C("interpolate trilinear [1,1,2,3,2] to 3,4,3", new[] { I(1, 1, 2, 3, 2) },
            x => Nn.Interpolate(x[0], new[] { 3, 4, 3 }, FunctionalDiff.InterpolationMode.Linear).Tanh(),
            x => F.interpolate(x[0], new long[] { 3, 4, 3 }, mode: TorchMode.Trilinear, align_corners: false).tanh());
    }
}
