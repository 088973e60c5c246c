/// Helpers for the vmap tests: examples stacked along any axis, and the reference every vmap
/// result is held to, a plain loop that applies f to one example at a time and stacks the results.
module FunctionalDiff.Core.Tests.VmapSupport

open System
open Expecto
open FunctionalDiff.Core

/// The data of `examples` (each of per-example shape `dims`, row-major) stacked along a new axis
/// `axis`: entry [.., b, ..] of the result is entry [.., ..] of example b.
let stackAt (axis: int) (dims: int[]) (examples: float[][]) : Tensor =
    let count = examples.Length
    let shape = Array.insertAt axis count dims
    let n = Shape.numel shape
    let data = Array.zeroCreate n
    let index = Array.zeroCreate shape.Length
    for flat in 0 .. n - 1 do
        let mutable rest = flat
        for d in shape.Length - 1 .. -1 .. 0 do
            index.[d] <- rest % shape.[d]
            rest <- rest / shape.[d]
        let mutable inner = 0
        for d in 0 .. shape.Length - 1 do
            if d <> axis then inner <- inner * shape.[d] + index.[d]
        data.[flat] <- examples.[index.[axis]].[inner]
    Tensor.FromArray(data, shape)

/// The vmap reference: f applied to each example on its own (shared arguments as they are), its
/// results stacked along `outAxis`. `examples.[i]` is None for a shared argument, whose value is
/// `shared.[i]`.
let loopReference (f: Expr list -> Expr) (count: int) (perExample: int -> Tensor list) (outAxis: int) : Tensor =
    let results = Array.init count (fun b -> Eval.eval (f (perExample b |> List.map Expr.constant)))
    let dims = results.[0].Shape
    stackAt outAxis dims (results |> Array.map (fun t -> t.ToDoubleArray()))

/// One unit in the last place of e (the gap to the next float64 away from zero).
let ulp (e: float) = Math.BitIncrement(abs e) - abs e

/// Every element equal, or within `ulps` units in the last place of the reference (NaN matches NaN).
/// A zero must have the reference's sign, within ulps too: −0 and +0 compare equal, but they are
/// different values downstream (1/x, atan2, log of a product), so a batched kernel that loses the
/// sign the per-example one keeps is wrong.
let expectWithinUlps (ulps: float) (actual: Tensor) (expected: Tensor) (message: string) =
    Expect.equal actual.Shape expected.Shape (message + ": shape")
    let a, e = actual.ToDoubleArray(), expected.ToDoubleArray()
    for i in 0 .. a.Length - 1 do
        let same = (a.[i] = e.[i] && (a.[i] <> 0.0 || Double.IsNegative a.[i] = Double.IsNegative e.[i])) || (Double.IsNaN a.[i] && Double.IsNaN e.[i])
        let zeroOfOtherSign = a.[i] = 0.0 && e.[i] = 0.0 && not same
        if not same && (zeroOfOtherSign || not (abs (a.[i] - e.[i]) <= ulps * ulp e.[i])) then
            failtestf "%s: element %d is %.17g, the loop gives %.17g (%g ulps allowed)" message i a.[i] e.[i] ulps
