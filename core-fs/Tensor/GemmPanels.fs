/// A GEMM right operand packed once and multiplied many times. A loop's body multiplies by the
/// same captured weights at every step; packing B costs a pass over it per product, which for
/// a batch of a few rows is a large part of the product's time. Its owner (a loop's scratch)
/// keeps one of these per product whose B does not change between the steps, and marks it stale
/// whenever it may.
namespace FunctionalDiff.Core

open System
open System.Runtime.InteropServices
open System.Threading

/// The panels of a whole B in the driver's block order, with a record of which operand they
/// hold (its array, offset, strides, sizes and the blocking), so a different operand is never
/// read from stale panels. The memory is a pinned managed array, freed with its owner: nothing
/// outlives the loop scratch that holds it.
[<Sealed; AllowNullLiteral>]
type internal PackedOperand() =
    let mutable storage: byte[] = null
    let mutable address = 0n
    // what the panels hold; null source: nothing
    let mutable source: Array = null
    let mutable offset = 0
    let mutable rowStride = 0
    let mutable columnStride = 0
    let mutable depth = 0
    let mutable columns = 0
    let mutable width = 0
    let mutable depthBlock = 0
    let mutable columnBlock = 0
    let mutable packings = 0L

    /// How many times B was packed into this operand (for tests that count packings).
    member _.Packings = Interlocked.Read(&packings)

    /// True when the panels hold this operand, packed with these micro-panel width and blocks.
    member _.Holds(b: Array, bOffset: int, bRow: int, bColumn: int, k: int, n: int, panelWidth: int, kc: int, nc: int) =
        obj.ReferenceEquals(source, b) && offset = bOffset && rowStride = bRow && columnStride = bColumn
        && depth = k && columns = n && width = panelWidth && depthBlock = kc && columnBlock = nc

    /// A 64-byte-aligned address with room for `bytes`, for the caller to pack into; the panels
    /// hold nothing until `Filled` records what was packed.
    member _.Reserve(bytes: int) : nativeint =
        source <- null
        if isNull storage || storage.Length - 64 < bytes then
            // pinned: the address stays valid for the array's life, and the kernels read it unpinned
            storage <- GC.AllocateUninitializedArray<byte>(bytes + 64, true)
            let start = Marshal.UnsafeAddrOfPinnedArrayElement(storage, 0)
            address <- (start + 63n) &&& ~~~63n
        address

    /// Records that the reserved memory now holds this operand's panels.
    member _.Filled(b: Array, bOffset: int, bRow: int, bColumn: int, k: int, n: int, panelWidth: int, kc: int, nc: int) =
        source <- b
        offset <- bOffset
        rowStride <- bRow
        columnStride <- bColumn
        depth <- k
        columns <- n
        width <- panelWidth
        depthBlock <- kc
        columnBlock <- nc
        Interlocked.Increment(&packings) |> ignore

    /// The address of the panels (valid after `Filled`).
    member _.Address = address

    /// Forgets the operand (its values may change, or its owner lets go of the caller's arrays).
    member _.Invalidate() = source <- null
