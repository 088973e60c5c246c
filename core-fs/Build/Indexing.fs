/// Indexing and structure built from primitives: index selection and embedding lookup, cumulative
/// sums and products, sorting, one-hot codes, triangles and diagonals. Each is a composite of
/// gather, slices, pads, products and masks, so its derivatives of every order follow from theirs.
namespace FunctionalDiff.Core

open System

/// Indexing and structural composites over Expr, with torch's conventions.
[<RequireQualifiedAccess>]
module Indexing =

    let private dims (e: Expr) = Shape.format e.Dims

    /// A constant of x's dtype holding `values` in `shape`.
    let private constantLike (x: Expr) (shape: int[]) (values: float[]) =
        match x.DType with
        | DType.Float64 -> Expr.constant (Tensor.FromArray(values, shape))
        | DType.Float32 -> Expr.constant (Tensor.FromArray(Array.map float32 values, shape))

    /// Fails with the public op's name when a constant index holds a value that is not a position
    /// of an axis of `length` entries. A constant index (a Tensor of ids, the usual case) is checked
    /// here, when the graph is built, because gather's kernel, which checks every index when it
    /// runs, knows only its own name; an index computed in the graph is left to that kernel.
    let internal checkConstantIndex (name: string) (describe: float -> int -> string) (length: int) (index: Expr) =
        match index.Op with
        | Op.Const t ->
            t.ToDoubleArray() |> Array.iteri (fun position v ->
                if v <> Math.Floor v || v < 0.0 || v >= float length then Shape.fail name (describe v position))
        | _ -> ()

    /// torch.index_select: the entries of x at `index` (a rank-1 tensor of integer values) along
    /// the axis. The output is x's shape with that axis as long as the index. A rank-0 index is one
    /// position, as torch takes it (the axis keeps length 1).
    let indexSelect (axis: int) (index: Expr) (x: Expr) =
        let index = if index.Rank = 0 then Expr.reshape [| 1 |] index else index
        if index.Rank <> 1 then
            Shape.fail "IndexSelect" (sprintf "index %s must have rank 1 (input %s)" (dims index) (dims x))
        let a = Shape.normalizeAxis "IndexSelect" x.Rank axis
        let length = x.Dims.[a]
        index |> checkConstantIndex "IndexSelect" (fun v position ->
            sprintf "index %g (entry %d of the index) is not a position along axis %d of input %s, which has %d entries"
                v position axis (dims x) length) length
        let outShape = Array.updateAt a index.Dims.[0] x.Dims
        let alongAxis = Array.init x.Rank (fun i -> if i = a then index.Dims.[0] else 1)
        Expr.gather a (Expr.broadcastTo outShape (Expr.reshape alongAxis (Expr.cast x.DType index))) x

    /// The slices of `source` along the axis and the rank-1 index naming where each goes, as index_add and index_copy
    /// take them, checked under the public op's name: a rank-0 index is one position (and a rank-0 source beside a
    /// vector one slice); source has x's shape with the axis as long as the index. The result is the axis and the
    /// index spread across source's other axes, in `dtype`, the form a scatter along the axis takes.
    let private sliceIndex (name: string) (axis: int) (index: Expr) (source: Expr) (x: Expr) =
        let index = if index.Rank = 0 then Expr.reshape [| 1 |] index else index
        let source = if source.Rank = 0 && x.Rank = 1 then Expr.reshape [| 1 |] source else source
        let a = Shape.normalizeAxis name x.Rank axis
        if index.Rank <> 1 || source.Rank <> x.Rank
           || Array.exists id (Array.init x.Rank (fun i -> source.Dims.[i] <> (if i = a then index.Dims.[0] else x.Dims.[i]))) then
            Shape.fail name
                (sprintf "source %s must be input %s with axis %d as long as the rank-1 index %s" (dims source) (dims x) axis (dims index))
        let length = x.Dims.[a]
        index |> checkConstantIndex name (fun v position ->
            sprintf "index %g (entry %d of the index) is not a position along axis %d of input %s, which has %d entries"
                v position axis (dims x) length) length
        let alongAxis = Array.init x.Rank (fun i -> if i = a then index.Dims.[0] else 1)
        a, Expr.broadcastTo source.Dims (Expr.reshape alongAxis (Expr.cast source.DType index)), source

    /// torch.index_add (out-of-place): x with source's slices added at `index` along the axis,
    /// repeated positions accumulating, as a GNN sums messages into their destination nodes. The
    /// index is rank 1 (rank 0: one position) with one entry per slice of source along the axis;
    /// source has x's shape with that axis as long as the index. It is a scatter-add of source into
    /// x's shape with the index broadcast across the other axes, so source's cotangent is the gather
    /// (index_select) of x's, and the index has none.
    let indexAdd (axis: int) (index: Expr) (source: Expr) (x: Expr) =
        let a, spread, source = sliceIndex "IndexAdd" axis index source x
        x + Expr.scatterAdd a spread source x.Dims

    /// torch.bincount(input, weights, minlength) with its length fixed when the graph is built: entry v of the result
    /// sums the weights (or counts the entries) of input equal to v, for v below `length`. torch's length is
    /// max(max(input) + 1, minlength), known only from the values; a graph's shapes are static, so here it is `length`
    /// and a larger entry is an error. A GCN's degrees are `bincount length None dst`. The derivative reaches the
    /// weights (a gather of the cotangent); the input, whole numbers, has none.
    let bincount (length: int) (weights: Expr option) (input: Expr) =
        if input.Rank <> 1 then Shape.fail "Bincount" (sprintf "input %s must be rank 1, as torch's" (dims input))
        if length < 0 then Shape.fail "Bincount" (sprintf "minlength %d must be ≥ 0" length)
        let weights = defaultArg weights (Expr.onesLike input)
        if not (Ir.sameDims weights.Dims input.Dims) then
            Shape.fail "Bincount" (sprintf "weights %s must have the shape of input %s" (dims weights) (dims input))
        input |> checkConstantIndex "Bincount" (fun v position ->
            sprintf "entry %d of input %s is %g, not a whole number below minlength %d (the result's length is fixed when the graph is built)"
                position (dims input) v length) length
        Expr.scatterAdd 0 (Expr.cast weights.DType input) weights [| length |]

    /// What every scatter of `source` into x along an axis shares, checked under the public op's name:
    /// the axis, the index in x's dtype (it has no derivative), source cut to the index's shape (torch
    /// reads source only where the index has entries), and how many entries land on each position of x,
    /// a scatter-add of ones that depends on the index alone.
    let private scatterParts (name: string) (axis: int) (index: Expr) (source: Expr) (x: Expr) =
        if index.Rank <> x.Rank || source.Rank <> x.Rank || x.Rank = 0 then
            Shape.fail name (sprintf "index %s and source %s must have the rank of input %s (at least 1)" (dims index) (dims source) (dims x))
        let a = Shape.normalizeAxis name x.Rank axis
        let fits = Array.init x.Rank (fun i -> index.Dims.[i] <= source.Dims.[i] && (i = a || index.Dims.[i] <= x.Dims.[i]))
        if Array.contains false fits then
            Shape.fail name
                (sprintf "index %s must fit inside source %s, and inside input %s along every axis but %d" (dims index) (dims source) (dims x) axis)
        if source.DType <> x.DType then
            Shape.fail name (sprintf "source is %A and input %A; torch refuses mixed dtypes too (cast one)" source.DType x.DType)
        let length = x.Dims.[a]
        index |> checkConstantIndex name (fun v position ->
            sprintf "index %g (entry %d of index %s) is not a position along axis %d of input %s, which has %d entries"
                v position (dims index) axis (dims x) length) length
        let source =
            if Ir.sameDims source.Dims index.Dims then source
            else Expr.slice (Array.zeroCreate x.Rank) index.Dims (Array.create x.Rank 1) source
        let index = Expr.stopGradient (Expr.cast x.DType index)
        let count = Expr.scatterAdd a index (Expr.ones x.DType index.Dims) x.Dims
        a, index, source, count

    /// torch's out-of-place `x.scatter(dim, index, src)`: x with source[..i..] written at index[..i..]
    /// along the axis. torch leaves the result undefined where several entries land on one position; here
    /// that position takes their mean, a rule that depends on no order. Positions no entry lands on keep
    /// x. Built as where(count > 0, scatterAdd(source) / count, x), so every derivative is the true one of
    /// that definition: x's cotangent where nothing lands, and each source entry's share of its position's
    /// (torch passes the whole of it to every duplicate, as if each had been the one written).
    let scatter (axis: int) (index: Expr) (source: Expr) (x: Expr) =
        let a, index, source, count = scatterParts "Scatter" axis index source x
        if index.Numel = 0 then x
        else
            let one = Expr.scalar x.DType 1.0
            let landed = Expr.gt count (Expr.scalar x.DType 0.0)
            Expr.where landed (Expr.scatterAdd a index source x.Dims / Expr.maximum count one) x

    /// torch's out-of-place `x.index_copy(dim, index, source)`: x with source's slices written at the positions the
    /// rank-1 index names along the axis, as a static KV cache writes a new token's keys at its position in a compiled
    /// decoding step (`cache.index_copy(2, cache_position, k)`). index and source are index_add's. It is a scatter of
    /// source with the index spread across the other axes, so a repeated position takes the mean of the slices written
    /// to it (torch leaves it undefined) and the derivatives are scatter's: x's cotangent where nothing is written,
    /// each slice its share of its position's.
    let indexCopy (axis: int) (index: Expr) (source: Expr) (x: Expr) =
        let a, spread, source = sliceIndex "IndexCopy" axis index source x
        scatter a spread source x

    /// torch's out-of-place `x.scatter_reduce(dim, index, src, reduce, include_self)` with torch's reduce
    /// names: each position of x that entries of source land on becomes the reduction ("sum", "prod",
    /// "mean", "amax" or "amin") of those entries, and of x's own value when `includeSelf`; a position no
    /// entry lands on keeps x. Sum and mean are scatter-adds (mean divides by the entries counted,
    /// x's among them when included). Prod, amax and amin compare each position of the axis with every
    /// entry of the index along it, a tensor of input-length × index-length entries per slice, and reduce
    /// it with the Prod, Max and Min primitives, so their derivatives are those reductions': the product
    /// of the others, and for amax and amin the cotangent shared evenly among every entry equal to the
    /// result (x's included), as torch's scatter_reduce backward does.
    let scatterReduce (axis: int) (index: Expr) (source: Expr) (reduce: string) (includeSelf: bool) (x: Expr) =
        if isNull reduce then nullArg "reduce"
        let known = [ "sum"; "prod"; "mean"; "amax"; "amin" ]
        if not (List.contains reduce known) then
            invalidArg "reduce" (sprintf "ScatterReduce: reduce '%s' is not one of torch's 'sum', 'prod', 'mean', 'amax', 'amin'" reduce)
        let a, index, source, count = scatterParts "ScatterReduce" axis index source x
        let scalar v = Expr.scalar x.DType v
        let landed = Expr.gt count (scalar 0.0)
        let added () = Expr.scatterAdd a index source x.Dims
        if index.Numel = 0 then x
        else
            match reduce with
            | "sum" -> if includeSelf then x + added () else Expr.where landed (added ()) x
            | "mean" ->
                let total, counted = if includeSelf then x + added (), count + scalar 1.0 else added (), Expr.maximum count (scalar 1.0)
                Expr.where landed (total / counted) x
            | _ ->
                // candidates [.., input position p, index entry k, ..]: source's entry k where index[k] = p, else the
                // reduction's identity; x's own value joins as one more entry when included
                let r = x.Rank
                let region = Array.init r (fun i -> if i = a then x.Dims.[a] else index.Dims.[i])
                let dense = Array.insertAt (a + 1) index.Dims.[a] region
                let spread (e: Expr) = Expr.broadcastTo dense (Expr.reshape (Array.insertAt a 1 e.Dims) e)
                let along = Array.init (r + 1) (fun i -> if i = a then x.Dims.[a] else 1)
                let positions = Expr.cast x.DType (Expr.constant (Tensor.FromArray(Array.init x.Dims.[a] float, along)))
                let identity = match reduce with | "prod" -> 1.0 | "amax" -> Double.NegativeInfinity | _ -> Double.PositiveInfinity
                let candidates = Expr.where (Expr.eq (spread index) positions) (spread source) (scalar identity)
                let candidates =
                    if includeSelf then
                        let own = Expr.slice (Array.zeroCreate r) region (Array.create r 1) x
                        Expr.concat (a + 1) [ Expr.reshape (Array.insertAt (a + 1) 1 region) own; candidates ]
                    else candidates
                let reduced =
                    match reduce with
                    | "prod" -> Expr.prodAxes [| a + 1 |] false candidates
                    | "amax" -> Expr.maxAxes [| a + 1 |] false candidates
                    | _ -> Expr.minAxes [| a + 1 |] false candidates
                let whole = Expr.pad (Array.zeroCreate r) (Array.map2 (-) x.Dims region) reduced
                Expr.where landed whole x

    /// torch.nn.functional.embedding: row indices[..] of weight [rows, features], giving
    /// indices' shape followed by features.
    let embedding (indices: Expr) (weight: Expr) =
        if weight.Rank <> 2 then
            Shape.fail "Embedding" (sprintf "weight %s must be [rows, features] (indices %s)" (dims weight) (dims indices))
        let rows = weight.Dims.[0]
        indices |> checkConstantIndex "Embedding" (fun v position ->
            sprintf "index %g (entry %d of indices %s) is not a row of weight %s, which has %d rows"
                v position (dims indices) (dims weight) rows) rows
        let picked = indexSelect 0 (Expr.reshape [| indices.Numel |] indices) weight
        Expr.reshape (Array.append indices.Dims [| weight.Dims.[1] |]) picked

    /// torch.nn.functional.embedding with padding_idx: the lookup of `embedding`, whose row `paddingIdx`
    /// (negative counts from the end, as torch's) passes no gradient, so the padding token's vector stays
    /// where it is while the other rows train. The row still reads its value.
    let embeddingWithPadding (paddingIdx: int) (indices: Expr) (weight: Expr) =
        if weight.Rank <> 2 then
            Shape.fail "Embedding" (sprintf "weight %s must be [rows, features] (indices %s)" (dims weight) (dims indices))
        let rows = weight.Dims.[0]
        if paddingIdx < -rows || paddingIdx >= rows then
            invalidArg "paddingIdx" (sprintf "Embedding: paddingIdx %d is not a row of weight %s, which has %d rows" paddingIdx (dims weight) rows)
        let row = if paddingIdx < 0 then rows + paddingIdx else paddingIdx
        let isPadding = Expr.constant (Tensor.ofArray64 [| rows; 1 |] (Array.init rows (fun i -> if i = row then 1.0 else 0.0)))
        embedding indices (Expr.where isPadding (Expr.stopGradient weight) weight)

    /// torch.nn.functional.embedding_bag (nn.EmbeddingBag): the rows of weight [rows, features] named by the ids of input,
    /// reduced per bag by `mode` ("sum", "mean" or "max"), giving [bags, features]. A 1-D input holds the bags one after
    /// another, bag b starting at offsets[b] (offsets [bags], offsets[0] = 0; with `includeLastOffset` one more entry, the
    /// end, as torch's); a 2-D input [bags, length] is one bag per row, without offsets. perSampleWeights (input's shape,
    /// "sum" only, as torch) scale each row before the sum. Ids equal to paddingIdx (negative counts from the end) are left
    /// out of their bag, so a mean counts only the others. An empty bag gives zeros, as torch's. Each entry's bag is
    /// worked out in the graph (the number of offsets at or before it, less one), so offsets may be data of a compiled
    /// step; entries left out go to one extra bag that is cut off. Sum and mean are index_adds, so a row's gradient is
    /// the sum over its occurrences (divided by its bag's count for the mean); max is scatter_reduce's amax, whose
    /// gradient is shared evenly among tied entries (torch gives it all to one of them), and which compares every bag with
    /// every entry, memory of bags × entries × features.
    let embeddingBag (mode: string) (offsets: Expr option) (includeLastOffset: bool) (perSampleWeights: Expr option)
                     (paddingIdx: int option) (input: Expr) (weight: Expr) =
        if isNull mode then nullArg "mode"
        if mode <> "sum" && mode <> "mean" && mode <> "max" then
            invalidArg "mode" (sprintf "EmbeddingBag: mode '%s' is not one of torch's 'sum', 'mean' and 'max'" mode)
        if weight.Rank <> 2 then
            Shape.fail "EmbeddingBag" (sprintf "weight %s must be [rows, features] (input %s)" (dims weight) (dims input))
        let rows, features, n = weight.Dims.[0], weight.Dims.[1], input.Numel
        let dtype = weight.DType
        let scalar v = Expr.scalar dtype v
        let bags, bagOf =
            match input.Rank, offsets with
            | 2, None ->
                let length = input.Dims.[1]
                input.Dims.[0], Expr.cast dtype (Expr.constant (Tensor.ofArray64 [| n |] (Array.init n (fun k -> float (k / length)))))
            | 2, Some o ->
                Shape.fail "EmbeddingBag" (sprintf "input %s is 2-D, one bag per row, so offsets %s must be null, as torch's" (dims input) (dims o))
            | 1, None ->
                Shape.fail "EmbeddingBag" (sprintf "input %s is 1-D, so offsets (where each bag starts in it) must be given, as torch's" (dims input))
            | 1, Some o ->
                let least = if includeLastOffset then 2 else 1
                if o.Rank <> 1 || o.Dims.[0] < least then
                    Shape.fail "EmbeddingBag"
                        (sprintf "offsets %s must be rank 1 with at least %d entr%s (input %s, includeLastOffset %b)"
                             (dims o) least (if least = 1 then "y" else "ies") (dims input) includeLastOffset)
                match o.Op with
                | Op.Const t ->
                    let v = t.ToDoubleArray()
                    if v.[0] <> 0.0 then
                        Shape.fail "EmbeddingBag" (sprintf "offsets[0] is %g; the first bag must start at 0, as torch requires (input %s)" v.[0] (dims input))
                    v |> Array.iteri (fun i x ->
                        if x <> Math.Floor x || x > float n || (i > 0 && x < v.[i - 1]) then
                            Shape.fail "EmbeddingBag"
                                (sprintf "offsets[%d] is %g; offsets must be whole, non-decreasing and at most input's length %d (input %s)" i x n (dims input)))
                | _ -> ()
                let starts = if includeLastOffset then Expr.sliceAxis 0 0 (o.Dims.[0] - 1) o else o
                let b = starts.Dims.[0]
                let positions = Expr.cast dtype (Expr.constant (Tensor.ofArray64 [| n; 1 |] (Array.init n float)))
                let begun = Expr.le (Expr.reshape [| 1; b |] (Expr.cast dtype starts)) positions
                b, Expr.sumAxes [| 1 |] false begun - scalar 1.0
            | _ ->
                Shape.fail "EmbeddingBag" (sprintf "input %s must be 1-D with offsets or 2-D [bags, length] (weight %s)" (dims input) (dims weight))
        input |> checkConstantIndex "EmbeddingBag" (fun v position ->
            sprintf "id %g (entry %d of input %s) is not a row of weight %s, which has %d rows" v position (dims input) (dims weight) rows) rows
        let ids = Expr.reshape [| n |] input
        let bagOf =
            match paddingIdx with
            | None -> bagOf
            | Some p ->
                if p < -rows || p >= rows then
                    invalidArg "paddingIdx" (sprintf "EmbeddingBag: paddingIdx %d is not a row of weight %s, which has %d rows" p (dims weight) rows)
                let row = if p < 0 then rows + p else p
                Expr.where (Expr.eq (Expr.cast dtype ids) (scalar (float row))) (scalar (float bags)) bagOf
        let bagOf = Expr.stopGradient bagOf
        let picked = embedding ids weight
        let picked =
            match perSampleWeights with
            | None -> picked
            | Some w ->
                if mode <> "sum" then
                    invalidArg "perSampleWeights" (sprintf "EmbeddingBag: perSampleWeights %s need mode 'sum', as torch's (mode '%s')" (dims w) mode)
                if not (Ir.sameDims w.Dims input.Dims) then
                    Shape.fail "EmbeddingBag" (sprintf "perSampleWeights %s must have input's shape %s" (dims w) (dims input))
                picked * Expr.reshape [| n; 1 |] (Expr.cast dtype w)
        let slots = bags + 1
        let empty = Expr.zeros dtype [| slots; features |]
        let reduced =
            match mode with
            | "sum" -> indexAdd 0 bagOf picked empty
            | "mean" ->
                let counts = indexAdd 0 bagOf (Expr.ones dtype [| n |]) (Expr.zeros dtype [| slots |])
                indexAdd 0 bagOf picked empty / Expr.reshape [| slots; 1 |] (Expr.maximum counts (scalar 1.0))
            | _ -> scatterReduce 0 (Expr.broadcastTo [| n; features |] (Expr.reshape [| n; 1 |] bagOf)) picked "amax" false empty
        Expr.sliceAxis 0 0 bags reduced

    /// An inclusive scan along the axis by Hillis-Steele doubling: combine each entry with the one
    /// `window` places before it, doubling the window, so the graph grows with log2 n. For products:
    /// products of entries only, never division, so a cumulative product is right with zeros at
    /// every order. The first `window` entries have no partner and are kept as they are: multiplied
    /// by a constant 1, a partial product met the 1's tangent, a materialised 0, as ∞·0 = NaN in
    /// forward mode where it had overflowed (`fuzz adversarial 5/115`: the JVP of cumprod [a, a, 0]
    /// at a = −1.4e160 was NaN where it is t₀a + at₁).
    let private scanWith (name: string) (combine: Expr -> Expr -> Expr) (axis: int) (x: Expr) =
        if x.Rank = 0 then
            // torch takes 0 and -1 for the one position of a rank-0 tensor
            if axis <> 0 && axis <> -1 then Shape.fail name (sprintf "axis %d is out of range for input %s (rank 0 takes 0 or -1)" axis (dims x))
            x
        else
            let a = Shape.normalizeAxis name x.Rank axis
            let n = x.Dims.[a]
            let mutable result = x
            let mutable window = 1
            while window < n do
                let partnered = combine (Expr.sliceAxis a window n result) (Expr.sliceAxis a 0 (n - window) result)
                result <- Expr.concat a [ Expr.sliceAxis a 0 window result; partnered ]
                window <- 2 * window
            result

    /// torch.cumsum along the axis: the CumSum primitive (one pass each way), x itself for a
    /// rank-0 x as torch gives it.
    let cumsum (axis: int) (x: Expr) =
        if x.Rank = 0 then
            if axis <> 0 && axis <> -1 then Shape.fail "Cumsum" (sprintf "axis %d is out of range for input %s (rank 0 takes 0 or -1)" axis (dims x))
            x
        else Expr.cumsumAlong axis false x

    /// torch.cumprod along the axis; its derivatives are right where entries are 0.
    let cumprod (axis: int) (x: Expr) = scanWith "Cumprod" Expr.mul axis x

    /// torch.logcumsumexp along the axis: log Σ_{j ≤ i} e^(x_j), as the same doubling scan with
    /// logaddexp (Elementary.logAddExp) as its step, so nothing overflows or underflows where the
    /// result is finite (a form with one shift by the row's maximum gives −∞ for entries far below
    /// it), and every derivative is that of the smooth steps.
    let logcumsumexp (axis: int) (x: Expr) = scanWith "LogCumSumExp" Elementary.logAddExp axis x

    /// The running extreme along the axis with the position it came from, torch's cummax/cummin: the
    /// same doubling scan over (value, position) pairs, where `laterWins earlier later` says when the
    /// later entry takes over. Values are a gather of x at the positions, so the derivative goes to the
    /// entry picked, as torch's scatter of the cotangent; the positions (in x's dtype) have none.
    let private runningExtreme (name: string) (laterWins: Expr -> Expr -> Expr) (axis: int) (x: Expr) =
        if x.Rank = 0 then
            if axis <> 0 && axis <> -1 then Shape.fail name (sprintf "axis %d is out of range for input %s (rank 0 takes 0 or -1)" axis (dims x))
            x, Expr.scalar x.DType 0.0
        else
            let a = Shape.normalizeAxis name x.Rank axis
            let n = x.Dims.[a]
            let along = Array.init x.Rank (fun i -> if i = a then n else 1)
            let positions = Expr.broadcastTo x.Dims (Expr.cast x.DType (Expr.constant (Tensor.FromArray(Array.init n float, along))))
            let mutable values = Expr.stopGradient x
            let mutable index = positions
            let mutable window = 1
            while window < n do
                let later (e: Expr) = Expr.sliceAxis a window n e
                let earlier (e: Expr) = Expr.sliceAxis a 0 (n - window) e
                let takeLater = laterWins (earlier values) (later values)
                let kept (e: Expr) = Expr.concat a [ Expr.sliceAxis a 0 window e; Expr.where takeLater (later e) (earlier e) ]
                values <- kept values
                index <- kept index
                window <- 2 * window
            let index = Expr.stopGradient index
            Expr.gather a index x, index

    /// torch.cummax along the axis: (values, indices), the largest entry so far; a NaN takes over and
    /// holds, and among equal entries the later one is picked, as torch's kernel.
    let cummax (axis: int) (x: Expr) =
        runningExtreme "Cummax" (fun e l -> Expr.ne l l + Expr.eq e e * Expr.ge l e) axis x

    /// torch.cummin along the axis: (values, indices), the smallest entry so far, with cummax's rules
    /// for NaN and ties.
    let cummin (axis: int) (x: Expr) =
        runningExtreme "Cummin" (fun e l -> Expr.ne l l + Expr.eq e e * Expr.le l e) axis x

    /// torch.sort along the axis: (values, indices). The values are a gather of x, so they carry
    /// the gradient; the indices (integers in x's dtype) have none. NaN sorts last when
    /// ascending; equal values keep their order.
    let sort (axis: int) (descending: bool) (x: Expr) =
        let indices = Expr.argsort axis descending x
        Expr.gather axis indices x, indices

    /// torch.topk: the k largest (or smallest) entries along the axis, sorted, and their indices.
    let topk (k: int) (axis: int) (largest: bool) (x: Expr) =
        if x.Rank = 0 then Shape.fail "TopK" (sprintf "input %s has no axis" (dims x))
        let a = Shape.normalizeAxis "TopK" x.Rank axis
        if k < 0 || k > x.Dims.[a] then
            Shape.fail "TopK" (sprintf "k = %d is outside [0, %d], the length of axis %d of %s" k x.Dims.[a] axis (dims x))
        let indices = Expr.sliceAxis a 0 k (Expr.argsort a largest x)
        Expr.gather a indices x, indices

    /// torch.take: x read as one flat vector (row-major) at the positions index holds; the result has the index's
    /// shape. It is how torch code reads a matrix at pairs of indices, `transitions[prev, next]`, as
    /// `transitions.take(prev * K + next)` (a CRF's score of a tag path). A gather of the flattened x, so the gradient
    /// scatters back into x and the index has none.
    let take (index: Expr) (x: Expr) =
        index |> checkConstantIndex "Take" (fun v position ->
            sprintf "index %g (entry %d of index %s) is not a position in input %s, which has %d entries"
                v position (dims index) (dims x) x.Numel) x.Numel
        let flat = Expr.reshape [| x.Numel |] x
        Expr.reshape index.Dims (Expr.gather 0 (Expr.reshape [| index.Numel |] (Expr.cast x.DType index)) flat)

    /// torch.searchsorted(sorted_sequence, values, right): for each value, the position in its sorted row where it would
    /// be inserted to keep the row sorted: the count of the row's entries below it (`right`: at or below it). A vector
    /// sequence serves values of any shape; a sequence [..., M] serves values [..., K] with the same leading axes, row by
    /// row (NeRF's inverse-transform sampling of a CDF per ray). The positions are whole numbers in the values' dtype, and
    /// pass no derivative. A NaN value counts no entry below it, and a NaN entry is below no value.
    /// Two ways to count, chosen by the shapes (the same counts): every value compared with every entry of its row
    /// (M·K comparisons and memory per row, one vectorised pass, the quicker for short rows or few values), or,
    /// where that product is large, each row's entries and values sorted together (a stable sort, in float64 so
    /// positions stay exact past 2^24): the entries sorted before a value are the ones below it, (M + K)·log(M + K)
    /// work and M + K memory per row. Ties follow from the order of the two parts before the sort: the values first,
    /// so an equal entry sorts after them and is not counted, or (`right`) the entries first, so it is. Neither
    /// needs a sorted sequence for the count to be defined.
    let searchsorted (right: bool) (sortedSequence: Expr) (values: Expr) =
        let fail detail =
            Shape.fail "Searchsorted" (sprintf "%s (sortedSequence %s, values %s)" detail (dims sortedSequence) (dims values))
        if sortedSequence.Rank = 0 then fail "the sorted sequence needs at least one axis"
        if sortedSequence.Rank > 1
           && (values.Rank <> sortedSequence.Rank || values.Dims.[.. values.Rank - 2] <> sortedSequence.Dims.[.. sortedSequence.Rank - 2]) then
            fail "the leading axes of the sequence and the values must agree (torch's boundaries [..., M] and input [..., K])"
        // rows of entries [..., M] and of values [..., K]; a vector sequence serves all the values as one row
        let entries, queries =
            if sortedSequence.Rank = 1 then
                Expr.reshape [| 1; sortedSequence.Numel |] sortedSequence, Expr.reshape [| 1; values.Numel |] values
            else sortedSequence, values
        let axis = entries.Rank - 1
        let m, k = entries.Dims.[axis], queries.Dims.[axis]
        let rowCount = int64 queries.Numel / int64 (max k 1)
        let pairs = int64 m * int64 k
        if m = 0 || k = 0 then Expr.zeros values.DType values.Dims
        // comparisons while their count stays within a small multiple of the sort's and their whole tensor small
        elif pairs <= 16L * int64 (m + k) * int64 (Math.Log2(float (m + k)) + 1.0) && rowCount * pairs <= (1L <<< 24) then
            let rows = Expr.reshape (Array.insertAt (entries.Rank - 1) 1 entries.Dims) entries
            let column = Expr.reshape (Array.append queries.Dims [| 1 |]) queries
            let below = if right then Expr.le rows column else Expr.lt rows column
            Expr.cast values.DType (Expr.reshape values.Dims (Expr.sumAxes [| queries.Rank |] false below))
        else
            let wide (e: Expr) = Expr.cast DType.Float64 (Expr.stopGradient e)
            let entries, queries = wide entries, wide queries
            let merged = if right then Expr.concat axis [ entries; queries ] else Expr.concat axis [ queries; entries ]
            let order = Expr.argsort axis false merged
            // 1 where the sorted position holds an entry (indices below m when the entries come first, from k otherwise)
            let isEntry = if right then Expr.lt order (Expr.scalar DType.Float64 (float m)) else Expr.ge order (Expr.scalar DType.Float64 (float k))
            let entriesBefore = Expr.cumsumAlong axis false isEntry - isEntry
            // each sorted position's count put back at its original place, then the values' part of the row
            let counts = Expr.scatterAdd axis order entriesBefore merged.Dims
            let counts = if right then Expr.sliceAxis axis m (m + k) counts else Expr.sliceAxis axis 0 k counts
            let counts = Expr.where (Expr.ne queries queries) (Expr.scalar DType.Float64 0.0) counts
            Expr.cast values.DType (Expr.reshape values.Dims counts)

    /// torch.nn.functional.one_hot: a trailing axis of `classes` entries, 1 at the class each
    /// integer of `indices` names and 0 elsewhere, in indices' dtype (no gradient). Indices
    /// outside [0, classes) raise, as torch's do: constant ones when the graph is built, computed
    /// ones when it runs, by the index_select kernel they pass through (the classes picked at
    /// themselves), so eager, compiled and vmapped evaluations agree.
    let oneHot (classes: int) (indices: Expr) =
        if classes <= 0 then Shape.fail "OneHot" (sprintf "classes must be positive, got %d (indices %s)" classes (dims indices))
        indices |> checkConstantIndex "OneHot" (fun v position ->
            sprintf "index %g (entry %d of indices %s) is not one of the %d classes 0 to %d" v position (dims indices) classes (classes - 1)) classes
        let classIds = constantLike indices [| classes |] (Array.init classes float)
        // a constant index was checked above, and its selection folds when the graph is planned
        let checkedIndices = Expr.reshape indices.Dims (indexSelect 0 (Expr.reshape [| indices.Numel |] indices) classIds)
        let column = Expr.reshape (Array.append indices.Dims [| 1 |]) checkedIndices
        Expr.eq column classIds

    /// Keeps the entries of the last two axes where `keep row column` holds, zeros elsewhere
    /// (a where, not a product, so an infinite entry outside leaves no NaN).
    let private triangle (name: string) (keep: int -> int -> bool) (x: Expr) =
        if x.Rank < 2 then Shape.fail name (sprintf "input %s needs rank >= 2" (dims x))
        let rows, columns = x.Dims.[x.Rank - 2], x.Dims.[x.Rank - 1]
        let mask = constantLike x [| rows; columns |] (Array.init (rows * columns) (fun k -> if keep (k / columns) (k % columns) then 1.0 else 0.0))
        Expr.where mask x (Expr.scalar x.DType 0.0)

    /// torch.tril: the entries on and below diagonal `offset` of the last two axes (j - i ≤ offset).
    let tril (offset: int) (x: Expr) = triangle "Tril" (fun i j -> j - i <= offset) x

    /// torch.triu: the entries on and above diagonal `offset` of the last two axes (j - i ≥ offset).
    let triu (offset: int) (x: Expr) = triangle "Triu" (fun i j -> j - i >= offset) x

    /// torch.diagonal: entries (i, i + offset) of axes (axis1, axis2), which are removed, as a new
    /// last axis. A strided slice of the flattened pair, so its cotangent is a pad.
    let diagonal (offset: int) (axis1: int) (axis2: int) (x: Expr) =
        if x.Rank < 2 then Shape.fail "Diagonal" (sprintf "input %s needs rank >= 2" (dims x))
        let a1 = Shape.normalizeAxis "Diagonal" x.Rank axis1
        let a2 = Shape.normalizeAxis "Diagonal" x.Rank axis2
        if a1 = a2 then Shape.fail "Diagonal" (sprintf "axis1 and axis2 are both axis %d of %s" a1 (dims x))
        let others = [| 0 .. x.Rank - 1 |] |> Array.filter (fun a -> a <> a1 && a <> a2)
        let moved = Expr.permute (Array.append others [| a1; a2 |]) x
        let rows, columns = x.Dims.[a1], x.Dims.[a2]
        let lead = others |> Array.map (fun a -> x.Dims.[a])
        let length, start =
            if offset >= 0 then max 0 (min rows (columns - offset)), offset
            else max 0 (min (rows + offset) columns), -offset * columns
        let flat = Expr.reshape (Array.append lead [| rows * columns |]) moved
        let picked =
            if length = 0 then Expr.sliceAxis -1 0 0 flat
            else
                let r = lead.Length
                let starts = Array.init (r + 1) (fun i -> if i = r then start else 0)
                let stops = Array.init (r + 1) (fun i -> if i = r then start + (length - 1) * (columns + 1) + 1 else lead.[i])
                let steps = Array.init (r + 1) (fun i -> if i = r then columns + 1 else 1)
                Expr.slice starts stops steps flat
        picked

    /// torch.diag_embed: the last axis of x placed on diagonal `offset` of two new last axes
    /// (n entries give (n + |offset|)² matrices), zeros elsewhere.
    let diagEmbed (offset: int) (x: Expr) =
        if x.Rank < 1 then Shape.fail "DiagEmbed" (sprintf "input %s needs rank >= 1" (dims x))
        let lead = x.Dims.[.. x.Rank - 2]
        let n = x.Dims.[x.Rank - 1]
        let r = lead.Length
        // each entry followed by n zeros, then cut into rows of n: entry i lands at (i, i)
        let column = Expr.reshape (Array.append lead [| n; 1 |]) x
        let padded = Expr.pad (Array.zeroCreate (r + 2)) (Array.init (r + 2) (fun i -> if i = r + 1 then n else 0)) column
        let flat = Expr.reshape (Array.append lead [| n * (n + 1) |]) padded
        let square = Expr.reshape (Array.append lead [| n; n |]) (Expr.sliceAxis -1 0 (n * n) flat)
        let k = abs offset
        if k = 0 then square
        else
            let at (row: int) (col: int) = Array.init (r + 2) (fun i -> if i = r then row elif i = r + 1 then col else 0)
            if offset > 0 then Expr.pad (at 0 k) (at k 0) square else Expr.pad (at k 0) (at 0 k) square
