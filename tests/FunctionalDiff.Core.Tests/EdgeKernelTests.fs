/// Specifications of the kernels at the edges of their domains: float32 unary kernels against
/// float64 references rounded once, reproducible transcendental results whatever an element's
/// position, element counts past the int32 limit, huge slice steps, and reductions over empty axes.
module FunctionalDiff.Core.Tests.EdgeKernelTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.TensorTestSupport

/// log|Γ(x)| by Lanczos' approximation (g = 7, nine terms, about 1e-15 relative in Γ), with the
/// reflection formula below 1/2 and +inf at the poles: independent of the kernel's Stirling series.
let rec private lgammaByLanczos (x: float) =
    let coefficients =
        [| 0.99999999999980993; 676.5203681218851; -1259.1392167224028; 771.32342877765313; -176.61502916214059
           12.507343278686905; -0.13857109526572012; 9.9843695780195716e-6; 1.5056327351493116e-7 |]
    if Double.IsNaN x then x
    elif Double.IsInfinity x || (x <= 0.0 && x = Math.Floor x) then infinity
    elif x = 1.0 || x = 2.0 then 0.0
    elif x < 0.5 then Math.Log(Math.PI / abs (Math.Sin(Math.PI * x))) - lgammaByLanczos (1.0 - x)
    else
        let z = x - 1.0
        let mutable series = coefficients.[0]
        for i in 1 .. 8 do
            series <- series + coefficients.[i] / (z + float i)
        let t = z + 7.5
        0.5 * Math.Log(2.0 * Math.PI) + (z + 0.5) * Math.Log t - t + Math.Log series

