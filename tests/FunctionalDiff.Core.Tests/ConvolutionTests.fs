/// Convolution and pooling: values against plain reference loops written here (torch's definitions),
/// the transposed convolution as the adjoint of the convolution, derivatives of orders 1 and 2
/// against central finite differences, torch's tie convention of max pooling, and errors.
module FunctionalDiff.Core.Tests.ConvolutionTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// The parameters of a 2-D convolution, as torch names them.
type private ConvArgs = { Stride: int * int; Padding: int * int; Dilation: int * int; Groups: int }

let private plain = { Stride = (1, 1); Padding = (0, 0); Dilation = (1, 1); Groups = 1 }

/// torch's conv2d by its definition: out[n, o, p, q] = b[o] + sum over the group's channels and the
/// kernel of x[n, c, p sh + i dh - ph, q sw + j dw - pw] w[o, c', i, j], zero outside the input.
let private referenceConv2d (a: ConvArgs) (x: Tensor) (w: Tensor) (bias: float[] option) =
    let xs, ws = x.ToDoubleArray(), w.ToDoubleArray()
    let n, c, h, wd = x.Shape.[0], x.Shape.[1], x.Shape.[2], x.Shape.[3]
    let co, cg, kh, kw = w.Shape.[0], w.Shape.[1], w.Shape.[2], w.Shape.[3]
    let (sh, sw), (ph, pw), (dh, dw) = a.Stride, a.Padding, a.Dilation
    let ho = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1
    let wo = (wd + 2 * pw - dw * (kw - 1) - 1) / sw + 1
    let cog = co / a.Groups
    let out = Array.zeroCreate (n * co * ho * wo)
    for b in 0 .. n - 1 do
        for o in 0 .. co - 1 do
            let g = o / cog
            for p in 0 .. ho - 1 do
                for q in 0 .. wo - 1 do
                    let mutable s = match bias with Some bs -> bs.[o] | None -> 0.0
                    for ci in 0 .. cg - 1 do
                        let channel = g * cg + ci
                        for i in 0 .. kh - 1 do
                            for j in 0 .. kw - 1 do
                                let r, col = p * sh + i * dh - ph, q * sw + j * dw - pw
                                if r >= 0 && r < h && col >= 0 && col < wd then
                                    s <- s + xs.[((b * c + channel) * h + r) * wd + col] * ws.[((o * cg + ci) * kh + i) * kw + j]
                    out.[((b * co + o) * ho + p) * wo + q] <- s
    out, [| n; co; ho; wo |]

