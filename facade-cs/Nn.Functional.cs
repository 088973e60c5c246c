using CoreFunctional = FunctionalDiff.Core.Functional;
using CorePadMode = FunctionalDiff.Core.PadMode;

namespace FunctionalDiff;

/// <summary>The modes of <see cref="Nn.Pad"/>, torch's F.pad <c>mode</c>.</summary>
public enum PadMode
{
    /// <summary>A constant value outside the input ('constant', the default).</summary>
    Constant,
    /// <summary>The input mirrored about its edge entries, which are not repeated ('reflect': [1 2 3] padded by 2 is [3 2 1 2 3 2 1]).</summary>
    Reflect,
    /// <summary>The edge entries repeated ('replicate': [1 2 3] padded by 2 is [1 1 1 2 3 3 3]).</summary>
    Replicate,
    /// <summary>The input wrapped around ('circular': [1 2 3] padded by 2 is [2 3 1 2 3 1 2]).</summary>
    Circular,
}

// torch.nn.functional's vector utilities and padding, with its argument names and defaults. Composites
// of primitives in the core (module Functional), so their derivatives of every order follow.
public static partial class Nn
{
    /// <summary>
    /// torch's F.normalize: <paramref name="input"/> / max(‖input‖_p, eps) along <paramref name="axis"/>, so every
    /// slice along it has p-norm 1 (one whose norm is below eps is divided by eps instead). torch's defaults: p = 2,
    /// axis 1, eps = 1e-12.
    /// </summary>
    /// <exception cref="ArgumentException">The axis is out of range, or p is negative and finite.</exception>
    public static Expr Normalize(Expr input, double p = 2.0, int axis = 1, double eps = 1e-12)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(Interop.Named("Normalize", () => CoreFunctional.normalize(p, axis, eps, input.Node)));
    }

    /// <summary>
    /// torch's F.cosine_similarity: Σ (x1 / max(‖x1‖₂, eps))·(x2 / max(‖x2‖₂, eps)) along <paramref name="axis"/>,
    /// which is removed; x1 and x2 broadcast against each other first. Each input is divided by its own norm
    /// before the product, as torch does, so the result stays in [−1, 1]. torch's defaults: axis 1, eps = 1e-8.
    /// </summary>
    /// <remarks>
    /// Where a norm is below eps, torch clamps it outside autograd, so its gradient still divides by the norm;
    /// here the clamp is part of the function, and that input's gradient is the one of x / eps.
    /// </remarks>
    /// <exception cref="ArgumentException">The shapes do not broadcast, or the axis is out of range.</exception>
    public static Expr CosineSimilarity(Expr x1, Expr x2, int axis = 1, double eps = 1e-8)
    {
        var (a, b) = Expr.Align(x1, x2);
        return Expr.Wrap(CoreFunctional.cosineSimilarity(axis, eps, a, b));
    }

    /// <summary>
    /// torch's F.pairwise_distance: ‖x1 − x2 + eps‖_p along the last axis (eps is added to every difference, as
    /// torch does, which keeps the gradient finite where x1 = x2), x1 and x2 broadcast; the last axis is removed
    /// unless <paramref name="keepDims"/>. torch's defaults: p = 2, eps = 1e-6.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast, or the inputs have rank 0.</exception>
    public static Expr PairwiseDistance(Expr x1, Expr x2, double p = 2.0, double eps = 1e-6, bool keepDims = false)
    {
        var (a, b) = Expr.Align(x1, x2);
        return Expr.Wrap(CoreFunctional.pairwiseDistance(p, eps, keepDims, a, b));
    }

    /// <summary>
    /// torch's F.pad: <paramref name="pad"/> lists amounts from the LAST axis backwards, (before, after) per axis, as torch
    /// does: <c>Nn.Pad(x, [1, 1])</c> pads the last axis by one on each side, <c>Nn.Pad(x, [1, 1, 2, 0])</c> also
    /// puts two rows above. <see cref="PadMode.Constant"/> fills with <paramref name="value"/> (a negative amount
    /// crops, as torch); Reflect, Replicate and Circular copy entries of the input, so a padded entry's gradient
    /// goes to the entry it copies. <see cref="Expr.Pad"/> takes the amounts per axis in axis order instead.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// pad has an odd length or names more axes than the input has, or an amount does not fit the mode (reflect needs
    /// amounts below the axis's size, circular at most its size, neither takes negative amounts).
    /// </exception>
    public static Expr Pad(Expr input, int[] pad, PadMode mode = PadMode.Constant, double value = 0.0)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(pad);
        int rank = input.Rank;
        if (pad.Length % 2 != 0 || pad.Length > 2 * rank)
            throw new ArgumentException(
                $"Pad: pad needs (before, after) pairs for at most the {rank} axes of [{string.Join(",", input.Shape)}], from the last axis backwards; got {pad.Length} amounts",
                nameof(pad));
        var before = new int[rank];
        var after = new int[rank];
        for (int k = 0; k < pad.Length / 2; k++)
        {
            before[rank - 1 - k] = pad[2 * k];
            after[rank - 1 - k] = pad[2 * k + 1];
        }
        var coreMode = mode switch
        {
            PadMode.Constant => CorePadMode.Constant,
            PadMode.Reflect => CorePadMode.Reflect,
            PadMode.Replicate => CorePadMode.Replicate,
            PadMode.Circular => CorePadMode.Circular,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Pad: unknown mode"),
        };
        return Expr.Wrap(CoreFunctional.pad(coreMode, value, before, after, input.Node));
    }
}
