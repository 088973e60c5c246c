/// vmap, primitive by primitive: for every batching rule, every placement of every argument's
/// batch axis (and no axis: an argument shared by all examples), the batched graph's value equals
/// a loop that applies the primitive to one example at a time. Elementwise and structural ops
/// must agree exactly; products and reductions may sum in another order, within a few ulps.
module FunctionalDiff.Core.Tests.VmapPrimitiveTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport
open FunctionalDiff.Core.Tests.VmapSupport

/// How one argument's per-example values are drawn.
type ArgKind =
    | Draw of Domain * int[]
    /// Integers in [0, bound), for gather and scatter-add indices and where's mask.
    | Index of bound: int * int[]

let private dimsOf (kind: ArgKind) = match kind with Draw(_, d) -> d | Index(_, d) -> d

/// One primitive under vmap: its arguments and the ulps its sums may differ by.
type VmapCase = { Name: string; Args: ArgKind list; F: Expr list -> Expr; Ulps: float }

let private case name args f = { Name = name; Args = args; F = f; Ulps = 0.0 }
let private summing ulps c = { c with Ulps = ulps }

let private one (f: Expr -> Expr) = fun (xs: Expr list) -> f xs.[0]
let private two (f: Expr -> Expr -> Expr) = fun (xs: Expr list) -> f xs.[0] xs.[1]
let private three (f: Expr -> Expr -> Expr -> Expr) = fun (xs: Expr list) -> f xs.[0] xs.[1] xs.[2]

let private domainOf (op: UnaryOp) =
    match op with
    | UnaryOp.Log | UnaryOp.Sqrt | UnaryOp.Rsqrt | UnaryOp.Reciprocal | UnaryOp.Log1p | UnaryOp.Lgamma -> Positive
    | UnaryOp.Tan -> Unit
    | _ -> Normal

let private unionCases<'T> () =
    Reflection.FSharpType.GetUnionCases typeof<'T> |> Array.map (fun c -> Reflection.FSharpValue.MakeUnion(c, [||]) :?> 'T)

