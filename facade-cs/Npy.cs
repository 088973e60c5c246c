using Microsoft.FSharp.Core;
using CoreBatches = FunctionalDiff.Core.Batches;
using CoreNpy = FunctionalDiff.Core.Npy;
using CoreNpz = FunctionalDiff.Core.Npz;
using CoreTensor = FunctionalDiff.Core.Tensor;

namespace FunctionalDiff;

/// <summary>
/// NumPy <c>.npy</c> files (one tensor): float32 (<c>&lt;f4</c>) and float64 (<c>&lt;f8</c>) in C
/// order, readable by <c>np.load</c> and <c>torch.from_numpy(np.load(...))</c>. Other dtypes, big
/// endian and Fortran order raise <see cref="InvalidDataException"/> naming the file and its header.
/// </summary>
public static class Npy
{
    /// <summary>Writes <paramref name="tensor"/> to <paramref name="path"/> (format version 1.0).</summary>
    public static void Save(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensor);
        CoreNpy.save(path, tensor.Value);
    }

    /// <summary>Reads a <c>.npy</c> file (format versions 1.0, 2.0 and 3.0).</summary>
    /// <exception cref="InvalidDataException">The file is not a float32/float64 C-order <c>.npy</c> file.</exception>
    public static Tensor Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new(CoreNpy.load(path));
    }
}

/// <summary>
/// NumPy <c>.npz</c> archives: several named tensors in one zip file, as <c>np.savez</c> writes
/// and <c>np.load</c> reads (each entry is <c>name.npy</c>).
/// </summary>
public static class Npz
{
    /// <summary>Writes every named tensor, uncompressed, in order.</summary>
    public static void Save(string path, IEnumerable<KeyValuePair<string, Tensor>> tensors)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        CoreNpz.save(path, tensors.Select(kv => Tuple.Create(kv.Key, (kv.Value ?? throw new ArgumentNullException(nameof(tensors), $"the tensor named '{kv.Key}' is null")).Value)).ToArray());
    }

    /// <summary>Reads every <c>.npy</c> entry of an archive, stored or deflated (<c>np.savez_compressed</c>), in archive order.</summary>
    /// <exception cref="InvalidDataException">An entry is not a float32/float64 C-order array; the message names it.</exception>
    public static Parameters Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var entries = CoreNpz.load(path);
        return new Parameters(entries.Select(e => e.Item1).ToArray(), entries.Select(e => new Tensor(e.Item2)).ToArray());
    }
}

/// <summary>Seeded shuffles and mini-batches over the first axis of tensors that go together (inputs and targets).</summary>
public static class Batches
{
    /// <summary>A permutation of 0 … count−1; the same seed gives the same order on every machine.</summary>
    public static int[] Permutation(int count, int seed) => CoreBatches.permutation(seed, count);

    /// <summary>
    /// One epoch's mini-batches: the rows shuffled with <paramref name="seed"/>, cut into runs of
    /// <paramref name="batchSize"/> (the last one shorter unless <paramref name="dropLast"/>). Each
    /// batch holds one tensor per input, cut at the same rows.
    /// </summary>
    /// <exception cref="ArgumentException">The tensors have different numbers of rows, or the batch size is not positive.</exception>
    public static IReadOnlyList<Tensor[]> Shuffled(int batchSize, int seed, Tensor[] tensors, bool dropLast = false) =>
        Make(FSharpOption<int>.Some(seed), batchSize, tensors, dropLast);

    /// <summary>The mini-batches in the rows' own order.</summary>
    public static IReadOnlyList<Tensor[]> InOrder(int batchSize, Tensor[] tensors, bool dropLast = false) =>
        Make(FSharpOption<int>.None, batchSize, tensors, dropLast);

    static IReadOnlyList<Tensor[]> Make(FSharpOption<int> seed, int batchSize, Tensor[] tensors, bool dropLast)
    {
        Interop.ThrowIfAnyNull(tensors, nameof(tensors));
        var batches = CoreBatches.make(seed, batchSize, dropLast, tensors.Select(t => t.Value).ToArray());
        return batches.Select(b => b.Select(t => new Tensor(t)).ToArray()).ToArray();
    }
}
