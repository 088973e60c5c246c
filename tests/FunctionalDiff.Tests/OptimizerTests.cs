using System.Numerics;
using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Each optimizer against a reference loop written here from torch.optim's documented single-tensor
/// algorithm, in the parameter's own type T (so the float32 reference rounds every operation as
/// torch's float32 kernels do, and Python-float hyperparameters are rounded to T once). The
/// gradient of f(p) = Σ sin(3p)/3 + p²/4 is cos(3p) + p/2, computed in T from the current parameters
/// on both sides. 100 steps; the results must agree exactly.
/// </summary>
public partial class OptimizerTests
{
    static T C<T>(double x) where T : IFloatingPointIeee754<T> => T.CreateTruncating(x);

    static T[] Gradient<T>(T[] p) where T : IFloatingPointIeee754<T> =>
        p.Select(v => T.Cos(C<T>(3) * v) + v / C<T>(2)).ToArray();

    static T Lerp<T>(T start, T end, T w) where T : IFloatingPointIeee754<T> =>
        T.Abs(w) < C<T>(0.5) ? start + w * (end - start) : end - (end - start) * (T.One - w);

    static Tensor ToTensor<T>(T[] values, int[] shape) where T : IFloatingPointIeee754<T> =>
        typeof(T) == typeof(float)
            ? Tensor.FromArray(values.Select(v => float.CreateTruncating(v)).ToArray(), shape)
            : Tensor.FromArray(values.Select(v => double.CreateTruncating(v)).ToArray(), shape);

    static T[] Values<T>(Tensor t) where T : IFloatingPointIeee754<T> => t.ToDoubleArray().Select(C<T>).ToArray();

    /// <summary>Runs ours for 100 steps next to a reference step and compares every step's parameters.</summary>
    static void Agree<T>(Func<Parameters, Optimizer> make, Action<T[], T[], int> referenceStep, Func<int, double>? schedule = null) where T : IFloatingPointIeee754<T>
    {
        int[] shape = [3, 4];
        var start = Tensor.RandomNormal(shape, seed: 11).ToDoubleArray().Select(C<T>).ToArray();
        var reference = (T[])start.Clone();
        var optimizer = make(Parameters.Of(("w", ToTensor(start, shape))));
        for (int step = 1; step <= 100; step++)
        {
            referenceStep(reference, Gradient(reference), step);
            var ours = Values<T>(optimizer.Parameters["w"]);
            if (schedule != null) optimizer.LearningRate = schedule(step);
            optimizer.Step(Parameters.Of(("w", ToTensor(Gradient(ours), shape))));
            var after = Values<T>(optimizer.Parameters["w"]);
            for (int i = 0; i < after.Length; i++)
                Assert.True(after[i] == reference[i], $"step {step}, element {i}: ours {after[i]}, reference {reference[i]}");
        }
        Assert.Equal(100, optimizer.StepCount);
    }

    static void SgdCase<T>(double lr, double momentum, double dampening, bool nesterov, double wd) where T : IFloatingPointIeee754<T> =>
        SgdCase<T>(_ => lr, momentum, dampening, nesterov, wd, scheduled: false);

    static void SgdCase<T>(Func<int, double> lrAt, double momentum, double dampening, bool nesterov, double wd, bool scheduled) where T : IFloatingPointIeee754<T>
    {
        T[]? buf = null;
        Agree<T>(p => new Sgd(p, lrAt(1), momentum, dampening, nesterov, wd), (p, g, step) =>
        {
            for (int i = 0; i < p.Length; i++)
            {
                // torch: g = g + wd p; buf = g (first step) else momentum buf + (1 - dampening) g; nesterov: g + momentum buf
                var d = wd != 0 ? g[i] + C<T>(wd) * p[i] : g[i];
                if (momentum != 0)
                {
                    buf ??= new T[p.Length];
                    buf[i] = step == 1 ? d : buf[i] * C<T>(momentum) + C<T>(1 - dampening) * d;
                    d = nesterov ? d + C<T>(momentum) * buf[i] : buf[i];
                }
                p[i] = p[i] + C<T>(-lrAt(step)) * d;
            }
        }, scheduled ? lrAt : null);
    }

