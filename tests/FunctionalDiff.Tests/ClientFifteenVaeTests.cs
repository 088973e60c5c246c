using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's VAE on small binary data: an encoder to (mu, logvar), the reparameterisation with its noise passed in
/// as data, a Bernoulli decoder scored by <c>F.binary_cross_entropy_with_logits</c>, and the Gaussian KL term, in both of
/// torch's ways of reducing them (<c>reduction="sum"</c> with the KL summed; the default mean with the KL summed over the
/// latent axis and averaged over the batch), trained with Adam on a compiled step that returns the two terms as auxiliary
/// outputs. Held to the same model over doubles (loops, central differences, torch's Adam written out).
/// </summary>
public class ClientFifteenVaeTests
{
    const int N = 6, D = 5, H = 4, Z = 2, Steps = 3;
    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("enc.w", [H, D]), ("enc.b", [H]), ("mu.w", [Z, H]), ("mu.b", [Z]), ("logvar.w", [Z, H]), ("logvar.b", [Z]),
        ("dec.w", [D, Z]), ("dec.b", [D]),
    ];

    static Parameters InitialModel() => Parameters.Of(
        ("enc.w", Init.KaimingUniform([H, D], seed: 1)), ("enc.b", 0.1 * Tensor.RandomNormal([H], seed: 2)),
        ("mu.w", Init.XavierUniform([Z, H], seed: 3)), ("mu.b", Tensor.Zeros(Z)),
        ("logvar.w", Init.XavierUniform([Z, H], seed: 4)), ("logvar.b", Tensor.Zeros(Z)),
        ("dec.w", Init.XavierUniform([D, Z], seed: 5)), ("dec.b", Tensor.Zeros(D)));

    static readonly double[] Data = Enumerable.Range(0, N * D).Select(i => (i * 7 + i / 3) % 3 == 0 ? 1.0 : 0.0).ToArray();
    static Tensor Noise(int step) => Tensor.RandomNormal([N, Z], seed: 20 + step);

    // ---- the client ----

    /// <summary>torch's VAE loss: the decoder's BCE with logits and the KL of N(mu, exp(logvar)) from N(0, 1).</summary>
    static (Expr Loss, Expr Reconstruction, Expr Kl) Vae(IReadOnlyDictionary<string, Expr> p, Expr x, Expr eps, Reduction reduction)
    {
        var h = Nn.Linear(x, p["enc.w"], p["enc.b"]).Relu();
        var mu = Nn.Linear(h, p["mu.w"], p["mu.b"]);
        var logvar = Nn.Linear(h, p["logvar.w"], p["logvar.b"]);
        var z = mu + eps * (0.5 * logvar).Exp();                          // reparameterisation: the noise is data
        var logits = Nn.Linear(z, p["dec.w"], p["dec.b"]);
        var reconstruction = Loss.BinaryCrossEntropyWithLogits(logits, x, reduction);
        var kl = -0.5 * (1 + logvar - mu.Pow(2) - logvar.Exp());          // [N, Z]
        var klTerm = reduction == Reduction.Sum ? kl.Sum() : kl.Sum(1).Mean();
        return (reconstruction + klTerm, reconstruction, klTerm);
    }

    // ---- the same model over doubles ----

    static (double Loss, double Reconstruction, double Kl) Reference(Dictionary<string, double[]> p, double[] eps, bool sum)
    {
        var h = Linear(Data, N, D, H, p["enc.w"], p["enc.b"]).Select(v => Math.Max(v, 0)).ToArray();
        var mu = Linear(h, N, H, Z, p["mu.w"], p["mu.b"]);
        var logvar = Linear(h, N, H, Z, p["logvar.w"], p["logvar.b"]);
        var z = mu.Select((m, i) => m + eps[i] * Math.Exp(0.5 * logvar[i])).ToArray();
        var logits = Linear(z, N, Z, D, p["dec.w"], p["dec.b"]);
        // torch's stable form: max(l, 0) − l·t + log(1 + e^−|l|)
        double bce = logits.Select((l, i) => Math.Max(l, 0) - l * Data[i] + Math.Log(1 + Math.Exp(-Math.Abs(l)))).Sum();
        double kl = mu.Select((m, i) => -0.5 * (1 + logvar[i] - m * m - Math.Exp(logvar[i]))).Sum();
        return sum ? (bce + kl, bce, kl) : (bce / (N * D) + kl / N, bce / (N * D), kl / N);
    }

    [Theory]
    [InlineData(Reduction.Sum)]
    [InlineData(Reduction.Mean)]
    public void TheLossInEitherReductionAndItsGradientAreTheModelOverDoubles(Reduction reduction)
    {
        var model = InitialModel();
        var eps = Noise(0);
        var (loss, reconstruction, kl) = Vae(model.AsExprs(), Tensor.FromArray(Data, N, D), eps, reduction);
        var expected = Reference(Unflatten(Layout, Flatten(Layout, model)), eps.ToDoubleArray(), reduction == Reduction.Sum);
        var values = Expr.EvalMany([loss, reconstruction, kl]);
        Close(expected.Loss, values[0].Item(), 1e-13, "loss");
        Close(expected.Reconstruction, values[1].Item(), 1e-13, "reconstruction");
        Close(expected.Kl, values[2].Item(), 1e-13, "kl");
        var gradient = Diff.Grad(p => Vae(p, Tensor.FromArray(Data, N, D), eps, reduction).Loss, model);
        var evaluated = Parameters.Of(gradient.Select(kv => (kv.Key, kv.Value.Eval())).ToArray());
        Close(Gradient(flat => Reference(Unflatten(Layout, flat), eps.ToDoubleArray(), reduction == Reduction.Sum).Loss, Flatten(Layout, model)),
            Flatten(Layout, evaluated), 1e-6, "gradient");
    }

    [Fact]
    public void NormalKlDivergenceIsTorchsFormulaAndTheVaesKlTerm()
    {
        // torch's _kl_normal_normal over doubles: ½·(r + ((μp − μq)/σq)² − 1 − log r), r = (σp/σq)², broadcast [3, 2] against [2]
        double[] pLoc = [0.3, -1.2, 0.5, 2.0, -0.1, 0.0], pScale = [0.5, 1.5, 2.0, 0.25, 1.0, 3.0], qLoc = [0.2, -0.4], qScale = [1.3, 0.7];
        var expected = Enumerable.Range(0, 6).Select(i =>
        {
            double r = Math.Pow(pScale[i] / qScale[i % 2], 2), shift = Math.Pow((pLoc[i] - qLoc[i % 2]) / qScale[i % 2], 2);
            return 0.5 * (r + shift - 1 - Math.Log(r));
        }).ToArray();
        var kl = Distributions.NormalKlDivergence(Tensor.FromArray(pLoc, 3, 2), Tensor.FromArray(pScale, 3, 2), Tensor.FromArray(qLoc), Tensor.FromArray(qScale));
        Assert.Equal([3, 2], kl.Shape);
        Close(expected, kl.Eval().ToDoubleArray(), 1e-14, "kl");
        // its gradient in the first distribution's scale against central differences
        double Total(double[] s) => Enumerable.Range(0, 6).Sum(i =>
        {
            double r = Math.Pow(s[i] / qScale[i % 2], 2);
            return 0.5 * (r + Math.Pow((pLoc[i] - qLoc[i % 2]) / qScale[i % 2], 2) - 1 - Math.Log(r));
        });
        var g = Diff.Grad(s => Distributions.NormalKlDivergence(Tensor.FromArray(pLoc, 3, 2), s, Tensor.FromArray(qLoc), Tensor.FromArray(qScale)).Sum())(
            Tensor.FromArray(pScale, 3, 2)).Eval();
        Close(Gradient(Total, pScale), g.ToDoubleArray(), 1e-7, "gradient");
        // the VAE's KL(N(mu, exp(logvar)) ‖ N(0, 1)), written out above, is the same number
        var mu = Tensor.RandomNormal([N, Z], seed: 30);
        var logvar = 0.5 * Tensor.RandomNormal([N, Z], seed: 31);
        Close((-0.5 * (1 + (Expr)logvar - ((Expr)mu).Pow(2) - ((Expr)logvar).Exp())).Sum().Eval().Item(),
            Distributions.NormalKlDivergence(mu, (0.5 * (Expr)logvar).Exp(), 0.0, 1.0).Sum().Eval().Item(), 1e-13, "vae kl");
        var e = Assert.ThrowsAny<ArgumentException>(() => Distributions.NormalKlDivergence(Tensor.Ones(3), Tensor.Ones(3), Tensor.Ones(2), 1.0));
        Assert.StartsWith("NormalKlDivergence", e.Message);
    }

    [Fact]
    public void TheVaeTrainsAsTheSameProgramWrittenOverDoubles()
    {
        var step = Diff.CompileValueAndGrad((p, b) =>
        {
            var (loss, reconstruction, kl) = Vae(p, b[0], b[1], Reduction.Sum);
            return (loss, [reconstruction, kl]);
        });
        var adam = new Adam(InitialModel(), lr: 0.02);
        var theta = Flatten(Layout, InitialModel());
        var (m, v) = (new double[theta.Length], new double[theta.Length]);
        for (int t = 0; t < Steps; t++)
        {
            var eps = Noise(t);                                               // a fresh draw each step, passed in
            var (loss, aux, gradients) = step.InvokeWithAux(adam.Parameters, Tensor.FromArray(Data, N, D), eps);
            adam.Step(gradients);
            var expected = Reference(Unflatten(Layout, theta), eps.ToDoubleArray(), sum: true);
            Close(expected.Loss, loss.Item(), 1e-10, $"loss {t}");
            Close(expected.Reconstruction, aux[0].Item(), 1e-10, $"reconstruction {t}");
            Close(expected.Kl, aux[1].Item(), 1e-10, $"kl {t}");
            var g = Gradient(flat => Reference(Unflatten(Layout, flat), eps.ToDoubleArray(), sum: true).Loss, theta);
            AdamStep(theta, m, v, g, t + 1, 0.02);   // torch's Adam, lr 0.02
        }
        Close(theta, Flatten(Layout, adam.Parameters), 1e-6, "trained parameters");
        Assert.Equal(1, step.TraceCount);
    }
}
