using Microsoft.FSharp.Core;
using CoreInterpolation = FunctionalDiff.Core.QuantileInterpolation;
using CoreQuantiles = FunctionalDiff.Core.Quantiles;

namespace FunctionalDiff;

/// <summary>How <see cref="Expr.Quantile(double, int?, bool, QuantileInterpolation)"/> reads between the two entries around a rank (torch's interpolation).</summary>
public enum QuantileInterpolation
{
    /// <summary>lerp between them by the rank's fraction (torch's 'linear', its default).</summary>
    Linear,
    /// <summary>The entry below ('lower').</summary>
    Lower,
    /// <summary>The entry above ('higher').</summary>
    Higher,
    /// <summary>Their mean ('midpoint').</summary>
    Midpoint,
    /// <summary>The entry nearer, the rank rounded half to even ('nearest').</summary>
    Nearest,
}

// torch.quantile and torch.nanquantile.
public sealed partial class Expr
{
    /// <summary>
    /// torch.quantile(x, q, dim, keepdim, interpolation): the q-quantile (q in [0, 1]) along <paramref name="axis"/>, or of all
    /// entries when it is null, at rank q·(n − 1) of the sorted slice; a slice holding NaN gives NaN. The derivative goes to
    /// the entries around the rank with lerp's weights, as torch's through its sort. F#: <c>Quantiles.quantileWith</c> and <c>nanquantileWith</c>.
    /// </summary>
    /// <exception cref="ArgumentException">q is outside [0, 1], the input is empty, or the axis does not exist.</exception>
    public Expr Quantile(double q, int? axis = null, bool keepDims = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear) =>
        Quantiles("Quantile", false, [q], true, axis, keepDims, interpolation);

    /// <summary>
    /// torch.quantile with a vector of q: the quantiles along a new leading axis, one entry per q, then the input's shape
    /// without <paramref name="axis"/> (or without every axis when it is null).
    /// </summary>
    /// <exception cref="ArgumentException">A q is outside [0, 1], the input is empty, or the axis does not exist.</exception>
    public Expr Quantile(double[] q, int? axis = null, bool keepDims = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear) =>
        Quantiles("Quantile", false, q, false, axis, keepDims, interpolation);

    /// <summary>
    /// torch.nanquantile: as <see cref="Quantile(double, int?, bool, QuantileInterpolation)"/> over each slice's numbers only,
    /// the NaN entries left out (a slice of NaN only gives NaN).
    /// </summary>
    /// <exception cref="ArgumentException">q is outside [0, 1], the input is empty, or the axis does not exist.</exception>
    public Expr NanQuantile(double q, int? axis = null, bool keepDims = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear) =>
        Quantiles("NanQuantile", true, [q], true, axis, keepDims, interpolation);

    /// <summary>torch.nanquantile with a vector of q, laid out as <see cref="Quantile(double[], int?, bool, QuantileInterpolation)"/>.</summary>
    /// <exception cref="ArgumentException">A q is outside [0, 1], the input is empty, or the axis does not exist.</exception>
    public Expr NanQuantile(double[] q, int? axis = null, bool keepDims = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear) =>
        Quantiles("NanQuantile", true, q, false, axis, keepDims, interpolation);

    Expr Quantiles(string method, bool ignoreNaN, double[] q, bool scalar, int? axis, bool keepDims, QuantileInterpolation interpolation)
    {
        ArgumentNullException.ThrowIfNull(q);
        var mode = interpolation switch
        {
            QuantileInterpolation.Linear => CoreInterpolation.Linear,
            QuantileInterpolation.Lower => CoreInterpolation.Lower,
            QuantileInterpolation.Higher => CoreInterpolation.Higher,
            QuantileInterpolation.Midpoint => CoreInterpolation.Midpoint,
            QuantileInterpolation.Nearest => CoreInterpolation.Nearest,
            _ => throw new ArgumentOutOfRangeException(nameof(interpolation), interpolation, $"{method}: unknown interpolation"),
        };
        var dim = axis is int a ? FSharpOption<int>.Some(a) : FSharpOption<int>.None;
        return Wrap(CoreQuantiles.quantileNamed(method, ignoreNaN, mode, q, scalar, dim, keepDims, Node));
    }
}
