/// torch's structural conveniences built from views, slices and products: squeeze and unsqueeze,
/// flatten, split and chunk, roll, trace, outer and cross products, and the median. Each is a
/// composite, so its derivatives of every order follow from the primitives. Errors name the torch
/// function, the axis and the shape.
namespace FunctionalDiff.Core

/// Structural composites over Expr, with torch's conventions.
[<RequireQualifiedAccess>]
module Structure =

    let private dims (e: Expr) = Shape.format e.Dims

    /// The axis made non-negative, or an error naming the op, the axis and the input's shape.
    let private axisOf (op: string) (x: Expr) (axis: int) =
        let a = if axis < 0 then axis + x.Rank else axis
        if a < 0 || a >= x.Rank then
            Shape.fail op (sprintf "axis %d is out of range for input %s (allowed: %d to %d)" axis (dims x) (-x.Rank) (x.Rank - 1))
        a

    /// The axes of length 1 removed (torch.squeeze without a dim); a scalar stays a scalar.
    let squeezeAll (x: Expr) = Expr.reshape (x.Dims |> Array.filter (fun d -> d <> 1)) x

    /// The axis removed when its length is 1; an axis of another length is left as it is, as
    /// torch.squeeze(x, dim) does (it raises only for an axis out of range). A scalar accepts
    /// axis 0 and -1 and stays a scalar, as in torch.
    let squeeze (axis: int) (x: Expr) =
        if x.Rank = 0 then
            if axis = 0 || axis = -1 then x
            else Shape.fail "Squeeze" (sprintf "axis %d is out of range for the scalar input %s (allowed: 0 or -1)" axis (dims x))
        else
            let a = axisOf "Squeeze" x axis
            if x.Dims.[a] <> 1 then x else Expr.reshape (Array.removeAt a x.Dims) x

    /// Each listed axis removed when its length is 1, others left as they are (torch.squeeze with a
    /// tuple of dims); axes count in x, and a repeated axis counts once.
    let squeezeAxes (axes: int[]) (x: Expr) =
        if isNull axes then nullArg "axes"
        if x.Rank = 0 then
            for axis in axes do squeeze axis x |> ignore
            x
        else
            let remove = axes |> Array.map (axisOf "Squeeze" x) |> Array.filter (fun a -> x.Dims.[a] = 1) |> Set.ofArray
            Expr.reshape (x.Dims |> Array.indexed |> Array.filter (fun (i, _) -> not (remove.Contains i)) |> Array.map snd) x

    /// A new axis of length 1 at `axis`, which counts positions in the result: -1 appends, as
    /// torch.unsqueeze (axis in [-(rank + 1), rank]).
    let unsqueeze (axis: int) (x: Expr) =
        let a = if axis < 0 then axis + x.Rank + 1 else axis
        if a < 0 || a > x.Rank then
            Shape.fail "Unsqueeze" (sprintf "axis %d is out of range for input %s (allowed: %d to %d)" axis (dims x) (-(x.Rank + 1)) x.Rank)
        Expr.reshape (Array.insertAt a 1 x.Dims) x

    /// Axes startAxis..endAxis (inclusive, negative counting from the end) merged into one, as
    /// torch.flatten; a scalar becomes [1].
    let flatten (startAxis: int) (endAxis: int) (x: Expr) =
        if x.Rank = 0 then
            if (startAxis = 0 || startAxis = -1) && (endAxis = 0 || endAxis = -1) then Expr.reshape [| 1 |] x
            else Shape.fail "Flatten" (sprintf "axes %d..%d are out of range for the scalar input %s" startAxis endAxis (dims x))
        else
            let s = axisOf "Flatten" x startAxis
            let e = axisOf "Flatten" x endAxis
            if s > e then
                Shape.fail "Flatten" (sprintf "startAxis %d comes after endAxis %d for input %s" startAxis endAxis (dims x))
            let merged = x.Dims.[s..e] |> Array.fold (*) 1
            Expr.reshape (Array.concat [ x.Dims.[.. s - 1]; [| merged |]; x.Dims.[e + 1 ..] ]) x

    /// Consecutive pieces of the given lengths along the axis, which must add up to its length, as
    /// torch.split with a list of sizes.
    let splitSizes (sizes: int[]) (axis: int) (x: Expr) =
        if isNull sizes then nullArg "sizes"
        if x.Rank = 0 then Shape.fail "Split" (sprintf "the scalar input %s has no axis to split" (dims x))
        let a = axisOf "Split" x axis
        if sizes |> Array.exists (fun s -> s < 0) || Array.sum sizes <> x.Dims.[a] then
            Shape.fail "Split" (sprintf "sizes %s must be non-negative and add up to %d, the length of axis %d of %s"
                                   (Shape.format sizes) x.Dims.[a] axis (dims x))
        let starts = Array.scan (+) 0 sizes
        Array.init sizes.Length (fun i -> Expr.sliceAxis a starts.[i] starts.[i + 1] x)

    /// Pieces of `size` along the axis, the last one shorter when the length is not a multiple of
    /// it, as torch.split with one size (an empty axis gives one empty piece).
    let split (size: int) (axis: int) (x: Expr) =
        if x.Rank = 0 then Shape.fail "Split" (sprintf "the scalar input %s has no axis to split" (dims x))
        let a = axisOf "Split" x axis
        let length = x.Dims.[a]
        if size < 1 && not (size = 0 && length = 0) then
            Shape.fail "Split" (sprintf "size %d must be positive (axis %d of %s)" size axis (dims x))
        if length = 0 then [| x |]
        else splitSizes (Array.init ((length + size - 1) / size) (fun i -> min size (length - i * size))) a x

    /// At most `chunks` pieces along the axis, each ceil(length / chunks) long but the last, as
    /// torch.chunk (so fewer pieces may come back: 5 by 4 gives 2, 2, 1); an empty axis gives
    /// `chunks` empty pieces, as torch.
    let chunk (chunks: int) (axis: int) (x: Expr) =
        if chunks < 1 then Shape.fail "Chunk" (sprintf "chunks = %d must be positive (input %s)" chunks (dims x))
        if x.Rank = 0 then Shape.fail "Chunk" (sprintf "the scalar input %s has no axis to split" (dims x))
        let a = axisOf "Chunk" x axis
        let length = x.Dims.[a]
        if length = 0 then Array.create chunks x
        else split ((length + chunks - 1) / chunks) a x

    /// Entries shifted `shift` places along the axis, those pushed off the end coming back at the
    /// front (negative shifts go the other way), as torch.roll.
    let roll (shift: int) (axis: int) (x: Expr) =
        if x.Rank = 0 then Shape.fail "Roll" (sprintf "the scalar input %s has no axis to roll" (dims x))
        let a = axisOf "Roll" x axis
        let n = x.Dims.[a]
        let s = if n = 0 then 0 else ((shift % n) + n) % n
        if s = 0 then x
        else Expr.concat a [ Expr.sliceAxis a (n - s) n x; Expr.sliceAxis a 0 (n - s) x ]

    /// torch.roll over several axes, one shift per axis.
    let rollAxes (shifts: int[]) (axes: int[]) (x: Expr) =
        if isNull shifts || isNull axes then nullArg "shifts/axes"
        if shifts.Length <> axes.Length then
            Shape.fail "Roll" (sprintf "%d shifts for %d axes (input %s)" shifts.Length axes.Length (dims x))
        Array.fold2 (fun acc s a -> roll s a acc) x shifts axes

    /// The sum of the main diagonal of a matrix (torch.trace: rank 2 only, rectangular allowed).
    let trace (x: Expr) =
        if x.Rank <> 2 then Shape.fail "Trace" (sprintf "input %s must be a matrix (rank 2)" (dims x))
        Expr.sum (Indexing.diagonal 0 0 1 x)

    /// a bᵀ of two vectors, [n] and [m] giving [n, m] (torch.outer).
    let outer (a: Expr) (b: Expr) =
        if a.Rank <> 1 || b.Rank <> 1 then
            Shape.fail "Outer" (sprintf "inputs %s and %s must be vectors (rank 1)" (dims a) (dims b))
        Expr.reshape [| a.Dims.[0]; 1 |] a * Expr.reshape [| 1; b.Dims.[0] |] b

    /// torch.dot: the inner product of two vectors of one length, a scalar; no broadcasting, as torch.
    /// matmul of two vectors, so it has matmul's rule.
    let dot (a: Expr) (b: Expr) =
        if a.Rank <> 1 || b.Rank <> 1 || a.Dims.[0] <> b.Dims.[0] then
            Shape.fail "Dot" (sprintf "inputs %s and %s must be vectors (rank 1) of one length" (dims a) (dims b))
        Expr.matmul a b

    /// The cross product along an axis of length 3 (torch.linalg.cross): equal ranks, the other
    /// axes broadcast.
    let cross (axis: int) (a: Expr) (b: Expr) =
        if a.Rank <> b.Rank || a.Rank = 0 then
            Shape.fail "Cross" (sprintf "inputs %s and %s must have the same rank, at least 1" (dims a) (dims b))
        let k = axisOf "Cross" a axis
        if a.Dims.[k] <> 3 || b.Dims.[k] <> 3 then
            Shape.fail "Cross" (sprintf "axis %d of inputs %s and %s must have length 3" axis (dims a) (dims b))
        let other = fun (x: Expr) -> Array.updateAt k 1 x.Dims
        Shape.broadcast "Cross" (other a) (other b) |> ignore
        let part (x: Expr) i = Expr.sliceAxis k i (i + 1) x
        let a0, a1, a2 = part a 0, part a 1, part a 2
        let b0, b1, b2 = part b 0, part b 1, part b 2
        Expr.concat k [ a1 * b2 - a2 * b1; a2 * b0 - a0 * b2; a0 * b1 - a1 * b0 ]

    /// The lower median along an axis (entry (n - 1)/2 of the sorted axis, as torch.median) and its
    /// index in x, as a float tensor. A row holding NaN has the median NaN and the index of its first
    /// NaN, as torch. The value is x gathered at the index, so its cotangent goes to the entry picked;
    /// among equal values that is the one a stable sort puts in the middle (torch leaves it unspecified).
    let median (axis: int) (keepDims: bool) (x: Expr) =
        if x.Rank = 0 then Shape.fail "Median" (sprintf "the scalar input %s has no axis" (dims x))
        let a = axisOf "Median" x axis
        let n = x.Dims.[a]
        if n = 0 then Shape.fail "Median" (sprintf "axis %d of %s is empty" axis (dims x))
        let middle = (n - 1) / 2
        let sorted = Expr.sliceAxis a middle (middle + 1) (Expr.argsort a false x)
        // NaN sorts last, so the middle entry may be a number while the row holds NaN
        let isNaN = Expr.ne x x
        let index = Expr.where (Expr.maxAxes [| a |] true isNaN) (Expr.argmax a true isNaN) sorted
        let shape = Shape.reduced x.Dims [| a |] keepDims
        Expr.reshape shape (Expr.gather a index x), Expr.reshape shape index

    /// The k-th smallest entry along an axis (k from 1) and its index in x, as a float tensor: torch.kthvalue. NaN counts
    /// as larger than every number (it sorts last), so a row's k-th entry is NaN only when fewer than k are numbers.
    /// The value is x gathered at the index, so its cotangent goes to that one entry, as torch's; among equal values the
    /// entry picked is the one a stable sort puts k-th (torch leaves it unspecified). A scalar is one entry (k = 1).
    let kthValue (k: int) (axis: int) (keepDims: bool) (x: Expr) =
        let x1 = if x.Rank = 0 then Expr.reshape [| 1 |] x else x
        if x.Rank = 0 && not (Shape.isScalarAxes 0 [| axis |]) then
            Shape.fail "KthValue" (sprintf "the scalar input %s has axis 0 (or −1) only, not %d" (dims x) axis)
        let a = if x.Rank = 0 then 0 else axisOf "KthValue" x axis
        let n = x1.Dims.[a]
        if k < 1 || k > n then
            Shape.fail "KthValue" (sprintf "k = %d must be from 1 to the %d entries of axis %d of %s" k n axis (dims x))
        let index = Expr.sliceAxis a (k - 1) k (Expr.argsort a false x1)
        let shape = if x.Rank = 0 then [||] else Shape.reduced x.Dims [| a |] keepDims
        Expr.reshape shape (Expr.gather a index x1), Expr.reshape shape index

    /// The entries argmax picks along an axis (of x, or of -x for the smallest) and their indices.
    let rec private pickedWithIndices (name: string) (ofNegated: bool) (axis: int) (keepDims: bool) (x: Expr) =
        if Shape.isScalarAxes x.Rank [| axis |] then pickedWithIndices name ofNegated 0 false (Expr.reshape [| 1 |] x) else
        if x.Rank = 0 then Shape.fail name (sprintf "the scalar input %s has axis 0 (or −1) only, not %d" (dims x) axis)
        let a = axisOf name x axis
        if x.Dims.[a] = 0 then Shape.fail name (sprintf "axis %d of %s is empty" axis (dims x))
        // argmax of -x: the same ties and NaN rule for the smallest as for the largest
        let index = Expr.argmax a true (if ofNegated then Expr.neg x else x)
        let shape = Shape.reduced x.Dims [| a |] keepDims
        Expr.reshape shape (Expr.gather a index x), Expr.reshape shape index

    /// The largest entries along an axis and their indices, torch.max(x, dim): the index is argmax's
    /// (the first among ties, a NaN before any number), and the value is x gathered there, so its
    /// cotangent goes to that one entry, as torch's (amax, `Expr.maxAxes`, shares it among ties).
    /// The indices are a float tensor in x's dtype with no derivative.
    let maxWithIndices (axis: int) (keepDims: bool) (x: Expr) = pickedWithIndices "MaxWithIndices" false axis keepDims x

    /// The smallest entries along an axis and their indices, torch.min(x, dim); see maxWithIndices.
    let minWithIndices (axis: int) (keepDims: bool) (x: Expr) = pickedWithIndices "MinWithIndices" true axis keepDims x

    /// torch.median()'s rule over a flat vector: the cotangent shared evenly among the entries equal to the median (among
    /// the NaN entries where it is NaN), zero elsewhere, as torch's evenly_distribute_backward; its forward mode, the rule
    /// transposed, is the mean of the tangent over those entries (torch's evenly_read_jvp). Gathering at one index, as
    /// the median along an axis does, gave a tie's whole cotangent to one entry (`fuzz all adversarial 114/32`: the median
    /// of [0, 0, 0], gradient [0, g, 0] where torch's is g/3 in each), and the others' zero cotangent met an infinite slope
    /// before them as 0·∞ = NaN (x^[−710, ∞, ∞] at x = 681472: the median ∞ is tied, torch's gradient +∞). The mask and the
    /// count are piecewise constant, so the rule is linear in g with no derivative of its own in x. Registered once; the
    /// module keeps it alive, and it reads the vector's length from the node.
    let private medianAllRule =
        CustomRules.register "median" (fun x g ->
            let m = fst (median 0 true x)
            let isNaN (e: Expr) = Expr.ne e e
            let tied = Expr.maximum (Expr.eq x m) (Expr.minimum (isNaN x) (isNaN m))
            let share = Expr.broadcastTo x.Dims (Expr.reshape [| 1 |] g / Expr.sum tied)
            Expr.where tied share (Expr.zerosLike x))

    /// The lower median of all entries, rank 0 (torch.median without a dim); its cotangent is shared evenly among the
    /// entries equal to it (see medianAllRule), where the median along an axis gives it to the entry its index names.
    let medianAll (x: Expr) =
        if x.Numel = 0 then Shape.fail "Median" (sprintf "input %s is empty" (dims x))
        let flat = Expr.reshape [| x.Numel |] x
        Expr.custom medianAllRule flat (fst (median 0 false flat))

    /// The index of the smallest entry along an axis (first on ties, a NaN before any number, as
    /// torch.argmin), as a float tensor in x's dtype: the argmax of −x, since negation keeps ties
    /// and NaN, which argmax already counts as largest.
    let argmin (axis: int) (keepDims: bool) (x: Expr) =
        if Shape.isScalarAxes x.Rank [| axis |] then Expr.argmax axis keepDims (Expr.neg x) else
        let a = axisOf "ArgMin" x axis
        if x.Dims.[a] = 0 then Shape.fail "ArgMin" (sprintf "axis %d of %s is empty" axis (dims x))
        Expr.argmax a keepDims (Expr.neg x)

    /// The row-major flat index of the largest entry, rank 0 (torch's argmax without a dim): the
    /// argmax of the flattened input, so ties and NaN follow argmax's rule.
    let argmaxAll (x: Expr) =
        if x.Numel = 0 then Shape.fail "ArgMax" (sprintf "input %s is empty" (dims x))
        Expr.argmax 0 false (Expr.reshape [| x.Numel |] x)

    /// The row-major flat index of the smallest entry, rank 0 (torch's argmin without a dim).
    let argminAll (x: Expr) =
        if x.Numel = 0 then Shape.fail "ArgMin" (sprintf "input %s is empty" (dims x))
        argmin 0 false (Expr.reshape [| x.Numel |] x)

    /// Row i along axis 0 with that axis dropped, torch's x[i] (negative i counts from the end): a
    /// slice and a reshape, so its derivative puts the cotangent back in that row. Tensor.Row's twin.
    let row (i: int) (x: Expr) =
        if x.Rank = 0 then Shape.fail "Row" "a rank-0 expression has no rows"
        let n = x.Dims.[0]
        let k = if i < 0 then i + n else i
        if k < 0 || k >= n then Shape.fail "Row" (sprintf "row %d is out of range for shape %s" i (dims x))
        Expr.reshape x.Dims.[1..] (Expr.sliceAxis 0 k (k + 1) x)


    /// x broadcast to `sizes`, where −1 keeps x's length on that axis, as torch's x.expand(*sizes):
    /// new axes go in front (and cannot be −1), and only axes of length 1 grow.
    let expand (sizes: int[]) (x: Expr) =
        if isNull sizes then nullArg "sizes"
        if sizes.Length < x.Rank then
            Shape.fail "Expand" (sprintf "sizes %s have fewer axes than the input %s" (Shape.format sizes) (dims x))
        let lead = sizes.Length - x.Rank
        let target =
            sizes |> Array.mapi (fun i s ->
                if s = -1 then
                    if i < lead then Shape.fail "Expand" (sprintf "size -1 at axis %d of %s is a new axis, whose length must be given (input %s)" i (Shape.format sizes) (dims x))
                    x.Dims.[i - lead]
                else s)
        for i in 0 .. x.Rank - 1 do
            let d = x.Dims.[i]
            if d <> 1 && d <> target.[lead + i] then
                Shape.fail "Expand" (sprintf "axis %d of the input %s has length %d, so it cannot become %d (only axes of length 1 expand; sizes %s)"
                                       i (dims x) d target.[lead + i] (Shape.format sizes))
        Expr.broadcastTo target x

    /// x tiled `repeats.[i]` times along each axis, as torch's x.repeat(*repeats): repeats may be
    /// longer than x's rank (x then gains leading axes of length 1). Each axis of length d becomes a
    /// pair (r, d) of a broadcast, merged by one reshape, so the derivative sums over the copies.
    let repeat (repeats: int[]) (x: Expr) =
        if isNull repeats then nullArg "repeats"
        if repeats.Length < x.Rank then
            Shape.fail "Repeat" (sprintf "repeats %s have fewer axes than the input %s (torch requires at least as many)" (Shape.format repeats) (dims x))
        if repeats |> Array.exists (fun r -> r < 0) then
            Shape.fail "Repeat" (sprintf "repeats %s must not be negative (input %s)" (Shape.format repeats) (dims x))
        let padded = Array.append (Array.create (repeats.Length - x.Rank) 1) x.Dims
        let pairs = Array.concat [ for i in 0 .. padded.Length - 1 -> [| 1; padded.[i] |] ]
        let tiled = Array.concat [ for i in 0 .. padded.Length - 1 -> [| repeats.[i]; padded.[i] |] ]
        Expr.reshape (Array.map2 (*) repeats padded) (Expr.broadcastTo tiled (Expr.reshape pairs x))

    /// `value` where the mask is nonzero and x elsewhere, as torch's x.masked_fill(mask, value): the
    /// mask (0/1, as comparisons give) broadcasts to x's shape, which the result keeps.
    let maskedFill (mask: Expr) (value: float) (x: Expr) =
        let shape = Shape.broadcastMany "MaskedFill" [ mask.Dims; x.Dims ]
        if not (Ir.sameDims shape x.Dims) then
            Shape.fail "MaskedFill" (sprintf "the mask %s does not broadcast to the input %s" (dims mask) (dims x))
        Expr.where mask (Expr.scalar x.DType value) x

    /// `value` on the main diagonal and x elsewhere, torch's x.fill_diagonal_(value) (wrap=False) without the mutation:
    /// the entries (i, i) of a matrix for i below min(rows, columns), or (i, ..., i) above rank 2, where torch needs every
    /// axis of one length. A contrastive loss writes sim.fill_diagonal_(-inf) to leave each sample out of its own
    /// softmax. The filled entries pass no derivative to x.
    let fillDiagonal (value: float) (x: Expr) =
        if x.Rank < 2 || (x.Rank > 2 && x.Dims |> Array.exists (fun d -> d <> x.Dims.[0])) then
            Shape.fail "FillDiagonal" (sprintf "needs a matrix, or above rank 2 every axis of one length, as torch's fill_diagonal_; the input is %s" (dims x))
        let total = Array.fold (*) 1 x.Dims
        // (i, ..., i) sits at i times the sum of the row-major strides
        let mutable stride, strideSum = 1, 0
        for a in x.Rank - 1 .. -1 .. 0 do
            strideSum <- strideSum + stride
            stride <- stride * x.Dims.[a]
        let mask: float[] = Array.zeroCreate total
        for i in 0 .. Array.min x.Dims - 1 do
            mask.[i * strideSum] <- 1.0
        maskedFill (Expr.cast x.DType (Expr.constant (Tensor.FromArray(mask, x.Dims)))) value x

    /// The axes in reverse order, torch's x.T and NumPy's .T (for a matrix, its transpose).
    let reverseAxes (x: Expr) = Expr.permute (Array.init x.Rank (fun i -> x.Rank - 1 - i)) x

    /// `length` entries of the axis from `start` (negative counts from the end), torch's
    /// x.narrow(dim, start, length): a slice, so the derivative pads the cotangent with zeros.
    let narrow (axis: int) (start: int) (length: int) (x: Expr) =
        let a = axisOf "Narrow" x axis
        let n = x.Dims.[a]
        let s = if start < 0 then start + n else start
        if s < 0 || s > n || length < 0 || s + length > n then
            Shape.fail "Narrow" (sprintf "start %d and length %d do not fit axis %d of length %d (input %s)" start length axis n (dims x))
        Expr.sliceAxis a s (s + length) x

    /// Entry `index` of the axis with that axis dropped (negative counts from the end), torch's x.select(dim, index),
    /// the x[:, i] of a PINN's gradient columns: a slice and a reshape, so the derivative puts the cotangent back at that
    /// index. `row` along any axis.
    let select (axis: int) (index: int) (x: Expr) =
        let a = axisOf "Select" x axis
        let n = x.Dims.[a]
        let k = if index < 0 then index + n else index
        if k < 0 || k >= n then
            Shape.fail "Select" (sprintf "index %d is out of range for axis %d of length %d (input %s)" index axis n (dims x))
        Expr.reshape (Array.removeAt a x.Dims) (Expr.sliceAxis a k (k + 1) x)

    /// torch.meshgrid(*tensors, indexing): input i (a vector, or a scalar as one entry) broadcast along output axis i of
    /// the grid whose axes have the inputs' lengths; "xy" swaps the first two axes (and so the roles of the first two
    /// inputs), NumPy's and torch's Cartesian indexing. Each output is a reshape and a broadcast of its input, so its
    /// cotangent sums back over the other axes. Inputs of both dtypes give float64 grids.
    let meshgrid (indexing: string) (xs: Expr[]) =
        if isNull xs then nullArg "tensors"
        if xs.Length = 0 then Shape.fail "Meshgrid" "needs at least one tensor"
        xs |> Array.iteri (fun i x ->
            if isNull (box x) then nullArg "tensors"
            if x.Rank > 1 then Shape.fail "Meshgrid" (sprintf "tensor %d has shape %s; each must be a vector or a scalar" i (dims x)))
        let swapped =
            match indexing with
            | "ij" -> false
            | "xy" -> xs.Length >= 2
            | other -> invalidArg "indexing" (sprintf "Meshgrid: indexing \"%s\" must be \"ij\" or \"xy\"" other)
        let axisOfInput i = if swapped && i < 2 then 1 - i else i
        let grid = Array.zeroCreate<int> xs.Length
        xs |> Array.iteri (fun i x -> grid.[axisOfInput i] <- x.Numel)
        let dtype = if xs |> Array.exists (fun x -> x.DType = DType.Float64) then DType.Float64 else DType.Float32
        xs |> Array.mapi (fun i x ->
            let shape = Array.init xs.Length (fun a -> if a = axisOfInput i then x.Numel else 1)
            Expr.broadcastTo grid (Expr.reshape shape (Expr.cast dtype x)))

    /// The axis `source` moved to position `destination`, the others keeping their order, as
    /// torch.movedim: a permutation.
    let movedim (source: int) (destination: int) (x: Expr) =
        let s = axisOf "Movedim" x source
        let d = axisOf "Movedim" x destination
        let others = [| 0 .. x.Rank - 1 |] |> Array.filter (fun i -> i <> s)
        Expr.permute (Array.insertAt d s others) x

    /// Every window of `size` entries along the axis, `step` apart, as torch's x.unfold(dimension, size, step) (not
    /// F.unfold's im2col, which is `Expr.unfold`): the axis becomes the windows' count, (n − size) / step + 1, and the
    /// window's entries are a new last axis, so a ViT's patches are `unfold 2 p p` then `unfold 3 p p` of [B, C, H, W],
    /// [B, C, H/p, W/p, p, p]. Windows that tile the axis are a slice and a reshape; overlapping or gapped ones pick
    /// their entries with one gather, whose derivative adds each window's cotangent back at its positions (an entry in
    /// several windows collects from each), so the graph does not grow with the number of windows.
    let unfold (axis: int) (size: int) (step: int) (x: Expr) =
        let a = axisOf "Unfold" x axis
        let n = x.Dims.[a]
        if size < 0 || size > n then
            Shape.fail "Unfold" (sprintf "size %d must be between 0 and the length %d of axis %d (input %s)" size n axis (dims x))
        if step <= 0 then
            Shape.fail "Unfold" (sprintf "step %d must be positive (axis %d of input %s)" step axis (dims x))
        let windows = (n - size) / step + 1
        let picked =
            if step = size then Expr.sliceAxis a 0 (windows * size) x
            else
                let positions = Array.init (windows * size) (fun k -> float ((k / size) * step + k % size))
                Indexing.indexSelect a (Expr.constant (Tensor.FromArray(positions, [| windows * size |]))) x
        let split = Array.concat [ x.Dims.[.. a - 1]; [| windows; size |]; x.Dims.[a + 1 ..] ]
        movedim (a + 1) -1 (Expr.reshape split picked)

    /// The axis split into `sizes` (one of them may be -1, inferred), as torch's x.unflatten(dim, sizes):
    /// a reshape.
    let unflatten (axis: int) (sizes: int[]) (x: Expr) =
        if isNull sizes then nullArg "sizes"
        let a = axisOf "Unflatten" x axis
        let n = x.Dims.[a]
        let inferred = sizes |> Array.filter (fun s -> s = -1) |> Array.length
        let known = sizes |> Array.filter (fun s -> s <> -1) |> Array.fold (*) 1
        let fail () =
            Shape.fail "Unflatten" (sprintf "sizes %s do not multiply to the length %d of axis %d (input %s)" (Shape.format sizes) n axis (dims x))
        if sizes.Length = 0 || inferred > 1 || sizes |> Array.exists (fun s -> s < -1) then fail ()
        let resolved =
            if inferred = 0 then (if known <> n then fail ()); sizes
            elif known = 0 || n % known <> 0 then fail ()
            else sizes |> Array.map (fun s -> if s = -1 then n / known else s)
        Expr.reshape (Array.concat [ x.Dims.[.. a - 1]; resolved; x.Dims.[a + 1 ..] ]) x

    /// x tiled `repeats.[i]` times along each axis, as torch.tile: with fewer repeats than axes, the
    /// leading axes repeat once (where x.repeat requires at least as many); with more, x gains
    /// leading axes of length 1, as repeat.
    let tile (repeats: int[]) (x: Expr) =
        if isNull repeats then nullArg "repeats"
        let padded = if repeats.Length < x.Rank then Array.append (Array.create (x.Rank - repeats.Length) 1) repeats else repeats
        if padded |> Array.exists (fun r -> r < 0) then
            Shape.fail "Tile" (sprintf "repeats %s must not be negative (input %s)" (Shape.format repeats) (dims x))
        repeat padded x

    /// torch.bmm: a batch of matrix products, [B, n, m] by [B, m, p] (no broadcasting, as torch).
    let bmm (a: Expr) (b: Expr) =
        if a.Rank <> 3 || b.Rank <> 3 || a.Dims.[0] <> b.Dims.[0] || a.Dims.[2] <> b.Dims.[1] then
            Shape.fail "Bmm" (sprintf "needs [B, n, m] and [B, m, p], got %s and %s" (dims a) (dims b))
        Expr.matmul a b

    /// torch.kron: the Kronecker product, each entry of a times the whole of b, over every axis (the
    /// operand of lower rank gains leading axes of length 1): an outer product of interleaved axes and
    /// one reshape.
    let kron (a: Expr) (b: Expr) =
        let rank = max a.Rank b.Rank
        let lead (x: Expr) = Array.append (Array.create (rank - x.Rank) 1) x.Dims
        let da, db = lead a, lead b
        let spreadA = Array.concat [ for i in 0 .. rank - 1 -> [| da.[i]; 1 |] ]
        let spreadB = Array.concat [ for i in 0 .. rank - 1 -> [| 1; db.[i] |] ]
        Expr.reshape (Array.map2 (*) da db) (Expr.reshape spreadA a * Expr.reshape spreadB b)

    /// torch.diag: a vector placed on diagonal `offset` of a square matrix, or a matrix's diagonal
    /// `offset` as a vector.
    let diag (offset: int) (x: Expr) =
        match x.Rank with
        | 1 -> Indexing.diagEmbed offset x
        | 2 -> Indexing.diagonal offset 0 1 x
        | _ -> Shape.fail "Diag" (sprintf "needs a vector or a matrix, got %s" (dims x))

    /// torch.repeat_interleave with an int: each entry along the axis repeated `repeats` times in a
    /// row (torch's x.repeat_interleave(r, dim)); the derivative sums over the copies.
    let repeatInterleave (repeats: int) (axis: int) (x: Expr) =
        if repeats < 0 then Shape.fail "RepeatInterleave" (sprintf "repeats %d must not be negative (input %s)" repeats (dims x))
        let a = axisOf "RepeatInterleave" x axis
        let spread = Array.concat [ x.Dims.[.. a]; [| 1 |]; x.Dims.[a + 1 ..] ]
        let copies = Array.concat [ x.Dims.[.. a]; [| repeats |]; x.Dims.[a + 1 ..] ]
        let merged = Array.concat [ x.Dims.[.. a - 1]; [| x.Dims.[a] * repeats |]; x.Dims.[a + 1 ..] ]
        Expr.reshape merged (Expr.broadcastTo copies (Expr.reshape spread x))

    /// torch.repeat_interleave with a tensor of counts: entry i along the axis repeated `repeats.[i]` times in a row
    /// (one count serves every entry, as an int does), an index_select of the entries in that order, so the
    /// derivative sums over each entry's copies. The counts are data of the graph's shape, so they are numbers here:
    /// whole and non-negative, one per entry along the axis.
    let repeatInterleaveCounts (repeats: float[]) (axis: int) (x: Expr) =
        let fail detail = Shape.fail "RepeatInterleave" (sprintf "%s (repeats of length %d, input %s, axis %d)" detail repeats.Length (dims x) axis)
        let a = axisOf "RepeatInterleave" x axis
        for r in repeats do
            if not (r >= 0.0 && r = System.Math.Floor r && r <= float System.Int32.MaxValue) then fail (sprintf "repeats must be whole numbers >= 0, got %g" r)
        if repeats.Length = 1 then repeatInterleave (int repeats.[0]) a x
        elif repeats.Length <> x.Dims.[a] then fail (sprintf "needs one count per entry along the axis (%d) or a single count" x.Dims.[a])
        else
            let mutable total = 0L
            for r in repeats do total <- total + int64 r
            if total > int64 System.Array.MaxLength then fail (sprintf "the result would hold %d entries along the axis" total)
            let index = Array.zeroCreate<float> (int total)
            let mutable at = 0
            for i in 0 .. repeats.Length - 1 do
                for _ in 1 .. int repeats.[i] do
                    index.[at] <- float i
                    at <- at + 1
            Indexing.indexSelect a (Expr.cast x.DType (Expr.constant (Tensor.FromArray(index, [| index.Length |])))) x

    /// torch's pixel_shuffle: [..., C·r², H, W] to [..., C, H·r, W·r], each group of r² channels
    /// spread over an r × r block.
    let pixelShuffle (r: int) (x: Expr) =
        if r <= 0 || x.Rank < 3 || x.Dims.[x.Rank - 3] % (r * r) <> 0 then
            Shape.fail "PixelShuffle" (sprintf "needs [..., C·r², H, W] with r = %d > 0, got %s" r (dims x))
        let lead = x.Dims.[.. x.Rank - 4]
        let c, h, w = x.Dims.[x.Rank - 3] / (r * r), x.Dims.[x.Rank - 2], x.Dims.[x.Rank - 1]
        let k = lead.Length
        let split = Expr.reshape (Array.append lead [| c; r; r; h; w |]) x
        let moved = Expr.permute (Array.append [| 0 .. k - 1 |] [| k; k + 3; k + 1; k + 4; k + 2 |]) split
        Expr.reshape (Array.append lead [| c; h * r; w * r |]) moved

    /// torch's pixel_unshuffle, the inverse of pixelShuffle: [..., C, H·r, W·r] to [..., C·r², H, W].
    let pixelUnshuffle (r: int) (x: Expr) =
        if r <= 0 || x.Rank < 3 || x.Dims.[x.Rank - 2] % r <> 0 || x.Dims.[x.Rank - 1] % r <> 0 then
            Shape.fail "PixelUnshuffle" (sprintf "needs [..., C, H·r, W·r] with r = %d > 0, got %s" r (dims x))
        let lead = x.Dims.[.. x.Rank - 4]
        let c, h, w = x.Dims.[x.Rank - 3], x.Dims.[x.Rank - 2] / r, x.Dims.[x.Rank - 1] / r
        let k = lead.Length
        let split = Expr.reshape (Array.append lead [| c; h; r; w; r |]) x
        let moved = Expr.permute (Array.append [| 0 .. k - 1 |] [| k; k + 2; k + 4; k + 1; k + 3 |]) split
        Expr.reshape (Array.append lead [| c * r * r; h; w |]) moved
