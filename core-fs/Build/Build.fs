/// The op language: smart constructors that check and infer shapes, promote dtypes, and
/// canonicalise as they build where IEEE arithmetic makes it exact (scalar constant folding, x*1,
/// x-0, collapsed views; never x*0, which is NaN for infinite x). Every node in the core is made
/// here or by the elementwise core in Ir.fs that the operators share, so every rule and rewrite
/// gets the same algebra.
namespace FunctionalDiff.Core

open System
open Fold

/// Functions that build Exprs. Errors are ShapeExceptions raised before any node is made.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Expr =

    let private dims (e: Expr) = Shape.format e.Dims


    // ---- views and conversions ----

    /// NumPy broadcasting of x to a larger shape.
    let broadcastTo (shape: int[]) (x: Expr) : Expr =
        Shape.validate "BroadcastTo" shape
        ExprCore.broadcastTo shape x

    /// A tensor of zeros: a broadcast scalar, never a materialised buffer in the graph.
    let zeros (dtype: DType) (shape: int[]) = broadcastTo shape (ExprCore.scalar dtype 0.0)

    /// A tensor of ones, as a broadcast scalar.
    let ones (dtype: DType) (shape: int[]) = broadcastTo shape (ExprCore.scalar dtype 1.0)

    /// A tensor filled with one value, as a broadcast scalar.
    let full (dtype: DType) (shape: int[]) (value: float) = broadcastTo shape (ExprCore.scalar dtype value)

    /// Zeros of x's shape and dtype.
    let zerosLike (x: Expr) = ExprCore.full x.DType x.Dims 0.0

    /// Ones of x's shape and dtype (torch.ones_like): a constant, with no path to x.
    let onesLike (x: Expr) = ExprCore.full x.DType x.Dims 1.0

    /// Converts to another dtype; scalar constants convert at build time.
    let cast (dtype: DType) (x: Expr) : Expr = ExprCore.cast dtype x

    /// Brings two operands to a common dtype: float32 meeting float64 gives float64.
    let private promote (a: Expr) (b: Expr) = let struct (a, b) = ExprCore.promote a b in a, b

    /// The same elements in another shape; one entry may be -1 to be inferred.
    let reshape (shape: int[]) (x: Expr) : Expr =
        if isNull shape then nullArg "shape"
        let target = Shape.reshapeTarget x.Dims shape
        if Ir.sameDims target x.Dims then x
        else
            match x with
            | Filled v -> full x.DType target v
            | _ ->
                match x.Op with
                | Op.Reshape _ -> Ir.intern (Op.Reshape target) x.Inputs target x.DType
                | _ -> Ir.intern (Op.Reshape target) [| x |] target x.DType

    /// Reorders axes: output axis i is input axis permutation[i] (negative axes allowed).
    let permute (permutation: int[]) (x: Expr) : Expr =
        if isNull permutation then nullArg "permutation"
        if permutation.Length <> x.Rank then
            Shape.fail "Permute" (sprintf "permutation %s does not match rank %d of %s" (Shape.format permutation) x.Rank (dims x))
        let p = permutation |> Array.map (Shape.normalizeAxis "Permute" x.Rank)
        let identity = Shape.allAxes x.Rank
        // each axis once, by a loop: Array.sort's generic code starts unoptimised under tiering,
        // and every transpose a gradient builds comes here
        let seen: bool[] = Array.zeroCreate x.Rank
        for a in p do
            seen.[a] <- true
        if Array.IndexOf(seen, false) >= 0 then
            Shape.fail "Permute" (sprintf "%s is not a permutation of the axes of %s" (Shape.format permutation) (dims x))
        let shape = p |> Array.map (fun a -> x.Dims.[a])
        if Ir.sameDims p identity then x
        else
            match x with
            | Filled v -> full x.DType shape v
            | _ ->
                match x.Op with
                | Op.Permute inner ->
                    let composed = p |> Array.map (fun a -> inner.[a])
                    if Ir.sameDims composed identity then x.First
                    else Ir.intern (Op.Permute composed) x.Inputs shape x.DType
                | _ -> Ir.intern (Op.Permute p) [| x |] shape x.DType

    /// Swaps the last two axes (a matrix transpose, batched).
    let transpose (x: Expr) : Expr =
        if x.Rank < 2 then Shape.fail "Transpose" (sprintf "needs rank >= 2, got %s" (dims x))
        let p = Array.init x.Rank id
        p.[x.Rank - 2] <- x.Rank - 1
        p.[x.Rank - 1] <- x.Rank - 2
        permute p x

    /// Swaps two axes.
    let swapAxes (axis1: int) (axis2: int) (x: Expr) : Expr =
        let a = Shape.normalizeAxis "SwapAxes" x.Rank axis1
        let b = Shape.normalizeAxis "SwapAxes" x.Rank axis2
        let p = Array.init x.Rank id
        p.[a] <- b
        p.[b] <- a
        permute p x

    /// Marks x as a constant for differentiation: its cotangent is zero.
    let stopGradient (x: Expr) : Expr =
        match x.Op with
        | Op.Const _ | Op.StopGradient -> x
        | _ -> Ir.intern Op.StopGradient [| x |] x.Dims x.DType

    // ---- elementwise ----

    /// An elementwise function of one argument; scalar constants fold, and -(-x) is x.
    let unary (op: UnaryOp) (x: Expr) : Expr = ExprCore.unary op x

    /// An elementwise function of two arguments with NumPy/torch broadcasting and dtype promotion.
    /// Only IEEE-exact canonical forms apply: x+(-0), x-0, x*1, x/1, x**1 give x; x*(-1) and
    /// (-0)-x give -x; scalar constants fold. x*0, 0/x and x+0 are built as written.
    let binary (op: BinaryOp) (a: Expr) (b: Expr) : Expr = ExprCore.binary op a b

    /// One side of a clamp as the rules and activations write it, `where(y > c, c, y)` (`Greater`)
    /// or `where(y < c, c, y)` (`Less`) with c a scalar constant: the side, y and c.
    let private clampSide (mask: Expr) (ifTrue: Expr) (ifFalse: Expr) =
        if mask.ArgCount = 2 && obj.ReferenceEquals(mask.Arg 0, ifFalse) && obj.ReferenceEquals(mask.Arg 1, ifTrue) then
            match mask.Op, ifTrue with
            | Op.Binary((BinaryOp.Greater | BinaryOp.Less) as side), Filled c -> ValueSome(struct (side, c))
            | _ -> ValueNone
        else ValueNone

    /// The bounds [low, high] of y when y is a whole clamp, `where(s > high, high, where(s < low, low, s))`.
    let private clampBounds (y: Expr) =
        if y.Op.IsWhere && (y.Arg 2).Op.IsWhere && (y.Arg 0).ArgCount = 2 then
            let outerMask, inner = y.Arg 0, y.Arg 2
            // the inner side is a clamp side of s; the outer mask compares that same s with the outer bound
            match clampSide (inner.Arg 0) (inner.Arg 1) (inner.Arg 2), outerMask.Op, y.Arg 1 with
            | ValueSome(struct (BinaryOp.Less, low)), Op.Binary BinaryOp.Greater, Filled high
                when obj.ReferenceEquals(outerMask.Arg 0, inner.Arg 2) && obj.ReferenceEquals(outerMask.Arg 1, y.Arg 1) ->
                ValueSome(struct (low, high))
            | _ -> ValueNone
        else ValueNone

    /// Picks ifTrue where the mask is nonzero and ifFalse elsewhere, all three broadcast together.
    /// Only the chosen branch reaches the output, so NaN or inf in the other branch does not leak.
    /// A side of a clamp over a value already clamped inside it is that value: where(y > c, c, y)
    /// with y ≤ c wherever y is a number, and NaN passing both, so the rules' clamp of an argument
    /// that an activation has clamped already (erfc's e^(−x²) in GELU) costs no compare and no
    /// selection, value or derivative.
    let where (mask: Expr) (ifTrue: Expr) (ifFalse: Expr) : Expr =
        let shape = Shape.broadcastMany "Where" [ mask.Dims; ifTrue.Dims; ifFalse.Dims ]
        let ifTrue, ifFalse = promote ifTrue ifFalse
        let redundantSide () =
            match clampSide mask ifTrue ifFalse with
            | ValueSome(struct (side, c)) ->
                match clampBounds ifFalse with
                | ValueSome(struct (low, high)) -> if side = BinaryOp.Greater then high <= c else low >= c
                | ValueNone -> false
            | ValueNone -> false
        match mask with
        | Filled m -> broadcastTo shape (if m <> 0.0 then ifTrue else ifFalse)
        | _ when obj.ReferenceEquals(ifTrue, ifFalse) -> broadcastTo shape ifTrue
        | _ when redundantSide () -> broadcastTo shape ifFalse
        | _ -> Ir.intern Op.Where [| mask; ifTrue; ifFalse |] shape ifTrue.DType

    // ---- reductions ----

    /// Reduces over axes (negative allowed); an empty axis list returns x unchanged, but for the sum or
    /// mean of a scalar, which is x + 0 as torch's.
    let rec reduce (op: ReduceOp) (axes: int[]) (keepDims: bool) (x: Expr) : Expr =
        if isNull axes then nullArg "axes"
        if Shape.isScalarAxes x.Rank axes then reduce op [| 0 |] false (reshape [| 1 |] x) else
        let name = ScalarFold.caseName op
        let axes = Shape.normalizeAxes name x.Rank axes
        let shape = Shape.reduced x.Dims axes keepDims
        // Max and min of nothing have no value: raised here, when built, as torch raises at the
        // call (the kernel would raise only when evaluated, under its internal name)
        if (op = ReduceOp.Max || op = ReduceOp.Min) && axes |> Array.exists (fun a -> x.Dims.[a] = 0) then
            Shape.fail name (sprintf "cannot reduce over the empty axes %s of shape %s" (Shape.format axes) (dims x))
        if axes.Length = 0 && x.Rank = 0 && (op = ReduceOp.Max || op = ReduceOp.Min) then
            // Max and min of a scalar over its no axes stay a reduction (over it as a size-1 axis),
            // whose derivative is NaN at a NaN scalar as torch's amax; the identity would pass g through.
            Ir.intern (Op.Reduce(op, [| 0 |], false)) [| reshape [| 1 |] x |] shape x.DType
        elif axes.Length = 0 && x.Rank = 0 && (op = ReduceOp.Sum || op = ReduceOp.Mean) then
            // The sum or mean of a scalar is torch's running sum over its one entry, which starts
            // from +0: a scalar −0 gives +0, as over size-1 axes below (`fuzz 13/429`: atan2 of the
            // mean of a scalar −0 and −0.41 is +π in torch, was −π in ours)
            x + ExprCore.scalar x.DType 0.0
        elif axes.Length = 0 then x
        elif (op = ReduceOp.Sum || op = ReduceOp.Mean) && (let mutable ones = true in (for a in axes do if x.Dims.[a] <> 1 then ones <- false); ones) then
            // Reducing only size-1 axes moves no data: sum and mean are the identity there, plus +0,
            // as torch's running sum starts from +0 (a sum of −0 is +0 in torch and in our kernel;
            // `fuzz adversarial 5/12`: 1/x of the sum of [−0] is +∞). Max, min and prod stay
            // reductions, whose derivatives at an infinite or NaN entry are NaN as in torch (no entry
            // equals a NaN maximum; prod's y / x is ∞/∞), where the identity would pass g through.
            reshape shape x + ExprCore.scalar x.DType 0.0
        else
            match op, x with
            // A sum of +0s is +0 exactly; a sum of -0s is left to the kernel.
            | ReduceOp.Sum, Filled v when isPositiveZero v -> zeros x.DType shape
            | (ReduceOp.Max | ReduceOp.Min | ReduceOp.Mean), Filled v when x.Numel > 0 -> full x.DType shape v
            | _ -> Ir.intern (Op.Reduce(op, axes, keepDims)) [| x |] shape x.DType

    /// The index of the largest entry along an axis, as a float tensor in x's dtype.
    let rec argmax (axis: int) (keepDims: bool) (x: Expr) : Expr =
        if Shape.isScalarAxes x.Rank [| axis |] then argmax 0 false (reshape [| 1 |] x) else
        let a = Shape.normalizeAxis "ArgMax" x.Rank axis
        if x.Dims.[a] = 0 then Shape.fail "ArgMax" (sprintf "axis %d of %s is empty" axis (dims x))
        Ir.intern (Op.ArgMax(a, keepDims)) [| x |] (Shape.reduced x.Dims [| a |] keepDims) x.DType

    /// Sums a broadcast value back to a shape it was broadcast from: the adjoint of broadcastTo.
    let sumTo (shape: int[]) (x: Expr) : Expr =
        if Ir.sameDims x.Dims shape then x
        else
            if not (Shape.broadcastsTo shape x.Dims) then
                Shape.fail "SumTo" (sprintf "%s does not broadcast to %s" (Shape.format shape) (dims x))
            let lead = x.Rank - shape.Length
            // a loop, not an array expression over a range (FSharp.Core's generic range and
            // collector code, unoptimised under tiering): every broadcast cotangent comes here
            let axes = ResizeArray<int>(x.Rank)
            for i in 0 .. x.Rank - 1 do
                if i < lead || (shape.[i - lead] = 1 && x.Dims.[i] <> 1) then axes.Add i
            let axes = axes.ToArray()
            // a cotangent over size-1 axes only needs no sum (nor the +0 of a user's sum there)
            let mutable ones = true
            for a in axes do
                if x.Dims.[a] <> 1 then ones <- false
            if ones then reshape shape x
            else x |> reduce ReduceOp.Sum axes true |> reshape shape

    // ---- linear algebra ----

    /// torch.matmul: 1-D by 1-D is a dot product, 1-D operands gain and lose a unit axis, and
    /// batch axes broadcast.
    let matmul (a: Expr) (b: Expr) : Expr =
        if a.Rank = 0 || b.Rank = 0 then
            Shape.fail "MatMul" (sprintf "%s @ %s: both operands need rank >= 1" (dims a) (dims b))
        let inner = a.Dims.[a.Rank - 1]
        let innerB = if b.Rank = 1 then b.Dims.[0] else b.Dims.[b.Rank - 2]
        if inner <> innerB then
            Shape.fail "MatMul" (sprintf "%s @ %s: inner dimensions %d and %d differ" (dims a) (dims b) inner innerB)
        let batchA = if a.Rank > 2 then a.Dims.[.. a.Rank - 3] else [||]
        let batchB = if b.Rank > 2 then b.Dims.[.. b.Rank - 3] else [||]
        let batch =
            try Shape.broadcast "MatMul" batchA batchB
            with :? ShapeException as e ->
                Shape.failFrom e "MatMul" (sprintf "%s @ %s: batch dimensions cannot be broadcast" (dims a) (dims b))
        let rows = if a.Rank = 1 then [||] else [| a.Dims.[a.Rank - 2] |]
        let cols = if b.Rank = 1 then [||] else [| b.Dims.[b.Rank - 1] |]
        // joined by copies, not Array.concat: see sumTo
        let shape: int[] = Array.zeroCreate (batch.Length + rows.Length + cols.Length)
        Array.Copy(batch, shape, batch.Length)
        Array.Copy(rows, 0, shape, batch.Length, rows.Length)
        Array.Copy(cols, 0, shape, batch.Length + rows.Length, cols.Length)
        Shape.checkSize "MatMul" shape
        let a, b = promote a b
        // Never folded to zeros for a zero operand: a NaN or infinite entry of the other operand
        // makes its row or column NaN.
        Ir.intern Op.MatMul [| a; b |] shape a.DType

    // ---- structural ----

    /// Python-style slicing per axis: negative bounds count from the end and bounds are clamped;
    /// steps must be positive.
    let slice (starts: int[]) (stops: int[]) (steps: int[]) (x: Expr) : Expr =
        if isNull starts || isNull stops || isNull steps then nullArg "starts/stops/steps"
        if starts.Length <> x.Rank || stops.Length <> x.Rank || steps.Length <> x.Rank then
            Shape.fail "Slice" (sprintf "needs one start, stop and step per axis of %s, got %d, %d, %d" (dims x) starts.Length stops.Length steps.Length)
        if steps |> Array.exists (fun s -> s < 1) then
            Shape.fail "Slice" (sprintf "steps %s must be positive for %s" (Shape.format steps) (dims x))
        let clamp dim i = let j = if i < 0 then i + dim else i in max 0 (min dim j)
        let lo = Array.init x.Rank (fun i -> clamp x.Dims.[i] starts.[i])
        let hi = Array.init x.Rank (fun i -> max lo.[i] (clamp x.Dims.[i] stops.[i]))
        let shape = Array.init x.Rank (fun i -> Shape.sliceLength lo.[i] hi.[i] steps.[i])
        if Ir.sameDims shape x.Dims then x
        else
            match x with
            | Filled v -> full x.DType shape v
            | _ ->
                match x.Op with
                // a slice that reads only a pad's zeros on some axis is those zeros (a symbolic zero
                // when it is a cotangent: the rule of a packed node sees which parts are absent)
                | Op.Pad(before, _) when Array.exists (fun i -> hi.[i] <= before.[i] || lo.[i] >= before.[i] + x.First.Dims.[i]) [| 0 .. x.Rank - 1 |] ->
                    zeros x.DType shape
                | _ -> Ir.intern (Op.Slice(lo, hi, Array.copy steps)) [| x |] shape x.DType

    /// Slices one axis with step 1.
    let sliceAxis (axis: int) (start: int) (stop: int) (x: Expr) : Expr =
        let a = Shape.normalizeAxis "Slice" x.Rank axis
        let starts = Array.zeroCreate x.Rank
        let stops = Array.copy x.Dims
        starts.[a] <- start
        stops.[a] <- stop
        slice starts stops (Array.create x.Rank 1) x

    /// Zero padding: before.[i] zeros ahead of axis i and after.[i] behind it. A negative width
    /// crops that many entries instead, as torch's F.pad; the node itself only ever pads.
    let rec pad (before: int[]) (after: int[]) (x: Expr) : Expr =
        if isNull before || isNull after then nullArg "before/after"
        if before.Length <> x.Rank || after.Length <> x.Rank then
            Shape.fail "Pad" (sprintf "needs one before and after per axis of %s" (dims x))
        if Array.append before after |> Array.exists (fun p -> p < 0) then
            let starts = before |> Array.map (fun p -> max 0 -p)
            let stops = Array.init x.Rank (fun i -> x.Dims.[i] - max 0 -after.[i])
            if Array.exists2 (fun start stop -> start > stop) starts stops then
                Shape.fail "Pad" (sprintf "negative padding %s/%s crops more than %s holds" (Shape.format before) (Shape.format after) (dims x))
            pad (before |> Array.map (max 0)) (after |> Array.map (max 0)) (slice starts stops (Array.create x.Rank 1) x)
        else
            let shape = Array.init x.Rank (fun i -> Shape.addDims "Pad" (Shape.addDims "Pad" before.[i] x.Dims.[i]) after.[i])
            Shape.checkSize "Pad" shape
            if Ir.sameDims shape x.Dims then x
            elif (match x with Filled v -> isPositiveZero v | _ -> false) then zeros x.DType shape
            else Ir.intern (Op.Pad(Array.copy before, Array.copy after)) [| x |] shape x.DType

    /// Spreads values of a strided slice's shape back into zeros of the input's shape (a slice's
    /// cotangent, or the source of a slice_scatter), using only reshape, pad and unit-step slice so
    /// the result stays differentiable.
    let unslice (starts: int[]) (steps: int[]) (inputDims: int[]) (g: Expr) =
        let rank = inputDims.Length
        let mutable spread = g
        for axis in 0 .. rank - 1 do
            let step = steps.[axis]
            if step > 1 then
                // Give each picked value step-1 zeros behind it: [.., n, ..] -> [.., n, step, ..] -> [.., n*step, ..].
                let dims = spread.Dims
                let withUnit = reshape (Array.insertAt (axis + 1) 1 dims) spread
                let after = Array.zeroCreate (rank + 1)
                after.[axis + 1] <- step - 1
                let padded = pad (Array.zeroCreate (rank + 1)) after withUnit
                spread <- reshape (Array.updateAt axis (dims.[axis] * step) dims) padded
        let kept = Array.init rank (fun a -> min spread.Dims.[a] (inputDims.[a] - starts.[a]))
        let trimmed = slice (Array.zeroCreate rank) kept (Array.create rank 1) spread
        pad starts (Array.init rank (fun a -> inputDims.[a] - starts.[a] - kept.[a])) trimmed

    /// Joins tensors along an existing axis; all other dimensions must agree.
    let concat (axis: int) (parts: Expr seq) : Expr =
        let parts = Array.ofSeq parts
        if parts.Length = 0 then Shape.fail "Concat" "needs at least one tensor"
        let first = parts.[0]
        let a = Shape.normalizeAxis "Concat" first.Rank axis
        for p in parts do
            if p.Rank <> first.Rank
               || (p.Dims |> Array.mapi (fun i d -> i = a || d = first.Dims.[i]) |> Array.forall id |> not) then
                let all = parts |> Array.map dims |> String.concat ", "
                Shape.fail "Concat" (sprintf "shapes %s disagree off axis %d" all axis)
        let dtype = if parts |> Array.exists (fun p -> p.DType = DType.Float64) then DType.Float64 else DType.Float32
        let parts = parts |> Array.map (cast dtype)
        if parts.Length = 1 then parts.[0]
        else
            let shape = Array.copy first.Dims
            shape.[a] <- parts |> Array.fold (fun total p -> Shape.addDims "Concat" total p.Dims.[a]) 0
            Shape.checkSize "Concat" shape
            Ir.intern (Op.Concat a) parts shape dtype

    /// Stacks equal-shaped tensors along a new axis.
    let stack (axis: int) (parts: Expr seq) : Expr =
        let parts = Array.ofSeq parts
        if parts.Length = 0 then Shape.fail "Stack" "needs at least one tensor"
        let a = Shape.normalizeAxis "Stack" (parts.[0].Rank + 1) axis
        for p in parts do
            if not (Ir.sameDims p.Dims parts.[0].Dims) then
                Shape.fail "Stack" (sprintf "shapes %s differ" (parts |> Array.map dims |> String.concat ", "))
        parts
        |> Array.map (fun p -> reshape (Array.insertAt a 1 p.Dims) p)
        |> concat a

    /// Reverses the order along the axes.
    let flip (axes: int[]) (x: Expr) : Expr =
        let axes = Shape.normalizeAxes "Flip" x.Rank axes |> Array.filter (fun a -> x.Dims.[a] > 1)
        if axes.Length = 0 then x
        else
            match x with
            | Filled _ -> x
            | _ ->
                match x.Op with
                | Op.Flip inner when Ir.sameDims inner axes -> x.First
                | _ -> Ir.intern (Op.Flip axes) [| x |] x.Dims x.DType

    /// torch.gather: out[..i..] = source[..index[..i..]..] along the axis; the output has the
    /// index's shape, and index holds integers in a float dtype.
    /// As torch, a rank-0 index or source counts as rank 1 beside the other of rank 0 or 1 (torch
    /// compares their ranks with 0 taken as 1), and the output keeps the index's shape.
    let rec gather (axis: int) (index: Expr) (source: Expr) : Expr =
        if index.Rank <> source.Rank && index.Rank <= 1 && source.Rank <= 1 && (axis = 0 || axis = -1) then
            let lift (e: Expr) = reshape [| e.Numel |] e
            reshape index.Dims (gather 0 (lift index) (lift source))
        else
            let a = Shape.normalizeAxis "Gather" source.Rank axis
            if index.Rank <> source.Rank
               || (let mutable fits = true in (for i in 0 .. index.Rank - 1 do if i <> a && index.Dims.[i] > source.Dims.[i] then fits <- false); not fits) then
                Shape.fail "Gather" (sprintf "index %s does not fit source %s along axis %d" (dims index) (dims source) axis)
            Ir.intern (Op.Gather a) [| source; index |] index.Dims source.DType

    /// The adjoint of gather: zeros of `shape` with source[..i..] added at index[..i..] along the axis.
    let scatterAdd (axis: int) (index: Expr) (source: Expr) (shape: int[]) : Expr =
        Shape.validate "ScatterAdd" shape
        let a = Shape.normalizeAxis "ScatterAdd" shape.Length axis
        if not (Ir.sameDims index.Dims source.Dims) || index.Rank <> shape.Length
           || (let mutable fits = true in (for i in 0 .. index.Rank - 1 do if i <> a && index.Dims.[i] > shape.[i] then fits <- false); not fits) then
            Shape.fail "ScatterAdd" (sprintf "index %s and source %s do not fit %s along axis %d" (dims index) (dims source) (Shape.format shape) axis)
        if isZero source then zeros source.DType shape
        else Ir.intern (Op.ScatterAdd(a, Array.copy shape)) [| index; source |] (Array.copy shape) source.DType

    // ---- special functions and sorting ----

    /// ψ⁽ⁿ⁾(x), the n-th derivative of digamma (n = 0: digamma itself), elementwise, as torch.polygamma.
    let polygamma (n: int) (x: Expr) : Expr =
        if n < 0 then Shape.fail "Polygamma" (sprintf "order n must be >= 0, got %d (input %s)" n (dims x))
        Ir.intern (Op.Polygamma n) [| x |] x.Dims x.DType

    /// The indices that sort x along an axis (NaN last when ascending, equal values in their
    /// original order), as a float tensor of x's shape and dtype; it has no gradient.
    let argsort (axis: int) (descending: bool) (x: Expr) : Expr =
        if x.Rank = 0 then Shape.fail "Sort" (sprintf "input %s has no axis to sort along" (dims x))
        let a = Shape.normalizeAxis "Sort" x.Rank axis
        Ir.intern (Op.ArgSort(a, descending)) [| x |] (Array.copy x.Dims) x.DType

    // ---- normalisation along one axis ----

    /// The softmax primitive along one axis (Nn.softmax is the public form, with torch's edge cases).
    let softmax (axis: int) (x: Expr) : Expr =
        if x.Rank = 0 then Shape.fail "Softmax" (sprintf "input %s has no axis" (dims x))
        let a = Shape.normalizeAxis "Softmax" x.Rank axis
        Ir.intern (Op.Softmax a) [| x |] (Array.copy x.Dims) x.DType

    /// The log-softmax primitive along one axis (Nn.logSoftmax is the public form).
    let logSoftmax (axis: int) (x: Expr) : Expr =
        if x.Rank = 0 then Shape.fail "LogSoftmax" (sprintf "input %s has no axis" (dims x))
        let a = Shape.normalizeAxis "LogSoftmax" x.Rank axis
        Ir.intern (Op.LogSoftmax a) [| x |] (Array.copy x.Dims) x.DType

    /// Softmax's pullback y·(g − Σ g·y) along one axis, of a cotangent g and softmax's output y of
    /// one shape (the Softmax rule; torch's _softmax_backward_data). Its own rule is in Rules.fs.
    let softmaxBackward (axis: int) (g: Expr) (y: Expr) : Expr =
        if y.Rank = 0 then Shape.fail "SoftmaxBackward" (sprintf "output %s has no axis" (dims y))
        if g.Dims <> y.Dims then
            Shape.fail "SoftmaxBackward" (sprintf "cotangent %s does not match output %s" (dims g) (dims y))
        let a = Shape.normalizeAxis "SoftmaxBackward" y.Rank axis
        let g, y = promote g y
        if isZero g then zeros y.DType y.Dims
        else Ir.intern (Op.SoftmaxBackward a) [| g; y |] (Array.copy y.Dims) y.DType

    /// Log-softmax's pullback g − exp(y)·Σ g along one axis, of a cotangent g and log-softmax's
    /// output y of one shape (the LogSoftmax rule; torch's _log_softmax_backward_data). Its own rule is in Rules.fs.
    let logSoftmaxBackward (axis: int) (g: Expr) (y: Expr) : Expr =
        if y.Rank = 0 then Shape.fail "LogSoftmaxBackward" (sprintf "output %s has no axis" (dims y))
        if g.Dims <> y.Dims then
            Shape.fail "LogSoftmaxBackward" (sprintf "cotangent %s does not match output %s" (dims g) (dims y))
        let a = Shape.normalizeAxis "LogSoftmaxBackward" y.Rank axis
        let g, y = promote g y
        if isZero g then zeros y.DType y.Dims
        else Ir.intern (Op.LogSoftmaxBackward a) [| g; y |] (Array.copy y.Dims) y.DType

    /// w·a − v·Σ a·p along one axis, for a, p, w, v of one shape: a times diag(w) − v pᵀ along each
    /// run (the rules of softmaxBackward, logSoftmaxBackward and of itself; see Rules.fs).
    let diagonalMinusRankOne (axis: int) (a: Expr) (p: Expr) (w: Expr) (v: Expr) : Expr =
        let name = "DiagonalMinusRankOne"
        if a.Rank = 0 then Shape.fail name (sprintf "input %s has no axis" (dims a))
        for other, what in [ p, "p"; w, "w"; v, "v" ] do
            if other.Dims <> a.Dims then Shape.fail name (sprintf "%s %s does not match a %s" what (dims other) (dims a))
        let axis = Shape.normalizeAxis name a.Rank axis
        let dtype = [ p; w; v ] |> List.fold (fun (d: DType) (e: Expr) -> if e.DType = DType.Float64 then e.DType else d) a.DType
        if isZero a then zeros dtype a.Dims
        else
            let inputs = [| a; p; w; v |] |> Array.map (cast dtype)
            Ir.intern (Op.DiagonalMinusRankOne axis) inputs (Array.copy a.Dims) dtype

    /// The running-sum primitive along one axis, from the first entry or (`reverse`) from the last
    /// (Indexing.cumsum is the public form, with torch's rank-0 case). An axis of one entry is x.
    let cumsumAlong (axis: int) (reverse: bool) (x: Expr) : Expr =
        if x.Rank = 0 then Shape.fail "Cumsum" (sprintf "input %s has no axis" (dims x))
        let a = Shape.normalizeAxis "Cumsum" x.Rank axis
        Ir.intern (Op.CumSum(a, reverse)) [| x |] (Array.copy x.Dims) x.DType

    // ---- user-defined ops ----

    /// The node of a custom op: its value is `forward` (the user's forward graph built at x) and
    /// its cotangent comes from the rule. The node keeps the rule alive (see CustomRules).
    let internal custom (rule: CustomRule) (x: Expr) (forward: Expr) : Expr =
        let node = Ir.intern (Op.Custom(rule.Id, rule.Name)) [| x; forward |] forward.Dims forward.DType
        CustomRules.attach node rule
        node

    // ---- rebuilding ----

    /// Rebuilds a node of the given op over new inputs through the smart constructors, so a
    /// substitution re-canonicalises (e.g. x*1 collapses once x is known).
    // ---- patches (im2col) for convolution and pooling ----

    /// Checks a window geometry: four [height; width] pairs, kernel, stride and dilation >= 1, padding >= 0.
    let private checkWindows (op: string) (kernel: int[]) (stride: int[]) (padding: int[]) (dilation: int[]) =
        for (name, pair, least) in [ "kernelSize", kernel, 1; "stride", stride, 1; "padding", padding, 0; "dilation", dilation, 1 ] do
            if isNull pair || pair.Length <> 2 || pair.[0] < least || pair.[1] < least then
                Shape.fail op (sprintf "%s %s must be [height; width], each at least %d" name (if isNull pair then "null" else Shape.format pair) least)

    /// im2col: every sliding window of x [N, C, H, W] as a column of [N, C·kh·kw, Ho·Wo] (zero padding).
    let unfold (kernel: int[]) (stride: int[]) (padding: int[]) (dilation: int[]) (x: Expr) : Expr =
        checkWindows "Unfold" kernel stride padding dilation
        if x.Rank <> 4 then Shape.fail "Unfold" (sprintf "input %s must be [N, C, H, W]" (dims x))
        let ho, wo = Windows.output x.Dims.[2] x.Dims.[3] kernel stride padding dilation
        if ho < 1 || wo < 1 then
            Shape.fail "Unfold" (sprintf "input %s with kernelSize %s, stride %s, padding %s and dilation %s gives an empty output (%d, %d)"
                                   (dims x) (Shape.format kernel) (Shape.format stride) (Shape.format padding) (Shape.format dilation) ho wo)
        // checked as four factors, so C·kh·kw cannot overflow unnoticed
        Shape.checkSize "Unfold" [| x.Dims.[0]; x.Dims.[1]; kernel.[0] * kernel.[1]; ho * wo |]
        let shape = [| x.Dims.[0]; x.Dims.[1] * kernel.[0] * kernel.[1]; ho * wo |]
        Ir.intern (Op.Unfold(Array.copy kernel, Array.copy stride, Array.copy padding, Array.copy dilation)) [| x |] shape x.DType

    /// col2im, unfold's adjoint: columns [N, C·kh·kw, Ho·Wo] added into [N, C, H, W], outputSize = [H; W].
    let fold (outputSize: int[]) (kernel: int[]) (stride: int[]) (padding: int[]) (dilation: int[]) (columns: Expr) : Expr =
        checkWindows "Fold" kernel stride padding dilation
        if isNull outputSize || outputSize.Length <> 2 || outputSize.[0] < 1 || outputSize.[1] < 1 then
            Shape.fail "Fold" (sprintf "outputSize %s must be [height; width], each at least 1" (if isNull outputSize then "null" else Shape.format outputSize))
        let ho, wo = Windows.output outputSize.[0] outputSize.[1] kernel stride padding dilation
        let k = kernel.[0] * kernel.[1]
        if columns.Rank <> 3 || columns.Dims.[1] % k <> 0 || columns.Dims.[2] <> ho * wo || ho < 1 || wo < 1 then
            Shape.fail "Fold" (sprintf "input %s must be [N, C·%d, %d] for outputSize %s and kernelSize %s"
                                 (dims columns) k (ho * wo) (Shape.format outputSize) (Shape.format kernel))
        let shape = [| columns.Dims.[0]; columns.Dims.[1] / k; outputSize.[0]; outputSize.[1] |]
        Ir.intern (Op.Fold(Array.copy outputSize, Array.copy kernel, Array.copy stride, Array.copy padding, Array.copy dilation)) [| columns |] shape columns.DType

    let apply (op: Op) (inputs: Expr[]) : Expr =
        match op with
        | Op.Var _ | Op.Const _ -> invalidArg "op" "leaves have no inputs to rebuild"
        | Op.Unary u -> unary u inputs.[0]
        | Op.Binary b -> binary b inputs.[0] inputs.[1]
        | Op.Where -> where inputs.[0] inputs.[1] inputs.[2]
        | Op.Reduce(r, axes, keepDims) -> reduce r axes keepDims inputs.[0]
        | Op.ArgMax(axis, keepDims) -> argmax axis keepDims inputs.[0]
        | Op.MatMul -> matmul inputs.[0] inputs.[1]
        | Op.Permute p -> permute p inputs.[0]
        | Op.Reshape s -> reshape s inputs.[0]
        | Op.BroadcastTo s -> broadcastTo s inputs.[0]
        | Op.Slice(starts, stops, steps) -> slice starts stops steps inputs.[0]
        | Op.Pad(before, after) -> pad before after inputs.[0]
        | Op.Concat axis -> concat axis inputs
        | Op.Flip axes -> flip axes inputs.[0]
        | Op.Gather axis -> gather axis inputs.[1] inputs.[0]
        | Op.ScatterAdd(axis, shape) -> scatterAdd axis inputs.[0] inputs.[1] shape
        | Op.Cast dtype -> cast dtype inputs.[0]
        | Op.StopGradient -> stopGradient inputs.[0]
        | Op.Custom(id, _) -> custom (CustomRules.find id) inputs.[0] inputs.[1]
        | Op.Cholesky -> LinalgNodes.cholesky inputs.[0]
        | Op.TriangularSolve(upper, left, unit) -> LinalgNodes.triangularSolve upper left unit inputs.[0] inputs.[1]
        | Op.Solve -> LinalgNodes.solve inputs.[0] inputs.[1]
        | Op.SlogDet -> LinalgNodes.slogdet inputs.[0]
        | Op.Qr -> LinalgNodes.qr inputs.[0]
        | Op.Lu -> LinalgNodes.lu "LuFactor" inputs.[0]
        | Op.LuPermutation -> LinalgNodes.luPermutation "LuUnpack" inputs.[0]
        | Op.MatrixExp -> LinalgNodes.matrixExp inputs.[0]
        | Op.Eigh -> LinalgNodes.eigh inputs.[0]
        | Op.Svd -> LinalgNodes.svd inputs.[0]
        | Op.Polygamma n -> polygamma n inputs.[0]
        | Op.ArgSort(axis, descending) -> argsort axis descending inputs.[0]
        | Op.Unfold(k, s, p, d) -> unfold k s p d inputs.[0]
        | Op.Fold(size, k, s, p, d) -> fold size k s p d inputs.[0]
        | Op.Scan(body, length, reverse, remat) -> ScanNode.make "Scan" (ScanNode.bodyOf body) length reverse remat inputs
        | Op.Softmax axis -> softmax axis inputs.[0]
        | Op.LogSoftmax axis -> logSoftmax axis inputs.[0]
        | Op.SoftmaxBackward axis -> softmaxBackward axis inputs.[0] inputs.[1]
        | Op.LogSoftmaxBackward axis -> logSoftmaxBackward axis inputs.[0] inputs.[1]
        | Op.DiagonalMinusRankOne axis -> diagonalMinusRankOne axis inputs.[0] inputs.[1] inputs.[2] inputs.[3]
        | Op.CumSum(axis, reverse) -> cumsumAlong axis reverse inputs.[0]

    // ---- named forms, for readable user code and rules ----

    /// -x.
    let neg x = unary UnaryOp.Neg x
    /// e^x.
    let exp x = unary UnaryOp.Exp x
    /// Natural logarithm.
    let log x = unary UnaryOp.Log x
    /// log(1 + x), accurate near 0.
    let log1p x = unary UnaryOp.Log1p x
    /// e^x - 1, accurate near 0.
    let expm1 x = unary UnaryOp.Expm1 x
    /// Sine.
    let sin x = unary UnaryOp.Sin x
    /// Cosine.
    let cos x = unary UnaryOp.Cos x
    /// Tangent.
    let tan x = unary UnaryOp.Tan x
    /// Hyperbolic tangent.
    let tanh x = unary UnaryOp.Tanh x
    /// 1 / (1 + e^-x).
    let sigmoid x = unary UnaryOp.Sigmoid x
    /// max(x, 0); its derivative at 0 is 0 as in torch.
    let relu x = unary UnaryOp.Relu x
    /// |x|; its derivative at 0 is 0 as in torch.
    let abs x = unary UnaryOp.Abs x
    /// -1, 0 or 1.
    let sign x = unary UnaryOp.Sign x
    /// Square root.
    let sqrt x = unary UnaryOp.Sqrt x
    /// 1 / sqrt x.
    let rsqrt x = unary UnaryOp.Rsqrt x
    /// x * x.
    let square x = unary UnaryOp.Square x
    /// 1 / x.
    let reciprocal x = unary UnaryOp.Reciprocal x
    /// The error function.
    let erf x = unary UnaryOp.Erf x
    /// Rounds down.
    let floor x = unary UnaryOp.Floor x
    /// Rounds up.
    let ceil x = unary UnaryOp.Ceil x
    /// Rounds half to even.
    let round x = unary UnaryOp.Round x
    /// The complementary error function 1 - erf x, accurate in its tail.
    let erfc x = unary UnaryOp.Erfc x
    /// log|Γ(x)|, as torch.lgamma.
    let lgamma x = unary UnaryOp.Lgamma x
    /// log(1 + e^x), torch's softplus (beta 1): a primitive for its rule, g·σ(x) (Rules.fs).
    let softplus x = unary UnaryOp.Softplus x
    /// σ'(x) = σ(x)·σ(−x), sigmoid's slope: a primitive so that sigmoid's rule is one factor whose own
    /// derivative is one product (Rules.fs), accurate where σ(x)(1 − σ(x)) cancels.
    let sigmoidSlope x = unary UnaryOp.SigmoidSlope x
    /// The exact GELU as one op (see Activations.gelu).
    let internal geluOp x = unary UnaryOp.Gelu x
    /// GELU's slope Φ(x) + x·φ(x) as one op.
    let internal geluSlope x = unary UnaryOp.GeluSlope x
    /// tanh's slope 1 − tanh² x as one op, (1 − y)(1 + y) at the rounded y, exactly 0 where tanh saturates (Rules.fs).
    let internal tanhSlope x = unary UnaryOp.TanhSlope x
    /// ψ(x) = d/dx log Γ(x), as torch.digamma.
    let digamma x = polygamma 0 x
    /// I₀(x), the modified Bessel function of the first kind of order 0 (torch.i0, torch.special.i0).
    let i0 x = unary UnaryOp.I0 x
    /// e^−|x| I₀(x) (torch.special.i0e), which never overflows.
    let i0e x = unary UnaryOp.I0e x
    /// I₁(x), the modified Bessel function of the first kind of order 1 (torch.special.i1).
    let i1 x = unary UnaryOp.I1 x
    /// e^−|x| I₁(x) (torch.special.i1e), which never overflows.
    let i1e x = unary UnaryOp.I1e x
    /// e^{x²} erfc(x) (torch.special.erfcx), accurate where erfc underflows.
    let erfcx x = unary UnaryOp.Erfcx x
    /// Φ(x), the standard normal CDF (torch.special.ndtr).
    let ndtr x = unary UnaryOp.Ndtr x
    /// log Φ(x) (torch.special.log_ndtr), accurate far in the left tail.
    let logNdtr x = unary UnaryOp.LogNdtr x
    /// Φ⁻¹(p), the standard normal quantile (torch.special.ndtri).
    let ndtri x = unary UnaryOp.Ndtri x
    /// J₀(x), the Bessel function of the first kind of order 0 (torch.special.bessel_j0).
    let besselJ0 x = unary UnaryOp.BesselJ0 x
    /// J₁(x), the Bessel function of the first kind of order 1 (torch.special.bessel_j1).
    let besselJ1 x = unary UnaryOp.BesselJ1 x
    /// Y₀(x), the Bessel function of the second kind of order 0 (torch.special.bessel_y0): x > 0, −∞ at 0, NaN below.
    let besselY0 x = unary UnaryOp.BesselY0 x
    /// Y₁(x), the Bessel function of the second kind of order 1 (torch.special.bessel_y1): x > 0, −∞ at 0, NaN below.
    let besselY1 x = unary UnaryOp.BesselY1 x
    /// K₀(x), the modified Bessel function of the second kind of order 0 (torch.special.modified_bessel_k0): x > 0,
    /// +∞ at 0, NaN below.
    let modifiedBesselK0 x = unary UnaryOp.ModifiedBesselK0 x
    /// K₁(x), the modified Bessel function of the second kind of order 1 (torch.special.modified_bessel_k1).
    let modifiedBesselK1 x = unary UnaryOp.ModifiedBesselK1 x
    /// eˣ·K₀(x) (torch.special.scaled_modified_bessel_k0), which never underflows.
    let scaledModifiedBesselK0 x = unary UnaryOp.ScaledModifiedBesselK0 x
    /// eˣ·K₁(x) (torch.special.scaled_modified_bessel_k1).
    let scaledModifiedBesselK1 x = unary UnaryOp.ScaledModifiedBesselK1 x
    /// a + b.
    let add a b = binary BinaryOp.Add a b
    /// a - b.
    let sub a b = binary BinaryOp.Sub a b
    /// a * b.
    let mul a b = binary BinaryOp.Mul a b
    /// a / b.
    let div a b = binary BinaryOp.Div a b
    /// a ** b.
    let pow a b = binary BinaryOp.Pow a b
    /// The larger of a and b; ties share the cotangent evenly.
    let maximum a b = binary BinaryOp.Maximum a b
    /// The smaller of a and b; ties share the cotangent evenly.
    let minimum a b = binary BinaryOp.Minimum a b
    /// The angle of the point (b, a): atan2(a, b).
    let atan2 a b = binary BinaryOp.Atan2 a b
    /// C's fmod (torch.fmod): a - trunc(a/b)·b, exact, with a's sign; NaN for b = 0 or infinite a.
    let fmod a b = binary BinaryOp.Fmod a b
    /// The regularized lower incomplete gamma function P(a, x) = γ(a, x)/Γ(a) (torch.special.gammainc), broadcast;
    /// differentiable in x only, as torch's (see Rules).
    let gammainc a x = binary BinaryOp.Gammainc a x
    /// The regularized upper incomplete gamma function Q(a, x) = 1 − P(a, x) (torch.special.gammaincc), broadcast;
    /// differentiable in x only.
    let gammaincc a x = binary BinaryOp.Gammaincc a x
    /// The Hurwitz zeta function ζ(s, q) = Σₖ (q + k)^−s (torch.special.zeta), broadcast; differentiable in q only, as
    /// torch's (see Rules).
    let zeta s q = binary BinaryOp.Zeta s q
    /// 1 where a < b, else 0.
    let lt a b = binary BinaryOp.Less a b
    /// 1 where a <= b, else 0.
    let le a b = binary BinaryOp.LessEqual a b
    /// 1 where a > b, else 0.
    let gt a b = binary BinaryOp.Greater a b
    /// 1 where a >= b, else 0.
    let ge a b = binary BinaryOp.GreaterEqual a b
    /// 1 where a = b, else 0.
    let eq a b = binary BinaryOp.Equal a b
    /// 1 where a <> b, else 0.
    let ne a b = binary BinaryOp.NotEqual a b
    /// The sum of all elements, rank 0.
    let sum (x: Expr) = reduce ReduceOp.Sum (Shape.allAxes x.Rank) false x
    /// The sum over axes.
    let sumAxes axes keepDims x = reduce ReduceOp.Sum axes keepDims x
    /// The mean over axes: one primitive (one kernel pass, one rule), not a sum and a division.
    let meanAxes (axes: int[]) keepDims (x: Expr) = reduce ReduceOp.Mean axes keepDims x
    /// The mean of all elements, rank 0.
    let mean (x: Expr) = meanAxes (Shape.allAxes x.Rank) false x
    /// The largest element, rank 0; ties share the cotangent evenly.
    let max (x: Expr) = reduce ReduceOp.Max (Shape.allAxes x.Rank) false x
    /// The largest elements over axes.
    let maxAxes axes keepDims x = reduce ReduceOp.Max axes keepDims x
    /// The smallest element, rank 0.
    let min (x: Expr) = reduce ReduceOp.Min (Shape.allAxes x.Rank) false x
    /// The smallest elements over axes.
    let minAxes axes keepDims x = reduce ReduceOp.Min axes keepDims x
    /// The product over axes.
    let prodAxes axes keepDims x = reduce ReduceOp.Prod axes keepDims x

    // ---- leaves ----

    /// A constant node wrapping a tensor (one node per tensor object; a rank-0 tensor gives the
    /// scalar constant of its value, which holds a copy).
    let constant (value: Tensor) : Expr =
        if isNull (box value) then nullArg "value"
        // A rank-0 constant is one node per value and dtype, shared by every graph in the process
        // (the rules' 2 and 0.5 among them), so it holds a tensor of its own, never the caller's,
        // which the caller may later write into (as an output of InvokeInto).
        if value.Rank = 0 then ExprCore.scalar value.DType (value.ToScalar())
        else ExprCore.constant value

    /// A rank-0 constant; equal values of one dtype are one node.
    let scalar (dtype: DType) (value: float) : Expr = ExprCore.scalar dtype value

    /// A free variable of the given shape and dtype, distinct from every other node.
    let variable (name: string) (shape: int[]) (dtype: DType) : Expr =
        Shape.validate "Variable" shape
        Ir.freshVar name shape dtype
