/// Composite operations built from primitives: activations, normalisations and losses. They have
/// no rules of their own; their derivatives follow from the primitives they are made of. Softmax
/// and log-softmax are the exception: each is one primitive with a fused rule (Rules.fs), and
/// here only adds torch's edge cases.
namespace FunctionalDiff.Core

open System

/// Neural-network building blocks over Expr, with torch's conventions.
[<RequireQualifiedAccess>]
module Nn =

    /// True when some of the axes has length 0 (a reduction over nothing).
    let private overEmpty (name: string) (axes: int[]) (x: Expr) =
        Shape.normalizeAxes name x.Rank axes |> Array.exists (fun a -> x.Dims.[a] = 0)

    /// log(sum(exp x)) over axes, stable, with torch's semantics at the edges: a maximum that
    /// is ±inf is not subtracted (inf - inf would be NaN), so all -inf gives -inf and a +inf
    /// entry gives +inf; an empty axis gives -inf (the log of an empty sum), a constant: it is a
    /// function of no numbers, so its derivative is the zero map, where log of the sum would give
    /// d(sum)/sum = 0/0 = NaN in forward mode.
    let rec logSumExp (axes: int[]) (keepDims: bool) (x: Expr) =
        if Shape.isScalarAxes x.Rank axes then logSumExp [| 0 |] false (Expr.reshape [| 1 |] x) else
        let axes = Shape.normalizeAxes "LogSumExp" x.Rank axes
        if overEmpty "LogSumExp" axes x then Expr.full x.DType (Shape.reduced x.Dims axes keepDims) Double.NegativeInfinity
        // Over one entry per result logsumexp is the identity, so it is x itself: slope 1 everywhere. The
        // general form's slope e^(x − shift)/Σ is e^−∞/e^−∞ = 0/0 = NaN at x = −∞, which a zero cotangent
        // then carried into every second derivative of a product over it (`fuzz 4/1064`: the prod of a diagonal
        // embedding of exp(logsumexp x) over an axis of length 1 at x = [−∞, 0]). The value is the same: ±∞
        // and NaN stay themselves, as torch's.
        elif axes |> Array.forall (fun a -> x.Dims.[a] = 1) then
            if keepDims then x else Expr.reshape (Shape.reduced x.Dims axes false) x
        else
            let infinity = Expr.scalar x.DType Double.PositiveInfinity
            let isFinite (e: Expr) = Expr.lt (Expr.abs e) infinity
            let maximum = Expr.maxAxes axes true x
            // Beside a +inf the finite entries are shifted by the largest of them (0 if there is none):
            // unshifted, e^x of a finite entry above 709 (88 in float32) overflowed, and its derivative
            // e^x / Σ was ∞/∞ = NaN where it is 0, torch's e^(x − ∞) (`fuzz adversarial 9/109`: over
            // [0, 10000, ∞]). The sum is +inf either way, and so is the value.
            let largestFinite = Expr.maxAxes axes true (Expr.where (isFinite x) x (-infinity))
            let fallback = Expr.where (isFinite largestFinite) largestFinite (Expr.scalar x.DType 0.0)
            let shift = Expr.stopGradient (Expr.where (isFinite maximum) maximum fallback)
            let summed = Expr.sumAxes axes true (Expr.exp (x - shift))
            let result = Expr.log summed + shift
            if keepDims then result else Expr.reshape (Shape.reduced x.Dims axes false) result

    /// Softmax along one axis, stable, as torch: x - max(x) before exp (so a row holding +inf,
    /// or only -inf, is NaN as in torch), and an empty axis gives the empty result. It is one
    /// primitive (its kernel and its rule: Expr.softmax, Rules.fs).
    /// Over an axis of length 1 it is exp(x - x): 1 where x is finite, NaN where it is not, the value
    /// of torch's exp(x - max) / sum. Where x is finite, x is held (stopGradient) there: the function is the
    /// constant 1, whose derivative is the zero map. Unheld, its derivatives were differences of one
    /// cotangent, g·y − g·y, exact while they stay one node; the Hessian's batched forward pass evaluated
    /// their terms beside the others, where a term of 1e12 (a tangent ẋ/eps) met one of 0.45 and rounded it
    /// by about ulp(1e12) (`fuzz 24/1063`: u·(min x − softmin(normalize(x)₀))·normalize(x)₀ at x = 0, whose
    /// Hessian entry u/eps was 5.4e-5 relative off in float64 and 2× off in float32). At ±∞ and NaN the
    /// difference x − x is kept, so the derivative there stays the unsimplified graph's NaN.
    let rec softmax (axis: int) (x: Expr) =
        if Shape.isScalarAxes x.Rank [| axis |] then Expr.reshape [||] (softmax 0 (Expr.reshape [| 1 |] x)) else
        let axis = Shape.normalizeAxis "Softmax" x.Rank axis
        if x.Dims.[axis] = 1 then
            let held = Expr.stopGradient x
            let finite = Expr.lt (Expr.abs x) (Expr.scalar x.DType infinity)
            Expr.exp (Expr.where finite (held - held) (x - x))
        else Expr.softmax axis x

    /// log(softmax x) along one axis, stable, as torch: (x - max) - log(sum(exp(x - max))), one
    /// primitive (Expr.logSoftmax).
    /// Over an axis of length 1 it is x - x: 0 where x is finite, NaN where it is not, as torch's
    /// formula. Written so, each derivative is a difference of the same cotangent, exactly 0. The general
    /// form's derivative is x's cotangent minus softmax times the same, and its second derivative spreads
    /// into products with the input's other cotangents that cancel only after those are summed, where they
    /// absorbed a small one (the Hessian of Σ v·logSoftmax v + log(16 + Σ v) was 1e-7 off, fuzz 3/197).
    let rec logSoftmax (axis: int) (x: Expr) =
        if Shape.isScalarAxes x.Rank [| axis |] then Expr.reshape [||] (logSoftmax 0 (Expr.reshape [| 1 |] x)) else
        let axis = Shape.normalizeAxis "LogSoftmax" x.Rank axis
        if x.Dims.[axis] = 1 then x - x
        else Expr.logSoftmax axis x

    /// log(1 + e^x), as torch's F.softplus (beta 1), without its threshold: torch returns x itself
    /// above x = 20, with slope exactly 1 and curvature 0, off by σ(-x) and σ'(x); ours is log(1 + e^x)
    /// to rounding at every x, in the kernel and in its rule g·σ(x) (a primitive, Expr.softplus).
    let softplus (x: Expr) = Expr.softplus x

    /// Losses compare like with like: a target of another shape is an error, never a broadcast
    /// (torch warns and broadcasts [3] against [3,1] into a 3x3 loss; a silent 3x3 is never meant).
    let private sameShape (loss: string) (what: string) (input: Expr) (target: Expr) =
        if not (Ir.sameDims input.Dims target.Dims) then
            Shape.fail loss (sprintf "%s of shape %s and target of shape %s differ; a loss needs equal shapes and does not broadcast"
                                 what (Shape.format input.Dims) (Shape.format target.Dims))

    /// Squared errors, element by element (torch's mse_loss with reduction 'none'); prediction
    /// and target must have the same shape.
    let squaredErrors (prediction: Expr) (target: Expr) =
        sameShape "Mse" "prediction" prediction target
        Expr.square (prediction - target)

    /// Mean squared error; prediction and target must have the same shape.
    let mse (prediction: Expr) (target: Expr) = Expr.mean (squaredErrors prediction target)

    /// torch's gaussian_nll_loss element by element: ½(log v + (input − target)²/v), plus ½ log 2π when
    /// `full`, with v the variance clamped below at eps. Input and target have one shape; the variance
    /// has it too (heteroscedastic), or it with the last axis 1, or without the last axis (one variance
    /// per row, torch's homoscedastic forms), or is one number for every element (torch's float var). torch clamps a clone of the variance in place under
    /// no_grad, so the loss is taken at max(v, eps) while the variance's derivative passes the clamp as
    /// if it were not there; the held shift eps − v where v < eps does the same here. torch raises on a
    /// negative variance, which it reads at run time; here it is clamped like any variance below eps.
    let gaussianNllLossElements (full: bool) (eps: float) (input: Expr) (target: Expr) (variance: Expr) =
        sameShape "GaussianNllLoss" "input" input target
        if not (eps >= 0.0) then invalidArg "eps" (sprintf "GaussianNllLoss: eps = %g must be at least 0" eps)
        let target = Expr.cast input.DType target
        let variance = Expr.cast input.DType variance
        let rank = input.Rank
        let leading (dims: int[]) = dims.[.. dims.Length - 2]
        let variance =
            // a single variance for every element: torch's float var (a bare number here)
            if Ir.sameDims variance.Dims input.Dims || variance.Rank = 0 then variance
            elif rank >= 1 && Ir.sameDims variance.Dims (leading input.Dims) then
                Expr.reshape (Array.append variance.Dims [| 1 |]) variance
            elif rank >= 1 && variance.Rank = rank && Ir.sameDims (leading variance.Dims) (leading input.Dims)
                 && variance.Dims.[rank - 1] = 1 then variance
            else
                Shape.fail "GaussianNllLoss"
                    (sprintf "variance %s must have the input's shape %s, or it with the last axis 1 or left out"
                         (Shape.format variance.Dims) (Shape.format input.Dims))
        let floor = Expr.scalar input.DType eps
        let below = Expr.lt variance floor
        let clamped = Expr.where below (variance + Expr.stopGradient (floor - variance)) variance
        let loss = 0.5 * (Expr.log clamped + Expr.square (input - target) / clamped)
        if full then loss + 0.5 * Math.Log(2.0 * Math.PI) else loss

    /// torch's gaussian_nll_loss with its default reduction, the mean of gaussianNllLossElements.
    let gaussianNllLoss (full: bool) (eps: float) (input: Expr) (target: Expr) (variance: Expr) =
        Expr.mean (gaussianNllLossElements full eps input target variance)

    /// Absolute errors, element by element (torch's l1_loss with reduction 'none'); the slope at a zero
    /// error is 0, abs's, as torch's sign.
    let absoluteErrors (prediction: Expr) (target: Expr) =
        sameShape "L1" "prediction" prediction target
        Expr.abs (prediction - target)

    /// torch's huber_loss element by element: ½d² where |d| < δ, else δ·(|d| − ½δ), d = prediction −
    /// target. The two pieces meet with equal value and slope at |d| = δ (torch takes the linear one
    /// there, and so does this).
    let huberErrors (delta: float) (prediction: Expr) (target: Expr) =
        if not (delta > 0.0) then invalidArg "delta" (sprintf "Huber: delta = %g must be positive" delta)
        sameShape "Huber" "prediction" prediction target
        let d = prediction - target
        let a = Expr.abs d
        // quadratic wherever |d| >= δ fails, NaN included, as torch's backward, whose last branch g·d is NaN there (the linear
        // branch's slope sgn(NaN) was 0: `fuzz all 3/506`, smooth L1 of +∞ against +∞, gradient 0 here, NaN in torch)
        let quadratic = Expr.eq (Expr.ge a (Expr.scalar d.DType delta)) (Expr.scalar d.DType 0.0)
        // the square reads d only where it is taken: at an infinite d its masked cotangent 0 met the slope 2d
        // as 0·∞ = NaN (`fuzz all adversarial 1/256`: huber(−0, +∞), gradient ∓δ·u in torch, NaN here)
        let near = Expr.where quadratic d (Expr.scalar d.DType 0.0)
        Expr.where quadratic (0.5 * Expr.square near) (delta * (a - 0.5 * delta))

    /// torch's smooth_l1_loss element by element: ½d²/β where |d| < β, else |d| − ½β; β = 0 is the L1
    /// loss, as in torch (the quadratic piece has no width).
    let smoothL1Errors (beta: float) (prediction: Expr) (target: Expr) =
        if not (beta >= 0.0) then invalidArg "beta" (sprintf "SmoothL1: beta = %g must be non-negative" beta)
        sameShape "SmoothL1" "prediction" prediction target
        let d = prediction - target
        let a = Expr.abs d
        if beta = 0.0 then a
        else
            // quadratic at NaN too, as Huber's: the slope d/β there is NaN, as torch's
            let quadratic = Expr.eq (Expr.ge a (Expr.scalar d.DType beta)) (Expr.scalar d.DType 0.0)
            // the square reads d only where it is taken, as Huber's
            let near = Expr.where quadratic d (Expr.scalar d.DType 0.0)
            Expr.where quadratic ((0.5 / beta) * Expr.square near) (a - 0.5 * beta)

    /// Checks class indices whose values are known when the graph is built (a constant, such as a tensor of labels),
    /// against the `classAxis` of `input`: each must be a whole number in [0, classes), or `ignoreIndex`. Otherwise an
    /// index outside the classes surfaces only at evaluation, from the Gather that picks it, under Gather's name; and
    /// torch's default ignore_index −100 is the usual such index. Indices computed in the graph or passed into a compiled
    /// step are left to that Gather; targets of another shape than the input's without its class axis (probabilities)
    /// are not indices and are not checked. `targetsName` is the caller's parameter; `ignorable` says whether the
    /// caller takes an ignore index, to suggest one for a negative index.
    let internal checkClassIndicesOf (name: string) (inputName: string) (targetsName: string) (classAxis: int) (ignorable: bool)
                                     (ignoreIndex: int option) (input: Expr) (targets: Expr) =
        if input.Rank > 0 && classAxis >= 0 && classAxis < input.Rank then
            let positions = input.Dims |> Array.removeAt classAxis
            match Ir.leafValue targets with
            | ValueSome values when Ir.sameDims targets.Dims positions ->
                let classes = input.Dims.[classAxis]
                let ignored = match ignoreIndex with Some i -> float i | None -> nan
                let values = values.ToDoubleArray()
                for i in 0 .. values.Length - 1 do
                    let v = values.[i]
                    if not (v = ignored || (v >= 0.0 && v < float classes && v = Math.Floor v)) then
                        let hint =
                            if ignorable && ignoreIndex.IsNone && v < 0.0 then
                                sprintf "; to skip such examples as torch's ignore_index does, pass ignoreIndex: %g" v
                            else ""
                        raise (ArgumentOutOfRangeException(targetsName, v,
                                   sprintf "%s: target %d is %g, not a class of the %d classes of %s %s%s"
                                       name i v classes inputName (Shape.format input.Dims) hint))
            | ValueSome _ | ValueNone -> ()

    /// checkClassIndicesOf for the losses over class indices (cross_entropy, nll_loss): the class axis is 1, or 0 for
    /// one example [C], and the indices are the parameter `targets`. The C# facade calls it for torch's K-dimensional
    /// form, whose targets it reshapes before the loss sees them.
    let checkClassIndices (name: string) (inputName: string) (ignoreIndex: int option) (input: Expr) (targets: Expr) =
        checkClassIndicesOf name inputName "targets" (if input.Rank = 1 then 0 else 1) true ignoreIndex input targets

    /// Cross-entropy from logits [N, C] and class-index targets [N] (integers held in a float
    /// tensor), averaged over the batch, as torch.nn.functional.cross_entropy.
    let private checkCrossEntropy (logits: Expr) (targets: Expr) =
        if logits.Rank <> 2 || targets.Rank <> 1 || targets.Dims.[0] <> logits.Dims.[0] then
            Shape.fail "CrossEntropy" (sprintf "logits %s need rank 2 and targets %s rank 1 with the same batch" (Shape.format logits.Dims) (Shape.format targets.Dims))

    let crossEntropy (logits: Expr) (targets: Expr) =
        checkCrossEntropy logits targets
        checkClassIndices "CrossEntropy" "logits" None logits targets
        let picked = Expr.gather 1 (Expr.reshape [| targets.Dims.[0]; 1 |] targets) (logSoftmax 1 logits)
        // 0 − picked, not −mean: torch's loss subtracts each term from a running +0, so a loss of exactly 0 (one
        // class) is +0, and −(+0) would be −0 (`fuzz adversarial 5/256`: atan2 of the loss and −1 is π, not −π)
        Expr.mean (0.0 - picked)

    /// Cross-entropy per example, shape [N] (torch's reduction 'none'), with torch's label
    /// smoothing ε in [0, 1]: (1 − ε)·(−log p[target]) + ε·mean over the classes of (−log p).
    let crossEntropyPerExample (labelSmoothing: float) (logits: Expr) (targets: Expr) =
        checkCrossEntropy logits targets
        checkClassIndices "CrossEntropy" "logits" None logits targets
        if not (labelSmoothing >= 0.0 && labelSmoothing <= 1.0) then
            invalidArg "labelSmoothing" (sprintf "CrossEntropy: labelSmoothing = %g must be in [0, 1]" labelSmoothing)
        let n = targets.Dims.[0]
        let logProbabilities = logSoftmax 1 logits
        let negativeLogLikelihood = -(Expr.reshape [| n |] (Expr.gather 1 (Expr.reshape [| n; 1 |] targets) logProbabilities))
        if labelSmoothing = 0.0 then negativeLogLikelihood
        else (1.0 - labelSmoothing) * negativeLogLikelihood - labelSmoothing * Expr.meanAxes [| 1 |] false logProbabilities

    /// Cross-entropy per example, shape [N], against targets given as an Expr, with torch's two target
    /// forms: class indices [N] (integers held in a float tensor, as a compiled step receives a batch
    /// of labels), or class probabilities of the logits' shape [N, C] (one-hot rows, soft labels), for
    /// which torch's loss is −Σ_c t_c·log p_c and label smoothing mixes t with the uniform ε/C.
    /// Which form is meant follows from the shape alone, as in torch.
    let private crossEntropyBatched (labelSmoothing: float) (logits: Expr) (targets: Expr) =
        if logits.Rank = 2 && Ir.sameDims logits.Dims targets.Dims then
            if not (labelSmoothing >= 0.0 && labelSmoothing <= 1.0) then
                invalidArg "labelSmoothing" (sprintf "CrossEntropy: labelSmoothing = %g must be in [0, 1]" labelSmoothing)
            let logProbabilities = logSoftmax 1 logits
            let negativeLogLikelihood = -(Expr.sumAxes [| 1 |] false (targets * logProbabilities))
            // (1 − ε)·t + ε/C against log p is (1 − ε)·(−Σ t log p) + ε·mean_c(−log p): the same
            // split as the index form, so the two forms agree on one-hot rows at every ε
            if labelSmoothing = 0.0 then negativeLogLikelihood
            else (1.0 - labelSmoothing) * negativeLogLikelihood - labelSmoothing * Expr.meanAxes [| 1 |] false logProbabilities
        elif logits.Rank = 2 && targets.Rank = 2 then
            Shape.fail "CrossEntropy"
                (sprintf "targets %s must be class indices [N] or class probabilities of the logits' shape %s"
                     (Shape.format targets.Dims) (Shape.format logits.Dims))
        else crossEntropyPerExample labelSmoothing logits targets

    /// As crossEntropyBatched, and also torch's unbatched form: logits [C] with a class index of rank
    /// 0 or probabilities [C], giving a rank-0 loss (the per-example loss a vmapped function writes).
    /// Targets are data, so they take the logits' dtype (float64 labels do not turn a float32 loss
    /// into a float64 one).
    let crossEntropyPerExampleOf (labelSmoothing: float) (logits: Expr) (targets: Expr) =
        checkClassIndices "CrossEntropy" "logits" None logits targets
        let targets = Expr.cast logits.DType targets
        if logits.Rank = 1 then
            let c = logits.Dims.[0]
            let batchedTargets =
                if targets.Rank = 0 then Expr.reshape [| 1 |] targets
                elif targets.Rank = 1 && targets.Dims.[0] = c then Expr.reshape [| 1; c |] targets
                else
                    Shape.fail "CrossEntropy"
                        (sprintf "unbatched logits %s take a class index of rank 0 or probabilities %s, not targets %s"
                             (Shape.format logits.Dims) (Shape.format logits.Dims) (Shape.format targets.Dims))
            Expr.reshape [||] (crossEntropyBatched labelSmoothing (Expr.reshape [| 1; c |] logits) batchedTargets)
        else crossEntropyBatched labelSmoothing logits targets

    /// The rule of the binary cross-entropy from logits, over logits x and targets t packed along a
    /// new leading axis: torch's fused g·(σ(x) − t) for x and −g·x for t. Registered once; the
    /// module keeps it alive.
    let private binaryCrossEntropyRule =
        CustomRules.register "binary_cross_entropy_with_logits" (fun packed g ->
            let logits = Expr.reshape g.Dims (Expr.sliceAxis 0 0 1 packed)
            let targets = Expr.reshape g.Dims (Expr.sliceAxis 0 1 2 packed)
            let lift (e: Expr) = Expr.cast packed.DType (Expr.reshape (Array.append [| 1 |] g.Dims) e)
            Expr.concat 0 [ lift (g * (Expr.sigmoid logits - targets)); lift (-(g * logits)) ])

    /// Binary cross-entropy from logits element by element (torch's reduction 'none'):
    /// (1 - t)·x + softplus(-x), torch's form (x - log σ(x) with log σ(x) = -softplus(-x)), smooth
    /// at every order. Written so, an infinite logit gives torch's value: x = +inf with t < 1 is
    /// +inf, where the algebraically equal softplus(x) - x·t is inf - inf = NaN. Logits and
    /// targets must have the same shape.
    ///
    /// The derivative is torch's fused rule, one factor g·(σ(x) − t) (a custom rule over x and t
    /// packed together): the form above differentiates to g·(1 − t) − g·σ(−x), two terms, which an
    /// infinite cotangent turns into ∞ − ∞ = NaN where the derivative is ±∞ (`fuzz 2/99`: the mean
    /// squared error of an infinite loss, whose cotangent into the loss is ∞).
    let binaryCrossEntropyWithLogitsElements (logits: Expr) (targets: Expr) =
        sameShape "BinaryCrossEntropyWithLogits" "logits" logits targets
        let value = (1.0 - targets) * logits + softplus (-logits)
        let lifted (e: Expr) = Expr.reshape (Array.append [| 1 |] e.Dims) (Expr.cast logits.DType e)
        Expr.custom binaryCrossEntropyRule (Expr.concat 0 [ lifted logits; lifted targets ]) value

    /// The same binary cross-entropy, averaged.
    let binaryCrossEntropyWithLogits (logits: Expr) (targets: Expr) =
        Expr.mean (binaryCrossEntropyWithLogitsElements logits targets)

    /// torch's binary_cross_entropy_with_logits with pos_weight, element by element: (1 − t)·x + (1 + (w − 1)·t)·softplus(−x),
    /// torch's form of −(w·t·log σ(x) + (1 − t)·log(1 − σ(x))); w broadcasts against the targets (one weight per class
    /// along the last axis, as torch). Without a weight it is binaryCrossEntropyWithLogitsElements.
    let binaryCrossEntropyWithLogitsPositiveWeighted (positiveWeight: Expr) (logits: Expr) (targets: Expr) =
        sameShape "BinaryCrossEntropyWithLogits" "logits" logits targets
        let targets = Expr.cast logits.DType targets
        let positiveWeight = Expr.cast logits.DType positiveWeight
        if not (Shape.broadcastsTo positiveWeight.Dims targets.Dims) then
            Shape.fail "BinaryCrossEntropyWithLogits"
                (sprintf "posWeight %s does not broadcast to the targets' shape %s" (Shape.format positiveWeight.Dims) (Shape.format targets.Dims))
        (1.0 - targets) * logits + (1.0 + (positiveWeight - 1.0) * targets) * softplus (-logits)

    /// Cross-entropy per example with torch's ignore_index, for class-index targets: a target equal to
    /// `ignoreIndex` gives a loss of 0 (and no gradient), and the second result counts the targets kept, the
    /// divisor of torch's mean. Probability targets have no index to ignore and are passed through, counted
    /// as the batch.
    let crossEntropyIgnoring (labelSmoothing: float) (ignoreIndex: int) (logits: Expr) (targets: Expr) =
        checkClassIndices "CrossEntropy" "logits" (Some ignoreIndex) logits targets
        let targets = Expr.cast logits.DType targets
        let isIndices = targets.Rank = logits.Rank - 1
        if not isIndices then
            let perExample = crossEntropyPerExampleOf labelSmoothing logits targets
            perExample, Expr.scalar logits.DType (float (max 1 perExample.Numel))
        else
            let kept = Expr.ne targets (Expr.scalar targets.DType (float ignoreIndex))
            // an ignored row picks class 0, a valid index, and its loss is then replaced by 0: the where
            // keeps the picked entry's cotangent at 0
            let safe = Expr.where kept targets (Expr.scalar targets.DType 0.0)
            let perExample = crossEntropyPerExampleOf labelSmoothing logits safe
            Expr.where kept perExample (Expr.scalar perExample.DType 0.0), Expr.sum (Expr.cast logits.DType kept)

    /// torch's binary_cross_entropy element by element, from probabilities p rather than logits:
    /// −(t·log p + (1 − t)·log(1 − p)), each log clamped below at −100 as torch clamps it, so p = 0 or 1
    /// gives a finite loss; NaN stays NaN. Inside the clamp the slope is (p − t)/(p(1 − p)), torch's.
    let binaryCrossEntropyElements (probabilities: Expr) (targets: Expr) =
        sameShape "BinaryCrossEntropy" "probabilities" probabilities targets
        let floor = Expr.scalar probabilities.DType -100.0
        let clampedLog (x: Expr) =
            let l = Expr.log x
            Expr.where (Expr.lt l floor) floor l
        0.0 - (targets * clampedLog probabilities + (1.0 - targets) * clampedLog (1.0 - probabilities))

    /// torch's nll_loss per example (reduction 'none'): −input[i, targetᵢ], input holding
    /// log-probabilities [N, C] (log_softmax's output) and targets class indices [N] in a float
    /// tensor, giving [N]; unbatched input [C] takes a rank-0 index and gives a rank-0 loss. The
    /// targets take the input's dtype, as cross-entropy's do.
    let nllLossPerExample (input: Expr) (targets: Expr) =
        checkClassIndices "NllLoss" "input" None input targets
        let targets = Expr.cast input.DType targets
        if input.Rank = 1 && targets.Rank = 0 then
            // 0 − x rather than −x, as cross-entropy: a picked +0 gives a loss of +0
            Expr.reshape [||] (0.0 - Expr.gather 0 (Expr.reshape [| 1 |] targets) input)
        elif input.Rank = 2 && targets.Rank = 1 && targets.Dims.[0] = input.Dims.[0] then
            let n = targets.Dims.[0]
            0.0 - Expr.reshape [| n |] (Expr.gather 1 (Expr.reshape [| n; 1 |] targets) input)
        else
            Shape.fail "NllLoss"
                (sprintf "input %s needs rank 2 and targets %s rank 1 with the same batch (or input [C] and a rank-0 target)"
                     (Shape.format input.Dims) (Shape.format targets.Dims))

    /// nllLossPerExample with torch's ignore_index: a target equal to `ignoreIndex` gives 0 (and no gradient); the
    /// second result counts the targets kept, the divisor of torch's mean.
    let nllLossIgnoring (ignoreIndex: int) (input: Expr) (targets: Expr) =
        checkClassIndices "NllLoss" "input" (Some ignoreIndex) input targets
        let targets = Expr.cast input.DType targets
        let kept = Expr.ne targets (Expr.scalar targets.DType (float ignoreIndex))
        let safe = Expr.where kept targets (Expr.scalar targets.DType 0.0)
        Expr.where kept (nllLossPerExample input safe) (Expr.scalar input.DType 0.0), Expr.sum (Expr.cast input.DType kept)

    /// torch's class weights (`weight`, one per class, [C]) of cross_entropy and nll_loss, with its ignore_index and label
    /// smoothing, over log-probabilities [N, C] ([C] for one example). Per example, for class-index targets
    /// (1 − ε)·w[y]·(−log p[y]) + ε·mean over the classes of w_c·(−log p_c), 0 where the target is ignoreIndex; for
    /// probability targets of the input's shape −Σ_c w_c·t'_c·log p_c with t' = (1 − ε)·t + ε/C. The second result is
    /// the divisor of torch's mean: Σ w[y] over the examples kept for indices (so a weighted mean of the examples' losses),
    /// the batch size for probabilities.
    let private weightedClassLoss (name: string) (labelSmoothing: float) (ignoreIndex: int option) (weight: Expr) (logProbabilities: Expr) (targets: Expr) =
        if not (labelSmoothing >= 0.0 && labelSmoothing <= 1.0) then
            invalidArg "labelSmoothing" (sprintf "%s: labelSmoothing = %g must be in [0, 1]" name labelSmoothing)
        let unbatched = logProbabilities.Rank = 1
        let logP = if unbatched then Expr.reshape [| 1; logProbabilities.Dims.[0] |] logProbabilities else logProbabilities
        let targets = Expr.cast logP.DType targets
        let targets = if unbatched then Expr.reshape (Array.append [| 1 |] targets.Dims) targets else targets
        if logP.Rank <> 2 then
            Shape.fail name (sprintf "input %s must be [N, C] or [C]" (Shape.format logProbabilities.Dims))
        let n, classes = logP.Dims.[0], logP.Dims.[1]
        if weight.Rank <> 1 || weight.Dims.[0] <> classes then
            Shape.fail name
                (sprintf "weight %s must hold one weight per class, [%d], for input %s" (Shape.format weight.Dims) classes (Shape.format logProbabilities.Dims))
        let weight = Expr.cast logP.DType weight
        let zero = Expr.scalar logP.DType 0.0
        let perExample, divisor =
            if targets.Rank = 1 && targets.Dims.[0] = n then
                let kept = ignoreIndex |> Option.map (fun i -> Expr.ne targets (Expr.scalar targets.DType (float i)))
                // an ignored row picks class 0, a valid index, and the where below gives it loss 0 and no cotangent
                let safe = match kept with Some k -> Expr.where k targets zero | None -> targets
                let picked = Expr.reshape [| n |] (Expr.gather 1 (Expr.reshape [| n; 1 |] safe) logP)
                let classWeight = Expr.gather 0 safe weight
                // 0 − w·picked, as crossEntropy: a picked +0 gives a loss of +0
                let weighted = 0.0 - classWeight * picked
                let loss =
                    if labelSmoothing = 0.0 then weighted
                    else (1.0 - labelSmoothing) * weighted - labelSmoothing * Expr.meanAxes [| 1 |] false (logP * weight)
                match kept with
                | Some k -> Expr.where k loss zero, Expr.sum (Expr.where k classWeight zero)
                | None -> loss, Expr.sum classWeight
            elif Ir.sameDims targets.Dims logP.Dims then
                let mixed = if labelSmoothing = 0.0 then targets else (1.0 - labelSmoothing) * targets + labelSmoothing / float classes
                0.0 - Expr.sumAxes [| 1 |] false (mixed * weight * logP), Expr.scalar logP.DType (float n)
            else
                Shape.fail name
                    (sprintf "targets %s must be class indices [%d] or class probabilities of the input's shape %s"
                         (Shape.format targets.Dims) n (Shape.format logP.Dims))
        (if unbatched then Expr.reshape [||] perExample else perExample), divisor

    /// Cross-entropy of logits [N, C] (or [C]) with torch's class weights, label smoothing and ignore_index: the loss per
    /// example and the divisor of torch's mean (see weightedClassLoss).
    let crossEntropyWeighted (labelSmoothing: float) (ignoreIndex: int option) (weight: Expr) (logits: Expr) (targets: Expr) =
        checkClassIndices "CrossEntropy" "logits" ignoreIndex logits targets
        weightedClassLoss "CrossEntropy" labelSmoothing ignoreIndex weight (logSoftmax (logits.Rank - 1) logits) targets

    /// nll_loss of log-probabilities [N, C] (or [C]) with torch's class weights and ignore_index: the loss per example
    /// and the divisor of torch's mean, Σ w[y] over the examples kept.
    let nllLossWeighted (ignoreIndex: int option) (weight: Expr) (input: Expr) (targets: Expr) =
        checkClassIndices "NllLoss" "input" ignoreIndex input targets
        let targets = Expr.cast input.DType targets
        if targets.Rank <> input.Rank - 1 then
            Shape.fail "NllLoss"
                (sprintf "input %s needs rank 2 and targets %s rank 1 with the same batch (or input [C] and a rank-0 target)"
                     (Shape.format input.Dims) (Shape.format targets.Dims))
        weightedClassLoss "NllLoss" 0.0 ignoreIndex weight input targets

    /// A dense layer as torch.nn.Linear: x @ weightᵀ + bias, weight [out, in].
    /// x is [..., in]; bias is [out] or a scalar.
    let linear (weight: Expr) (bias: Expr) (x: Expr) =
        if weight.Rank <> 2 || x.Rank < 1 || x.Dims.[x.Rank - 1] <> weight.Dims.[1]
           || not (bias.Rank = 0 || (bias.Rank = 1 && bias.Dims.[0] = weight.Dims.[0])) then
            // a scalar bias is the absent one (−0) as often as a number, so it is not shown as a shape
            let operands =
                if bias.Rank = 0 then sprintf "input %s and weight %s" (Shape.format x.Dims) (Shape.format weight.Dims)
                else sprintf "input %s, weight %s and bias %s" (Shape.format x.Dims) (Shape.format weight.Dims) (Shape.format bias.Dims)
            // x @ W's weight [in, out] is the usual mistake: torch's layout is its transpose
            let transposed =
                if weight.Rank = 2 && x.Rank >= 1 && x.Dims.[x.Rank - 1] = weight.Dims.[0] && weight.Dims.[0] <> weight.Dims.[1] then
                    sprintf "; weight %s looks like [in, out], the transpose of torch's layout" (Shape.format weight.Dims)
                else ""
            Shape.fail "Linear"
                (sprintf "%s do not fit: weight must be [out, in], input [..., in] and bias [out]%s" operands transposed)
        Expr.matmul x (Expr.transpose weight) + bias

    /// Whether a recurrent cell's operands fit torch's layout: weightIh [gates·H, in], weightHh [gates·H, H], each bias
    /// [gates·H] or a scalar, input [..., in] and hidden [..., H] with the same leading axes.
    let private cellFits (gates: int) (weightIh: Expr) (weightHh: Expr) (biasIh: Expr) (biasHh: Expr) (input: Expr) (hidden: Expr) =
        weightIh.Rank = 2 && weightHh.Rank = 2 && weightIh.Dims.[0] % gates = 0 && weightHh.Dims.[0] = weightIh.Dims.[0]
        && weightHh.Dims.[1] = weightIh.Dims.[0] / gates && input.Rank >= 1 && hidden.Rank = input.Rank
        && input.Dims.[input.Rank - 1] = weightIh.Dims.[1] && hidden.Dims.[hidden.Rank - 1] = weightHh.Dims.[1]
        && Ir.sameDims input.Dims.[.. input.Rank - 2] hidden.Dims.[.. hidden.Rank - 2]
        && List.forall (fun (b: Expr) -> b.Rank = 0 || (b.Rank = 1 && b.Dims.[0] = weightIh.Dims.[0])) [ biasIh; biasHh ]

    /// torch.nn.RNN's nonlinearity by its name: "tanh" (the default) or "relu"; `op` names the public method.
    let internal rnnNonlinearity (op: string) (nonlinearity: string) : Expr -> Expr =
        match nonlinearity with
        | "tanh" -> Expr.tanh
        | "relu" -> Expr.relu
        | other -> invalidArg "nonlinearity" (sprintf "%s: nonlinearity \"%s\" must be \"tanh\" or \"relu\", as torch's" op other)

    /// One step of torch.nn.RNNCell (torch.rnn_tanh_cell, rnn_relu_cell): tanh or relu of x W_ihᵀ + b_ih + h W_hhᵀ + b_hh.
    /// weightIh is [H, in], weightHh [H, H], each bias [H] or a scalar (−0 for none); input [..., in], hidden [..., H].
    let rnnCell (nonlinearity: string) (weightIh: Expr) (weightHh: Expr) (biasIh: Expr) (biasHh: Expr) (input: Expr) (hidden: Expr) =
        let activation = rnnNonlinearity "RnnCell" nonlinearity
        if not (cellFits 1 weightIh weightHh biasIh biasHh input hidden) then
            Shape.fail "RnnCell"
                (sprintf "input %s, hidden %s, weightIh %s, weightHh %s, biasIh %s and biasHh %s do not fit: weightIh must be [H, in], weightHh [H, H], the biases [H], input [..., in] and hidden [..., H]"
                     (Shape.format input.Dims) (Shape.format hidden.Dims) (Shape.format weightIh.Dims) (Shape.format weightHh.Dims)
                     (Shape.format biasIh.Dims) (Shape.format biasHh.Dims))
        activation (linear weightIh biasIh input + linear weightHh biasHh hidden)

    /// The GRU step after its two projections: gi = x W_ihᵀ + b_ih and gh = h W_hhᵀ + b_hh, each [..., 3H] in torch's
    /// [r, z, n] order. Shared by `gruCell` and the sequence layer (Recurrent.gru), which projects every step's input at
    /// once before its loop, as torch's CPU kernel does.
    let internal gruFromGates (gi: Expr) (gh: Expr) (hidden: Expr) =
        let h = hidden.Dims.[hidden.Rank - 1]
        let gate k (g: Expr) = Expr.sliceAxis (g.Rank - 1) (k * h) ((k + 1) * h) g
        let r = Expr.sigmoid (gate 0 gi + gate 0 gh)
        let z = Expr.sigmoid (gate 1 gi + gate 1 gh)
        let n = Expr.tanh (gate 2 gi + r * gate 2 gh)
        (Expr.scalar z.DType 1.0 - z) * n + z * hidden

    /// The LSTM step after its projections: gates = x W_ihᵀ + b_ih + h W_hhᵀ + b_hh, [..., 4H] in torch's [i, f, g, o]
    /// order, and the cell [..., H]; returns (h', c'). Shared by `lstmCell` and the sequence layer (Recurrent.lstm).
    let internal lstmFromGates (gates: Expr) (cell: Expr) =
        let h = cell.Dims.[cell.Rank - 1]
        let gate k = Expr.sliceAxis (gates.Rank - 1) (k * h) ((k + 1) * h) gates
        let nextCell = Expr.sigmoid (gate 1) * cell + Expr.sigmoid (gate 0) * Expr.tanh (gate 2)
        Expr.sigmoid (gate 3) * Expr.tanh nextCell, nextCell

    /// One step of torch.nn.GRUCell (torch.gru_cell): with gates gi = x W_ihᵀ + b_ih and gh = h W_hhᵀ + b_hh, each split
    /// into thirds [r, z, n] along the last axis as torch lays them out, r = σ(gi_r + gh_r), z = σ(gi_z + gh_z),
    /// n = tanh(gi_n + r ⊙ gh_n) and h' = (1 − z) ⊙ n + z ⊙ h. weightIh is [3H, in], weightHh [3H, H], each bias [3H] or a
    /// scalar (−0 for none); the input is [..., in] and the hidden state [..., H] with the same leading axes.
    let gruCell (weightIh: Expr) (weightHh: Expr) (biasIh: Expr) (biasHh: Expr) (input: Expr) (hidden: Expr) =
        if not (cellFits 3 weightIh weightHh biasIh biasHh input hidden) then
            Shape.fail "GruCell"
                (sprintf "input %s, hidden %s, weightIh %s, weightHh %s, biasIh %s and biasHh %s do not fit: weightIh must be [3H, in], weightHh [3H, H], the biases [3H], input [..., in] and hidden [..., H]"
                     (Shape.format input.Dims) (Shape.format hidden.Dims) (Shape.format weightIh.Dims) (Shape.format weightHh.Dims)
                     (Shape.format biasIh.Dims) (Shape.format biasHh.Dims))
        gruFromGates (linear weightIh biasIh input) (linear weightHh biasHh hidden) hidden

    /// One step of torch.nn.LSTMCell (torch.lstm_cell): the gates x W_ihᵀ + b_ih + h W_hhᵀ + b_hh, split into quarters
    /// [i, f, g, o] along the last axis as torch lays them out, give the new cell c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g) and the
    /// new hidden state h' = σ(o) ⊙ tanh(c'), returned as (h', c'). weightIh is [4H, in], weightHh [4H, H], each bias
    /// [4H] or a scalar (−0 for none); the input is [..., in], the hidden state and the cell [..., H] with the same
    /// leading axes.
    let lstmCell (weightIh: Expr) (weightHh: Expr) (biasIh: Expr) (biasHh: Expr) (input: Expr) (hidden: Expr) (cell: Expr) =
        if not (cellFits 4 weightIh weightHh biasIh biasHh input hidden && Ir.sameDims cell.Dims hidden.Dims) then
            Shape.fail "LstmCell"
                (sprintf "input %s, hidden %s, cell %s, weightIh %s, weightHh %s, biasIh %s and biasHh %s do not fit: weightIh must be [4H, in], weightHh [4H, H], the biases [4H], input [..., in] and hidden and cell [..., H]"
                     (Shape.format input.Dims) (Shape.format hidden.Dims) (Shape.format cell.Dims) (Shape.format weightIh.Dims)
                     (Shape.format weightHh.Dims) (Shape.format biasIh.Dims) (Shape.format biasHh.Dims))
        lstmFromGates (linear weightIh biasIh input + linear weightHh biasHh hidden) cell

    /// The rules of `centre`, one per axes, kept for the process's life: there are few such combinations, and a node
    /// built with a rule holds it anyway.
    let private centringRules = System.Collections.Concurrent.ConcurrentDictionary<string, CustomRule>()

    /// s − mean s over the axes (each of length at least 1), where s is x shifted by a held entry of each reduction.
    /// The centring map C = I − 11ᵀ/n is linear and symmetric, so its derivative in either mode is C itself, applied to
    /// the tangent or the cotangent; its rule applies C as centredAboutFirst does, about the first entry, so a tangent
    /// or a cotangent that is constant over a group is centred to exactly 0, at every order, as a constant group's value
    /// is. Differentiated as written, the held shift has no derivative and C t is t − mean t, which rounds: the second
    /// derivative of the variance of three copies of one value, exactly 0, had residues of 1e-10 beside terms near 1e5
    /// (`fuzz adversarial 40/68`), and so had batch and layer norms over equal rows (`39/246`, `all 3/347`).
    let rec internal centre (axes: int[]) (shifted: Expr) : Expr =
        Expr.custom (centringRule axes) shifted (shifted - Expr.meanAxes axes true shifted)

    /// x − mean x over the axes (each of length at least 1), computed about the first entry of each reduction, held:
    /// (x − x₀) − mean(x − x₀), the same function (x₀ has no derivative, and the centred values do not depend on it), but
    /// a constant group is exactly 0, where the rounded mean of three −0.1 left 1.4e-17 in each entry (`fuzz 2/1667`).
    /// A first entry that is ±∞ or NaN is replaced by 0 (the plain x − mean x): x − x₀ is NaN in every entry then, where
    /// x − mean is NaN only where x is itself the infinity (`fuzz adversarial 23/93`: the variance's rule of [−∞, 0]).
    and internal centredAboutFirst (axes: int[]) (x: Expr) : Expr =
        let mutable first = x
        for a in axes do
            first <- Expr.sliceAxis a 0 1 first
        let zero = Expr.scalar x.DType 0.0
        let first = Expr.where (Expr.eq (first - first) zero) first zero
        centre axes (x - Expr.stopGradient first)

    and private centringRule (axes: int[]) : CustomRule =
        centringRules.GetOrAdd(String.Join(",", axes), fun _ ->
            CustomRules.register "centre" (fun _ g -> centredAboutFirst axes g))

    /// Rows whose largest |entry| passes this are divided by a power of two near it first. The bound is set by the
    /// derivatives, not the value: the second order's terms multiply up to the fourth power of a centred entry by the
    /// variance's −5/2 power (and higher orders higher powers), so at 2^480 (float64), the bound until branch edges9,
    /// a column holding 1.1e120 made the centred cubes overflow and meet the underflowed powers of the variance as ∞·0
    /// = NaN where torch's second derivative is a number (`fuzz adversarial 31/157`), and its gradient lost the term
    /// c·Σ(g·c)/σ³ to σ³ = +∞ (EdgeScaleTests). Below 2^128 (float64) or 2^16
    /// (float32) the seventh power of a centred entry stays finite. The scale is a power of two, so a scaled row's
    /// values are its unscaled values bit for bit (x/s, the mean, the variance over s² and ε/s² are exact), and rows
    /// below the bound are not touched at all.
    let private layerNormScaleAbove (dtype: DType) = Math.ScaleB(1.0, (if dtype = DType.Float32 then 16 else 128))

    /// (x - mean x) / sqrt(var x + ε) over the axes (normalised, ascending), with torch's biased variance and
    /// the statistics kept as size-1 axes: the shared core of layer, batch, group and instance norm. Where the
    /// largest |entry| over the axes is huge but finite it is computed as x/s with ε/s², s a power of two near that
    /// entry, the same function, so entries near 1e300 get their values where torch's squares overflow to NaN (and
    /// the unscaled form gave 0), and entries near 1e120 their second derivatives (layerNormScaleAbove).
    /// s is held constant (stopGradient), which is exact: the function does not depend on it.
    let internal normaliseOver (axes: int[]) (epsilon: float) (x: Expr) =
        let mutable count = 1
        for a in axes do
            count <- count * x.Dims.[a]
        let scale, epsilon =
            if count = 0 then Expr.scalar x.DType 1.0, Expr.scalar x.DType epsilon
            else
                let largest = Expr.stopGradient (Expr.maxAxes axes true (Expr.abs x))
                let huge = Expr.gt largest (Expr.scalar x.DType (layerNormScaleAbove x.DType))
                           * Expr.lt largest (Expr.scalar x.DType Double.PositiveInfinity)
                // 2^⌊log2 largest⌋, read only where huge (elsewhere log of a 0, ∞ or NaN largest is not taken)
                let safe = Expr.where huge largest (Expr.scalar x.DType 1.0)
                let power = Expr.pow (Expr.scalar x.DType 2.0) (Expr.floor (Expr.log safe * (1.0 / Math.Log 2.0)))
                let scale = Expr.stopGradient (Expr.where huge power (Expr.scalar x.DType 1.0))
                scale, epsilon / Expr.square scale
        let scaled = x / scale
        // Centred about the first entry over the axes, held (no derivative: the function does not depend on it),
        // before the mean: a constant group is then exactly 0 here, as in torch's running mean, where Σx/n can miss
        // x by an ulp and leave noise that the second derivative amplifies (`fuzz 8/1213`: 1.7e-11 where the closed
        // form, 0 at a constant row, is torch's); differences of nearby entries are also exact (Sterbenz), where
        // x − mean of a group far from 0 lost digits.
        let shifted =
            if count = 0 then scaled
            else
                // the first entry sliced from x, then scaled: the same value as a slice of `scaled`,
                // but `scaled` then has one reader and its division joins the subtraction's pass
                let mutable first = x
                for a in axes do
                    first <- Expr.sliceAxis a 0 1 first
                scaled - Expr.stopGradient (first / scale)
        // centre's rule centres the derivatives about their first entries too (a constant group's are exactly 0)
        let centred = if count = 0 then shifted - Expr.meanAxes axes true shifted else centre axes shifted
        let variance = Expr.meanAxes axes true (Expr.square centred)
        centred * Expr.rsqrt (variance + epsilon)

    /// Fails unless a norm's weight and bias broadcast to its input.
    let internal checkAffine (name: string) (weight: Expr) (bias: Expr) (x: Expr) =
        for p in [ weight; bias ] do
            if not (Shape.broadcastsTo p.Dims x.Dims) then
                Shape.fail name (sprintf "weight %s and bias %s must broadcast to the input %s" (Shape.format weight.Dims) (Shape.format bias.Dims) (Shape.format x.Dims))

    /// Layer normalisation over the last axis with torch's biased variance, then scale and shift:
    /// (x - mean x) / sqrt(var x + ε) · weight + bias (see normaliseOver for rows of huge entries).
    let layerNorm (epsilon: float) (weight: Expr) (bias: Expr) (x: Expr) =
        if x.Rank < 1 then Shape.fail "LayerNorm" (sprintf "needs rank >= 1, got %s" (Shape.format x.Dims))
        checkAffine "LayerNorm" weight bias x
        normaliseOver [| x.Rank - 1 |] epsilon x * weight + bias
