using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A DDPM training step ported from PyTorch as a user writes it first: a linear beta schedule and its
/// alphas_cumprod computed on tensors, x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε with ε and t passed in as data, a small MLP
/// noise predictor fed a sinusoidal timestep embedding, MSE(pred, ε), and one compiled Adam step. The schedule, the
/// loss and the gradients are compared with the same computation over doubles in this file and its central
/// differences, and the update with torch's Adam written out.
/// </summary>
[Collection(nameof(TorchFactoryTests))] // the README's example draws its timesteps from the process-wide seed sequence
public class ClientNineDdpmTests
{
    const int Steps = 1000, N = 4, Dim = 2, Half = 4, Hidden = 8;
    static readonly double[] Timesteps = [0, 10, 500, 999];

    static readonly (string Name, int[] Shape)[] Layout =
        [("fc1.weight", [Hidden, Dim + 2 * Half]), ("fc1.bias", [Hidden]), ("fc2.weight", [Dim, Hidden]), ("fc2.bias", [Dim])];

    static Parameters Model() =>
        Parameters.Of(Layout.Select((e, i) => (e.Name, 0.5 * Tensor.RandomNormal(e.Shape, seed: 80 + i))).ToArray());

    static readonly Tensor X0 = Tensor.RandomNormal([N, Dim], seed: 91), Eps = Tensor.RandomNormal([N, Dim], seed: 92);

    // ---- what a torch user writes ----

    // betas = torch.linspace(1e-4, 0.02, T); alphas_cumprod = torch.cumprod(1 - betas, dim=0)
    static Tensor AlphasCumprod()
    {
        var betas = Tensor.Linspace(1e-4, 0.02, Steps);
        var alphas = 1 - betas;
        return alphas.Cumprod(0);
    }

    // freqs = exp(-log(10000) * arange(half) / half); args = t[:, None] * freqs[None]; cat([sin, cos], -1)
    static Expr TimestepEmbedding(Expr t)
    {
        var freqs = (Tensor.Arange(Half) * (-Math.Log(10000) / Half)).Exp();
        var args = t.Unsqueeze(1) * ((Expr)freqs).Unsqueeze(0);
        return Expr.Cat([args.Sin(), args.Cos()], -1);   // torch.cat([sin, cos], dim=-1)
    }

    static Expr DdpmLoss(IReadOnlyDictionary<string, Expr> p, Tensor alphasCumprod, Expr x0, Expr eps, Expr t)
    {
        var abar = ((Expr)alphasCumprod).IndexSelect(0, t).Reshape(-1, 1);   // alphas_cumprod[t].view(-1, 1)
        var xt = abar.Sqrt() * x0 + (1 - abar).Sqrt() * eps;
        var h = Expr.Concat([xt, TimestepEmbedding(t)], axis: 1);
        var pred = Nn.Linear(Nn.Linear(h, p["fc1.weight"], p["fc1.bias"]).Silu(), p["fc2.weight"], p["fc2.bias"]);
        return Loss.Mse(pred, eps);
    }

    // ---- the same over doubles ----

    static double[] AlphasCumprodReference()
    {
        var result = new double[Steps];
        double product = 1;
        for (int i = 0; i < Steps; i++)
        {
            double beta = 1e-4 + (0.02 - 1e-4) * i / (Steps - 1);
            product *= 1 - beta;
            result[i] = product;
        }
        return result;
    }

    static double Reference(Dictionary<string, double[]> p)
    {
        var abar = AlphasCumprodReference();
        var x0 = X0.ToDoubleArray();
        var eps = Eps.ToDoubleArray();
        int inputs = Dim + 2 * Half;
        double total = 0;
        for (int r = 0; r < N; r++)
        {
            double a = abar[(int)Timesteps[r]];
            var h = new double[inputs];
            for (int k = 0; k < Dim; k++) h[k] = Math.Sqrt(a) * x0[r * Dim + k] + Math.Sqrt(1 - a) * eps[r * Dim + k];
            for (int k = 0; k < Half; k++)
            {
                double angle = Timesteps[r] * Math.Exp(-Math.Log(10000) * k / Half);
                h[Dim + k] = Math.Sin(angle);
                h[Dim + Half + k] = Math.Cos(angle);
            }
            var hidden = new double[Hidden];
            for (int o = 0; o < Hidden; o++)
            {
                double s = p["fc1.bias"][o];
                for (int i = 0; i < inputs; i++) s += p["fc1.weight"][o * inputs + i] * h[i];
                hidden[o] = s / (1 + Math.Exp(-s));
            }
            for (int o = 0; o < Dim; o++)
            {
                double s = p["fc2.bias"][o];
                for (int i = 0; i < Hidden; i++) s += p["fc2.weight"][o * Hidden + i] * hidden[i];
                total += (s - eps[r * Dim + o]) * (s - eps[r * Dim + o]);
            }
        }
        return total / (N * Dim);
    }

    [Fact]
    public void TheScheduleMatchesTheProductWrittenOut()
    {
        Close(AlphasCumprodReference(), AlphasCumprod().ToDoubleArray(), 1e-13, "alphas_cumprod");
    }

