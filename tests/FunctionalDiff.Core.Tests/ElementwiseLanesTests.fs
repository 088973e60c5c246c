/// The vector paths of comparisons, `where` and sums over scattered axes, on runs long enough to
/// take them (several vectors and a tail): against IEEE's scalar comparisons and reference loops,
/// and plans against the interpreter bit for bit.
module FunctionalDiff.Core.Tests.ElementwiseLanesTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.TensorTestSupport
open FunctionalDiff.Core.Tests.PlanTests

/// 67 values (four 16-lane vectors and a tail) with NaN, signed zeros, infinities and repeats.
let private specials =
    let random = Random(67)
    Array.init 67 (fun i ->
        match i % 11 with
        | 0 -> nan
        | 1 -> -0.0
        | 2 -> 0.0
        | 3 -> infinity
        | 4 -> -infinity
        | 5 -> 1.0
        | _ -> Math.Round(random.NextDouble() * 4.0 - 2.0, 1))

/// The same values in another order, so equal pairs, NaN against numbers and zeros of both signs meet.
let private shuffled = Array.init specials.Length (fun i -> specials.[(i * 7 + 3) % specials.Length])

let private comparisons =
    [ BinaryOp.Less, (fun (a: float) b -> a < b); BinaryOp.LessEqual, (fun a b -> a <= b)
      BinaryOp.Greater, (fun a b -> a > b); BinaryOp.GreaterEqual, (fun a b -> a >= b)
      BinaryOp.Equal, (fun a b -> a = b); BinaryOp.NotEqual, (fun a b -> a <> b) ]

/// The values as the dtype holds them.
let private rounded (dtype: DType) (values: float[]) =
    if dtype = DType.Float32 then values |> Array.map (float32 >> float) else values

