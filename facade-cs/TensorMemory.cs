using CoreTensorMemory = FunctionalDiff.Core.TensorMemory;

namespace FunctionalDiff;

/// <summary>
/// How the library reuses the memory of large tensors. A kernel's result of 85,000 bytes or more
/// (up to <see cref="CacheLimit"/>) is given an array that an earlier, no longer referenced result
/// used: the garbage collector proves that nothing refers to it (no tensor, view or array
/// reference, and no finalizer of an object that died with it), as libtorch's allocator reuses
/// freed blocks. That spares the page faults of fresh memory, which on virtual machines can cost
/// more than the arithmetic. To find dead arrays the library requests a full garbage collection
/// after every 32 MB or more of such results, less often when collections are slow, and never
/// inside a no-GC region or a low-latency GC mode. Tensors made from your own arrays are copies and
/// are not recycled.
/// </summary>
public static class TensorMemory
{
    /// <summary>
    /// The most bytes of unused arrays kept for reuse: 256 MB unless set. Zero turns recycling off.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is negative.</exception>
    public static long CacheLimit
    {
        get => CoreTensorMemory.CacheLimit;
        set => CoreTensorMemory.CacheLimit = value;
    }

    /// <summary>The bytes of unused arrays kept at this moment.</summary>
    public static long CachedBytes => CoreTensorMemory.CachedBytes;

    /// <summary>Gives every kept array back to the garbage collector.</summary>
    public static void ClearCache() => CoreTensorMemory.ClearCache();
}
