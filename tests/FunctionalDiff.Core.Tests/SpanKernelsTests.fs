/// SpanKernels, the vectorised + − × ÷, negation and sum that replaced TensorPrimitives on the
/// arithmetic every training step runs: lane by lane they must give IEEE's scalar result in the
/// element type (checked bit for bit against a plain loop, over every length from 0 to 70 so that
/// four-vector blocks, single vectors and tails all run, with NaN, infinities and signed zeros),
/// and the sum must stay within its error bound of a float64 reference.
module FunctionalDiff.Core.Tests.SpanKernelsTests

open System
open Expecto
open FunctionalDiff.Core

/// Values with NaN, signed zeros, infinities, tiny and huge magnitudes, and ordinary numbers.
let private values (seed: int) (n: int) =
    let random = Random(seed)
    Array.init n (fun i ->
        match (i + seed) % 13 with
        | 0 -> nan
        | 1 -> -0.0
        | 2 -> 0.0
        | 3 -> infinity
        | 4 -> -infinity
        | 5 -> 1e-310
        | 6 -> 3e38
        | _ -> random.NextDouble() * 8.0 - 4.0)

/// Same bits, or both NaN (a NaN's payload is the hardware's business).
let private sameBits64 (a: float) (b: float) = (Double.IsNaN a && Double.IsNaN b) || BitConverter.DoubleToInt64Bits a = BitConverter.DoubleToInt64Bits b
let private sameBits32 (a: float32) (b: float32) = (Single.IsNaN a && Single.IsNaN b) || BitConverter.SingleToInt32Bits a = BitConverter.SingleToInt32Bits b

type private Kernel<'T> = { Name: string; Run: 'T[] -> 'T[] -> 'T[] -> unit; Reference: 'T -> 'T -> 'T }

/// Every kernel with its scalar definition, for the element type of `s` (the scalar operand).
let inline private kernelsWith (s: 'T) : Kernel<'T> list =
    [ { Name = "add"; Run = (fun x z y -> SpanKernels.add (ReadOnlySpan x) (ReadOnlySpan z) (Span y)); Reference = (+) }
      { Name = "subtract"; Run = (fun x z y -> SpanKernels.subtract (ReadOnlySpan x) (ReadOnlySpan z) (Span y)); Reference = (-) }
      { Name = "multiply"; Run = (fun x z y -> SpanKernels.multiply (ReadOnlySpan x) (ReadOnlySpan z) (Span y)); Reference = (*) }
      { Name = "divide"; Run = (fun x z y -> SpanKernels.divide (ReadOnlySpan x) (ReadOnlySpan z) (Span y)); Reference = (/) }
      { Name = "add scalar"; Run = (fun x _ y -> SpanKernels.addScalar (ReadOnlySpan x) s (Span y)); Reference = (fun a _ -> a + s) }
      { Name = "subtract scalar"; Run = (fun x _ y -> SpanKernels.subtractScalar (ReadOnlySpan x) s (Span y)); Reference = (fun a _ -> a - s) }
      { Name = "multiply scalar"; Run = (fun x _ y -> SpanKernels.multiplyScalar (ReadOnlySpan x) s (Span y)); Reference = (fun a _ -> a * s) }
      { Name = "divide scalar"; Run = (fun x _ y -> SpanKernels.divideScalar (ReadOnlySpan x) s (Span y)); Reference = (fun a _ -> a / s) }
      { Name = "scalar subtract"; Run = (fun x _ y -> SpanKernels.scalarSubtract s (ReadOnlySpan x) (Span y)); Reference = (fun a _ -> s - a) }
      { Name = "scalar divide"; Run = (fun x _ y -> SpanKernels.scalarDivide s (ReadOnlySpan x) (Span y)); Reference = (fun a _ -> s / a) }
      { Name = "negate"; Run = (fun x _ y -> SpanKernels.negate (ReadOnlySpan x) (Span y)); Reference = (fun a _ -> -a) } ]

let private kernels64 : Kernel<float> list = kernelsWith 0.3
let private kernels32 : Kernel<float32> list = kernelsWith 0.3f

/// Runs every kernel on x and z (into an output first filled with `fill`, so an element left
/// unwritten shows) and checks each element against its scalar definition.
let private expectLanes (kernels: Kernel<'T> list) (x: 'T[]) (z: 'T[]) (fill: 'T) (same: 'T -> 'T -> bool) =
    let n = x.Length
    for k in kernels do
        let y = Array.create n fill
        k.Run x z y
        for i in 0 .. n - 1 do
            let expected = k.Reference x.[i] z.[i]
            if not (same y.[i] expected) then
                failtestf "%s, length %d, element %d: %O and %O give %O, IEEE %O" k.Name n i x.[i] z.[i] y.[i] expected

[<Tests>]
let tests =
    testList "SpanKernels" [
        test "float64 arithmetic is IEEE's lane by lane, at every length from 0 to 70" {
            for n in 0 .. 70 do expectLanes kernels64 (values 1 n) (values 2 n) 42.0 sameBits64
        }
        test "float32 arithmetic is IEEE's lane by lane, at every length from 0 to 70" {
            for n in 0 .. 70 do expectLanes kernels32 (values 3 n |> Array.map float32) (values 4 n |> Array.map float32) 42.0f sameBits32
        }
        test "in place (the output is an input) gives the same bits" {
            let x, z = values 5 67, values 6 67
            let expected = Array.map2 (+) x z
            let y = Array.copy x
            SpanKernels.add (ReadOnlySpan y) (ReadOnlySpan z) (Span y)
            Expect.isTrue (Array.forall2 sameBits64 y expected) "x + z written over x"
        }
        test "sums stay within n·ε·Σ|x| of a float64 reference, and are exact on small integers" {
            let random = Random(9)
            for n in [ 0; 1; 7; 8; 31; 32; 33; 63; 64; 65; 1000; 1024 ] do
                let x = Array.init n (fun _ -> random.NextDouble() * 2.0 - 1.0)
                let reference = Array.sum x
                let magnitude = x |> Array.sumBy abs
                let s64 = SpanKernels.sum (ReadOnlySpan x)
                Expect.isLessThanOrEqual (abs (s64 - reference)) (float n * 1.2e-16 * magnitude + 1e-300) (sprintf "float64, %d values" n)
                let x32 = Array.map float32 x
                let reference32 = x32 |> Array.sumBy float
                let s32 = SpanKernels.sum (ReadOnlySpan x32)
                Expect.isLessThanOrEqual (abs (float s32 - reference32)) (float n * 6e-8 * magnitude + 1e-30) (sprintf "float32, %d values" n)
                let integers = Array.init n (fun i -> float32 (i % 17 - 8))
                Expect.equal (SpanKernels.sum (ReadOnlySpan integers)) (Array.sum integers) (sprintf "float32 integers, %d values" n)
            Expect.isTrue (Double.IsNaN (SpanKernels.sum (ReadOnlySpan [| 1.0; nan; 2.0 |]))) "NaN propagates"
        }
    ]
