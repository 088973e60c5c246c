/// The user-facing transforms. Each one builds the function at FRESH Vars, differentiates that
/// graph, and simplifies the result with Rewrite, the Vars treated as atoms, in the same pass that
/// puts the real arguments in their place. The fresh Var is what keeps nested derivatives apart
/// (no perturbation confusion) and makes `grad (fun v -> v * c) c` equal c. Simplifying the graph
/// as built over the Vars is what makes a transform's cost independent of its arguments' history:
/// nothing older than the first fresh Var can depend on it (Graph.topologicalOrderFrom), so the
/// reverse walk, the simplification and the substitution all stop at the arguments and at
/// captured values, and a transform inside a loop costs the same at every step. Each level of a
/// nested derivative is still simplified as a whole, because what the inner levels built is newer
/// than the outer level's Var; that keeps the polynomial normal forms that make nested
/// derivatives grow linearly in the order.
namespace FunctionalDiff.Core

open System

/// Differentiation transforms: functions in, functions and graphs out, freely nested.
[<RequireQualifiedAccess>]
module Diff =

    // The names of the first arguments, made once: sprintf allocated its formatter on every call.
    let private argumentNames = Array.init 8 (fun i -> "arg" + string i)

    let private argumentName (i: int) = if i < argumentNames.Length then argumentNames.[i] else "arg" + string i

    let private freshLike (i: int) (x: Expr) = Ir.freshScopedVar (argumentName i) x.Dims x.DType

    /// The groups' roots in one array, in order (a plain loop: see finishWithNumbers).
    let private concatenated (parts: Expr[][]) : Expr[] =
        let mutable total = 0
        for g in parts do
            total <- total + g.Length
        let all: Expr[] = Array.zeroCreate total
        let mutable offset = 0
        for g in parts do
            Array.Copy(g, 0, all, offset, g.Length)
            offset <- offset + g.Length
        all

    /// The id of a transform's first fresh Var; no older node depends on any of its Vars.
    let private startOf (vars: Expr list) = match vars with v :: _ -> v.Id | [] -> Int64.MaxValue

    /// A transform's own work: the nodes it makes are not f's (see Construction), and f's call inside it is asUser.
    let private byTransform (work: unit -> 'T) : 'T = Construction.As(false, work, ())

    /// f x inside a transform: the nodes f makes are its own, the primal (see Expr.IsPrimal), and the Rewrite pass
    /// holds them (Rewrite.simplifyHolding).
    let private asUser (f: 'a -> 'b) (x: 'a) : 'b = Construction.As(true, f, x)

    /// Graphs a transform built over its fresh Vars, in groups: each group is simplified on its
    /// own (nodes older than `start` are atoms), with the arguments in place of the Vars, which
    /// rebuilds only the nodes that depend on the Vars. Groups are simplified apart because a
    /// nested derivative keeps only some of them (the gradients, not the value), and a normal form
    /// is only smaller when nothing else holds on to its parts. The first `values` groups hold f's
    /// own value: they are substituted but never simplified, because the value is what the user
    /// computes and must follow IEEE, where the normal forms treat their atoms as real numbers
    /// (`x + x * -3` is not `-2x` at x = -inf). For the same reason the other groups keep f's own nodes, which
    /// the rules read, as f built them (Rewrite.simplifyHolding).
    let private finishWithNumbers (numbers: NumbersAsMade) (start: int64) (replacements: (Expr * Expr)[]) (values: int) (groups: Expr[][]) : Expr[][] =
        // Plain loops, not Array.concat, Array.sub or Array.map: FSharp.Core's generic code starts
        // unoptimised under tiered compilation, and a gradient in a training loop runs this every step.
        // One substitution over several groups: the nodes they share are rebuilt once.
        let substituteTogether (parts: Expr[][]) =
            let substituted = Substitute.apply replacements (concatenated parts)
            let result: Expr[][] = Array.zeroCreate parts.Length
            let mutable offset = 0
            for i in 0 .. parts.Length - 1 do
                let part: Expr[] = Array.zeroCreate parts.[i].Length
                Array.Copy(substituted, offset, part, 0, part.Length)
                offset <- offset + part.Length
                result.[i] <- part
            result
        // At scalar constants every elementwise node folds to a constant: Substitute.apply folds
        // them on plain floats, without building a node for each. When every result folds to a
        // number, the normal forms would only have been folded too: the simplification is skipped,
        // and the numbers are those of the graph as f and the rules built it (the order of
        // operations an eager evaluation follows). Otherwise (an op that does not fold, a captured
        // tensor) the results are graphs, and they are simplified first, as everywhere else.
        let mutable atNumbers = false
        for _, r in replacements do
            match r with
            | Fold.ScalarConst _ -> atNumbers <- true
            | _ -> ()
        let allNumbers (parts: Expr[][]) =
            let mutable all = true
            for part in parts do
                for e in part do
                    match e with
                    | Fold.ScalarConst _ -> ()
                    | _ -> all <- false
            all
        // The values folded as the nodes were made, when every root folded there (the same nodes
        // substituteTogether gives: see NumbersAsMade).
        let foldedAsMade (parts: Expr[][]) =
            if isNull numbers then null
            else
                let result: Expr[][] = Array.zeroCreate parts.Length
                let mutable complete = true
                for i in 0 .. parts.Length - 1 do
                    if complete then
                        result.[i] <- numbers.Fold parts.[i]
                        if isNull result.[i] then complete <- false
                if complete then result else null
        let folded =
            if not atNumbers then null
            else
                let asMade = foldedAsMade groups
                if isNull asMade then substituteTogether groups else asMade
        if not (isNull folded) && allNumbers folded then folded
        elif atNumbers then
            let simplified: Expr[][] = Array.zeroCreate groups.Length
            for i in 0 .. groups.Length - 1 do
                simplified.[i] <- if i < values then groups.[i] else Rewrite.simplifyHolding start [||] groups.[i]
            substituteTogether simplified
        else
            let result: Expr[][] = Array.zeroCreate groups.Length
            if values > 0 then
                let valueGroups: Expr[][] = Array.zeroCreate values
                Array.Copy(groups, valueGroups, values)
                let substituted = substituteTogether valueGroups
                Array.Copy(substituted, result, values)
            for i in values .. groups.Length - 1 do
                result.[i] <- Rewrite.simplifyHolding start replacements groups.[i]
            result

    /// finishWithNumbers at tensor constants, for a graph over Vars that depends on no other
    /// transform's Var: the groups past the values are simplified, and nothing is substituted.
    /// Instead the Vars are bound to the arguments' tensors (NodeScope.Bindings), so the results
    /// evaluate as the substituted graph would, and their scope is sealed. Rebuilding every node
    /// over the arguments made a second graph as large as the first, into the process-wide table
    /// with a weak GC handle per node: most of a large gradient's cost at tensors. The scope's
    /// nodes that no result reaches are withheld: an Expr that f leaked out reads the Var as
    /// before, and evaluating it fails.
    let private finishBound (start: int64) (vars: Expr[]) (tensors: Tensor[]) (values: int) (groups: Expr[][]) : Expr[][] =
        let result: Expr[][] = Array.zeroCreate groups.Length
        for i in 0 .. groups.Length - 1 do
            result.[i] <- if i < values then groups.[i] else Rewrite.simplifyHolding start [||] groups.[i]
        let scope = vars.[0].Scope
        let struct (order, count) = Graph.topologicalOrderPooled start (concatenated result)
        let reached = IdSet(start)
        for i in 0 .. count - 1 do
            reached.Add order.[i].Id |> ignore
        Pool.release order count
        let bindings: (Expr * Tensor)[] = Array.zeroCreate vars.Length
        for i in 0 .. vars.Length - 1 do
            bindings.[i] <- (vars.[i], tensors.[i])
        scope.Gate.Enter()
        try
            for i in 0 .. scope.Count - 1 do
                let node = scope.Nodes.[i]
                if not (reached.Contains node.Id) then node.Withhold()
            for v in vars do
                if not (reached.Contains v.Id) then v.Withhold()
            scope.Bindings <- bindings
            scope.Sealed <- true
        finally
            scope.Gate.Exit()
        reached.Release()
        result

    let private finishWith (start: int64) (replacements: (Expr * Expr)[]) (values: int) (groups: Expr[][]) : Expr[][] =
        finishWithNumbers null start replacements values groups

    let private finish (start: int64) (replacements: (Expr * Expr) list) (values: int) (groups: Expr[][]) : Expr[][] =
        finishWith start (Array.ofList replacements) values groups

    /// Value and pullback of f at the arguments: the pullback maps an output cotangent to one
    /// cotangent per argument (zeros where f does not depend on it). As torch.autograd.grad does,
    /// the cotangent may have either dtype: it is converted to the output's, and each result has
    /// its own argument's dtype.
    let vjpN (f: Expr list -> Expr) (arguments: Expr list) : Expr * (Expr -> Expr list) =
        byTransform (fun () ->
            let vars = arguments |> List.mapi freshLike
            let start = startOf vars
            let output = asUser f vars
            let replacements = List.zip vars arguments
            let value = (finish start replacements 1 [| [| output |] |]).[0].[0]
            let pullback (cotangent: Expr) =
                byTransform (fun () ->
                    if not (Ir.sameDims cotangent.Dims output.Dims) then
                        Shape.fail "Vjp" (sprintf "the pullback's cotangent of shape %s does not match the output's shape %s" (Shape.format cotangent.Dims) (Shape.format output.Dims))
                    // A cotangent built after the Vars would be newer than `start`, and its history walked
                    // with the pullback's graph; a Var in its place keeps the work to the pullback itself.
                    // A filled constant (ones, say) has no history and folds into the rules' products.
                    let seed, replacements =
                        match cotangent with
                        | Fold.Filled _ -> cotangent, replacements
                        | _ ->
                            let var = Ir.freshScopedVar "cotangent" output.Dims output.DType
                            var, replacements @ [ var, Expr.cast output.DType cotangent ]
                    let found = Vjp.backward output seed (Array.ofList vars)
                    let filled = Array.map2 (fun (c: Expr option) (v: Expr) -> defaultArg c (Expr.zerosLike v)) found (Array.ofList vars)
                    List.ofArray (finish start replacements 0 [| filled |]).[0])
            value, pullback)

    /// Value and pullback of a one-argument function.
    let vjp (f: Expr -> Expr) (x: Expr) : Expr * (Expr -> Expr) =
        let value, pullback = vjpN (fun args -> f (List.head args)) [ x ]
        value, (fun g -> List.head (pullback g))

    /// Value and pullback of a two-argument function.
    let vjp2 (f: Expr -> Expr -> Expr) (x: Expr, y: Expr) : Expr * (Expr -> Expr * Expr) =
        let value, pullback = vjpN (fun args -> f args.[0] args.[1]) [ x; y ]
        value, (fun g -> match pullback g with [ gx; gy ] -> gx, gy | _ -> invalidOp "two cotangents expected")

    /// Fails unless f's output has one element, naming the public function (the C# facade's text).
    let private checkOneElement (caller: string) (output: Expr) =
        if output.Numel <> 1 then
            Shape.fail caller (sprintf "f must return one element, but it returned shape %s" (Shape.format output.Dims))

    /// f, checked to return one element under the name of the public function that differentiates it.
    let private oneElement (caller: string) (f: Expr -> Expr) (x: Expr) =
        let output = f x
        checkOneElement caller output
        output

    let private seedFor (caller: string) (output: Expr) =
        checkOneElement caller output
        Expr.ones output.DType output.Dims

    /// The gradients of a one-element f, and its value when `withValue`: without it the value is
    /// neither simplified nor substituted, which a gradient inside a loop would pay at every step.
    /// f also returns auxiliary outputs beside its one-element value (JAX's has_aux): they are
    /// substituted with the value and never differentiated or simplified.
    let private differentiateWithAux (caller: string) (withValue: bool) (f: Expr list -> Expr * Expr[]) (arguments: Expr list)
        : Expr voption * Expr[] * Expr[] =
        byTransform (fun () ->
            // the list walked by hand and the rest in arrays with loops: see finishWith
            let mutable count = 0
            let mutable rest = arguments
            while not rest.IsEmpty do
                count <- count + 1
                rest <- rest.Tail
            let given: Expr[] = Array.zeroCreate count
            let names: string[] = Array.zeroCreate count
            rest <- arguments
            for i in 0 .. count - 1 do
                given.[i] <- rest.Head
                names.[i] <- argumentName i
                rest <- rest.Tail
            // one scope for all the Vars: a node over two of them is not Mixed (see finish below)
            let vars = Ir.freshScopedVars names given
            let replacements: (Expr * Expr)[] = Array.zeroCreate count
            for i in 0 .. count - 1 do
                replacements.[i] <- (vars.[i], given.[i])
            // At tensors (constants, or earlier results' bound Vars, of rank 1 or more: the usual call,
            // gradients at data), the results are the graph built over the Vars, which are then bound
            // to the arguments' tensors (see finishBound).
            let tensors: Tensor[] = Array.zeroCreate count
            let mutable atTensors = count > 0
            for i in 0 .. count - 1 do
                match Ir.leafValue given.[i] with
                | ValueSome t when t.Rank > 0 -> tensors.[i] <- t
                | _ -> atTensors <- false
            let mutable varList = []
            for i in count - 1 .. -1 .. 0 do
                varList <- vars.[i] :: varList
            let start = if count > 0 then vars.[0].Id else Int64.MaxValue
            // At scalar constants, the nodes are folded as they are made (see NumbersAsMade).
            let numbers = if NumbersAsMade.Applies given then NumbersAsMade(vars, given) else null
            // Unless the Vars' scope is Mixed: then f's graph may depend on another transform's Var (f
            // captured a node of its scope), and its nodes belong with that Var's, rebuilt over the
            // arguments as at any other argument.
            let finish (values: int) (groups: Expr[][]) =
                if atTensors && not vars.[0].Scope.Mixed then finishBound start vars tensors values groups
                else finishWithNumbers numbers start replacements values groups
            try
                let output, aux = asUser f varList
                let seed = seedFor caller output
                let found = Vjp.backward output seed vars
                let filled: Expr[] = Array.zeroCreate found.Length
                for i in 0 .. found.Length - 1 do
                    filled.[i] <- match found.[i] with Some c -> c | None -> Expr.zerosLike vars.[i]
                if withValue then
                    let values: Expr[] = Array.zeroCreate (1 + aux.Length)
                    values.[0] <- output
                    Array.Copy(aux, 0, values, 1, aux.Length)
                    match finish 1 [| values; filled |] with
                    | [| substituted; gradients |] ->
                        let auxiliary: Expr[] = Array.zeroCreate aux.Length
                        Array.Copy(substituted, 1, auxiliary, 0, aux.Length)
                        ValueSome substituted.[0], auxiliary, gradients
                    | _ -> invalidOp "a value and gradients expected"
                else ValueNone, [||], (finish 0 [| filled |]).[0]
            finally
                if not (isNull numbers) then numbers.Detach())

    let private differentiate (caller: string) (withValue: bool) (f: Expr list -> Expr) (arguments: Expr list) : Expr voption * Expr[] =
        let value, _, gradients = differentiateWithAux caller withValue (fun args -> f args, [||]) arguments
        value, gradients

    /// The value of a one-element f and its gradient with respect to each argument.
    let valueAndGradN (f: Expr list -> Expr) (arguments: Expr list) : Expr * Expr list =
        match differentiate "ValueAndGrad" true f arguments with
        | ValueSome value, gradients ->
            let mutable list = []
            for i in gradients.Length - 1 .. -1 .. 0 do
                list <- gradients.[i] :: list
            value, list
        | ValueNone, _ -> invalidOp "a value expected"

    /// JAX's value_and_grad with has_aux: f returns its one-element value and auxiliary outputs (metrics,
    /// predictions) built from the same arguments; the result is the value, the auxiliary outputs at the
    /// arguments (not differentiated) and the gradient of the value with respect to each argument.
    let valueAndGradWithAuxN (f: Expr list -> Expr * Expr list) (arguments: Expr list) : Expr * Expr list * Expr list =
        match differentiateWithAux "ValueAndGrad" true (fun args -> let value, aux = f args in value, Array.ofList aux) arguments with
        | ValueSome value, aux, gradients -> value, List.ofArray aux, List.ofArray gradients
        | ValueNone, _, _ -> invalidOp "a value expected"

    /// valueAndGradWithAuxN for a function of one argument.
    let valueAndGradWithAux (f: Expr -> Expr * Expr list) (x: Expr) : Expr * Expr list * Expr =
        let value, aux, gradients = valueAndGradWithAuxN (fun args -> f (List.head args)) [ x ]
        value, aux, List.head gradients

    /// The gradient of a one-element f with respect to each argument (JAX's argnums over a list).
    let gradN (f: Expr list -> Expr) (arguments: Expr list) : Expr list = List.ofArray (snd (differentiate "Grad" false f arguments))

    /// The value of a one-element f and its gradient.
    let valueAndGrad (f: Expr -> Expr) (x: Expr) : Expr * Expr =
        let value, grads = valueAndGradN (fun args -> f (List.head args)) [ x ]
        value, List.head grads

    /// The gradient of a one-element f; `grad f` is itself a function, so it nests.
    let grad (f: Expr -> Expr) (x: Expr) : Expr = (snd (differentiate "Grad" false (fun args -> f (List.head args)) [ x ])).[0]

    /// The gradients of a one-element two-argument function.
    let grad2 (f: Expr -> Expr -> Expr) (x: Expr, y: Expr) : Expr * Expr =
        match gradN (fun args -> f args.[0] args.[1]) [ x; y ] with
        | [ gx; gy ] -> gx, gy
        | _ -> invalidOp "two gradients expected"

    /// The identity whose derivative is zero.
    let stopGradient (x: Expr) : Expr = Expr.stopGradient x

    // ---- forward mode, Jacobians and custom rules (Jvp.fs, Jacobian.fs, CustomVjp.fs) ----

    /// The Jacobian of f at x (see jacobianChunked); `keepMasks` for the Jacobian of a gradient (see
    /// Jvp.transposeWith), `caller` the public function named in errors.
    let private jacobianOf (keepMasks: bool) (caller: string) (mode: JacobianMode) (chunkSize: int option) (f: Expr -> Expr) (x: Expr) : Expr =
        byTransform (fun () ->
            match chunkSize with
            | Some c when c < 1 -> invalidArg "chunkSize" (sprintf "%s: chunkSize must be at least 1, got %d" caller c)
            | _ -> ()
            let var = freshLike 0 x
            let jacobian = Jacobian.buildChunked keepMasks mode chunkSize var (asUser f var)
            (finish var.Id [ var, x ] 0 [| [| jacobian |] |]).[0].[0])

    /// The tangent sum_i J_i t_i of f at the primals, and f's value when `withValue` (see
    /// differentiate). `caller` names the public function in errors.
    let private forwardWith (keepMasks: bool) (caller: string) (withValue: bool) (f: Expr list -> Expr) (primals: Expr list) (tangents: Expr list) =
        byTransform (fun () ->
            Jvp.checkTangents caller primals tangents
            let vars = primals |> List.mapi (fun i x -> Ir.freshScopedVar ("primal" + string i) x.Dims x.DType)
            let tangentVars = primals |> List.mapi (fun i x -> Ir.freshScopedVar ("tangent" + string i) x.Dims x.DType)
            let start = startOf vars
            let output = asUser f vars
            let tangent = Jvp.tangentOfWith keepMasks output (Array.ofList vars) (Array.ofList tangentVars)
            let replacements =
                List.zip vars primals @ List.zip tangentVars (List.map2 (fun (x: Expr) t -> Expr.cast x.DType t) primals tangents)
            // Simplified apart, as in differentiate: nested forward mode keeps only the tangent.
            if withValue then
                match finish start replacements 1 [| [| output |]; [| tangent |] |] with
                | [| [| value |]; [| tangent |] |] -> ValueSome value, tangent
                | _ -> invalidOp "a value and a tangent expected"
            else ValueNone, (finish start replacements 0 [| [| tangent |] |]).[0].[0])

    /// forwardWith for a first-order JVP.
    let private forward (caller: string) (withValue: bool) (f: Expr list -> Expr) (primals: Expr list) (tangents: Expr list) =
        forwardWith false caller withValue f primals tangents

    /// The value of f at the primals and the tangent sum_i J_i t_i. Tangents take their
    /// primal's dtype.
    let jvpN (f: Expr list -> Expr) (primals: Expr list) (tangents: Expr list) : Expr * Expr =
        match forward "Jvp" true f primals tangents with
        | ValueSome value, tangent -> value, tangent
        | ValueNone, _ -> invalidOp "a value expected"

    /// The value of f at x and its tangent J t, by transposing the pullback (see Jvp.fs).
    let jvp (f: Expr -> Expr) (x: Expr) (t: Expr) : Expr * Expr =
        Jvp.checkTangent "Jvp" "x" x "t" t
        jvpN (fun args -> f (List.head args)) [ x ] [ t ]

    /// The value of f at the primals and its linear map, tangents ↦ sum_i J_i t_i (JAX's
    /// linearize). The tangent graph is built and simplified once, over fresh tangent Vars with
    /// the primals already in place; each application rebuilds only the nodes that depend on the
    /// tangents, so all results share one primal graph and evaluating them together computes the
    /// primal once. Tangents take their primal's dtype.
    let linearizeN (f: Expr list -> Expr) (primals: Expr list) : Expr * (Expr list -> Expr) =
        byTransform (fun () ->
            let vars = primals |> List.mapi (fun i x -> Ir.freshScopedVar ("primal" + string i) x.Dims x.DType)
            let tangentVars = primals |> List.mapi (fun i x -> Ir.freshScopedVar ("tangent" + string i) x.Dims x.DType)
            let start = startOf vars
            let output = asUser f vars
            let tangent = Jvp.tangentOf output (Array.ofList vars) (Array.ofList tangentVars)
            match finish start (List.zip vars primals) 1 [| [| output |]; [| tangent |] |] with
            | [| [| value |]; [| tangent |] |] ->
                let plan = Substitute.plan (Array.ofList tangentVars) [| tangent |]
                let apply (tangents: Expr list) =
                    byTransform (fun () ->
                        Jvp.checkTangents "Linearize" primals tangents
                        let tangents = List.map2 (fun (x: Expr) t -> Expr.cast x.DType t) primals tangents
                        (Substitute.run plan (Array.ofList tangents)).[0])
                value, apply
            | _ -> invalidOp "a value and a tangent expected")

    /// The value of f at x and its linear map t ↦ J t; see linearizeN.
    let linearize (f: Expr -> Expr) (x: Expr) : Expr * (Expr -> Expr) =
        let value, apply = linearizeN (fun args -> f (List.head args)) [ x ]
        value, (fun t -> Jvp.checkTangent "Linearize" "x" x "t" t; apply [ t ])

    /// The Hessian of a one-element f at x applied to v, forward over reverse: the JVP of grad f.
    /// Chosen by measurement against reverse over reverse (grad of <grad f, v>) on two-layer MLP
    /// losses: 73 vs 74 nodes, equal work to 0.03%, times within noise (ForwardSizeTests.fs has the
    /// figures). The two are the same products grouped differently; this one shares hessian's code.
    let hvp (f: Expr -> Expr) (x: Expr) (v: Expr) : Expr =
        Jvp.checkTangent "Hvp" "x" x "v" v
        // the masks kept outside the tangent's products, so it agrees with reverse over reverse (Jvp.transposeWith)
        snd (forwardWith true "Hvp" false (fun args -> grad (oneElement "Hvp" f) (List.head args)) [ x ] [ v ])

    /// The Jacobian of f at x with the mode chosen and, when given, at most `chunkSize` basis
    /// vectors batched together (torch.func's chunk_size): fewer intermediates alive at once, at
    /// the price of one batched graph per chunk. Shape (output shape @ input shape).
    let jacobianChunked (mode: JacobianMode) (chunkSize: int option) (f: Expr -> Expr) (x: Expr) : Expr =
        jacobianOf false "Jacobian" mode chunkSize f x

    /// The Jacobian of f at x with the mode chosen; shape (output shape @ input shape).
    let jacobianWith (mode: JacobianMode) (f: Expr -> Expr) (x: Expr) : Expr = jacobianChunked mode None f x

    /// The Jacobian of f at x, shape (output shape @ input shape), forward mode when x has fewer
    /// elements than f x, reverse mode otherwise.
    let jacobian (f: Expr -> Expr) (x: Expr) : Expr = jacobianWith JacobianMode.Auto f x

    /// The Hessian of a one-element f at x, with at most `chunkSize` Hessian-vector products
    /// batched together when given; see hessian.
    let hessianChunked (chunkSize: int option) (f: Expr -> Expr) (x: Expr) : Expr =
        jacobianOf true "Hessian" JacobianMode.Forward chunkSize (grad (oneElement "Hessian" f)) x

    /// The Hessian of a one-element f at x, shape (x.shape @ x.shape): the forward-mode Jacobian
    /// of the gradient, every Hessian-vector product in one batched graph.
    let hessian (f: Expr -> Expr) (x: Expr) : Expr = hessianChunked None f x

    /// The Hessian blocks of a one-element f of several arguments (JAX's hessian with argnums over
    /// them all): block i, j is the second derivative in argument i and then j, of shape
    /// (argument i's shape @ argument j's shape), so block j, i is its transpose. Column j is the
    /// forward-mode Jacobian in argument j of the gradient in argument i, as hessian.
    let hessianN (f: Expr list -> Expr) (arguments: Expr list) : Expr list list =
        let args = Array.ofList arguments
        let block i j =
            let gradientI (xj: Expr) =
                let replaced = args |> Array.mapi (fun k a -> if k = j then xj else a) |> List.ofArray
                (snd (differentiate "Hessian" false f replaced)).[i]
            jacobianOf true "Hessian" JacobianMode.Forward None gradientI args.[j]
        List.init args.Length (fun i -> List.init args.Length (fun j -> block i j))

    // ---- batching (BatchingRules.fs, Vmap.fs) ----

    /// vmap over several arguments and outputs: inAxes gives each argument's batch axis (None for
    /// an argument every example shares; negative axes count from the end), outAxes each output's.
    /// f sees one example: arguments without their batch axis. All batched arguments must have
    /// the same batch size. The result is an ordinary graph, so it nests under every transform.
    let vmapWith (inAxes: int option list) (outAxes: int list) (f: Expr list -> Expr list) (arguments: Expr list) : Expr list =
        Vmap.apply "Vmap" inAxes (Some outAxes) f arguments

    /// vmap of a one-output f over several arguments, with the output's batch axis at `outAxis`.
    let vmapN (inAxes: int option list) (outAxis: int) (f: Expr list -> Expr) (arguments: Expr list) : Expr =
        List.head (Vmap.apply "Vmap" inAxes (Some [ outAxis ]) (fun xs -> [ f xs ]) arguments)

    /// vmap of a one-argument f, batched along the first axis of x and of the result: row i of the
    /// result is f of row i of x, computed for all rows at once.
    let vmap (f: Expr -> Expr) (x: Expr) : Expr =
        List.head (Vmap.apply "Vmap" [ Some 0 ] (Some [ 0 ]) (fun xs -> [ f (List.head xs) ]) [ x ])

    /// A function with a user-defined VJP: `customVjp forward vjp` computes `forward x` and sends
    /// the cotangent g back to x as `vjp x g`. Both are in the op language, so the result nests
    /// under any transform; the rule is differentiated again for higher orders.
    let customVjp (forward: Expr -> Expr) (vjp: Expr -> Expr -> Expr) : Expr -> Expr = CustomVjp.define "custom" forward vjp

    /// customVjp with a name that appears in printed graphs and error messages.
    let customVjpNamed (name: string) (forward: Expr -> Expr) (vjp: Expr -> Expr -> Expr) : Expr -> Expr =
        CustomVjp.define name forward vjp

    /// customVjp of several inputs (jax.custom_vjp and torch.autograd.Function of many
    /// arguments): `customVjpN forward vjp` computes `forward xs` and sends the cotangent g back as
    /// `vjp xs g`, one cotangent per input of its shape and dtype (null for zero). The inputs
    /// must share a dtype.
    let customVjpN (forward: Expr list -> Expr) (vjp: Expr list -> Expr -> Expr list) : Expr list -> Expr =
        CustomVjp.defineMany "custom" forward vjp

    /// customVjpN with a name that appears in printed graphs and error messages.
    let customVjpNamedN (name: string) (forward: Expr list -> Expr) (vjp: Expr list -> Expr -> Expr list) : Expr list -> Expr =
        if isNull name then nullArg "name"
        CustomVjp.defineMany name forward vjp

    // ---- checkpointing (Checkpoint.fs) ----

    /// f with its values not saved for the backward pass (jax.checkpoint, torch's checkpoint):
    /// the gradient saves only f's arguments and recomputes f's forward where it needs it. Values
    /// and derivatives of every order are those of f.
    let checkpoint (f: Expr -> Expr) : Expr -> Expr =
        if isNull (box f) then nullArg "f"
        fun x -> (Checkpoint.apply "Diff.checkpoint" (fun xs -> [| f xs.[0] |]) [| x |]).[0]

    /// checkpoint for a function of several arguments and results.
    let checkpointN (f: Expr list -> Expr list) : Expr list -> Expr list =
        if isNull (box f) then nullArg "f"
        fun xs -> List.ofArray (Checkpoint.apply "Diff.checkpointN" (fun a -> Array.ofList (f (List.ofArray a))) (Array.ofList xs))
