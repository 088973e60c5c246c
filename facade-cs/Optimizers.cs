using CoreOptimizer = FunctionalDiff.Core.Optimizer;
using CoreOptimizers = FunctionalDiff.Core.Optimizers;
using CoreState = FunctionalDiff.Core.OptimizerState;
using CoreTensor = FunctionalDiff.Core.Tensor;

namespace FunctionalDiff;

/// <summary>
/// A stateful optimizer over a <see cref="Parameters"/> collection, as torch.optim's are:
/// <c>opt.Step(gradients)</c> moves <see cref="Parameters"/> one step. Underneath it is a pure
/// update (state in, state out) from the core, which F# code can use directly
/// (<c>Optimizers.adam</c> and its <c>Init</c>/<c>Update</c>). Each follows torch.optim's
/// definition operation by operation, in the parameters' dtype.
/// </summary>
public abstract class Optimizer
{
    // the core optimizer for a learning rate and a momentum (SGD's and RMSprop's momentum, the Adam family's beta1; NaN for an
    // optimizer without one): every other hyperparameter is fixed at construction
    readonly Func<double, double, CoreOptimizer> withRates;
    CoreOptimizer core;
    double learningRate;
    double momentum;
    CoreState state;

    private protected Optimizer(Func<double, CoreOptimizer> withLearningRate, double lr, Parameters parameters)
        : this((rate, _) => withLearningRate(rate), lr, double.NaN, parameters) { }

    private protected Optimizer(Func<double, double, CoreOptimizer> withRates, double lr, double momentum, Parameters parameters)
    {
        this.withRates = withRates;
        core = withRates(lr, momentum);
        learningRate = lr;
        this.momentum = momentum;
        ArgumentNullException.ThrowIfNull(parameters);
        // torch.optim refuses an empty parameter list too: it is almost always a model whose
        // parameters were never collected, and every step would silently do nothing
        if (parameters.Count == 0)
            throw new ArgumentException($"{GetType().Name}: the parameter list is empty", nameof(parameters));
        Parameters = parameters;
        state = core.Init.Invoke(parameters.Values.Select(t => t.Value).ToArray());
    }

    /// <summary>
    /// The learning rate of the next steps. Setting it keeps everything else (moments, momentum
    /// buffers, the step count), as assigning <c>param_group["lr"]</c> between steps does in torch,
    /// so a schedule is a loop that sets it before each step.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is negative or NaN.</exception>
    public double LearningRate
    {
        get => learningRate;
        set
        {
            if (!(value >= 0))
                throw new ArgumentOutOfRangeException(nameof(value), value, $"{GetType().Name}.LearningRate: {value} must be ≥ 0");
            // the state's layout depends only on the hyperparameters that stay, so it carries over
            core = withRates(value, momentum);
            learningRate = value;
        }
    }

    /// <summary>The learning rate when the first scheduler was made on this optimizer (torch's param_group["initial_lr"]), the base of every scheduler made on it; null before.</summary>
    internal double? InitialLearningRate { get; set; }

    /// <summary>Whether the optimizer has a momentum a schedule may set (SGD's and RMSprop's momentum, the Adam family's beta1).</summary>
    internal bool HasMomentum => !double.IsNaN(momentum);

    /// <summary>
    /// The momentum of the next steps (SGD's and RMSprop's momentum, the Adam family's beta1), as assigning
    /// <c>param_group["momentum"]</c> or <c>["betas"]</c> between steps in torch: the state carries over. A momentum
    /// buffer that SGD or RMSprop did not keep (momentum 0 when made) is started if the momentum is set before the first
    /// step.
    /// </summary>
    /// <exception cref="InvalidOperationException">A momentum is set after steps taken without one.</exception>
    internal double MomentumValue
    {
        get => momentum;
        set
        {
            var next = withRates(learningRate, value);
            // Only a momentum leaving 0 can need slots the state lacks (SGD keeps its buffer only for a nonzero momentum),
            // so the schedules that set it every step make no state here. A buffer that stays when the momentum returns to
            // 0 is ignored and used again later, as torch keeps its momentum_buffer.
            if (momentum == 0 && value != 0)
            {
                var fresh = next.Init.Invoke(Parameters.Values.Select(t => t.Value).ToArray());
                bool moreSlots = fresh.Slots.Zip(state.Slots).Any(p => p.First.Length > p.Second.Length);
                if (moreSlots && state.Step > 0)
                    throw new InvalidOperationException($"{GetType().Name}: the momentum cannot become {value} after {state.Step} steps taken with momentum 0, which kept no momentum buffer");
                if (moreSlots) state = fresh;
            }
            core = next;
            momentum = value;
        }
    }

