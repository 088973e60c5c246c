/// The Rewrite pass (ARCHITECTURE layer 8): polynomial normal forms for elementwise arithmetic, with
/// common subexpressions shared by hash-consing and dead nodes dropped because only what is
/// reachable from the roots is visited and rebuilt.
///
/// It is compiled after Build and Graph, which are all it uses, and before Transforms.fs, because
/// the transforms run it (simplifyFrom) on the graphs they build over their fresh Vars, before
/// substituting their arguments: each order of a nested derivative is simplified before the next
/// differentiates it, which is what turns the geometric growth of d^k tanh / dx^k into
/// polynomial growth (GraphScaleTests.fs and ForwardSizeTests.fs have the counts).
///
/// Add, Sub, Neg, Mul, Square and finite scalar constants are polynomial operations; every other
/// node is an atom. A node's polynomial is replaced by its normal form only when that is smaller
/// than what the node already costs, so graphs that are already minimal (the pullback of sin is
/// `g * cos x`) come back as the very same objects, and the pass is idempotent.
///
/// Cancellation keeps IEEE values: what cancels leaves a ghost (see Poly), so `x - x` is still
/// NaN where x is infinite or NaN, as torch computes it, and a derivative graph keeps the NaN the
/// unsimplified graph would give. Non-finite and zero constants are atoms, so `x * inf` and
/// `x * 0` keep their IEEE values (NaN for infinite x), as the constructors do.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic

/// Work done by `Rewrite.simplify` on the current thread, in steps: a node of the graph visited, a
/// node explored when weighing a replacement, a term of a polynomial formed, a node built. Tests
/// compare it with the graph's size to check that the pass is linear; it counts per thread
/// because other threads simplify at the same time.
type internal RewriteWork =
    [<ThreadStatic; DefaultValue>]
    static val mutable private steps: int64
    [<ThreadStatic; DefaultValue>]
    static val mutable private weighed: int64
    static member Steps = RewriteWork.steps
    static member Add(count: int) = RewriteWork.steps <- RewriteWork.steps + int64 count
    /// Exact costs of normal forms formed (Polynomial.buildCost, which forms a deferred product's
    /// terms), on this thread: tests check that nodes which cannot be replaced are not weighed.
    static member Weighed = RewriteWork.weighed
    static member Weigh(p: Poly) =
        RewriteWork.weighed <- RewriteWork.weighed + 1L
        Polynomial.buildCost p

