/// Specifications of the float32 exp, log, tanh and sigmoid kernels (Transcendental's float32
/// path): within an ulp of the float64 reference rounded once, over a dense sweep that crosses
/// every branch and range-reduction boundary, exact and correctly signed at the edges, and the
/// same bits whatever an element's position in its array.
module FunctionalDiff.Core.Tests.Float32TranscendentalTests

open System
open Expecto
open FunctionalDiff.Core

/// The float64 references, from System.Math: each is within a few float64 ulps, far below the
/// float32 ulp the kernels are held to.
let private cases : (UnaryOp * (float -> float)) list =
    [ UnaryOp.Exp, Math.Exp
      UnaryOp.Log, Math.Log
      UnaryOp.Tanh, Math.Tanh
      UnaryOp.Sigmoid, (fun x -> 1.0 / (1.0 + Math.Exp(-x))) ]

/// Distance in float32 ulps from the float64 reference rounded to float32 (the ulp of the
/// rounded reference); 0 when both are the same infinity or both NaN, infinity when only one is.
let private ulps (actual: float32) (expected: float) =
    let target = float32 expected
    if Single.IsNaN target || Single.IsNaN actual then (if Single.IsNaN target && Single.IsNaN actual then 0.0 else infinity)
    elif Single.IsInfinity target || Single.IsInfinity actual then (if target = actual then 0.0 else infinity)
    else abs (float actual - float target) / float (MathF.BitIncrement(abs target) - abs target)

/// Inputs: log-uniform magnitudes from 1e-45 to 1e38 of both signs, a fine grid over [-110, 110]
/// (exp's overflow at 88.7 and underflow to subnormals and 0 from -87.3 to -104, tanh's ±1 from
/// 9.02, the reduction's ±ln2/2 steps), the neighbourhood of tanh's 2^-12, and the specials.
let internal sweep =
    let random = Random(1913)
    let logUniform = Array.init 20000 (fun i -> (if i % 2 = 0 then 1.0f else -1.0f) * float32 (Math.Pow(10.0, 83.0 * random.NextDouble() - 45.0)))
    let grid = Array.init 44001 (fun i -> float32 (-110.0 + float i * 0.005))
    let nearTiny = Array.init 400 (fun i -> float32 (Math.Pow(2.0, -12.0) * (0.9 + 0.0005 * float i)))
    let specials =
        [| 0.0f; -0.0f; 1.0f; -1.0f; Single.Epsilon; -Single.Epsilon; 1.1754942e-38f; Single.MaxValue; -Single.MaxValue
           Single.PositiveInfinity; Single.NegativeInfinity; Single.NaN; 88.72283f; 88.72284f; -87.33654f; -103.97208f; -103.97209f |]
    Array.concat [ logUniform; grid; nearTiny; Array.map (~-) nearTiny; specials ]

/// Every 1021st float32 bit pattern (both signs, from the subnormals through ±∞ to the NaNs), and
/// every 13th pattern where the kernels change regime: exp's (and sigmoid's) subnormal and
/// overflow ends, tanh's switch from its series to its quotient at 0.8, and its approach to ±1;
/// log's reduction steps at √½ and √2, and the subnormals' scaling below 2^-126; every 3rd pattern
/// where log x is near 0 (x near 1, where the result's ulp is smallest).
let internal bitSweep =
    let patterns (first: float32) (last: float32) (step: int) =
        let a, b = BitConverter.SingleToInt32Bits first, BitConverter.SingleToInt32Bits last
        [| for bits in a .. step .. b -> BitConverter.Int32BitsToSingle bits |]
    let whole = [| for k in 0L .. 1021L .. 0xFFFFFFFFL -> BitConverter.Int32BitsToSingle(int (uint32 k)) |]
    let regimes = Array.concat [ patterns 86.0f 90.0f 13; patterns 0.7f 0.9f 13; patterns 8.0f 10.0f 13 ]
    let logRegimes = Array.concat [ patterns 1.40f 1.43f 13; patterns 1.1e-38f 1.3e-38f 13; patterns 0.999f 1.001f 3 ]
    Array.concat [ whole; regimes; Array.map (~-) regimes; Array.map (~-) (patterns 90.0f 106.0f 13); logRegimes ]

