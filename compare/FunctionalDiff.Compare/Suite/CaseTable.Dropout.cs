using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// The dropout variants with the randomness given (Nn.Dropout1d/2d/3d, AlphaDropout, FeatureAlphaDropout, RRelu in
// training): torch draws its own masks, so its side is torch's formula over the same uniform draws (its kernels'
// order of operations: the 0/1 mask scaled, then the input multiplied); RRelu's eval mode is torch's F.leaky_relu at
// the mean slope, as torch defines it.
public static partial class CaseTable
{
    static double[] Uniform(int n, double shift) => Enumerable.Range(0, n).Select(i => (i * 0.61 + shift) % 1.0).ToArray();

    internal static TT Kept(TT noise, double p, TT like) => (noise >= p).to_type(like.dtype);

    internal static TT TorchAlphaDropout(TT x, TT keep, double p)
    {
        const double saturation = 1.7580993408473766;
        double a = 1.0 / Math.Sqrt((saturation * saturation * p + 1.0) * (1.0 - p));
        var shift = (keep - 1.0) * (saturation * a) + saturation * a * p;
        return x * (keep * a) + shift;
    }

    static IEnumerable<Case> DropoutVariants()
    {
        yield return C("dropout2d p 0.4 [2,3,2,2]", new[] { I(2, 3, 2, 2) }, x => Nn.Dropout2d(x[0], 0.4, Const(Uniform(6, 0.1), [2, 3], x[0])),
            x => x[0] * (Kept(Const(Uniform(6, 0.1), new long[] { 2, 3, 1, 1 }, x[0]), 0.4, x[0]) / (1 - 0.4)));
        yield return C("dropout1d unbatched p 0.5 [3,4]", new[] { I(3, 4) }, x => Nn.Dropout1d(x[0], 0.5, Const(Uniform(3, 0.3), [3], x[0])),
            x => x[0] * (Kept(Const(Uniform(3, 0.3), new long[] { 3, 1 }, x[0]), 0.5, x[0]) / (1 - 0.5)));
        yield return C("dropout3d p 0.25 [1,4,2,1,2]", new[] { I(1, 4, 2, 1, 2) }, x => Nn.Dropout3d(x[0], 0.25, Const(Uniform(4, 0.05), [1, 4], x[0])),
            x => x[0] * (Kept(Const(Uniform(4, 0.05), new long[] { 1, 4, 1, 1, 1 }, x[0]), 0.25, x[0]) / (1 - 0.25)));
        yield return C("alpha_dropout p 0.3 [3,4]", new[] { I(3, 4) }, x => Nn.AlphaDropout(x[0], 0.3, Const(Uniform(12, 0.2), [3, 4], x[0])),
            x => TorchAlphaDropout(x[0], Kept(Const(Uniform(12, 0.2), new long[] { 3, 4 }, x[0]), 0.3, x[0]), 0.3));
        yield return C("feature_alpha_dropout p 0.5 [2,3,2]", new[] { I(2, 3, 2) }, x => Nn.FeatureAlphaDropout(x[0], 0.5, Const(Uniform(6, 0.45), [2, 3], x[0])),
            x => TorchAlphaDropout(x[0], Kept(Const(Uniform(6, 0.45), new long[] { 2, 3, 1 }, x[0]), 0.5, x[0]), 0.5));
        yield return C("rrelu eval [3,4]", new[] { Z(3, 4) }, x => Nn.RRelu(x[0], 0.1, 0.3), x => F.leaky_relu(x[0], 0.2));
        yield return C("rrelu training [3,4]", new[] { Z(3, 4) }, x => Nn.RRelu(x[0], 0.1, 0.3, Const(Uniform(12, 0.7), [3, 4], x[0])),
            x => torch.where(x[0] > 0, x[0], x[0] * (0.1 + 0.2 * Const(Uniform(12, 0.7), new long[] { 3, 4 }, x[0]))));
    }
}
