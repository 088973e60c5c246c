namespace FunctionalDiff;

/// <summary>
/// A seeded source of random draws of its own, torch's <c>torch.Generator().manual_seed(s)</c>: the factories and
/// <see cref="Tensor.Multinomial(int, bool, Generator?)"/> that take it draw from its sequence and leave the process-wide
/// one of <see cref="Tensor.ManualSeed"/> alone, so a sampler with its own generator gives the same tokens however much
/// else draws around it. A generator seeded with s gives the draws that the process-wide sequence gives after
/// <c>Tensor.ManualSeed(s)</c>. Threads that draw from one generator at once take turns.
/// </summary>
public sealed class Generator
{
    readonly object gate = new();
    Random seeds;

    /// <summary>A generator seeded with <paramref name="seed"/> (torch's <c>torch.Generator().manual_seed(seed)</c>).</summary>
    public Generator(int seed = 0)
    {
        seeds = new Random(seed);
        InitialSeed = seed;
    }

    /// <summary>The seed last given, torch's <c>g.initial_seed()</c>.</summary>
    public int InitialSeed { get; private set; }

    /// <summary>
    /// Restarts the generator's sequence from <paramref name="seed"/> and returns the generator, as torch's
    /// <c>g.manual_seed(seed)</c>, so <c>var g = new Generator().ManualSeed(42);</c> reads as torch's line.
    /// </summary>
    public Generator ManualSeed(int seed)
    {
        lock (gate)
        {
            seeds = new Random(seed);
            InitialSeed = seed;
        }
        return this;
    }

    internal int NextSeed()
    {
        lock (gate) return seeds.Next();
    }
}
