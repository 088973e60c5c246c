using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A mixture density network ported from PyTorch as a user writes it first: an MLP whose output is split with
/// <c>torch.chunk(out, 3, dim=1)</c> into mixing logits, means and log-stds of K Gaussians, and
/// <c>-torch.logsumexp(F.log_softmax(pi, 1) + Normal(mu, log_std.exp()).log_prob(y), dim=1).mean()</c>.
/// The loss is compared with the formula over doubles (shifted by each row's maximum), the gradient with its central
/// differences, and targets far from every component with the closed form, where a naive sum of densities underflows.
/// </summary>
public class ClientTenMdnTests
{
    const int N = 6, In = 2, Hidden = 5, K = 3;

    static readonly (string Name, int[] Shape)[] Layout =
        [("fc1.weight", [Hidden, In]), ("fc1.bias", [Hidden]), ("fc2.weight", [3 * K, Hidden]), ("fc2.bias", [3 * K])];

    static readonly Tensor X = Tensor.RandomNormal([N, In], seed: 41);
    static readonly Tensor Y = Tensor.RandomNormal([N, 1], seed: 42);

    static Parameters Model() =>
        Parameters.Of(Layout.Select((e, i) => (e.Name, 0.7 * Tensor.RandomNormal(e.Shape, seed: 50 + i))).ToArray());

    // ---- what a torch user writes ----

    static Expr Nll(IReadOnlyDictionary<string, Expr> p, Expr x, Expr y)
    {
        var h = Nn.Linear(x, p["fc1.weight"], p["fc1.bias"]).Tanh();
        var parts = Nn.Linear(h, p["fc2.weight"], p["fc2.bias"]).Chunk(3, 1);     // pi, mu, log_std: [N, K] each
        var (logits, mu, logStd) = (parts[0], parts[1], parts[2]);
        var logProb = Distributions.NormalLogProb(mu, logStd.Exp(), y);           // y [N, 1] broadcasts over K
        return -(logits.LogSoftmax(1) + logProb).LogSumExp(1).Mean();
    }

    // ---- the same loss over doubles ----

    static Dictionary<string, double[]> Unflatten(double[] flat) => TestSupport.Unflatten(Layout, flat);

    static double[] Flat(IReadOnlyDictionary<string, Tensor> p) => Flatten(Layout, p);

    static double LogSumExp(double[] v)
    {
        double max = v.Max();
        return max + Math.Log(v.Sum(a => Math.Exp(a - max)));
    }

    // the NLL with every logsumexp shifted by its row's maximum
    static double NllRef(double[] flat, double[] x, double[] y)
    {
        var p = Unflatten(flat);
        var h = TestSupport.Linear(x, N, In, Hidden, p["fc1.weight"], p["fc1.bias"]).Select(Math.Tanh).ToArray();
        var o = TestSupport.Linear(h, N, Hidden, 3 * K, p["fc2.weight"], p["fc2.bias"]);
        double total = 0;
        for (int r = 0; r < N; r++)
        {
            var logits = Enumerable.Range(0, K).Select(k => o[r * 3 * K + k]).ToArray();
            double lse = LogSumExp(logits);
            var terms = new double[K];
            for (int k = 0; k < K; k++)
            {
                double mu = o[r * 3 * K + K + k], logStd = o[r * 3 * K + 2 * K + k];
                double z = (y[r] - mu) / Math.Exp(logStd);
                terms[k] = logits[k] - lse - 0.5 * z * z - logStd - 0.5 * Math.Log(2 * Math.PI);
            }
            total -= LogSumExp(terms);
        }
        return total / N;
    }

