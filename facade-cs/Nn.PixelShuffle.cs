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
}
