using System.Numerics;
using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Adamax, Adadelta, NAdam and RAdam against reference loops written here from torch.optim's single-tensor algorithms
/// (PyTorch 2.x), in the parameter's own type, as the other optimizers. TorchSharp's NAdam and RAdam are not PyTorch's
/// (its NAdam starts the product of momenta at 0, its RAdam multiplies by lr twice), so these loops are the reference;
/// the comparison suite checks Adamax and Adadelta against TorchSharp as well.
/// </summary>
public partial class OptimizerTests
{
    static void AdamaxCase<T>(double lr, double beta1, double beta2, double eps, double wd) where T : IFloatingPointIeee754<T>
    {
        T[]? m = null, u = null;
        Agree<T>(p => new Adamax(p, lr, beta1, beta2, eps, wd), (p, g, step) =>
        {
            m ??= new T[p.Length];
            u ??= new T[p.Length];
            // torch: clr = lr / (1 - beta1^step) is a Python float; exp_inf = maximum(exp_inf * beta2, |g| + eps)
            var clr = lr / (1 - Math.Pow(beta1, step));
            for (int i = 0; i < p.Length; i++)
            {
                var gi = wd != 0 ? g[i] + C<T>(wd) * p[i] : g[i];
                m[i] = Lerp(m[i], gi, C<T>(1 - beta1));
                T decayed = u[i] * C<T>(beta2), fresh = T.Abs(gi) + C<T>(eps);
                u[i] = T.IsNaN(decayed) || T.IsNaN(fresh) ? T.NaN : T.Max(decayed, fresh);
                p[i] = p[i] + C<T>(-clr) * m[i] / u[i];
            }
        });
    }

    static void AdadeltaCase<T>(double lr, double rho, double eps, double wd) where T : IFloatingPointIeee754<T>
    {
        T[]? square = null, accumulated = null;
        Agree<T>(p => new Adadelta(p, lr, rho, eps, wd), (p, g, step) =>
        {
            square ??= new T[p.Length];
            accumulated ??= new T[p.Length];
            for (int i = 0; i < p.Length; i++)
            {
                var gi = wd != 0 ? g[i] + C<T>(wd) * p[i] : g[i];
                square[i] = square[i] * C<T>(rho) + C<T>(1 - rho) * gi * gi;
                var delta = T.Sqrt(accumulated[i] + C<T>(eps)) / T.Sqrt(square[i] + C<T>(eps)) * gi;
                accumulated[i] = accumulated[i] * C<T>(rho) + C<T>(1 - rho) * delta * delta;
                p[i] = p[i] + C<T>(-lr) * delta;
            }
        });
    }

    /// <summary>NAdam; <paramref name="beta1At"/> varies beta1 by step as a momentum schedule does (null: fixed).</summary>
    static void NAdamCase<T>(double lr, double beta1, double beta2, double eps, double wd, double momentumDecay, bool decoupled,
        Func<int, double>? beta1At = null) where T : IFloatingPointIeee754<T>
    {
        T[]? m = null, v = null;
        T product = T.One;
        NAdam? ours = null;
        Agree<T>(p => ours = new NAdam(p, lr, beta1, beta2, eps, wd, momentumDecay, decoupled), (p, g, step) =>
        {
            m ??= new T[p.Length];
            v ??= new T[p.Length];
            var b1 = beta1At?.Invoke(step) ?? beta1;
            if (beta1At != null) ours!.Beta1 = b1;
            // torch: the momenta are Python floats, their product a scalar tensor, the step sizes Python floats from its value
            double mu = b1 * (1 - 0.5 * Math.Pow(0.96, step * momentumDecay));
            double muNext = b1 * (1 - 0.5 * Math.Pow(0.96, (step + 1) * momentumDecay));
            product *= C<T>(mu);
            double productValue = double.CreateTruncating(product);
            var gradientStep = C<T>(-lr * (1 - mu) / (1 - productValue));
            var momentStep = C<T>(-lr * muNext / (1 - productValue * muNext));
            var correction2 = C<T>(1 - Math.Pow(beta2, step));
            for (int i = 0; i < p.Length; i++)
            {
                var gi = g[i];
                if (wd != 0 && decoupled) p[i] = p[i] * C<T>(1 - lr * wd);
                else if (wd != 0) gi = g[i] + C<T>(wd) * p[i];
                m[i] = Lerp(m[i], gi, C<T>(1 - b1));
                v[i] = v[i] * C<T>(beta2) + C<T>(1 - beta2) * gi * gi;
                var denom = T.Sqrt(v[i] / correction2) + C<T>(eps);
                p[i] = p[i] + gradientStep * gi / denom;
                p[i] = p[i] + momentStep * m[i] / denom;
            }
        });
    }

    static void RAdamCase<T>(double lr, double beta1, double beta2, double eps, double wd, bool decoupled) where T : IFloatingPointIeee754<T>
    {
        T[]? m = null, v = null;
        Agree<T>(p => new RAdam(p, lr, beta1, beta2, eps, wd, decoupled), (p, g, step) =>
        {
            m ??= new T[p.Length];
            v ??= new T[p.Length];
            // torch: the corrections, ρ∞, ρ_t and the rectification are Python floats
            double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
            double rhoInf = 2 / (1 - beta2) - 1, rhoT = rhoInf - 2 * step * Math.Pow(beta2, step) / bc2;
            double rect = Math.Sqrt((rhoT - 4) * (rhoT - 2) * rhoInf / ((rhoInf - 4) * (rhoInf - 2) * rhoT));
            for (int i = 0; i < p.Length; i++)
            {
                var gi = g[i];
                if (wd != 0 && decoupled) p[i] = p[i] * C<T>(1 - lr * wd);
                else if (wd != 0) gi = g[i] + C<T>(wd) * p[i];
                m[i] = Lerp(m[i], gi, C<T>(1 - beta1));
                v[i] = v[i] * C<T>(beta2) + C<T>(1 - beta2) * gi * gi;
                var update = m[i] / C<T>(bc1) * C<T>(lr);
                // float / tensor in torch is the tensor's reciprocal times the float
                if (rhoT > 5) update = update * (T.One / (T.Sqrt(v[i]) + C<T>(eps)) * C<T>(Math.Sqrt(bc2))) * C<T>(rect);
                p[i] = p[i] - update;
            }
        });
    }

