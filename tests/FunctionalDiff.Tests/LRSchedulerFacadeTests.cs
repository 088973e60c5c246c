using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// CosineAnnealingWarmRestarts, which TorchSharp 0.107 lacks, against torch's step written out here (the epoch within the
/// cycle and the cycle's length advanced one epoch at a time); the other schedulers are stepped against TorchSharp's in
/// the comparison tests. And the scheduler's effect on its optimizer.
/// </summary>
public class LRSchedulerFacadeTests
{
    static Sgd Optimizer(double lr) => new(Parameters.Of(("w", Tensor.FromArray(new[] { 1.0, -1.0 }, 2))), lr);

    [Theory]
    [InlineData(10, 1, 0.0)]
    [InlineData(10, 2, 0.001)]
    [InlineData(3, 3, 0.05)]
    public void CosineAnnealingWarmRestartsIsTorchsStep(int t0, int tMult, double etaMin)
    {
        const double baseRate = 0.2;
        var scheduler = new CosineAnnealingWarmRestarts(Optimizer(baseRate), t0, tMult, etaMin);
        int current = 0, length = t0;
        var restarts = new List<int>();
        for (int epoch = 0; epoch < 80; epoch++)
        {
            if (epoch > 0)
            {
                scheduler.Step();
                current++;
                if (current >= length)
                {
                    current -= length;
                    length *= tMult;
                    restarts.Add(epoch);
                }
            }
            Assert.Equal(etaMin + (baseRate - etaMin) * (1 + Math.Cos(Math.PI * current / length)) / 2, scheduler.LearningRate);
        }
        // torch's documented restarts: every t0 epochs, or at t0, t0(1 + m), t0(1 + m + m²), ...
        Assert.Equal(t0, restarts[0]);
        if (tMult == 2) Assert.Equal(new[] { 10, 30, 70 }, restarts);
    }

    [Fact]
    public void ASchedulerSetsItsOptimizersRateAndARateSetByHandCarriesOn()
    {
        var sgd = Optimizer(0.1);
        var step = new StepLR(sgd, stepSize: 2, gamma: 0.5);
        Assert.Equal(0.1, sgd.LearningRate);
        step.Step();
        step.Step();
        Assert.Equal(0.05, sgd.LearningRate);
        // torch's schedulers read the group's current rate: a rate set in between is the one the next decay scales
        sgd.LearningRate = 0.3;
        step.Step();
        step.Step();
        Assert.Equal(0.15, sgd.LearningRate);
        Assert.Equal(4, step.LastEpoch);
        Assert.Equal(0.1, step.BaseLearningRate);
    }

    [Fact]
    public void OneCycleGivesPlainSgdAMomentumBufferBeforeItsFirstStepAndTheStepsUseIt()
    {
        // torch's SGD(momentum=0) under OneCycleLR steps with momentum 0.95 from the first step: buf = g, then p − lr·buf
        var sgd = Optimizer(0.1);
        var schedule = new OneCycleLR(sgd, maxLr: 1.0, totalSteps: 10);
        Assert.Equal(0.95, sgd.Momentum);
        var gradient = Parameters.Of(("w", Tensor.FromArray(new[] { 0.5, 2.0 }, 2)));
        double rate0 = sgd.LearningRate;
        sgd.Step(gradient);
        schedule.Step();
        double rate1 = sgd.LearningRate, momentum1 = sgd.Momentum;
        sgd.Step(gradient);
        // step 1: buf = g; step 2: buf = momentum1·g + g
        var expected = new[] { 1.0 - rate0 * 0.5 - rate1 * (momentum1 * 0.5 + 0.5), -1.0 - rate0 * 2.0 - rate1 * (momentum1 * 2.0 + 2.0) };
        var actual = sgd.Parameters["w"].ToDoubleArray();
        for (int i = 0; i < 2; i++) Assert.Equal(expected[i], actual[i], 14);
    }

    [Fact]
    public void AMomentumCannotAppearAfterStepsTakenWithoutOne()
    {
        var sgd = Optimizer(0.1);
        sgd.Step(Parameters.Of(("w", Tensor.FromArray(new[] { 0.5, 2.0 }, 2))));
        var e = Assert.Throws<InvalidOperationException>(() => sgd.Momentum = 0.9);
        Assert.Contains("Sgd", e.Message);
        var adagrad = new Adagrad(Parameters.Of(("w", Tensor.FromArray(new[] { 1.0 }, 1))));
        var cycle = Assert.ThrowsAny<ArgumentException>(() => new OneCycleLR(adagrad, 0.1, 10));
        Assert.Equal("cycleMomentum", cycle.ParamName);
    }

    [Theory]
    [InlineData(CyclicLRMode.Triangular, 1.0)]
    [InlineData(CyclicLRMode.ExpRange, 0.97)]
    public void CyclicLRsRatesAndMomentaArePyTorchsFormula(CyclicLRMode mode, double gamma)
    {
        // PyTorch's get_lr written out: cycle = ⌊1 + t/total⌋, x = 1 + t/total − cycle, the fraction of the way up or down,
        // scaled by 1 (triangular) or gamma^t (exp_range, by step); the momentum max − (max − base)·fraction·scale
        const int up = 4, down = 6;
        var adam = new Adam(Parameters.Of(("w", Tensor.FromArray(new[] { 1.0 }, 1))), 0.1);
        var scheduler = new CyclicLR(adam, 0.02, 0.5, up, down, mode, gamma, baseMomentum: 0.7, maxMomentum: 0.95);
        for (int t = 0; t < 35; t++)
        {
            if (t > 0) scheduler.Step();
            double total = up + down, cycle = Math.Floor(1 + t / total), x = 1 + t / total - cycle;
            double fraction = x <= up / total ? x / (up / total) : (x - 1) / (up / total - 1);
            double scale = mode == CyclicLRMode.ExpRange ? Math.Pow(gamma, t) : 1.0;
            Assert.Equal(0.02 + (0.5 - 0.02) * fraction * scale, adam.LearningRate, 15);
            Assert.Equal(0.95 - (0.95 - 0.7) * fraction * scale, adam.Beta1, 15);
        }
    }

    [Fact]
    public void ErrorsNameTheScheduler()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => new CosineAnnealingWarmRestarts(Optimizer(0.1), 0));
        Assert.Contains("CosineAnnealingWarmRestarts", e.Message);
        var plateau = Assert.ThrowsAny<ArgumentException>(() => new ReduceLROnPlateau(Optimizer(0.1), mode: "minimum"));
        Assert.Equal("mode", plateau.ParamName);
    }
}
