using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// SequentialLR and ChainedScheduler against the closed forms of the schedules they combine, written here from torch's
/// documented definitions (each child's epochs counted from its milestone; a chain's factors multiplied). The recurrences
/// and the closed forms round differently, so rates agree to 1e-12 relative. TorchSharp 0.107's SequentialLR is not
/// torch's (it restarts a child from the rate the optimizer has, not its closed form, and overwrites initial_lr with
/// each scheduler made), so it is no reference here; ChainedScheduler is also checked against TorchSharp's, bit for bit.
/// </summary>
public class LRSchedulerCombinationTests
{
    const double Base = 0.1;

    static Sgd Optimizer() => new(Parameters.Of(("w", Tensor.FromArray(new[] { 1.0, -1.0 }, 2))), Base);

    static void Follows(LRScheduler scheduler, Func<int, double> closedForm, int epochs = 60)
    {
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            if (epoch > 0) scheduler.Step();
            var expected = closedForm(epoch);
            Assert.True(Math.Abs(scheduler.LearningRate - expected) <= 1e-12 * expected,
                $"epoch {epoch}: {scheduler.LearningRate}, closed form {expected}");
            Assert.Equal(scheduler.LearningRate, scheduler.Optimizer.LearningRate);
        }
        Assert.Equal(epochs - 1, scheduler.LastEpoch);
    }

    [Fact]
    public void LinearWarmUpThenCosineAnnealing()
    {
        var opt = Optimizer();
        var warmUp = new LinearLR(opt, startFactor: 0.01, endFactor: 1.0, totalIters: 5);
        var cosine = new CosineAnnealingLR(opt, tMax: 20, etaMin: 0.001);
        // both share the base rate the first one saw, as torch's initial_lr
        Assert.Equal(Base, cosine.BaseLearningRate);
        Follows(new SequentialLR(opt, [warmUp, cosine], [5]), e =>
            e < 5 ? Base * (0.01 + 0.99 * e / 5) : 0.001 + (Base - 0.001) * (1 + Math.Cos(Math.PI * (e - 5) / 20)) / 2);
    }

    [Fact]
    public void ThreeSchedulersEachStartAtTheirMilestone()
    {
        var opt = Optimizer();
        var constant = new ConstantLR(opt, factor: 0.5, totalIters: 3);
        var exponential = new ExponentialLR(opt, gamma: 0.9);
        var step = new StepLR(opt, stepSize: 5, gamma: 0.5);
        Follows(new SequentialLR(opt, [constant, exponential, step], [4, 10]), e =>
            e < 4 ? Base * (e < 3 ? 0.5 : 1) : e < 10 ? Base * Math.Pow(0.9, e - 4) : Base * Math.Pow(0.5, (e - 10) / 5));
    }

    [Fact]
    public void AMultiplicativeScheduleStartsFromTheRateItFinds()
    {
        // torch gives MultiplicativeLR no closed form: at its milestone it keeps the rate of the epoch before, then multiplies
        var opt = Optimizer();
        var step = new StepLR(opt, stepSize: 2, gamma: 0.5);
        var multiplicative = new MultiplicativeLR(opt, _ => 0.9);
        Follows(new SequentialLR(opt, [step, multiplicative], [5]), e =>
            e < 5 ? Base * Math.Pow(0.5, e / 2) : Base * 0.25 * Math.Pow(0.9, e - 5));
    }

    [Fact]
    public void AChainMultipliesItsSchedulesFactors()
    {
        var opt = Optimizer();
        var constant = new ConstantLR(opt, factor: 0.5, totalIters: 4);
        var exponential = new ExponentialLR(opt, gamma: 0.9);
        Follows(new ChainedScheduler(constant, exponential), e => Base * Math.Pow(0.9, e) * (e < 4 ? 0.5 : 1));
    }

    [Fact]
    public void AChainInsideASequenceRestartsAsAWhole()
    {
        // warm up for 3 epochs, then the chain: its ConstantLR halves the rate for 4 epochs while its ExponentialLR decays it
        var opt = Optimizer();
        var warmUp = new LinearLR(opt, startFactor: 0.2, endFactor: 1.0, totalIters: 3);
        var chain = new ChainedScheduler(new ConstantLR(opt, factor: 0.5, totalIters: 4), new ExponentialLR(opt, gamma: 0.9));
        Follows(new SequentialLR(opt, [warmUp, chain], [3]), e =>
            e < 3 ? Base * (0.2 + 0.8 * e / 3) : Base * Math.Pow(0.9, e - 3) * (e - 3 < 4 ? 0.5 : 1));
    }

    [Fact]
    public void ASequenceCyclesTheMomentumOfItsActiveSchedule()
    {
        // a constant warm-up, then CyclicLR from its epoch 0: its momentum is max at the cycle's foot, base at its top
        var opt = new Sgd(Parameters.Of(("w", Tensor.Zeros([2]))), Base, momentum: 0.9);
        var warmUp = new ConstantLR(opt, factor: 0.1, totalIters: 100);
        var cyclic = new CyclicLR(opt, baseLr: 0.01, maxLr: 0.1, stepSizeUp: 4, baseMomentum: 0.8, maxMomentum: 0.9);
        var sequence = new SequentialLR(opt, [warmUp, cyclic], [3]);
        for (int epoch = 1; epoch <= 7; epoch++)
        {
            sequence.Step();
            if (epoch < 3) continue;
            // torch's triangle: x = |k/4 − 2c − 1| with c the cycle, k the epoch since the milestone
            int k = epoch - 3;
            double height = Math.Max(0, 1 - Math.Abs(k / 4.0 - 2 * Math.Floor(1 + k / 8.0) + 1));
            Assert.Equal(0.01 + 0.09 * height, sequence.LearningRate, 12);
            Assert.Equal(0.9 - 0.1 * height, opt.Momentum, 12);
        }
    }

    [Fact]
    public void CombinationsRefuseMismatchedArguments()
    {
        var opt = Optimizer();
        var a = new StepLR(opt, 3);
        var b = new ExponentialLR(opt, 0.9);
        var other = new ExponentialLR(Optimizer(), 0.9);
        Assert.Contains("2 schedulers need 1 milestones, not 2", Assert.Throws<ArgumentException>(() => new SequentialLR(opt, [a, b], [3, 4])).Message);
        Assert.Equal("milestones", Assert.Throws<ArgumentException>(() => new SequentialLR(opt, [a, b, b], [4, 4])).ParamName);
        Assert.Equal("milestones", Assert.Throws<ArgumentException>(() => new SequentialLR(opt, [a, b], [0])).ParamName);
        Assert.Contains("scheduler 1 (ExponentialLR) drives another optimizer", Assert.Throws<ArgumentException>(() => new SequentialLR(opt, [a, other], [3])).Message);
        Assert.Contains("ChainedScheduler", Assert.Throws<ArgumentException>(() => new ChainedScheduler(a, other)).Message);
        Assert.Contains("no schedulers", Assert.Throws<ArgumentException>(() => new ChainedScheduler()).Message);
    }
}
