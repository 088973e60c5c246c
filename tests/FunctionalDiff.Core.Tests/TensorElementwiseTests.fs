/// Specifications of the elementwise kernels: every op against System.Math on every kind of view,
/// broadcasting against an explicit index loop, and the special functions against series.
module FunctionalDiff.Core.Tests.TensorElementwiseTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.TensorTestSupport

/// Each unary op with its System.Math reference and the input range it is tested on.
let unaryCases : (UnaryOp * (float -> float) * float * float) list =
    [ UnaryOp.Neg, (fun x -> -x), -2.0, 2.0
      UnaryOp.Exp, Math.Exp, -3.0, 3.0
      UnaryOp.Log, Math.Log, 0.1, 5.0
      UnaryOp.Log1p, (fun x -> Math.Log(1.0 + x)), 0.5, 4.0
      UnaryOp.Expm1, (fun x -> Math.Exp x - 1.0), 0.5, 3.0
      UnaryOp.Sin, Math.Sin, -3.0, 3.0
      UnaryOp.Cos, Math.Cos, -1.5, 1.5
      UnaryOp.Tan, Math.Tan, -1.2, 1.2
      UnaryOp.Tanh, Math.Tanh, -3.0, 3.0
      UnaryOp.Sigmoid, (fun x -> 1.0 / (1.0 + Math.Exp(-x))), -6.0, 6.0
      UnaryOp.Relu, (fun x -> Math.Max(x, 0.0)), -2.0, 2.0
      UnaryOp.Abs, Math.Abs, -2.0, 2.0
      UnaryOp.Sign, (fun x -> float (Math.Sign x)), -2.0, 2.0
      UnaryOp.Sqrt, Math.Sqrt, 0.1, 5.0
      UnaryOp.Rsqrt, (fun x -> 1.0 / Math.Sqrt x), 0.1, 5.0
      UnaryOp.Square, (fun x -> x * x), -2.0, 2.0
      UnaryOp.Reciprocal, (fun x -> 1.0 / x), 0.1, 5.0
      UnaryOp.Floor, Math.Floor, -3.0, 3.0
      UnaryOp.Ceil, Math.Ceiling, -3.0, 3.0
      UnaryOp.Round, (fun x -> Math.Round(x, MidpointRounding.ToEven)), -3.0, 3.0 ]

/// Each binary op with its scalar reference.
let binaryCases : (BinaryOp * (float -> float -> float)) list =
    let mask b = if b then 1.0 else 0.0
    [ BinaryOp.Add, (+)
      BinaryOp.Sub, (-)
      BinaryOp.Mul, (*)
      BinaryOp.Div, (/)
      BinaryOp.Pow, (fun a b -> Math.Pow(a, b))
      BinaryOp.Maximum, (fun a b -> Math.Max(a, b))
      BinaryOp.Minimum, (fun a b -> Math.Min(a, b))
      BinaryOp.Atan2, (fun a b -> Math.Atan2(a, b))
      BinaryOp.Less, (fun a b -> mask (a < b))
      BinaryOp.LessEqual, (fun a b -> mask (a <= b))
      BinaryOp.Greater, (fun a b -> mask (a > b))
      BinaryOp.GreaterEqual, (fun a b -> mask (a >= b))
      BinaryOp.Equal, (fun a b -> mask (a = b))
      BinaryOp.NotEqual, (fun a b -> mask (a <> b))
      // C's fmod from the IEEE remainder (quotient rounded to nearest, exact): moved by |b| toward a's
      // sign when it has the other sign; the sum is exact because fmod's result is representable
      BinaryOp.Fmod, (fun a b ->
                        let r = Math.IEEERemainder(a, b)
                        if r <> 0.0 && (r < 0.0) <> (a < 0.0) then r + float (sign a) * abs b else r) ]

/// Shape pairs covering equal shapes, trailing and leading size-1 dimensions, rank 0 on either
/// side, rank mismatch, and zero-size dimensions.
let broadcastPairs : (int[] * int[]) list =
    [ [| 3; 4 |], [| 3; 4 |]; [| 3; 4 |], [| 4 |]; [| 3; 1 |], [| 1; 4 |]; [||], [| 2; 3 |]; [| 2; 3 |], [||]
      [||], [||]; [| 2; 1; 3 |], [| 4; 1 |]; [| 5; 1; 1; 3 |], [| 1; 4; 2; 1 |]; [| 0; 3 |], [| 1; 3 |]
      [| 2; 0 |], [| 2; 1 |]; [| 1 |], [| 0 |]; [| 4; 1 |], [| 1 |] ]

