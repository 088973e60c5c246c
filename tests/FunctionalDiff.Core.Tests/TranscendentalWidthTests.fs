/// The float32 exp, tanh, log and sigmoid slope, the float64 exp and tanh, and the sum of a float32 softmax row's terms give the same bits on Vector512 as on Vector256: the wide kernels run
/// the same IEEE operations per lane, so the width the CPU offers never changes a result (and the
/// accuracy tests of the float32 kernels hold for both).
module FunctionalDiff.Core.Tests.TranscendentalWidthTests

open System
open System.Runtime.Intrinsics
open Expecto
open FunctionalDiff.Core

/// Edges and a spread of magnitudes: zeros, subnormals, the tiny-x cut of tanh, the clamps, ±∞, NaN.
let private inputs =
    let random = Random(5)
    Array.concat [
        [| 0.0f; -0.0f; Single.Epsilon; -Single.Epsilon; 1e-40f; 1.0f / 4096.0f; 1.0f / 4095.0f; 9.02f; 10.0f; 10.5f
           88.7f; 89.0f; -103.9f; -104.0f; 200.0f; -200.0f; 1e30f; -1e30f
           Single.PositiveInfinity; Single.NegativeInfinity; Single.NaN; Single.MaxValue; Single.MinValue |]
        Array.init 5000 (fun _ -> float32 ((random.NextDouble() * 2.0 - 1.0) * Math.Pow(10.0, random.NextDouble() * 8.0 - 6.0)))
        Array.init 3000 (fun _ -> float32 (random.NextDouble() * 40.0 - 20.0)) ]

let private sameBits (name: string) (wide: float32[] -> float32[] -> unit) (narrow: float32[] -> float32[] -> unit) =
    // every length up to 40 (the tails), then all the inputs at once
    for length in [ yield! [ 1 .. 40 ]; inputs.Length ] do
        let x = inputs.[.. length - 1]
        let a, b = Array.zeroCreate<float32> length, Array.zeroCreate<float32> length
        wide x a
        narrow x b
        for i in 0 .. length - 1 do
            if BitConverter.SingleToInt32Bits a.[i] <> BitConverter.SingleToInt32Bits b.[i] then
                failtestf "%s(%g) over %d elements: %g on Vector512, %g on Vector256" name x.[i] length a.[i] b.[i]

/// float64 inputs inside tanh's kernel domain |x| ≤ 20: zeros, subnormals, the ends, and a spread.
let private inputs64 =
    let random = Random(6)
    Array.concat [
        [| 0.0; -0.0; Double.Epsilon; -Double.Epsilon; 1e-300; 1e-17; -1e-9; 0.5; 1.0; 18.0; 19.999; 20.0; -20.0 |]
        Array.init 5003 (fun _ -> (random.NextDouble() * 2.0 - 1.0) * Math.Pow(10.0, random.NextDouble() * 10.0 - 9.0))
        Array.init 3000 (fun _ -> random.NextDouble() * 40.0 - 20.0) ]

/// The float64 kernels take lengths that are multiples of 8 (Elementwise pads to them).
let private sameBits64 (name: string) (wide: float[] -> float[] -> unit) (narrow: float[] -> float[] -> unit) =
    for length in [ 8; 16; 24; 32; 40; inputs64.Length &&& ~~~7 ] do
        let x = inputs64.[.. length - 1]
        let a, b = Array.zeroCreate<float> length, Array.zeroCreate<float> length
        wide x a
        narrow x b
        for i in 0 .. length - 1 do
            if BitConverter.DoubleToInt64Bits a.[i] <> BitConverter.DoubleToInt64Bits b.[i] then
                failtestf "%s(%g) over %d elements: %.17g on Vector512, %.17g on Vector256" name x.[i] length a.[i] b.[i]

/// A softmax row kernel's sum and terms at both widths (and its sum without the terms, an empty
/// array): the same bits everywhere, or the test fails naming the row; returns the Vector512 sum
/// and terms.
let private sameRowBits (length: int) (wide: float[] -> float) (narrow: float[] -> float) =
    let termsA, termsB = Array.zeroCreate<float> length, Array.zeroCreate<float> length
    let sumA, sumB, withoutTerms = wide termsA, narrow termsB, narrow [||]
    if BitConverter.DoubleToInt64Bits sumA <> BitConverter.DoubleToInt64Bits sumB
       || BitConverter.DoubleToInt64Bits sumA <> BitConverter.DoubleToInt64Bits withoutTerms then
        failtestf "row of %d: sum %.17g on Vector512, %.17g on Vector256, %.17g without the terms" length sumA sumB withoutTerms
    for i in 0 .. length - 1 do
        if BitConverter.DoubleToInt64Bits termsA.[i] <> BitConverter.DoubleToInt64Bits termsB.[i] then
            failtestf "row of %d, term %d: %.17g on Vector512, %.17g on Vector256" length i termsA.[i] termsB.[i]
    sumA, termsA

