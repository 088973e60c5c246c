namespace FunctionalDiff.Tests;

/// <summary>
/// The README's diffusion example (section "Contrastive learning, distillation, diffusion and a neural ODE, ported
/// from PyTorch"), verbatim between the markers. <see cref="ClientNineDdpmTests"/> checks that README.md shows exactly
/// this code and replays it over doubles.
/// </summary>
public static class DdpmReadme
{
    /// <summary>What the example computes.</summary>
    public sealed record Outcome(Tensor AlphasCumprod, Tensor X0, Tensor Noise, Tensor Timesteps, Parameters Initial, double Loss, Parameters Gradients, Parameters Final);

    /// <summary>Runs the example.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        // DDPM: a linear beta schedule, x_t = √ᾱ_t x₀ + √(1 − ᾱ_t) ε, and an MLP that predicts ε from x_t and t.
        var betas = Tensor.Linspace(1e-4, 0.02, 1000);                    // torch.linspace(1e-4, 0.02, T)
        var alphasCumprod = (1 - betas).Cumprod(0);                       // torch.cumprod(1 - betas, dim=0)
        var freqs = (Tensor.Arange(8) * (-Math.Log(10000) / 8)).Exp();   // the sinusoidal embedding's frequencies

        var step = Diff.CompileValueAndGrad((p, data) =>
        {
            Expr x0 = data[0], noise = data[1], t = data[2];               // ε and t are data, drawn per step
            var abar = ((Expr)alphasCumprod).IndexSelect(0, t).Unsqueeze(1);   // alphas_cumprod[t][:, None]
            var xt = abar.Sqrt() * x0 + (1 - abar).Sqrt() * noise;
            var angles = t.Unsqueeze(1) * freqs;                            // t[:, None] * freqs[None]
            var h = Expr.Cat([xt, angles.Sin(), angles.Cos()], 1);          // torch.cat([...], dim=1)
            var predicted = Nn.Linear(Nn.Linear(h, p["fc1.weight"], p["fc1.bias"]).Silu(), p["fc2.weight"], p["fc2.bias"]);
            return Loss.Mse(predicted, noise);
        });

        var adam = new Adam(Parameters.Of(
            ("fc1.weight", Init.KaimingUniform([32, 18], seed: 1, a: Math.Sqrt(5))), ("fc1.bias", Tensor.Zeros(32)),
            ("fc2.weight", Init.KaimingUniform([2, 32], seed: 2, a: Math.Sqrt(5))), ("fc2.bias", Tensor.Zeros(2))), lr: 1e-3);
        var initial = adam.Parameters;
        var x = Tensor.RandomNormal([16, 2], seed: 3);                     // a batch of data
        var eps = Tensor.RandomNormal([16, 2], seed: 4);                   // torch.randn_like(x0)
        Tensor.ManualSeed(0);                                              // torch.manual_seed(0)
        var timesteps = Tensor.Randint(0, 1000, [16]);                     // torch.randint(0, T, (16,))
        var (loss, gradients) = step.Invoke(adam.Parameters, x, eps, timesteps);
        adam.Step(gradients);
        // END README
        return new(alphasCumprod, x, eps, timesteps, initial, loss.Item(), gradients, adam.Parameters);
    }
}