let cases : VmapCase list =
    [ for op in unionCases<UnaryOp> () do
          yield case (sprintf "%A" op) [ Draw(domainOf op, [| 2; 3 |]) ] (one (Expr.unary op))
      for op in unionCases<BinaryOp> () do
          let left = if op = BinaryOp.Pow then Positive else Normal
          yield case (sprintf "%A, [2,3] with [3]" op) [ Draw(left, [| 2; 3 |]); Draw(Normal, [| 3 |]) ] (two (Expr.binary op))
      yield case "Add, [2,1] with [3]" [ Draw(Normal, [| 2; 1 |]); Draw(Normal, [| 3 |]) ] (two (+))
      yield case "Mul, [] with [2,2]" [ Draw(Normal, [||]); Draw(Normal, [| 2; 2 |]) ] (two (*))
      yield case "Where" [ Index(2, [| 2; 3 |]); Draw(Normal, [| 2; 3 |]); Draw(Normal, [| 3 |]) ] (three Expr.where)
      for op in unionCases<ReduceOp> () do
          for axes in [ [| 0 |]; [| 1 |]; [| 0; 1 |] ] do
              for keep in [ false; true ] do
                  yield case (sprintf "Reduce %A over %A, keepDims %b" op axes keep) [ Draw(Positive, [| 2; 3 |]) ] (one (Expr.reduce op axes keep)) |> summing 2.0
      for axis in [ 0; 1 ] do
          for keep in [ false; true ] do
              yield case (sprintf "ArgMax axis %d, keepDims %b" axis keep) [ Draw(Normal, [| 3; 4 |]) ] (one (Expr.argmax axis keep))
      for a, b in [ [| 3 |], [| 3 |]; [| 2; 3 |], [| 3 |]; [| 3 |], [| 3; 2 |]; [| 2; 3 |], [| 3; 4 |]; [| 2; 2; 3 |], [| 3; 4 |]
                    [| 3 |], [| 2; 3; 4 |]; [| 2; 2; 3 |], [| 2; 3; 4 |]; [| 2; 3 |], [| 2; 3; 4 |]; [| 2; 2; 3 |], [| 3 |] ] do
          yield case (sprintf "MatMul %s @ %s" (Shape.format a) (Shape.format b)) [ Draw(Normal, a); Draw(Normal, b) ] (two Expr.matmul) |> summing 4.0
      yield case "Permute" [ Draw(Normal, [| 2; 3; 4 |]) ] (one (Expr.permute [| 2; 0; 1 |]))
      for target in [ [| 3; 2 |]; [| 6 |]; [| 1; 6; 1 |] ] do
          yield case (sprintf "Reshape to %s" (Shape.format target)) [ Draw(Normal, [| 2; 3 |]) ] (one (Expr.reshape target))
      for source, target in [ [| 3 |], [| 2; 3 |]; [| 2; 1 |], [| 2; 3 |]; [||], [| 2; 2 |] ] do
          yield case (sprintf "BroadcastTo %s from %s" (Shape.format target) (Shape.format source)) [ Draw(Normal, source) ] (one (Expr.broadcastTo target))
      yield case "Slice, strided" [ Draw(Normal, [| 5; 4 |]) ] (one (Expr.slice [| 1; 0 |] [| 5; 3 |] [| 2; 1 |]))
      yield case "Pad" [ Draw(Normal, [| 2; 3 |]) ] (one (Expr.pad [| 1; 0 |] [| 0; 2 |]))
      yield case "Concat of two" [ Draw(Normal, [| 2; 3 |]); Draw(Normal, [| 2; 1 |]) ] (fun xs -> Expr.concat 1 xs)
      yield case "Concat of three" [ Draw(Normal, [| 1; 2 |]); Draw(Normal, [| 2; 2 |]); Draw(Normal, [| 1; 2 |]) ] (fun xs -> Expr.concat 0 xs)
      for axes in [ [| 1 |]; [| 0; 1 |] ] do
          yield case (sprintf "Flip %A" axes) [ Draw(Normal, [| 2; 3 |]) ] (one (Expr.flip axes))
      yield case "Gather axis 0" [ Draw(Normal, [| 4; 3 |]); Index(4, [| 2; 3 |]) ] (two (fun source index -> Expr.gather 0 index source))
      yield case "Gather axis 1" [ Draw(Normal, [| 2; 5 |]); Index(5, [| 2; 3 |]) ] (two (fun source index -> Expr.gather 1 index source))
      yield case "ScatterAdd axis 0" [ Index(4, [| 2; 3 |]); Draw(Normal, [| 2; 3 |]) ] (two (fun index source -> Expr.scatterAdd 0 index source [| 4; 3 |]))
      yield case "ScatterAdd axis 1" [ Index(2, [| 2; 3 |]); Draw(Normal, [| 2; 3 |]) ] (two (fun index source -> Expr.scatterAdd 1 index source [| 2; 2 |]))
      yield case "Cast to float32" [ Draw(Normal, [| 2; 3 |]) ] (one (Expr.cast DType.Float32))
      yield case "StopGradient" [ Draw(Normal, [| 2; 3 |]) ] (one Expr.stopGradient)
      // Linear algebra: inputs made valid per example (x xᵀ + 3 I is positive definite, x + 3 I
      // well conditioned, x + xᵀ symmetric); the kernels loop over batches, so the ulps allow only
      // for a different order of the same sums.
      let spd (x: Expr) = Expr.matmul x (Expr.transpose x) + 3.0 * Linalg.identity x.DType 3
      let shifted (x: Expr) = x + 3.0 * Linalg.identity x.DType 3
      yield case "Cholesky" [ Draw(Normal, [| 3; 3 |]) ] (one (spd >> Linalg.cholesky)) |> summing 4.0
      for upper in [ false; true ] do
          for left in [ false; true ] do
              let b = if left then [| 3; 2 |] else [| 2; 3 |]
              yield case (sprintf "TriangularSolve upper %b, left %b" upper left) [ Draw(Normal, [| 3; 3 |]); Draw(Normal, b) ]
                        (two (fun t b -> LinalgNodes.triangularSolve upper left false (shifted t) b)) |> summing 4.0
      yield case "Solve" [ Draw(Normal, [| 3; 3 |]); Draw(Normal, [| 3; 2 |]) ] (two (fun a b -> Linalg.solve (shifted a) b)) |> summing 4.0
      yield case "SlogDet" [ Draw(Normal, [| 3; 3 |]) ] (one (shifted >> LinalgNodes.slogdet)) |> summing 4.0
      yield case "Qr" [ Draw(Normal, [| 4; 3 |]) ] (one LinalgNodes.qr) |> summing 4.0
      yield case "Lu" [ Draw(Normal, [| 3; 3 |]) ] (one (LinalgNodes.lu "LuFactor")) |> summing 4.0
      // the pivots of each example's own factorisation, so every example gets valid and different ones
      yield case "LuPermutation of a draw's pivots" [ Draw(Normal, [| 3; 3 |]) ]
                (one (fun a -> LinalgNodes.luPermutation "LuUnpack" (Expr.reshape [| 3 |] (Expr.sliceAxis 0 3 4 (LinalgNodes.lu "LuFactor" a)))))
      yield case "Eigh" [ Draw(Normal, [| 3; 3 |]) ] (one (fun x -> LinalgNodes.eigh (x + Expr.transpose x))) |> summing 4.0
      yield case "Svd tall" [ Draw(Normal, [| 4; 3 |]) ] (one LinalgNodes.svd) |> summing 4.0
      yield case "Svd wide" [ Draw(Normal, [| 2; 3 |]) ] (one LinalgNodes.svd) |> summing 4.0
      yield case "MatrixExp" [ Draw(Normal, [| 3; 3 |]) ] (one Linalg.matrixExp) |> summing 4.0
      for order in [ 0; 1; 2 ] do
          yield case (sprintf "Polygamma of order %d" order) [ Draw(Positive, [| 2; 3 |]) ] (one (Expr.polygamma order))
      for axis in [ 0; 1 ] do
          for descending in [ false; true ] do
              yield case (sprintf "ArgSort axis %d, descending %b" axis descending) [ Draw(Normal, [| 3; 4 |]) ] (one (Expr.argsort axis descending))
      for axis in [ 0; 1 ] do
          yield case (sprintf "Softmax axis %d" axis) [ Draw(Normal, [| 3; 4 |]) ] (one (Expr.softmax axis))
          yield case (sprintf "LogSoftmax axis %d" axis) [ Draw(Normal, [| 3; 4 |]) ] (one (Expr.logSoftmax axis))
          yield case (sprintf "SoftmaxBackward axis %d" axis) [ Draw(Normal, [| 3; 4 |]); Draw(Positive, [| 3; 4 |]) ] (two (Expr.softmaxBackward axis))
              |> summing 4.0
          yield case (sprintf "LogSoftmaxBackward axis %d" axis) [ Draw(Normal, [| 3; 4 |]); Draw(Normal, [| 3; 4 |]) ] (two (Expr.logSoftmaxBackward axis))
              |> summing 4.0
          yield case (sprintf "DiagonalMinusRankOne axis %d" axis) [ for _ in 1 .. 4 -> Draw(Normal, [| 3; 4 |]) ]
                    (fun xs -> Expr.diagonalMinusRankOne axis xs.[0] xs.[1] xs.[2] xs.[3]) |> summing 4.0
          for reverse in [ false; true ] do
              yield case (sprintf "CumSum axis %d, reverse %b" axis reverse) [ Draw(Normal, [| 3; 4 |]) ] (one (Expr.cumsumAlong axis reverse))
      // im2col and its adjoint with one batch axis of their own ([N, ...]), which the rule merges
      // with the examples'; stride, padding and dilation all differ from 1 so windows overlap and skip.
      yield case "Unfold" [ Draw(Normal, [| 2; 2; 5; 4 |]) ] (one (Expr.unfold [| 2; 2 |] [| 2; 1 |] [| 1; 0 |] [| 1; 2 |]))
      yield case "Fold" [ Draw(Normal, [| 2; 8; 6 |]) ] (one (Expr.fold [| 5; 4 |] [| 2; 2 |] [| 2; 1 |] [| 1; 0 |] [| 1; 2 |]))
      let custom = Diff.customVjp (fun x -> Expr.sin x * x) (fun x g -> g * (Expr.sin x + x * Expr.cos x))
      yield case "Custom" [ Draw(Normal, [| 2; 3 |]) ] (one custom)
      // A loop over the rows of xs with a captured matrix; carries and ys both come out. A batched
      // matmul sums in another order, and the four steps carry that rounding forward (a few ulps
      // per step, amplified by the next matmul), hence the wider allowance.
      let rnn (h: Expr) (xs: Expr) (w: Expr) =
          let carry, ys = Scan.scan1 (fun c x -> Expr.tanh (Expr.matmul w c + x), c * 2.0) h xs
          Expr.concat 0 [ carry; Expr.reshape [| ys.Numel |] ys ]
      yield case "Scan of a tanh loop" [ Draw(Normal, [| 3 |]); Draw(Normal, [| 4; 3 |]); Draw(Normal, [| 3; 3 |]) ] (three rnn) |> summing 64.0 ]