    [Fact] public void AdamaxDefaults() { AdamaxCase<double>(2e-3, 0.9, 0.999, 1e-8, 0); AdamaxCase<float>(2e-3, 0.9, 0.999, 1e-8, 0); }
    // beta2 = 0.5 forgets fast, so |g| + eps replaces the decayed maximum at some steps and not at others
    [Fact] public void AdamaxFastForgettingWeightDecay() { AdamaxCase<double>(0.05, 0.8, 0.5, 1e-6, 0.1); AdamaxCase<float>(0.05, 0.8, 0.5, 1e-6, 0.1); }
    [Fact] public void AdadeltaDefaults() { AdadeltaCase<double>(1.0, 0.9, 1e-6, 0); AdadeltaCase<float>(1.0, 0.9, 1e-6, 0); }
    [Fact] public void AdadeltaWeightDecay() { AdadeltaCase<double>(0.5, 0.95, 1e-4, 0.01); AdadeltaCase<float>(0.5, 0.95, 1e-4, 0.01); }
    [Fact] public void NAdamDefaults() { NAdamCase<double>(2e-3, 0.9, 0.999, 1e-8, 0, 4e-3, false); NAdamCase<float>(2e-3, 0.9, 0.999, 1e-8, 0, 4e-3, false); }
    [Fact] public void NAdamWeightDecay() { NAdamCase<double>(0.05, 0.8, 0.99, 1e-6, 0.1, 0.01, false); NAdamCase<float>(0.05, 0.8, 0.99, 1e-6, 0.1, 0.01, false); }
    [Fact] public void NAdamDecoupledWeightDecay() { NAdamCase<double>(0.05, 0.9, 0.99, 1e-8, 0.1, 4e-3, true); NAdamCase<float>(0.05, 0.9, 0.99, 1e-8, 0.1, 4e-3, true); }
    // a beta1 that moves each step, as OneCycleLR sets it: the product of momenta carries every past one
    [Fact]
    public void NAdamScheduledBeta1()
    {
        static double Beta1(int step) => 0.85 + 0.1 * Math.Abs(Math.Sin(step / 7.0));
        NAdamCase<double>(0.01, 0.9, 0.999, 1e-8, 0, 4e-3, false, Beta1);
        NAdamCase<float>(0.01, 0.9, 0.999, 1e-8, 0, 4e-3, false, Beta1);
    }
    // with beta2 = 0.999, ρ_t passes 5 at step 6: the first five steps take no second moment
    [Fact] public void RAdamDefaults() { RAdamCase<double>(1e-3, 0.9, 0.999, 1e-8, 0, false); RAdamCase<float>(1e-3, 0.9, 0.999, 1e-8, 0, false); }
    [Fact] public void RAdamWeightDecay() { RAdamCase<double>(0.05, 0.8, 0.99, 1e-6, 0.1, false); RAdamCase<float>(0.05, 0.8, 0.99, 1e-6, 0.1, false); }
    [Fact] public void RAdamDecoupledWeightDecay() { RAdamCase<double>(0.05, 0.9, 0.99, 1e-8, 0.1, true); RAdamCase<float>(0.05, 0.9, 0.99, 1e-8, 0.1, true); }

    /// <summary>ρ_t of RAdam crosses 5 between steps 5 and 6 at beta2 = 0.999 (computed here from its definition), so the
    /// reference's two branches are both exercised by the cases above.</summary>
    [Fact]
    public void RAdamSwitchesToTheRectifiedStepAtStepSix()
    {
        static double Rho(int t) => 2 / (1 - 0.999) - 1 - 2 * t * Math.Pow(0.999, t) / (1 - Math.Pow(0.999, t));
        Assert.True(Rho(5) <= 5);
        Assert.True(Rho(6) > 5);
    }

    [Fact]
    public void AdamFamilyHyperparametersAreChecked()
    {
        var p = Parameters.Of(("w", Tensor.Zeros([2])));
        Assert.Equal("beta1", Assert.Throws<ArgumentOutOfRangeException>(() => new NAdam(p, beta1: 1.0)).ParamName);
        Assert.Equal("momentumDecay", Assert.Throws<ArgumentOutOfRangeException>(() => new NAdam(p, momentumDecay: -1)).ParamName);
        Assert.Equal("beta2", Assert.Throws<ArgumentOutOfRangeException>(() => new RAdam(p, beta2: double.NaN)).ParamName);
        Assert.Equal("eps", Assert.Throws<ArgumentOutOfRangeException>(() => new Adamax(p, eps: -1)).ParamName);
        Assert.Equal("rho", Assert.Throws<ArgumentOutOfRangeException>(() => new Adadelta(p, rho: 1.5)).ParamName);
        Assert.Contains("Adadelta", Assert.Throws<ArgumentOutOfRangeException>(() => new Adadelta(p, lr: -1)).Message);
    }
}
