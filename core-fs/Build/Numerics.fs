/// torch's numerical conveniences over the primitives: finite differences (diff), the trapezoid rule and its running
/// form, covariance and correlation, renorm, pdist, tensordot, block_diag, cartesian_prod, vander and channel_shuffle.
/// Each is a composite, so derivatives of every order follow from the primitives, and each follows torch's own formula,
/// so values round as torch's do. Errors name the torch function, the parameter and the shapes.
namespace FunctionalDiff.Core

open System

/// torch's numerical composites over Expr.
[<RequireQualifiedAccess>]
module Numerics =

    let private dims (e: Expr) = Shape.format e.Dims

    /// x[1:] − x[:-1] along the axis (torch.diff's one step).
    let private difference (axis: int) (x: Expr) =
        let n = x.Dims.[axis]
        if n = 0 then x else Expr.sliceAxis axis 1 n x - Expr.sliceAxis axis 0 (n - 1) x

    /// torch.diff: the n-th forward difference along the axis, after `prepend` and `append` (which match x's shape off
    /// that axis) are joined before and after x; n past the length gives an empty axis, n = 0 x itself.
    let diff (n: int) (axis: int) (prepend: Expr option) (append: Expr option) (x: Expr) =
        if x.Rank = 0 then Shape.fail "Diff" (sprintf "the input %s needs at least one axis" (dims x))
        if n < 0 then raise (ArgumentOutOfRangeException("n", n, sprintf "Diff: n = %d must be >= 0" n))
        let a = Shape.normalizeAxis "Diff" x.Rank axis
        let check (name: string) (part: Expr) =
            if part.Rank <> x.Rank || (part.Dims |> Array.indexed |> Array.exists (fun (i, d) -> i <> a && d <> x.Dims.[i])) then
                Shape.fail "Diff" (sprintf "%s %s must have the input's shape %s except along axis %d" name (dims part) (dims x) axis)
            part
        let parts = [| yield! Option.toArray (Option.map (check "prepend") prepend); x; yield! Option.toArray (Option.map (check "append") append) |]
        // concat brings the parts to one dtype
        let joined = if parts.Length = 1 then x else Expr.concat a parts
        let mutable result = joined
        for _ in 1 .. n do
            result <- difference a result
        result

    let private checkedAxis (name: string) (y: Expr) (axis: int) =
        if y.Rank = 0 then Shape.fail name (sprintf "y %s needs at least one axis" (dims y))
        Shape.normalizeAxis name y.Rank axis

    /// y[1:] + y[:-1] along the axis: the sums of neighbours the trapezoid rule weighs.
    let private neighbours (axis: int) (y: Expr) =
        let n = y.Dims.[axis]
        Expr.sliceAxis axis 1 n y + Expr.sliceAxis axis 0 (n - 1) y

    /// The spacings x[1:] − x[:-1] for y along the axis: a vector x (one entry per sample) placed along that axis, or
    /// an x that broadcasts with y differenced along it, as torch.trapezoid reads x.
    let private spacings (name: string) (axis: int) (x: Expr) (y: Expr) =
        if x.Rank = 1 then
            if x.Dims.[0] <> y.Dims.[axis] then
                Shape.fail name (sprintf "x %s must have one entry per sample of y %s along axis %d" (dims x) (dims y) axis)
            Expr.reshape (Array.init y.Rank (fun i -> if i = axis then max 0 (x.Dims.[0] - 1) else 1)) (difference 0 x)
        else
            let ax = Shape.normalizeAxis name x.Rank (axis - y.Rank)
            difference ax x

    /// torch.trapezoid with a constant spacing: (Σy − (y₀ + y_last)/2)·dx along the axis, 0 over an empty axis.
    let trapezoid (dx: float) (axis: int) (y: Expr) =
        let a = checkedAxis "Trapezoid" y axis
        let n = y.Dims.[a]
        if n = 0 then Expr.zeros y.DType (Array.removeAt a y.Dims)
        else
            let ends = Structure.select a 0 y + Structure.select a (n - 1) y
            (Expr.sumAxes [| a |] false y - ends * Expr.scalar y.DType 0.5) * Expr.scalar y.DType dx

    /// torch.trapezoid over sample points x: Σ (x[i+1] − x[i])(y[i+1] + y[i]) / 2 along the axis, 0 over an empty axis.
    let trapezoidAt (x: Expr) (axis: int) (y: Expr) =
        let a = checkedAxis "Trapezoid" y axis
        let n = y.Dims.[a]
        if n = 0 then Expr.zeros y.DType (Array.removeAt a y.Dims)
        else Expr.sumAxes [| a |] false (spacings "Trapezoid" a x y * neighbours a y) / Expr.scalar y.DType 2.0

    /// torch.cumulative_trapezoid with a constant spacing: the running sums of dx/2·(y[i] + y[i+1]) along the axis,
    /// one shorter than y there.
    let cumulativeTrapezoid (dx: float) (axis: int) (y: Expr) =
        let a = checkedAxis "CumulativeTrapezoid" y axis
        if y.Dims.[a] = 0 then y
        else Expr.cumsumAlong a false (Expr.scalar y.DType (dx / 2.0) * neighbours a y)

    /// torch.cumulative_trapezoid over sample points x.
    let cumulativeTrapezoidAt (x: Expr) (axis: int) (y: Expr) =
        let a = checkedAxis "CumulativeTrapezoid" y axis
        if y.Dims.[a] = 0 then y
        else Expr.cumsumAlong a false (spacings "CumulativeTrapezoid" a x y * neighbours a y / Expr.scalar y.DType 2.0)

    /// torch.cov: the covariance of the rows of x (variables × observations; a vector is one variable), with the
    /// correction subtracted from the observation count (1: Bessel's), frequency weights and/or importance weights
    /// (vectors with one entry per observation), torch's normalising factor (0 where it would be negative, so the result is
    /// ±∞ or NaN there, as torch's), and the result squeezed (a scalar for one variable).
    let cov (correction: int) (fweights: Expr option) (aweights: Expr option) (x: Expr) =
        if x.Rank > 2 then Shape.fail "Cov" (sprintf "input %s must have at most 2 axes (variables × observations)" (dims x))
        let x = if x.Rank < 2 then Expr.reshape [| 1; x.Numel |] x else x
        let observations = x.Dims.[1]
        let checkWeights (name: string) (w: Expr) =
            if w.Rank > 1 || w.Numel <> observations then
                Shape.fail "Cov" (sprintf "%s %s must be a vector with one entry per observation (%d; input %s)" name (dims w) observations (dims x))
            Expr.cast x.DType (Expr.reshape [| observations |] w)
        let fweights, aweights = Option.map (checkWeights "fweights") fweights, Option.map (checkWeights "aweights") aweights
        let weights =
            match fweights, aweights with
            | Some f, Some a -> Some (f * a)
            | Some w, None | None, Some w -> Some w
            | None, None -> None
        let scalar v = Expr.scalar x.DType v
        let mean, factor =
            match weights with
            | None -> Expr.meanAxes [| 1 |] false x, scalar (float (observations - correction))
            | Some w ->
                let total = Expr.sum w
                let factor =
                    match aweights with
                    | _ when correction = 0 -> total
                    | None -> total - scalar (float correction)
                    | Some a -> total - scalar (float correction) * Expr.sum (w * a) / total
                Expr.sumAxes [| 1 |] false (x * w) / total, factor
        // torch sets a factor at or below 0 to 0 (with a warning): the result is then ±∞ or NaN
        let factor = Expr.where (Expr.le factor (scalar 0.0)) (scalar 0.0) factor
        let centred = x - Expr.reshape [| x.Dims.[0]; 1 |] mean
        let weighted = match weights with Some w -> centred * w | None -> centred
        Structure.squeezeAll (Expr.matmul centred (Expr.transpose weighted) / factor)

    /// torch.corrcoef: the Pearson correlation of the rows of x, cov(x) divided by the outer product of the rows'
    /// standard deviations and clipped to [−1, 1] (torch's clip, whose derivative is 0 only beyond the bounds); c/c for
    /// a single variable, as torch (1, or NaN for a constant row).
    let corrcoef (x: Expr) =
        let c = cov 1 None None x
        if c.Rank = 0 then c / c
        else
            let deviations = Expr.sqrt (Indexing.diagonal 0 0 1 c)
            let n = deviations.Dims.[0]
            let c = c / Expr.reshape [| n; 1 |] deviations / Expr.reshape [| 1; n |] deviations
            Activations.clamp (Some -1.0) (Some 1.0) c

    /// torch.renorm: each slice of x along the axis whose p-norm (over its other axes) exceeds maxNorm is scaled by
    /// maxNorm / (norm + 1e-7), torch's factor; the others are kept.
    let renorm (p: float) (axis: int) (maxNorm: float) (x: Expr) =
        if x.Rank = 0 then Shape.fail "Renorm" (sprintf "the input %s needs at least one axis" (dims x))
        if not (p > 0.0) then raise (ArgumentOutOfRangeException("p", p, sprintf "Renorm: p = %g must be > 0" p))
        if not (maxNorm >= 0.0) then raise (ArgumentOutOfRangeException("maxNorm", maxNorm, sprintf "Renorm: maxNorm = %g must be >= 0" maxNorm))
        let a = Shape.normalizeAxis "Renorm" x.Rank axis
        let others = [| for i in 0 .. x.Rank - 1 do if i <> a then yield i |]
        let norm = if others.Length = 0 then Expr.abs x else Statistics.norm p others true x
        let limit = Expr.scalar x.DType maxNorm
        let factor = Expr.where (Expr.gt norm limit) (limit / (norm + Expr.scalar x.DType 1e-7)) (Expr.scalar x.DType 1.0)
        x * factor

    /// torch.pdist: the p-norm distances between the rows of x ([N, M]) for every pair i < j, in row-major order of the
    /// pairs ([N(N − 1)/2]); the gradient at a zero distance is 0, as torch's.
    let pdist (p: float) (x: Expr) =
        if x.Rank <> 2 then Shape.fail "Pdist" (sprintf "input %s must be a matrix of rows [N, M]" (dims x))
        if not (p >= 0.0) then raise (ArgumentOutOfRangeException("p", p, sprintf "Pdist: p = %g must be >= 0" p))
        let n = x.Dims.[0]
        let pairs = [| for i in 0 .. n - 1 do for j in i + 1 .. n - 1 do yield (i, j) |]
        if pairs.Length = 0 then Expr.zeros x.DType [| 0 |]
        else
            let rows (pick: int * int -> int) =
                Indexing.indexSelect 0 (Expr.constant (Tensor.FromArray(pairs |> Array.map (pick >> float), [| pairs.Length |]))) x
            Statistics.norm p [| 1 |] false (rows fst - rows snd)

    /// torch.tensordot: a contracted over `axesA` with b over `axesB` (pairwise, equal lengths), the result's axes a's
    /// free axes then b's, in order: a permutation, a reshape and one matrix product.
    let tensordot (axesA: int[]) (axesB: int[]) (a: Expr) (b: Expr) =
        if isNull axesA then nullArg "axesA"
        if isNull axesB then nullArg "axesB"
        if axesA.Length <> axesB.Length then
            Shape.fail "Tensordot" (sprintf "axesA [%s] and axesB [%s] must pair up (a %s, b %s)"
                                        (String.Join(", ", axesA)) (String.Join(", ", axesB)) (dims a) (dims b))
        // paired in the caller's order (normalizeAxes would sort them)
        let ca, cb = axesA |> Array.map (Shape.normalizeAxis "Tensordot" a.Rank), axesB |> Array.map (Shape.normalizeAxis "Tensordot" b.Rank)
        if (Array.distinct ca).Length <> ca.Length || (Array.distinct cb).Length <> cb.Length then
            Shape.fail "Tensordot" (sprintf "axesA [%s] and axesB [%s] must not repeat an axis" (String.Join(", ", axesA)) (String.Join(", ", axesB)))
        for i in 0 .. ca.Length - 1 do
            if a.Dims.[ca.[i]] <> b.Dims.[cb.[i]] then
                Shape.fail "Tensordot" (sprintf "axis %d of a %s has length %d, axis %d of b %s has %d" axesA.[i] (dims a)
                                            a.Dims.[ca.[i]] axesB.[i] (dims b) b.Dims.[cb.[i]])
        let freeA = [| for i in 0 .. a.Rank - 1 do if not (Array.contains i ca) then yield i |]
        let freeB = [| for i in 0 .. b.Rank - 1 do if not (Array.contains i cb) then yield i |]
        let size (x: Expr) (axes: int[]) = axes |> Array.fold (fun acc i -> acc * x.Dims.[i]) 1
        let k = size a ca
        let left = Expr.reshape [| size a freeA; k |] (Expr.permute (Array.append freeA ca) a)
        let right = Expr.reshape [| k; size b freeB |] (Expr.permute (Array.append cb freeB) b)
        Expr.reshape (Array.append (freeA |> Array.map (fun i -> a.Dims.[i])) (freeB |> Array.map (fun i -> b.Dims.[i])))
            (Expr.matmul left right)

    /// torch.tensordot with an axis count: a's last `count` axes contracted with b's first `count`.
    let tensordotCount (count: int) (a: Expr) (b: Expr) =
        if count < 0 || count > a.Rank || count > b.Rank then
            raise (ArgumentOutOfRangeException("dims", count, sprintf "Tensordot: dims = %d must be between 0 and the ranks of a %s and b %s" count (dims a) (dims b)))
        tensordot (Array.init count (fun i -> a.Rank - count + i)) (Array.init count id) a b

    /// torch.block_diag: the blocks (scalars as 1×1, vectors as one row, matrices) along the diagonal of a matrix of
    /// zeros, in the dtype they promote to (concat's).
    let blockDiag (blocks: Expr[]) =
        if isNull blocks then nullArg "tensors"
        if blocks.Length = 0 then Shape.fail "BlockDiag" "needs at least one tensor"
        let matrices =
            blocks |> Array.mapi (fun i x ->
                if isNull (box x) then nullArg "tensors"
                match x.Rank with
                | 0 -> Expr.reshape [| 1; 1 |] x
                | 1 -> Expr.reshape [| 1; x.Dims.[0] |] x
                | 2 -> x
                | _ -> Shape.fail "BlockDiag" (sprintf "tensor %d has shape %s; each must have at most 2 axes" i (dims x)))
        let columns = matrices |> Array.sumBy (fun m -> m.Dims.[1])
        let mutable before = 0
        let rows =
            matrices |> Array.map (fun m ->
                let width = m.Dims.[1]
                let row = Functional.pad PadMode.Constant 0.0 [| 0; before |] [| 0; columns - before - width |] m
                before <- before + width
                row)
        Expr.concat 0 rows

    /// torch.cartesian_prod: every combination of one entry from each vector, in row-major order, as the rows of a
    /// [Π lengths, count] matrix (a single vector is returned as it is, as torch's).
    let cartesianProd (xs: Expr[]) =
        if isNull xs then nullArg "tensors"
        if xs.Length = 0 then Shape.fail "CartesianProd" "needs at least one tensor"
        xs |> Array.iteri (fun i x ->
            if isNull (box x) then nullArg "tensors"
            if x.Rank <> 1 then Shape.fail "CartesianProd" (sprintf "tensor %d has shape %s; each must be a vector" i (dims x)))
        if xs.Length = 1 then xs.[0]
        else
            let grids = Structure.meshgrid "ij" xs |> Array.map (fun g -> Expr.reshape [| g.Numel |] g)
            Expr.stack 1 grids

    /// torch.vander: the columns x^(N−1), …, x, 1 of the vector x (increasing: 1, x, …, x^(N−1)); N is x's length by
    /// default. The powers are running products of x, as torch's cumprod, so they round as torch's do.
    let vander (n: int option) (increasing: bool) (x: Expr) =
        if x.Rank <> 1 then Shape.fail "Vander" (sprintf "x %s must be a vector" (dims x))
        let n = defaultArg n x.Dims.[0]
        if n < 0 then raise (ArgumentOutOfRangeException("n", n, sprintf "Vander: N = %d must be >= 0" n))
        let length = x.Dims.[0]
        let columns =
            if n = 0 then Expr.zeros x.DType [| length; 0 |]
            else
                let ones = Expr.ones x.DType [| length; 1 |]
                if n = 1 then ones
                else
                    let powers = Indexing.cumprod 1 (Expr.broadcastTo [| length; n - 1 |] (Expr.reshape [| length; 1 |] x))
                    Expr.concat 1 [ ones; powers ]
        if increasing || n = 0 then columns else Expr.flip [| 1 |] columns

    /// torch.channel_shuffle: the channels (axis 1) of [N, C, ...] regrouped as groups × C/groups and read transposed,
    /// so the channels of the groups interleave (ShuffleNet's shuffle).
    let channelShuffle (groups: int) (x: Expr) =
        if x.Rank < 3 then Shape.fail "ChannelShuffle" (sprintf "input %s needs at least 3 axes [N, C, ...]" (dims x))
        let channels = x.Dims.[1]
        if groups <= 0 || channels % groups <> 0 then
            raise (ArgumentOutOfRangeException("groups", groups, sprintf "ChannelShuffle: groups = %d must be positive and divide the %d channels of %s" groups channels (dims x)))
        let split = Array.concat [ [| x.Dims.[0]; groups; channels / groups |]; x.Dims.[2..] ]
        Expr.reshape x.Dims (Expr.swapAxes 1 2 (Expr.reshape split x))

    /// torch.combinations: the r-element combinations of the vector's entries (with repetition when
    /// `withReplacement`), in lexicographic order of their positions, as the rows of [M, r]; each entry is gathered
    /// from x, so its cotangent goes back to it.
    let combinations (r: int) (withReplacement: bool) (x: Expr) =
        if x.Rank <> 1 then Shape.fail "Combinations" (sprintf "input %s must be a vector" (dims x))
        if r < 0 then raise (ArgumentOutOfRangeException("r", r, sprintf "Combinations: r = %d must be >= 0" r))
        let n = x.Dims.[0]
        let rec choose (from: int) (left: int) : int list list =
            if left = 0 then [ [] ]
            else
                [ for i in from .. n - 1 do
                    for rest in choose (if withReplacement then i else i + 1) (left - 1) do
                        yield i :: rest ]
        let rows = if r = 0 then [] else choose 0 r
        if rows.IsEmpty then Expr.zeros x.DType [| 0; r |]
        else
            let index = rows |> List.concat |> List.map float |> Array.ofList
            Expr.reshape [| rows.Length; r |] (Indexing.indexSelect 0 (Expr.constant (Tensor.FromArray(index, [| index.Length |]))) x)

    /// torch.nanmedian along an axis: the lower median of the entries that are not NaN (NaN where all are), and its
    /// index in x; the value is x gathered at the index, so its cotangent goes to that one entry, as torch's.
    let nanmedian (axis: int) (keepDims: bool) (x: Expr) =
        if x.Rank = 0 then Shape.fail "NanMedian" (sprintf "the scalar input %s has no axis" (dims x))
        let a = Shape.normalizeAxis "NanMedian" x.Rank axis
        if x.Dims.[a] = 0 then Shape.fail "NanMedian" (sprintf "axis %d of %s is empty" axis (dims x))
        // NaN sorts last: the lower median of the k numbers is sorted position ⌊(k − 1)/2⌋ (0 for a row of NaN only)
        let order = Expr.argsort a false x
        let numbers = Expr.sumAxes [| a |] true (Expr.cast x.DType (Expr.eq x x))
        let position = Expr.maximum (Expr.floor ((numbers - 1.0) / Expr.scalar x.DType 2.0)) (Expr.scalar x.DType 0.0)
        let index = Expr.gather a position order
        let shape = Shape.reduced x.Dims [| a |] keepDims
        Expr.reshape shape (Expr.gather a index x), Expr.reshape shape index

    /// torch.nanmedian of all entries: the lower median of those that are not NaN, NaN where all are.
    let nanmedianAll (x: Expr) =
        if x.Numel = 0 then Shape.fail "NanMedian" (sprintf "the input %s is empty" (dims x))
        fst (nanmedian 0 false (Expr.reshape [| x.Numel |] x))

    /// torch.ldexp: x·2^e elementwise with broadcasting (torch's x * pow(2, e)), differentiable in both.
    let ldexp (x: Expr) (e: Expr) = x * Expr.pow (Expr.scalar e.DType 2.0) e

    /// torch.signbit: 1 where the sign bit is set (negative numbers, −0 and −∞), else 0, without derivative; a NaN
    /// reads as 0 (the comparisons cannot see its sign bit).
    let signbit (x: Expr) = Expr.stopGradient (Elementary.signBitSet x)

    /// torch.float_power: x^e computed in float64 whatever the inputs' dtypes, as torch's.
    let floatPower (x: Expr) (e: Expr) = Expr.pow (Expr.cast DType.Float64 x) (Expr.cast DType.Float64 e)