/// torch's pooling by its definition: each window of the padded input reduced by `reduce` over the
/// in-bounds entries, or over all kernel positions with padding as `padValue` when `countPadding`.
let private referencePool (kernel: int * int) (stride: int * int) (padding: int * int) (dilation: int * int)
                          (reduce: float[] -> float) (padValue: float) (x: Tensor) =
    let xs = x.ToDoubleArray()
    let n, c, h, w = x.Shape.[0], x.Shape.[1], x.Shape.[2], x.Shape.[3]
    let (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    let ho = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1
    let wo = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1
    let out =
        [| for b in 0 .. n * c - 1 do
             for p in 0 .. ho - 1 do
                 for q in 0 .. wo - 1 ->
                     reduce [| for i in 0 .. kh - 1 do
                                 for j in 0 .. kw - 1 ->
                                     let r, col = p * sh + i * dh - ph, q * sw + j * dw - pw
                                     if r >= 0 && r < h && col >= 0 && col < w then xs.[(b * h + r) * w + col] else padValue |] |]
    out, [| n; c; ho; wo |]

let private conv2d (a: ConvArgs) (w: Expr) (b: Expr option) (x: Expr) =
    Convolution.conv2d a.Stride a.Padding a.Dilation a.Groups w b x

/// Expecto runs tests in parallel, so draws from one generator shared by the test bodies would depend
/// on which tests ran before and beside each one (and System.Random is not thread-safe): each test
/// draws from a generator of its own, seeded by a number or by its name.
let private drawFrom (seed: int) =
    let random = Random seed
    fun (shape: int[]) -> sample random Normal shape

/// A seed from a test's name that is the same in every process (string hash codes are not).
let private seedOf (name: string) = name |> Seq.fold (fun h c -> (h * 31 + int c) &&& 0x3FFFFFFF) 7

let private valueTests =
    let convCase name (xShape: int[]) (wShape: int[]) (a: ConvArgs) (withBias: bool) =
        test name {
            let draw = drawFrom (seedOf name)
            let x, w = draw xShape, draw wShape
            let bias = if withBias then Some (draw [| wShape.[0] |]) else None
            let ours = conv2d a (constant w) (bias |> Option.map constant) (constant x)
            let expected, shape = referenceConv2d a x w (bias |> Option.map (fun t -> t.ToDoubleArray()))
            Expect.equal ours.Shape shape "torch's output shape"
            expectClose 1e-12 (values ours) expected name
        }
    testList "values against reference loops" [
        yield convCase "conv2d plain" [| 2; 3; 6; 5 |] [| 4; 3; 3; 3 |] plain false
        yield convCase "conv2d bias, padding 1" [| 2; 3; 5; 5 |] [| 4; 3; 3; 3 |] { plain with Padding = (1, 1) } true
        yield convCase "conv2d stride 2, padding (2, 1)" [| 1; 2; 7; 6 |] [| 3; 2; 3; 2 |] { plain with Stride = (2, 2); Padding = (2, 1) } true
        yield convCase "conv2d dilation (2, 1), stride (1, 2)" [| 2; 2; 7; 7 |] [| 2; 2; 3; 3 |] { plain with Dilation = (2, 1); Stride = (1, 2) } false
        yield convCase "conv2d groups 2" [| 2; 4; 5; 5 |] [| 6; 2; 3; 3 |] { plain with Groups = 2; Padding = (1, 1) } true
        yield convCase "conv2d depthwise (groups = channels)" [| 1; 3; 5; 4 |] [| 3; 1; 2; 2 |] { plain with Groups = 3 } false
        yield test "conv2d unbatched [C, H, W]" {
            let draw = drawFrom 100
            let x, w = draw [| 2; 5; 5 |], draw [| 3; 2; 3; 3 |]
            let ours = conv2d plain (constant w) None (constant x)
            let expected, _ = referenceConv2d plain (Tensor.FromArray(x.ToDoubleArray(), [| 1; 2; 5; 5 |])) w None
            Expect.equal ours.Shape [| 3; 3; 3 |] "torch's unbatched shape"
            expectClose 1e-12 (values ours) expected "unbatched"
        }
        yield test "conv1d is conv2d over a height of 1" {
            let draw = drawFrom 101
            let x, w, b = draw [| 2; 4; 9 |], draw [| 6; 2; 3 |], draw [| 6 |]
            let a = { Stride = (1, 2); Padding = (0, 1); Dilation = (1, 2); Groups = 2 }
            let ours = Convolution.conv1d 2 1 2 2 (constant w) (Some (constant b)) (constant x)
            let expected, shape =
                referenceConv2d a (Tensor.FromArray(x.ToDoubleArray(), [| 2; 4; 1; 9 |])) (Tensor.FromArray(w.ToDoubleArray(), [| 6; 2; 1; 3 |])) (Some (b.ToDoubleArray()))
            Expect.equal ours.Shape [| 2; 6; shape.[3] |] "torch's output shape"
            expectClose 1e-12 (values ours) expected "conv1d"
        }
        // <conv(x, w), y> = <x, convT(y, w)> for every x and y: convTranspose2d is conv2d's adjoint.
        // outputPadding makes convT's output the shape of x where the stride drops rows.
        for (name, xShape, wShape, a, outputPadding) in
            [ "stride 1", [| 2; 3; 5; 6 |], [| 4; 3; 3; 2 |], plain, (0, 0)
              "stride 2, padding 1", [| 1; 2; 7; 8 |], [| 3; 2; 3; 3 |], { plain with Stride = (2, 2); Padding = (1, 1) }, (0, 1)
              "stride (2, 3), dilation 2", [| 1; 2; 9; 10 |], [| 2; 2; 2; 3 |], { plain with Stride = (2, 3); Dilation = (2, 2) }, (0, 2)
              "groups 2, padding (0, 2)", [| 2; 4; 5; 5 |], [| 6; 2; 3; 3 |], { plain with Groups = 2; Padding = (0, 2) }, (0, 0) ] ->
            test ("convTranspose2d is the adjoint of conv2d, " + name) {
                let draw = drawFrom (seedOf ("convTranspose2d is the adjoint of conv2d, " + name))
                let x, w = draw xShape, draw wShape
                let forward = conv2d a (constant w) None (constant x)
                let y = draw forward.Shape
                // conv's weight [out, in/g, kh, kw] is convT's [in', out'/g, kh, kw] with in' = out
                let back = Convolution.convTranspose2d a.Stride a.Padding outputPadding a.Dilation a.Groups (constant w) None (constant y)
                Expect.equal back.Shape xShape "convT's output shape is the input's"
                let left = Array.fold2 (fun s p q -> s + p * q) 0.0 (values forward) (y.ToDoubleArray())
                let right = Array.fold2 (fun s p q -> s + p * q) 0.0 (x.ToDoubleArray()) (values back)
                Expect.floatClose Accuracy.veryHigh right left "<conv x, y> = <x, convT y>"
            }
        // <unfold x, y> = <x, fold y>: the two patch kernels are each other's adjoint
        for (name, xShape, kernel, stride, padding, dilation) in
            [ "kernel 2", [| 2; 3; 5; 6 |], [| 2; 2 |], [| 1; 1 |], [| 0; 0 |], [| 1; 1 |]
              "kernel (3, 2) stride 2 padding 1 dilation (1, 2)", [| 1; 2; 6; 7 |], [| 3; 2 |], [| 2; 2 |], [| 1; 1 |], [| 1; 2 |]
              "kernel 3 stride (1, 3) padding 2", [| 2; 1; 4; 9 |], [| 3; 3 |], [| 1; 3 |], [| 2; 2 |], [| 1; 1 |] ] ->
            test ("fold is the adjoint of unfold, " + name) {
                let draw = drawFrom (seedOf ("fold is the adjoint of unfold, " + name))
                let x = draw xShape
                let columns = Expr.unfold kernel stride padding dilation (constant x)
                let y = draw columns.Shape
                let back = Expr.fold xShape.[2..] kernel stride padding dilation (constant y)
                Expect.equal back.Shape xShape "fold's output shape is the input's"
                let left = Array.fold2 (fun s p q -> s + p * q) 0.0 (values columns) (y.ToDoubleArray())
                let right = Array.fold2 (fun s p q -> s + p * q) 0.0 (x.ToDoubleArray()) (values back)
                Expect.floatClose Accuracy.veryHigh right left "<unfold x, y> = <x, fold y>"
            }
        yield test "convTranspose2d adds its bias per output channel" {
            let draw = drawFrom 102
            let y, w, b = draw [| 1; 2; 3; 3 |], draw [| 2; 3; 2; 2 |], draw [| 3 |]
            let without = values (Convolution.convTranspose2d (1, 1) (0, 0) (0, 0) (1, 1) 1 (constant w) None (constant y))
            let withBias = values (Convolution.convTranspose2d (1, 1) (0, 0) (0, 0) (1, 1) 1 (constant w) (Some (constant b)) (constant y))
            let bs = b.ToDoubleArray()
            expectClose 1e-12 withBias (without |> Array.mapi (fun i v -> v + bs.[i / 16])) "bias"
        }
        for (name, kernel, stride, padding, dilation) in
            [ "kernel 2", (2, 2), (2, 2), (0, 0), (1, 1)
              "kernel 3 stride 2 padding 1", (3, 3), (2, 2), (1, 1), (1, 1)
              "kernel (2, 3) stride 1 dilation 2", (2, 3), (1, 1), (0, 1), (2, 2) ] ->
            test ("maxPool2d " + name) {
                let draw = drawFrom (seedOf ("maxPool2d " + name))
                let x = draw [| 2; 2; 7; 8 |]
                let ours = Convolution.maxPool2d kernel stride padding dilation (constant x)
                let expected, shape = referencePool kernel stride padding dilation Array.max Double.NegativeInfinity x
                Expect.equal ours.Shape shape "torch's output shape"
                expectClose 0.0 (values ours) expected "max pooling"
            }
        for (name, kernel, stride, padding) in
            [ "kernel 2", (2, 2), (2, 2), (0, 0)
              "kernel 3 stride 2 padding 1 (padding counts)", (3, 3), (2, 2), (1, 1)
              "kernel (3, 2) stride (1, 2)", (3, 2), (1, 2), (1, 0) ] ->
            test ("avgPool2d " + name) {
                let draw = drawFrom (seedOf ("avgPool2d " + name))
                let x = draw [| 2; 2; 7; 8 |]
                let ours = Convolution.avgPool2d kernel stride padding (constant x)
                let expected, shape = referencePool kernel stride padding (1, 1) Array.average 0.0 x
                Expect.equal ours.Shape shape "torch's output shape"
                expectClose 1e-14 (values ours) expected "average pooling"
            }
        yield test "a pooling stride of (0, 0) is the kernel size" {
            let draw = drawFrom 103
            let x = draw [| 1; 1; 6; 6 |]
            expectClose 0.0 (values (Convolution.maxPool2d (3, 2) (0, 0) (0, 0) (1, 1) (constant x)))
                            (values (Convolution.maxPool2d (3, 2) (3, 2) (0, 0) (1, 1) (constant x))) "default stride"
        }
        for (h, w, oh, ow) in [ 7, 5, 3, 2; 6, 6, 6, 6; 4, 5, 1, 1; 3, 2, 5, 4 ] ->
            test (sprintf "adaptiveAvgPool2d [%d,%d] to (%d, %d)" h w oh ow) {
                let draw = drawFrom (seedOf (sprintf "adaptiveAvgPool2d [%d,%d] to (%d, %d)" h w oh ow))
                let x = draw [| 2; 3; h; w |]
                let xs = x.ToDoubleArray()
                let expected =
                    [| for b in 0 .. 5 do
                         for i in 0 .. oh - 1 do
                             for j in 0 .. ow - 1 ->
                                 let r0, r1 = i * h / oh, ((i + 1) * h + oh - 1) / oh
                                 let c0, c1 = j * w / ow, ((j + 1) * w + ow - 1) / ow
                                 Array.average [| for r in r0 .. r1 - 1 do for col in c0 .. c1 - 1 -> xs.[(b * h + r) * w + col] |] |]
                let ours = Convolution.adaptiveAvgPool2d (oh, ow) (constant x)
                Expect.equal ours.Shape [| 2; 3; oh; ow |] "output shape"
                expectClose 1e-14 (values ours) expected "adaptive average"
            }
    ]

/// The gradient of a max pooling goes, per window, to the window's first largest entry (torch's
/// saved index), and overlapping windows add up where they pick the same entry.
let private tieTests =
    testList "max pooling ties" [
        test "an all-equal window sends its whole cotangent to its first entry" {
            let x = tensor [| 1; 1; 2; 4 |] (Array.create 8 1.5)
            let g = Diff.grad (fun v -> Expr.sum (Convolution.maxPool2d (2, 2) (2, 2) (0, 0) (1, 1) v * Expr.constant (tensor [| 1; 1; 1; 2 |] [| 3.0; 5.0 |]))) (constant x)
            expectClose 0.0 (values g) [| 3.0; 0.0; 5.0; 0.0; 0.0; 0.0; 0.0; 0.0 |] "first entry of each window"
        }
        test "overlapping windows add their cotangents at a shared winner" {
            // windows (stride 1, kernel 2) over [0, 2, 1]: both pick the 2
            let x = tensor [| 1; 1; 1; 3 |] [| 0.0; 2.0; 1.0 |]
            let g = Diff.grad (fun v -> Expr.sum (Convolution.maxPool2d (1, 2) (1, 1) (0, 0) (1, 1) v)) (constant x)
            expectClose 0.0 (values g) [| 0.0; 2.0; 0.0 |] "shared winner"
        }
    ]

/// A case for the derivative checks: inputs' shapes and the function.
type private DerivativeCase = { Name: string; Shapes: int[] list; F: Expr list -> Expr }

let private derivativeCases : DerivativeCase list =
    let c name shapes f = { Name = name; Shapes = shapes; F = f }
    [ c "conv2d padding 1 with bias" [ [| 2; 2; 4; 4 |]; [| 3; 2; 3; 3 |]; [| 3 |] ]
          (fun xs -> conv2d { plain with Padding = (1, 1) } xs.[1] (Some xs.[2]) xs.[0])
      c "conv2d stride 2 dilation (1, 2) groups 2" [ [| 1; 4; 5; 6 |]; [| 2; 2; 2; 2 |] ]
          (fun xs -> conv2d { Stride = (2, 2); Padding = (1, 0); Dilation = (1, 2); Groups = 2 } xs.[1] None xs.[0])
      c "conv1d stride 2 padding 1" [ [| 2; 2; 7 |]; [| 2; 2; 3 |] ] (fun xs -> Convolution.conv1d 2 1 1 1 xs.[1] None xs.[0])
      c "convTranspose2d stride 2 padding 1 outputPadding 1" [ [| 1; 2; 3; 3 |]; [| 2; 2; 3; 3 |]; [| 2 |] ]
          (fun xs -> Convolution.convTranspose2d (2, 2) (1, 1) (1, 1) (1, 1) 1 xs.[1] (Some xs.[2]) xs.[0])
      c "convTranspose2d groups 2 dilation 2" [ [| 1; 2; 3; 3 |]; [| 2; 1; 2; 2 |] ]
          (fun xs -> Convolution.convTranspose2d (1, 1) (0, 0) (0, 0) (2, 2) 2 xs.[1] None xs.[0])
      c "unfold kernel (2, 3) stride 2 padding 1 dilation (1, 2)" [ [| 1; 2; 5; 6 |] ]
          (fun xs -> Expr.sin (Expr.unfold [| 2; 3 |] [| 2; 2 |] [| 1; 1 |] [| 1; 2 |] xs.[0]))
      c "fold kernel 2 stride 2 padding 1 to [5; 5]" [ [| 2; 8; 9 |] ]
          (fun xs -> Expr.sin (Expr.fold [| 5; 5 |] [| 2; 2 |] [| 2; 2 |] [| 1; 1 |] [| 1; 1 |] xs.[0]))
      // pooling inside a smooth function, so the second order is not trivially zero
      c "maxPool2d kernel 3 stride 2 padding 1" [ [| 1; 2; 5; 5 |] ] (fun xs -> Expr.sin (Convolution.maxPool2d (3, 3) (2, 2) (1, 1) (1, 1) xs.[0]))
      c "avgPool2d kernel 2 padding 1" [ [| 1; 2; 4; 5 |] ] (fun xs -> Expr.sin (Convolution.avgPool2d (2, 2) (1, 1) (1, 1) xs.[0]))
      c "adaptiveAvgPool2d to (2, 3)" [ [| 1; 2; 5; 4 |] ] (fun xs -> Expr.sin (Convolution.adaptiveAvgPool2d (2, 3) xs.[0])) ]

let private points (index: int) (c: DerivativeCase) =
    let random = Random(2000 + index)
    let points = c.Shapes |> List.map (sample random Normal)
    let outputShape = (c.F (c.Shapes |> List.map (fun s -> Expr.variable "probe" s DType.Float64))).Shape
    points, sample random Normal outputShape, c.Shapes |> List.map (sample random Normal)

// Same tolerances as the rules' table (VjpRuleTests): FD error ~1e-9 at first order.
let private derivativeTests =
    testList "derivatives vs finite differences" [
        for index, c in List.indexed derivativeCases do
            test ("order 1: " + c.Name) {
                let pts, w, _ = points index c
                let phi xs = inner (c.F xs) w
                let ours = Diff.gradN phi (pts |> List.map constant) |> List.map values
                List.iteri2 (fun i o r -> expectClose 1e-6 o r (sprintf "input %d" i)) ours (numericGradient phi pts)
            }
            test ("order 2: " + c.Name) {
                let pts, w, directions = points index c
                let phi xs = inner (c.F xs) w
                let psi xs = List.map2 inner (Diff.gradN phi xs) directions |> List.reduce (+)
                let ours = Diff.gradN psi (pts |> List.map constant) |> List.map values
                List.iteri2 (fun i o r -> expectClose 1e-5 o r (sprintf "input %d" i)) ours (numericGradient psi pts)
            }
    ]

let private fails (f: unit -> Expr) =
    try
        f () |> ignore
        failtest "expected a ShapeException"
    with :? ShapeException as e -> e.Message

let private errorTests =
    let v name shape = Expr.variable name shape DType.Float64
    let x = v "x" [| 2; 3; 8; 8 |]
    let expectAll (message: string) (parts: string list) =
        for p in parts do Expect.stringContains message p (sprintf "%s names %s" message p)
    testList "errors name the method, the parameter and the shapes" [
        test "channel mismatch" {
            expectAll (fails (fun () -> conv2d plain (v "w" [| 4; 2; 3; 3 |]) None x)) [ "Conv2d"; "input [2,3,8,8]"; "weight [4,2,3,3]" ]
        }
        test "groups not dividing the channels" {
            expectAll (fails (fun () -> conv2d { plain with Groups = 2 } (v "w" [| 4; 1; 3; 3 |]) None x)) [ "Conv2d"; "groups 2"; "[2,3,8,8]" ]
        }
        test "an empty output" {
            expectAll (fails (fun () -> conv2d plain (v "w" [| 4; 3; 9; 9 |]) None x)) [ "Conv2d"; "empty output"; "[2,3,8,8]" ]
            expectAll (fails (fun () -> Convolution.maxPool2d (3, 3) (1, 1) (0, 0) (5, 5) x)) [ "MaxPool2d"; "empty output" ]
        }
        test "a bias of the wrong length" {
            expectAll (fails (fun () -> conv2d plain (v "w" [| 4; 3; 3; 3 |]) (Some (v "b" [| 3 |])) x)) [ "Conv2d"; "bias [3]" ]
        }
        test "a stride of 0 and a negative padding" {
            expectAll (fails (fun () -> conv2d { plain with Stride = (0, 1) } (v "w" [| 4; 3; 3; 3 |]) None x)) [ "Conv2d"; "stride" ]
            expectAll (fails (fun () -> conv2d { plain with Padding = (-1, 0) } (v "w" [| 4; 3; 3; 3 |]) None x)) [ "Conv2d"; "padding" ]
        }
        test "a wrong input rank" {
            expectAll (fails (fun () -> Convolution.conv1d 1 0 1 1 (v "w" [| 4; 3; 3 |]) None x)) [ "Conv1d"; "[N, C, L]" ]
        }
        test "transposed: channel mismatch and outputPadding too large" {
            expectAll (fails (fun () -> Convolution.convTranspose2d (1, 1) (0, 0) (0, 0) (1, 1) 1 (v "w" [| 4; 2; 3; 3 |]) None x)) [ "ConvTranspose2d"; "[4,2,3,3]" ]
            expectAll (fails (fun () -> Convolution.convTranspose2d (2, 2) (0, 0) (2, 0) (1, 1) 1 (v "w" [| 3; 2; 3; 3 |]) None x)) [ "ConvTranspose2d"; "outputPadding" ]
        }
        test "pooling padding above half the kernel" {
            expectAll (fails (fun () -> Convolution.avgPool2d (2, 2) (2, 2) (2, 0) x)) [ "AvgPool2d"; "padding"; "kernelSize" ]
        }
    ]

/// A plan runs unfold and fold into its own reused buffers: a compiled step must give what the
/// node-by-node interpreter gives, bit for bit, on every call (a buffer reused too early would not).
let private planTests =
    testList "compiled plans" [
        for dtype in [ DType.Float64; DType.Float32 ] ->
            test (sprintf "a conv + pool training step compiles to the interpreter's values, %O" dtype) {
                let random = Random(31)
                let draw (shape: int[]) = (sample random Normal shape).Cast dtype
                let loss (q: Expr list) (x: Expr) =
                    let h = Convolution.maxPool2d (2, 2) (0, 0) (0, 0) (1, 1) (Expr.tanh (Convolution.conv2d (1, 1) (1, 1) (1, 1) 1 q.[0] (Some q.[1]) x))
                    let t = Convolution.convTranspose2d (2, 2) (0, 0) (0, 0) (1, 1) 1 q.[2] None h
                    Expr.sum (Expr.square (Convolution.avgPool2d (2, 2) (0, 0) (0, 0) t))
                let step (p: Expr[]) =
                    let value, gradients = Diff.valueAndGradN (fun q -> loss q p.[3]) (List.ofArray p.[0..2])
                    Array.ofList (value :: gradients)
                let inputs = [| draw [| 4; 2; 3; 3 |]; draw [| 4 |]; draw [| 4; 3; 2; 2 |]; draw [| 2; 2; 6; 6 |] |]
                let expected = step (inputs |> Array.map Expr.constant) |> Array.map values
                let compiled = Compile.compile step
                for call in 1 .. 3 do
                    let actual = compiled.Invoke inputs |> Array.map (fun t -> t.ToDoubleArray())
                    Array.iteri2 (fun i (a: float[]) e -> expectClose 0.0 a e (sprintf "call %d, result %d" call i)) actual expected
            }
    ]

[<Tests>]
let tests = testList "Convolution" [ valueTests; tieTests; derivativeTests; errorTests; planTests ]