let internal unary32 (op: UnaryOp) (values: float32[]) =
    (Elementwise.unary op (Tensor.FromArray(values, [| values.Length |]))).ToSingleArray()

/// Fails unless every float32 result of `op` over `values` is within 1 ulp of `f` (float64) rounded once; prints
/// the first five that are not.
let internal expectWithinOneUlp (op: UnaryOp) (f: float -> float) (values: float32[]) =
    let actual = unary32 op values
    let mutable failures = 0
    for i in 0 .. values.Length - 1 do
        if ulps actual.[i] (f (float values.[i])) > 1.0 then
            failures <- failures + 1
            if failures <= 5 then
                printfn "%A at %.9g: %.9g, float64 reference %.17g" op values.[i] actual.[i] (f (float values.[i]))
    Expect.equal failures 0 (sprintf "%A: results more than 1 ulp from the float64 reference rounded, of %d" op values.Length)

[<Tests>]
let tests =
    testList "Tensor.Float32Transcendental" [
        test "exp, log, tanh and sigmoid are within 1 ulp of the float64 reference rounded once, over the sweep" {
            for op, f in cases do
                let actual = unary32 op sweep
                for i in 0 .. sweep.Length - 1 do
                    let expected = f (float sweep.[i])
                    let distance = ulps actual.[i] expected
                    if distance > 1.0 then
                        failtestf "%A at %.9g: %.9g, float64 reference %.17g (%g ulp)" op sweep.[i] actual.[i] expected distance
        }

        test "exp, log, tanh and sigmoid are within 1 ulp of the float64 reference rounded once, over float32's bit patterns" {
            for op, f in cases do
                expectWithinOneUlp op f bitSweep
        }

        test "tanh is odd to the bit, and exp, tanh, log and sigmoid of each swept pattern are their one-element results, in runs of every length up to 40" {
            let bitsOf (x: float32) = BitConverter.SingleToInt32Bits x
            let positive = bitSweep |> Array.filter (fun x -> x > 0.0f)
            let up, down = unary32 UnaryOp.Tanh positive, unary32 UnaryOp.Tanh (Array.map (~-) positive)
            for i in 0 .. positive.Length - 1 do
                if bitsOf down.[i] <> bitsOf -up.[i] then
                    failtestf "tanh(%.9g) = %.9g, tanh(%.9g) = %.9g" positive.[i] up.[i] -positive.[i] down.[i]
            for op in [ UnaryOp.Exp; UnaryOp.Tanh; UnaryOp.Log; UnaryOp.Sigmoid ] do
                let whole = unary32 op bitSweep
                for i in 0 .. 257 .. bitSweep.Length - 1 do
                    let alone = (unary32 op [| bitSweep.[i] |]).[0]
                    if bitsOf alone <> bitsOf whole.[i] && not (Single.IsNaN alone && Single.IsNaN whole.[i]) then
                        failtestf "%A alone at %.9g: %.9g, in the run %.9g" op bitSweep.[i] alone whole.[i]
                // runs of 1 to 40 elements: the tail vector's lanes beside the standIn
                for length in 1 .. 40 do
                    let start = (length * 7919) % (bitSweep.Length - length)
                    let part = unary32 op bitSweep.[start .. start + length - 1]
                    for k in 0 .. length - 1 do
                        if bitsOf part.[k] <> bitsOf whole.[start + k] && not (Single.IsNaN part.[k] && Single.IsNaN whole.[start + k]) then
                            failtestf "%A at %.9g in a run of %d: %.9g, in the long run %.9g" op bitSweep.[start + k] length part.[k] whole.[start + k]
        }

        test "exact values and signs at the edges" {
            let bitsOf (x: float32) = BitConverter.SingleToInt32Bits x
            let check op (x: float32) (expected: float32) =
                for length in [ 1; 7; 8; 9; 33 ] do
                    for v in unary32 op (Array.create length x) do
                        if bitsOf v <> bitsOf expected && not (Single.IsNaN v && Single.IsNaN expected) then
                            failtestf "%A(%g) over %d elements: %.9g, expected %.9g" op x length v expected
            check UnaryOp.Exp 0.0f 1.0f
            check UnaryOp.Exp -0.0f 1.0f
            check UnaryOp.Exp Single.PositiveInfinity Single.PositiveInfinity
            check UnaryOp.Exp Single.NegativeInfinity 0.0f
            check UnaryOp.Exp Single.NaN Single.NaN
            check UnaryOp.Exp 100.0f Single.PositiveInfinity
            check UnaryOp.Exp -200.0f 0.0f
            check UnaryOp.Exp -110.0f 0.0f
            check UnaryOp.Exp 88.8f Single.PositiveInfinity
            check UnaryOp.Exp Single.MaxValue Single.PositiveInfinity
            check UnaryOp.Exp Single.MinValue 0.0f
            check UnaryOp.Exp Single.Epsilon 1.0f
            check UnaryOp.Exp -Single.Epsilon 1.0f
            check UnaryOp.Log 1.0f 0.0f
            check UnaryOp.Log 0.0f Single.NegativeInfinity
            check UnaryOp.Log -0.0f Single.NegativeInfinity
            check UnaryOp.Log -1.0f Single.NaN
            check UnaryOp.Log Single.PositiveInfinity Single.PositiveInfinity
            check UnaryOp.Log Single.NegativeInfinity Single.NaN
            check UnaryOp.Log Single.NaN Single.NaN
            check UnaryOp.Log -Single.Epsilon Single.NaN
            check UnaryOp.Log Single.MinValue Single.NaN
            check UnaryOp.Log Single.Epsilon (float32 (Math.Log(float Single.Epsilon)))
            check UnaryOp.Log 2.0f (float32 (Math.Log 2.0))
            check UnaryOp.Log 0.5f (float32 (Math.Log 0.5))
            check UnaryOp.Tanh 0.0f 0.0f
            check UnaryOp.Tanh -0.0f -0.0f
            check UnaryOp.Tanh Single.Epsilon Single.Epsilon
            check UnaryOp.Tanh -1e-30f -1e-30f
            check UnaryOp.Tanh Single.PositiveInfinity 1.0f
            check UnaryOp.Tanh Single.NegativeInfinity -1.0f
            check UnaryOp.Tanh 9.1f 1.0f
            check UnaryOp.Tanh -50.0f -1.0f
            check UnaryOp.Tanh Single.MaxValue 1.0f
            check UnaryOp.Tanh Single.MinValue -1.0f
            check UnaryOp.Tanh Single.NaN Single.NaN
            check UnaryOp.Sigmoid 0.0f 0.5f
            check UnaryOp.Sigmoid Single.PositiveInfinity 1.0f
            check UnaryOp.Sigmoid Single.NegativeInfinity 0.0f
            check UnaryOp.Sigmoid Single.NaN Single.NaN
            check UnaryOp.Sigmoid -0.0f 0.5f
            check UnaryOp.Sigmoid Single.Epsilon 0.5f
            check UnaryOp.Sigmoid 20.0f 1.0f
            check UnaryOp.Sigmoid Single.MaxValue 1.0f
            check UnaryOp.Sigmoid -110.0f 0.0f
            check UnaryOp.Sigmoid Single.MinValue 0.0f
        }

        test "a result depends on its value only: alone, shifted by 1 to 9 elements, and in the long run" {
            for op, _ in cases do
                let whole = unary32 op sweep
                for shift in 1 .. 9 do
                    let shifted = unary32 op (Array.append (Array.create shift 0.5f) sweep)
                    for i in 0 .. sweep.Length - 1 do
                        if BitConverter.SingleToInt32Bits shifted.[i + shift] <> BitConverter.SingleToInt32Bits whole.[i] then
                            failtestf "%A shifted by %d, element %d (%g): %.9g, unshifted %.9g" op shift i sweep.[i] shifted.[i + shift] whole.[i]
                for i in 0 .. 101 .. sweep.Length - 1 do
                    let alone = (unary32 op [| sweep.[i] |]).[0]
                    if BitConverter.SingleToInt32Bits alone <> BitConverter.SingleToInt32Bits whole.[i] then
                        failtestf "%A alone at %g: %.9g, in the run %.9g" op sweep.[i] alone whole.[i]
        }
    ]