[<Tests>]
let tests =
    testList "TranscendentalWidth" [
        testCase "float32 exp: Vector512 gives Vector256's bits" <| fun () ->
            sameBits "exp" (fun x y -> Transcendental.exp32By512 (ReadOnlySpan<float32> x) (Span<float32> y)) (fun x y -> Transcendental.exp32By256 (ReadOnlySpan<float32> x) (Span<float32> y))
        testCase "float32 tanh: Vector512 gives Vector256's bits" <| fun () ->
            sameBits "tanh" (fun x y -> Transcendental.tanh32By512 (ReadOnlySpan<float32> x) (Span<float32> y)) (fun x y -> Transcendental.tanh32By256 (ReadOnlySpan<float32> x) (Span<float32> y))
        testCase "float32 log: Vector512 gives Vector256's bits" <| fun () ->
            // the inputs' magnitudes (log's domain), and the inputs themselves (zeros, negatives, ∞ and NaN)
            for magnitudes in [ true; false ] do
                let prepare (x: float32[]) = if magnitudes then Array.map abs x else x
                sameBits "log" (fun x y -> Transcendental.log32By512 (ReadOnlySpan<float32>(prepare x)) (Span<float32> y)) (fun x y -> Transcendental.log32By256 (ReadOnlySpan<float32>(prepare x)) (Span<float32> y))
        testCase "float32 sigmoid slope: Vector512 gives Vector256's bits" <| fun () ->
            sameBits "sigmoid slope" (fun x y -> Transcendental.sigmoidSlope32By512 (ReadOnlySpan<float32> x) (Span<float32> y)) (fun x y -> Transcendental.sigmoidSlope32By256 (ReadOnlySpan<float32> x) (Span<float32> y))
        testCase "float64 tanh: Vector512 gives Vector256's bits" <| fun () ->
            sameBits64 "tanh" (fun x y -> Transcendental.tanhBy512 (ReadOnlySpan<float> x) (Span<float> y)) (fun x y -> Transcendental.tanhBy256 (ReadOnlySpan<float> x) (Span<float> y))
        testCase "float64 tanh just below saturation rounds to the double below 1, not to 1" <| fun () ->
            // tanh x = 1 − q with q = 2/(e^{2x} + 1) ≈ 2e^{−2x} (to 1e-16 of q); the doubles below 1 are 2⁻⁵³ apart, so the
            // nearest is 1 − k·2⁻⁵³ with k = q·2⁵³ rounded: x = 18.6, 18.75 and 18.9 (q·2⁵³ = 1.26, 0.93, 0.69: 1 − 2⁻⁵³),
            // 18.45 (1.69: 1 − 2⁻⁵²) and 19.2 (0.38: 1), none near a tie. No library tanh is the reference.
            let points = [| 18.6; 18.9; -18.6; -18.9; 19.2; -19.2; 18.75; 18.45 |]
            let expected =
                points |> Array.map (fun x ->
                    let k = Math.Round(2.0 * Math.Exp(-2.0 * abs x) * Math.Pow(2.0, 53.0))
                    let magnitude = 1.0 - k * Math.Pow(2.0, -53.0)
                    if x < 0.0 then -magnitude else magnitude)
            for kernel, name in [ (fun (x: float[]) (y: float[]) -> Transcendental.tanhBy512 (ReadOnlySpan<float> x) (Span<float> y)), "Vector512"
                                  (fun x y -> Transcendental.tanhBy256 (ReadOnlySpan<float> x) (Span<float> y)), "Vector256" ] do
                let y = Array.zeroCreate<float> points.Length
                kernel points y
                for i in 0 .. points.Length - 1 do
                    if y.[i] <> expected.[i] then failtestf "%s tanh(%g) = %.17g, expected %.17g" name points.[i] y.[i] expected.[i]
        testCase "float64 tanh past saturation: both widths give Math.Tanh's ±1, and so does the op over such blocks" <| fun () ->
            // tanh x rounds to ±1 from |x| ≈ 19.06 on; the kernels hold |x| at 20 (e^{2|x|} overflows past
            // 354), so the op need not leave a block holding a saturated entry to System.Math
            let saturated = [| 20.0; 20.000001; -20.5; 25.0; 354.0; -355.0; 710.0; 1e10; -1e300; Double.MaxValue; Double.PositiveInfinity; Double.NegativeInfinity; 19.5; -19.1; 30.0; 1e5 |]
            for kernel, name in [ (fun (x: float[]) (y: float[]) -> Transcendental.tanhBy512 (ReadOnlySpan<float> x) (Span<float> y)), "Vector512"
                                  (fun x y -> Transcendental.tanhBy256 (ReadOnlySpan<float> x) (Span<float> y)), "Vector256" ] do
                let y = Array.zeroCreate<float> saturated.Length
                kernel saturated y
                for i in 0 .. saturated.Length - 1 do
                    if BitConverter.DoubleToInt64Bits y.[i] <> BitConverter.DoubleToInt64Bits (Math.Tanh saturated.[i]) then
                        failtestf "%s tanh(%g) = %.17g, Math.Tanh gives %.17g" name saturated.[i] y.[i] (Math.Tanh saturated.[i])
            // the op: rows of a pre-activation where some entries saturate, zeros and NaN beside them
            let random = Random(8)
            let values = Array.init 4096 (fun i -> if i % 97 = 0 then 0.0 elif i % 389 = 0 then nan else (random.NextDouble() * 2.0 - 1.0) * 40.0)
            let result = (Eval.eval (Expr.tanh (Expr.constant (Tensor.FromArray(values, [| 8; 512 |]))))).ToDoubleArray()
            for i in 0 .. values.Length - 1 do
                let v, expected = values.[i], Math.Tanh values.[i]
                // saturated entries, zeros (with their sign) and NaN exactly; the rest within the kernel's few ulp
                let exact = abs v > 20.0 || v = 0.0 || Double.IsNaN v
                if exact && BitConverter.DoubleToInt64Bits result.[i] <> BitConverter.DoubleToInt64Bits expected then
                    failtestf "tanh(%.17g) = %.17g, Math.Tanh gives %.17g" v result.[i] expected
                if not exact && abs (result.[i] - expected) > 4e-16 * abs expected then
                    failtestf "tanh(%.17g) = %.17g, Math.Tanh gives %.17g" v result.[i] expected
        testCase "a float32 softmax row's terms and their sum: Vector512 gives Vector256's bits, and both are e^(x − max) to 3e-10" <| fun () ->
            // rows of every length up to 40 (the tails) and a long one, with their maximum, an infinite one and a NaN one
            let random = Random(7)
            let rows =
                [ for length in [ yield! [ 1 .. 40 ]; 1000 ] ->
                      Array.init length (fun _ -> float32 (random.NextDouble() * 60.0 - 40.0))
                  yield Array.append (Array.init 20 (fun k -> float32 (-3 * k))) [| -250.0f; Single.NegativeInfinity |]
                  yield [| 1.0f; Single.PositiveInfinity; 2.0f |]
                  yield [| 1.0f; Single.NaN; 2.0f |] ]
            for row in rows do
                let m = row |> Array.fold (fun m v -> if Single.IsNaN v || Single.IsNaN m then Single.NaN else max m v) Single.NegativeInfinity |> float
                let sumA, termsA =
                    sameRowBits row.Length (fun t -> Transcendental.expShiftedSum32By512 (ReadOnlySpan<float32> row) m (Span<float> t))
                                           (fun t -> Transcendental.expShiftedSum32By256 (ReadOnlySpan<float32> row) m (Span<float> t))
                let expected = row |> Array.map (fun v -> Math.Exp(float v - m))
                if Double.IsFinite m then
                    for i in 0 .. row.Length - 1 do
                        // below e^-200 the term is e^-200 (its float32 share rounds to 0 either way)
                        let reference = max expected.[i] (Math.Exp -200.0)
                        if abs (termsA.[i] - reference) > 3e-10 * reference then
                            failtestf "row of %d, e^(%g - %g): %.17g, Math.Exp %.17g" row.Length row.[i] m termsA.[i] reference
                    let total = Array.sum expected
                    if abs (sumA - total) > 3e-10 * total then failtestf "row of %d: sum %.17g, reference %.17g" row.Length sumA total
                else
                    Expect.isTrue (Double.IsNaN sumA) (sprintf "a row whose maximum is %g sums to NaN" m)
        testCase "e^x for float32 results from float64 values: Vector512 gives Vector256's bits, within 3e-10 of e^x, held at ±200" <| fun () ->
            let random = Random(8)
            let x =
                Array.concat [
                    [| 0.0; -0.0; 1e-300; -1e-17; 199.9; 200.0; 201.0; -200.0; -201.0; -1600.0; 1e300
                       Double.PositiveInfinity; Double.NegativeInfinity; Double.NaN |]
                    Array.init 3001 (fun _ -> random.NextDouble() * 420.0 - 210.0) ]
            for length in [ yield! [ 1 .. 20 ]; x.Length ] do
                let input = x.[.. length - 1]
                let a, b = Array.zeroCreate<float> length, Array.zeroCreate<float> length
                Transcendental.expFor32By512 (ReadOnlySpan<float> input) (Span<float> a)
                Transcendental.expFor32By256 (ReadOnlySpan<float> input) (Span<float> b)
                for i in 0 .. length - 1 do
                    if BitConverter.DoubleToInt64Bits a.[i] <> BitConverter.DoubleToInt64Bits b.[i] then
                        failtestf "e^%g over %d: %.17g on Vector512, %.17g on Vector256" input.[i] length a.[i] b.[i]
                    let expected = Math.Exp(if Double.IsNaN input.[i] then input.[i] else max -200.0 (min 200.0 input.[i]))
                    let ok = if Double.IsNaN expected then Double.IsNaN a.[i] else abs (a.[i] - expected) <= 3e-10 * expected
                    if not ok then failtestf "e^%g: %.17g, Math.Exp of the held value %.17g" input.[i] a.[i] expected
        testCase "a float64 softmax row's terms and their sum: Vector512 gives Vector256's bits, each term Math.Exp's to 4e-16, past the kernel's domain too" <| fun () ->
            let random = Random(9)
            let rows =
                [ for length in [ yield! [ 1 .. 20 ]; 1000 ] ->
                      Array.init length (fun _ -> random.NextDouble() * 1600.0 - 1500.0)
                  yield [| 0.0; -699.9; -700.1; -745.0; -746.0; -1000.0; Double.NegativeInfinity; -3.0; -5.0 |]
                  yield [| 1.0; Double.PositiveInfinity; 2.0 |]
                  yield [| 1.0; Double.NaN; 2.0; 3.0; 4.0; 5.0; 6.0; 7.0; 8.0 |] ]
            for row in rows do
                let m = row |> Array.fold (fun m v -> if Double.IsNaN v || Double.IsNaN m then Double.NaN else max m v) Double.NegativeInfinity
                let sumA, termsA =
                    sameRowBits row.Length (fun t -> Transcendental.expShiftedSum64By512 (ReadOnlySpan<float> row) m (Span<float> t))
                                           (fun t -> Transcendental.expShiftedSum64By256 (ReadOnlySpan<float> row) m (Span<float> t))
                if Double.IsFinite m then
                    let expected = row |> Array.map (fun v -> Math.Exp(v - m))
                    for i in 0 .. row.Length - 1 do
                        // subnormal terms (x − m below -708) are Math.Exp's own
                        if abs (termsA.[i] - expected.[i]) > 4e-16 * expected.[i] then
                            failtestf "row of %d, e^(%g - %g): %.17g, Math.Exp %.17g" row.Length row.[i] m termsA.[i] expected.[i]
                    let total = Array.sum expected
                    if abs (sumA - total) > 1e-15 * total then failtestf "row of %d: sum %.17g, reference %.17g" row.Length sumA total
                else
                    Expect.isTrue (Double.IsNaN sumA) (sprintf "a row whose maximum is %g sums to NaN" m)
        testCase "float64 exp: Vector512 gives Vector256's bits, up to the ends of its domain |x| ≤ 708" <| fun () ->
            // the exp kernel's domain is wider than tanh's: the same inputs scaled out to ±708, and the ends
            let wide = Array.append [| 708.0; -708.0; 707.9; -707.9; 354.0; -1e-300 |] (inputs64 |> Array.map (fun v -> v * 35.0))
            let x = wide.[.. (wide.Length &&& ~~~7) - 1]
            let a, b = Array.zeroCreate<float> x.Length, Array.zeroCreate<float> x.Length
            Transcendental.expBy512 (ReadOnlySpan<float> x) (Span<float> a)
            Transcendental.expBy256 (ReadOnlySpan<float> x) (Span<float> b)
            for i in 0 .. x.Length - 1 do
                if BitConverter.DoubleToInt64Bits a.[i] <> BitConverter.DoubleToInt64Bits b.[i] then
                    failtestf "exp(%g): %.17g on Vector512, %.17g on Vector256" x.[i] a.[i] b.[i]
            // and both are e^x to within a few ulps (Math.Exp as the reference)
            for i in 0 .. x.Length - 1 do
                let expected = Math.Exp x.[i]
                if abs (a.[i] - expected) > 4e-16 * expected then failtestf "exp(%g): %.17g, Math.Exp %.17g" x.[i] a.[i] expected
    ]