    static void AdamCase<T>(bool decoupled, double lr, double beta1, double beta2, double eps, double wd, bool amsgrad = false) where T : IFloatingPointIeee754<T> =>
        AdamCase<T>(decoupled, _ => lr, beta1, beta2, eps, wd, amsgrad, scheduled: false);

    static void AdamCase<T>(bool decoupled, Func<int, double> lrAt, double beta1, double beta2, double eps, double wd, bool amsgrad, bool scheduled) where T : IFloatingPointIeee754<T>
    {
        T[]? m = null, v = null, vMax = null;
        Agree<T>(p => decoupled ? new AdamW(p, lrAt(1), beta1, beta2, eps, wd, amsgrad) : new Adam(p, lrAt(1), beta1, beta2, eps, wd, amsgrad), (p, g, step) =>
        {
            var lr = lrAt(step);
            m ??= new T[p.Length];
            v ??= new T[p.Length];
            vMax ??= new T[p.Length];
            // torch: bias corrections and step size are Python floats
            double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
            for (int i = 0; i < p.Length; i++)
            {
                if (decoupled) p[i] = p[i] * C<T>(1 - lr * wd);
                var gi = !decoupled && wd != 0 ? g[i] + C<T>(wd) * p[i] : g[i];
                m[i] = Lerp(m[i], gi, C<T>(1 - beta1));
                v[i] = v[i] * C<T>(beta2) + C<T>(1 - beta2) * gi * gi;
                // amsgrad (torch.maximum, NaN-propagating): the largest second moment so far
                vMax[i] = T.IsNaN(vMax[i]) || T.IsNaN(v[i]) ? T.NaN : T.Max(vMax[i], v[i]);
                var denom = T.Sqrt(amsgrad ? vMax[i] : v[i]) / C<T>(Math.Sqrt(bc2)) + C<T>(eps);
                p[i] = p[i] + C<T>(-(lr / bc1)) * m[i] / denom;
            }
        }, scheduled ? lrAt : null);
    }

    static void AdagradCase<T>(double lr, double lrDecay, double wd, double initial, double eps) where T : IFloatingPointIeee754<T>
    {
        T[]? sum = null;
        Agree<T>(p => new Adagrad(p, lr, lrDecay, wd, initial, eps), (p, g, step) =>
        {
            sum ??= Enumerable.Repeat(C<T>(initial), p.Length).ToArray();
            // torch: clr = lr / (1 + (step - 1) lr_decay) is a Python float
            var clr = lr / (1 + (step - 1) * lrDecay);
            for (int i = 0; i < p.Length; i++)
            {
                var gi = wd != 0 ? g[i] + C<T>(wd) * p[i] : g[i];
                sum[i] = sum[i] + gi * gi;
                var std = T.Sqrt(sum[i]) + C<T>(eps);
                p[i] = p[i] + C<T>(-clr) * gi / std;
            }
        });
    }

    [Fact] public void AdagradDefaults() { AdagradCase<double>(0.01, 0, 0, 0, 1e-10); AdagradCase<float>(0.01, 0, 0, 0, 1e-10); }
    [Fact] public void AdagradDecayWeightDecayInitialSum() { AdagradCase<double>(0.1, 0.05, 0.01, 0.1, 1e-6); AdagradCase<float>(0.1, 0.05, 0.01, 0.1, 1e-6); }

