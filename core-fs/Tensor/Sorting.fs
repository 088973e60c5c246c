/// Sorting: the permutation that sorts each run along an axis. Values follow from it by a
/// gather, so only the indices need a kernel of their own.
namespace FunctionalDiff.Core

open System
open System.Numerics
open KernelSupport

/// Argsort along an axis.
module Sorting =

    /// Ascending order with NaN after every number, as torch.sort puts it; ties keep their
    /// original order (a stable sort), so equal values give the same indices every run.
    let private ascending<'T when 'T :> IFloatingPointIeee754<'T>> (a: 'T) (b: 'T) =
        match 'T.IsNaN a, 'T.IsNaN b with
        | true, true -> 0
        | true, false -> 1
        | false, true -> -1
        | false, false -> if 'T.op_LessThan(a, b) then -1 elif 'T.op_GreaterThan(a, b) then 1 else 0

    let private argsortBlocks<'T when 'T :> IFloatingPointIeee754<'T>>
        (data: 'T[]) (offset: int) (outer: int) (length: int) (inner: int) (descending: bool) : 'T[] =
        let result = RecycledArrays.Take<'T>(outer * length * inner) // every element is written below
        let order = Array.zeroCreate<int> length
        let keys = Array.zeroCreate<'T> length
        for o in 0 .. outer - 1 do
            for i in 0 .. inner - 1 do
                for r in 0 .. length - 1 do
                    keys.[r] <- data.[offset + (o * length + r) * inner + i]
                    order.[r] <- r
                // Array.Sort is not stable: the position breaks ties, so the order is total
                let compare (p: int) (q: int) =
                    let c = ascending keys.[p] keys.[q]
                    let c = if descending then -c else c
                    if c <> 0 then c else compare p q
                Array.Sort(order, Comparison compare)
                for r in 0 .. length - 1 do
                    result.[(o * length + r) * inner + i] <- 'T.CreateTruncating order.[r]
        result

    /// The indices that sort each run along `axis` (ascending, or descending), as values in the
    /// input dtype; NaN sorts above every number, and equal values keep their order.
    let argsort (axis: int) (descending: bool) (t: Tensor) : Tensor =
        let a = Shape.normalizeAxis "Sort" t.Rank axis
        let source = dense t
        let dims = t.Dims
        let outer = Array.fold (*) 1 dims.[.. a - 1]
        let inner = Array.fold (*) 1 dims.[a + 1 ..]
        let length = if t.Rank = 0 then 1 else dims.[a]
        match t.DType with
        | DType.Float64 -> Tensor.OwnDense(Array.copy dims, argsortBlocks<float> source.Data64 source.Offset outer length inner descending)
        | DType.Float32 -> Tensor.OwnDense(Array.copy dims, argsortBlocks<float32> source.Data32 source.Offset outer length inner descending)
