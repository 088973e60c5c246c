using CoreSchedules = FunctionalDiff.Core.Schedules;
using CoreSchedule = FunctionalDiff.Core.Schedule;
using CorePlateau = FunctionalDiff.Core.PlateauState;

namespace FunctionalDiff;

/// <summary>
/// A learning-rate scheduler as torch.optim.lr_scheduler's: it sets its <see cref="Optimizer"/>'s
/// <see cref="Optimizer.LearningRate"/> when made (epoch 0) and at every <see cref="Step"/>, by torch's own recurrence
/// from the rate the optimizer has then (so a rate set by hand in between carries on, as in torch), and the rates round
/// as torch's do. Call <see cref="Step"/> once per epoch after the optimizer's steps, as torch's <c>scheduler.step()</c>.
/// F#: <c>Schedules</c> (<c>Schedules.rates schedule baseRate count</c> gives the sequence).
/// </summary>
public abstract class LRScheduler
{
    readonly CoreSchedule schedule;
    // the momentum of each epoch for a schedule that cycles it (OneCycleLR, CyclicLR), else null; NaN leaves it as it is
    readonly Func<int, double>? momentumAt;

    private protected LRScheduler(Optimizer optimizer, CoreSchedule schedule, Func<int, double>? momentumAt = null)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        Optimizer = optimizer;
        this.schedule = schedule;
        this.momentumAt = momentumAt;
        // torch's group.setdefault("initial_lr", lr): the first scheduler made on an optimizer fixes every later one's base
        BaseLearningRate = optimizer.InitialLearningRate ??= optimizer.LearningRate;
        // torch's initial step: the recurrence at epoch 0 from the rate the optimizer has (a scheduler made after another
        // on the same optimizer starts from the rate that one set, as torch's chainable schedulers do)
        Apply(0);
    }

    /// <summary>The optimizer whose learning rate the scheduler sets.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>
    /// The base rate the schedule scales (torch's base_lr): the optimizer's learning rate when its first scheduler was made
    /// (torch's initial_lr), so the schedulers that <see cref="SequentialLR"/> or <see cref="ChainedScheduler"/> combine share it.
    /// </summary>
    public double BaseLearningRate { get; }

    /// <summary>The epochs stepped so far (torch's last_epoch; 0 after the constructor).</summary>
    public int LastEpoch { get; private set; }

    /// <summary>The learning rate the scheduler last set (torch's get_last_lr()).</summary>
    public double LearningRate => Optimizer.LearningRate;

    /// <summary>Moves to the next epoch and sets the optimizer's learning rate for it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">The schedule gives a negative or NaN rate (a LambdaLR's factor can).</exception>
    public void Step()
    {
        LastEpoch++;
        Apply(LastEpoch);
    }

    void Apply(int epoch)
    {
        Optimizer.LearningRate = schedule.Rate.Invoke(BaseLearningRate).Invoke(epoch).Invoke(Optimizer.LearningRate);
        if (momentumAt?.Invoke(epoch) is double m && !double.IsNaN(m)) Optimizer.MomentumValue = m;
    }

    /// <summary>Fails, naming the scheduler, when momentum is to be cycled on an optimizer that has none (torch's check).</summary>
    private protected static void CheckMomentum(string scheduler, Optimizer optimizer, bool cycleMomentum)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (cycleMomentum && !optimizer.HasMomentum)
            throw new ArgumentException($"{scheduler}: {optimizer.GetType().Name} has no momentum or beta1 to cycle; pass cycleMomentum: false", nameof(cycleMomentum));
    }

    /// <summary>The schedulers a combination takes, checked to be there and to drive one optimizer, the first's.</summary>
    private protected static LRScheduler[] Children(string combination, Optimizer? optimizer, LRScheduler[] schedulers)
    {
        ArgumentNullException.ThrowIfNull(schedulers);
        if (schedulers.Length == 0)
            throw new ArgumentException($"{combination}: no schedulers", nameof(schedulers));
        for (int i = 0; i < schedulers.Length; i++)
        {
            if (schedulers[i] is null) throw new ArgumentNullException(nameof(schedulers), $"{combination}: scheduler {i} is null");
            if (!ReferenceEquals(schedulers[i].Optimizer, optimizer ?? schedulers[0].Optimizer))
                throw new ArgumentException($"{combination}: scheduler {i} ({schedulers[i].GetType().Name}) drives another optimizer; all must drive the same one", nameof(schedulers));
        }
        return (LRScheduler[])schedulers.Clone();
    }

    private protected static CoreSchedule[] Schedules(LRScheduler[] schedulers) => schedulers.Select(s => s.schedule).ToArray();

    /// <summary>A child's momentum at its own epoch, NaN when it sets none.</summary>
    private protected static double MomentumOf(LRScheduler scheduler, int epoch) => scheduler.momentumAt?.Invoke(epoch) ?? double.NaN;
}