    static void RmsCase<T>(double lr, double alpha, double eps, double wd, double momentum, bool centered) where T : IFloatingPointIeee754<T>
    {
        T[]? sq = null, buf = null, avg = null;
        Agree<T>(p => new RmsProp(p, lr, alpha, eps, wd, momentum, centered), (p, g, step) =>
        {
            sq ??= new T[p.Length];
            buf ??= new T[p.Length];
            avg ??= new T[p.Length];
            for (int i = 0; i < p.Length; i++)
            {
                var gi = wd != 0 ? g[i] + C<T>(wd) * p[i] : g[i];
                sq[i] = sq[i] * C<T>(alpha) + C<T>(1 - alpha) * gi * gi;
                T root;
                if (centered)
                {
                    avg[i] = Lerp(avg[i], gi, C<T>(1 - alpha));
                    root = T.Sqrt(sq[i] + -T.One * avg[i] * avg[i]);
                }
                else root = T.Sqrt(sq[i]);
                var denom = root + C<T>(eps);
                if (momentum > 0)
                {
                    buf[i] = buf[i] * C<T>(momentum) + gi / denom;
                    p[i] = p[i] + C<T>(-lr) * buf[i];
                }
                else p[i] = p[i] + C<T>(-lr) * gi / denom;
            }
        });
    }

    [Fact] public void SgdPlain() { SgdCase<double>(0.1, 0, 0, false, 0); SgdCase<float>(0.1, 0, 0, false, 0); }
    [Fact] public void SgdMomentumDampeningWeightDecay() { SgdCase<double>(0.05, 0.9, 0.1, false, 0.01); SgdCase<float>(0.05, 0.9, 0.1, false, 0.01); }
    [Fact] public void SgdNesterov() { SgdCase<double>(0.05, 0.9, 0, true, 0.001); SgdCase<float>(0.05, 0.9, 0, true, 0.001); }
    [Fact] public void AdamDefaults() { AdamCase<double>(false, 1e-3, 0.9, 0.999, 1e-8, 0); AdamCase<float>(false, 1e-3, 0.9, 0.999, 1e-8, 0); }
    [Fact] public void AdamLargeStepWeightDecay() { AdamCase<double>(false, 0.05, 0.8, 0.99, 1e-6, 0.1); AdamCase<float>(false, 0.05, 0.8, 0.99, 1e-6, 0.1); }
    // beta1 = 0.3 makes 1 - beta1 ≥ 0.5, so lerp takes its second form
    [Fact] public void AdamLerpSecondBranch() { AdamCase<double>(false, 0.01, 0.3, 0.9, 1e-8, 0); AdamCase<float>(false, 0.01, 0.3, 0.9, 1e-8, 0); }
    // beta2 = 0.5 forgets fast, so the second moment falls as the gradient shrinks and the maximum differs from it
    [Fact] public void AdamAmsgrad() { AdamCase<double>(false, 0.05, 0.9, 0.5, 1e-8, 0.01, amsgrad: true); AdamCase<float>(false, 0.05, 0.9, 0.5, 1e-8, 0.01, amsgrad: true); }
    [Fact] public void AdamWAmsgrad() { AdamCase<double>(true, 0.05, 0.9, 0.5, 1e-8, 0.1, amsgrad: true); AdamCase<float>(true, 0.05, 0.9, 0.5, 1e-8, 0.1, amsgrad: true); }
    // a step schedule, as torch's StepLR writes param_group["lr"]: the moments and buffers carry over
    static double Stepped(int step) => step <= 30 ? 0.05 : step <= 60 ? 0.01 : 0.002;
    [Fact] public void SgdScheduledLearningRate() { SgdCase<double>(Stepped, 0.9, 0.1, false, 0.01, scheduled: true); SgdCase<float>(Stepped, 0.9, 0.1, false, 0.01, scheduled: true); }
    [Fact] public void AdamWScheduledLearningRate() { AdamCase<double>(true, Stepped, 0.9, 0.999, 1e-8, 0.01, false, scheduled: true); AdamCase<float>(true, Stepped, 0.9, 0.999, 1e-8, 0.01, false, scheduled: true); }

