/// torch's F.affine_grid and F.grid_sample (two spatial axes): sampling an image at positions that are themselves
/// values of the graph (a spatial transformer's, an optical flow's). Unlike F.interpolate, whose taps are constants,
/// the taps here depend on the grid, so each is a gather at indices computed from the grid (held out of the
/// derivative: an index has none) with bilinear weights that are the grid's own arithmetic; the gradient in the input
/// is gather's scatter-add and the gradient in the grid is the weights' derivative, at every order.
namespace FunctionalDiff.Core

open System

/// How F.grid_sample reads between pixels.
[<RequireQualifiedAccess>]
type GridSampleMode =
    /// The four neighbours, weighted by the position's distance to each (torch's 'bilinear', its default).
    | Bilinear
    /// The nearest pixel, rounding half to even (torch's 'nearest'); the grid's gradient is 0.
    | Nearest

/// What F.grid_sample reads at positions outside the image.
[<RequireQualifiedAccess>]
type GridSamplePadding =
    /// 0 (torch's 'zeros', its default).
    | Zeros
    /// The position clamped to the image, so the nearest border pixel (torch's 'border').
    | Border
    /// The position reflected at the borders until it is inside (torch's 'reflection').
    | Reflection

/// F.affine_grid and F.grid_sample over Expr.
[<RequireQualifiedAccess>]
module GridSampling =

    let private fmt (e: Expr) = Shape.format e.Dims

    /// torch's linspace_from_neg_one: `steps` positions from −1 to 1, pulled in to pixel centres (· (steps − 1)/steps)
    /// without aligned corners; one step is 0.
    let private normalisedPositions (steps: int) (alignCorners: bool) =
        Array.init steps (fun i ->
            if steps <= 1 then 0.0
            else
                let p = -1.0 + 2.0 * float i / float (steps - 1)
                if alignCorners then p else p * float (steps - 1) / float steps)

    /// torch.nn.functional.affine_grid(theta, size, align_corners) for two spatial axes: theta [N, 2, 3] and size
    /// [N, C, H, W] give the grid [N, H, W, 2] whose entry (h, w) is theta · (x_w, y_h, 1), (x, y) the pixel's
    /// normalised position in [−1, 1] (at pixel centres without aligned corners).
    let affineGrid (size: int[]) (alignCorners: bool) (theta: Expr) : Expr =
        let op = "AffineGrid"
        if isNull size then nullArg "size"
        if size.Length <> 4 then
            Shape.fail op (sprintf "size %s must be [N, C, H, W] (two spatial axes)" (Shape.format size))
        if size |> Array.exists (fun d -> d < 1) then Shape.fail op (sprintf "size %s must be positive" (Shape.format size))
        let n, h, w = size.[0], size.[2], size.[3]
        if theta.Rank <> 3 || theta.Dims.[0] <> n || theta.Dims.[1] <> 2 || theta.Dims.[2] <> 3 then
            Shape.fail op (sprintf "theta %s must be [N, 2, 3] with N = %d from size %s" (fmt theta) n (Shape.format size))
        let xs, ys = normalisedPositions w alignCorners, normalisedPositions h alignCorners
        let basis = Array.init (h * w * 3) (fun k -> match k % 3 with 0 -> xs.[(k / 3) % w] | 1 -> ys.[k / 3 / w] | _ -> 1.0)
        let basis = Expr.constant (Tensor.FromArray(basis, [| 1; h * w; 3 |])) |> Expr.cast theta.DType
        // [1, HW, 3] · θᵀ [N, 3, 2] = [N, HW, 2]
        Expr.matmul (Expr.broadcastTo [| n; h * w; 3 |] basis) (Expr.swapAxes 1 2 theta) |> Expr.reshape [| n; h; w; 2 |]

    /// torch's grid_sampler_unnormalize: the pixel coordinate of a normalised one along an axis of `size` pixels.
    let private unnormalise (size: int) (alignCorners: bool) (coordinate: Expr) =
        let s = float size
        if alignCorners then (coordinate + 1.0) * (0.5 * (s - 1.0))
        else ((coordinate + 1.0) * s - 1.0) * 0.5

    /// torch's clip_coordinates: into [0, size − 1], with no derivative where clipped (a where, not min/max, whose
    /// ties would share it).
    let private clip (size: int) (coordinate: Expr) =
        let zero, last = Expr.scalar coordinate.DType 0.0, Expr.scalar coordinate.DType (float (size - 1))
        Expr.where (Expr.le coordinate zero) zero (Expr.where (Expr.ge coordinate last) last coordinate)

    /// torch's reflect_coordinates over [low, high] given doubled (so half pixels are whole numbers): the coordinate's
    /// distance past low, folded back at each end.
    let private reflect (twiceLow: int) (twiceHigh: int) (coordinate: Expr) =
        if twiceLow = twiceHigh then Expr.zerosLike coordinate
        else
            let low = float twiceLow / 2.0
            let span = float (twiceHigh - twiceLow) / 2.0
            let distance = Expr.abs (coordinate - low)
            let extra = Expr.fmod distance (Expr.scalar coordinate.DType span)
            let flips = Expr.floor (distance / span)
            let even = Expr.eq (Expr.fmod flips (Expr.scalar coordinate.DType 2.0)) (Expr.scalar coordinate.DType 0.0)
            Expr.where even (extra + low) (span - extra + low)

    /// torch's grid_sampler_compute_source_index: the pixel coordinate a normalised grid coordinate reads.
    let private sourceIndex (padding: GridSamplePadding) (alignCorners: bool) (size: int) (coordinate: Expr) =
        let c = unnormalise size alignCorners coordinate
        match padding with
        | GridSamplePadding.Zeros -> c
        | GridSamplePadding.Border -> clip size c
        | GridSamplePadding.Reflection ->
            clip size (if alignCorners then reflect 0 (2 * (size - 1)) c else reflect -1 (2 * size - 1) c)

    /// torch.nn.functional.grid_sample(input, grid, mode, padding_mode, align_corners) for two spatial axes: input
    /// [N, C, H, W] and grid [N, Ho, Wo, 2] (x, then y, each normalised to [−1, 1] across the image) give
    /// [N, C, Ho, Wo], entry (h, w) the input read at grid[n, h, w]. Bilinear reads the four pixels around the
    /// position, each weighted by the area opposite it, a pixel outside the image counting 0 (Zeros) or the position
    /// first brought inside (Border, Reflection); Nearest reads the nearest pixel.
    let gridSample (mode: GridSampleMode) (padding: GridSamplePadding) (alignCorners: bool) (input: Expr) (grid: Expr) : Expr =
        let op = "GridSample"
        if input.Rank <> 4 then
            Shape.fail op (sprintf "input %s must be [N, C, H, W] (two spatial axes)" (fmt input))
        if grid.Rank <> 4 || grid.Dims.[3] <> 2 || grid.Dims.[0] <> input.Dims.[0] then
            Shape.fail op (sprintf "grid %s must be [N, H_out, W_out, 2] with N = %d from input %s" (fmt grid) input.Dims.[0] (fmt input))
        if grid.DType <> input.DType then
            Shape.fail op (sprintf "grid is %O where input %s is %O; they need one dtype" grid.DType (fmt input) input.DType)
        let n, c, h, w = input.Dims.[0], input.Dims.[1], input.Dims.[2], input.Dims.[3]
        let ho, wo = grid.Dims.[1], grid.Dims.[2]
        let points = ho * wo
        let dtype = input.DType
        let coordinate (k: int) = Expr.sliceAxis 3 k (k + 1) grid |> Expr.reshape [| n; 1; points |]
        let x = sourceIndex padding alignCorners w (coordinate 0)
        let y = sourceIndex padding alignCorners h (coordinate 1)
        let flat = Expr.reshape [| n; c; h * w |] input
        // The input at whole pixel coordinates (px, py) [N, 1, P] times the tap's weight, 0 where the tap is outside the
        // image (torch adds nothing for it). The index is taken only inside (0 elsewhere, also for a NaN position), and
        // both the read and the product are dropped by a where, not a product with a 0/1 mask: an infinite pixel read
        // at the stand-in index, or an infinite weight, would otherwise give 0·∞ = NaN in the value or its derivative.
        let tap (px: Expr) (py: Expr) (weight: Expr option) =
            let inside =
                Expr.mul (Expr.mul (Expr.ge px (Expr.scalar dtype 0.0)) (Expr.le px (Expr.scalar dtype (float (w - 1)))))
                         (Expr.mul (Expr.ge py (Expr.scalar dtype 0.0)) (Expr.le py (Expr.scalar dtype (float (h - 1)))))
            let index = Expr.stopGradient (Expr.where inside (py * float w + px) (Expr.zerosLike px))
            let inside = Expr.broadcastTo [| n; c; points |] inside
            let read = Expr.gather 2 (Expr.broadcastTo [| n; c; points |] index) flat
            let read = Expr.where inside read (Expr.zerosLike read)
            match weight with
            | Some weight -> Expr.where inside (read * weight) (Expr.zerosLike read)
            | None -> read
        let sampled =
            match mode with
            | GridSampleMode.Nearest ->
                // the position itself never reaches the result: a nearest read has no derivative in the grid
                tap (Expr.stopGradient (Expr.round x)) (Expr.stopGradient (Expr.round y)) None
            | GridSampleMode.Bilinear ->
                let west, north = Expr.stopGradient (Expr.floor x), Expr.stopGradient (Expr.floor y)
                let east, south = west + 1.0, north + 1.0
                // torch's weights, summed in its order: each corner's is the area of the rectangle between the position
                // and the opposite corner
                tap west north (Some((east - x) * (south - y))) + tap east north (Some((x - west) * (south - y)))
                + tap west south (Some((east - x) * (y - north))) + tap east south (Some((x - west) * (y - north)))
        Expr.reshape [| n; c; ho; wo |] sampled
