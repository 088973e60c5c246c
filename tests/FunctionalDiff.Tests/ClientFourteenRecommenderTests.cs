using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's recommender, ported from the scratch client: user and item embeddings, a user's history of
/// variable length pooled by <c>nn.EmbeddingBag(mode="mean")</c> over flat ids and offsets (<see cref="Nn.EmbeddingBag"/>),
/// a BPR loss <c>-F.logsigmoid(pos - neg).mean()</c> with L2 regularisation of the tables, and Adam in a compiled step fed
/// a different batch (other bag sizes) each call. Every loss and parameter is held to the program over doubles (bags as
/// loops, central differences, torch's Adam written out); <see cref="Nn.EmbeddingBag"/>'s modes, options and errors are
/// held to torch's definition written as loops.
/// </summary>
public class ClientFourteenRecommenderTests
{
    const int Users = 5, Items = 7, D = 3, Steps = 4;
    const double L2 = 1e-2;
    // two batches of four (user, history, positive item, negative item); the histories are flat ids cut by offsets
    static readonly (double[] Users, double[] History, int[] Offsets, double[] Positive, double[] Negative)[] Data =
    [
        ([0, 1, 2, 3], [0, 2, 3, 1, 4, 6, 5, 2], [0, 3, 4, 6], [1, 0, 2, 3], [6, 5, 0, 4]),
        ([4, 2, 1, 0], [3, 3, 6, 0, 1, 2, 5, 4], [0, 1, 5, 7], [2, 6, 3, 5], [0, 1, 4, 6]),
    ];
    static readonly (string Name, int[] Shape)[] Layout = [("user.weight", [Users, D]), ("item.weight", [Items, D])];

    static Parameters InitialModel() => Parameters.Of(
        ("user.weight", Init.Normal([Users, D], seed: 1, std: 0.5)), ("item.weight", Init.Normal([Items, D], seed: 2, std: 0.5)));

    // ---- the client, as written against the README (ClientFourteenRecommenderReadme) ----

    static (List<double> Losses, Parameters Trained, int Traces) RunClient() =>
        ClientFourteenRecommenderReadme.Train(InitialModel(), Enumerable.Range(0, Steps).Select(t => Data[t % 2]).Select(d =>
            (Tensor.FromArray(d.Users), Tensor.FromArray(d.History), Tensor.FromArray(d.Offsets), Tensor.FromArray(d.Positive),
             Tensor.FromArray(d.Negative))));

    // ---- the same program over doubles ----

    static double[] Row(double[] table, double id) => table.Skip((int)id * D).Take(D).ToArray();

    static double ReferenceLoss(Dictionary<string, double[]> p, int batch)
    {
        var d = Data[batch];
        double total = 0;
        for (int b = 0; b < 4; b++)
        {
            int start = d.Offsets[b], stop = b + 1 < 4 ? d.Offsets[b + 1] : d.History.Length;
            var u = Row(p["user.weight"], d.Users[b]);
            for (int k = 0; k < D; k++)
                u[k] += Enumerable.Range(start, stop - start).Average(j => Row(p["item.weight"], d.History[j])[k]);
            double pos = u.Zip(Row(p["item.weight"], d.Positive[b]), (a, c) => a * c).Sum();
            double neg = u.Zip(Row(p["item.weight"], d.Negative[b]), (a, c) => a * c).Sum();
            total += Math.Log(1 + Math.Exp(-(pos - neg)));      // −log σ(pos − neg)
        }
        return total / 4 + L2 * (p["user.weight"].Sum(v => v * v) + p["item.weight"].Sum(v => v * v));
    }