    [Fact]
    public void OneCompiledAdamStepMatchesTheReferenceLossGradientsAndTorchsAdam()
    {
        var model = Model();
        var alphasCumprod = AlphasCumprod();
        var step = Diff.CompileValueAndGrad((p, batch) => DdpmLoss(p, alphasCumprod, batch[0], batch[1], batch[2]));
        var t = Tensor.FromArray(Timesteps);
        var (loss, gradients) = step.Invoke(model, X0, Eps, t);

        var flat = Flatten(Layout, model);
        Close(Reference(Unflatten(Layout, flat)), loss.ToScalar(), 1e-12, "loss");
        var numeric = Gradient(v => Reference(Unflatten(Layout, v)), flat);
        var g = Flatten(Layout, gradients);
        Close(numeric, g, 1e-7, "gradient");

        // torch's Adam, first step: m = (1 − β1) g, v = (1 − β2) g², p − lr/(1 − β1) · m / (√v/√(1 − β2) + eps)
        const double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8;
        var adam = new Adam(model, lr: lr);
        var updated = Flatten(Layout, adam.Step(gradients));
        var expected = flat.Select((w, i) =>
        {
            double m = (1 - beta1) * g[i], v = (1 - beta2) * g[i] * g[i];
            return w - lr / (1 - beta1) * m / (Math.Sqrt(v) / Math.Sqrt(1 - beta2) + eps);
        }).ToArray();
        Close(expected, updated, 1e-14, "Adam step");

        // A second batch at other timesteps reuses the plan.
        step.Invoke(adam.Parameters, Eps, X0, Tensor.FromArray(new double[] { 3, 3, 700, 1 }));
        Assert.Equal(1, step.TraceCount);
    }

    // ---- the README's example ----

    [Fact]
    public void TheReadmeShowsExactlyTheDiffusionExample() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/DdpmReadme.cs", "### Contrastive learning, distillation, diffusion");

    // The README's loss over doubles: 16 examples of 2 features, 8 frequencies, 32 hidden units.
    static double ReadmeReference(DdpmReadme.Outcome r, Dictionary<string, double[]> p)
    {
        const int rows = 16, features = 2, frequencies = 8, hidden = 32, inputs = features + 2 * frequencies;
        var abar = AlphasCumprodReference();
        double[] x0 = r.X0.ToDoubleArray(), eps = r.Noise.ToDoubleArray(), t = r.Timesteps.ToDoubleArray();
        double total = 0;
        for (int n = 0; n < rows; n++)
        {
            double a = abar[(int)t[n]];
            var h = new double[inputs];
            for (int k = 0; k < features; k++) h[k] = Math.Sqrt(a) * x0[n * features + k] + Math.Sqrt(1 - a) * eps[n * features + k];
            for (int k = 0; k < frequencies; k++)
            {
                double angle = t[n] * Math.Exp(-Math.Log(10000) * k / frequencies);
                h[features + k] = Math.Sin(angle);
                h[features + frequencies + k] = Math.Cos(angle);
            }
            var z = new double[hidden];
            for (int o = 0; o < hidden; o++)
            {
                double s = p["fc1.bias"][o];
                for (int i = 0; i < inputs; i++) s += p["fc1.weight"][o * inputs + i] * h[i];
                z[o] = s / (1 + Math.Exp(-s));
            }
            for (int o = 0; o < features; o++)
            {
                double s = p["fc2.bias"][o];
                for (int i = 0; i < hidden; i++) s += p["fc2.weight"][o * hidden + i] * z[i];
                total += (s - eps[n * features + o]) * (s - eps[n * features + o]);
            }
        }
        return total / (rows * features);
    }

    [Fact]
    public void TheDiffusionExampleMatchesItsDoubleReferenceCentralDifferencesAndTorchsAdam()
    {
        var r = DdpmReadme.Run();
        (string Name, int[] Shape)[] layout = [("fc1.weight", [32, 18]), ("fc1.bias", [32]), ("fc2.weight", [2, 32]), ("fc2.bias", [2])];
        Close(AlphasCumprodReference(), r.AlphasCumprod.ToDoubleArray(), 1e-13, "alphas_cumprod");
        var flat = Flatten(layout, r.Initial);
        Close(ReadmeReference(r, Unflatten(layout, flat)), r.Loss, 1e-12, "loss");
        var g = Flatten(layout, r.Gradients);
        Close(Gradient(v => ReadmeReference(r, Unflatten(layout, v)), flat), g, 1e-7, "gradient");
        // torch's Adam, first step: the step of lr in the sign of each nonzero gradient, up to eps
        var expected = flat.Select((w, i) =>
            w - 1e-3 / (1 - 0.9) * ((1 - 0.9) * g[i]) / (Math.Sqrt((1 - 0.999) * g[i] * g[i]) / Math.Sqrt(1 - 0.999) + 1e-8)).ToArray();
        Close(expected, Flatten(layout, r.Final), 1e-14, "Adam step");
    }
}
