/// A fused group reads each operand that is not dense in its shape by gathering it, block by
/// block, into a load register: broadcast operands, views (permuted, sliced with steps, columns
/// of wider matrices) and mixtures of both, at any block boundary. The gather walks runs and an
/// odometer instead of computing each element's position, so these tests hold it, over random
/// layouts and random blocks, to a reference loop that computes every element's position from its
/// coordinates in the group's shape.
module FunctionalDiff.Core.Tests.FusedGatherTests

open System
open Expecto
open FunctionalDiff.Core

/// The value the group reads at flat position p of `shape` from `operand` (broadcast by numpy's
/// rules): the coordinates of p, the operand's leading missing axes and axes of extent 1 read at 0.
let private expectedAt (operand: Tensor) (values: float[]) (shape: int[]) (p: int) =
    let lead = shape.Length - operand.Rank
    let mutable rest = p
    let mutable index = 0
    let mutable scale = 1
    for axis in shape.Length - 1 .. -1 .. 0 do
        let coordinate = rest % shape.[axis]
        rest <- rest / shape.[axis]
        if axis >= lead then
            let dim = operand.Dims.[axis - lead]
            if dim > 1 then index <- index + coordinate * scale
            scale <- scale * dim
    values.[index]

/// A random operand for `shape`: per axis its extent or 1, possibly without leading axes, laid
/// out as a permuted view, a stepped slice of a larger tensor, or dense.
let private operandFor (random: Random) (shape: int[]) =
    let lead = random.Next(0, min 2 shape.Length + 1)
    let dims = shape |> Array.skip lead |> Array.map (fun e -> if random.Next(3) = 0 then 1 else e)
    let numel (d: int[]) = Array.fold (*) 1 d
    match random.Next(3) with
    | 0 ->
        // a permuted view: stored in another axis order
        let perm = Array.init dims.Length id |> Array.sortBy (fun _ -> random.Next())
        let inverse = Array.zeroCreate perm.Length
        perm |> Array.iteri (fun i p -> inverse.[p] <- i)
        let stored = Array.init dims.Length (fun i -> dims.[perm.[i]])
        let t = Tensor.FromArray(Array.init (numel stored) (fun _ -> random.NextDouble()), stored)
        Structural.permute inverse t
    | 1 ->
        // every other entry of a tensor twice as long in each axis, from an offset
        let larger = dims |> Array.map (fun d -> 2 * d + 1)
        let t = Tensor.FromArray(Array.init (numel larger) (fun _ -> random.NextDouble()), larger)
        Structural.slice (Array.create dims.Length 1) (dims |> Array.map (fun d -> 1 + 2 * d)) (Array.create dims.Length 2) t
    | _ -> Tensor.FromArray(Array.init (numel dims) (fun _ -> random.NextDouble()), dims)

[<Tests>]
let tests =
    testList "fused gather" [
        test "every layout and block of random shapes gathers the broadcast operand's entries" {
            let random = Random(20261206)
            let extents = [| 1; 2; 3; 5; 16; 17 |]
            let mutable checkedValues = 0
            for _ in 1 .. 400 do
                let shape = Array.init (random.Next(1, 5)) (fun _ -> extents.[random.Next(extents.Length)])
                let total = Array.fold (*) 1 shape
                let operand = operandFor random shape
                let values = operand.Contiguous().ToDoubleArray()
                let start = random.Next(total)
                let length = random.Next(0, total - start + 1)
                let target = Array.create (length + 3) nan
                FusedKernel.gather<float> operand shape start length target 2
                for k in 0 .. length - 1 do
                    let expected = expectedAt operand values shape (start + k)
                    if target.[2 + k] <> expected then
                        failtestf "shape %A, operand %A strides %A offset %d, start %d, length %d: entry %d is %g, expected %g"
                            shape operand.Dims operand.Strides operand.Offset start length k target.[2 + k] expected
                    checkedValues <- checkedValues + 1
                // nothing written outside [2, 2 + length)
                Expect.isTrue (Double.IsNaN target.[0] && Double.IsNaN target.[1] && Double.IsNaN target.[2 + length]) "only the block is written"
            Expect.isGreaterThan checkedValues 10000 "the random cases gathered many entries"
        }
    ]