/// Every assignment of a batch axis (or none) to each argument, at least one batched. Axes are
/// written negative in every other assignment, so both spellings are exercised.
let placements (ranks: int list) : int option list list =
    let rec go (ranks: int list) =
        match ranks with
        | [] -> [ [] ]
        | r :: rest -> [ for head in None :: [ for a in 0 .. r -> Some a ] do for tail in go rest -> head :: tail ]
    go ranks
    |> List.filter (List.exists Option.isSome)
    |> List.mapi (fun i axes -> if i % 2 = 1 then List.map2 (fun (a: int option) r -> a |> Option.map (fun a -> a - (r + 1))) axes ranks else axes)

let private batchSize = 3

/// Per-example values of every argument, example-major.
let private draw (random: Random) (kind: ArgKind) =
    match kind with
    | Draw(domain, dims) -> Array.init batchSize (fun _ -> (sample random domain dims).ToDoubleArray())
    | Index(bound, dims) -> Array.init batchSize (fun _ -> Array.init (Shape.numel dims) (fun _ -> float (random.Next bound)))

/// Every other entry of a standard-normal argument replaced by +0 or −0 (by a draw), so a batched kernel that
/// loses a sign the per-example one keeps (a product of −0 added to +0, a sum of −0 entries) shows; the other
/// domains stay as they are, away from their edges.
let private withSignedZeros (random: Random) (kind: ArgKind) (examples: float[][]) =
    match kind with
    | Draw(Normal, _) -> examples |> Array.map (Array.mapi (fun i v -> if i % 2 = 0 then (if random.Next 2 = 0 then 0.0 else -0.0) else v))
    | _ -> examples

