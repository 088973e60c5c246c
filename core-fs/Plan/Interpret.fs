/// The node-by-node interpreter: each node's kernel runs once, in topological order, and returns
/// a fresh tensor. Plans use it to fold constant subgraphs when they compile, and tests use it as
/// the reference a plan must match bit for bit.
namespace FunctionalDiff.Core

open System.Collections.Generic

/// Evaluation without a plan: one kernel call per node, results from the kernels' own allocation.
module internal Interpret =

    /// The kernel for one node, given its inputs' values.
    let rec run (node: Expr) (inputs: Tensor[]) : Tensor =
        match node.Op with
        | Op.Var(name, _) -> (match Ir.boundValue node with ValueSome t -> t | ValueNone -> invalidOp (sprintf "unbound variable %s" name))
        | Op.Const t -> t
        | Op.Unary op -> Elementwise.unary op inputs.[0]
        | Op.Binary op -> Elementwise.binary op inputs.[0] inputs.[1]
        | Op.Where -> Elementwise.where inputs.[0] inputs.[1] inputs.[2]
        | Op.Reduce(op, axes, keepDims) -> Reduction.reduce op axes keepDims inputs.[0]
        | Op.ArgMax(axis, keepDims) -> Reduction.argmax axis keepDims inputs.[0]
        | Op.MatMul -> LinearAlgebra.matmul inputs.[0] inputs.[1]
        | Op.Permute p -> Structural.permute p inputs.[0]
        | Op.Reshape s -> Structural.reshape s inputs.[0]
        | Op.BroadcastTo s -> Structural.broadcastTo s inputs.[0]
        | Op.Slice(starts, stops, steps) -> Structural.slice starts stops steps inputs.[0]
        | Op.Pad(before, after) -> Structural.pad before after inputs.[0]
        | Op.Concat axis -> Structural.concat axis inputs
        | Op.Flip axes -> Structural.flip axes inputs.[0]
        | Op.Gather axis -> Structural.gather axis inputs.[1] inputs.[0]
        | Op.ScatterAdd(axis, shape) -> Structural.scatterAdd axis inputs.[0] inputs.[1] shape
        | Op.Cast dtype -> Elementwise.cast dtype inputs.[0]
        | Op.StopGradient -> inputs.[0]
        // The forward graph is the second input, already evaluated: the rule matters only to Vjp.
        | Op.Custom _ -> inputs.[1]
        | Op.Cholesky -> LinalgTensors.cholesky inputs.[0]
        | Op.TriangularSolve(upper, left, unit) -> LinalgTensors.solveTriangular upper left unit inputs.[0] inputs.[1]
        | Op.Solve -> LinalgTensors.solve inputs.[0] inputs.[1]
        | Op.SlogDet -> LinalgTensors.slogdet inputs.[0]
        | Op.Qr -> LinalgTensors.qr inputs.[0]
        | Op.Lu -> LinalgTensors.lu inputs.[0]
        | Op.LuPermutation -> LinalgTensors.luPermutation inputs.[0]
        | Op.MatrixExp -> LinalgTensors.matrixExp inputs.[0]
        | Op.Eigh -> LinalgTensors.eigh inputs.[0]
        | Op.Svd -> LinalgTensors.svd inputs.[0]
        | Op.Polygamma n -> Elementwise.mapDouble (Special.polygamma n) inputs.[0]
        | Op.ArgSort(axis, descending) -> Sorting.argsort axis descending inputs.[0]
        | Op.Unfold(k, s, p, d) -> Patches.unfold k s p d inputs.[0]
        | Op.Fold(size, k, s, p, d) -> Patches.fold size k s p d inputs.[0]
        | Op.Scan(body, length, reverse, _) -> scan (ScanNode.bodyOf body) length reverse inputs
        | Op.Softmax axis -> Normalise.softmax axis inputs.[0]
        | Op.LogSoftmax axis -> Normalise.logSoftmax axis inputs.[0]
        | Op.SoftmaxBackward axis -> Normalise.softmaxBackward axis inputs.[0] inputs.[1]
        | Op.LogSoftmaxBackward axis -> Normalise.logSoftmaxBackward axis inputs.[0] inputs.[1]
        | Op.DiagonalMinusRankOne axis -> Normalise.diagonalMinusRankOne axis inputs.[0] inputs.[1] inputs.[2] inputs.[3]
        | Op.CumSum(axis, reverse) -> RunningSum.cumsum axis reverse inputs.[0]

    /// A Scan, the reference way: the body evaluated node by node once per step, with the carries,
    /// row t of each xs (a view) and the captured values bound to the body's Vars.
    and private scan (body: ScanBody) (length: int) (reverse: bool) (inputs: Tensor[]) : Tensor =
        let carries, xs = body.CarryVars.Length, body.XVars.Length
        let dtype = body.PackedDType
        let offsets = body.Offsets length
        let total = offsets.[offsets.Length - 1]
        let packed: System.Array =
            match dtype with
            | DType.Float64 -> Array.zeroCreate<float> total :> System.Array
            | DType.Float32 -> Array.zeroCreate<float32> total :> System.Array
        let place (offset: int) (part: Tensor) =
            let dense = (part.Cast dtype).Contiguous()
            System.Array.Copy(dense.Storage, dense.Offset, packed, offset, dense.Numel)
        let bindings = Dictionary<int64, Tensor>()
        for k in 0 .. body.CapturedVars.Length - 1 do
            bindings.[body.CapturedVars.[k].Id] <- inputs.[carries + xs + k]
        let mutable state = inputs.[0 .. carries - 1]
        for step in 0 .. length - 1 do
            let t = if reverse then length - 1 - step else step
            for i in 0 .. carries - 1 do
                bindings.[body.CarryVars.[i].Id] <- state.[i]
            for j in 0 .. xs - 1 do
                let x = inputs.[carries + j]
                bindings.[body.XVars.[j].Id] <- x.View(x.Dims.[1..], x.Strides.[1..], x.Offset + t * x.Strides.[0])
            let results = evalMany bindings body.Outputs
            body.Evaluated 1
            state <- results.[0 .. carries - 1]
            for j in carries .. results.Length - 1 do
                place (offsets.[j] + t * results.[j].Numel) results.[j]
        for i in 0 .. carries - 1 do
            place offsets.[i] state.[i]
        new Tensor(dtype, [| total |], [| 1 |], 0, packed)

    /// The values of the roots, with each Var in `bindings` (already checked) given its tensor.
    /// Intermediates are dropped after their last consumer, so memory follows the live width.
    /// An unbound Var fails only where a root needs it: a custom node's value is its forward graph,
    /// so its first input (the x its rule reads) is not read (nor evaluated), and a plan folding a forward graph
    /// that holds no Var (a glu of an empty tensor, whose halves are constants) must not fail on the
    /// x beside it (`fuzz 116/80`: abs(glu(diag_embed(x))) compiled at x of shape [0, 1]).
    and evalMany (bindings: Dictionary<int64, Tensor>) (roots: Expr[]) : Tensor[] =
        let values = Dictionary<int64, Tensor>(bindings)
        let order = Graph.topologicalOrder roots
        let reads = Ir.readsInput
        // The nodes some root reads, through the inputs that are read: the rest (a custom node's x
        // and what only it reads) is neither evaluated nor asked for a binding.
        let wanted = HashSet<int64>()
        for root in roots do wanted.Add root.Id |> ignore
        for i in order.Length - 1 .. -1 .. 0 do
            let node = order.[i]
            if wanted.Contains node.Id then
                for k in 0 .. node.ArgCount - 1 do
                    if reads node k then wanted.Add (node.Arg k).Id |> ignore
        // Remaining reads of each node's value; roots count one extra read so they survive.
        let uses = Dictionary<int64, int>()
        let addUse (e: Expr) = uses.[e.Id] <- (match uses.TryGetValue e.Id with | true, n -> n + 1 | _ -> 1)
        for node in order do
            if wanted.Contains node.Id then
                for k in 0 .. node.ArgCount - 1 do
                    if reads node k then addUse (node.Arg k)
        for root in roots do addUse root
        // the nodes without a value, each with the error of the unbound Var below it
        let unbound = Dictionary<int64, string>()
        for node in order do
            if wanted.Contains node.Id && not (values.ContainsKey node.Id) then
                match node.Op with
                | Op.Var(name, _) ->
                    match Ir.boundValue node with
                    | ValueNone -> unbound.[node.Id] <- sprintf "Eval: variable %s %O%s is not bound" name node.DType (Shape.format node.Dims)
                    | ValueSome t -> values.[node.Id] <- t
                | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
                | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _
                | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky
                | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _
                | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ ->
                    let args = node.Inputs
                    let mutable missing = null
                    for k in 0 .. args.Length - 1 do
                        if isNull missing && reads node k then
                            match unbound.TryGetValue args.[k].Id with
                            | true, message -> missing <- message
                            | _ -> ()
                    if not (isNull missing) then unbound.[node.Id] <- missing
                    else
                        let inputs = args |> Array.mapi (fun k a -> if reads node k then values.[a.Id] else Unchecked.defaultof<Tensor>)
                        values.[node.Id] <- run node inputs
                    for k in 0 .. args.Length - 1 do
                        if reads node k then
                            let a = args.[k]
                            let left = uses.[a.Id] - 1
                            uses.[a.Id] <- left
                            if left = 0 then values.Remove a.Id |> ignore
        roots |> Array.map (fun r ->
            match unbound.TryGetValue r.Id with
            | true, message -> invalidOp message
            | _ -> values.[r.Id])