/// The float64 reference of every unary op, from System.Math or a series written in the tests.
let rec private reference (op: UnaryOp) : float -> float =
    match op with
    | UnaryOp.Neg -> (fun x -> -x)
    | UnaryOp.Exp -> Math.Exp
    | UnaryOp.Log -> Math.Log
    // log(1+x) and e^x - 1 by their Taylor series where 1+x would round
    | UnaryOp.Log1p -> (fun x -> if abs x < 1e-5 then x - x * x / 2.0 + x * x * x / 3.0 else Math.Log(1.0 + x))
    | UnaryOp.Expm1 -> (fun x -> if abs x < 1e-5 then x + x * x / 2.0 + x * x * x / 6.0 else Math.Exp x - 1.0)
    | UnaryOp.Sin -> Math.Sin
    | UnaryOp.Cos -> Math.Cos
    | UnaryOp.Tan -> Math.Tan
    | UnaryOp.Tanh -> Math.Tanh
    | UnaryOp.Sigmoid -> (fun x -> 1.0 / (1.0 + Math.Exp(-x)))
    | UnaryOp.Relu -> (fun x -> if Double.IsNaN x then x else Math.Max(x, 0.0))
    | UnaryOp.Abs -> Math.Abs
    | UnaryOp.Sign -> (fun x -> if Double.IsNaN x then 0.0 else float (Math.Sign x)) // torch.sign: (0 < x) - (x < 0)
    | UnaryOp.Sqrt -> Math.Sqrt
    | UnaryOp.Rsqrt -> (fun x -> 1.0 / Math.Sqrt x)
    | UnaryOp.Square -> (fun x -> x * x)
    | UnaryOp.Reciprocal -> (fun x -> 1.0 / x)
    | UnaryOp.Erf ->
        (fun x ->
            if Double.IsNaN x then x
            elif abs x < 3.0 then TensorElementwiseTests.erfBySeries x
            else float (sign x) * (1.0 - TensorElementwiseTests.erfcByQuadrature (abs x)))
    | UnaryOp.Floor -> Math.Floor
    | UnaryOp.Ceil -> Math.Ceiling
    | UnaryOp.Round -> (fun x -> Math.Round(x, MidpointRounding.ToEven))
    | UnaryOp.Erfc ->
        (fun x ->
            if Double.IsNaN x then x
            elif abs x < 3.0 then 1.0 - TensorElementwiseTests.erfBySeries x
            elif x > 0.0 then TensorElementwiseTests.erfcByQuadrature x
            else 2.0 - TensorElementwiseTests.erfcByQuadrature (abs x))
    | UnaryOp.Lgamma -> lgammaByLanczos
    // log(1 + e^x) from the side of 0 where e^±x does not overflow, log(1 + u) by its series where 1 + u rounds
    | UnaryOp.Softplus ->
        let log1pOf (u: float) = if u < 1e-5 then u - u * u / 2.0 + u * u * u / 3.0 else Math.Log(1.0 + u)
        (fun x -> if Double.IsNaN x then x elif x > 0.0 then x + log1pOf (Math.Exp(-x)) else log1pOf (Math.Exp x))
    // σ(x)·σ(−x) = 1/(2 + e^x + e^−x): a sum of positive terms, so nothing cancels (∞ gives 0)
    | UnaryOp.SigmoidSlope -> (fun x -> 1.0 / (2.0 + Math.Exp x + Math.Exp(-x)))
    // x·Φ(x) with Φ(x) = erfc(−x/√2)/2 from the erfc reference above
    | UnaryOp.Gelu -> (fun x -> 0.5 * x * reference UnaryOp.Erfc (-x / Math.Sqrt 2.0))
    // Φ(x) + x·φ(x); x·φ(x) is below 1e-780 past |x| = 60, so 0 there (and not ∞·0 at ±∞)
    | UnaryOp.GeluSlope ->
        (fun x ->
            let phi = 0.5 * reference UnaryOp.Erfc (-x / Math.Sqrt 2.0)
            if abs x > 60.0 then phi else phi + x * Math.Exp(-0.5 * x * x) / Math.Sqrt(2.0 * Math.PI))
    // tanh's slope at the rounded tanh, (1 − t)(1 + t): the float32 sweep leaves it out (see allUnaryOps)
    | UnaryOp.TanhSlope -> (fun x -> let t = Math.Tanh x in (1.0 - t) * (1.0 + t))
    | UnaryOp.I0 -> SpecialReferences.i0
    | UnaryOp.I0e -> SpecialReferences.i0e
    | UnaryOp.I1 -> SpecialReferences.i1
    | UnaryOp.I1e -> SpecialReferences.i1e
    | UnaryOp.Erfcx -> SpecialReferences.erfcx
    | UnaryOp.Ndtr -> SpecialReferences.ndtr
    | UnaryOp.LogNdtr -> SpecialReferences.logNdtr
    | UnaryOp.Ndtri -> SpecialReferences.ndtri
    | UnaryOp.BesselJ0 -> SpecialReferences.besselJ0
    | UnaryOp.BesselJ1 -> SpecialReferences.besselJ1
    | UnaryOp.BesselY0 -> SpecialReferences.besselY0
    | UnaryOp.BesselY1 -> SpecialReferences.besselY1
    | UnaryOp.ModifiedBesselK0 -> SpecialReferences.modifiedBesselK0
    | UnaryOp.ModifiedBesselK1 -> SpecialReferences.modifiedBesselK1
    | UnaryOp.ScaledModifiedBesselK0 -> SpecialReferences.scaledModifiedBesselK0
    | UnaryOp.ScaledModifiedBesselK1 -> SpecialReferences.scaledModifiedBesselK1

