/// Seeded shuffling and mini-batches over the first axis of tensors that go together
/// (inputs and targets), so an epoch's batches are the same for the same seed on every machine.
namespace FunctionalDiff.Core

/// Shuffles and mini-batches.
[<RequireQualifiedAccess>]
module Batches =

    /// A permutation of 0 .. n-1 by Fisher–Yates over the library's seeded generator.
    let permutation (seed: int) (n: int) : int[] =
        if n < 0 then invalidArg "count" (sprintf "Permutation: count %d is negative" n)
        let generator = SplitMix64(seed)
        let order = Array.init n id
        for i in n - 1 .. -1 .. 1 do
            // the high 32 bits scaled to [0, i]: a multiply, not a modulo, keeps the bias at 2^-32
            let j = int (((generator.NextBits() >>> 32) * uint64 (i + 1)) >>> 32)
            let t = order.[i]
            order.[i] <- order.[j]
            order.[j] <- t
        order

    /// The rows (entries of the first axis) at `rows`, in that order, as a new dense tensor.
    let takeRows (rows: int[]) (t: Tensor) : Tensor =
        if t.Rank = 0 then Shape.fail "TakeRows" "a rank-0 tensor has no rows"
        let n = t.Dims.[0]
        let parts =
            rows |> Array.map (fun r ->
                if r < 0 || r >= n then Shape.fail "TakeRows" (sprintf "row %d is out of range for shape %s" r (Shape.format t.Dims))
                Structural.sliceAxis 0 r (r + 1) 1 t)
        if parts.Length = 0 then Structural.sliceAxis 0 0 0 1 t |> fun e -> e.Contiguous()
        else Structural.concat 0 parts

    /// The mini-batches of one epoch: the rows shuffled with `seed` (not shuffled when `seed`
    /// is None), cut into runs of `batchSize`; the last, shorter batch is kept unless `dropLast`.
    /// Every tensor is cut at the same rows, so inputs stay with their targets.
    let make (seed: int option) (batchSize: int) (dropLast: bool) (tensors: Tensor[]) : Tensor[][] =
        if isNull tensors || tensors.Length = 0 then invalidArg "tensors" "Batches: give at least one tensor"
        if batchSize <= 0 then invalidArg "batchSize" (sprintf "Batches: batchSize %d must be positive" batchSize)
        let n = if tensors.[0].Rank = 0 then Shape.fail "Batches" "a rank-0 tensor has no rows" else tensors.[0].Dims.[0]
        for t in tensors do
            if t.Rank = 0 || t.Dims.[0] <> n then
                Shape.fail "Batches" (sprintf "every tensor needs %d rows, but one has shape %s" n (Shape.format t.Dims))
        let order = match seed with Some s -> permutation s n | None -> Array.init n id
        let full = n / batchSize
        let count = if dropLast || n % batchSize = 0 then full else full + 1
        Array.init count (fun b ->
            let rows = order.[b * batchSize .. min n ((b + 1) * batchSize) - 1]
            tensors |> Array.map (takeRows rows))