/// vmap of the case at one placement against the loop (`zeros`: at arguments holding signed zeros).
let private checkAt (zeros: bool) (c: VmapCase) (axes: int option list) (outAxis: int) =
    let random = Random(7)
    let examples = c.Args |> List.map (fun kind -> draw random kind |> if zeros then withSignedZeros random kind else id)
    let arguments =
        List.map3 (fun kind (axis: int option) (data: float[][]) ->
            let dims = dimsOf kind
            match axis with
            | Some a -> stackAt (if a < 0 then a + dims.Length + 1 else a) dims data
            | None -> Tensor.FromArray(data.[0], dims)) c.Args axes examples
    let batched = Diff.vmapN axes outAxis c.F (arguments |> List.map Expr.constant)
    let perExample b =
        List.map3 (fun kind (axis: int option) (data: float[][]) ->
            Tensor.FromArray((match axis with Some _ -> data.[b] | None -> data.[0]), dimsOf kind)) c.Args axes examples
    let outRank = batched.Rank
    let expected = loopReference c.F batchSize perExample (if outAxis < 0 then outAxis + outRank else outAxis)
    expectWithinUlps c.Ulps (Eval.eval batched) expected (sprintf "%s, inAxes %A" c.Name axes)

let private check = checkAt false

[<Tests>]
let tests =
    testList "Vmap.Primitives" [
        for c in cases do
            test c.Name {
                for axes in placements (c.Args |> List.map (dimsOf >> Array.length)) do
                    check c axes 0
            }
        testList "at signed zeros" [
            for c in cases do
                test c.Name {
                    for axes in placements (c.Args |> List.map (dimsOf >> Array.length)) do
                        checkAt true c axes 0
                }
        ]
        test "every output axis, and negative output axes" {
            let c = cases |> List.find (fun c -> c.Name = "Add, [2,3] with [3]")
            for outAxis in [ 0; 1; 2; -1; -3 ] do
                check c [ Some 1; Some 0 ] outAxis
        }
        test "every primitive has a case" {
            // Op cases by name, leaves excepted: a new primitive needs a batching rule and a case here.
            let covered = cases |> List.map (fun c -> c.Name.Split(' ', ',').[0]) |> Set.ofList
            let unaryNames = unionCases<UnaryOp> () |> Array.map (sprintf "%A") |> Set.ofArray
            let binaryNames = unionCases<BinaryOp> () |> Array.map (sprintf "%A") |> Set.ofArray
            for union in Reflection.FSharpType.GetUnionCases typeof<Op> do
                let expected =
                    match union.Name with
                    | "Var" | "Const" -> Set.empty
                    | "Unary" -> unaryNames
                    | "Binary" -> binaryNames
                    | name -> Set.singleton name
                for name in expected do
                    Expect.isTrue (covered.Contains name) (sprintf "no vmap case for %s" name)
        }
        test "the batch sizes must agree, and the error names Vmap and the shapes" {
            let a, b = Expr.zeros DType.Float64 [| 3; 2 |], Expr.zeros DType.Float64 [| 4; 2 |]
            let message =
                try
                    Diff.vmapN [ Some 0; Some 0 ] 0 (two (+)) [ a; b ] |> ignore
                    ""
                with :? ShapeException as e -> e.Message
            Expect.stringContains message "Vmap" "method"
            Expect.stringContains message "[3,2]" "first shape"
            Expect.stringContains message "[4,2]" "second shape"
        }
        test "an argument's axis must exist, and some argument must be batched" {
            let a = Expr.zeros DType.Float64 [| 3; 2 |]
            Expect.throwsT<ShapeException> (fun () -> Diff.vmapN [ Some 2 ] 0 (one id) [ a ] |> ignore) "axis 2 of a rank-2 argument"
            Expect.throwsT<ShapeException> (fun () -> Diff.vmapN [ None ] 0 (one id) [ a ] |> ignore) "nothing batched"
        }
        test "an output that depends on no batched argument is repeated for every example" {
            let shared = Expr.constant (tensor [| 2 |] [| 1.5; -2.0 |])
            let x = Expr.zeros DType.Float64 [| 3; 4 |]
            let result = Diff.vmapN [ Some 0; None ] 1 (fun xs -> Expr.exp xs.[1]) [ x; shared ]
            expectWithinUlps 0.0 (Eval.eval result) (stackAt 1 [| 2 |] (Array.create 3 [| exp 1.5; exp -2.0 |])) "exp of the shared argument"
        }
        test "a shared argument is not copied per example: W x for a batch of x is one product with W" {
            let w = Expr.constant (tensor [| 4; 3 |] (Array.init 12 float))
            let batched = Diff.vmap (fun x -> Expr.matmul w x) (Expr.variable "xs" [| 5; 3 |] DType.Float64)
            let nodes = Graph.topologicalOrder [ batched ]
            let broadcasts = nodes |> Array.filter (fun e -> match e.Op with Op.BroadcastTo _ -> true | _ -> false)
            let products = nodes |> Array.filter (fun e -> e.Op = Op.MatMul)
            Expect.equal broadcasts.Length 0 "no broadcast of W"
            Expect.equal products.Length 1 "one product"
        }
    ]