let private allUnaryOps =
    [ UnaryOp.Neg; UnaryOp.Exp; UnaryOp.Log; UnaryOp.Log1p; UnaryOp.Expm1; UnaryOp.Sin; UnaryOp.Cos; UnaryOp.Tan
      UnaryOp.Tanh; UnaryOp.Sigmoid; UnaryOp.Relu; UnaryOp.Abs; UnaryOp.Sign; UnaryOp.Sqrt; UnaryOp.Rsqrt
      UnaryOp.Square; UnaryOp.Reciprocal; UnaryOp.Erf; UnaryOp.Floor; UnaryOp.Ceil; UnaryOp.Round
      UnaryOp.Erfc; UnaryOp.Lgamma; UnaryOp.Softplus; UnaryOp.SigmoidSlope; UnaryOp.Gelu; UnaryOp.GeluSlope
      UnaryOp.TanhSlope; UnaryOp.I0; UnaryOp.I0e; UnaryOp.I1; UnaryOp.I1e; UnaryOp.Erfcx; UnaryOp.Ndtr; UnaryOp.LogNdtr
      UnaryOp.Ndtri; UnaryOp.BesselJ0; UnaryOp.BesselJ1; UnaryOp.BesselY0; UnaryOp.BesselY1; UnaryOp.ModifiedBesselK0
      UnaryOp.ModifiedBesselK1; UnaryOp.ScaledModifiedBesselK0; UnaryOp.ScaledModifiedBesselK1 ]

/// float32 inputs: zeros, subnormals, tiny, ordinary, huge, both signs, and the non-finite values.
let private float32Sweep =
    let magnitudes =
        [ 0.0f; 1e-45f; 1e-40f; 1.1754944e-38f; 1e-30f; 1e-12f; 1e-7f; 1e-6f; 1e-5f; 1e-4f; 1e-3f; 0.01f; 0.1f
          0.25f; 0.5f; 0.75f; 1.0f; 1.5f; 2.0f; 3.0f; 5.0f; 10.0f; 20.0f; 50.0f; 88.0f; 89.0f; 100.0f; 1e3f; 1e5f
          1e7f; 1e10f; 1e20f; 1e30f; 3e38f ]
    let random = Random(11)
    let ordinary = List.init 200 (fun _ -> float32 (Math.Pow(10.0, 12.0 * random.NextDouble() - 8.0)))
    let positive = magnitudes @ ordinary
    Array.ofList (positive @ (positive |> List.map (~-)) @ [ Single.PositiveInfinity; Single.NegativeInfinity; Single.NaN ])

/// Distance in float32 ulps between a result and the float64 reference rounded to float32;
/// 0 when both are the same non-finite value or NaN, infinity when only one is.
let private ulps (actual: float32) (expected: float) =
    let target = float32 expected
    if Single.IsNaN target || Single.IsNaN actual then (if Single.IsNaN target && Single.IsNaN actual then 0.0 else infinity)
    elif Single.IsInfinity target || Single.IsInfinity actual then (if target = actual then 0.0 else infinity)
    else
        let step = float (MathF.BitIncrement(abs target) - abs target)
        abs (float actual - float target) / step

/// The result of a unary op on float32 values placed at `offset` inside a longer run of 1.0s
/// (the vector path), and alone in a one-element tensor (the scalar path).
let private float32Results (op: UnaryOp) (values: float32[]) (offset: int) =
    let padded = Array.concat [ Array.create offset 1.0f; values; Array.create 21 1.0f ]
    let vector = (Elementwise.unary op (Tensor.FromArray(padded, [| padded.Length |]))).ToSingleArray()
    let scalar = values |> Array.map (fun v -> (Elementwise.unary op (Tensor.FromArray([| v |], [| 1 |]))).ToSingleArray().[0])
    Array.sub vector offset values.Length, scalar

/// Inputs for the reproducibility checks: ordinary values mixed with values that push a whole
/// TensorPrimitives vector onto its scalar code (huge, non-finite, subnormal, negative for log).
let private mixedValues (count: int) =
    let random = Random(5)
    let specials = [| 0.0; -0.0; 1.0; 1e-310; -1e-310; 800.0; -800.0; 1e7; 1e9; 1e300; -1e300; infinity; -infinity; nan; 0.3; -0.2 |]
    Array.init count (fun i ->
        if i % 29 = 0 then specials.[random.Next specials.Length]
        else (random.NextDouble() * 2.0 - 1.0) * Math.Pow(10.0, random.NextDouble() * 8.0 - 4.0))

let private bits (x: float) = BitConverter.DoubleToInt64Bits x

