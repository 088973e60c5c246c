/// Specifications of the structural ops against explicit index loops, including which of them
/// are views (sharing storage) and the errors they raise.
module FunctionalDiff.Core.Tests.TensorStructuralTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.TensorTestSupport

let private sharesStorage (a: Tensor) (b: Tensor) = obj.ReferenceEquals(a.Storage, b.Storage)

/// Python slice semantics on one axis, written as explicit expected index lists.
let sliceCases : (int * int * int * int * int list) list =
    // size, start, stop, step, the indices Python's range(size)[start:stop:step] selects
    [ 7, 1, 6, 2, [ 1; 3; 5 ]
      7, -3, 100, 1, [ 4; 5; 6 ]
      7, -100, 2, 1, [ 0; 1 ]
      7, 5, 2, 1, []
      7, 0, 7, 3, [ 0; 3; 6 ]
      7, -1, 7, 5, [ 6 ]
      0, 0, 3, 1, [] ]

let tests =
    testList "Structural" [
        test "gather and scatter-add with one index per row (index_select's broadcast index) copy and add whole rows, as the index loops do" {
            // an index of shape [k, 1] broadcast to [k, n] has stride 0 along its last axis: the kernels copy (gather)
            // or add (scatter) whole rows; repeated indices must add in order, and views of the input read through strides
            let picks = [| 3.0; 0.0; 3.0; 1.0; 4.0; 3.0 |]
            for dtype in dtypes do
                for name, input in variants dtype [| 5; 7 |] (randomValues 67 -1.0 1.0 35) do
                    let index = Structural.broadcastTo [| picks.Length; 7 |] ((Tensor.FromArray(picks, [| picks.Length; 1 |])).Cast dtype)
                    Expect.equal index.Strides.[1] 0 "the broadcast index repeats each row's value"
                    let gathered = Structural.gather 0 index input
                    Expect.equal (read gathered) (allIndices [| picks.Length; 7 |] |> Array.map (fun i -> input.[[| int picks.[i.[0]]; i.[1] |]])) ("gather rows " + name)
                let source = (Tensor.FromArray(randomValues 71 -1.0 1.0 (picks.Length * 7), [| picks.Length; 7 |])).Cast dtype
                let index = Structural.broadcastTo [| picks.Length; 7 |] ((Tensor.FromArray(picks, [| picks.Length; 1 |])).Cast dtype)
                let scattered = Structural.scatterAdd 0 index source [| 5; 7 |]
                let expected = Array.zeroCreate<float> 35
                let values = source.ToDoubleArray()
                for r in 0 .. picks.Length - 1 do
                    for j in 0 .. 6 do
                        let q = int picks.[r] * 7 + j
                        // in the dtype, in the loop's order
                        expected.[q] <- if dtype = DType.Float32 then float (float32 expected.[q] + float32 values.[r * 7 + j]) else expected.[q] + values.[r * 7 + j]
                Expect.equal (scattered.ToDoubleArray()) expected (sprintf "scatter-add of rows, %O" dtype)
        }
        test "gather and scatter-add with an index that varies along its axis only (index_select's vector, broadcast) follow the index loops at every axis" {
            // positions along the axis, repeated so that scatter-add accumulates, checked once; the kernels copy
            // blocks of the entries after the axis (or single entries at the last axis); views of the input read
            // through strides
            let picks = [| 2.0; 0.0; 2.0; 1.0; 3.0 |]
            let dims = [| 4; 4; 4 |]
            for dtype in dtypes do
                for axis in 0 .. 2 do
                    let alongAxis = Array.init 3 (fun d -> if d = axis then picks.Length else 1)
                    let indexShape = Array.init 3 (fun d -> if d = axis then picks.Length else dims.[d])
                    let index = Structural.broadcastTo indexShape ((Tensor.FromArray(picks, alongAxis)).Cast dtype)
                    for name, input in variants dtype dims (randomValues (80 + axis) -1.0 1.0 64) do
                        let gathered = Structural.gather axis index input
                        let expected = allIndices indexShape |> Array.map (fun i -> input.[Array.updateAt axis (int picks.[i.[axis]]) i])
                        Expect.equal (read gathered) expected (sprintf "gather along axis %d, %s, %O" axis name dtype)
                    let source = (Tensor.FromArray(randomValues (90 + axis) -1.0 1.0 (Array.reduce (*) indexShape), indexShape)).Cast dtype
                    let scattered = Structural.scatterAdd axis index source dims
                    let expected = Array.zeroCreate<float> 64
                    let values = source.ToDoubleArray()
                    // the loop over the index in row-major order, each sum in the dtype
                    allIndices indexShape |> Array.iteri (fun e i ->
                        let t = Array.updateAt axis (int picks.[i.[axis]]) i
                        let q = (t.[0] * 4 + t.[1]) * 4 + t.[2]
                        expected.[q] <- if dtype = DType.Float32 then float (float32 expected.[q] + float32 values.[e]) else expected.[q] + values.[e])
                    Expect.equal (scattered.ToDoubleArray()) expected (sprintf "scatter-add along axis %d, %O" axis dtype)
                    // a position out of range fails before anything is written, naming the op and the axis
                    let bad = Structural.broadcastTo indexShape ((Tensor.FromArray(Array.append picks.[.. picks.Length - 2] [| 4.0 |], alongAxis)).Cast dtype)
                    expectShapeError [ "ScatterAdd"; "index 4"; sprintf "axis %d" axis ] (fun () -> Structural.scatterAdd axis bad source dims)
                    expectShapeError [ "Gather"; "index 4" ] (fun () -> Structural.gather axis bad (Tensor.FromArray(randomValues 5 -1.0 1.0 64, dims).Cast dtype))
                // an empty index (no positions, every stride 0) gathers nothing and scatters zeros (fuzz 13/174, 13/175)
                let empty = (Tensor.FromArray(Array.empty<float>, [| 2; 0 |])).Cast dtype
                let gathered = Structural.gather 0 empty ((Tensor.FromArray(Array.empty<float>, [| 1; 0 |])).Cast dtype)
                Expect.equal gathered.Shape [| 2; 0 |] "gather of an empty index"
                let emptySource = (Tensor.FromArray(Array.empty<float>, [| 1; 0 |])).Cast dtype
                let scattered = Structural.scatterAdd 0 ((Tensor.FromArray(Array.empty<float>, [| 1; 0 |])).Cast dtype) emptySource [| 1; 3 |]
                Expect.equal (scattered.ToDoubleArray()) [| 0.0; 0.0; 0.0 |] "scatter-add of an empty index"
        }
        test "permute, transpose and broadcastTo are views that read like their index maps" {
            for dtype in dtypes do
                for name, input in variants dtype [| 2; 3; 4 |] (randomValues 61 -1.0 1.0 24) do
                    let p = Structural.permute [| 2; 0; -2 |] input
                    Expect.isTrue (sharesStorage p input) "permute is a view"
                    Expect.equal (read p) (allIndices [| 4; 2; 3 |] |> Array.map (fun i -> input.[[| i.[1]; i.[2]; i.[0] |]])) ("permute " + name)
                    let t = Structural.transpose input
                    Expect.equal (read t) (allIndices [| 4; 3; 2 |] |> Array.map (fun i -> input.[Array.rev i])) ("transpose " + name)
                    let b = Structural.broadcastTo [| 5; 2; 3; 4 |] input
                    Expect.isTrue (sharesStorage b input) "broadcastTo is a view"
                    Expect.equal (read b) (allIndices [| 5; 2; 3; 4 |] |> Array.map (fun i -> input.[i.[1..]])) ("broadcastTo " + name)
            let column = Tensor.ofArray64 [| 3; 1 |] [| 1.0; 2.0; 3.0 |]
            Expect.equal (read (Structural.broadcastTo [| 3; 2 |] column)) [| 1.0; 1.0; 2.0; 2.0; 3.0; 3.0 |] "stretch size 1"
            expectShapeError [ "BroadcastTo"; "[3,1]"; "[2,2]" ] (fun () -> Structural.broadcastTo [| 2; 2 |] column)
            expectShapeError [ "Permute"; "[0,0]" ] (fun () -> Structural.permute [| 0; 0 |] column)
        }
        test "reshape is a view of contiguous data, copies views, and infers one -1" {
            let dense = Tensor.ofArray64 [| 2; 6 |] [| 0.0 .. 11.0 |]
            let r = Structural.reshape [| 3; -1 |] dense
            Expect.equal r.Shape [| 3; 4 |] "inferred"
            Expect.isTrue (sharesStorage r dense) "view"
            Expect.equal (read r) [| 0.0 .. 11.0 |] "row-major order"
            for name, input in variants DType.Float32 [| 2; 3; 2 |] (randomValues 62 -1.0 1.0 12) do
                Expect.equal (read (Structural.reshape [| 4; 3 |] input)) (read input) ("reshape " + name)
            expectShapeError [ "Reshape"; "[2,6]"; "[5,2]" ] (fun () -> Structural.reshape [| 5; 2 |] dense)
            expectShapeError [ "Reshape"; "[-1,-1]" ] (fun () -> Structural.reshape [| -1; -1 |] dense)
            Expect.equal (Structural.reshape [| 4; 0 |] (Tensor.zeros DType.Float64 [| 0; 4 |])).Shape [| 4; 0 |] "zero-size"
            // as in torch, -1 next to a 0 could be anything, so it is refused
            expectShapeError [ "Reshape"; "[0,-1]"; "[0,4]" ] (fun () -> Structural.reshape [| 0; -1 |] (Tensor.zeros DType.Float64 [| 0; 4 |]))
        }
        test "slice follows Python semantics on every axis, as a view" {
            for size, start, stop, step, expected in sliceCases do
                let input = Tensor.ofArray64 [| 2; size |] (Array.init (2 * size) float)
                let s = Structural.sliceAxis -1 start stop step input
                Expect.isTrue (sharesStorage s input) "view"
                let expectedValues = [| for row in 0 .. 1 do for j in expected -> float (row * size + j) |]
                Expect.equal (read s) expectedValues (sprintf "[%d:%d:%d] of %d" start stop step size)
            for name, input in variants DType.Float64 [| 4; 5 |] (randomValues 63 -1.0 1.0 20) do
                let s = Structural.slice [| 1; -4 |] [| 4; 5 |] [| 2; 3 |] input
                Expect.equal (read s) [| for i in [ 1; 3 ] do for j in [ 1; 4 ] -> input.[[| i; j |]] |] ("2-d " + name)
            expectShapeError [ "Slice"; "step 0"; "axis 0" ] (fun () -> Structural.sliceAxis 0 0 1 0 (Tensor.zeros DType.Float64 [| 3 |]))
        }
        test "flip is a negative-stride view, and copying it out reverses the elements" {
            for name, input in variants DType.Float64 [| 3; 4 |] (randomValues 64 -1.0 1.0 12) do
                for axes in [ [| 0 |]; [| -1 |]; [| 0; 1 |]; [||] ] do
                    let f = Structural.flip axes input
                    let normalized = axes |> Array.map (fun a -> (a + 2) % 2)
                    let expected = allIndices [| 3; 4 |] |> Array.map (fun i -> input.[i |> Array.mapi (fun a x -> if Array.contains a normalized then input.Shape.[a] - 1 - x else x)])
                    Expect.equal (read f) expected (sprintf "flip %A %s" axes name)
                    // Contiguous() runs Strided.copy over the negative strides
                    Expect.equal (f.Contiguous().ToDoubleArray()) expected (sprintf "copy of flip %A %s" axes name)
        }
        test "pad surrounds the input with zeros" {
            for name, input in variants DType.Float32 [| 2; 3 |] (randomValues 65 -1.0 1.0 6) do
                let p = Structural.pad [| 1; 0 |] [| 2; 3 |] input
                Expect.equal p.Shape [| 5; 6 |] "shape"
                let expected = allIndices [| 5; 6 |] |> Array.map (fun i -> if i.[0] >= 1 && i.[0] < 3 && i.[1] < 3 then input.[[| i.[0] - 1; i.[1] |]] else 0.0)
                Expect.equal (read p) expected ("pad " + name)
            expectShapeError [ "Pad"; "[-1]" ] (fun () -> Structural.pad [| -1 |] [| 0 |] (Tensor.zeros DType.Float64 [| 2 |]))
        }
        test "concat and stack place each part at its offset, promoting dtypes" {
            let a = tensorOf DType.Float32 [| 2; 3 |] (randomValues 66 -1.0 1.0 6)
            let b = Structural.transpose (tensorOf DType.Float64 [| 3; 2 |] (randomValues 67 -1.0 1.0 6))
            let c = tensorOf DType.Float64 [| 2; 0 |] [||]
            let joined = Structural.concat -1 [| a; b; c |]
            Expect.equal joined.Shape [| 2; 6 |] "axis -1 shape"
            Expect.equal joined.DType DType.Float64 "promoted"
            Expect.equal (read joined) (allIndices [| 2; 6 |] |> Array.map (fun i -> if i.[1] < 3 then a.[i] else b.[[| i.[0]; i.[1] - 3 |]])) "axis -1"
            let rows = Structural.concat 0 [| a; b |]
            Expect.equal (read rows) (Array.append (read a) (read b)) "axis 0"
            for axis in [ 0; 1; 2; -1 ] do
                let s = Structural.stack axis [| a; Structural.flip [| 0 |] a |]
                let a' = (axis + 3) % 3
                let shape = Array.insertAt a' 2 [| 2; 3 |]
                Expect.equal s.Shape shape "stack shape"
                let expected = allIndices shape |> Array.map (fun i -> let part = i.[a'] in let rest = Array.removeAt a' i in if part = 0 then a.[rest] else a.[[| 1 - rest.[0]; rest.[1] |]])
                Expect.equal (read s) expected (sprintf "stack %d" axis)
            expectShapeError [ "Concat"; "[2,3]"; "[3,3]" ] (fun () -> Structural.concat 1 [| a; Tensor.zeros DType.Float32 [| 3; 3 |] |])
            expectShapeError [ "Stack"; "[2,3]"; "[3,2]" ] (fun () -> Structural.stack 0 [| a; Tensor.zeros DType.Float32 [| 3; 2 |] |])
        }
        test "gather follows torch.gather on views, and scatterAdd is its transpose" {
            let index = Tensor.ofArray64 [| 2; 3 |] [| 2.0; 0.0; 1.0; 1.0; 1.0; 0.0 |]
            for dtype in dtypes do
                for name, input in variants dtype [| 3; 4 |] (randomValues 68 -1.0 1.0 12) do
                    // axis 0: out[i][j] = input[index[i][j]][j]
                    let g0 = Structural.gather 0 index input
                    Expect.equal (read g0) (allIndices [| 2; 3 |] |> Array.map (fun i -> input.[[| int index.[i]; i.[1] |]])) ("axis 0 " + name)
                    // axis -1: out[i][j] = input[i][index[i][j]]
                    let g1 = Structural.gather -1 index input
                    Expect.equal (read g1) (allIndices [| 2; 3 |] |> Array.map (fun i -> input.[[| i.[0]; int index.[i] |]])) ("axis 1 " + name)
                    Expect.equal g1.DType dtype "dtype"
            // scatterAdd against the loop, with repeated indices accumulating
            let source = Tensor.ofArray32 [| 2; 3 |] [| 1.0f; 2.0f; 3.0f; 4.0f; 5.0f; 6.0f |]
            let scattered = Structural.scatterAdd 0 index source [| 3; 4 |]
            let expected = Array.zeroCreate 12
            for i in allIndices [| 2; 3 |] do
                let k = int index.[i] * 4 + i.[1]
                expected.[k] <- expected.[k] + source.[i]
            Expect.equal (read scattered) expected "scatterAdd"
            Expect.equal scattered.DType DType.Float32 "dtype of source"
            // adjoint identity <gather(x), g> = <x, scatterAdd(g)> for both axes
            let x = tensorOf DType.Float64 [| 3; 4 |] (randomValues 69 -1.0 1.0 12)
            let g = tensorOf DType.Float64 [| 2; 3 |] (randomValues 70 -1.0 1.0 6)
            for axis in [ 0; 1 ] do
                let left = Array.map2 (*) (read (Structural.gather axis index x)) (read g) |> Array.sum
                let right = Array.map2 (*) (read x) (read (Structural.scatterAdd axis index g [| 3; 4 |])) |> Array.sum
                Expect.floatClose Accuracy.high left right (sprintf "adjoint axis %d" axis)
            expectShapeError [ "Gather"; "index 3"; "axis 1"; "size 3" ] (fun () -> Structural.gather 1 (Tensor.ofArray64 [| 1; 1 |] [| 3.0 |]) (Tensor.zeros DType.Float64 [| 2; 3 |]))
            expectShapeError [ "Gather"; "index 0.5" ] (fun () -> Structural.gather 0 (Tensor.ofArray64 [| 1; 1 |] [| 0.5 |]) (Tensor.zeros DType.Float64 [| 2; 3 |]))
            expectShapeError [ "Gather"; "[1,4]"; "[2,3]" ] (fun () -> Structural.gather 0 (Tensor.zeros DType.Float64 [| 1; 4 |]) (Tensor.zeros DType.Float64 [| 2; 3 |]))
            expectShapeError [ "ScatterAdd"; "index -1" ] (fun () -> Structural.scatterAdd 0 (Tensor.ofArray64 [| 1 |] [| -1.0 |]) (Tensor.zeros DType.Float64 [| 1 |]) [| 2 |])
        }
        test "views of views feed every kernel kind" {
            // a broadcast of a flipped slice of a permuted tensor: strides 0, negative and stepped at once
            let baseTensor = tensorOf DType.Float64 [| 4; 6 |] (randomValues 71 0.5 1.5 24)
            let view =
                baseTensor |> Structural.transpose |> Structural.sliceAxis 0 1 6 2 |> Structural.flip [| 1 |]
                |> Structural.reshape [| 3; 1; 4 |] |> Structural.broadcastTo [| 3; 2; 4 |]
            let values = read view
            Expect.equal (read (Elementwise.unary UnaryOp.Square view)) (values |> Array.map (fun x -> x * x)) "unary"
            Expect.equal (read (Elementwise.binary BinaryOp.Mul view view)) (values |> Array.map (fun x -> x * x)) "binary"
            let _, expectedSum = TensorReductionTests.referenceReduce ReduceOp.Sum [| 1 |] false view
            expectClose 1e-15 0.0 expectedSum (read (Reduction.reduce ReduceOp.Sum [| 1 |] false view)) "reduce"
            let index = Tensor.zeros DType.Float64 [| 3; 2; 1 |]
            Expect.equal (read (Structural.gather 2 index view)) (allIndices [| 3; 2; 1 |] |> Array.map (fun i -> view.[[| i.[0]; i.[1]; 0 |]])) "gather"
            Expect.equal (read (Structural.concat 0 [| view; view |])) (Array.append values values) "concat"
        }
    ]