/// <summary>
/// torch's ChainedScheduler: each <see cref="LRScheduler.Step"/> applies every scheduler's recurrence in order, each to the
/// rate the one before it set, so their factors multiply (a <see cref="ConstantLR"/> warm-up factor on top of an
/// <see cref="ExponentialLR"/> decay). Make the schedulers first, in order, then chain them and step only the chain.
/// F#: <c>Schedules.chained</c>.
/// </summary>
public sealed class ChainedScheduler : LRScheduler
{
    /// <summary>Chains <paramref name="schedulers"/>, which must all drive the same optimizer.</summary>
    /// <exception cref="ArgumentException">No schedulers, or schedulers of different optimizers.</exception>
    public ChainedScheduler(params LRScheduler[] schedulers) : this(Children("ChainedScheduler", null, schedulers), 0) { }

    // the int tells this constructor from the public one: the children here are checked
    ChainedScheduler(LRScheduler[] children, int _)
        // the last scheduler that sets a momentum sets it last, as torch's in-order steps do
        : base(children[0].Optimizer, CoreSchedules.chained(Schedules(children)),
            epoch => children.Select(c => MomentumOf(c, epoch)).LastOrDefault(m => !double.IsNaN(m), double.NaN)) { }
}

/// <summary>
/// torch's SequentialLR: the first scheduler runs until the first milestone epoch, where the second starts from its own
/// epoch 0 (its closed form at the base rate, as torch's step(0); a <see cref="MultiplicativeLR"/> from the rate it
/// finds), and so on. The usual warm-up then decay:
/// <c>new SequentialLR(opt, [new LinearLR(opt, 0.01, 1.0, 5), new CosineAnnealingLR(opt, 95)], [5])</c>. The constructor
/// sets the optimizer's rate back to the base rate and starts the first scheduler, undoing what making the others set;
/// step only the sequence. F#: <c>Schedules.sequential</c>.
/// </summary>
public sealed class SequentialLR : LRScheduler
{
    /// <summary>Runs <paramref name="schedulers"/> one after another, switching at <paramref name="milestones"/>.</summary>
    /// <param name="optimizer">The optimizer all the schedulers drive.</param>
    /// <param name="schedulers">The schedulers, in the order they run.</param>
    /// <param name="milestones">The epochs where the next scheduler starts: one fewer than the schedulers, increasing, from 1.</param>
    /// <exception cref="ArgumentException">The counts do not match, the milestones do not increase from 1, or a scheduler
    /// drives another optimizer.</exception>
    public SequentialLR(Optimizer optimizer, LRScheduler[] schedulers, int[] milestones)
        : this(optimizer, Children("SequentialLR", optimizer ?? throw new ArgumentNullException(nameof(optimizer)), schedulers), milestones, 0) { }

    // the int tells this constructor from the public one: the children here are checked
    SequentialLR(Optimizer optimizer, LRScheduler[] children, int[] milestones, int _)
        : base(optimizer, CoreSchedules.sequential(Schedules(children), milestones), epoch =>
        {
            var (index, start) = CoreSchedules.sequentialPhase(milestones, epoch).ToValueTuple();
            return MomentumOf(children[index], epoch - start);
        }) { }
}

