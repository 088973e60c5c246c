using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's NeRF-style volume renderer: points along each ray (<c>rays_o[:, None] + rays_d[:, None] * z[:, None]</c>),
/// their positional encoding [x, sin(2^k x), cos(2^k x)], an MLP giving a density (ReLU) and a colour (sigmoid), alpha
/// compositing with <c>alpha = 1 - exp(-sigma * delta)</c> (the last interval 1e10, scaled by the ray's length), the
/// transmittance as the exclusive <c>cumprod</c> of 1 − alpha + 1e−10, the weights and the rendered colour, an MSE against
/// target pixels and Adam. Held to the renderer written over doubles ray by ray and sample by sample, its gradient to
/// central differences, and three compiled Adam steps to torch's Adam written out; and its hierarchical sampling on
/// concrete tensors (<c>torch.searchsorted</c> into each ray's CDF) to the inverse CDF found by a scan.
/// </summary>
public class ClientSeventeenNerfTests
{
    const int Rays = 4, Samples = 6, Frequencies = 3, Encoded = 3 + 6 * Frequencies, Hidden = 8;
    const double Near = 2, Far = 6, Lr = 5e-3;

    static readonly double[] Origins = Values(Rays * 3, 1).Select(v => 0.2 * v).ToArray();
    static readonly double[] Directions = Values(Rays * 3, 2).Select((v, i) => i % 3 == 2 ? -1 + 0.1 * v : 0.3 * v).ToArray();
    static readonly double[] Targets = Values(Rays * 3, 3).Select(v => 0.5 + 0.3 * v).ToArray();
    static readonly double[] Depths = Enumerable.Range(0, Samples).Select(i => Near + (Far - Near) * i / (Samples - 1)).ToArray();

    static readonly (string Name, int[] Shape)[] Layout =
        [("fc1.weight", [Hidden, Encoded]), ("fc1.bias", [Hidden]), ("fc2.weight", [4, Hidden]), ("fc2.bias", [4])];