[<Tests>]
let tests =
    testList "Elementwise lanes" [
        test "comparisons over long runs, dense and against a repeated scalar, are IEEE's" {
            for dtype in [ DType.Float64; DType.Float32 ] do
                let a, b = rounded dtype specials, rounded dtype shuffled
                let n = a.Length
                for op, holds in comparisons do
                    let flag x = if x then 1.0 else 0.0
                    let check (left: Tensor) (right: Tensor) (expected: float[]) (layout: string) =
                        let actual = (Elementwise.binary op left right).ToDoubleArray()
                        Expect.equal actual expected (sprintf "%A %A %s" op dtype layout)
                    check (tensorOf dtype [| n |] a) (tensorOf dtype [| n |] b) (Array.init n (fun i -> flag (holds a.[i] b.[i]))) "dense"
                    for s in [ 0; 1; 2; 3; 4 ] do
                        check (tensorOf dtype [| n |] a) (tensorOf dtype [| 1 |] [| b.[s] |]) (Array.init n (fun i -> flag (holds a.[i] b.[s]))) (sprintf "scalar right %g" b.[s])
                        check (tensorOf dtype [| 1 |] [| a.[s] |]) (tensorOf dtype [| n |] b) (Array.init n (fun i -> flag (holds a.[s] b.[i]))) (sprintf "scalar left %g" a.[s])
        }
        test "maximum, minimum, relu, sign and the other lane maps over long runs are Math's (sign: torch's), bit for bit" {
            // our own vector lanes replaced TensorPrimitives here (its generic code ran unoptimised for
            // many calls under tiered compilation); Math.Max/Min are IEEE's maximum/minimum: NaN wins,
            // +0 is above −0
            let sameBits (actual: float[]) (expected: float[]) (what: string) =
                for i in 0 .. expected.Length - 1 do
                    if BitConverter.DoubleToInt64Bits actual.[i] <> BitConverter.DoubleToInt64Bits expected.[i]
                       && not (Double.IsNaN actual.[i] && Double.IsNaN expected.[i]) then
                        failtestf "%s: element %d is %g, expected %g" what i actual.[i] expected.[i]
            for dtype in [ DType.Float64; DType.Float32 ] do
                let a, b = rounded dtype specials, rounded dtype shuffled
                let n = a.Length
                // the float64 reference of one float32 operation is exact for these maps, then rounded once
                let inDtype (v: float) = if dtype = DType.Float32 then float (float32 v) else v
                let dense v = tensorOf dtype [| n |] v
                let one (x: float) = tensorOf dtype [| 1 |] [| x |]
                for op, f in [ BinaryOp.Maximum, (fun (x: float) y -> Math.Max(x, y)); BinaryOp.Minimum, (fun x y -> Math.Min(x, y)) ] do
                    sameBits ((Elementwise.binary op (dense a) (dense b)).ToDoubleArray()) (Array.init n (fun i -> f a.[i] b.[i])) (sprintf "%A %A dense" op dtype)
                    for s in [ 0; 1; 2; 3; 4; 5 ] do
                        sameBits ((Elementwise.binary op (dense a) (one b.[s])).ToDoubleArray()) (Array.init n (fun i -> f a.[i] b.[s])) (sprintf "%A %A scalar right %g" op dtype b.[s])
                        sameBits ((Elementwise.binary op (one a.[s]) (dense b)).ToDoubleArray()) (Array.init n (fun i -> f a.[s] b.[i])) (sprintf "%A %A scalar left %g" op dtype a.[s])
                let halves = Array.init n (fun i -> if i % 3 = 0 then float (i / 3) - 10.5 else a.[i])
                // relu is torch's clamp_min, x unless x < 0 (−0 and NaN stay), not IEEE maximum(x, +0)
                for op, f in [ UnaryOp.Relu, (fun (x: float) -> if x < 0.0 then 0.0 else x); UnaryOp.Abs, Math.Abs; UnaryOp.Sqrt, Math.Sqrt
                               UnaryOp.Floor, Math.Floor; UnaryOp.Ceil, Math.Ceiling; UnaryOp.Round, (fun x -> Math.Round(x, MidpointRounding.ToEven))
                               UnaryOp.Reciprocal, (fun x -> 1.0 / x)
                               // torch.sign: 0 for both zeros and for NaN
                               UnaryOp.Sign, (fun x -> if x > 0.0 then 1.0 elif x < 0.0 then -1.0 else 0.0) ] do
                    let input = rounded dtype halves
                    sameBits ((Elementwise.unary op (dense input)).ToDoubleArray()) (Array.map (f >> inDtype) input) (sprintf "%A %A" op dtype)
                // reductions over the whole run and over rows (the accumulator path), against a loop of Math.Max/Min
                let matrix = tensorOf dtype [| 1; n |] a
                let columns = tensorOf dtype [| n; 1 |] a
                for op, f in [ ReduceOp.Max, (fun (x: float) y -> Math.Max(x, y)); ReduceOp.Min, (fun x y -> Math.Min(x, y)) ] do
                    for length in [ 1; 7; 8; 33; n ] do
                        let part = Array.sub a 0 length
                        let expected = Array.reduce f part
                        sameBits ((Reduction.reduce op [| 0 |] false (tensorOf dtype [| length |] part)).ToDoubleArray()) [| expected |] (sprintf "%A %A over %d" op dtype length)
                    sameBits ((Reduction.reduce op [| 1 |] false matrix).ToDoubleArray()) [| Array.reduce f a |] (sprintf "%A %A along rows" op dtype)
                    sameBits ((Reduction.reduce op [| 0 |] false columns).ToDoubleArray()) [| Array.reduce f a |] (sprintf "%A %A down a column" op dtype)
                    let wide = tensorOf dtype [| 3; n |] (Array.concat [ a; b; Array.rev a ])
                    sameBits ((Reduction.reduce op [| 0 |] false wide).ToDoubleArray()) (Array.init n (fun i -> f (f a.[i] b.[i]) a.[n - 1 - i])) (sprintf "%A %A across rows" op dtype)
        }
        test "x^2 and x^-1 over long runs are x·x and 1/x correctly rounded, the values of pow, and x^±0.5, x^3 and x^−2 torch's √x, 1/√x, (x·x)·x and 1/(x·x), at every magnitude and edge" {
            for dtype in [ DType.Float64; DType.Float32 ] do
                let a = rounded dtype (Array.append specials [| 1e200; -1e-200; 3e38; 1e-30; -7.25 |])
                let n = a.Length
                let inDtype (v: float) = if dtype = DType.Float32 then float (float32 v) else v
                for exponent, f in [ 2.0, (fun (x: float) -> x * x); -1.0, (fun x -> 1.0 / x) ] do
                    let actual = (Elementwise.binary BinaryOp.Pow (tensorOf dtype [| n |] a) (tensorOf dtype [| 1 |] [| exponent |])).ToDoubleArray()
                    for i in 0 .. n - 1 do
                        // the float64 operation on a float32 value is exact or rounds once more, so round the reference once
                        let expected = inDtype (f a.[i])
                        if BitConverter.DoubleToInt64Bits actual.[i] <> BitConverter.DoubleToInt64Bits expected && not (Double.IsNaN actual.[i] && Double.IsNaN expected) then
                            failtestf "%A %g^%g: %g, expected %g" dtype a.[i] exponent actual.[i] expected
                // torch's square-root cases: x^0.5 is √x ((−0)^0.5 = −0 and (−∞)^0.5 = NaN, where IEEE pow gives +0
                // and +∞) and x^−0.5 is 1/√x in the dtype ((−0)^−0.5 = −∞), checked against TorchSharp at these edges
                let inDtypeRoot (reciprocal: bool) (v: float) =
                    if dtype = DType.Float32 then
                        let r = MathF.Sqrt(float32 v)
                        float (if reciprocal then 1.0f / r else r)
                    else (if reciprocal then 1.0 / Math.Sqrt v else Math.Sqrt v)
                // and its products for 3 and −2, (x·x)·x and 1/(x·x) in the dtype, bit for bit torch's at every value
                let inDtypeProduct (exponent: float) (v: float) =
                    if dtype = DType.Float32 then
                        let x = float32 v
                        float (if exponent = 3.0 then x * x * x else 1.0f / (x * x))
                    else (if exponent = 3.0 then v * v * v else 1.0 / (v * v))
                for exponent, expectedOf in [ 0.5, inDtypeRoot false; -0.5, inDtypeRoot true; 3.0, inDtypeProduct 3.0; -2.0, inDtypeProduct -2.0 ] do
                    let actual = (Elementwise.binary BinaryOp.Pow (tensorOf dtype [| n |] a) (tensorOf dtype [| 1 |] [| exponent |])).ToDoubleArray()
                    for i in 0 .. n - 1 do
                        let expected = expectedOf a.[i]
                        if BitConverter.DoubleToInt64Bits actual.[i] <> BitConverter.DoubleToInt64Bits expected && not (Double.IsNaN actual.[i] && Double.IsNaN expected) then
                            failtestf "%A %g^%g: %g, expected %g" dtype a.[i] exponent actual.[i] expected
                // and a scalar constant folds to the same values
                for v in [ -0.0; -infinity; 4.0; 2.0 ] do
                    let folded = Fold.fillOf (Expr.pow (Expr.scalar DType.Float64 v) (Expr.scalar DType.Float64 0.5))
                    Expect.equal (BitConverter.DoubleToInt64Bits (if Double.IsNaN folded then nan else folded)) (BitConverter.DoubleToInt64Bits (if Double.IsNaN (Math.Sqrt v) then nan else Math.Sqrt v)) (sprintf "folded %g^0.5" v)
        }
        test "where over long runs selects ifFalse exactly where the mask is ±0, NaN counting as true" {
            for dtype in [ DType.Float64; DType.Float32 ] do
                let m, t, f = rounded dtype specials, rounded dtype shuffled, rounded dtype (Array.rev specials)
                let n = m.Length
                let pick (mask: float) x y = if mask <> 0.0 || Double.IsNaN mask then x else y
                let same (actual: Tensor) (expected: float[]) (layout: string) =
                    let actual = actual.ToDoubleArray()
                    for i in 0 .. n - 1 do
                        if BitConverter.DoubleToInt64Bits actual.[i] <> BitConverter.DoubleToInt64Bits expected.[i] then
                            failtestf "%A %s: element %d is %g, expected %g" dtype layout i actual.[i] expected.[i]
                let dense v = tensorOf dtype [| n |] v
                let one (x: float) = tensorOf dtype [| 1 |] [| x |]
                same (Elementwise.where (dense m) (dense t) (dense f)) (Array.init n (fun i -> pick m.[i] t.[i] f.[i])) "dense"
                same (Elementwise.where (dense m) (one 2.5) (dense f)) (Array.init n (fun i -> pick m.[i] 2.5 f.[i])) "scalar ifTrue"
                same (Elementwise.where (dense m) (dense t) (one -0.0)) (Array.init n (fun i -> pick m.[i] t.[i] -0.0)) "scalar ifFalse"
                for s in [ 0; 1; 2; 5 ] do
                    same (Elementwise.where (one m.[s]) (dense t) (dense f)) (Array.init n (fun i -> pick m.[s] t.[i] f.[i])) (sprintf "scalar mask %g" m.[s])
        }
        test "fused comparisons and selections give the interpreter's bits" {
            let random = Random(5)
            for dtype in [ DType.Float64; DType.Float32 ] do
                let x = Expr.variable "x" [| 5; 37 |] dtype
                let g = Expr.variable "g" [| 5; 37 |] dtype
                let p = Expr.variable "p" [| 5; 4; 37 |] dtype
                let w = Expr.variable "w" [| 5; 1; 37 |] dtype
                let roots =
                    [| Expr.where (Expr.le x (Expr.scalar dtype 0.0)) (Expr.scalar dtype 0.0) g
                       Expr.where (Expr.eq w (Expr.reshape [| 1; 4; 1 |] (Expr.constant (Tensor.FromArray([| 0.0; 1.0; 2.0; 3.0 |], [| 4 |]).Cast dtype)))) p (Expr.scalar dtype 0.0)
                       Expr.ne x g + Expr.gt x g * Expr.ge g x |]
                let vars = [| x; g; p; w |]
                let inputs =
                    [| randomTensor random dtype [| 5; 37 |]
                       tensorOf dtype [| 5; 37 |] (Array.init 185 (fun i -> if i % 3 = 0 then specials.[i % 67] else float (i % 4)))
                       randomTensor random dtype [| 5; 4; 37 |]
                       tensorOf dtype [| 5; 1; 37 |] (Array.init 185 (fun i -> float (i % 5) - 0.0 * float i)) |]
                let plan = Planner.compile vars roots true
                let planned = plan.Run(inputs, null)
                let expected = interpreted vars inputs roots
                for r in 0 .. roots.Length - 1 do
                    expectSameBits planned.[r] expected.[r] (sprintf "%A root %d" dtype r)
        }
        test "fused groups read broadcast and transposed operands in merged runs, as the interpreter and a loop" {
            let random = Random(11)
            for dtype in [ DType.Float64; DType.Float32 ] do
                let dims = [| 5; 3; 6; 7 |]
                let a = Expr.variable "a" [| 5; 1; 6; 7 |] dtype
                let b = Expr.variable "b" [| 1; 3; 1; 1 |] dtype
                let c = Expr.variable "c" [| 7; 6 |] dtype
                let d = Expr.variable "d" dims dtype
                let root = (a * b + Expr.transpose c) * d - Expr.broadcastTo dims a
                let inputs = [| randomTensor random dtype [| 5; 1; 6; 7 |]; randomTensor random dtype [| 1; 3; 1; 1 |]
                                randomTensor random dtype [| 7; 6 |]; randomTensor random dtype dims |]
                let planned = (Planner.compile [| a; b; c; d |] [| root |] true).Run(inputs, null)
                expectSameBits planned.[0] (interpreted [| a; b; c; d |] inputs [| root |]).[0] (sprintf "%A" dtype)
                let av, bv, cv, dv = inputs.[0].ToDoubleArray(), inputs.[1].ToDoubleArray(), inputs.[2].ToDoubleArray(), inputs.[3].ToDoubleArray()
                let expected =
                    Array.init (5 * 3 * 6 * 7) (fun q ->
                        let n, j, h, w = q / 126, q / 42 % 3, q / 7 % 6, q % 7
                        let x = av.[(n * 6 + h) * 7 + w]
                        (x * bv.[j] + cv.[w * 6 + h]) * dv.[q] - x)
                expectClose (if dtype = DType.Float64 then 1e-14 else 1e-5) 1e-6 expected (planned.[0].ToDoubleArray()) (sprintf "%A values" dtype)
        }
        test "a sum over scattered axes matches the loop on every layout, and plans give the interpreter's bits" {
            let random = Random(9)
            for dtype in [ DType.Float64; DType.Float32 ] do
                let values = Array.init (4 * 3 * 5 * 6) (fun _ -> random.NextDouble() * 2.0 - 1.0) |> rounded dtype
                let dense = tensorOf dtype [| 4; 3; 5; 6 |] values
                // a permuted view of another array with the same logical values
                let permuted =
                    let moved = Array.init values.Length (fun q ->
                        // q indexes [6, 5, 3, 4] row-major; element (i, j, k, l) of the view
                        let l, rest = q % 4, q / 4
                        let j, rest = rest % 3, rest / 3
                        let k, i = rest % 5, rest / 5
                        values.[((l * 3 + j) * 5 + k) * 6 + i])
                    (tensorOf dtype [| 6; 5; 3; 4 |] moved).View([| 4; 3; 5; 6 |], [| 1; 4; 12; 60 |], 0)
                for axes in [ [| 0; 2; 3 |]; [| 0; 2 |]; [| 1; 3 |]; [| 0; 3 |] ] do
                    let kept = [| 0 .. 3 |] |> Array.filter (fun a -> not (Array.contains a axes))
                    let dims = [| 4; 3; 5; 6 |]
                    let expected = Array.zeroCreate (kept |> Array.fold (fun s a -> s * dims.[a]) 1)
                    for q in 0 .. values.Length - 1 do
                        let index = [| q / 90; q / 30 % 3; q / 6 % 5; q % 6 |]
                        let target = kept |> Array.fold (fun s a -> s * dims.[a] + index.[a]) 0
                        expected.[target] <- expected.[target] + values.[q]
                    let relative = if dtype = DType.Float64 then 1e-14 else 1e-5
                    for name, input in [ "dense", dense; "permuted view", permuted ] do
                        expectClose relative 1e-6 expected ((Reduction.reduce ReduceOp.Sum axes false input).ToDoubleArray())
                                    (sprintf "%A %A %s" dtype axes name)
                    let x = Expr.variable "x" dims dtype
                    let roots = [| Expr.sumAxes axes false x; Expr.sumAxes axes false (Expr.exp x) |]
                    let planned = (Planner.compile [| x |] roots true).Run([| dense |], null)
                    let reference = interpreted [| x |] [| dense |] roots
                    for r in 0 .. roots.Length - 1 do
                        expectSameBits planned.[r] reference.[r] (sprintf "%A %A root %d" dtype axes r)
        }

        testCase "streaming copies equal Array.Copy at every alignment, length and offset, in both element types" (fun () ->
            // the copy stores whole cache lines once the target is aligned: heads of 0..15 elements,
            // bodies of 0..3 lines and tails of 0..15 elements all meet the boundaries
            let check (source: 'T[]) (name: string) =
                for sourceStart in 0 .. 17 do
                    for targetStart in 0 .. 17 do
                        for length in [ 0; 1; 3; 7; 8; 15; 16; 17; 31; 33; 64; 100; 257 ] do
                            let target = Array.zeroCreate<'T> (targetStart + length + 5)
                            let expected = Array.zeroCreate<'T> target.Length
                            Array.Copy(source, sourceStart, expected, targetStart, length)
                            Streaming.copy source sourceStart target targetStart length
                            Streaming.fence ()
                            Expect.sequenceEqual target expected (sprintf "%s from %d to %d, %d elements" name sourceStart targetStart length)
            check (Array.init 300 (fun i -> float32 i + 0.5f)) "float32"
            check (Array.init 300 (fun i -> float i + 0.25)) "float64"
        )
    ]
