/// Substitution: replaces nodes (usually a transform's fresh Vars) throughout a graph, rebuilding
/// every node above them through the smart constructors so the result is canonical again. Only
/// nodes no older than the oldest replaced node are visited: nothing older can depend on it (see
/// Graph.topologicalOrderFrom), so the history behind the replacements is never walked.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic

/// The part of a graph that depends on some Vars, kept so that the graph can be substituted into
/// many times at the cost of that part alone: a linearization pushes many tangents through one
/// tangent graph, and a Jacobian substitutes one basis vector per row or column.
[<Sealed>]
type internal SubstitutionPlan(vars: Expr[], nodes: Expr[], roots: Expr[]) =
    /// The Vars a run replaces, in the order of its replacements.
    member _.Vars = vars
    /// The nodes that depend on the Vars, the Vars excluded, inputs first.
    member _.Nodes = nodes
    /// The graphs substituted into.
    member _.Roots = roots

/// A rank-0 constant that substitution has folded but not built yet: its value (already rounded
/// to its dtype) and a code for the dtype (0: none, 1: float32, 2: float64).
[<Struct; NoEquality; NoComparison>]
type internal PendingScalar = { Value: float; Code: int }

/// Iterative graph substitution.
[<RequireQualifiedAccess>]
module Substitute =

    let private check (node: Expr) (replacement: Expr) =
        if not (Ir.sameDims node.Dims replacement.Dims) || node.DType <> replacement.DType then
            Shape.fail "Substitute" (sprintf "%O cannot be replaced by %O" node replacement)

    /// The node with each input looked up in `rewritten`, rebuilt if any input changed.
    /// Elementwise nodes, most of any graph, go to their constructors without an inputs array:
    /// over scalar arguments every rebuilt node folds to a constant, and the array was garbage.
    let private rebuild (rewritten: IdMap<Expr>) (node: Expr) : Expr voption =
        let inline pick (k: int) = let r = rewritten.[(node.Arg k).Id] in if isNull (box r) then node.Arg k else r
        match node.Op with
        | Op.Unary u ->
            let r = rewritten.[node.First.Id]
            if isNull (box r) then ValueNone else ValueSome(Expr.unary u r)
        | Op.Binary b ->
            let a, c = pick 0, pick 1
            if obj.ReferenceEquals(a, node.First) && obj.ReferenceEquals(c, node.Second) then ValueNone
            else ValueSome(Expr.binary b a c)
        | Op.Var _ | Op.Const _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul | Op.Permute _ | Op.Reshape _
        | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
        | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet
        | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ ->
            let args = node |> Ir.changedArgs pick
            if isNull args then ValueNone else ValueSome(Expr.apply node.Op args)

    let private lookup (rewritten: IdMap<Expr>) (r: Expr) = let x = rewritten.[r.Id] in if isNull (box x) then r else x

    let internal codeOf (dtype: DType) = match dtype with DType.Float32 -> 1 | DType.Float64 -> 2
    let internal dtypeOf (code: int) = if code = 1 then DType.Float32 else DType.Float64
    let internal noScalar = { Value = 0.0; Code = 0 }

    /// A rank-0 constant's value and dtype code; no scalar for any other node.
    let internal constantScalar (e: Expr) =
        match e with
        | Fold.ScalarConst v -> { Value = v; Code = codeOf e.DType }
        | _ -> noScalar

    /// u of a folded scalar, rounded to its dtype as the constructor rounds it; no scalar (Code 0)
    /// when x is none or u does not fold.
    let internal foldUnary (u: UnaryOp) (x: PendingScalar) =
        if x.Code = 0 then noScalar
        else
            match ScalarFold.unary u x.Value with
            | ValueSome v -> { Value = ScalarFold.toDType (dtypeOf x.Code) v; Code = x.Code }
            | ValueNone -> noScalar

    /// b of two folded scalars in their promoted dtype (float64 when they differ, as the
    /// constructor promotes); no scalar when either is none.
    let internal foldBinary (b: BinaryOp) (x: PendingScalar) (y: PendingScalar) =
        if x.Code = 0 || y.Code = 0 then noScalar
        else
            let code = if x.Code = y.Code then x.Code else 2
            { Value = ScalarFold.toDType (dtypeOf code) (ScalarFold.binary b x.Value y.Value); Code = code }

    /// The roots with each `(node, replacement)` applied. Nodes that depend on no replaced node
    /// are returned as the very same objects.
    ///
    /// Where the replacements are scalar constants (a derivative taken at a number), every
    /// elementwise node above them folds to a constant. Those folds are done on plain floats, with
    /// the same ScalarFold functions and dtype rounding as the constructors, and a constant node is
    /// built only where something else needs one (an op that does not fold, or a root): building
    /// and interning one constant per folded node was most of such a substitution. The results
    /// are the nodes the constructors would give.
    let apply (replacements: (Expr * Expr) seq) (roots: Expr[]) : Expr[] =
        let replacements = Array.ofSeq replacements
        let mutable start = Int64.MaxValue
        for node, replacement in replacements do
            check node replacement
            start <- min start node.Id
        if replacements.Length = 0 then roots
        else
            let rewritten = IdMap<Expr>(start)
            let pending = IdMap<PendingScalar>(start)
            for node, replacement in replacements do
                rewritten.[node.Id] <- replacement
            let changed (e: Expr) = not (isNull (box rewritten.[e.Id])) || pending.[e.Id].Code <> 0
            // What e has become, as a node: a pending constant is built now (once).
            let current (e: Expr) =
                let r = rewritten.[e.Id]
                if not (isNull (box r)) then r
                else
                    let p = pending.[e.Id]
                    if p.Code = 0 then e
                    else
                        let built = Expr.scalar (dtypeOf p.Code) p.Value
                        rewritten.[e.Id] <- built
                        built
            // What e has become, as a scalar constant's value, when it is one.
            let scalarOf (e: Expr) =
                let r = rewritten.[e.Id]
                let p = if isNull (box r) then pending.[e.Id] else noScalar
                if p.Code <> 0 then p
                else
                    constantScalar (if isNull (box r) then e else r)
            let struct (order, count) = Graph.topologicalOrderPooled start roots
            // A node rebuilt from one of f's own is f's own again (see Expr.IsPrimal), so a transform around the one
            // that substitutes holds it as f's value too; the thread's setting is switched only where it differs.
            let outer = Construction.ByTransform
            let mutable byTransform = outer
            try
                for i in 0 .. count - 1 do
                    let node = order.[i]
                    if node.Id >= start && node.ArgCount > 0 && not (changed node) then
                        if node.IsPrimal = byTransform then
                            byTransform <- not node.IsPrimal
                            Construction.ByTransform <- byTransform
                        match node.Op with
                        | Op.Unary u ->
                            if changed (node.Arg 0) then
                                let folded = foldUnary u (scalarOf (node.Arg 0))
                                if folded.Code <> 0 then pending.[node.Id] <- folded
                                else rewritten.[node.Id] <- Expr.unary u (current (node.Arg 0))
                        | Op.Binary b ->
                            if changed (node.Arg 0) || changed (node.Arg 1) then
                                let folded = foldBinary b (scalarOf (node.Arg 0)) (scalarOf (node.Arg 1))
                                if folded.Code <> 0 then pending.[node.Id] <- folded
                                else rewritten.[node.Id] <- Expr.binary b (current (node.Arg 0)) (current (node.Arg 1))
                        | Op.Var _ | Op.Const _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul | Op.Permute _ | Op.Reshape _
                        | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
                        | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet
                        | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ ->
                            let args = node |> Ir.changedArgs (fun k -> current (node.Arg k))
                            if not (isNull args) then rewritten.[node.Id] <- Expr.apply node.Op args
            finally
                Construction.ByTransform <- outer
            Pool.release order count
            let result = roots |> Array.map current
            rewritten.Release()
            pending.Release()
            result

    /// The nodes of the roots' graph that depend on the Vars, found once; `run` then substitutes
    /// by rebuilding only those.
    let internal plan (vars: Expr[]) (roots: Expr[]) : SubstitutionPlan =
        let start = Ir.oldestId vars
        let dependent = IdSet(start)
        for v in vars do
            dependent.Add v.Id |> ignore
        let nodes = List<Expr>()
        for node in Graph.topologicalOrderFrom start roots do
            if node.Id >= start && not (dependent.Contains node.Id)
               && node |> Ir.existsArg (fun a -> dependent.Contains a.Id) then
                dependent.Add node.Id |> ignore
                nodes.Add node
        dependent.Release()
        SubstitutionPlan(Array.copy vars, nodes.ToArray(), Array.copy roots)

    /// The plan's roots with replacements.[i] for plan.Vars.[i]. Visits the plan's nodes only.
    let internal run (plan: SubstitutionPlan) (replacements: Expr[]) : Expr[] =
        let vars = plan.Vars
        if replacements.Length <> vars.Length then
            invalidArg "replacements" (sprintf "%d replacements for %d variables" replacements.Length vars.Length)
        let start = Ir.oldestId vars
        let rewritten = IdMap<Expr>(start)
        for i in 0 .. vars.Length - 1 do
            check vars.[i] replacements.[i]
            rewritten.[vars.[i].Id] <- replacements.[i]
        for node in plan.Nodes do
            match rebuild rewritten node with
            | ValueSome r -> rewritten.[node.Id] <- r
            | ValueNone -> ()
        Visits.Add plan.Nodes.Length
        let result = plan.Roots |> Array.map (lookup rewritten)
        rewritten.Release()
        result