/// Tolerances against a float64 System.Math reference: float64 kernels may use vectorised
/// approximations a few ulps from Math (1e-13 allows ~500 ulps of slack at no risk of hiding a
/// wrong formula); float32 results are rounded float32 computations, about 1e-7 relative, and
/// values near zero (sin near 0) need the absolute term.
let tolerance (dtype: DType) = if dtype = DType.Float64 then 1e-13, 1e-15 else 2e-6, 1e-6

/// erf by its Maclaurin series Σ (-1)ⁿ x^{2n+1}/(n!(2n+1)) in System.Decimal (28 digits),
/// so the cancellation for |x| ≤ 3 (about 4 digits) leaves more than double precision.
let erfBySeries (x: float) =
    // decimal cannot hold |x| < 1e-28; there erf x = 2x/√π, as the next term is x² ≈ 1e-56 smaller
    if abs x < 1e-20 then 1.1283791670955126 * x
    else
        let x = decimal x
        let square = x * x
        let mutable term = x
        let mutable sum = x
        let mutable n = 0
        while n < 200 && abs term > 1e-27m do
            n <- n + 1
            term <- -term * square / decimal n
            sum <- sum + term / decimal (2 * n + 1)
        float (sum * 1.1283791670955125738961589031m)

/// erfc by Simpson's rule on 2/√π ∫ₓ^{x+10} e^{-t²} dt (the rest is below e^{-100}).
let erfcByQuadrature (x: float) =
    let steps = 20000
    let h = 10.0 / float steps
    let f t = Math.Exp(-t * t)
    let mutable sum = f x + f (x + 10.0)
    for i in 1 .. steps - 1 do
        sum <- sum + (if i % 2 = 1 then 4.0 else 2.0) * f (x + float i * h)
    sum * h / 3.0 * 2.0 / Math.Sqrt Math.PI

