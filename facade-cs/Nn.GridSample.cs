using CoreGridSampling = FunctionalDiff.Core.GridSampling;
using CoreGridSampleMode = FunctionalDiff.Core.GridSampleMode;
using CoreGridSamplePadding = FunctionalDiff.Core.GridSamplePadding;

namespace FunctionalDiff;

/// <summary>How <see cref="Nn.GridSample"/> reads between pixels (torch's <c>mode</c>).</summary>
public enum GridSampleMode
{
    /// <summary>The four pixels around the position, weighted by its distance to each: torch's <c>'bilinear'</c>, the default.</summary>
    Bilinear,
    /// <summary>The nearest pixel, half to even: torch's <c>'nearest'</c>. The grid gets no gradient.</summary>
    Nearest,
}

/// <summary>What <see cref="Nn.GridSample"/> reads outside the image (torch's <c>padding_mode</c>).</summary>
public enum GridSamplePadding
{
    /// <summary>0: torch's <c>'zeros'</c>, the default.</summary>
    Zeros,
    /// <summary>The position clamped into the image, so the nearest border pixel: torch's <c>'border'</c>.</summary>
    Border,
    /// <summary>The position reflected at the borders until it is inside: torch's <c>'reflection'</c>.</summary>
    Reflection,
}

// F.affine_grid and F.grid_sample: a spatial transformer's sampling, differentiable in the image and in the grid.
public static partial class Nn
{
    /// <summary>
    /// torch's <c>F.grid_sample(input, grid, mode, padding_mode, align_corners)</c> for images: input [N, C, H, W] read at
    /// the positions of grid [N, H_out, W_out, 2] (x then y, each normalised so that −1 and 1 are the image's edges, or
    /// its corner pixels' centres with <paramref name="alignCorners"/>), giving [N, C, H_out, W_out]. The gradient
    /// reaches the input and, for bilinear sampling, the grid, at every order (a spatial transformer trains its
    /// localisation network through it). F#: <c>GridSampling.gridSample</c>.
    /// </summary>
    /// <param name="input">The image, [N, C, H, W].</param>
    /// <param name="grid">Where to read, [N, H_out, W_out, 2], in the input's dtype (for example <see cref="AffineGrid"/>'s).</param>
    /// <param name="mode">Bilinear (torch's default) or nearest; torch's <c>'bicubic'</c> is not offered.</param>
    /// <param name="paddingMode">What is read outside the image: zeros (torch's default), the border, or the reflection.</param>
    /// <param name="alignCorners">torch's <c>align_corners</c> (default false).</param>
    /// <exception cref="ArgumentException">The input is not [N, C, H, W], the grid not [N, H_out, W_out, 2] with the same N,
    /// or their dtypes differ.</exception>
    public static Expr GridSample(Expr input, Expr grid, GridSampleMode mode = GridSampleMode.Bilinear,
        GridSamplePadding paddingMode = GridSamplePadding.Zeros, bool alignCorners = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(grid);
        var coreMode = mode switch
        {
            GridSampleMode.Bilinear => CoreGridSampleMode.Bilinear,
            GridSampleMode.Nearest => CoreGridSampleMode.Nearest,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "GridSample: unknown mode"),
        };
        var padding = paddingMode switch
        {
            GridSamplePadding.Zeros => CoreGridSamplePadding.Zeros,
            GridSamplePadding.Border => CoreGridSamplePadding.Border,
            GridSamplePadding.Reflection => CoreGridSamplePadding.Reflection,
            _ => throw new ArgumentOutOfRangeException(nameof(paddingMode), paddingMode, "GridSample: unknown padding mode"),
        };
        return Expr.Wrap(CoreGridSampling.gridSample(coreMode, padding, alignCorners, input.Node, grid.Node));
    }

    /// <summary>
    /// torch's <c>F.affine_grid(theta, size, align_corners)</c> for images: the grid [N, H, W, 2] whose entry (h, w) is
    /// theta[n] · (x_w, y_h, 1), where (x, y) is pixel (h, w)'s normalised position in [−1, 1] (pixel centres, or the
    /// corner pixels at ±1 with <paramref name="alignCorners"/>), for <see cref="GridSample"/>. Linear in theta, so a
    /// spatial transformer's gradient reaches it. F#: <c>GridSampling.affineGrid</c>.
    /// </summary>
    /// <param name="theta">The affine maps, [N, 2, 3].</param>
    /// <param name="size">The output image's size [N, C, H, W] (C is not read, as in torch).</param>
    /// <param name="alignCorners">torch's <c>align_corners</c> (default false).</param>
    /// <exception cref="ArgumentException">theta is not [N, 2, 3], or size is not four positive sizes with the same N.</exception>
    public static Expr AffineGrid(Expr theta, int[] size, bool alignCorners = false)
    {
        ArgumentNullException.ThrowIfNull(theta);
        ArgumentNullException.ThrowIfNull(size);
        return Expr.Wrap(CoreGridSampling.affineGrid(size, alignCorners, theta.Node));
    }
}