    static Parameters Model() => Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), 10 + k).Select(v => 0.5 * v + (e.Name == "fc2.bias" ? 0.2 : 0)).ToArray(), e.Shape))).ToArray());

    /// <summary>The program as the user wrote it: the rendered colour of each ray [R, 3] and the samples' weights [R, S].</summary>
    static (Expr Colour, Expr Weights) Render(IReadOnlyDictionary<string, Expr> p, Expr origins, Expr directions, Expr z)
    {
        int s = z.Shape[0];
        var points = origins.Unsqueeze(1) + directions.Unsqueeze(1) * z.Unsqueeze(-1);         // [R, S, 3]
        var encoded = Expr.Cat([points, .. Enumerable.Range(0, Frequencies).SelectMany(k =>
            new[] { (Math.Pow(2, k) * points).Sin(), (Math.Pow(2, k) * points).Cos() })], -1);   // [R, S, 3 + 6F]
        var raw = Nn.Linear(Nn.Linear(encoded, p["fc1.weight"], p["fc1.bias"]).Relu(), p["fc2.weight"], p["fc2.bias"]);
        var rgb = raw.Narrow(-1, 0, 3).Sigmoid();                                               // raw[..., :3]
        var sigma = raw.Select(-1, 3).Relu();                                                   // raw[..., 3]
        var delta = Expr.Cat([z.Slice(0, 1, s) - z.Slice(0, 0, s - 1), Expr.Full([1], 1e10)], 0)
            * directions.Norm(axis: -1, keepDims: true);                                        // [R, S]
        var alpha = 1 - (-sigma * delta).Exp();
        var transmittance = Expr.Cat([Expr.OnesLike(alpha.Narrow(-1, 0, 1)), 1 - alpha + 1e-10], -1).Cumprod(-1).Narrow(-1, 0, s);
        var weights = alpha * transmittance;
        return ((weights.Unsqueeze(-1) * rgb).Sum(-2), weights);                               // [R, 3], [R, S]
    }

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>The renderer over doubles: the MSE of the rendered colours against the targets.</summary>
    static double ReferenceLoss(double[] flat)
    {
        var w = Unflatten(Layout, flat);
        double total = 0;
        for (int r = 0; r < Rays; r++)
        {
            var o = Origins[(3 * r)..(3 * r + 3)];
            var d = Directions[(3 * r)..(3 * r + 3)];
            double length = Math.Sqrt(d.Sum(e => e * e)), transmittance = 1;
            var colour = new double[3];
            for (int s = 0; s < Samples; s++)
            {
                var point = Enumerable.Range(0, 3).Select(c => o[c] + d[c] * Depths[s]).ToArray();
                var features = new List<double>(point);
                for (int k = 0; k < Frequencies; k++)
                {
                    features.AddRange(point.Select(x => Math.Sin(Math.Pow(2, k) * x)));
                    features.AddRange(point.Select(x => Math.Cos(Math.Pow(2, k) * x)));
                }
                var hidden = Linear(features.ToArray(), 1, Encoded, Hidden, w["fc1.weight"], w["fc1.bias"]).Select(x => Math.Max(0, x)).ToArray();
                var raw = Linear(hidden, 1, Hidden, 4, w["fc2.weight"], w["fc2.bias"]);
                double sigma = Math.Max(0, raw[3]);
                double delta = (s < Samples - 1 ? Depths[s + 1] - Depths[s] : 1e10) * length;
                double alpha = 1 - Math.Exp(-sigma * delta);
                for (int c = 0; c < 3; c++) colour[c] += alpha * transmittance * Sigmoid(raw[c]);
                transmittance *= 1 - alpha + 1e-10;
            }
            for (int c = 0; c < 3; c++) total += (colour[c] - Targets[3 * r + c]) * (colour[c] - Targets[3 * r + c]);
        }
        return total / (Rays * 3);
    }

    static Tensor[] Batch() =>
        [Tensor.FromArray(Origins, Rays, 3), Tensor.FromArray(Directions, Rays, 3), Tensor.FromArray(Targets, Rays, 3), Tensor.Linspace(Near, Far, Samples)];

    [Fact]
    public void TheRenderedColoursAreTheCompositingLoop()
    {
        // the weights of a ray sum to at most 1, and the last interval's 1e10 makes any positive density opaque there
        var model = Model();
        var b = Batch();
        var colours = Render(model.AsExprs(), b[0], b[1], b[3]).Colour;
        Close(ReferenceLoss(Flatten(Layout, model)), Loss.Mse(colours, b[2]).Eval().Item(), 1e-12, "loss");
        Assert.Equal(Depths, b[3].ToDoubleArray());
    }

    [Fact]
    public void AdamStepsAreCentralDifferencesUnderTorchsAdam()
    {
        var step = Diff.CompileValueAndGrad((p, b) => Loss.Mse(Render(p, b[0], b[1], b[3]).Colour, b[2]));
        // torch.optim.Adam, fed the gradient just checked (a hidden unit that ReLU keeps off has exact zeros here)
        CheckAdamSteps(step, new Adam(Model(), lr: Lr), Layout, ReferenceLoss, Batch(), steps: 3);
    }

    [Fact]
    public void TheTransmittanceIsTheExclusiveCumprodOfTorch()
    {
        // torch.cumprod(torch.cat([ones, 1 - alpha + 1e-10], -1), -1)[:, :-1]: entry s is Π_{t<s} (1 − alpha_t + 1e−10)
        var alpha = T([2, 5], 4).Abs() / 2;
        Expr a = alpha;
        var exclusive = Expr.Cat([Expr.OnesLike(a.Narrow(-1, 0, 1)), 1 - a + 1e-10], -1).Cumprod(-1).Narrow(-1, 0, 5).Eval().ToDoubleArray();
        var values = alpha.ToDoubleArray();
        for (int r = 0; r < 2; r++)
        {
            double running = 1;
            for (int s = 0; s < 5; s++)
            {
                Close(running, exclusive[r * 5 + s], 1e-15, $"T[{r},{s}]");
                running *= 1 - values[r * 5 + s] + 1e-10;
            }
        }
    }

    /// <summary>
    /// The user's hierarchical sampling (NeRF's sample_pdf with det=True) on concrete tensors, as torch runs it under
    /// no_grad: the coarse weights between the bins made a CDF per ray, n evenly spaced u placed by
    /// <c>torch.searchsorted(cdf, u, right=True)</c>, the neighbours gathered, and each sample interpolated in its bin.
    /// </summary>
    static Tensor SamplePdf(Tensor bins, Tensor weights, int n)
    {
        weights = weights + 1e-5;                                                       // no zero-probability bin
        var pdf = weights / weights.Sum(-1, keepDims: true);
        var cdf = pdf.Cumsum(-1);
        cdf = Tensor.Cat([Tensor.ZerosLike(cdf.Narrow(-1, 0, 1)), cdf], -1);          // [R, bins]
        var u = Tensor.Linspace(0, 1, n).Expand(cdf.Shape[0], n);
        var inds = Tensor.Searchsorted(cdf, u, right: true);
        var below = Tensor.Maximum(inds - 1, 0.0);
        var above = Tensor.Minimum(inds, cdf.Shape[^1] - 1.0);
        Tensor cdfBelow = cdf.Gather(1, below), cdfAbove = cdf.Gather(1, above);
        Tensor binsBelow = bins.Gather(1, below), binsAbove = bins.Gather(1, above);
        var denominator = cdfAbove - cdfBelow;
        denominator = Tensor.Where(denominator < 1e-5, 1.0, denominator);
        return binsBelow + (u - cdfBelow) / denominator * (binsAbove - binsBelow);
    }

    [Fact]
    public void FineSamplesAreTheInverseCdfOfTheCoarseWeights()
    {
        const int Fine = 7;
        var b = Batch();
        var weights = Render(Model().AsExprs(), b[0], b[1], b[3]).Weights.Eval();                    // [R, S]
        var mids = Depths.Zip(Depths.Skip(1), (a, c) => 0.5 * (a + c)).ToArray();                   // [S − 1]
        var bins = Tensor.FromArray(mids).Expand(Rays, Samples - 1);
        var samples = SamplePdf(bins, weights.Narrow(-1, 1, Samples - 2), Fine);                     // weights[..., 1:-1]
        // z_vals, _ = torch.sort(torch.cat([z_vals, z_samples], -1), -1)
        var (merged, _) = Tensor.Cat([b[3].Expand(Rays, Samples), samples], -1).Sort(-1);
        Assert.Equal(new[] { Rays, Samples + Fine }, merged.Shape);

        var w = weights.ToDoubleArray();
        var got = samples.ToDoubleArray();
        for (int r = 0; r < Rays; r++)
        {
            var inner = Enumerable.Range(1, Samples - 2).Select(s => w[r * Samples + s] + 1e-5).ToArray();
            double total = inner.Sum(), running = 0;
            var cdf = new[] { 0.0 }.Concat(inner.Select(x => running += x / total)).ToArray();
            for (int j = 0; j < Fine; j++)
            {
                double u = (double)j / (Fine - 1);
                int count = cdf.Count(c => c <= u);                  // searchsorted(..., right=True) by counting
                int lo = Math.Max(count - 1, 0), hi = Math.Min(count, cdf.Length - 1);
                double span = cdf[hi] - cdf[lo] < 1e-5 ? 1 : cdf[hi] - cdf[lo];
                Close(mids[lo] + (u - cdf[lo]) / span * (mids[hi] - mids[lo]), got[r * Fine + j], 1e-12, $"ray {r} sample {j}");
            }
            var row = Depths.Concat(got.Skip(r * Fine).Take(Fine)).Order().ToArray();
            Close(row, merged.ToDoubleArray().Skip(r * (Samples + Fine)).Take(Samples + Fine).ToArray(), 0, $"sorted ray {r}");
        }
    }
}