/// <summary>
/// torch's OneCycleLR: the rate rises from maxLr / divFactor to <c>maxLr</c> over the first pctStart of
/// <c>totalSteps</c>, then falls to that / finalDivFactor (cosine or linear annealing; threePhase is torch's three-phase
/// variant), and, with cycleMomentum, the optimizer's momentum (SGD's and RMSprop's momentum, the Adam family's beta1) moves the
/// other way between maxMomentum and baseMomentum. Step it once per batch, totalSteps times at most, as torch's.
/// F#: <c>Schedules.oneCycleAt</c>.
/// </summary>
public sealed class OneCycleLR : LRScheduler
{
    /// <summary>A one-cycle schedule over <paramref name="optimizer"/>; see the class.</summary>
    /// <exception cref="ArgumentException">totalSteps is below 1, pctStart outside [0, 1], annealStrategy not "cos" or "linear",
    /// or cycleMomentum with an optimizer that has no momentum (Adagrad), as torch's.</exception>
    public OneCycleLR(Optimizer optimizer, double maxLr, int totalSteps, double pctStart = 0.3, string annealStrategy = "cos",
        bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95, double divFactor = 25.0,
        double finalDivFactor = 1e4, bool threePhase = false)
        : this(optimizer, maxLr, Settings(optimizer, totalSteps, pctStart, annealStrategy, cycleMomentum, divFactor, finalDivFactor, threePhase),
            cycleMomentum, baseMomentum, maxMomentum) { }

    /// <summary>torch's spelling by epochs: totalSteps = epochs · stepsPerEpoch.</summary>
    /// <exception cref="ArgumentException">As the other constructor.</exception>
    public OneCycleLR(Optimizer optimizer, double maxLr, int epochs, int stepsPerEpoch, double pctStart = 0.3, string annealStrategy = "cos",
        bool cycleMomentum = true, double baseMomentum = 0.85, double maxMomentum = 0.95, double divFactor = 25.0,
        double finalDivFactor = 1e4, bool threePhase = false)
        : this(optimizer, maxLr, checked(epochs * stepsPerEpoch), pctStart, annealStrategy, cycleMomentum, baseMomentum, maxMomentum, divFactor,
            finalDivFactor, threePhase) { }

    OneCycleLR(Optimizer optimizer, double maxLr, CoreSchedules.OneCycle settings, bool cycleMomentum, double baseMomentum, double maxMomentum)
        : base(optimizer, CoreSchedules.oneCycleLR(settings, maxLr),
            cycleMomentum ? epoch => CoreSchedules.oneCycleAt(settings, maxLr, baseMomentum, maxMomentum, epoch).Item2 : null) { }

    static CoreSchedules.OneCycle Settings(Optimizer optimizer, int totalSteps, double pctStart, string annealStrategy, bool cycleMomentum,
        double divFactor, double finalDivFactor, bool threePhase)
    {
        CheckMomentum("OneCycleLR", optimizer, cycleMomentum);
        if (annealStrategy != "cos" && annealStrategy != "linear")
            throw new ArgumentException($"OneCycleLR: annealStrategy \"{annealStrategy}\" must be \"cos\" or \"linear\"", nameof(annealStrategy));
        return new CoreSchedules.OneCycle(totalSteps, pctStart, annealStrategy == "cos", divFactor, finalDivFactor, threePhase);
    }
}

/// <summary>How <see cref="CyclicLR"/> scales each cycle's height (torch's mode).</summary>
public enum CyclicLRMode
{
    /// <summary>The same triangle every cycle ('triangular', torch's default).</summary>
    Triangular,
    /// <summary>The height halved every cycle ('triangular2').</summary>
    Triangular2,
    /// <summary>The height times gamma^step ('exp_range').</summary>
    ExpRange,
}

/// <summary>
/// torch's CyclicLR: the rate goes from <c>baseLr</c> up to <c>maxLr</c> over <c>stepSizeUp</c> steps and back over
/// <c>stepSizeDown</c> (the same when null), cycle after cycle, the height scaled by the mode; with cycleMomentum the
/// optimizer's momentum (SGD's and RMSprop's momentum, the Adam family's beta1) moves the other way between maxMomentum and
/// baseMomentum. Step it once per batch, as torch's. F#: <c>Schedules.cyclicAt</c>.
/// </summary>
public sealed class CyclicLR : LRScheduler
{
    /// <summary>A cyclic schedule over <paramref name="optimizer"/>; see the class.</summary>
    /// <exception cref="ArgumentException">A step size is below 1, or cycleMomentum with an optimizer that has no momentum (Adagrad).</exception>
    public CyclicLR(Optimizer optimizer, double baseLr, double maxLr, int stepSizeUp = 2000, int? stepSizeDown = null,
        CyclicLRMode mode = CyclicLRMode.Triangular, double gamma = 1.0, bool cycleMomentum = true, double baseMomentum = 0.8,
        double maxMomentum = 0.9)
        : this(optimizer, Mode(optimizer, mode, cycleMomentum), gamma, stepSizeUp, stepSizeDown ?? stepSizeUp, baseLr, maxLr,
            cycleMomentum, baseMomentum, maxMomentum) { }

