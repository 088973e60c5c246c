using System.Numerics;

namespace FunctionalDiff;

// torch's unseeded factories (torch.randn, torch.rand, torch.manual_seed) and TorchSharp's item<T>(). Each call draws the
// seed of a seeded factory (RandomNormal, RandomUniform) from one process-wide sequence, so a program that sets
// ManualSeed gets the same tensors on every run and machine, as torch's default generator gives.
public sealed partial class Tensor
{
    static readonly object seedGate = new();
    static Random seeds = new(0);

    /// <summary>
    /// Restarts the sequence of seeds that <see cref="Randn(int[])"/> and <see cref="Rand(int[])"/> draw from, as
    /// torch.manual_seed: after the same call, the same sequence of calls gives the same tensors. The sequence starts
    /// as if <c>ManualSeed(0)</c> had been called. It is process-wide; threads that draw at once take turns.
    /// </summary>
    public static void ManualSeed(int seed)
    {
        lock (seedGate) seeds = new Random(seed);
    }

    static int NextSeed()
    {
        lock (seedGate) return seeds.Next();
    }

    /// <summary>Standard normal samples in float64 with the dimensions listed, as torch.randn(2, 3) (see <see cref="ManualSeed"/>).</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static Tensor Randn(params int[] shape) => Randn(shape, DType.Float64);

    /// <summary>Standard normal samples of the given shape and dtype, as torch.randn (see <see cref="ManualSeed"/>).</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static Tensor Randn(int[] shape, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return Interop.Named("Randn", () => RandomNormal(shape, NextSeed(), dtype));
    }

    /// <summary>Uniform samples in [0, 1) in float64 with the dimensions listed, as torch.rand(2, 3) (see <see cref="ManualSeed"/>).</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static Tensor Rand(params int[] shape) => Rand(shape, DType.Float64);

    /// <summary>Uniform samples in [0, 1) of the given shape and dtype, as torch.rand (see <see cref="ManualSeed"/>).</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static Tensor Rand(int[] shape, DType dtype)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return Interop.Named("Rand", () => RandomUniform(shape, NextSeed(), 0.0, 1.0, dtype));
    }

    /// <summary>
    /// Standard normal samples of <paramref name="like"/>'s shape and dtype, as torch.randn_like (a VAE's
    /// <c>eps = torch.randn_like(std)</c>; see <see cref="ManualSeed"/>). In a compiled step pass the draws in as an
    /// input each call: a captured tensor is a constant of the plan.
    /// </summary>
    public static Tensor RandnLike(Tensor like)
    {
        ArgumentNullException.ThrowIfNull(like);
        return Randn(like.Shape, like.DType);
    }

    /// <summary>Uniform samples in [0, 1) of <paramref name="like"/>'s shape and dtype, as torch.rand_like (see <see cref="ManualSeed"/>).</summary>
    public static Tensor RandLike(Tensor like)
    {
        ArgumentNullException.ThrowIfNull(like);
        return Rand(like.Shape, like.DType);
    }

    /// <summary>
    /// The value of a one-element tensor converted to <typeparamref name="T"/>, TorchSharp's <c>t.item&lt;float&gt;()</c>
    /// (<c>Item&lt;float&gt;()</c> rounds a float64 value to float32; <see cref="Item()"/> gives a double).
    /// </summary>
    /// <exception cref="ArgumentException">The tensor has more or fewer than one element; the message gives its shape.</exception>
    /// <exception cref="OverflowException">The value does not fit in an integer <typeparamref name="T"/>.</exception>
    public T Item<T>() where T : INumberBase<T> => T.CreateChecked(Item());
}