    static IReadOnlyDictionary<string, Expr> Exprs(Parameters p) => p.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value);

    [Fact]
    public void NllIsTheShiftedFormulaAndGradientIsCentralDifferences()
    {
        var model = Model();
        var (loss, gradients) = Diff.ValueAndGrad(p => Nll(p, X, Y), model);
        var values = Expr.EvalMany([loss, .. Layout.Select(e => gradients[e.Name])]);
        Close(NllRef(Flat(model), X.ToDoubleArray(), Y.ToDoubleArray()), values[0].ToScalar(), 1e-12, "nll");
        var numeric = Gradient(f => NllRef(f, X.ToDoubleArray(), Y.ToDoubleArray()), Flat(model));
        Close(numeric, values[1..].SelectMany(v => v.ToDoubleArray()).ToArray(), 1e-7, "gradient");
    }

    [Theory]
    [InlineData(1e2)]
    [InlineData(1e4)]
    [InlineData(-3e5)]
    public void FarAwayTargetsStayFiniteAndMatchTheClosedForm(double far)
    {
        // every component's density at y underflows to 0 in double (exp of −far²/2σ²), so log Σ π N(y) computed
        // naively is −∞; torch's logsumexp of log-probabilities is finite, and so must ours be, with its gradient
        var model = Model();
        var y = Tensor.FromArray(Enumerable.Range(0, N).Select(i => far * (1 + 0.1 * i)).ToArray(), N, 1);
        var (loss, gradients) = Diff.ValueAndGrad(p => Nll(p, X, y), model);
        var values = Expr.EvalMany([loss, .. Layout.Select(e => gradients[e.Name])]);
        double expected = NllRef(Flat(model), X.ToDoubleArray(), y.ToDoubleArray());
        Assert.True(double.IsFinite(expected));
        Close(expected, values[0].ToScalar(), 1e-12, "far nll");
        Assert.All(values[1..].SelectMany(v => v.ToDoubleArray()), v => Assert.True(double.IsFinite(v)));

        // the loss grows like far², so central differences lose their digits to rounding; the gradient in the net's
        // outputs has a closed form instead, through the responsibilities r = softmax(log π + log N), a max-shifted
        // softmax: ∂/∂logit_j = −(r_j − π_j)/N, ∂/∂μ_k = −r_k z_k/σ_k/N, ∂/∂log σ_k = −r_k (z_k² − 1)/N, z = (y − μ)/σ
        var output = Tensor.RandomNormal([N, 3 * K], seed: 43);
        var gOut = Diff.Grad(o => HeadNll(o, y))(output).Eval().ToDoubleArray();
        var o = output.ToDoubleArray();
        var ys = y.ToDoubleArray();
        var expectedGrad = new double[N * 3 * K];
        for (int r = 0; r < N; r++)
        {
            var logits = Enumerable.Range(0, K).Select(k => o[r * 3 * K + k]).ToArray();
            double lse = LogSumExp(logits);
            var z = Enumerable.Range(0, K).Select(k => (ys[r] - o[r * 3 * K + K + k]) / Math.Exp(o[r * 3 * K + 2 * K + k])).ToArray();
            var terms = Enumerable.Range(0, K).Select(k => logits[k] - lse - 0.5 * z[k] * z[k] - o[r * 3 * K + 2 * K + k]).ToArray();
            double total = LogSumExp(terms);
            for (int k = 0; k < K; k++)
            {
                double resp = Math.Exp(terms[k] - total), pi = Math.Exp(logits[k] - lse);
                expectedGrad[r * 3 * K + k] = -(resp - pi) / N;
                expectedGrad[r * 3 * K + K + k] = -resp * z[k] / Math.Exp(o[r * 3 * K + 2 * K + k]) / N;
                expectedGrad[r * 3 * K + 2 * K + k] = -resp * (z[k] * z[k] - 1) / N;
            }
        }
        Close(expectedGrad, gOut, 1e-10, "gradient in the outputs");
    }

    // the loss from the net's outputs [N, 3K] on: the part the far targets stress
    static Expr HeadNll(Expr output, Expr y)
    {
        var parts = output.Chunk(3, 1);
        var logProb = Distributions.NormalLogProb(parts[1], parts[2].Exp(), y);
        return -(parts[0].LogSoftmax(1) + logProb).LogSumExp(1).Mean();
    }

    [Fact]
    public void FarAwayTargetsInFloat32StayFinite()
    {
        // float32 holds (y − μ)²/σ² up to about 3e38: y = 1e4 with σ down to e^−3 stays finite, as in torch
        var model = Model();
        var single = model.Map((_, t) => t.To(DType.Float32));
        var y = Tensor.FromArray(Enumerable.Range(0, N).Select(i => 1e4 * (1 + 0.1 * i)).ToArray(), N, 1).To(DType.Float32);
        var (loss, gradients) = Diff.ValueAndGrad(p => Nll(p, X.To(DType.Float32), y), single);
        var values = Expr.EvalMany([loss, .. Layout.Select(e => gradients[e.Name])]);
        double expected = NllRef(Flat(model), X.ToDoubleArray(), y.ToDoubleArray());
        Close(expected, values[0].ToScalar(), 1e-4, "float32 far nll");
        Assert.All(values[1..].SelectMany(v => v.ToDoubleArray()), v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void MixtureWeightsAreASoftmaxAndTheDensityIntegratesToOne()
    {
        // one input row: the mixture's density, exp(−NLL) as a function of y, integrates to 1 (trapezoid rule)
        var p = Exprs(Model());
        var x = X[0..1, ..];
        var grid = Enumerable.Range(0, 4001).Select(i => -40 + 0.02 * i).ToArray();
        var nll = Diff.Vmap(yy => Nll(p, x, yy.Reshape(1, 1)))(Tensor.FromArray(grid)).Eval().ToDoubleArray();
        double integral = 0;
        for (int i = 1; i < grid.Length; i++) integral += 0.5 * (Math.Exp(-nll[i]) + Math.Exp(-nll[i - 1])) * 0.02;
        Close(1.0, integral, 1e-6, "∫ p(y) dy");
    }

    [Fact]
    public void TorchsOtherSpellingsGiveTheSameNll()
    {
        // out.split(K, dim=1), F.softplus for σ is not this model, so σ = exp(log σ) again; logsumexp over dim=-1; y of
        // shape [N] unsqueezed; the log-probability written out as torch's Normal.log_prob computes it
        var p = Exprs(Model());
        var h = Nn.Linear(X, p["fc1.weight"], p["fc1.bias"]).Tanh();
        var parts = Nn.Linear(h, p["fc2.weight"], p["fc2.bias"]).Split(K, 1);
        var y = ((Expr)Y).Squeeze(1).Unsqueeze(-1);
        var sigma = parts[2].Exp();
        var logProb = -(y - parts[1]).Square() / (2 * sigma.Square()) - sigma.Log() - 0.5 * Math.Log(2 * Math.PI);
        var nll = -(parts[0].LogSoftmax(-1) + logProb).LogSumExp(-1).Mean();
        Close(NllRef(Flat(Model()), X.ToDoubleArray(), Y.ToDoubleArray()), nll.Eval().Item(), 1e-12, "nll");
    }
}
