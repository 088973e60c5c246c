/// Optimizers as pure updates, in the spirit of optax: `init` makes a state from the parameters,
/// `update` maps (state, parameters, gradients) to (new parameters, new state) and mutates
/// nothing. Each update follows torch.optim's single-tensor CPU definition operation by
/// operation (including where torch rounds a Python float to the tensor's dtype). The element
/// steps compute in float64 and round every operation's result to the parameter's dtype: for
/// +, −, ×, ÷ and √ that gives exactly float32's own result (float64 has more than twice
/// float32's precision plus two bits), so one kernel serves both dtypes.
namespace FunctionalDiff.Core

open System

/// What an optimizer carries from one step to the next: the number of steps taken and, per
/// parameter, its slots (moments, momentum buffers) in the parameter's dtype, each of the
/// parameter's shape except a scalar that the optimizer keeps per parameter (NAdam's product of momenta).
type OptimizerState =
    { Step: int
      Slots: Tensor[][] }

/// An optimizer as a pair of pure functions over arrays of parameters.
type Optimizer =
    { /// The optimizer's name, used in error messages.
      Name: string
      /// The state before the first step.
      Init: Tensor[] -> OptimizerState
      /// One step: (state, parameters, gradients) to (new parameters, new state).
      Update: OptimizerState -> Tensor[] -> Tensor[] -> Tensor[] * OptimizerState }

