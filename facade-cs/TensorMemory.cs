using CoreTensorMemory = FunctionalDiff.Core.TensorMemory;

namespace FunctionalDiff;

/// <summary>
/// How the library treats the memory of large tensors. By default every result is a fresh array
/// that the garbage collector reclaims as usual: the library requests no garbage collections and
/// registers no finalizers.
/// <para>
/// Setting <see cref="CacheLimit"/> above zero turns on recycling, an opt-in trade of both for fewer
/// page faults. A kernel's result of 85,000 bytes or more (and no larger than the limit) then gets a
/// lease, a small object with a finalizer tied to its array. When the garbage collector proves that
/// nothing refers to the array any more (no tensor, view or array reference, and no finalizer of an
/// object that died with it), the lease's second finalization keeps the array for a later result of
/// the same dtype and length, as libtorch's allocator reuses freed blocks. Because only a full
/// collection finds large arrays dead, the library then calls <c>GC.Collect</c> (full, blocking, not
/// compacting) after every 32 MB or more of recycled results, less often when collections are slow,
/// and never inside a no-GC region or a low-latency GC mode. Tensors made from your own arrays are
/// copies and are not recycled.
/// </para>
/// </summary>
public static class TensorMemory
{
    /// <summary>
    /// The most bytes of unused arrays kept for reuse. Zero, the default, keeps recycling off: no
    /// finalizer is registered and no collection is requested. A positive value turns recycling on
    /// (see the class summary); setting zero again turns it off and drops what it kept (arrays of disposed tensors stay, within
    /// <see cref="DisposedCacheLimit"/>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public static long CacheLimit
    {
        get => CoreTensorMemory.CacheLimit;
        set => CoreTensorMemory.CacheLimit = value;
    }

    /// <summary>
    /// The most bytes kept from disposed tensors (256 MB by default; zero keeps none). A tensor that made its array and
    /// shared it with nothing (no view, no <see cref="Expr"/> constant, no compiled plan reads it) hands a large array
    /// (85,000 bytes or more) back when it is disposed (<see cref="Tensor.Dispose"/>, <c>using</c>,
    /// <see cref="Tensor.NewDisposeScope"/>), and the next result of the same dtype and length reuses it. This needs no
    /// finalizer and no collection, so it is on whatever <see cref="CacheLimit"/> is; the oldest arrays are dropped first.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public static long DisposedCacheLimit
    {
        get => CoreTensorMemory.DisposedCacheLimit;
        set => CoreTensorMemory.DisposedCacheLimit = value;
    }

    /// <summary>The bytes of unused arrays kept at this moment: disposed tensors' arrays, and with recycling on, the
    /// arrays the garbage collector found dead.</summary>
    public static long CachedBytes => CoreTensorMemory.CachedBytes;

    /// <summary>
    /// Gives every kept array back to the garbage collector, and the large buffers (up to 64 MB) that
    /// <see cref="Expr.Eval"/> and <see cref="Expr.EvalMany"/> keep between runs for the next graph's
    /// evaluation (not counted in <see cref="CachedBytes"/>).
    /// </summary>
    public static void ClearCache() => CoreTensorMemory.ClearCache();
}