/// Runs `action`, expecting a ShapeException whose message holds every fragment.
let private expectShapeMessage (name: string) (fragments: string list) (action: unit -> unit) =
    match (try action (); None with :? ShapeException as e -> Some e.Message) with
    | None -> failtestf "%s: no ShapeException" name
    | Some message ->
        for fragment in fragments do
            Expect.stringContains message fragment (sprintf "%s: the message names %s" name fragment)

[<Tests>]
let tests =
    testList "Tensor.Edges" [
        test "every float32 unary op is within 2 ulp of the float64 reference rounded once, on vector and scalar paths" {
            // tanh's slope is (1 − y)(1 + y) at the float32 tanh y, whose last bit (within 1 ulp of the reference) moves
            // 1 − y by up to all of it where y nears ±1; TanhSaturationTests checks it against the formula at the kernel's y
            for op in allUnaryOps |> List.except [ UnaryOp.TanhSlope ] do
                let f = reference op
                for offset in [ 0; 3; 16 ] do
                    let vector, scalar = float32Results op float32Sweep offset
                    for i in 0 .. float32Sweep.Length - 1 do
                        let x = float32Sweep.[i]
                        let expected = f (float x)
                        for path, actual in [ "vector", vector.[i]; "scalar", scalar.[i] ] do
                            let distance = ulps actual expected
                            if distance > 2.0 then
                                failtestf "%A float32 %s path at %g (offset %d): %.9g, float64 reference %.17g (%g ulp)" op path x offset actual expected distance
        }

        test "a unary op folded on a scalar constant has the kernel's IEEE value at NaN, ±inf and ±0 (relu(NaN) is NaN, as torch's)" {
            let edges = [| nan; infinity; -infinity; 0.0; -0.0; 1e-310; -2.5; 0.5 |]
            // erf, erfc and lgamma do not fold (they need a kernel); the reference table approximates them, erfcx and the
            // normal distribution's functions to about 1e-11 (a quadrature), too loosely for this test's 1e-12
            let approximated = [ UnaryOp.Erf; UnaryOp.Erfc; UnaryOp.Lgamma; UnaryOp.Erfcx; UnaryOp.Ndtr; UnaryOp.LogNdtr; UnaryOp.Ndtri ]
            for op in allUnaryOps |> List.except approximated do
                let f = reference op
                for x in edges do
                    // a rank-0 constant: the constructor folds it to a constant while building
                    let folded = (Eval.eval (Expr.unary op (Expr.scalar DType.Float64 x))).ToDoubleArray().[0]
                    let expected = f x
                    let same =
                        if Double.IsNaN expected then Double.IsNaN folded
                        elif Double.IsInfinity expected then folded = expected
                        else abs (folded - expected) <= 1e-12 * (1.0 + abs expected)
                    if not same then failtestf "%A folded at %g: %g, reference %g" op x folded expected
        }

        test "float32 kernels are exact where the function is: exp 0, tanh 0, sin 0, log 1, cos 0, sigmoid 0" {
            for op, x, expected in [ UnaryOp.Exp, 0.0f, 1.0f; UnaryOp.Tanh, 0.0f, 0.0f; UnaryOp.Sin, 0.0f, 0.0f
                                     UnaryOp.Log, 1.0f, 0.0f; UnaryOp.Cos, 0.0f, 1.0f; UnaryOp.Sigmoid, 0.0f, 0.5f
                                     UnaryOp.Tanh, 1e-6f, 1e-6f; UnaryOp.Expm1, 0.0f, 0.0f ] do
                for length in [ 1; 4; 16; 100 ] do
                    let actual = (Elementwise.unary op (Tensor.FromArray(Array.create length x, [| length |]))).ToSingleArray()
                    for v in actual do
                        // tanh(1e-6) = 1e-6 - 3.3e-19: rounds to 1e-6f exactly
                        Expect.equal v expected (sprintf "%A(%g) over %d elements" op x length)
        }

        test "float32 LogSoftmax and LogSumExp over a size-1 axis are exactly 0 and x" {
            let x = Tensor.FromArray([| 0.3f; -1.7f; 2.5f; 0.0f; 7.25f; -3.0f |], [| 6; 1 |])
            let logSoftmax = (Eval.eval (Nn.logSoftmax 1 (Expr.constant x))).ToSingleArray()
            Expect.equal logSoftmax (Array.zeroCreate 6) "log_softmax over one entry is log 1 = 0"
            let lse = (Eval.eval (Nn.logSumExp [| 1 |] false (Expr.constant x))).ToSingleArray()
            Expect.equal lse (x.ToSingleArray()) "logsumexp over one entry is the entry"
        }

        test "float64 transcendental results depend only on the value: 60 evaluations, every offset, alone" {
            let values = mixedValues 20000
            for op in [ UnaryOp.Sin; UnaryOp.Cos; UnaryOp.Exp; UnaryOp.Log; UnaryOp.Tanh; UnaryOp.Sigmoid; UnaryOp.Tan ] do
                let x = Expr.variable "x" [| values.Length |] DType.Float64
                let graph = Expr.unary op x
                let input = Tensor.FromArray(values, [| values.Length |])
                let first = (Eval.evalWith [ x, input ] graph).ToDoubleArray()
                for evaluation in 2 .. 60 do
                    let again = (Eval.evalWith [ x, input ] graph).ToDoubleArray()
                    for i in 0 .. values.Length - 1 do
                        if bits again.[i] <> bits first.[i] then
                            failtestf "%A evaluation %d, element %d (%g): %.17g, first %.17g" op evaluation i values.[i] again.[i] first.[i]
                // shifted by 1..17 elements, and as a view at an offset inside a larger array
                for shift in [ 1; 2; 3; 5; 7; 8; 13; 17 ] do
                    let shifted = Array.append (Array.create shift 0.5) values
                    let result = (Elementwise.unary op (Tensor.FromArray(shifted, [| shifted.Length |]))).ToDoubleArray()
                    let view = Structural.slice [| shift |] [| shifted.Length |] [| 1 |] (Tensor.FromArray(shifted, [| shifted.Length |]))
                    let viewResult = (Elementwise.unary op view).ToDoubleArray()
                    for i in 0 .. values.Length - 1 do
                        if bits result.[i + shift] <> bits first.[i] || bits viewResult.[i] <> bits first.[i] then
                            failtestf "%A shifted by %d, element %d (%g): %.17g / %.17g, unshifted %.17g" op shift i values.[i] result.[i + shift] viewResult.[i] first.[i]
                // alone (the shortest tail), against the value in the long run; and close to System.Math
                let f = reference op
                for i in 0 .. 997 .. values.Length - 1 do
                    let alone = (Elementwise.unary op (Tensor.FromArray([| values.[i] |], [| 1 |]))).ToDoubleArray().[0]
                    Expect.equal (bits alone) (bits first.[i]) (sprintf "%A alone at %g" op values.[i])
                for i in 0 .. values.Length - 1 do
                    let expected = f values.[i]
                    let close =
                        (Double.IsNaN expected && Double.IsNaN first.[i]) || expected = first.[i]
                        || abs (first.[i] - expected) <= 4.0 * (Math.BitIncrement(abs expected) - abs expected)
                    if not close then failtestf "%A at %g: %.17g, System.Math %.17g" op values.[i] first.[i] expected
        }

        test "float64 results are identical on the serial path and on every chunk of the parallel split" {
            // 100,000 elements run as chunks on the worker team; each element against itself alone
            let values = mixedValues 100000
            for op in [ UnaryOp.Sin; UnaryOp.Cos; UnaryOp.Exp ] do
                let whole = (Elementwise.unary op (Tensor.FromArray(values, [| values.Length |]))).ToDoubleArray()
                for i in 0 .. 1237 .. values.Length - 1 do
                    let alone = (Elementwise.unary op (Tensor.FromArray([| values.[i] |], [| 1 |]))).ToDoubleArray().[0]
                    Expect.equal (bits whole.[i]) (bits alone) (sprintf "%A at element %d (%g)" op i values.[i])
        }

        test "element counts past the largest array raise a ShapeException naming the op and the shape" {
            expectShapeMessage "FromArray" [ "FromArray"; "[2147483647,2147483647]" ] (fun () ->
                Tensor.FromArray(Array.zeroCreate<float> 1, [| Int32.MaxValue; Int32.MaxValue |]) |> ignore)
            expectShapeMessage "Zeros" [ "[65536,65536]"; "4294967296" ] (fun () ->
                Tensor.Zeros([| 65536; 65536 |], DType.Float64) |> ignore)
            expectShapeMessage "broadcast add" [ "Add"; "[65536,65536]" ] (fun () ->
                let sum = Expr.ones DType.Float64 [| 65536; 1 |] + Expr.ones DType.Float64 [| 1; 65536 |]
                Eval.eval (Expr.sum sum) |> ignore)
            expectShapeMessage "tensor broadcast" [ "Add"; "[65536,65536]" ] (fun () ->
                Elementwise.binary BinaryOp.Add (Tensor.Ones([| 65536; 1 |], DType.Float32)) (Tensor.Ones([| 1; 65536 |], DType.Float32)) |> ignore)
            let big = Expr.variable "big" [| 2000000000 |] DType.Float32
            expectShapeMessage "concat" [ "Concat" ] (fun () -> Expr.concat 0 [ big; big ] |> ignore)
            expectShapeMessage "pad" [ "Pad" ] (fun () -> Expr.pad [| 2000000000 |] [| 0 |] big |> ignore)
            expectShapeMessage "matmul" [ "MatMul"; "[100000,100000]" ] (fun () ->
                Expr.matmul (Expr.variable "a" [| 100000; 1 |] DType.Float32) (Expr.variable "b" [| 1; 100000 |] DType.Float32) |> ignore)
            expectShapeMessage "reshape" [ "Reshape"; "[65536,65536]" ] (fun () ->
                Structural.reshape [| 65536; 65536 |] (Tensor.Zeros([| 4 |], DType.Float64)) |> ignore)
            expectShapeMessage "variable" [ "Variable"; "[65536,65536]" ] (fun () ->
                Expr.variable "v" [| 65536; 65536 |] DType.Float64 |> ignore)
            expectShapeMessage "tensor pad" [ "Pad" ] (fun () ->
                Structural.pad [| Int32.MaxValue |] [| 1 |] (Tensor.Zeros([| 1 |], DType.Float32)) |> ignore)
            expectShapeMessage "arange" [ "Arange" ] (fun () -> Tensor.arange DType.Float32 0.0 1e12 1.0 |> ignore)
            // the largest shapes below the limit are still accepted (no allocation: a variable)
            Expect.equal (Expr.variable "ok" [| 46340; 46340 |] DType.Float64).Shape [| 46340; 46340 |] "46340² < limit"
        }

        test "slice lengths are ceil((stop - start) / step) for every step up to int32's largest" {
            let x = Tensor.FromArray([| 10.0; 11.0; 12.0; 13.0 |], [| 4 |])
            for start in 0 .. 4 do
                for stop in start .. 4 do
                    for step in [ 1; 2; 3; 4; 5; 1000; Int32.MaxValue - 1; Int32.MaxValue ] do
                        let expected = int ((bigint (stop - start) + bigint step - 1I) / bigint step)
                        let sliced = Structural.slice [| start |] [| stop |] [| step |] x
                        Expect.equal sliced.Shape [| expected |] (sprintf "tensor slice %d:%d:%d" start stop step)
                        let e = Expr.slice [| start |] [| stop |] [| step |] (Expr.constant x)
                        Expect.equal e.Shape [| expected |] (sprintf "Expr slice %d:%d:%d" start stop step)
                        let picked = [| for i in int64 start .. int64 step .. int64 stop - 1L -> 10.0 + float i |]
                        Expect.equal ((Eval.eval e).ToDoubleArray()) picked (sprintf "values %d:%d:%d" start stop step)
        }
    ]