    /// <summary>The parameters after the steps taken so far.</summary>
    public Parameters Parameters { get; private set; }

    /// <summary>The number of steps taken.</summary>
    public int StepCount => state.Step;

    /// <summary>
    /// One step with the gradients of the current <see cref="Parameters"/>, matched by name (their
    /// order does not matter). Returns the new parameters, which <see cref="Parameters"/> now holds.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A parameter has no gradient, a gradient names no parameter, or a gradient's shape or dtype
    /// differs from its parameter's.
    /// </exception>
    public Parameters Step(Parameters gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        var method = GetType().Name + ".Step";
        var names = Parameters.NameArray;
        var g = new CoreTensor[names.Length];
        for (int i = 0; i < names.Length; i++)
        {
            if (!gradients.TryGetValue(names[i], out var t))
                throw new ArgumentException($"{method}: no gradient named '{names[i]}' (the gradients are named {string.Join(", ", gradients.Names)})", nameof(gradients));
            var p = Parameters.Values[i];
            if (!t.Shape.AsSpan().SequenceEqual(p.Shape) || t.DType != p.DType)
                throw new ArgumentException(
                    $"{method}: the gradient '{names[i]}' has shape {Format(t)}, its parameter {Format(p)}", nameof(gradients));
            g[i] = t.Value;
        }
        // every gradient was matched above; more gradients than parameters means one names none
        if (gradients.Count != names.Length)
        {
            var stray = gradients.Names.First(n => !Parameters.ContainsKey(n));
            throw new ArgumentException($"{method}: the gradient '{stray}' names no parameter (the parameters are {string.Join(", ", names)})", nameof(gradients));
        }
        var (updated, next) = core.Update.Invoke(state).Invoke(Parameters.Values.Select(t => t.Value).ToArray()).Invoke(g);
        state = next;
        // the optimizer's state outlives any DisposeScope around the step
        Parameters = new Parameters(names, updated.Select(t => new Tensor(t, unscoped: true)).ToArray());
        return Parameters;
    }