    CyclicLR(Optimizer optimizer, CoreSchedules.CyclicMode mode, double gamma, int up, int down, double baseLr, double maxLr,
        bool cycleMomentum, double baseMomentum, double maxMomentum)
        : base(optimizer, CoreSchedules.cyclicLR(mode, gamma, up, down, baseLr, maxLr),
            cycleMomentum ? epoch => CoreSchedules.cyclicAt(mode, gamma, up, down, baseLr, maxLr, baseMomentum, maxMomentum, epoch).Item2 : null) { }

    static CoreSchedules.CyclicMode Mode(Optimizer optimizer, CyclicLRMode mode, bool cycleMomentum)
    {
        CheckMomentum("CyclicLR", optimizer, cycleMomentum);
        return mode switch
        {
            CyclicLRMode.Triangular => CoreSchedules.CyclicMode.Triangular,
            CyclicLRMode.Triangular2 => CoreSchedules.CyclicMode.Triangular2,
            CyclicLRMode.ExpRange => CoreSchedules.CyclicMode.ExpRange,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "CyclicLR: unknown mode"),
        };
    }
}

/// <summary>torch's StepLR: the learning rate times <c>gamma</c> every <c>stepSize</c> epochs.</summary>
public sealed class StepLR(Optimizer optimizer, int stepSize, double gamma = 0.1) : LRScheduler(optimizer, CoreSchedules.stepLR(stepSize, gamma));

/// <summary>torch's MultiStepLR: the learning rate times <c>gamma</c> at each milestone epoch.</summary>
public sealed class MultiStepLR(Optimizer optimizer, int[] milestones, double gamma = 0.1)
    : LRScheduler(optimizer, CoreSchedules.multiStepLR(milestones, gamma));

/// <summary>torch's ExponentialLR: the learning rate times <c>gamma</c> every epoch.</summary>
public sealed class ExponentialLR(Optimizer optimizer, double gamma) : LRScheduler(optimizer, CoreSchedules.exponentialLR(gamma));

/// <summary>torch's ConstantLR: the learning rate times <c>factor</c> until epoch <c>totalIters</c>, then the base rate again.</summary>
public sealed class ConstantLR(Optimizer optimizer, double factor = 1.0 / 3, int totalIters = 5)
    : LRScheduler(optimizer, CoreSchedules.constantLR(factor, totalIters));

/// <summary>torch's LinearLR: the learning rate's factor goes linearly from <c>startFactor</c> to <c>endFactor</c> over <c>totalIters</c> epochs (a warm-up).</summary>
public sealed class LinearLR(Optimizer optimizer, double startFactor = 1.0 / 3, double endFactor = 1.0, int totalIters = 5)
    : LRScheduler(optimizer, CoreSchedules.linearLR(startFactor, endFactor, totalIters));

/// <summary>torch's PolynomialLR: the learning rate decays as (1 − epoch/<c>totalIters</c>)^<c>power</c> until <c>totalIters</c>, then stays.</summary>
public sealed class PolynomialLR(Optimizer optimizer, int totalIters = 5, double power = 1.0)
    : LRScheduler(optimizer, CoreSchedules.polynomialLR(totalIters, power));

/// <summary>torch's CosineAnnealingLR: half a cosine from the base rate down to <c>etaMin</c> over <c>tMax</c> epochs (back up over the next tMax, as torch's).</summary>
public sealed class CosineAnnealingLR(Optimizer optimizer, double tMax, double etaMin = 0)
    : LRScheduler(optimizer, CoreSchedules.cosineAnnealingLR(tMax, etaMin));

