using CoreStructure = FunctionalDiff.Core.Structure;

namespace FunctionalDiff;

public static partial class Nn
{
    /// <summary>
    /// torch's <c>F.pixel_shuffle(x, r)</c>: [..., C·r², H, W] to [..., C, H·r, W·r], each group of r² channels spread
    /// over an r × r block. F#: <c>Structure.pixelShuffle</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The channels are not a multiple of r², or the rank is below 3.</exception>
    public static Expr PixelShuffle(Expr input, int upscaleFactor)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CoreStructure.pixelShuffle(upscaleFactor, input.Node));
    }

    /// <summary>
    /// torch's <c>F.pixel_unshuffle(x, r)</c>, the inverse of <see cref="PixelShuffle"/>: [..., C, H·r, W·r] to
    /// [..., C·r², H, W]. F#: <c>Structure.pixelUnshuffle</c>.
    /// </summary>
    /// <exception cref="ArgumentException">H or W is not a multiple of r, or the rank is below 3.</exception>
    public static Expr PixelUnshuffle(Expr input, int downscaleFactor)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CoreStructure.pixelUnshuffle(downscaleFactor, input.Node));
    }

    /// <summary>
    /// torch's <c>F.channel_shuffle(x, groups)</c>: the channels (axis 1) of [N, C, ...] split into groups and interleaved
    /// (ShuffleNet's shuffle: channel g·(C/groups) + k moves to k·groups + g). F#: <c>Numerics.channelShuffle</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The rank is below 3.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="groups"/> is not positive or does not divide C.</exception>
    public static Expr ChannelShuffle(Expr input, int groups)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(FunctionalDiff.Core.Numerics.channelShuffle(groups, input.Node));
    }

    /// <summary>
    /// torch's <c>F.pdist(x, p)</c>: the p-norm distances between the rows of [N, M] for every pair i &lt; j, in row-major
    /// order of the pairs ([N(N − 1)/2]); the gradient at a zero distance is 0, as torch's. F#: <c>Numerics.pdist</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not a matrix.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is negative or NaN.</exception>
    public static Expr Pdist(Expr input, double p = 2.0)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(FunctionalDiff.Core.Numerics.pdist(p, input.Node));
    }
}