    [Fact]
    public void LearningRateRefusesNegativeAndNaN()
    {
        var sgd = new Sgd(Parameters.Of(("w", Tensor.Zeros([2]))), lr: 0.1);
        Assert.Contains("Sgd.LearningRate", Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = -1).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = double.NaN);
        Assert.Equal(0.1, sgd.LearningRate);
    }

    [Fact] public void AdamWDecoupled() { AdamCase<double>(true, 0.01, 0.9, 0.999, 1e-8, 0.01); AdamCase<float>(true, 0.01, 0.9, 0.999, 1e-8, 0.01); }
    [Fact] public void RmsPropDefaults() { RmsCase<double>(0.01, 0.99, 1e-8, 0, 0, false); RmsCase<float>(0.01, 0.99, 1e-8, 0, 0, false); }
    [Fact] public void RmsPropCenteredMomentumWeightDecay() { RmsCase<double>(0.01, 0.9, 1e-6, 0.01, 0.5, true); RmsCase<float>(0.01, 0.9, 1e-6, 0.01, 0.5, true); }

    [Fact]
    public void StepMatchesGradientsByNameAndLeavesEarlierCollectionsAlone()
    {
        var start = Parameters.Of(("a", Tensor.FromArray(new[] { 1.0, 2.0 })), ("b", Tensor.FromArray(new[] { -1.0 })));
        var sgd = new Sgd(start, lr: 0.5);
        var grads = Parameters.Of(("b", Tensor.FromArray(new[] { 4.0 })), ("a", Tensor.FromArray(new[] { 2.0, 2.0 })));
        var next = sgd.Step(grads);
        Assert.Equal(new[] { 0.0, 1.0 }, next["a"].ToDoubleArray());
        Assert.Equal(new[] { -3.0 }, next["b"].ToDoubleArray());
        Assert.Equal(new[] { 1.0, 2.0 }, start["a"].ToDoubleArray());
        var missing = Assert.Throws<ArgumentException>(() => sgd.Step(Parameters.Of(("a", Tensor.FromArray(new[] { 0.0, 0.0 })))));
        Assert.Contains("'b'", missing.Message);
        var wrongShape = Assert.ThrowsAny<ArgumentException>(() => sgd.Step(Parameters.Of(("a", Tensor.Zeros([3])), ("b", Tensor.Zeros([1])))));
        Assert.Contains("[3]", wrongShape.Message);
    }

    /// <summary>
    /// A gradient the optimizer cannot use is the caller's mistake, named in the caller's terms: the
    /// public method (Adam.Step, not the core's Adam.Update), the parameter's name (not its
    /// position) and both shapes and dtypes. A gradient for no parameter is an error, not silently
    /// dropped (a misspelt name would otherwise leave that parameter unchanged only by luck of the
    /// other check), and, as in torch.optim, an optimizer over no parameters is refused.
    /// </summary>
    [Fact]
    public void BadGradientsAreNamedByParameterAndMethod()
    {
        var start = Parameters.Of(("w", Tensor.Zeros([2, 3])), ("b", Tensor.Zeros([3])));
        var adam = new Adam(start);
        var shape = Assert.ThrowsAny<ArgumentException>(() => adam.Step(Parameters.Of(("w", Tensor.Zeros([3, 2])), ("b", Tensor.Zeros([3])))));
        Assert.Contains("Adam.Step", shape.Message);
        Assert.Contains("'w'", shape.Message);
        Assert.Contains("[3,2]", shape.Message);
        Assert.Contains("[2,3]", shape.Message);
        var dtype = Assert.ThrowsAny<ArgumentException>(() => new RmsProp(start).Step(Parameters.Of(("w", Tensor.Zeros([2, 3])), ("b", Tensor.Zeros([3], DType.Float32)))));
        Assert.Contains("RmsProp.Step", dtype.Message);
        Assert.Contains("'b'", dtype.Message);
        Assert.Contains("float32", dtype.Message);
        Assert.Contains("float64", dtype.Message);
        var extra = Assert.Throws<ArgumentException>(() => new Sgd(start, 0.1).Step(Parameters.Of(("w", Tensor.Zeros([2, 3])), ("b", Tensor.Zeros([3])), ("bias", Tensor.Zeros([3])))));
        Assert.Contains("Sgd.Step", extra.Message);
        Assert.Contains("'bias'", extra.Message);
        Assert.Equal(0, adam.StepCount);
        Assert.Same(start, adam.Parameters);
        var empty = Assert.Throws<ArgumentException>(() => new AdamW(Parameters.Of()));
        Assert.Contains("AdamW", empty.Message);
        Assert.Contains("empty", empty.Message);
    }
}