    [Fact]
    public void TheReadmeShowsExactlyTheRecommenderThatIsCompiledHere() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/ClientFourteenRecommenderReadme.cs",
            "### A GRU language model, a ResNet and a recommender, ported from PyTorch");

    [Fact]
    public void TheRecommenderTrainsAsTheSameProgramWrittenOverDoubles()
    {
        var (losses, trained, traces) = RunClient();
        var theta = Flatten(Layout, InitialModel());
        var m = new double[theta.Length];
        var v = new double[theta.Length];
        for (int t = 0; t < Steps; t++)
        {
            double LossAt(double[] flat) => ReferenceLoss(Unflatten(Layout, flat), t % 2);
            Close(LossAt(theta), losses[t], 1e-10, $"loss {t}");
            AdamStep(theta, m, v, Gradient(LossAt, theta), t + 1, 0.05);   // torch's Adam, lr 0.05
        }
        Close(theta, Flatten(Layout, trained), 1e-6, "trained parameters");
        // the offsets are data: the second batch's other bag sizes run the same plan
        Assert.Equal(1, traces);
    }

    // ---- EmbeddingBag against torch's definition, bag by bag ----

    static readonly double[] Ids = [0, 2, 3, 1, 4, 6, 5, 2, 2];
    static readonly double[] Weights = [0.5, -1, 2, 1.5, 0.25, 3, -0.5, 1, 2];

    /// <summary>torch's embedding_bag over doubles: each bag's rows (scaled by their weights, padding left out) reduced.</summary>
    static double[] BagReference(double[] table, double[] ids, int[] starts, string mode, double[]? weights = null, int? padding = null)
    {
        int bags = starts.Length;
        var result = new double[bags * D];
        for (int b = 0; b < bags; b++)
        {
            int stop = b + 1 < bags ? starts[b + 1] : ids.Length;
            var members = Enumerable.Range(starts[b], stop - starts[b]).Where(j => padding is null || ids[j] != padding).ToArray();
            if (members.Length == 0) continue;                                        // an empty bag is zeros
            for (int k = 0; k < D; k++)
            {
                var entries = members.Select(j => table[(int)ids[j] * D + k] * (weights?[j] ?? 1.0)).ToArray();
                result[b * D + k] = mode switch { "sum" => entries.Sum(), "mean" => entries.Average(), _ => entries.Max() };
            }
        }
        return result;
    }

    [Theory]
    [InlineData("sum")]
    [InlineData("mean")]
    [InlineData("max")]
    public void EmbeddingBagIsTorchsPerBagReductionAndItsGradientTheCentralDifferences(string mode)
    {
        var table = Tensor.RandomNormal([Items, D], seed: 3);
        int[] starts = [0, 3, 4, 4, 6];                                               // bag 3 is empty
        var offsets = Tensor.FromArray(starts);
        Close(BagReference(table.ToDoubleArray(), Ids, starts, mode),
            Nn.EmbeddingBag(Tensor.FromArray(Ids), table, offsets, mode: mode).Eval().ToDoubleArray(), 1e-14, mode);
        // torch's include_last_offset: the offsets end with the input's length
        Close(BagReference(table.ToDoubleArray(), Ids, starts, mode),
            Nn.EmbeddingBag(Tensor.FromArray(Ids), table, Tensor.FromArray([.. starts, Ids.Length]), mode: mode, includeLastOffset: true)
                .Eval().ToDoubleArray(), 1e-14, mode + " include_last_offset");
        // a weighted sum of the bags, so every bag's cotangent differs
        var mix = Tensor.FromArray(Enumerable.Range(0, starts.Length * D).Select(i => Math.Sin(i + 1.0)).ToArray(), starts.Length, D);
        double Reference(double[] t) => BagReference(t, Ids, starts, mode).Zip(mix.ToDoubleArray(), (a, b) => a * b).Sum();
        var gradient = Diff.Grad(w => (Nn.EmbeddingBag(Tensor.FromArray(Ids), w, offsets, mode: mode) * mix).Sum())(table).Eval();
        Close(Gradient(Reference, table.ToDoubleArray()), gradient.ToDoubleArray(), 1e-7, mode + " gradient");
        // float32 gives the same bags in float32
        var single = Nn.EmbeddingBag(Tensor.FromArray(Ids), table.To(DType.Float32), offsets, mode: mode).Eval();
        Assert.Equal(DType.Float32, single.DType);
        Close(BagReference(table.ToDoubleArray(), Ids, starts, mode), single.ToDoubleArray(), 1e-6, mode + " float32");
    }

    [Fact]
    public void EmbeddingBagTakesPerSampleWeightsTwoDimensionalBagsPaddingAndOffsetsAsData()
    {
        var table = Tensor.RandomNormal([Items, D], seed: 4);
        var t = table.ToDoubleArray();
        int[] starts = [0, 3, 4, 6];
        // per_sample_weights scale each row of a sum, and are differentiated
        Close(BagReference(t, Ids, starts, "sum", Weights),
            Nn.EmbeddingBag(Tensor.FromArray(Ids), table, Tensor.FromArray(starts), mode: "sum", perSampleWeights: Tensor.FromArray(Weights))
                .Eval().ToDoubleArray(), 1e-14, "per_sample_weights");
        var weightGradient = Diff.Grad(w => Nn.EmbeddingBag(Tensor.FromArray(Ids), table, Tensor.FromArray(starts), mode: "sum",
            perSampleWeights: w).Square().Sum())(Tensor.FromArray(Weights)).Eval();
        Close(Gradient(w => BagReference(t, Ids, starts, "sum", w).Sum(e => e * e), Weights), weightGradient.ToDoubleArray(), 1e-7,
            "per_sample_weights gradient");
        // a 2-D input is one bag per row; padding_idx leaves its ids out, so a mean counts the others
        double[,] rows = { { 1, 2, 0 }, { 3, 0, 0 }, { 0, 0, 0 } };
        var flat = rows.Cast<double>().ToArray();
        foreach (var mode in new[] { "sum", "mean", "max" })
            Close(BagReference(t, flat, [0, 3, 6], mode, padding: 0),
                Nn.EmbeddingBag(Tensor.FromArray(rows), table, mode: mode, paddingIdx: 0).Eval().ToDoubleArray(), 1e-14, "2-D " + mode);
        // the padding row gets no gradient (torch's padding_idx), the others their occurrences'
        var padded = Diff.Grad(w => Nn.EmbeddingBag(Tensor.FromArray(rows), w, mode: "sum", paddingIdx: 0).Sum())(table).Eval().ToDoubleArray();
        Assert.Equal(new double[] { 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, padded);
        // offsets passed into a compiled step: bags of other sizes run one plan
        var f = Diff.Compile((Expr[] a) => [Nn.EmbeddingBag(a[0], a[1], a[2])]);
        foreach (int[] cut in new[] { starts, new[] { 0, 1, 2, 8 }, new[] { 0, 0, 5, 9 } })
            Close(BagReference(t, Ids[..(cut == starts ? 8 : 9)], cut, "mean"),
                f.Invoke(Tensor.FromArray(Ids[..(cut == starts ? 8 : 9)]), table, Tensor.FromArray(cut))[0].ToDoubleArray(), 1e-14, "compiled");
        Assert.Equal(2, f.TraceCount);                                                // two input lengths, 8 and 9
    }

    [Fact]
    public void EmbeddingBagErrorsNameTheMethodTheParameterAndTheShapes()
    {
        var table = Tensor.RandomNormal([Items, D], seed: 5);
        var ids = Tensor.FromArray([0, 2, 3]);
        void Fails<TException>(Func<Expr> call, params string[] parts) where TException : Exception
        {
            var e = Assert.ThrowsAny<TException>(() => call());
            Assert.Contains("EmbeddingBag", e.Message);
            foreach (var part in parts) Assert.Contains(part, e.Message);
        }
        Fails<ArgumentException>(() => Nn.EmbeddingBag(ids, table), "[3]", "offsets");
        Fails<ArgumentException>(() => Nn.EmbeddingBag(ids, table, Tensor.FromArray([1, 2])), "offsets[0] is 1");
        Fails<ArgumentException>(() => Nn.EmbeddingBag(ids, table, Tensor.FromArray([0, 2, 1])), "offsets[2] is 1");
        Fails<ArgumentException>(() => Nn.EmbeddingBag(ids, table, Tensor.FromArray([0, 4])), "offsets[1] is 4");
        Fails<ArgumentException>(() => Nn.EmbeddingBag(Tensor.FromArray(new[,] { { 1, 2 } }), table, Tensor.FromArray([0])), "[1,2]", "null");
        Fails<ArgumentException>(() => Nn.EmbeddingBag(Tensor.FromArray([0, 9, 3]), table, Tensor.FromArray([0])), "id 9", "[7,3]");
        Fails<ArgumentException>(() => Nn.EmbeddingBag(ids, table, Tensor.FromArray([0]), mode: "median"), "'median'");
        Fails<ArgumentException>(() => Nn.EmbeddingBag(ids, table, Tensor.FromArray([0]), perSampleWeights: Tensor.Ones(3)), "'sum'");
        Fails<ArgumentException>(() => Nn.EmbeddingBag(ids, table, Tensor.FromArray([0]), mode: "sum", perSampleWeights: Tensor.Ones(2)), "[2]", "[3]");
        Fails<ArgumentException>(() => Nn.EmbeddingBag(ids, table, Tensor.FromArray([0]), paddingIdx: 7), "paddingIdx 7");
        Assert.Equal("mode", Assert.Throws<ArgumentException>(() => Nn.EmbeddingBag(ids, table, Tensor.FromArray([0]), mode: "median")).ParamName);
        Assert.Equal("weight", Assert.Throws<ArgumentNullException>(() => Nn.EmbeddingBag(ids, null!, Tensor.FromArray([0]))).ParamName);
    }

    [Fact]
    public void EagerActivationsAreTheGraphsBitForBitAndLogSigmoidTheFormula()
    {
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var x = (Tensor.RandomNormal([4, 5], seed: 8) * 6.0).To(dtype);
            var cases = new (Func<Tensor, Tensor> Eager, Func<Expr, Expr> Graph)[]
            {
                (t => t.LogSigmoid(), e => e.LogSigmoid()), (t => t.Softplus(), e => e.Softplus()),
                (t => t.Silu(), e => e.Silu()), (t => t.Gelu(), e => e.Gelu()),
            };
            foreach (var (eager, graph) in cases)
            {
                var made = eager(x);
                Assert.Equal(dtype, made.DType);
                Assert.Equal(graph(x).Eval().ToDoubleArray(), made.ToDoubleArray());
            }
        }
        // log σ(v) = −log(1 + e^−v), the BPR term
        var v = Tensor.FromArray([-30.0, -1.5, 0.0, 2.0, 40.0]);
        Close(v.ToDoubleArray().Select(e => -Math.Log(1 + Math.Exp(-e))).ToArray(), v.LogSigmoid().ToDoubleArray(), 1e-14, "log sigmoid");
    }
}