/// <summary>
/// torch's CosineAnnealingWarmRestarts (SGDR): half a cosine from the base rate down to <c>etaMin</c> over <c>t0</c> epochs,
/// then again from the base rate over <c>t0·tMult</c> epochs, and so on.
/// </summary>
public sealed class CosineAnnealingWarmRestarts(Optimizer optimizer, int t0, int tMult = 1, double etaMin = 0)
    : LRScheduler(optimizer, CoreSchedules.cosineAnnealingWarmRestarts(t0, tMult, etaMin));

/// <summary>torch's LambdaLR: the base learning rate times <c>factor(epoch)</c>.</summary>
public sealed class LambdaLR(Optimizer optimizer, Func<int, double> factor) : LRScheduler(optimizer, CoreSchedules.lambdaLR(factor));

/// <summary>torch's MultiplicativeLR: the learning rate times <c>factor(epoch)</c> every epoch after the first.</summary>
public sealed class MultiplicativeLR(Optimizer optimizer, Func<int, double> factor) : LRScheduler(optimizer, CoreSchedules.multiplicativeLR(factor));

/// <summary>
/// torch's ReduceLROnPlateau: <see cref="Step(double)"/> takes the epoch's metric, and once it has not improved (by more
/// than <c>threshold</c>, relative or absolute) for more than <c>patience</c> epochs, the learning rate is multiplied by
/// <c>factor</c>, not below <c>minLr</c>, then <c>cooldown</c> epochs pass before bad epochs count again. torch's defaults.
/// F#: <c>Schedules.plateauStep</c>.
/// </summary>
public sealed class ReduceLROnPlateau
{
    readonly CoreSchedules.Plateau settings;
    CorePlateau state;

    /// <summary>A scheduler over <paramref name="optimizer"/>.</summary>
    /// <param name="optimizer">The optimizer whose learning rate is reduced.</param>
    /// <param name="mode"><c>"min"</c> when a smaller metric is better (a loss), <c>"max"</c> when a larger one is (an accuracy).</param>
    /// <param name="factor">The learning rate's factor at a reduction, below 1.</param>
    /// <param name="patience">The epochs without improvement that are allowed before a reduction.</param>
    /// <param name="threshold">How much better a metric must be to count as an improvement.</param>
    /// <param name="thresholdMode"><c>"rel"</c> (better than best·(1 ∓ threshold)) or <c>"abs"</c> (better than best ∓ threshold).</param>
    /// <param name="cooldown">The epochs after a reduction during which bad epochs are not counted.</param>
    /// <param name="minLr">The smallest learning rate.</param>
    /// <param name="eps">A reduction smaller than this is not made.</param>
    /// <exception cref="ArgumentException">mode or thresholdMode is not one of torch's, or factor is not below 1.</exception>
    public ReduceLROnPlateau(Optimizer optimizer, string mode = "min", double factor = 0.1, int patience = 10, double threshold = 1e-4,
        string thresholdMode = "rel", int cooldown = 0, double minLr = 0, double eps = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        if (mode != "min" && mode != "max") throw new ArgumentException($"ReduceLROnPlateau: mode \"{mode}\" must be \"min\" or \"max\"", nameof(mode));
        if (thresholdMode != "rel" && thresholdMode != "abs")
            throw new ArgumentException($"ReduceLROnPlateau: thresholdMode \"{thresholdMode}\" must be \"rel\" or \"abs\"", nameof(thresholdMode));
        Optimizer = optimizer;
        settings = new CoreSchedules.Plateau(mode == "min", factor, patience, threshold, thresholdMode == "rel", cooldown, minLr, eps);
        state = CoreSchedules.plateauStart(settings);
    }

    /// <summary>The optimizer whose learning rate the scheduler sets.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>The epochs stepped so far.</summary>
    public int LastEpoch => state.Epoch;

    /// <summary>The best metric so far.</summary>
    public double Best => state.Best;

    /// <summary>The optimizer's current learning rate.</summary>
    public double LearningRate => Optimizer.LearningRate;

    /// <summary>Takes one epoch's metric and reduces the optimizer's learning rate when it has stopped improving.</summary>
    public void Step(double metric)
    {
        var (next, rate) = CoreSchedules.plateauStep(settings, state, Optimizer.LearningRate, metric);
        state = next;
        Optimizer.LearningRate = rate;
    }
}
