using CoreLbfgs = FunctionalDiff.Core.Lbfgs;
using CoreLbfgsSettings = FunctionalDiff.Core.LbfgsSettings;
using CoreLbfgsState = FunctionalDiff.Core.LbfgsState;

namespace FunctionalDiff;

/// <summary>
/// torch.optim.LBFGS without a line search (torch's default, <c>line_search_fn=None</c>), with torch's defaults and
/// stopping tests. As torch's, <see cref="Step(Func{Parameters, ValueTuple{Tensor, Parameters}})"/> takes a closure that gives the loss and the gradients at the parameters
/// it is passed, and calls it up to <c>maxIter</c> times per step: a compiled value and gradient is the closure,
/// <c>lbfgs.Step(p => step.Invoke(p, x, y))</c>. The history and the counters carry over from one step to the next, as
/// torch's state. The quasi-Newton arithmetic is in float64 over the parameters flattened in order; float32 parameters
/// are rounded back to float32 before each call of the closure. Without a line search, a step length of lr can
/// overshoot on a badly scaled problem, as torch's can. F#: <c>Lbfgs.step</c> over float arrays.
/// </summary>
public sealed class Lbfgs
{
    CoreLbfgsSettings settings;
    CoreLbfgsState state = CoreLbfgs.init;

    /// <summary>An L-BFGS optimizer over <paramref name="parameters"/>, with torch.optim.LBFGS's arguments and defaults.</summary>
    /// <param name="parameters">The parameters to optimise.</param>
    /// <param name="lr">The step length after the first iteration (the first is min(1, 1/‖g‖₁)·lr), torch's lr.</param>
    /// <param name="maxIter">Iterations per <see cref="Step(Func{Parameters, ValueTuple{Tensor, Parameters}})"/>, torch's max_iter.</param>
    /// <param name="maxEval">Calls of the closure per step, torch's max_eval; maxIter·5/4 when not given.</param>
    /// <param name="toleranceGrad">A step stops once every gradient entry is at most this in size, torch's tolerance_grad.</param>
    /// <param name="toleranceChange">A step stops once the move or the loss's change is below this, torch's tolerance_change.</param>
    /// <param name="historySize">The number of curvature pairs kept, torch's history_size.</param>
    /// <exception cref="ArgumentException">The parameters are empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException">lr is negative or NaN, or a count is below 1.</exception>
    public Lbfgs(Parameters parameters, double lr = 1, int maxIter = 20, int? maxEval = null, double toleranceGrad = 1e-7,
        double toleranceChange = 1e-9, int historySize = 100)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count == 0) throw new ArgumentException("Lbfgs: the parameter list is empty", nameof(parameters));
        if (!(lr >= 0)) throw new ArgumentOutOfRangeException(nameof(lr), lr, "Lbfgs: lr must be ≥ 0");
        if (maxIter < 1) throw new ArgumentOutOfRangeException(nameof(maxIter), maxIter, "Lbfgs: maxIter must be at least 1");
        int evaluations = maxEval ?? maxIter * 5 / 4;
        if (evaluations < 1) throw new ArgumentOutOfRangeException(nameof(maxEval), maxEval, "Lbfgs: maxEval must be at least 1");
        if (historySize < 1) throw new ArgumentOutOfRangeException(nameof(historySize), historySize, "Lbfgs: historySize must be at least 1");
        settings = new CoreLbfgsSettings(lr, maxIter, evaluations, toleranceGrad, toleranceChange, historySize);
        Parameters = parameters;
    }

    /// <summary>The parameters after the steps taken so far.</summary>
    public Parameters Parameters { get; private set; }

    /// <summary>The step length after the first iteration, torch's <c>param_group['lr']</c>; it may be set between steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The rate is negative or NaN.</exception>
    public double LearningRate
    {
        get => settings.LearningRate;
        set
        {
            if (!(value >= 0)) throw new ArgumentOutOfRangeException(nameof(value), value, "Lbfgs.LearningRate: must be ≥ 0");
            settings = new CoreLbfgsSettings(value, settings.MaxIterations, settings.MaxEvaluations, settings.ToleranceGrad,
                settings.ToleranceChange, settings.HistorySize);
        }
    }

    /// <summary>The iterations taken over every step so far (torch's state['n_iter']).</summary>
    public int IterationCount => state.Iterations;

    /// <summary>The calls of the closure over every step so far (torch's state['func_evals']).</summary>
    public int EvaluationCount => state.Evaluations;

    /// <summary>
    /// One torch.optim.LBFGS step: up to maxIter iterations, each calling <paramref name="closure"/> at the new parameters
    /// for their loss (one element) and their gradients by name. Returns the loss at the parameters the step started from,
    /// as torch's <c>step(closure)</c>; <see cref="Parameters"/> then holds the new ones.
    /// </summary>
    /// <exception cref="ArgumentException">The closure's loss is not one element, or a gradient is missing or of another shape.</exception>
    public Tensor Step(Func<Parameters, (Tensor Loss, Parameters Gradients)> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        var names = Parameters.Names.ToArray();
        var shapes = Parameters.Values.Select(t => t.Shape).ToArray();
        var dtypes = Parameters.Values.Select(t => t.DType).ToArray();
        Tensor? first = null;

        // unscoped: the closure's parameters, like the optimizer's, outlive any DisposeScope around the step
        Parameters Unflatten(double[] flat)
        {
            var values = new Tensor[names.Length];
            int offset = 0;
            for (int i = 0; i < names.Length; i++)
            {
                int n = shapes[i].Aggregate(1, (a, b) => a * b);
                var core = FunctionalDiff.Core.Tensor.FromArray(flat[offset..(offset + n)], shapes[i]);
                var dtype = Interop.ToCore(dtypes[i]);
                values[i] = new Tensor(core.DType == dtype ? core : core.Cast(dtype), unscoped: true);
                offset += n;
            }
            return new Parameters(names, values);
        }

        (double, double[]) Evaluate(double[] flat)
        {
            var (loss, gradients) = closure(Unflatten(flat));
            ArgumentNullException.ThrowIfNull(loss, "closure's loss");
            ArgumentNullException.ThrowIfNull(gradients, "closure's gradients");
            if (loss.Numel != 1)
                throw new ArgumentException($"Lbfgs.Step: the closure's loss has shape [{string.Join(",", loss.Shape)}]; it must be one element", nameof(closure));
            first ??= loss;
            var g = new List<double>(flat.Length);
            for (int i = 0; i < names.Length; i++)
            {
                if (!gradients.TryGetValue(names[i], out var t))
                    throw new ArgumentException($"Lbfgs.Step: the closure gave no gradient named '{names[i]}'", nameof(closure));
                if (!t.Shape.AsSpan().SequenceEqual(shapes[i]))
                    throw new ArgumentException(
                        $"Lbfgs.Step: the gradient '{names[i]}' has shape [{string.Join(",", t.Shape)}], its parameter [{string.Join(",", shapes[i])}]", nameof(closure));
                g.AddRange(t.ToDoubleArray());
            }
            return (loss.ToScalar(), g.ToArray());
        }

        var x0 = Parameters.Values.SelectMany(t => t.ToDoubleArray()).ToArray();
        var result = CoreLbfgs.step(settings, Microsoft.FSharp.Core.FuncConvert.FromFunc<double[], Tuple<double, double[]>>(x =>
        {
            var (l, g) = Evaluate(x);
            return Tuple.Create(l, g);
        }), x0, state);
        state = result.Item3;
        Parameters = Unflatten(result.Item2);
        return first!;
    }

    /// <summary>
    /// <see cref="Step(Func{Parameters, ValueTuple{Tensor, Parameters}})"/> with a symbolic closure, the form
    /// <c>lbfgs.Step(p => Diff.ValueAndGrad(LossOf, p))</c>: the loss and gradients are evaluated together at each call
    /// (a compiled closure, <c>p => step.Invoke(p, x, y)</c>, plans once instead).
    /// </summary>
    /// <exception cref="ArgumentException">As the tensor form.</exception>
    public Tensor Step(Func<Parameters, (Expr Loss, IReadOnlyDictionary<string, Expr> Gradients)> closure)
    {
        ArgumentNullException.ThrowIfNull(closure);
        return Step(p =>
        {
            var (loss, gradients) = closure(p);
            ArgumentNullException.ThrowIfNull(loss, "closure's loss");
            ArgumentNullException.ThrowIfNull(gradients, "closure's gradients");
            var names = gradients.Keys.ToArray();
            var values = Expr.EvalMany([loss, .. names.Select(n => gradients[n])]);
            return (values[0], new Parameters(names, values[1..]));
        });
    }
}
