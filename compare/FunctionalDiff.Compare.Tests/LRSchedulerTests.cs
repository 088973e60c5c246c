using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using Schedulers = TorchSharp.torch.optim.lr_scheduler;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The learning-rate schedulers against TorchSharp's (torch.optim.lr_scheduler): the rate of every epoch, with the same
/// optimizer rate to start from, bit for bit, since both follow torch's recurrence.
/// </summary>
public class LRSchedulerTests
{
    const int Epochs = 60;
    const double BaseRate = 0.1;

    static Sgd Ours() => new(Parameters.Of(("w", Tensor.FromArray(new[] { 1.0, 2.0 }, 2))), BaseRate);

    static optim.Optimizer Theirs() => optim.SGD(new[] { new TorchSharp.Modules.Parameter(torch.ones(2, dtype: ScalarType.Float64)) }, BaseRate);

    static double TorchRate(optim.Optimizer optimizer) => optimizer.ParamGroups.First().LearningRate;

    /// <summary>The rates of epochs 0 to Epochs − 1 on both sides: epoch 0's is the constructor's.</summary>
    static (double[] Ours, double[] Torch) Rates(Func<Optimizer, LRScheduler> ours, Func<optim.Optimizer, Schedulers.LRScheduler> theirs)
    {
        var scheduler = ours(Ours());
        var torchOptimizer = Theirs();
        var torchScheduler = theirs(torchOptimizer);
        var a = new double[Epochs];
        var b = new double[Epochs];
        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            if (epoch > 0)
            {
                scheduler.Step();
                torchScheduler.step();
            }
            a[epoch] = scheduler.LearningRate;
            b[epoch] = TorchRate(torchOptimizer);
        }
        return (a, b);
    }

    public static TheoryData<string> Names => new()
    {
        "StepLR", "MultiStepLR", "ExponentialLR", "ConstantLR", "LinearLR", "PolynomialLR", "CosineAnnealingLR", "CosineAnnealingLR etaMin",
        "LambdaLR", "MultiplicativeLR", "ChainedScheduler",
    };

    [Theory]
    [MemberData(nameof(Names))]
    public void EveryEpochsRateIsTorchs(string name)
    {
        var (ours, torch) = name switch
        {
            "StepLR" => Rates(o => new StepLR(o, 7, 0.5), t => Schedulers.StepLR(t, 7, 0.5)),
            "MultiStepLR" => Rates(o => new MultiStepLR(o, [5, 12, 30], 0.3), t => Schedulers.MultiStepLR(t, new[] { 5, 12, 30 }, 0.3)),
            "ExponentialLR" => Rates(o => new ExponentialLR(o, 0.93), t => Schedulers.ExponentialLR(t, 0.93)),
            "ConstantLR" => Rates(o => new ConstantLR(o, 0.25, 9), t => Schedulers.ConstantLR(t, 0.25, 9)),
            "LinearLR" => Rates(o => new LinearLR(o, 0.1, 0.9, 17), t => Schedulers.LinearLR(t, 0.1, 0.9, 17)),
            "PolynomialLR" => Rates(o => new PolynomialLR(o, 40, 2.0), t => Schedulers.PolynomialLR(t, 40, 2.0)),
            "CosineAnnealingLR" => Rates(o => new CosineAnnealingLR(o, 20), t => Schedulers.CosineAnnealingLR(t, 20)),
            "CosineAnnealingLR etaMin" => Rates(o => new CosineAnnealingLR(o, 13, 0.01), t => Schedulers.CosineAnnealingLR(t, 13, 0.01)),
            "LambdaLR" => Rates(o => new LambdaLR(o, e => 1.0 / (1 + 0.3 * e)), t => Schedulers.LambdaLR(t, e => 1.0 / (1 + 0.3 * e))),
            "MultiplicativeLR" => Rates(o => new MultiplicativeLR(o, e => e % 3 == 0 ? 0.8 : 0.99), t => Schedulers.MultiplicativeLR(t, e => e % 3 == 0 ? 0.8 : 0.99)),
            // two schedulers only: TorchSharp's constructor overwrites initial_lr, so a third would take another base
            "ChainedScheduler" => Rates(o => new ChainedScheduler(new ConstantLR(o, 0.5, 4), new ExponentialLR(o, 0.9)),
                t => Schedulers.ChainedLR(new[] { Schedulers.ConstantLR(t, 0.5, 4), Schedulers.ExponentialLR(t, 0.9) })),
            _ => throw new ArgumentException(name),
        };
        Assert.Equal(torch, ours);
        // not vacuous: the rate moves
        Assert.True(ours.Distinct().Count() >= 2, $"{name}: {string.Join(", ", ours.Distinct())}");
    }

    [Fact]
    public void AMilestoneListedTwiceMultipliesByGammaTwiceAsTorchsCounter()
    {
        // PyTorch keeps MultiStepLR's milestones in a Counter and multiplies by gamma ** count; TorchSharp 0.107 multiplies
        // once, so this is checked against that rule written out here
        var scheduler = new MultiStepLR(Ours(), [3, 6, 6], 0.5);
        var rates = new List<double> { scheduler.LearningRate };
        for (int epoch = 1; epoch < 9; epoch++)
        {
            scheduler.Step();
            rates.Add(scheduler.LearningRate);
        }
        double r3 = BaseRate * 0.5, r6 = r3 * (0.5 * 0.5);
        Assert.Equal(new[] { BaseRate, BaseRate, BaseRate, r3, r3, r3, r6, r6, r6 }, rates);
    }

    [Theory]
    [InlineData("min", "rel", 0)]
    [InlineData("max", "abs", 2)]
    public void ReduceLROnPlateauReducesWhereTorchsDoes(string mode, string thresholdMode, int cooldown)
    {
        var ours = new ReduceLROnPlateau(Ours(), mode, factor: 0.5, patience: 3, threshold: 0.01, thresholdMode: thresholdMode, cooldown: cooldown, minLr: 0.004);
        var torchOptimizer = Theirs();
        var theirs = Schedulers.ReduceLROnPlateau(torchOptimizer, mode, factor: 0.5, patience: 3, threshold: 0.01, threshold_mode: thresholdMode,
            cooldown: cooldown, min_lr: new[] { 0.004 });
        // a metric that improves, stalls, improves a little (below and above the threshold) and stalls again
        var metrics = Enumerable.Range(0, Epochs).Select(e => (mode == "min" ? 1 : -1) * (e < 10 ? 5.0 - 0.3 * e : e < 30 ? 2.0 - 0.001 * e : 1.9 - 0.05 * (e % 4))).ToArray();
        var rates = new List<(double Ours, double Torch)>();
        foreach (var m in metrics)
        {
            ours.Step(m);
            theirs.step(m, null);
            rates.Add((ours.LearningRate, TorchRate(torchOptimizer)));
        }
        Assert.Equal(rates.Select(r => r.Torch), rates.Select(r => r.Ours));
        Assert.True(rates.Select(r => r.Ours).Distinct().Count() > 2, string.Join(", ", rates.Select(r => r.Ours).Distinct()));
    }

    [Theory]
    [InlineData("sgd", "cos", false)]
    [InlineData("adam", "linear", false)]
    [InlineData("sgd", "cos", true)]
    public void OneCycleLRsRatesAndMomentaAreTorchs(string optimizer, string anneal, bool threePhase)
    {
        const int total = 40;
        Optimizer ours = optimizer == "sgd" ? new Sgd(Parameters.Of(("w", Tensor.FromArray(new[] { 1.0, 2.0 }, 2))), 0.1, momentum: 0.9)
                                           : new Adam(Parameters.Of(("w", Tensor.FromArray(new[] { 1.0, 2.0 }, 2))), 0.1);
        var parameter = new TorchSharp.Modules.Parameter(torch.ones(2, dtype: ScalarType.Float64));
        optim.Optimizer theirs = optimizer == "sgd" ? optim.SGD(new[] { parameter }, 0.1, momentum: 0.9) : optim.Adam(new[] { parameter }, 0.1);
        var scheduler = new OneCycleLR(ours, maxLr: 0.8, totalSteps: total, pctStart: 0.25, annealStrategy: anneal, threePhase: threePhase);
        var torchScheduler = Schedulers.OneCycleLR(theirs, 0.8, total, pct_start: 0.25,
            anneal_strategy: anneal == "cos" ? Schedulers.impl.OneCycleLR.AnnealStrategy.Cos : Schedulers.impl.OneCycleLR.AnnealStrategy.Linear,
            three_phase: threePhase);
        double OurMomentum() => ours is Sgd sgd ? sgd.Momentum : ((Adam)ours).Beta1;
        double TorchMomentum()
        {
            var group = theirs.ParamGroups.First();
            return group is TorchSharp.Modules.SGD.ParamGroup s ? s.Momentum : ((TorchSharp.Modules.Adam.ParamGroup)group).Betas.Item1;
        }
        for (int step = 0; step < total; step++)
        {
            if (step > 0)
            {
                scheduler.Step();
                torchScheduler.step();
            }
            Assert.Equal(TorchRate(theirs), scheduler.LearningRate);
            Assert.Equal(TorchMomentum(), OurMomentum());
        }
        // the schedule climbed and came down again, and the momentum moved against it
        Assert.True(scheduler.LearningRate < 0.8 / 25);
    }

    [Theory]
    [InlineData(CyclicLRMode.Triangular, 5, null)]
    [InlineData(CyclicLRMode.Triangular2, 4, 7)]
    public void CyclicLRsRatesAreTorchs(CyclicLRMode mode, int up, int? down)
    {
        // rates only: TorchSharp's CyclicLR source moves the momentum up where PyTorch's moves it down (max − height, not
        // max + height), so the momenta are checked against PyTorch's formula in LRSchedulerFacadeTests
        var ours = new Sgd(Parameters.Of(("w", Tensor.FromArray(new[] { 1.0, 2.0 }, 2))), 0.1, momentum: 0.9);
        var theirs = Theirs();
        var scheduler = new CyclicLR(ours, 0.01, 0.3, up, down, mode, cycleMomentum: false);
        var torchScheduler = Schedulers.CyclicLR(theirs, 0.01, 0.3, up, down ?? -1,
            mode == CyclicLRMode.Triangular ? Schedulers.impl.CyclicLR.Mode.Triangular : Schedulers.impl.CyclicLR.Mode.Triangular2, cycle_momentum: false);
        var rates = new List<double>();
        for (int step = 0; step < Epochs; step++)
        {
            if (step > 0)
            {
                scheduler.Step();
                torchScheduler.step();
            }
            Assert.Equal(TorchRate(theirs), scheduler.LearningRate);
            rates.Add(scheduler.LearningRate);
        }
        Assert.Equal(0.3, rates.Max(), 12);
    }
}