/// Substitution of scalar constants for a transform's Vars, folded as the nodes are made rather than
/// after: while the transform's function and rules build their nodes, each elementwise node of the
/// Vars' scopes gets its value from its inputs' (with Substitute.apply's ScalarFold functions and dtype
/// rounding), and `Fold` then reads the roots' values. Substitute.apply over the finished graph walked
/// every node again, long after it was made and left the cache: most of a gradient at a number was that
/// walk. A node that does not fold (an op other than unary and binary elementwise, or an input that is
/// no scalar constant) leaves its users unfolded too, and `Fold` answers null: the transform then
/// substitutes as before. Attached to the scopes until `Detach`.
[<Sealed; AllowNullLiteral>]
type internal NumbersAsMade(vars: Expr[], values: Expr[]) =
    let scopes = vars |> Array.map (fun v -> v.Scope)
    let table = IdMap<PendingScalar>(Ir.oldestId vars, true)
    // Several scopes (one per Var) may be built from several threads, each under its own gate, so
    // the table has a gate of its own; with one scope, the scope's gate is already held.
    let gate = if scopes.Length > 1 then System.Threading.Lock() else null
    let ours (scope: NodeScope) =
        let mutable found = false
        for s in scopes do
            if obj.ReferenceEquals(s, scope) then found <- true
        found
    let valueOf (e: Expr) : PendingScalar =
        if not (isNull e.Scope) && ours e.Scope then table.[e.Id] else Substitute.constantScalar e
    let fold (node: Expr) =
        match node.Op with
        | Op.Unary u ->
            let folded = Substitute.foldUnary u (valueOf node.First)
            if folded.Code <> 0 then table.[node.Id] <- folded
        | Op.Binary b ->
            let x = valueOf node.First
            if x.Code <> 0 then
                let folded = Substitute.foldBinary b x (valueOf node.Second)
                if folded.Code <> 0 then table.[node.Id] <- folded
        | Op.Var _ | Op.Const _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul | Op.Permute _ | Op.Reshape _
        | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
        | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet
        | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> ()
    let made (node: Expr) =
        if isNull gate then fold node
        else
            gate.Enter()
            try fold node finally gate.Exit()
    do
        for i in 0 .. vars.Length - 1 do
            let value = Substitute.constantScalar values.[i]
            if value.Code = 0 then invalidArg "values" "NumbersAsMade: every value is a scalar constant"
            table.[vars.[i].Id] <- value
        let callback = Action<Expr>(made)
        for s in scopes do
            s.OnMade <- callback

    /// True when every value is a scalar constant, so that the Vars' nodes can be folded as made.
    static member Applies(values: Expr[]) =
        let mutable all = values.Length > 0
        for v in values do
            if (Substitute.constantScalar v).Code = 0 then all <- false
        all

    /// What Substitute.apply (vars → values) gives for each root, when every root of the Vars' scopes
    /// folded; null when one did not. Roots outside the scopes come back as they are (they do not
    /// depend on the Vars), and each Var as its value.
    member _.Fold(roots: Expr[]) : Expr[] =
        // (the scopes' gates, for one scope: its nodes may still be made from other threads)
        let held = if isNull gate then scopes.[0].Gate else gate
        held.Enter()
        try
            let result: Expr[] = Array.zeroCreate roots.Length
            let mutable complete = true
            for i in 0 .. roots.Length - 1 do
                let root = roots.[i]
                let k = Array.IndexOf(vars, root)
                if k >= 0 then result.[i] <- values.[k]
                elif not (isNull root.Scope) && ours root.Scope then
                    let t = table.[root.Id]
                    if t.Code = 0 then complete <- false
                    else result.[i] <- Expr.scalar (Substitute.dtypeOf t.Code) t.Value
                elif not (isNull root.Scope) then complete <- false // another transform's node: left to Substitute.apply
                else result.[i] <- root
            if complete then result else null
        finally
            held.Exit()

    /// Stops following the scopes and gives the table back.
    member _.Detach() =
        for s in scopes do
            s.OnMade <- null
        let held = if isNull gate then scopes.[0].Gate else gate
        held.Enter()
        try table.Release() finally held.Exit()