    /// <summary>
    /// One step with symbolic gradients, such as those <see cref="Diff.ValueAndGrad(Func{IReadOnlyDictionary{string, Expr}, Expr}, Parameters)"/>
    /// returns: they are evaluated together (one pass over the forward graph they share), then applied as
    /// <see cref="Step(Parameters)"/> applies tensors. A compiled step (<see cref="Diff.CompileValueAndGrad(Func{IReadOnlyDictionary{string, Expr}, Expr[], Expr})"/>)
    /// is faster in a loop; this is for the uncompiled spelling torch users write first.
    /// </summary>
    /// <exception cref="ArgumentException">As <see cref="Step(Parameters)"/>.</exception>
    public Parameters Step(IReadOnlyDictionary<string, Expr> gradients)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        var names = gradients.Keys.ToArray();
        var values = Expr.EvalMany(names.Select(n => gradients[n]).ToArray());
        return Step(new Parameters(names, values));
    }

    /// <summary>
    /// torch.nn.utils.clip_grad_norm_ without the mutation: the gradients scaled together so that their joint 2-norm is
    /// at most <paramref name="maxNorm"/>, and that norm before scaling (torch's return value). As torch, the factor is
    /// maxNorm / (norm + 1e-6) capped at 1, and a NaN norm makes every gradient NaN. Pass the result to
    /// <see cref="Step(Parameters)"/>: <c>var (clipped, norm) = Optimizer.ClipGradNorm(gradients, 1.0); adam.Step(clipped);</c>
    /// (F#: <c>Optimizers.clipGradNorm maxNorm gradients</c>, or <c>Optimizers.clipGradNormOf normType maxNorm gradients</c>).
    /// </summary>
    /// <param name="gradients">The gradients, by parameter name.</param>
    /// <param name="maxNorm">The largest joint norm kept (torch's max_norm).</param>
    /// <param name="normType">torch's norm_type: p of the p-norm, or <see cref="double.PositiveInfinity"/> for the largest |entry|.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is negative or NaN, or
    /// <paramref name="normType"/> is not positive.</exception>
    public static (Parameters Gradients, double TotalNorm) ClipGradNorm(Parameters gradients, double maxNorm, double normType = 2.0)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        var (scaled, total) = CoreOptimizers.clipGradNormOf(normType, maxNorm, gradients.Values.Select(t => t.Value).ToArray());
        return (new Parameters(gradients.NameArray, scaled.Select(t => new Tensor(t)).ToArray()), total);
    }

    /// <summary>
    /// <see cref="ClipGradNorm(Parameters, double, double)"/> of symbolic gradients, such as those
    /// <see cref="Diff.ValueAndGrad(Func{IReadOnlyDictionary{string, Expr}, Expr}, Parameters)"/> returns: they are
    /// evaluated together (one pass over the forward graph they share), then clipped.
    /// </summary>
    /// <param name="gradients">The symbolic gradients, by parameter name.</param>
    /// <param name="maxNorm">The largest joint norm kept (torch's max_norm).</param>
    /// <param name="normType">torch's norm_type: p of the p-norm, or <see cref="double.PositiveInfinity"/> for the largest |entry|.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxNorm"/> is negative or NaN, or
    /// <paramref name="normType"/> is not positive.</exception>
    public static (Parameters Gradients, double TotalNorm) ClipGradNorm(IReadOnlyDictionary<string, Expr> gradients, double maxNorm, double normType = 2.0)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        var names = gradients.Keys.ToArray();
        var values = Expr.EvalMany(names.Select(n => gradients[n]).ToArray());
        return ClipGradNorm(new Parameters(names, values), maxNorm, normType);
    }

    /// <summary>
    /// torch.nn.utils.clip_grad_value_ without the mutation: every gradient entry clamped to [−clipValue, clipValue]
    /// (a NaN entry stays NaN, as torch's clamp leaves it). Pass the result to <see cref="Step(Parameters)"/>:
    /// <c>adam.Step(Optimizer.ClipGradValue(gradients, 0.5))</c> (F#: <c>Optimizers.clipGradValue clipValue gradients</c>).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="clipValue"/> is negative or NaN.</exception>
    public static Parameters ClipGradValue(Parameters gradients, double clipValue)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        var clipped = CoreOptimizers.clipGradValue(clipValue, gradients.Values.Select(t => t.Value).ToArray());
        return new Parameters(gradients.NameArray, clipped.Select(t => new Tensor(t)).ToArray());
    }

    /// <summary>
    /// <see cref="ClipGradValue(Parameters, double)"/> of symbolic gradients, evaluated together (one pass over the forward
    /// graph they share), then clipped.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="clipValue"/> is negative or NaN.</exception>
    public static Parameters ClipGradValue(IReadOnlyDictionary<string, Expr> gradients, double clipValue)
    {
        ArgumentNullException.ThrowIfNull(gradients);
        var names = gradients.Keys.ToArray();
        var values = Expr.EvalMany(names.Select(n => gradients[n]).ToArray());
        return ClipGradValue(new Parameters(names, values), clipValue);
    }

    static string Format(Tensor t) => $"[{string.Join(",", t.Shape)}] and dtype {t.DType.ToString().ToLowerInvariant()}";
}

/// <summary>torch.optim.SGD: stochastic gradient descent with optional momentum, dampening, Nesterov momentum and L2 weight decay.</summary>
public sealed class Sgd : Optimizer
{
    /// <summary>An SGD optimizer over <paramref name="parameters"/> with torch's defaults.</summary>
    /// <exception cref="ArgumentException">Nesterov momentum without momentum, or with dampening.</exception>
    public Sgd(Parameters parameters, double lr, double momentum = 0, double dampening = 0, bool nesterov = false, double weightDecay = 0)
        : base((rate, mu) => CoreOptimizers.sgd(rate, mu, dampening, nesterov, weightDecay), lr, momentum, parameters) { }

    /// <summary>The momentum of the next steps (torch's <c>param_group["momentum"]</c>; <see cref="OneCycleLR"/> cycles it).</summary>
    /// <exception cref="InvalidOperationException">A momentum is set after steps taken with momentum 0.</exception>
    public double Momentum { get => MomentumValue; set => MomentumValue = value; }
}

/// <summary>torch.optim.Adam, with torch's defaults (lr 1e-3, betas 0.9 and 0.999, eps 1e-8, no weight decay, no AMSGrad).</summary>
public sealed class Adam : Optimizer
{
    /// <summary>An Adam optimizer over <paramref name="parameters"/>; <paramref name="amsgrad"/> divides by the largest second moment so far, as torch's amsgrad=True.</summary>
    public Adam(Parameters parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false)
        : base((rate, b1) => amsgrad ? CoreOptimizers.adamAmsgrad(rate, b1, beta2, eps, weightDecay) : CoreOptimizers.adam(rate, b1, beta2, eps, weightDecay), lr, beta1, parameters) { }