let tests =
    testList "Elementwise" [
        test "every unary op matches System.Math on dense data and on every kind of view" {
            for op, reference, low, high in unaryCases do
                for dtype in dtypes do
                    for shape in [ [| 3; 4 |]; [| 2; 3; 2 |]; [||]; [| 0; 3 |]; [| 40000 |] ] do
                        let values = randomValues 7 low high (Array.fold (*) 1 shape)
                        for name, input in variants dtype shape values do
                            let relative, absolute = tolerance dtype
                            let actual = Elementwise.unary op input
                            Expect.equal actual.Shape shape "shape"
                            Expect.equal actual.DType dtype "dtype"
                            expectClose relative absolute (read input |> Array.map reference) (read actual)
                                (sprintf "%A %A %A %s" op dtype shape name)
        }
        test "erf matches its Maclaurin series to 2e-15 relative below 3 and quadrature above" {
            // 2e-15 ≈ 9 ulps: exp(-x²), the series and the final product each round a few times
            let grid = [ for i in -300 .. 300 -> float i * 0.01 ] @ [ 1e-300; 1e-10; -1e-5; 0.0 ]
            let tensor = Tensor.ofArray64 [| grid.Length |] (Array.ofList grid)
            let actual = (Elementwise.unary UnaryOp.Erf tensor).ToDoubleArray()
            expectClose 2e-15 0.0 (grid |> List.map erfBySeries |> Array.ofList) actual "erf below 3"
            let tail = [ 3.0; 3.5; 4.0; 5.0; 6.0; 7.5; 30.0 ]
            let tailActual = (Elementwise.unary UnaryOp.Erf (Tensor.ofArray64 [| tail.Length |] (Array.ofList (tail |> List.map (~-))))).ToDoubleArray()
            expectClose 2e-16 0.0 (tail |> List.map (fun x -> -(1.0 - erfcByQuadrature x)) |> Array.ofList) tailActual "erf above 3 (odd)"
            // float32 is the float64 value rounded once: within half an ulp, 6e-8 relative
            let actual32 = (Elementwise.unary UnaryOp.Erf (Tensor.ofArray32 [| grid.Length |] (grid |> List.map float32 |> Array.ofList))).ToDoubleArray()
            let expected32 = grid |> List.map (fun x -> erfBySeries (float (float32 x))) |> Array.ofList
            expectClose 6.1e-8 1e-45 expected32 actual32 "erf float32"
        }
        test "sigmoid is exact at ±1000 and accurate far in the tails, in both dtypes" {
            for dtype in dtypes do
                let input = tensorOf dtype [| 4 |] [| -1000.0; 1000.0; -40.0; 40.0 |]
                let actual = read (Elementwise.unary UnaryOp.Sigmoid input)
                Expect.equal actual.[0] 0.0 "sigmoid(-1000)"
                Expect.equal actual.[1] 1.0 "sigmoid(1000)"
                // e^{-40}/(1+e^{-40}) has no cancellation: the reference is accurate to an ulp
                let relative = if dtype = DType.Float64 then 1e-14 else 2e-6
                expectClose relative 0.0 [| Math.Exp(-40.0) / (1.0 + Math.Exp(-40.0)) |] [| actual.[2] |] "sigmoid(-40)"
        }
        test "log1p and expm1 near 0 match their Taylor series to 1e-15 relative" {
            let points = [| 1e-3; -1e-3; 1e-8; -1e-10; 1e-15; 1e-300; 3e-5 |]
            // eight terms: the first omitted is x⁹/9 ≤ 1.2e-28, far below double precision of x
            let log1pSeries x = List.sum [ for k in 1 .. 8 -> (if k % 2 = 1 then 1.0 else -1.0) * Math.Pow(x, float k) / float k ]
            let expm1Series x = List.sum [ for k in 1 .. 8 -> Math.Pow(x, float k) / Seq.fold (*) 1.0 [ 1.0 .. float k ] ]
            let input = Tensor.ofArray64 [| points.Length |] points
            expectClose 1e-15 0.0 (Array.map log1pSeries points) ((Elementwise.unary UnaryOp.Log1p input).ToDoubleArray()) "log1p"
            expectClose 1e-15 0.0 (Array.map expm1Series points) ((Elementwise.unary UnaryOp.Expm1 input).ToDoubleArray()) "expm1"
            let edges = Tensor.ofArray64 [| 3 |] [| -1.0; infinity; -infinity |]
            Expect.equal ((Elementwise.unary UnaryOp.Log1p edges).ToDoubleArray().[0..1]) [| -infinity; infinity |] "log1p at -1 and inf"
            Expect.equal ((Elementwise.unary UnaryOp.Expm1 edges).ToDoubleArray().[1..2]) [| infinity; -1.0 |] "expm1 at ±inf"
        }
        test "round is half to even and sign of zero is zero" {
            let input = Tensor.ofArray64 [| 9 |] [| 0.5; 1.5; 2.5; -0.5; -1.5; -2.5; 3.5; 2.4999; -0.0 |]
            Expect.equal ((Elementwise.unary UnaryOp.Round input).ToDoubleArray()) [| 0.0; 2.0; 2.0; -0.0; -2.0; -2.0; 4.0; 2.0; -0.0 |] "round"
            let signs = Tensor.ofArray32 [| 4 |] [| 0.0f; -0.0f; -3.0f; 1e-30f |]
            Expect.equal ((Elementwise.unary UnaryOp.Sign signs).ToDoubleArray()) [| 0.0; 0.0; -1.0; 1.0 |] "sign"
        }
        test "every binary op broadcasts like an explicit index loop, over views and dtype pairs" {
            for op, reference in binaryCases do
                for shapeA, shapeB in broadcastPairs do
                    for dtypeA, dtypeB in [ DType.Float64, DType.Float64; DType.Float32, DType.Float32; DType.Float32, DType.Float64 ] do
                        let valuesA = quarterValues 11 (Array.fold (*) 1 shapeA)
                        // Pow gets a positive base so non-integer exponents stay real
                        let valuesA = if op = BinaryOp.Pow then valuesA |> Array.map (fun x -> abs x + 0.25) else valuesA
                        let b = tensorOf dtypeB shapeB (quarterValues 12 (Array.fold (*) 1 shapeB))
                        for name, a in variants dtypeA shapeA valuesA do
                            let outShape = (ShapeTests.referenceBroadcast shapeA shapeB).Value
                            let actual = Elementwise.binary op a b
                            let expected = allIndices outShape |> Array.map (fun i -> reference a.[broadcastIndex shapeA i] b.[broadcastIndex shapeB i])
                            let dtype = if dtypeA = DType.Float64 || dtypeB = DType.Float64 then DType.Float64 else DType.Float32
                            Expect.equal actual.DType dtype "promoted dtype"
                            Expect.equal actual.Shape outShape "broadcast shape"
                            let relative, absolute = tolerance dtype
                            expectClose relative absolute expected (read actual) (sprintf "%A %A %A %A %A %s" op shapeA shapeB dtypeA dtypeB name)
                            // the swapped order exercises the scalar-first and left-broadcast paths
                            let swapped = Elementwise.binary op b a
                            let expectedSwapped = allIndices outShape |> Array.map (fun i -> reference b.[broadcastIndex shapeB i] a.[broadcastIndex shapeA i])
                            expectClose relative absolute expectedSwapped (read swapped) (sprintf "swapped %A %A %A %s" op shapeA shapeB name)
        }
        test "large binary ops take the parallel paths and still match the loop" {
            let a = tensorOf DType.Float64 [| 300; 400 |] (randomValues 3 -1.0 1.0 120000)
            let row = tensorOf DType.Float64 [| 400 |] (randomValues 4 -1.0 1.0 400)
            let column = tensorOf DType.Float64 [| 300; 1 |] (randomValues 5 -1.0 1.0 300)
            let scalar = Tensor.scalar DType.Float64 0.5
            for name, b in [ "same", Structural.transpose (Structural.transpose a); "row", row; "column", column; "scalar", scalar; "view", Structural.flip [| 0 |] a ] do
                let actual = Elementwise.binary BinaryOp.Sub a b
                let expected = allIndices [| 300; 400 |] |> Array.map (fun i -> a.[i] - b.[broadcastIndex b.Shape i])
                expectClose 0.0 0.0 expected (read actual) name
        }
        test "large float32 ops split into chunks with an odd last one and match a per-element loop" {
            // four full 16K chunks and one of 5 elements, above both parallel thresholds (32K and 64K)
            let count = 4 * 16384 + 5
            let a = tensorOf DType.Float32 [| count |] (randomValues 31 -2.0 2.0 count)
            let b = tensorOf DType.Float32 [| count |] (randomValues 32 -2.0 2.0 count)
            let a32, b32 = a.ToSingleArray(), b.ToSingleArray()
            // float32 + and * are correctly rounded, so the split result must be bit-identical
            for op, reference in [ BinaryOp.Add, (fun (x: float32) y -> x + y); BinaryOp.Mul, (fun x y -> x * y) ] do
                let expected = Array.init count (fun i -> float (reference a32.[i] b32.[i]))
                expectClose 0.0 0.0 expected ((Elementwise.binary op a b).ToDoubleArray()) (sprintf "%A" op)
            let half = Tensor.scalar DType.Float32 0.5
            let scaled = Array.init count (fun i -> float (a32.[i] * 0.5f))
            expectClose 0.0 0.0 scaled ((Elementwise.binary BinaryOp.Mul a half).ToDoubleArray()) "times a scalar"
            let relative, absolute = tolerance DType.Float32
            for op, reference in [ UnaryOp.Exp, Math.Exp; UnaryOp.Tanh, Math.Tanh ] do
                let expected = a32 |> Array.map (float >> reference)
                expectClose relative absolute expected ((Elementwise.unary op a).ToDoubleArray()) (sprintf "%A" op)
        }
        test "transcendental ops give the System.Math values from a frame at either stack alignment" {
            // Elementwise calls these ops from a frame at the alignment measured fast; each
            // alignment (and no adjustment) must give the System.Math values. Not necessarily the
            // same bits: with tiered compilation TensorPrimitives.Sin in float64 changed the last
            // bit of 2 in 1000 results when its code was rejitted, whatever the alignment (with
            // tiered compilation off, 3200 calls at 64 stack depths all agreed bit for bit).
            let aligned = set [ UnaryOp.Exp; UnaryOp.Log; UnaryOp.Sin; UnaryOp.Cos; UnaryOp.Tan; UnaryOp.Tanh; UnaryOp.Sigmoid ]
            for op, reference, low, high in unaryCases |> List.filter (fun (op, _, _, _) -> aligned.Contains op) do
                let values = randomValues 77 low high 1000
                let values32 = Array.map float32 values
                for wanted in [ 0; 16; 32 ] do
                    let relative, absolute = tolerance DType.Float64
                    expectClose relative absolute (Array.map reference values) (Elementwise.unaryFromFrame wanted op values)
                        (sprintf "%A float64 from frame %d" op wanted)
                    let relative, absolute = tolerance DType.Float32
                    expectClose relative absolute (Array.map (float >> reference) values32)
                        (Array.map float (Elementwise.unaryFromFrame wanted op values32)) (sprintf "%A float32 from frame %d" op wanted)
        }
        test "maximum and minimum propagate NaN, and comparisons with NaN are false except notEqual" {
            let a = Tensor.ofArray64 [| 3 |] [| nan; 1.0; nan |]
            let b = Tensor.ofArray64 [| 3 |] [| 1.0; nan; nan |]
            for op in [ BinaryOp.Maximum; BinaryOp.Minimum ] do
                Expect.isTrue ((Elementwise.binary op a b).ToDoubleArray() |> Array.forall Double.IsNaN) (sprintf "%A" op)
            Expect.equal ((Elementwise.binary BinaryOp.Less a b).ToDoubleArray()) [| 0.0; 0.0; 0.0 |] "less"
            Expect.equal ((Elementwise.binary BinaryOp.Equal a b).ToDoubleArray()) [| 0.0; 0.0; 0.0 |] "equal"
            Expect.equal ((Elementwise.binary BinaryOp.NotEqual a b).ToDoubleArray()) [| 1.0; 1.0; 1.0 |] "notEqual"
        }
        test "where picks by a broadcast mask, with views, promotion and NaN masks" {
            for maskShape, trueShape, falseShape in [ [| 2; 3 |], [| 2; 3 |], [| 2; 3 |]; [| 3 |], [| 2; 1 |], [||]; [| 2; 1; 3 |], [| 4; 1 |], [| 3 |]; [| 0; 3 |], [| 3 |], [| 1 |] ] do
                for maskType, trueType, falseType in [ DType.Float64, DType.Float64, DType.Float64; DType.Float32, DType.Float32, DType.Float32; DType.Float64, DType.Float32, DType.Float64; DType.Float32, DType.Float32, DType.Float64 ] do
                    let maskValues = quarterValues 21 (Array.fold (*) 1 maskShape) |> Array.mapi (fun i x -> if i % 5 = 4 then nan else x)
                    let ifTrue = tensorOf trueType trueShape (randomValues 22 -1.0 1.0 (Array.fold (*) 1 trueShape))
                    let ifFalse = tensorOf falseType falseShape (randomValues 23 -1.0 1.0 (Array.fold (*) 1 falseShape))
                    for name, mask in variants maskType maskShape maskValues do
                        let actual = Elementwise.where mask ifTrue ifFalse
                        let outShape = Shape.broadcastMany "test" [ maskShape; trueShape; falseShape ]
                        let expected =
                            allIndices outShape |> Array.map (fun i ->
                                if mask.[broadcastIndex maskShape i] <> 0.0 then ifTrue.[broadcastIndex trueShape i] else ifFalse.[broadcastIndex falseShape i])
                        let dtype = if trueType = DType.Float64 || falseType = DType.Float64 then DType.Float64 else DType.Float32
                        Expect.equal actual.DType dtype "dtype"
                        expectClose 0.0 0.0 expected (read actual) (sprintf "%A %A %A %s" maskShape trueShape falseShape name)
        }
        test "cast rounds to float32 and widens exactly" {
            let t = Tensor.ofArray64 [| 2 |] [| 0.1; 1e300 |]
            let narrow = Elementwise.cast DType.Float32 t
            Expect.equal (narrow.ToSingleArray()) [| float32 0.1; Single.PositiveInfinity |] "narrow"
            Expect.equal ((Elementwise.cast DType.Float64 narrow).ToDoubleArray()) [| float (float32 0.1); infinity |] "widen"
        }
        test "shape errors name the op and both shapes" {
            let a, b = Tensor.zeros DType.Float64 [| 2; 3 |], Tensor.zeros DType.Float32 [| 4 |]
            expectShapeError [ "Add"; "[2,3]"; "[4]" ] (fun () -> Elementwise.binary BinaryOp.Add a b)
            expectShapeError [ "Atan2"; "[2,3]"; "[4]" ] (fun () -> Elementwise.binary BinaryOp.Atan2 a b)
            expectShapeError [ "Where"; "[2,3]"; "[4]" ] (fun () -> Elementwise.where a a b)
        }
    ]
