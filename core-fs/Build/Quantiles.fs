/// torch.quantile and torch.nanquantile: the order statistics of a sorted slice read at each quantile's rank q·(n − 1)
/// (n counting the numbers only, for nanquantile) and interpolated as torch's interpolation mode asks, written as torch
/// computes them (ranks in the input's dtype, a stable argsort, two gathers and lerp), so the gradient goes to the two
/// entries around each rank with lerp's weights, as torch's does through its sort.
namespace FunctionalDiff.Core

/// How torch.quantile reads between the two entries around a rank.
[<RequireQualifiedAccess>]
type QuantileInterpolation =
    /// lerp between them by the rank's fraction (torch's 'linear', its default).
    | Linear
    /// The entry below ('lower').
    | Lower
    /// The entry above ('higher').
    | Higher
    /// Their mean ('midpoint').
    | Midpoint
    /// The entry nearer, the rank rounded half to even ('nearest').
    | Nearest

/// Quantiles over an axis or over all entries, with torch's conventions.
[<RequireQualifiedAccess>]
module Quantiles =

    /// The quantiles q (in [0, 1]) of x along `axis` (all entries, flattened, for None). A scalar q (qIsScalar) gives x's
    /// shape without the axis; a vector of them adds a leading axis, one entry per q, as torch's. keepDims keeps the
    /// reduced axis (every axis for None) as length 1. With ignoreNaN (nanquantile) a slice's NaN entries are left out;
    /// otherwise a slice holding NaN gives NaN. `op` names the public method in errors.
    let internal quantileNamed (op: string) (ignoreNaN: bool) (interpolation: QuantileInterpolation) (q: float[]) (qIsScalar: bool)
                               (axis: int option) (keepDims: bool) (x: Expr) : Expr =
        if isNull q then nullArg "q"
        if qIsScalar && q.Length <> 1 then invalidArg "q" (sprintf "%s: a scalar q is one number, not %d" op q.Length)
        if x.Numel = 0 then Shape.fail op (sprintf "input %s is empty" (Shape.format x.Dims))
        q |> Array.iter (fun v -> if not (v >= 0.0 && v <= 1.0) then Shape.fail op (sprintf "q %g must be in [0, 1]" v))
        let a =
            match axis with
            | None -> 0
            | Some axis -> if x.Rank = 0 then (if axis = 0 || axis = -1 then 0 else Shape.normalizeAxis op 1 axis) else Shape.normalizeAxis op x.Rank axis
        let flat =
            match axis with
            | None -> Expr.reshape [| x.Numel |] x
            | Some _ when x.Rank = 0 -> Expr.reshape [| 1 |] x
            | Some _ -> x
        // the reduced axis last: [..., n]
        let last = flat.Rank - 1
        let xt = if a = last then flat else Structure.movedim a last flat
        let n = xt.Dims.[last]
        let dtype = x.DType
        // torch casts q to the input's dtype and multiplies there
        let inDtype (v: float) = match dtype with DType.Float32 -> float (float32 v) | DType.Float64 -> v
        let qs = Expr.constant (Tensor.FromArray(Array.map inDtype q, [| q.Length |])) |> Expr.cast dtype
        let isNaN = Expr.ne xt xt
        let ranks =
            if ignoreNaN then
                let count = Expr.sumAxes [| last |] true (Expr.eq xt xt)
                let r = qs * (count - Expr.scalar dtype 1.0)
                // a slice of NaN only has rank 0, which reads its first entry, a NaN
                Expr.where (Expr.lt r (Expr.scalar dtype 0.0)) (Expr.scalar dtype 0.0) r
            else
                let anyNaN = Expr.gt (Expr.maxAxes [| last |] true isNaN) (Expr.scalar dtype 0.0)
                // a slice holding NaN reads its last entry, where the stable sort put a NaN
                Expr.where anyNaN (Expr.scalar dtype (float (n - 1))) (qs * Expr.scalar dtype (float (n - 1)))
        let ranks =
            match interpolation with
            | QuantileInterpolation.Lower -> Expr.floor ranks
            | QuantileInterpolation.Higher -> Expr.ceil ranks
            | QuantileInterpolation.Nearest -> Expr.round ranks
            | QuantileInterpolation.Linear | QuantileInterpolation.Midpoint -> ranks
        // the ranks and weights carry no derivative: they depend on x only through counts and NaN tests
        let ranks = Expr.stopGradient (Expr.broadcastTo (Array.append xt.Dims.[.. last - 1] [| q.Length |]) ranks)
        let order = Expr.argsort last false xt
        let entryAt (rank: Expr) = Expr.gather last (Expr.gather last rank order) xt
        let below = Expr.floor ranks
        let values =
            match interpolation with
            | QuantileInterpolation.Linear | QuantileInterpolation.Midpoint ->
                let weights =
                    match interpolation with
                    | QuantileInterpolation.Midpoint -> Expr.broadcastTo ranks.Dims (Expr.scalar dtype 0.5)
                    | _ -> ranks - below
                // under stopGradient, lerp's rule holds the weight's slot at zero (see Elementary.withPackedRule)
                Elementary.lerp (entryAt below) (entryAt (Expr.ceil ranks)) (Expr.stopGradient weights)
            | QuantileInterpolation.Lower | QuantileInterpolation.Higher | QuantileInterpolation.Nearest -> entryAt below
        // [..., Q] to torch's layout: the quantiles' axis first (none for a scalar q), the reduced axis kept as 1 if asked
        let reduced =
            match axis with
            | None -> if keepDims then Array.create x.Rank 1 else [||]
            | Some _ -> if x.Rank = 0 then [||] else Shape.reduced x.Dims [| a |] keepDims
        if qIsScalar then Expr.reshape reduced values
        else Expr.reshape (Array.append [| q.Length |] reduced) (Structure.movedim last 0 values)

    /// torch.quantile with an interpolation mode; see quantileNamed.
    let quantileWith (interpolation: QuantileInterpolation) (q: float[]) (qIsScalar: bool) (axis: int option) (keepDims: bool) (x: Expr) =
        quantileNamed "Quantile" false interpolation q qIsScalar axis keepDims x

    /// torch.nanquantile with an interpolation mode; see quantileNamed.
    let nanquantileWith (interpolation: QuantileInterpolation) (q: float[]) (qIsScalar: bool) (axis: int option) (keepDims: bool) (x: Expr) =
        quantileNamed "NanQuantile" true interpolation q qIsScalar axis keepDims x

    /// torch.quantile with the 'linear' interpolation; see quantileNamed.
    let quantile (q: float[]) (qIsScalar: bool) (axis: int option) (keepDims: bool) (x: Expr) =
        quantileWith QuantileInterpolation.Linear q qIsScalar axis keepDims x

    /// torch.nanquantile with the 'linear' interpolation; see quantileNamed.
    let nanquantile (q: float[]) (qIsScalar: bool) (axis: int option) (keepDims: bool) (x: Expr) =
        nanquantileWith QuantileInterpolation.Linear q qIsScalar axis keepDims x