    /// <summary>beta1 of the next steps (torch's <c>param_group["betas"][0]</c>; <see cref="OneCycleLR"/> cycles it).</summary>
    public double Beta1 { get => MomentumValue; set => MomentumValue = value; }

    /// <summary>
    /// torch's spelling with <c>betas</c>, <c>new Adam(parameters, lr: 2e-4, betas: (0.5, 0.999))</c>: the optimizer of
    /// <c>beta1: 0.5, beta2: 0.999</c> (TorchSharp's names). lr comes first, as in torch's argument order.
    /// </summary>
    public Adam(Parameters parameters, double lr, (double Beta1, double Beta2) betas, double eps = 1e-8, double weightDecay = 0, bool amsgrad = false)
        : this(parameters, lr, betas.Beta1, betas.Beta2, eps, weightDecay, amsgrad) { }
}

/// <summary>torch.optim.AdamW: Adam with decoupled weight decay (torch's default 0.01).</summary>
public sealed class AdamW : Optimizer
{
    /// <summary>An AdamW optimizer over <paramref name="parameters"/>; <paramref name="amsgrad"/> as in <see cref="Adam"/>.</summary>
    public AdamW(Parameters parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0.01, bool amsgrad = false)
        : base((rate, b1) => amsgrad ? CoreOptimizers.adamWAmsgrad(rate, b1, beta2, eps, weightDecay) : CoreOptimizers.adamW(rate, b1, beta2, eps, weightDecay), lr, beta1, parameters) { }

    /// <summary>beta1 of the next steps (torch's <c>param_group["betas"][0]</c>; <see cref="OneCycleLR"/> cycles it).</summary>
    public double Beta1 { get => MomentumValue; set => MomentumValue = value; }

    /// <summary>torch's spelling with <c>betas</c>, <c>new AdamW(parameters, lr: 1e-3, betas: (0.9, 0.95))</c>, as <see cref="Adam"/>'s.</summary>
    public AdamW(Parameters parameters, double lr, (double Beta1, double Beta2) betas, double eps = 1e-8, double weightDecay = 0.01, bool amsgrad = false)
        : this(parameters, lr, betas.Beta1, betas.Beta2, eps, weightDecay, amsgrad) { }
}

/// <summary>torch.optim.RMSprop, with torch's defaults (lr 1e-2, alpha 0.99, eps 1e-8).</summary>
public sealed class RmsProp : Optimizer
{
    /// <summary>An RMSprop optimizer over <paramref name="parameters"/>.</summary>
    public RmsProp(Parameters parameters, double lr = 1e-2, double alpha = 0.99, double eps = 1e-8, double weightDecay = 0, double momentum = 0, bool centered = false)
        : base((rate, mu) => CoreOptimizers.rmsprop(rate, alpha, eps, weightDecay, mu, centered), lr, momentum, parameters) { }

    /// <summary>The momentum of the next steps (torch's <c>param_group["momentum"]</c>; <see cref="OneCycleLR"/> cycles it).</summary>
    public double Momentum { get => MomentumValue; set => MomentumValue = value; }
}

/// <summary>torch.optim.Adagrad, with torch's defaults (lr 1e-2, no learning-rate decay or weight decay, the sum of squares starting at 0, eps 1e-10).</summary>
public sealed class Adagrad : Optimizer
{
    /// <summary>An Adagrad optimizer over <paramref name="parameters"/>.</summary>
    public Adagrad(Parameters parameters, double lr = 1e-2, double lrDecay = 0, double weightDecay = 0, double initialAccumulatorValue = 0, double eps = 1e-10)
        : base(rate => CoreOptimizers.adagrad(rate, lrDecay, weightDecay, initialAccumulatorValue, eps), lr, parameters) { }
}

/// <summary>torch.optim.Adamax: Adam with the infinity norm in place of the second moment, with torch's defaults (lr 2e-3, betas 0.9 and 0.999, eps 1e-8, no weight decay).</summary>
public sealed class Adamax : Optimizer
{
    /// <summary>An Adamax optimizer over <paramref name="parameters"/>.</summary>
    public Adamax(Parameters parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0)
        : base((rate, b1) => CoreOptimizers.adamax(rate, b1, beta2, eps, weightDecay), lr, beta1, parameters) { }