/// The optimizers of torch.optim with its defaults and its update order.
[<RequireQualifiedAccess>]
module Optimizers =

    /// One parameter's step on float64 copies of its elements, overwritten in place (nothing else
    /// holds them). `round` maps an exact float64 result to the parameter's dtype.
    type private ElementStep = (float -> float) -> float[] -> float[] -> float[][] -> unit

    let private roundTo (dtype: DType) : float -> float =
        match dtype with
        | DType.Float64 -> id
        | DType.Float32 -> fun x -> float (float32 x)

    let private ofDtype (dtype: DType) (shape: int[]) (values: float[]) =
        match dtype with
        | DType.Float64 -> Tensor.OwnDense(Array.copy shape, values)
        | DType.Float32 -> Tensor.OwnDense(Array.copy shape, Array.map float32 values)

    /// torch's lerp in one dtype: start + w(end − start) for |w| < 0.5, else end − (end − start)(1 − w).
    let private lerp (r: float -> float) (start: float) (finish: float) (w: float) =
        if abs w < 0.5 then r (start + r (w * r (finish - start)))
        else r (finish - r (r (finish - start) * r (1.0 - w)))

    let private checkArguments (name: string) (parameters: Tensor[]) (gradients: Tensor[]) (state: OptimizerState) =
        if isNull parameters then nullArg "parameters"
        if isNull gradients then nullArg "gradients"
        if gradients.Length <> parameters.Length then
            invalidArg "gradients" (sprintf "%s.Update: %d gradients for %d parameters" name gradients.Length parameters.Length)
        if state.Slots.Length <> parameters.Length then
            invalidArg "state" (sprintf "%s.Update: the state holds slots for %d parameters, not %d" name state.Slots.Length parameters.Length)
        for i in 0 .. parameters.Length - 1 do
            let p, g = parameters.[i], gradients.[i]
            if isNull (box p) then nullArg "parameters"
            if isNull (box g) then nullArg "gradients"
            if p.Dims <> g.Dims || p.DType <> g.DType then
                raise (ShapeException(sprintf "%s.Update: gradient %d has shape %s and dtype %O, its parameter %s and %O"
                                          name i (Shape.format g.Dims) g.DType (Shape.format p.Dims) p.DType))

    /// An optimizer from its number of slots and its element step for a given step count.
    let private make (name: string) (slotCount: int) (stepFor: int -> ElementStep) : Optimizer =
        let init (parameters: Tensor[]) =
            if isNull parameters then nullArg "parameters"
            { Step = 0
              Slots = parameters |> Array.map (fun p -> Array.init slotCount (fun _ -> Tensor.Zeros(p.Shape, p.DType))) }
        let update (state: OptimizerState) (parameters: Tensor[]) (gradients: Tensor[]) =
            checkArguments name parameters gradients state
            let step = state.Step + 1
            let kernel = stepFor step
            let results = Array.zeroCreate parameters.Length
            let slots = Array.zeroCreate parameters.Length
            for i in 0 .. parameters.Length - 1 do
                let p, g = parameters.[i], gradients.[i]
                let values, slotValues = p.ToDoubleArray(), state.Slots.[i] |> Array.map (fun s -> s.ToDoubleArray())
                kernel (roundTo p.DType) values (g.ToDoubleArray()) slotValues
                results.[i] <- ofDtype p.DType p.Dims values
                // a slot keeps its own shape: most are the parameter's, NAdam's running product of momenta is a scalar
                slots.[i] <- Array.map2 (fun (s: Tensor) v -> ofDtype p.DType s.Dims v) state.Slots.[i] slotValues
            results, { Step = step; Slots = slots }
        { Name = name; Init = init; Update = update }

    let private checkHyper (name: string) (parameter: string) (value: float) (ok: bool) =
        if not ok || Double.IsNaN value then
            raise (ArgumentOutOfRangeException(parameter, value, sprintf "%s: %s = %g is out of range" name parameter value))

    /// The checks torch makes of the Adam family's hyperparameters.
    let private checkAdamFamily (name: string) (lr: float) (beta1: float) (beta2: float) (eps: float) (weightDecay: float) =
        checkHyper name "lr" lr (lr >= 0.0)
        checkHyper name "beta1" beta1 (beta1 >= 0.0 && beta1 < 1.0)
        checkHyper name "beta2" beta2 (beta2 >= 0.0 && beta2 < 1.0)
        checkHyper name "eps" eps (eps >= 0.0)
        checkHyper name "weightDecay" weightDecay (weightDecay >= 0.0)

    /// torch.optim.SGD: weight decay added to the gradient, then a momentum buffer (the first
    /// gradient itself at step 1, then momentum·buf + (1 − dampening)·g), then Nesterov's
    /// look-ahead g + momentum·buf if asked, then p − lr·d.
    let sgd (lr: float) (momentum: float) (dampening: float) (nesterov: bool) (weightDecay: float) : Optimizer =
        checkHyper "SGD" "lr" lr (lr >= 0.0)
        checkHyper "SGD" "momentum" momentum (momentum >= 0.0)
        checkHyper "SGD" "weightDecay" weightDecay (weightDecay >= 0.0)
        if nesterov && (momentum <= 0.0 || dampening <> 0.0) then
            invalidArg "nesterov" "SGD: Nesterov momentum needs momentum > 0 and dampening = 0"
        let slotCount = if momentum <> 0.0 then 1 else 0
        make "SGD" slotCount (fun step r p g slots ->
            // torch rounds each Python float hyperparameter to the dtype
            let wd, mu, keep, negLr = r weightDecay, r momentum, r (1.0 - dampening), r (-lr)
            for i in 0 .. p.Length - 1 do
                let mutable d = if weightDecay <> 0.0 then r (g.[i] + r (wd * p.[i])) else g.[i]
                if momentum <> 0.0 then
                    let buf = slots.[0]
                    buf.[i] <- if step = 1 then d else r (r (buf.[i] * mu) + r (keep * d))
                    d <- if nesterov then r (d + r (mu * buf.[i])) else buf.[i]
                p.[i] <- r (p.[i] + r (negLr * d)))

    /// torch.optim.Adam, or AdamW when `decoupled` (the parameter shrinks by 1 − lr·wd before
    /// the step instead of wd·p joining the gradient). m ← lerp(m, g, 1 − β1);
    /// v ← β2·v + (1 − β2)·g·g; p ← p − (lr / (1 − β1^t))·m / (√v / √(1 − β2^t) + ε). With
    /// `amsgrad` the denominator uses the largest v so far (a third slot) instead of v.
    let private adamLike (name: string) (decoupled: bool) (amsgrad: bool) (lr: float) (beta1: float) (beta2: float) (eps: float) (weightDecay: float) =
        checkAdamFamily name lr beta1 beta2 eps weightDecay
        make name (if amsgrad then 3 else 2) (fun step r p g slots ->
            // the bias corrections are Python floats in torch: float64, rounded once to the dtype
            let correction1 = 1.0 - Math.Pow(beta1, float step)
            let correction2Root = Math.Sqrt(1.0 - Math.Pow(beta2, float step))
            let m, v = slots.[0], slots.[1]
            let wd, shrink = r weightDecay, r (1.0 - lr * weightDecay)
            let oneMinusBeta1, beta2T, oneMinusBeta2 = r (1.0 - beta1), r beta2, r (1.0 - beta2)
            let negStepSize, root, epsT = r (-(lr / correction1)), r correction2Root, r eps
            for i in 0 .. p.Length - 1 do
                if decoupled then p.[i] <- r (p.[i] * shrink)
                let gi = if not decoupled && weightDecay <> 0.0 then r (g.[i] + r (wd * p.[i])) else g.[i]
                m.[i] <- lerp r m.[i] gi oneMinusBeta1
                // addcmul: v + (value · g) · g
                v.[i] <- r (r (v.[i] * beta2T) + r (r (oneMinusBeta2 * gi) * gi))
                // torch.maximum propagates NaN, as Math.Max does
                let second = if amsgrad then (slots.[2].[i] <- Math.Max(slots.[2].[i], v.[i]); slots.[2].[i]) else v.[i]
                let denominator = r (r (r (Math.Sqrt second) / root) + epsT)
                // addcdiv: p + (value · m) / denominator
                p.[i] <- r (p.[i] + r (r (negStepSize * m.[i]) / denominator)))

    /// torch.optim.Adam (weight decay joins the gradient, L2 style).
    let adam (lr: float) (beta1: float) (beta2: float) (eps: float) (weightDecay: float) =
        adamLike "Adam" false false lr beta1 beta2 eps weightDecay

    /// torch.optim.AdamW (decoupled weight decay; torch's default weightDecay is 0.01).
    let adamW (lr: float) (beta1: float) (beta2: float) (eps: float) (weightDecay: float) =
        adamLike "AdamW" true false lr beta1 beta2 eps weightDecay

    /// torch.optim.Adam with amsgrad=True: the denominator uses the largest second moment so far.
    let adamAmsgrad (lr: float) (beta1: float) (beta2: float) (eps: float) (weightDecay: float) =
        adamLike "Adam" false true lr beta1 beta2 eps weightDecay

    /// torch.optim.AdamW with amsgrad=True.
    let adamWAmsgrad (lr: float) (beta1: float) (beta2: float) (eps: float) (weightDecay: float) =
        adamLike "AdamW" true true lr beta1 beta2 eps weightDecay

    /// torch.optim.Adagrad: weight decay joins the gradient, s ← s + g·g (s starts at
    /// `initialAccumulatorValue`), p ← p − clr·g / (√s + ε) with clr = lr / (1 + (t − 1)·lrDecay).
    let adagrad (lr: float) (lrDecay: float) (weightDecay: float) (initialAccumulatorValue: float) (eps: float) : Optimizer =
        checkHyper "Adagrad" "lr" lr (lr >= 0.0)
        checkHyper "Adagrad" "lrDecay" lrDecay (lrDecay >= 0.0)
        checkHyper "Adagrad" "weightDecay" weightDecay (weightDecay >= 0.0)
        checkHyper "Adagrad" "initialAccumulatorValue" initialAccumulatorValue (initialAccumulatorValue >= 0.0)
        checkHyper "Adagrad" "eps" eps (eps >= 0.0)
        let optimizer =
            make "Adagrad" 1 (fun step r p g slots ->
                // clr is a Python float in torch: float64, rounded once to the dtype
                let negClr = r (-(lr / (1.0 + float (step - 1) * lrDecay)))
                let wd, epsT = r weightDecay, r eps
                let sum = slots.[0]
                for i in 0 .. p.Length - 1 do
                    let gi = if weightDecay <> 0.0 then r (g.[i] + r (wd * p.[i])) else g.[i]
                    // addcmul with value 1: s + g·g
                    sum.[i] <- r (sum.[i] + r (gi * gi))
                    let std = r (r (Math.Sqrt sum.[i]) + epsT)
                    // addcdiv: p + (value · g) / std
                    p.[i] <- r (p.[i] + r (r (negClr * gi) / std)))
        // torch starts the sum at full_like(p, initialAccumulatorValue), not at zero
        let init (parameters: Tensor[]) =
            let state = optimizer.Init parameters
            { state with Slots = parameters |> Array.map (fun p -> [| Tensor.Full(p.Shape, initialAccumulatorValue, p.DType) |]) }
        { optimizer with Init = init }

    /// torch.optim.RMSprop: s ← α·s + (1 − α)·g·g; when centered, a ← lerp(a, g, 1 − α) and the
    /// denominator is √(s − a·a) + ε, else √s + ε; with momentum, b ← μ·b + g/denominator and
    /// p ← p − lr·b, else p ← p − lr·g/denominator.
    let rmsprop (lr: float) (alpha: float) (eps: float) (weightDecay: float) (momentum: float) (centered: bool) : Optimizer =
        checkHyper "RMSprop" "lr" lr (lr >= 0.0)
        checkHyper "RMSprop" "alpha" alpha (alpha >= 0.0)
        checkHyper "RMSprop" "eps" eps (eps >= 0.0)
        checkHyper "RMSprop" "weightDecay" weightDecay (weightDecay >= 0.0)
        checkHyper "RMSprop" "momentum" momentum (momentum >= 0.0)
        // slot 0: the square average; 1: the momentum buffer; 2: the gradient average
        make "RMSprop" 3 (fun _ r p g slots ->
            let square, buf, average = slots.[0], slots.[1], slots.[2]
            let wd, alphaT, oneMinusAlpha, epsT = r weightDecay, r alpha, r (1.0 - alpha), r eps
            let mu, negLr = r momentum, r (-lr)
            for i in 0 .. p.Length - 1 do
                let gi = if weightDecay <> 0.0 then r (g.[i] + r (wd * p.[i])) else g.[i]
                square.[i] <- r (r (square.[i] * alphaT) + r (r (oneMinusAlpha * gi) * gi))
                let root =
                    if centered then
                        average.[i] <- lerp r average.[i] gi oneMinusAlpha
                        r (Math.Sqrt(r (square.[i] + r (-average.[i] * average.[i]))))
                    else r (Math.Sqrt square.[i])
                let denominator = r (root + epsT)
                if momentum > 0.0 then
                    buf.[i] <- r (r (buf.[i] * mu) + r (gi / denominator))
                    p.[i] <- r (p.[i] + r (negLr * buf.[i]))
                else p.[i] <- r (p.[i] + r (r (negLr * gi) / denominator)))

    /// torch.optim.Adamax: weight decay joins the gradient, m ← lerp(m, g, 1 − β1), u ← max(β2·u, |g| + ε)
    /// (NaN-propagating, as torch.maximum), p ← p − (lr / (1 − β1^t))·m / u.
    let adamax (lr: float) (beta1: float) (beta2: float) (eps: float) (weightDecay: float) : Optimizer =
        checkAdamFamily "Adamax" lr beta1 beta2 eps weightDecay
        make "Adamax" 2 (fun step r p g slots ->
            // clr is a Python float in torch: float64, rounded once to the dtype
            let negClr = r (-(lr / (1.0 - Math.Pow(beta1, float step))))
            let m, u = slots.[0], slots.[1]
            let wd, oneMinusBeta1, beta2T, epsT = r weightDecay, r (1.0 - beta1), r beta2, r eps
            for i in 0 .. p.Length - 1 do
                let gi = if weightDecay <> 0.0 then r (g.[i] + r (wd * p.[i])) else g.[i]
                m.[i] <- lerp r m.[i] gi oneMinusBeta1
                u.[i] <- Math.Max(r (u.[i] * beta2T), r (abs gi + epsT))
                p.[i] <- r (p.[i] + r (r (negClr * m.[i]) / u.[i])))

    /// torch.optim.Adadelta: weight decay joins the gradient, s ← ρ·s + (1 − ρ)·g·g,
    /// δ = √(a + ε) / √(s + ε) · g, a ← ρ·a + (1 − ρ)·δ·δ, p ← p − lr·δ.
    let adadelta (lr: float) (rho: float) (eps: float) (weightDecay: float) : Optimizer =
        checkHyper "Adadelta" "lr" lr (lr >= 0.0)
        checkHyper "Adadelta" "rho" rho (rho >= 0.0 && rho <= 1.0)
        checkHyper "Adadelta" "eps" eps (eps >= 0.0)
        checkHyper "Adadelta" "weightDecay" weightDecay (weightDecay >= 0.0)
        // slot 0: the square average; 1: the accumulated squared updates
        make "Adadelta" 2 (fun _ r p g slots ->
            let square, accumulated = slots.[0], slots.[1]
            let wd, rhoT, oneMinusRho, epsT, negLr = r weightDecay, r rho, r (1.0 - rho), r eps, r (-lr)
            for i in 0 .. p.Length - 1 do
                let gi = if weightDecay <> 0.0 then r (g.[i] + r (wd * p.[i])) else g.[i]
                square.[i] <- r (r (square.[i] * rhoT) + r (r (oneMinusRho * gi) * gi))
                let std = r (Math.Sqrt(r (square.[i] + epsT)))
                let delta = r (r (r (Math.Sqrt(r (accumulated.[i] + epsT))) / std) * gi)
                accumulated.[i] <- r (r (accumulated.[i] * rhoT) + r (r (oneMinusRho * delta) * delta))
                p.[i] <- r (p.[i] + r (negLr * delta)))

    /// Weight decay as torch's NAdam and RAdam apply it: decoupled (the parameter shrinks by 1 − lr·wd before the step,
    /// as AdamW) or joined to the gradient (L2). Returns the gradient the step uses.
    let private decay (r: float -> float) (decoupled: bool) (lr: float) (weightDecay: float) (p: float[]) (g: float[]) (i: int) =
        if weightDecay = 0.0 then g.[i]
        elif decoupled then
            p.[i] <- r (p.[i] * r (1.0 - lr * weightDecay))
            g.[i]
        else r (g.[i] + r (r weightDecay * p.[i]))

    /// torch.optim.NAdam (Dozat's Nesterov Adam with torch's momentum schedule): at step t the momentum is
    /// μ_t = β1·(1 − ½·0.96^(t·ψ)) for ψ = momentumDecay, their running product Π_t is kept per parameter (a scalar slot
    /// in the parameter's dtype, as torch keeps a scalar tensor), m and v move as Adam's, and
    /// p ← p − lr(1 − μ_t)/(1 − Π_t)·g/d − lr·μ_{t+1}/(1 − Π_t·μ_{t+1})·m/d with d = √(v / (1 − β2^t)) + ε.
    let nadam (lr: float) (beta1: float) (beta2: float) (eps: float) (weightDecay: float) (momentumDecay: float) (decoupledWeightDecay: bool) : Optimizer =
        checkAdamFamily "NAdam" lr beta1 beta2 eps weightDecay
        checkHyper "NAdam" "momentumDecay" momentumDecay (momentumDecay >= 0.0)
        let optimizer =
            make "NAdam" 3 (fun step r p g slots ->
                let momentumAt t = beta1 * (1.0 - 0.5 * Math.Pow(0.96, float t * momentumDecay))
                let mu, muNext = momentumAt step, momentumAt (step + 1)
                let m, v, product = slots.[0], slots.[1], slots.[2]
                product.[0] <- r (product.[0] * r mu)
                // the step sizes are Python floats in torch, from the product's value: float64, rounded once to the dtype
                let gradientStep = r (-lr * (1.0 - mu) / (1.0 - product.[0]))
                let momentStep = r (-lr * muNext / (1.0 - product.[0] * muNext))
                let oneMinusBeta1, beta2T, oneMinusBeta2 = r (1.0 - beta1), r beta2, r (1.0 - beta2)
                let correction2, epsT = r (1.0 - Math.Pow(beta2, float step)), r eps
                for i in 0 .. p.Length - 1 do
                    let gi = decay r decoupledWeightDecay lr weightDecay p g i
                    m.[i] <- lerp r m.[i] gi oneMinusBeta1
                    v.[i] <- r (r (v.[i] * beta2T) + r (r (oneMinusBeta2 * gi) * gi))
                    let denominator = r (r (Math.Sqrt(r (v.[i] / correction2))) + epsT)
                    p.[i] <- r (p.[i] + r (r (gradientStep * gi) / denominator))
                    p.[i] <- r (p.[i] + r (r (momentStep * m.[i]) / denominator)))
        // torch starts the product at 1
        let init (parameters: Tensor[]) =
            let state = optimizer.Init parameters
            { state with Slots = Array.map2 (fun (slots: Tensor[]) (p: Tensor) -> [| slots.[0]; slots.[1]; Tensor.Full([||], 1.0, p.DType) |]) state.Slots parameters }
        { optimizer with Init = init }

    /// torch.optim.RAdam (rectified Adam): m and v move as Adam's; with ρ∞ = 2/(1 − β2) − 1 and
    /// ρ_t = ρ∞ − 2t·β2^t/(1 − β2^t), the step is lr·m̂·√(1 − β2^t)/(√v + ε)·r_t where ρ_t > 5, with the rectification
    /// r_t = √((ρ_t − 4)(ρ_t − 2)ρ∞ / ((ρ∞ − 4)(ρ∞ − 2)ρ_t)), and lr·m̂ (no second moment) before; m̂ = m/(1 − β1^t).
    let radam (lr: float) (beta1: float) (beta2: float) (eps: float) (weightDecay: float) (decoupledWeightDecay: bool) : Optimizer =
        checkAdamFamily "RAdam" lr beta1 beta2 eps weightDecay
        make "RAdam" 2 (fun step r p g slots ->
            let t = float step
            let correction1, correction2 = 1.0 - Math.Pow(beta1, t), 1.0 - Math.Pow(beta2, t)
            let rhoInf = 2.0 / (1.0 - beta2) - 1.0
            let rhoT = rhoInf - 2.0 * t * Math.Pow(beta2, t) / correction2
            let rectified = rhoT > 5.0
            let rectification = r (Math.Sqrt((rhoT - 4.0) * (rhoT - 2.0) * rhoInf / ((rhoInf - 4.0) * (rhoInf - 2.0) * rhoT)))
            let m, v = slots.[0], slots.[1]
            let oneMinusBeta1, beta2T, oneMinusBeta2 = r (1.0 - beta1), r beta2, r (1.0 - beta2)
            let correction1T, correction2Root, lrT, epsT = r correction1, r (Math.Sqrt correction2), r lr, r eps
            for i in 0 .. p.Length - 1 do
                let gi = decay r decoupledWeightDecay lr weightDecay p g i
                m.[i] <- lerp r m.[i] gi oneMinusBeta1
                v.[i] <- r (r (v.[i] * beta2T) + r (r (oneMinusBeta2 * gi) * gi))
                let scaled = r (r (m.[i] / correction1T) * lrT)
                let update =
                    if rectified then
                        // torch's float / tensor is the tensor's reciprocal times the float
                        let adaptive = r (r (1.0 / r (r (Math.Sqrt v.[i]) + epsT)) * correction2Root)
                        r (r (scaled * adaptive) * rectification)
                    else scaled
                p.[i] <- r (p.[i] - update))

    /// clipGradNorm with torch's norm_type: the joint p-norm of the per-tensor p-norms, (Σ|v|^p)^(1/p) for p > 0 and
    /// max |v| for +∞ (torch's float('inf')).
    let clipGradNormOf (normType: float) (maxNorm: float) (gradients: Tensor[]) : Tensor[] * float =
        if isNull gradients then nullArg "gradients"
        if not (maxNorm >= 0.0) then
            raise (ArgumentOutOfRangeException("maxNorm", maxNorm, sprintf "ClipGradNorm: maxNorm = %g must be ≥ 0" maxNorm))
        if not (normType > 0.0) then
            raise (ArgumentOutOfRangeException("normType", normType, sprintf "ClipGradNorm: normType = %g must be > 0 or +infinity" normType))
        let norm (values: float[]) =
            if normType = 2.0 then
                let mutable squares = 0.0
                for v in values do
                    squares <- squares + v * v
                Math.Sqrt squares
            elif Double.IsPositiveInfinity normType then
                // Math.Max keeps a NaN, as torch's amax
                values |> Array.fold (fun m v -> Math.Max(m, abs v)) 0.0
            else
                let mutable sum = 0.0
                for v in values do
                    sum <- sum + Math.Pow(abs v, normType)
                Math.Pow(sum, 1.0 / normType)
        let norms =
            gradients |> Array.map (fun g ->
                if isNull (box g) then nullArg "gradients"
                // each tensor's norm in its own dtype, as torch's per-tensor vector_norm
                roundTo g.DType (norm (g.ToDoubleArray())))
        let total = norm norms
        // Math.Min keeps a NaN factor, so a non-finite norm poisons every gradient, as in torch
        let factor = Math.Min(maxNorm / (total + 1e-6), 1.0)
        let scaled =
            gradients |> Array.map (fun g ->
                let r = roundTo g.DType
                let f = r factor
                ofDtype g.DType g.Dims (g.ToDoubleArray() |> Array.map (fun v -> r (v * f))))
        scaled, total

    /// torch.nn.utils.clip_grad_norm_ without the mutation: the gradients scaled together so that
    /// their joint 2-norm is at most maxNorm, and that norm before scaling. As torch: the joint norm
    /// is the norm of the per-tensor norms, the factor is maxNorm / (norm + 1e-6) capped at 1, and
    /// every gradient is multiplied by it even when it is 1 (torch's error_if_nonfinite=False: a NaN
    /// norm makes every gradient NaN, an infinite one makes them 0 and NaN where infinite). The norms are accumulated in float64 and the
    /// factor rounded to each gradient's dtype before the product.
    let clipGradNorm (maxNorm: float) (gradients: Tensor[]) : Tensor[] * float = clipGradNormOf 2.0 maxNorm gradients


    /// torch.nn.utils.clip_grad_value_ without the mutation: every gradient entry clamped to
    /// [−clipValue, clipValue] in its own dtype; a NaN entry stays NaN, as torch's clamp leaves it.
    let clipGradValue (clipValue: float) (gradients: Tensor[]) : Tensor[] =
        if isNull gradients then nullArg "gradients"
        if not (clipValue >= 0.0) then
            raise (ArgumentOutOfRangeException("clipValue", clipValue, sprintf "ClipGradValue: clipValue = %g must be ≥ 0" clipValue))
        gradients |> Array.map (fun g ->
            if isNull (box g) then nullArg "gradients"
            let r = roundTo g.DType
            let high = r clipValue
            // comparisons with NaN are false, so a NaN entry passes through unchanged
            let clamp v = if v > high then high elif v < -high then -high else v
            ofDtype g.DType g.Dims (g.ToDoubleArray() |> Array.map clamp))
