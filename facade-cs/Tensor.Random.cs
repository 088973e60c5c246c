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

    static int NextSeed(Generator? generator) => generator is null ? NextSeed() : generator.NextSeed();

    /// <summary>Standard normal samples of the given shape and dtype drawn from <paramref name="generator"/>'s sequence, as
    /// torch.randn(size, generator=g); the process-wide sequence of <see cref="ManualSeed"/> is not touched.</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static Tensor Randn(int[] shape, Generator generator, DType dtype = DType.Float64)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(generator);
        return Interop.Named("Randn", () => RandomNormal(shape, generator.NextSeed(), dtype));
    }

    /// <summary>Uniform samples in [0, 1) of the given shape and dtype drawn from <paramref name="generator"/>'s sequence,
    /// as torch.rand(size, generator=g).</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static Tensor Rand(int[] shape, Generator generator, DType dtype = DType.Float64)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(generator);
        return Interop.Named("Rand", () => RandomUniform(shape, generator.NextSeed(), 0.0, 1.0, dtype));
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
    /// Whole numbers drawn uniformly from [<paramref name="low"/>, <paramref name="high"/>), as torch.randint(low, high, size)
    /// (a diffusion model's timesteps, <c>Tensor.Randint(0, 1000, [batch])</c>; see <see cref="ManualSeed"/>). They are held
    /// in a float tensor, as this library's indices are, so they index <see cref="Expr.IndexSelect"/> and
    /// <see cref="Expr.Gather"/> directly. In a compiled step pass the draws in as an input each call.
    /// </summary>
    /// <param name="low">The smallest value drawn.</param>
    /// <param name="high">One above the largest value drawn.</param>
    /// <param name="shape">The dimensions of the result (torch's <c>size</c>).</param>
    /// <param name="dtype">The dtype of the result, float64 by default.</param>
    /// <exception cref="ArgumentException"><paramref name="high"/> is not above <paramref name="low"/>, or a dimension is negative.</exception>
    public static Tensor Randint(int low, int high, int[] shape, DType dtype = DType.Float64) => Randint(low, high, shape, null, dtype);

    /// <summary>Whole numbers drawn uniformly from [<paramref name="low"/>, <paramref name="high"/>) from
    /// <paramref name="generator"/>'s sequence (the process-wide one when it is null), as torch.randint(low, high, size,
    /// generator=g); see <see cref="Randint(int, int, int[], DType)"/>.</summary>
    /// <exception cref="ArgumentException"><paramref name="high"/> is not above <paramref name="low"/>, or a dimension is negative.</exception>
    public static Tensor Randint(int low, int high, int[] shape, Generator? generator, DType dtype = DType.Float64)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (high <= low)
            throw new ArgumentException($"Randint: high ({high}) must be above low ({low}): the values are drawn from [low, high)", nameof(high));
        return Interop.Named("Randint", () =>
        {
            // floor of a uniform draw scaled to the range; the Minimum guards the one rounding of u·(high − low) up to high − low
            var u = RandomUniform(shape, NextSeed(generator), 0.0, 1.0, DType.Float64);
            return Minimum((u * ((double)high - low)).Floor() + low, high - 1.0).Cast(dtype);
        });
    }

    /// <summary>Whole numbers drawn uniformly from [0, <paramref name="high"/>), as torch.randint(high, size); see <see cref="Randint(int, int, int[], DType)"/>.</summary>
    /// <param name="high">One above the largest value drawn.</param>
    /// <param name="shape">The dimensions of the result (torch's <c>size</c>).</param>
    /// <exception cref="ArgumentException"><paramref name="high"/> is not positive, or a dimension is negative.</exception>
    public static Tensor Randint(int high, int[] shape) => Randint(0, high, shape);

    /// <summary>
    /// Category indices drawn with probabilities proportional to this tensor's weights, as torch.multinomial(weights,
    /// numSamples, replacement) (word2vec's negative sampling from the unigram counts to the power 0.75,
    /// <c>noise.Multinomial(batch * k, replacement: true)</c>; see <see cref="ManualSeed"/>). A vector of weights gives
    /// [numSamples], a matrix [rows, numSamples] with each row its own distribution. The weights are non-negative and
    /// need not sum to 1; a weight of 0 is never drawn. Without <paramref name="replacement"/> (torch's default) a
    /// category is drawn at most once per row, each draw proportional to the weights not yet drawn. The indices are whole
    /// numbers held in a float64 tensor, as <see cref="Randint(int, int, int[], DType)"/>'s, so they feed
    /// <see cref="Expr.Embedding"/> and <see cref="Expr.IndexSelect"/> directly.
    /// </summary>
    /// <param name="numSamples">The draws per distribution (row).</param>
    /// <param name="replacement">Whether a category may be drawn more than once in a row.</param>
    /// <param name="generator">The generator to draw from, torch's <c>generator=g</c>; null (the default) draws from the
    /// process-wide sequence of <see cref="ManualSeed"/>.</param>
    /// <exception cref="ArgumentException">The tensor is not a vector or a matrix, a weight is negative or not finite, a
    /// row's weights sum to 0, numSamples is not positive, or (without replacement) a row has fewer nonzero weights than
    /// numSamples.</exception>
    public Tensor Multinomial(int numSamples, bool replacement = false, Generator? generator = null)
    {
        if (Rank is not (1 or 2))
            throw new ArgumentException($"Multinomial: the weights must be a vector or a matrix with one distribution per row, not of shape [{string.Join(", ", Shape)}]");
        if (numSamples <= 0)
            throw new ArgumentException($"Multinomial: numSamples ({numSamples}) must be positive", nameof(numSamples));
        int rows = Rank == 1 ? 1 : Shape[0], categories = Shape[Rank - 1];
        var weights = ToDoubleArray();
        for (int r = 0; r < rows; r++)
        {
            int nonzero = 0;
            double total = 0;
            for (int k = 0; k < categories; k++)
            {
                double w = weights[r * categories + k];
                if (!(w >= 0) || double.IsInfinity(w))
                    throw new ArgumentException($"Multinomial: weight {w} in row {r} must be finite and non-negative");
                total += w;
                if (w > 0) nonzero++;
            }
            if (!(total > 0)) throw new ArgumentException($"Multinomial: the weights of row {r} sum to 0");
            if (!replacement && nonzero < numSamples)
                throw new ArgumentException(
                    $"Multinomial: row {r} has {nonzero} nonzero weights, too few for {numSamples} draws without replacement", nameof(numSamples));
        }
        var u = RandomUniform([rows * numSamples], NextSeed(generator), 0.0, 1.0, DType.Float64).ToDoubleArray();
        var drawn = new double[rows * numSamples];
        var row = new double[categories];
        for (int r = 0; r < rows; r++)
        {
            Array.Copy(weights, r * categories, row, 0, categories);
            for (int s = 0; s < numSamples; s++)
            {
                int k = Draw(row, u[r * numSamples + s]);
                drawn[r * numSamples + s] = k;
                if (!replacement) row[k] = 0;   // the next draw is proportional to the weights left
            }
        }
        return FromArray(drawn, Rank == 1 ? [numSamples] : [rows, numSamples]);
    }

    // The first category whose running sum exceeds u·total: category k with probability w_k / total, never a zero weight
    // (its running sum equals the one before it). Rounding can leave u·total at the last sum; the last positive weight then.
    static int Draw(double[] weights, double u)
    {
        double total = 0;
        foreach (var w in weights) total += w;
        double target = u * total, running = 0;
        int last = -1;
        for (int k = 0; k < weights.Length; k++)
        {
            if (weights[k] <= 0) continue;
            running += weights[k];
            last = k;
            if (running > target) return k;
        }
        return last;
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