/// Graph simplification by polynomial normal forms.
[<RequireQualifiedAccess>]
module Rewrite =

    let private isPolynomialOp (op: Op) =
        match op with
        | Op.Binary(BinaryOp.Add | BinaryOp.Sub | BinaryOp.Mul) | Op.Unary(UnaryOp.Neg | UnaryOp.Square) -> true
        | _ -> false

    /// The rules table: a polynomial op's polynomial from its inputs' polynomials, for an op that
    /// isPolynomialOp accepts. Refused means the node is an atom after all: a cap was exceeded, or
    /// an input is a non-finite constant (refused, see leafPolynomial).
    /// `first` and `second` are the inputs' polynomials (`second` is refused for a unary op).
    /// The dtype's range decides which coefficients overflow: the polynomial algebra refuses
    /// coefficients beyond float64's (see Polynomial.overflows), and a float32 node refuses those
    /// beyond float32's, which its constants would round to ±∞.
    let private combine (dtype: DType) (op: Op) (first: Poly) (second: Poly) (arity: int) : Poly =
        if Polynomial.isRefused first || (arity = 2 && Polynomial.isRefused second) then Polynomial.refused
        else
            let p =
                match op with
                | Op.Binary BinaryOp.Add -> Polynomial.add first second
                | Op.Binary BinaryOp.Sub -> Polynomial.add first (Polynomial.scale -1.0 second)
                | Op.Binary BinaryOp.Mul -> Polynomial.multiply first second
                | Op.Unary UnaryOp.Neg -> Polynomial.scale -1.0 first
                | Op.Unary UnaryOp.Square -> Polynomial.multiply first first
                | _ -> Polynomial.refused
            if dtype = DType.Float32 && not (Polynomial.isRefused p)
               && Polynomial.largestCoefficient p > float Single.MaxValue then Polynomial.refused
            else p

    /// The polynomial of a built node that is treated as a whole: a finite nonzero fill value is
    /// a constant, anything else an atom. A non-finite or zero fill value gives the refused
    /// polynomial, which makes every polynomial node over it an atom: `(x + inf) - inf` must stay
    /// NaN, not become x, and `loss + 0 * reg` must stay NaN where reg is infinite.
    let private leafPolynomial (e: Expr) : Poly =
        match e with
        | Fold.Filled v when Double.IsFinite v && v <> 0.0 -> Polynomial.constant v
        | Fold.Filled _ -> Polynomial.refused
        | _ -> Polynomial.atom e

    /// atom^power, sharing the lower powers: a² is `square a`, a^k is a^(k-1) · a. Hash-consing
    /// makes every request for the same power the same node.
    let private power (atom: Expr) (k: int) =
        let mutable result = atom
        if k >= 2 then result <- Expr.square atom
        for _ in 3 .. k do
            result <- Expr.mul result atom
        result

    /// Builds a polynomial in the given dtype and broadcasts it to the node's shape (a
    /// cancellation may have removed the atoms that gave the node its shape). The ghost is added
    /// as `s - s`, s the sum of its atoms, after the terms.
    let private build (dtype: DType) (shape: int[]) (poly: Poly) : Expr =
        let ghost =
            if poly.Ghost.Length = 0 then None
            else
                let s = poly.Ghost |> Array.reduce Expr.add
                Some(Expr.sub s s)
        let p = poly.Terms
        if p.Length = 0 then
            match ghost with
            | None -> Expr.zeros dtype shape
            | Some g -> Expr.broadcastTo shape g
        else
            let monomial (factors: Factor[]) =
                let mutable product = Unchecked.defaultof<Expr>
                let times (piece: Expr) = product <- if isNull (box product) then piece else Expr.mul product piece
                // A power of an atom that can be infinite, beside other factors, is the one product a monomial forms
                // that the chain it came from did not: (g·σ(−x²)·2x)·x, 0 before x reaches it, became 2g·x²·σ(−x²) =
                // ∞·0 = NaN once x² overflows (`fuzz adversarial 16/127`: the gradient of logsigmoid(x²)·x at
                // x = 1e160, torch's 0). Such a monomial is multiplied as the chain is, newest factor first (the
                // reverse walk meets the latest step's slope first), and the atom's power one factor at a time, so
                // a factor that vanishes meets the finite atom before its square. Every other monomial keeps its
                // shared powers and its order, so graphs without such a power are the same.
                // The unbounded atoms take turns, one factor each per round, newest first (bounded powers whole
                // in the first round): a power of an unbounded atom formed before a factor of degree one that is
                // older than it overflowed first, where the chain had met that factor first (the gradient of
                // rsqrt(x₀)·x₁ at x₀ = 1e-310, x₁ = −1e-310 has the monomial x₁·y³: y³ = ∞ before x₁ met it,
                // where ((x₁·y)·y)·y is the finite −1e155); and the factors of degree one multiplied together
                // before the power's first factor overflowed as well, where the chain had met a power's factor
                // between them (the JVP of x₁/v at v = 2e160, x₁ = 3e160 has the monomial x₁·v̇·y² with y = 1/v:
                // x₁·v̇ = −3.6e320 before y² = 2.5e-321 met it, where (v̇·y)·y·x₁ is 0.895, `fuzz wide
                // adversarial 137/276`).
                let mutable overflowProne = false
                if factors.Length >= 2 then
                    for f in factors do
                        if f.Power >= 2 && not (Polynomial.isBounded f.Atom) then overflowProne <- true
                if overflowProne then
                    let mutable highest = 0
                    for i in factors.Length - 1 .. -1 .. 0 do
                        let f = factors.[i]
                        if Polynomial.isBounded f.Atom then times (power f.Atom f.Power)
                        else
                            times f.Atom
                            highest <- max highest f.Power
                    for round in 2 .. highest do
                        for i in factors.Length - 1 .. -1 .. 0 do
                            let f = factors.[i]
                            if not (Polynomial.isBounded f.Atom) && round <= f.Power then times f.Atom
                else
                    for f in factors do
                        times (power f.Atom f.Power)
                product
            let termWith (coefficient: float) (factors: Factor[]) =
                if factors.Length = 0 then Expr.scalar dtype coefficient
                else Expr.mul (Expr.scalar dtype coefficient) (monomial factors)
            RewriteWork.Add p.Length
            let mutable sum = termWith p.[0].Coefficient p.[0].Factors
            for i in 1 .. p.Length - 1 do
                let t = p.[i]
                let magnitude = termWith (abs t.Coefficient) t.Factors
                sum <- if t.Coefficient < 0.0 then Expr.sub sum magnitude else Expr.add sum magnitude
            match ghost with
            | None -> Expr.broadcastTo shape sum
            | Some g -> Expr.broadcastTo shape (Expr.add sum g)

    /// How many nodes below a candidate the exact saving looks at.
    let private regionLimit = 64

    /// The roots, simplified, with every node older than `start` (id below it) kept as an atom,
    /// and with each `(node, replacement)` applied as Substitute.apply would apply it afterwards,
    /// in the same pass: the normal forms are chosen on the graph as it is, each replaced node an
    /// atom, and every node is built once, over the replacements. A transform's graph depends on
    /// its Vars almost everywhere, so a substitution after the simplification rebuilt every node
    /// the simplification had just rebuilt. Older nodes are neither visited below nor rewritten:
    /// a transform passes the id of its first fresh Var, so it simplifies only what its function
    /// built (see Graph.topologicalOrderFrom) and never the history behind its arguments; that
    /// history was simplified, if at all, when it was built. Nodes whose normal form is not
    /// smaller than what they cost already are kept, and a node none of whose inputs changed is
    /// returned as the same object.
    ///
    /// With `hold`, the nodes the user's function built (Expr.IsPrimal) are never replaced by their normal forms:
    /// each is rebuilt over its inputs, as a primal node again (so a transform around this one holds it too). Its
    /// polynomial still enters the normal forms of the nodes above it. See simplifyHolding.
    let private simplifyWith (hold: bool) (start: int64) (replacements: (Expr * Expr)[]) (roots: Expr[]) : Expr[] =
        if isNull roots then nullArg "roots"
        let replaced = IdMap<Expr>(start)
        for node, replacement in replacements do
            if node.ArgCount > 0 then invalidArg "replacements" (sprintf "only leaves are replaced, not %O" node)
            if not (Ir.sameDims node.Dims replacement.Dims) || node.DType <> replacement.DType then
                Shape.fail "Substitute" (sprintf "%O cannot be replaced by %O" node replacement)
            replaced.[node.Id] <- replacement
        let struct (order, n) = Graph.topologicalOrderPooled start roots
        // Older nodes are leaves here: their inputs are not in `order`.
        let arityOf (node: Expr) = if node.Id < start then 0 else node.ArgCount
        // Inputs as positions in `order`, flat: node i's inputs are at firstInput.[i] .. firstInput.[i+1]-1.
        // One dictionary lookup per edge here instead of one per edge in every loop below.
        // The per-node tables come from the pool (see Pool) and go back at the end.
        let firstInput = Pool.rentCleared<int> (n + 1)
        for i in 0 .. n - 1 do
            firstInput.[i + 1] <- firstInput.[i] + arityOf order.[i]
        let edges = firstInput.[n]
        let inputs = Pool.rent<int> edges
        // Positions from 1, so that 0 means "not in order".
        let position = IdMap<int>(start)
        for i in 0 .. n - 1 do
            position.[order.[i].Id] <- i + 1
            let node = order.[i]
            for k in 0 .. arityOf node - 1 do
                inputs.[firstInput.[i] + k] <- position.[(node.Arg k).Id] - 1
        let rootPositions = roots |> Array.map (fun r -> position.[r.Id] - 1)
        // Uses of each node by the others and by the roots: a node used once dies with its user,
        // so its cost counts toward its user's; a shared node stays whatever its user becomes.
        let uses = Pool.rentCleared<int> n
        for e in 0 .. edges - 1 do
            let j = inputs.[e]
            uses.[j] <- uses.[j] + 1
        for j in rootPositions do
            uses.[j] <- uses.[j] + 1
        let remaining = Pool.rent<int> n
        Array.Copy(uses, remaining, n)
        // Per node: its polynomial (one atom for a non-polynomial node), its rebuilt node (null
        // while its normal form is pending: built only if something asks for it), and its cost.
        let polynomials = Pool.rentCleared<Poly> n
        let rebuilt = Pool.rentCleared<Expr> n
        let cost = Pool.rentCleared<int> n
        // Kept after the polynomials are freed, for savesMoreThan: which nodes are polynomial
        // (within the caps) and which were replaced by their pending normal form.
        let isPolynomial = Pool.rentCleared<bool> n
        let isPending = Pool.rentCleared<bool> n
        // True when a polynomial node that would die with node i is shared (used twice): only
        // then can savesMoreThan find more than the quick bound.
        let sharedBelow = Pool.rentCleared<bool> n
        // True when a replaced node is below node i. Such a node's rebuilt form holds the
        // replacements, and it stays an atom whatever it became: the replaced node was one, and a
        // replacement that folds to a constant must not change which normal forms are chosen.
        let dependsOnReplaced = Pool.rentCleared<bool> n
        let materialize (j: int) =
            if isNull (box rebuilt.[j]) then
                let node = order.[j]
                rebuilt.[j] <- build node.DType node.Dims (Polynomial.expand polynomials.[j])
            rebuilt.[j]
        // savesMoreThan weighs the exact saving of replacing node i: the nodes below it (through polynomial nodes) that
        // only it uses, directly or through other such nodes; shared ones like `1 - t²` used by
        // several terms of one polynomial die with it too. Explored up to regionLimit nodes, so a
        // call costs O(1); stopping early only undercounts, which keeps the node as it is.
        // The region as positions, and per position the call that last put it in the region (so
        // nothing is cleared between calls) and its uses from freed nodes in that call.
        // The exploration stops once the region holds regionLimit nodes, after adding all the
        // inputs of the node it was at: at most the widest node's inputs more.
        let mutable widest = 0
        for i in 0 .. n - 1 do
            widest <- max widest (firstInput.[i + 1] - firstInput.[i])
        let region = Array.zeroCreate<int> (regionLimit + widest)
        let regionCall = Pool.rentCleared<int> n
        let freedUses = Pool.rent<int> n
        let calls = ref 0
        // Puts node i and the polynomial nodes below it (up to regionLimit) in the region, and
        // returns the region's size and what it would save if every node in it were freed: a bound
        // on the exact saving, which most nodes fail (it is no more than their normal form's cost).
        let explore (i: int) : struct (int * int) =
            calls.Value <- calls.Value + 1
            let call = calls.Value
            let mutable size = 1
            region.[0] <- i
            regionCall.[i] <- call
            freedUses.[i] <- 0
            let mutable bound = 1
            let mutable k = 0
            while k < size && size < regionLimit do
                let j = region.[k]
                k <- k + 1
                RewriteWork.Add 1
                // A pending node is already a normal form: it counts as its own cost, whole.
                if j = i || not isPending.[j] then
                    let mutable e = firstInput.[j]
                    while e < firstInput.[j + 1] do
                        let c = inputs.[e]
                        if isPolynomial.[c] && regionCall.[c] <> call then
                            region.[size] <- c
                            size <- size + 1
                            regionCall.[c] <- call
                            freedUses.[c] <- 0
                            bound <- bound + (if isPending.[c] then cost.[c] else 1)
                        e <- e + 1
            struct (size, bound)
        // The exact saving of replacing node i, over the region that explore i just filled.
        let exactSaving (i: int) (size: int) =
            let call = calls.Value
            // ascending with the default order (no comparer delegate per call), read backwards
            Array.Sort(region, 0, size)
            let mutable saved = 0
            for r in size - 1 .. -1 .. 0 do
                let j = region.[r]
                // Users come later in topological order, so every user of j inside the region has
                // been decided: j is freed when all its uses come from freed nodes.
                if j = i || freedUses.[j] = uses.[j] then
                    let pending = j <> i && isPending.[j]
                    saved <- saved + (if pending then cost.[j] else 1)
                    if not pending then
                        for e in firstInput.[j] .. firstInput.[j + 1] - 1 do
                            let c = inputs.[e]
                            if regionCall.[c] = call then freedUses.[c] <- freedUses.[c] + 1
            saved
        // True when replacing node i by a normal form that costs `normal` saves more than that.
        let savesMoreThan (normal: int) (i: int) =
            let struct (size, bound) = explore i
            bound > normal && normal < exactSaving i size
        let rebuildOver (i: int) =
            let node = order.[i]
            let first = firstInput.[i]
            // Elementwise nodes go to their constructors with the new inputs themselves: those
            // make an inputs array only for a node that is new. Other nodes copy their inputs
            // once one differs: most nodes stay as they are.
            match node.Op with
            | Op.Unary u ->
                let x = materialize inputs.[first]
                if obj.ReferenceEquals(x, node.First) then node else Expr.unary u x
            | Op.Binary b ->
                let x = materialize inputs.[first]
                let y = materialize inputs.[first + 1]
                if obj.ReferenceEquals(x, node.First) && obj.ReferenceEquals(y, node.Second) then node else Expr.binary b x y
            | Op.Var _ | Op.Const _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul | Op.Permute _ | Op.Reshape _
            | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
            | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet
            | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ ->
                let args = node |> Ir.changedArgs (fun k -> materialize inputs.[first + k])
                if isNull args then node else Expr.apply node.Op args
        let rebuildOverInputs (i: int) =
            let node = order.[i]
            if hold && node.IsPrimal then
                // The inputs' normal forms first, as the transform's own nodes: only the node itself is f's, built
                // (as the user's function builds) only where an input changed.
                let first = firstInput.[i]
                let mutable changed = false
                for k in 0 .. firstInput.[i + 1] - first - 1 do
                    if not (obj.ReferenceEquals(materialize inputs.[first + k], node.Arg k)) then changed <- true
                if changed then Construction.As(true, rebuildOver, i) else node
            else rebuildOver i
        for i in 0 .. n - 1 do
            RewriteWork.Add 1
            let node = order.[i]
            let first, last = firstInput.[i], firstInput.[i + 1] - 1
            if last < first then
                let replacement = if replacements.Length = 0 then Unchecked.defaultof<Expr> else replaced.[node.Id]
                if isNull (box replacement) then
                    rebuilt.[i] <- node
                    polynomials.[i] <- leafPolynomial node
                else
                    rebuilt.[i] <- replacement
                    polynomials.[i] <- Polynomial.atom replacement
                    dependsOnReplaced.[i] <- true
            else
                for e in first .. last do
                    if dependsOnReplaced.[inputs.[e]] then dependsOnReplaced.[i] <- true
                let polynomial =
                    if isPolynomialOp node.Op then
                        let arity = last - first + 1
                        let second = if arity = 2 then polynomials.[inputs.[last]] else Polynomial.refused
                        combine node.DType node.Op polynomials.[inputs.[first]] second arity
                    else Polynomial.refused
                match polynomial with
                | p when not (Polynomial.isRefused p) ->
                    RewriteWork.Add(Polynomial.termCount p)
                    // A quick lower bound on what the node costs as it stands: itself plus the
                    // polynomial inputs only it uses (savesMoreThan is exact but dearer).
                    let mutable standing = 1
                    let mutable inputPending = false
                    for e in first .. last do
                        let j = inputs.[e]
                        if isPending.[j] then inputPending <- true
                        if isPolynomial.[j] then
                            if uses.[j] = 1 then
                                standing <- standing + cost.[j]
                                if not isPending.[j] && sharedBelow.[j] then sharedBelow.[i] <- true
                            else sharedBelow.[i] <- true
                    // A normal form at least this large cannot win (buildCost is at least
                    // lowerCost), and the exact cost scans every atom (and forms a deferred
                    // product's terms).
                    let lower = Polynomial.lowerCost p
                    polynomials.[i] <- p
                    isPolynomial.[i] <- true
                    // On a tie the node is kept only if it can stay the same object: once an input
                    // was replaced, keeping it would rebuild that input's normal form and itself.
                    // So a node whose normal form cannot undercut (or, with a replaced input, tie)
                    // what it costs standing is replaced only for the saving below it when shared,
                    // and that saving is bounded by its region's: where even the lower bound reaches
                    // the region's, the exact cost cannot change the decision and is never formed.
                    // (In the gradient of an unrolled LSTM every polynomial node was such a node,
                    // none was replaced, and forming their exact costs was most of the pass.)
                    let replace =
                        if hold && node.IsPrimal then false
                        elif lower > standing || (lower = standing && not inputPending) then
                            sharedBelow.[i]
                            && (let struct (size, bound) = explore i
                                bound > lower
                                && (let normal = RewriteWork.Weigh p
                                    if bound > normal && normal < exactSaving i size then
                                        cost.[i] <- normal
                                        true
                                    else false))
                        else
                            let normal = RewriteWork.Weigh p
                            if normal < standing || (inputPending && normal = standing)
                               || (sharedBelow.[i] && savesMoreThan normal i) then
                                cost.[i] <- normal
                                true
                            else false
                    if replace then
                        isPending.[i] <- true
                    else
                        cost.[i] <- standing
                        rebuilt.[i] <- rebuildOverInputs i
                | _ ->
                    rebuilt.[i] <- rebuildOverInputs i
                    polynomials.[i] <- if dependsOnReplaced.[i] then Polynomial.atom rebuilt.[i] else leafPolynomial rebuilt.[i]
            // Inputs whose every user has been handled are no longer needed: free their polynomials
            // so a graph of millions of nodes holds only the frontier's.
            for e in first .. last do
                let j = inputs.[e]
                remaining.[j] <- remaining.[j] - 1
                if remaining.[j] = 0 then
                    polynomials.[j] <- Polynomial.refused
                    rebuilt.[j] <- Unchecked.defaultof<Expr>
        let result = rootPositions |> Array.map materialize
        position.Release()
        replaced.Release()
        Pool.release order n
        Pool.giveBack firstInput
        Pool.giveBack inputs
        Pool.giveBack uses
        Pool.giveBack remaining
        Pool.release polynomials n
        Pool.release rebuilt n
        Pool.giveBack cost
        Pool.giveBack isPolynomial
        Pool.giveBack isPending
        Pool.giveBack sharedBelow
        Pool.giveBack dependsOnReplaced
        Pool.giveBack regionCall
        Pool.giveBack freedUses
        result

    /// The roots, simplified and substituted (see simplifyWith), every node of f's own held as f built it: what a
    /// transform finishes its derivative graphs with. The rules read f's values in that graph (max's mask compares x
    /// with the result, abs's slope is sgn x, exp's is the value itself), and those must follow IEEE as f's value
    /// does, where a normal form treats its atoms as real numbers: (1 − y)·b distributed into b − y·b is NaN at y = 0,
    /// b = ±∞, where the product is b (the gradient of max(multilabel_soft_margin_loss(x, 0)) at x = +∞ was NaN, `fuzz
    /// newest adversarial 1/73`). Only the user's nodes are held: an inner transform's result, a derivative graph that
    /// a nested derivative differentiates again, is put in normal form at every order, which is what keeps nested
    /// derivatives polynomial in size (holding all of f's graph made d^k tanh grow geometrically in k).
    let simplifyHolding (start: int64) (replacements: (Expr * Expr)[]) (roots: Expr[]) : Expr[] =
        simplifyWith true start replacements roots

    /// The roots, simplified, with every node older than `start` kept as an atom, and the replacements applied; see
    /// simplifyWith.
    let simplifySubstituting (start: int64) (replacements: (Expr * Expr)[]) (roots: Expr[]) : Expr[] =
        simplifyWith false start replacements roots

    /// The roots, simplified, with every node older than `start` kept as an atom; see
    /// simplifySubstituting.
    let simplifyFrom (start: int64) (roots: Expr[]) : Expr[] = simplifySubstituting start [||] roots

    /// The roots, simplified as a whole (every node reachable from them is visited).
    let simplify (roots: Expr[]) : Expr[] = simplifyFrom Int64.MinValue roots
