/// torch.nn.functional's vector utilities and padding modes, as composites of primitives (so their
/// derivatives of every order follow from the primitives' rules): normalize, cosine_similarity,
/// pairwise_distance and F.pad's constant, reflect, replicate and circular modes.
namespace FunctionalDiff.Core

/// The modes of torch's F.pad.
[<RequireQualifiedAccess>]
type PadMode =
    /// A constant value outside the input.
    | Constant
    /// The input mirrored about its edge entries, which are not repeated ([1 2 3] padded by 2: [3 2 1 2 3 2 1]).
    | Reflect
    /// The edge entries repeated ([1 2 3] padded by 2: [1 1 1 2 3 3 3]).
    | Replicate
    /// The input wrapped around ([1 2 3] padded by 2: [2 3 1 2 3 1 2]).
    | Circular

/// torch.nn.functional's normalize, cosine_similarity, pairwise_distance, pad and kl_div.
[<RequireQualifiedAccess>]
module Functional =

    let private clampBelow (eps: float) (x: Expr) = Expr.maximum x (Expr.scalar x.DType eps)

    /// torch's F.normalize: x / max(‖x‖_p, ε) along the axis, so every slice has p-norm 1 (a slice whose norm
    /// is below ε is divided by ε instead). The gradient of the max goes to the norm where the norm is above ε.
    let normalize (p: float) (axis: int) (eps: float) (x: Expr) =
        let axis = Shape.normalizeAxis "Normalize" x.Rank axis
        x / clampBelow eps (Statistics.norm p [| axis |] true x)

    /// torch's F.cosine_similarity: Σ (a / max(‖a‖₂, ε)) · (b / max(‖b‖₂, ε)) along the axis, a and b broadcast
    /// against each other first; the axis is removed. torch divides each input by its norm before the product,
    /// which keeps the result in [−1, 1]; so does this.
    let cosineSimilarity (axis: int) (eps: float) (a: Expr) (b: Expr) =
        let shape = Shape.broadcast "CosineSimilarity" a.Dims b.Dims
        let a, b = Expr.broadcastTo shape a, Expr.broadcastTo shape b
        let axis = Shape.normalizeAxis "CosineSimilarity" shape.Length axis
        let unit (x: Expr) = x / clampBelow eps (Statistics.norm 2.0 [| axis |] true x)
        Expr.sumAxes [| axis |] false (unit a * unit b)

    /// torch's F.pairwise_distance: ‖a − b + ε‖_p along the last axis (ε added to every difference, as torch
    /// does, so equal rows are ε·n^(1/p) apart and the gradient is defined there), a and b broadcast.
    let pairwiseDistance (p: float) (eps: float) (keepDims: bool) (a: Expr) (b: Expr) =
        let shape = Shape.broadcast "PairwiseDistance" a.Dims b.Dims
        let difference = Expr.broadcastTo shape a - Expr.broadcastTo shape b
        if difference.Rank = 0 then
            Shape.fail "PairwiseDistance" (sprintf "x1 %s and x2 %s need at least one axis" (Shape.format a.Dims) (Shape.format b.Dims))
        Statistics.norm p [| difference.Rank - 1 |] keepDims (difference + eps)

    /// torch's triplet_margin_loss element by element (reduction 'none'): max(margin + d(a, p) − d(a, n), 0) per
    /// example, d being pairwise_distance with its eps (so an anchor equal to its positive is eps·n^(1/p) away, with a
    /// finite gradient), and with `swap` the negative's distance the smaller of d(a, n) and d(p, n). The clamp passes
    /// the gradient at 0 itself, as torch's clamp_min. The three inputs have one rank, as torch asks.
    let tripletMarginLossElements (margin: float) (p: float) (eps: float) (swap: bool) (anchor: Expr) (positive: Expr) (negative: Expr) =
        if anchor.Rank <> positive.Rank || anchor.Rank <> negative.Rank || anchor.Rank = 0 then
            Shape.fail "TripletMarginLoss"
                (sprintf "anchor %s, positive %s and negative %s need one rank of at least 1" (Shape.format anchor.Dims)
                     (Shape.format positive.Dims) (Shape.format negative.Dims))
        // the three are inputs: float32 with float64 gives float64, as any elementwise op here
        let distance (a: Expr) (b: Expr) = pairwiseDistance p eps false a b
        let toNegative =
            if swap then Expr.minimum (distance anchor negative) (distance positive negative) else distance anchor negative
        Activations.clamp (Some 0.0) None (margin + distance anchor positive - toNegative)

    /// torch's cosine_embedding_loss element by element (reduction 'none'): per row of x1 and x2 (along the last axis),
    /// 1 − cos where the target is 1 and max(cos − margin, 0) where it is −1 (0 for any other target, as torch's where),
    /// with torch's cos = x1·x2 / √((‖x1‖² + 1e-12)(‖x2‖² + 1e-12)), finite at a zero row. The target has one entry per row.
    let cosineEmbeddingLossElements (margin: float) (x1: Expr) (x2: Expr) (target: Expr) =
        let shape = Shape.broadcast "CosineEmbeddingLoss" x1.Dims x2.Dims
        if shape.Length = 0 || not (Ir.sameDims target.Dims shape.[.. shape.Length - 2]) then
            Shape.fail "CosineEmbeddingLoss"
                (sprintf "input1 %s and input2 %s need rows along their last axis and target %s one entry per row"
                     (Shape.format x1.Dims) (Shape.format x2.Dims) (Shape.format target.Dims))
        // the inputs promote together as any elementwise op; the labels take their dtype, as a loss's target does
        let last = [| shape.Length - 1 |]
        let squares (x: Expr) = Expr.sumAxes last false (x * x) + Expr.scalar x.DType 1e-12
        let cos = Expr.sumAxes last false (x1 * x2) / Expr.sqrt (squares x1 * squares x2)
        let target = Expr.cast cos.DType target
        let zero = Expr.scalar cos.DType 0.0
        let similar = Expr.where (Expr.eq target (Expr.scalar cos.DType 1.0)) (1.0 - cos) zero
        let dissimilar = Expr.where (Expr.eq target (Expr.scalar cos.DType -1.0)) (Activations.clamp (Some 0.0) None (cos - margin)) zero
        similar + dissimilar

    /// torch's margin_ranking_loss element by element (reduction 'none'): max(−target·(x1 − x2) + margin, 0), the three
    /// broadcast together; the gradient passes where the hinge is exactly 0, as torch's clamp_min.
    let marginRankingLossElements (margin: float) (x1: Expr) (x2: Expr) (target: Expr) =
        Shape.broadcastMany "MarginRankingLoss" [ x1.Dims; x2.Dims; target.Dims ] |> ignore
        // the inputs promote together; the labels take their dtype, as a loss's target does
        let difference = x1 - x2
        Activations.clamp (Some 0.0) None (margin - Expr.cast difference.DType target * difference)

    /// torch.nn.functional.bilinear: y[..., o] = Σᵢⱼ x1[..., i]·weight[o, i, j]·x2[..., j] + bias[o], weight [out, in1, in2],
    /// x1 [..., in1] and x2 [..., in2] with the same leading dimensions, bias [out] or a scalar (−0 for none). One matmul
    /// of x1 against the weight's (i, o·j) layout, then each output's dot product with x2, as torch's trilinear does.
    let bilinear (weight: Expr) (bias: Expr) (x1: Expr) (x2: Expr) =
        let fmt = Shape.format
        if weight.Rank <> 3 then Shape.fail "Bilinear" (sprintf "weight %s must be [out_features, in1_features, in2_features]" (fmt weight.Dims))
        let outputs, in1, in2 = weight.Dims.[0], weight.Dims.[1], weight.Dims.[2]
        if x1.Rank < 1 || x2.Rank <> x1.Rank || x1.Dims.[x1.Rank - 1] <> in1 || x2.Dims.[x2.Rank - 1] <> in2
           || not (Ir.sameDims x1.Dims.[.. x1.Rank - 2] x2.Dims.[.. x2.Rank - 2]) then
            Shape.fail "Bilinear" (sprintf "input1 %s and input2 %s must be [..., %d] and [..., %d] with the same leading dimensions (weight %s)"
                                       (fmt x1.Dims) (fmt x2.Dims) in1 in2 (fmt weight.Dims))
        if not (bias.Rank = 0 || Ir.sameDims bias.Dims [| outputs |]) then
            Shape.fail "Bilinear" (sprintf "bias %s must be [%d], one per output of weight %s" (fmt bias.Dims) outputs (fmt weight.Dims))
        let lead = x1.Dims.[.. x1.Rank - 2]
        let rows = Shape.numel lead
        let a = Expr.reshape [| rows; in1 |] x1
        let b = Expr.reshape [| rows; 1; in2 |] x2
        let w = Expr.permute [| 1; 0; 2 |] weight |> Expr.reshape [| in1; outputs * in2 |]
        let y = Expr.sumAxes [| 2 |] false (Expr.reshape [| rows; outputs; in2 |] (Expr.matmul a w) * b)
        Expr.reshape (Array.append lead [| outputs |]) y + bias

    /// torch's soft_margin_loss element by element (reduction 'none'): log(1 + exp(−target·x)), the two broadcast
    /// together, as the softplus of −target·x: where torch's log1p(exp(·)) overflows to +∞ (−target·x past the exponent's
    /// range), this is the finite −target·x with the slope −target, where torch's is +∞ with a NaN slope.
    let softMarginLossElements (x: Expr) (target: Expr) =
        Shape.broadcastMany "SoftMarginLoss" [ x.Dims; target.Dims ] |> ignore
        Expr.softplus (-(Expr.cast x.DType target * x))

    /// torch's hinge_embedding_loss element by element (reduction 'none'): x where the target is 1, max(0, margin − x)
    /// where it is −1, written as torch's sum of two wheres (so any other target takes both terms); the hinge passes
    /// its gradient where it is exactly 0, as torch's clamp_min.
    let hingeEmbeddingLossElements (margin: float) (x: Expr) (target: Expr) =
        Shape.broadcastMany "HingeEmbeddingLoss" [ x.Dims; target.Dims ] |> ignore
        let target = Expr.cast x.DType target
        let zero = Expr.scalar x.DType 0.0
        let hinge = Expr.where (Expr.ne target (Expr.scalar x.DType 1.0)) (Activations.clamp (Some 0.0) None (margin - x)) zero
        hinge + Expr.where (Expr.ne target (Expr.scalar x.DType -1.0)) x zero

    /// The rows of a per-class loss: [N, C] as it is, an unbatched [C] as one row; `op` names the public method.
    let private classRows (op: string) (x: Expr) =
        match x.Rank with
        | 2 -> x
        | 1 -> Expr.reshape [| 1; x.Dims.[0] |] x
        | _ -> Shape.fail op (sprintf "input %s must be [N, C] or [C]" (Shape.format x.Dims))

    /// torch's multilabel_soft_margin_loss per sample (reduction 'none'): the mean over the C classes of
    /// −(y·log σ(x) + (1 − y)·log σ(−x)), each class's term times weight ([C], or a scalar 1 for none) first. input
    /// [N, C] gives [N]; an unbatched [C] gives a scalar.
    let multilabelSoftMarginLossElements (weight: Expr) (x: Expr) (target: Expr) =
        let op = "MultiLabelSoftMarginLoss"
        if not (Ir.sameDims x.Dims target.Dims) then
            Shape.fail op (sprintf "target %s must have the input's shape %s" (Shape.format target.Dims) (Shape.format x.Dims))
        let rows = classRows op x
        let classes = rows.Dims.[1]
        if weight.Rank <> 0 && not (Ir.sameDims weight.Dims [| classes |]) then
            Shape.fail op (sprintf "weight %s must be [%d], one per class of input %s" (Shape.format weight.Dims) classes (Shape.format x.Dims))
        let y = Expr.cast x.DType (Expr.reshape rows.Dims target)
        let terms = -(y * Activations.logSigmoid rows + (1.0 - y) * Activations.logSigmoid (-rows)) * weight
        let perSample = Expr.sumAxes [| 1 |] false terms / Expr.scalar x.DType (float classes)
        if x.Rank = 1 then Expr.reshape [||] perSample else perSample

    /// torch's multi_margin_loss per sample (reduction 'none'): for the row of sample i with target class t,
    /// Σ over j ≠ t of weight[t]·max(0, margin − x[t] + x[j])^p, over C; p is 1 or 2, weight [C] or a scalar 1 for none.
    /// A hinge at exactly 0 passes no gradient, as torch's kernel (which adds only where the hinge is positive).
    let multiMarginLossElements (p: int) (margin: float) (weight: Expr) (x: Expr) (targets: int[]) =
        let op = "MultiMarginLoss"
        if isNull targets then nullArg "targets"
        if p <> 1 && p <> 2 then Shape.fail op (sprintf "p %d must be 1 or 2, as torch's" p)
        let rows = classRows op x
        let n, classes = rows.Dims.[0], rows.Dims.[1]
        if targets.Length <> n then
            Shape.fail op (sprintf "targets has %d entries but input %s has %d samples" targets.Length (Shape.format x.Dims) n)
        targets |> Array.iteri (fun i t ->
            if t < 0 || t >= classes then Shape.fail op (sprintf "target %d (entry %d) is not a class of input %s, which has %d" t i (Shape.format x.Dims) classes))
        if weight.Rank <> 0 && not (Ir.sameDims weight.Dims [| classes |]) then
            Shape.fail op (sprintf "weight %s must be [%d], one per class of input %s" (Shape.format weight.Dims) classes (Shape.format x.Dims))
        let index = Expr.constant (Tensor.FromArray(Array.map float targets, [| n; 1 |])) |> Expr.cast x.DType
        let chosen = Expr.gather 1 index rows
        let classIds = Expr.constant (Tensor.FromArray(Array.init classes float, [| 1; classes |])) |> Expr.cast x.DType
        // the target's own column is no term: it is masked before the hinge, so its margin − x[t] + x[t] (NaN at an
        // infinite or NaN x[t]) meets only the mask's zero cotangent, not the hinge's slope 2·z (0·NaN)
        let z = Expr.where (Expr.eq classIds index) (Expr.scalar x.DType 0.0) (margin - chosen + rows)
        let hinge = Expr.relu z
        let others = if p = 1 then hinge else Expr.square hinge
        let weighted =
            if weight.Rank = 0 then others * weight
            else others * Expr.reshape [| n; 1 |] (Indexing.indexSelect 0 (Expr.reshape [| n |] index) weight)
        let perSample = Expr.sumAxes [| 1 |] false weighted / Expr.scalar x.DType (float classes)
        if x.Rank = 1 then Expr.reshape [||] perSample else perSample

    /// torch's multilabel_margin_loss per sample (reduction 'none'): each row of `targets` (the input's shape, flattened)
    /// lists class indices up to the first −1; for each listed class t and each class j not listed,
    /// max(0, 1 − x[t] + x[j]), summed and divided by C (a class listed twice counts twice, as in torch's loop). A hinge
    /// at exactly 0 passes no gradient, as torch's kernel. input [N, C] gives [N]; an unbatched [C] gives a scalar.
    let multilabelMarginLossElements (x: Expr) (targets: int[]) =
        let op = "MultiLabelMarginLoss"
        if isNull targets then nullArg "targets"
        let rows = classRows op x
        let n, classes = rows.Dims.[0], rows.Dims.[1]
        if targets.Length <> n * classes then
            Shape.fail op (sprintf "targets has %d entries; it must have the input's shape %s (%d)" targets.Length (Shape.format x.Dims) (n * classes))
        // count.[i, t]: how often row i lists class t before its first −1
        let count = Array.zeroCreate<float> (n * classes)
        for i in 0 .. n - 1 do
            let mutable k = 0
            while k < classes && targets.[i * classes + k] <> -1 do
                let t = targets.[i * classes + k]
                if t < 0 || t >= classes then
                    Shape.fail op (sprintf "target %d (row %d, entry %d) is not a class of input %s, which has %d (a row ends at -1)" t i k (Shape.format x.Dims) classes)
                count.[i * classes + t] <- count.[i * classes + t] + 1.0
                k <- k + 1
        let listed = Expr.constant (Tensor.FromArray(count, [| n; classes; 1 |])) |> Expr.cast x.DType
        let unlisted = Expr.constant (Tensor.FromArray(count |> Array.map (fun c -> if c > 0.0 then 0.0 else 1.0), [| n; 1; classes |])) |> Expr.cast x.DType
        let hinges = Expr.relu (1.0 - Expr.reshape [| n; classes; 1 |] rows + Expr.reshape [| n; 1; classes |] rows)
        let perSample = Expr.sumAxes [| 1; 2 |] false (hinges * listed * unlisted) / Expr.scalar x.DType (float classes)
        if x.Rank = 1 then Expr.reshape [||] perSample else perSample

    /// torch's triplet_margin_with_distance_loss element by element (reduction 'none'): max(margin + d(a, p) − d(a, n), 0)
    /// with the caller's distance d, and with `swap` the negative's distance the smaller of d(a, n) and d(p, n). The
    /// margin must be positive, as torch asks.
    let tripletMarginWithDistanceLossElements (distance: System.Func<Expr, Expr, Expr>) (margin: float) (swap: bool) (anchor: Expr) (positive: Expr) (negative: Expr) =
        if isNull distance then nullArg "distance"
        if not (margin > 0.0) then
            raise (System.ArgumentOutOfRangeException("margin", margin, sprintf "TripletMarginWithDistanceLoss: margin = %g must be > 0" margin))
        let toPositive = distance.Invoke(anchor, positive)
        let toNegative = distance.Invoke(anchor, negative)
        let toNegative = if swap then Expr.minimum toNegative (distance.Invoke(positive, negative)) else toNegative
        Activations.clamp (Some 0.0) None (margin + toPositive - toNegative)

    /// One axis of a pad in a mode other than Constant: the entries before and after come from x itself, built
    /// only when their count is positive (a slice of none would be an empty node in every graph).
    let private padAxis (mode: PadMode) (axis: int) (before: int) (after: int) (x: Expr) =
        let n = x.Dims.[axis]
        let name, limit, limitText =
            match mode with
            | PadMode.Reflect -> "reflect", n - 1, "below the axis's size"
            | PadMode.Replicate -> "replicate", System.Int32.MaxValue, ""
            | PadMode.Circular -> "circular", n, "at most the axis's size"
            | PadMode.Constant -> "constant", System.Int32.MaxValue, ""
        if before < 0 || after < 0 then
            Shape.fail "Pad" (sprintf "%s padding of axis %d of %s takes no negative amounts, got (%d, %d)" name axis (Shape.format x.Dims) before after)
        if n = 0 && before + after > 0 then
            Shape.fail "Pad" (sprintf "%s padding of the empty axis %d of %s has nothing to copy" name axis (Shape.format x.Dims))
        if before > limit || after > limit then
            Shape.fail "Pad" (sprintf "%s padding (%d, %d) of axis %d of %s must be %s (%d)" name before after axis (Shape.format x.Dims) limitText n)
        let part (start: int) (stop: int) = Expr.sliceAxis axis start stop x
        let edges =
            match mode with
            | PadMode.Reflect -> (fun () -> Expr.flip [| axis |] (part 1 (before + 1))), (fun () -> Expr.flip [| axis |] (part (n - 1 - after) (n - 1)))
            | PadMode.Replicate ->
                let repeated (start: int) (count: int) =
                    let edge = part start (start + 1)
                    Expr.broadcastTo (Array.mapi (fun i d -> if i = axis then count else d) edge.Dims) edge
                (fun () -> repeated 0 before), (fun () -> repeated (n - 1) after)
            | PadMode.Circular -> (fun () -> part (n - before) n), (fun () -> part 0 after)
            | PadMode.Constant -> invalidOp "constant padding copies no entries; Functional.pad builds it with Expr.pad"
        let first, last = edges
        if before = 0 && after = 0 then x
        else Expr.concat axis [ if before > 0 then first ()
                                x
                                if after > 0 then last () ]

    /// F.pad over every axis: before.[i] entries ahead of axis i and after.[i] behind it. Constant fills with
    /// `value` (and crops where an amount is negative, as torch); the other modes copy entries of x, so the
    /// gradient of a padded entry goes back to the entry it copies.
    let pad (mode: PadMode) (value: float) (before: int[]) (after: int[]) (x: Expr) =
        if before.Length <> x.Rank || after.Length <> x.Rank then
            Shape.fail "Pad" (sprintf "needs one amount before and after each axis of %s, got %d and %d" (Shape.format x.Dims) before.Length after.Length)
        match mode with
        | PadMode.Constant ->
            let padded = Expr.pad before after x
            if value = 0.0 then padded
            else
                // where, not padded + value·mask: the entries of x keep their bits
                let inside = Expr.pad before after (Expr.ones x.DType x.Dims)
                Expr.where (Expr.gt inside (Expr.scalar x.DType 0.5)) padded (Expr.scalar x.DType value)
        | PadMode.Reflect | PadMode.Replicate | PadMode.Circular ->
            let mutable result = x
            for axis in x.Rank - 1 .. -1 .. 0 do
                result <- padAxis mode axis before.[axis] after.[axis] result
            result

    /// The rule of p·log p (xlogy(p, p)): g·(log p + 1), one factor, its closed form at every p >= 0, so −∞ at p = 0
    /// (the one-sided slope, as √'s +∞ at 0) and +∞ at p = +∞; NaN below 0 and at NaN, where the function is NaN.
    /// Registered once; the module keeps it alive.
    let private selfXlogyRule = CustomRules.register "kl_div target" (fun p g -> g * (Expr.log p + 1.0))

    /// p·log p with torch's value (xlogy(p, p): 0 at p = 0) and the derivative log p + 1 in both modes and at every
    /// order (its own rule, selfXlogyRule; the second derivative 1/p follows from log's rule). Through xlogy's two
    /// operands the derivative was log p, masked to 0 at p = 0, plus p/p, whose 0/0 at p = 0 met the where's masked
    /// cotangent in reverse mode only: the gradient was NaN where the JVP was 0 (`fuzz all 1/249`, `all 2/219`,
    /// `all 2/624`: kl_div at a target exactly 0). Torch's xlogy rule gives NaN there in both modes
    /// (the fuzzer's convention "KlDiv at a target 0 or +∞").
    let private selfXlogy (p: Expr) = Expr.custom selfXlogyRule p (Elementary.xlogy p p)

    /// torch's kl_div element by element (reduction 'none'): the input holds log-probabilities log q,
    /// the target probabilities p, and each entry is p·(log p − log q), written as torch writes it,
    /// xlogy(p, p) − p·log q, so an entry with p = 0 is 0 (and passes log q no gradient); its slope in
    /// p is log p + 1 − log q, −∞ at p = 0 (see selfXlogy); with `logTarget` the target holds log p
    /// and the entry is e^(log p)·(log p − log q). Input and target have one shape.
    let klDivElements (logTarget: bool) (input: Expr) (target: Expr) =
        if not (Ir.sameDims input.Dims target.Dims) then
            Shape.fail "KlDiv"
                (sprintf "input of shape %s and target of shape %s differ; a loss needs equal shapes and does not broadcast"
                     (Shape.format input.Dims) (Shape.format target.Dims))
        let target = Expr.cast input.DType target
        if logTarget then Expr.exp target * (target - input)
        else selfXlogy target - target * input

    /// torch's poisson_nll_loss element by element (reduction 'none'): with `logInput` the input is the
    /// log of the rate and the entry is e^input − target·input; otherwise the input is the rate and the
    /// entry is input − target·log(input + eps). `full` adds Stirling's approximation of log(target!),
    /// target·log target − target + ½ log(2π·target), where target > 1 (0 elsewhere, as torch's mask).
    /// The approximation is taken at max(target, 1) and masked, so a target of 0 passes the target a
    /// zero gradient where torch's masked 0·log 0 gives NaN. Input and target broadcast together, as
    /// torch's do (its poisson_nll_loss is elementwise arithmetic and, unlike mse_loss, neither refuses
    /// nor warns), so the entries have the broadcast shape.
    let poissonNllLossElements (logInput: bool) (full: bool) (eps: float) (input: Expr) (target: Expr) =
        // fails, naming the loss and both shapes, when they do not broadcast
        Shape.broadcast "PoissonNllLoss" input.Dims target.Dims |> ignore
        if not (eps >= 0.0) then invalidArg "eps" (sprintf "PoissonNllLoss: eps = %g must be at least 0" eps)
        let target = Expr.cast input.DType target
        let loss =
            if logInput then Expr.exp input - target * input
            else input - target * Expr.log (input + Expr.scalar input.DType eps)
        if full then
            let one = Expr.scalar input.DType 1.0
            let above = Expr.gt target one
            let safe = Expr.where above target one
            let stirling = safe * Expr.log safe - safe + 0.5 * Expr.log ((2.0 * System.Math.PI) * safe)
            loss + Expr.where above stirling (Expr.scalar input.DType 0.0)
        else loss
