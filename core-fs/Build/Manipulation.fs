/// torch's tensor manipulation conveniences over the primitives: atleast_1d/2d/3d, the stacks (hstack, vstack, dstack,
/// column_stack) and splits (tensor_split, hsplit, vsplit, dsplit), fliplr, flipud and rot90, take_along_dim, diagflat,
/// the scatters that write a slice, a selected index or a diagonal (slice_scatter, select_scatter, diagonal_scatter),
/// index_fill, the NaN-ignoring fmax and fmin, and the masks isclose and isin. Each is a composite, so derivatives of
/// every order follow, and each follows torch's definition. Errors name the torch function and the shapes.
namespace FunctionalDiff.Core

open System

/// torch's manipulation composites over Expr.
[<RequireQualifiedAccess>]
module Manipulation =

    let private dims (e: Expr) = Shape.format e.Dims

    /// x with at least one axis: a scalar becomes [1] (torch.atleast_1d).
    let atleast1d (x: Expr) = if x.Rank = 0 then Expr.reshape [| 1 |] x else x

    /// x with at least two axes: a scalar becomes [1, 1], a vector [n] the row [1, n] (torch.atleast_2d).
    let atleast2d (x: Expr) =
        match x.Rank with
        | 0 -> Expr.reshape [| 1; 1 |] x
        | 1 -> Expr.reshape [| 1; x.Dims.[0] |] x
        | _ -> x

    /// x with at least three axes: a scalar becomes [1, 1, 1], a vector [n] [1, n, 1], a matrix [m, n] [m, n, 1]
    /// (torch.atleast_3d).
    let atleast3d (x: Expr) =
        match x.Rank with
        | 0 -> Expr.reshape [| 1; 1; 1 |] x
        | 1 -> Expr.reshape [| 1; x.Dims.[0]; 1 |] x
        | 2 -> Expr.reshape [| x.Dims.[0]; x.Dims.[1]; 1 |] x
        | _ -> x

    let private nonempty (name: string) (parts: Expr[]) =
        if isNull parts then nullArg "tensors"
        if parts.Length = 0 then Shape.fail name "needs at least one tensor"

    /// torch.hstack: the tensors, each with at least one axis, joined along axis 0 when the first is a vector and along
    /// axis 1 otherwise.
    let hstack (parts: Expr[]) =
        nonempty "Hstack" parts
        let lifted = Array.map atleast1d parts
        Expr.concat (if lifted.[0].Rank = 1 then 0 else 1) lifted

    /// torch.vstack (and row_stack): the tensors, each with at least two axes (a vector is a row), joined along axis 0.
    let vstack (parts: Expr[]) =
        nonempty "Vstack" parts
        Expr.concat 0 (Array.map atleast2d parts)

    /// torch.dstack: the tensors, each with at least three axes, joined along axis 2.
    let dstack (parts: Expr[]) =
        nonempty "Dstack" parts
        Expr.concat 2 (Array.map atleast3d parts)

    /// torch.column_stack: scalars and vectors become columns [n, 1], then all are joined along axis 1.
    let columnStack (parts: Expr[]) =
        nonempty "ColumnStack" parts
        parts |> Array.map (fun p -> if p.Rank <= 1 then Expr.reshape [| p.Numel; 1 |] p else p) |> Expr.concat 1

    /// The pieces of x along the axis between consecutive boundaries (0 and the axis's length added at the ends).
    let private piecesBetween (axis: int) (boundaries: int[]) (x: Expr) =
        Array.init (boundaries.Length - 1) (fun i -> Expr.sliceAxis axis boundaries.[i] boundaries.[i + 1] x)

    /// torch.tensor_split with a count: `sections` pieces along the axis, the first length % sections of them one
    /// longer than the others (some empty when sections passes the length).
    let tensorSplitSections (sections: int) (axis: int) (x: Expr) =
        if x.Rank = 0 then Shape.fail "TensorSplit" (sprintf "the input %s needs at least one axis" (dims x))
        if sections < 1 then raise (ArgumentOutOfRangeException("sections", sections, sprintf "TensorSplit: sections = %d must be at least 1" sections))
        let a = Shape.normalizeAxis "TensorSplit" x.Rank axis
        let n = x.Dims.[a]
        let boundaries = Array.zeroCreate (sections + 1)
        for i in 1 .. sections do
            boundaries.[i] <- boundaries.[i - 1] + n / sections + (if i - 1 < n % sections then 1 else 0)
        piecesBetween a boundaries x

    /// torch.tensor_split with indices: the pieces x[:i₀], x[i₀:i₁], …, x[iₖ:] along the axis, each index read as a
    /// Python slice bound (negative from the end, clamped), a piece empty where a bound comes before the previous one.
    let tensorSplitIndices (indices: int[]) (axis: int) (x: Expr) =
        if isNull indices then nullArg "indices"
        if x.Rank = 0 then Shape.fail "TensorSplit" (sprintf "the input %s needs at least one axis" (dims x))
        let a = Shape.normalizeAxis "TensorSplit" x.Rank axis
        let n = x.Dims.[a]
        let bound i = let j = if i < 0 then i + n else i in max 0 (min n j)
        let starts = Array.append [| 0 |] (Array.map bound indices)
        let stops = Array.append (Array.map bound indices) [| n |]
        Array.init starts.Length (fun i -> Expr.sliceAxis a starts.[i] (max starts.[i] stops.[i]) x)

    /// The axis hsplit, vsplit and dsplit cut, after their rank checks.
    let private splitAxis (name: string) (least: int) (axis: int) (x: Expr) =
        if x.Rank < least then Shape.fail name (sprintf "the input %s needs at least %d axes" (dims x) least)
        axis

    /// tensor_split into equal sections, which must divide the axis (torch's hsplit, vsplit and dsplit with a count).
    let private equalSections (name: string) (sections: int) (axis: int) (x: Expr) =
        if sections < 1 then raise (ArgumentOutOfRangeException("sections", sections, sprintf "%s: sections = %d must be at least 1" name sections))
        if x.Dims.[axis] % sections <> 0 then
            Shape.fail name (sprintf "axis %d of %s (length %d) does not split into %d equal sections" axis (dims x) x.Dims.[axis] sections)
        tensorSplitSections sections axis x

    /// torch.hsplit with a count: equal sections along axis 1 (axis 0 of a vector).
    let hsplit (sections: int) (x: Expr) =
        equalSections "Hsplit" sections (splitAxis "Hsplit" 1 (if x.Rank = 1 then 0 else 1) x) x

    /// torch.hsplit with indices: tensor_split along axis 1 (axis 0 of a vector).
    let hsplitAt (indices: int[]) (x: Expr) =
        tensorSplitIndices indices (splitAxis "Hsplit" 1 (if x.Rank = 1 then 0 else 1) x) x

    /// torch.vsplit with a count: equal sections along axis 0 of a tensor of rank 2 or more.
    let vsplit (sections: int) (x: Expr) = equalSections "Vsplit" sections (splitAxis "Vsplit" 2 0 x) x

    /// torch.vsplit with indices: tensor_split along axis 0 of a tensor of rank 2 or more.
    let vsplitAt (indices: int[]) (x: Expr) = tensorSplitIndices indices (splitAxis "Vsplit" 2 0 x) x

    /// torch.dsplit with a count: equal sections along axis 2 of a tensor of rank 3 or more.
    let dsplit (sections: int) (x: Expr) = equalSections "Dsplit" sections (splitAxis "Dsplit" 3 2 x) x

    /// torch.dsplit with indices: tensor_split along axis 2 of a tensor of rank 3 or more.
    let dsplitAt (indices: int[]) (x: Expr) = tensorSplitIndices indices (splitAxis "Dsplit" 3 2 x) x

    /// torch.fliplr: x reversed along axis 1 (rank 2 or more).
    let fliplr (x: Expr) =
        if x.Rank < 2 then Shape.fail "Fliplr" (sprintf "the input %s needs at least 2 axes" (dims x))
        Expr.flip [| 1 |] x

    /// torch.flipud: x reversed along axis 0 (rank 1 or more).
    let flipud (x: Expr) =
        if x.Rank < 1 then Shape.fail "Flipud" (sprintf "the input %s needs at least 1 axis" (dims x))
        Expr.flip [| 0 |] x

    /// torch.rot90: x turned k quarter turns in the plane of the two axes, from the first towards the second (k taken
    /// modulo 4, negative turning back), by torch's flips and transpositions.
    let rot90 (k: int) (axis1: int) (axis2: int) (x: Expr) =
        if x.Rank < 2 then Shape.fail "Rot90" (sprintf "the input %s needs at least 2 axes" (dims x))
        let a = Shape.normalizeAxis "Rot90" x.Rank axis1
        let b = Shape.normalizeAxis "Rot90" x.Rank axis2
        if a = b then Shape.fail "Rot90" (sprintf "the axes %d and %d of %s are one axis" axis1 axis2 (dims x))
        match ((k % 4) + 4) % 4 with
        | 1 -> Expr.swapAxes a b (Expr.flip [| b |] x)
        | 2 -> Expr.flip [| a; b |] x
        | 3 -> Expr.swapAxes a b (Expr.flip [| a |] x)
        | _ -> x

    /// torch.take_along_dim over the flattened input: x.flatten()[indices.flatten()], a vector.
    let takeAlongFlat (indices: Expr) (x: Expr) =
        Expr.gather 0 (Expr.reshape [| indices.Numel |] indices) (Expr.reshape [| x.Numel |] x)

    /// torch.take_along_dim: the entries of x at `indices` along the axis (integers in a float dtype), with x and the
    /// indices of one rank broadcast together off that axis, as torch broadcasts them, then gathered.
    let takeAlongDim (indices: Expr) (axis: int) (x: Expr) =
        if indices.Rank <> x.Rank then
            Shape.fail "TakeAlongDim" (sprintf "the input %s and indices %s need the same number of axes" (dims x) (dims indices))
        let a = Shape.normalizeAxis "TakeAlongDim" x.Rank axis
        let shape = Shape.broadcast "TakeAlongDim" (Array.updateAt a indices.Dims.[a] x.Dims) indices.Dims
        let source = Expr.broadcastTo (Array.updateAt a x.Dims.[a] shape) x
        Expr.gather a (Expr.broadcastTo shape indices) source

    /// torch.diagflat: the entries of x, flattened, on diagonal `offset` of a square matrix of zeros.
    let diagflat (offset: int) (x: Expr) = Indexing.diagEmbed offset (Expr.reshape [| x.Numel |] x)

    /// torch.slice_scatter: x with its slice start:stop:step along the axis (Python bounds, None as the ends) replaced
    /// by src, which has that slice's shape.
    let sliceScatter (src: Expr) (axis: int) (start: int option) (stop: int option) (step: int) (x: Expr) =
        if x.Rank = 0 then Shape.fail "SliceScatter" (sprintf "the input %s needs at least one axis" (dims x))
        if step < 1 then raise (ArgumentOutOfRangeException("step", step, sprintf "SliceScatter: step = %d must be at least 1" step))
        let a = Shape.normalizeAxis "SliceScatter" x.Rank axis
        let n = x.Dims.[a]
        let bound i = let j = if i < 0 then i + n else i in max 0 (min n j)
        let lo = bound (defaultArg start 0)
        let hi = max lo (bound (defaultArg stop n))
        let sliced = Array.updateAt a (Shape.sliceLength lo hi step) x.Dims
        if not (Ir.sameDims src.Dims sliced) then
            Shape.fail "SliceScatter" (sprintf "src %s must have the slice's shape %s (input %s, axis %d, %d:%d:%d)" (dims src) (Shape.format sliced) (dims x) axis lo hi step)
        if sliced.[a] = 0 then x
        else
            let starts = Array.init x.Rank (fun i -> if i = a then lo else 0)
            let steps = Array.init x.Rank (fun i -> if i = a then step else 1)
            let src = Expr.cast x.DType src
            // `where`, so neither side's derivative (nor a NaN on either side) reaches the other's places
            Expr.where (Expr.unslice starts steps x.Dims (Expr.onesLike src)) (Expr.unslice starts steps x.Dims src) x

    /// torch.select_scatter: x with its entries at `index` along the axis (negative from the end) replaced by src,
    /// which has x's shape without that axis.
    let selectScatter (src: Expr) (axis: int) (index: int) (x: Expr) =
        if x.Rank = 0 then Shape.fail "SelectScatter" (sprintf "the input %s needs at least one axis" (dims x))
        let a = Shape.normalizeAxis "SelectScatter" x.Rank axis
        let n = x.Dims.[a]
        if index < -n || index >= n then
            raise (ArgumentOutOfRangeException("index", index, sprintf "SelectScatter: index %d is out of range for axis %d of %s" index axis (dims x)))
        let selected = Array.removeAt a x.Dims
        if not (Ir.sameDims src.Dims selected) then
            Shape.fail "SelectScatter" (sprintf "src %s must have the input's shape without axis %d, %s" (dims src) axis (Shape.format selected))
        let i = if index < 0 then index + n else index
        sliceScatter (Expr.reshape (Array.insertAt a 1 src.Dims) src) a (Some i) (Some(i + 1)) 1 x

    /// torch.diagonal_scatter: x with diagonal `offset` of axes (axis1, axis2) replaced by src, which has the shape of
    /// that diagonal (Expr.diagonal's: the pair removed, the diagonal last). The diagonal is a strided slice of the
    /// flattened pair, as Indexing.diagonal reads it, so src is spread back by that slice's placement.
    let diagonalScatter (src: Expr) (offset: int) (axis1: int) (axis2: int) (x: Expr) =
        let diagonal = Indexing.diagonal offset axis1 axis2 x
        if not (Ir.sameDims src.Dims diagonal.Dims) then
            Shape.fail "DiagonalScatter" (sprintf "src %s must have the diagonal's shape %s (input %s, offset %d, axes %d and %d)" (dims src) (dims diagonal) (dims x) offset axis1 axis2)
        let length = diagonal.Dims.[diagonal.Rank - 1]
        if length = 0 then x
        else
            let a1 = Shape.normalizeAxis "DiagonalScatter" x.Rank axis1
            let a2 = Shape.normalizeAxis "DiagonalScatter" x.Rank axis2
            let others = [| 0 .. x.Rank - 1 |] |> Array.filter (fun a -> a <> a1 && a <> a2)
            let order = Array.append others [| a1; a2 |]
            let moved = Expr.permute order x
            let rows, columns = x.Dims.[a1], x.Dims.[a2]
            let lead = others |> Array.map (fun a -> x.Dims.[a])
            let r = lead.Length
            let flatDims = Array.append lead [| rows * columns |]
            let first = if offset >= 0 then offset else -offset * columns
            let starts = Array.init (r + 1) (fun i -> if i = r then first else 0)
            let steps = Array.init (r + 1) (fun i -> if i = r then columns + 1 else 1)
            let src = Expr.cast x.DType src
            let written =
                Expr.where (Expr.unslice starts steps flatDims (Expr.onesLike src)) (Expr.unslice starts steps flatDims src)
                    (Expr.reshape flatDims moved)
            let inverse = Array.zeroCreate x.Rank
            order |> Array.iteri (fun position a -> inverse.[a] <- position)
            Expr.permute inverse (Expr.reshape moved.Dims written)

    /// torch.index_fill: x with `value` at the given indices along the axis (negative from the end); the filled
    /// entries pass no derivative to x.
    let indexFill (axis: int) (indices: int[]) (value: float) (x: Expr) =
        if isNull indices then nullArg "indices"
        let rank = max 1 x.Rank
        let a = Shape.normalizeAxis "IndexFill" rank axis
        let n = if x.Rank = 0 then 1 else x.Dims.[a]
        let mask = Array.zeroCreate<float> n
        for i in indices do
            if i < -n || i >= n then
                raise (ArgumentOutOfRangeException("indices", i, sprintf "IndexFill: index %d is out of range for axis %d of %s" i axis (dims x)))
            mask.[if i < 0 then i + n else i] <- 1.0
        let shape = if x.Rank = 0 then [||] else Array.init x.Rank (fun i -> if i = a then n else 1)
        let written = Expr.cast x.DType (Expr.constant (Tensor.FromArray(mask, shape)))
        Expr.where written (Expr.scalar x.DType value) x

    /// fmax's or fmin's choice: a where `aWins`, or where b is NaN (so a NaN loses to a number), b elsewhere. The
    /// derivative goes whole to the chosen side, as torch's (a tie goes to a).
    let private nanIgnoring (aWins: Expr -> Expr -> Expr) (a: Expr) (b: Expr) =
        let picked = Expr.stopGradient (Expr.maximum (aWins a b) (Elementary.isNan b))
        Expr.where picked a b

    /// torch.fmax: the elementwise maximum ignoring NaN (NaN only where both are), broadcasting; a tie's derivative
    /// goes to a.
    let fmax (a: Expr) (b: Expr) = nanIgnoring Expr.ge a b

    /// torch.fmin: the elementwise minimum ignoring NaN, as fmax.
    let fmin (a: Expr) (b: Expr) = nanIgnoring Expr.le a b

    /// torch.isclose: 1 where |a − b| ≤ atol + rtol·|b| with a finite difference, or a = b (equal infinities), or, with
    /// equalNaN, both NaN; 0 elsewhere. A mask: no derivative.
    let isclose (rtol: float) (atol: float) (equalNaN: bool) (a: Expr) (b: Expr) =
        if rtol < 0.0 || Double.IsNaN rtol then raise (ArgumentOutOfRangeException("rtol", rtol, sprintf "IsClose: rtol = %g must be >= 0" rtol))
        if atol < 0.0 || Double.IsNaN atol then raise (ArgumentOutOfRangeException("atol", atol, sprintf "IsClose: atol = %g must be >= 0" atol))
        let difference = Expr.abs (a - b)
        let within = Elementary.isFinite difference * Expr.le difference (atol + rtol * Expr.abs b)
        let close = Expr.maximum (Expr.eq a b) within
        let close = if equalNaN then Expr.maximum close (Elementary.isNan a * Elementary.isNan b) else close
        Expr.stopGradient close

    /// torch.isin: 1 where an entry of `elements` equals some entry of `test` (NaN equals nothing), 0 elsewhere, or
    /// the reverse with `invert`; elements' shape. A mask: no derivative.
    let isin (invert: bool) (elements: Expr) (test: Expr) =
        let found =
            if test.Numel = 0 then Expr.zeros elements.DType elements.Dims
            else
                let column = Expr.reshape (Array.append elements.Dims [| 1 |]) elements
                Expr.maxAxes [| elements.Rank |] false (Expr.eq column (Expr.reshape [| test.Numel |] test))
        Expr.stopGradient (if invert then 1.0 - found else found)