    /// <summary>torch's spelling with <c>betas</c>, as <see cref="Adam"/>'s.</summary>
    public Adamax(Parameters parameters, double lr, (double Beta1, double Beta2) betas, double eps = 1e-8, double weightDecay = 0)
        : this(parameters, lr, betas.Beta1, betas.Beta2, eps, weightDecay) { }

    /// <summary>beta1 of the next steps (torch's <c>param_group["betas"][0]</c>; <see cref="OneCycleLR"/> cycles it).</summary>
    public double Beta1 { get => MomentumValue; set => MomentumValue = value; }
}

/// <summary>torch.optim.NAdam: Adam with Nesterov momentum and torch's momentum schedule, with torch's defaults (lr 2e-3, betas 0.9 and 0.999, eps 1e-8, no weight decay, momentum decay 4e-3).</summary>
public sealed class NAdam : Optimizer
{
    /// <summary>
    /// An NAdam optimizer over <paramref name="parameters"/>; <paramref name="decoupledWeightDecay"/> shrinks the
    /// parameters by 1 − lr·weightDecay before each step, as AdamW (torch's decoupled_weight_decay), instead of adding
    /// weightDecay·p to the gradient.
    /// </summary>
    public NAdam(Parameters parameters, double lr = 2e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0,
        double momentumDecay = 4e-3, bool decoupledWeightDecay = false)
        : base((rate, b1) => CoreOptimizers.nadam(rate, b1, beta2, eps, weightDecay, momentumDecay, decoupledWeightDecay), lr, beta1, parameters) { }

    /// <summary>torch's spelling with <c>betas</c>, as <see cref="Adam"/>'s.</summary>
    public NAdam(Parameters parameters, double lr, (double Beta1, double Beta2) betas, double eps = 1e-8, double weightDecay = 0,
        double momentumDecay = 4e-3, bool decoupledWeightDecay = false)
        : this(parameters, lr, betas.Beta1, betas.Beta2, eps, weightDecay, momentumDecay, decoupledWeightDecay) { }

    /// <summary>beta1 of the next steps (torch's <c>param_group["betas"][0]</c>; <see cref="OneCycleLR"/> cycles it).</summary>
    public double Beta1 { get => MomentumValue; set => MomentumValue = value; }
}

/// <summary>torch.optim.RAdam: Adam whose adaptive step is rectified by the variance of its second moment, and left out for the first steps, with torch's defaults (lr 1e-3, betas 0.9 and 0.999, eps 1e-8, no weight decay).</summary>
public sealed class RAdam : Optimizer
{
    /// <summary>
    /// An RAdam optimizer over <paramref name="parameters"/>; <paramref name="decoupledWeightDecay"/> as in
    /// <see cref="NAdam(Parameters, double, double, double, double, double, double, bool)"/>.
    /// </summary>
    public RAdam(Parameters parameters, double lr = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double eps = 1e-8, double weightDecay = 0,
        bool decoupledWeightDecay = false)
        : base((rate, b1) => CoreOptimizers.radam(rate, b1, beta2, eps, weightDecay, decoupledWeightDecay), lr, beta1, parameters) { }

    /// <summary>torch's spelling with <c>betas</c>, as <see cref="Adam"/>'s.</summary>
    public RAdam(Parameters parameters, double lr, (double Beta1, double Beta2) betas, double eps = 1e-8, double weightDecay = 0,
        bool decoupledWeightDecay = false)
        : this(parameters, lr, betas.Beta1, betas.Beta2, eps, weightDecay, decoupledWeightDecay) { }

    /// <summary>beta1 of the next steps (torch's <c>param_group["betas"][0]</c>; <see cref="OneCycleLR"/> cycles it).</summary>
    public double Beta1 { get => MomentumValue; set => MomentumValue = value; }
}

/// <summary>torch.optim.Adadelta, with torch's defaults (lr 1.0, rho 0.9, eps 1e-6, no weight decay).</summary>
public sealed class Adadelta : Optimizer
{
    /// <summary>An Adadelta optimizer over <paramref name="parameters"/>.</summary>
    public Adadelta(Parameters parameters, double lr = 1.0, double rho = 0.9, double eps = 1e-6, double weightDecay = 0)
        : base(rate => CoreOptimizers.adadelta(rate, rho, eps, weightDecay), lr, parameters) { }
}
