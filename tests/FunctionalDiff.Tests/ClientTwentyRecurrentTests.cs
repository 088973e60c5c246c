using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// <see cref="Nn.Lstm(Expr, IReadOnlyDictionary{string, Expr}, ValueTuple{Expr, Expr}?, bool, string, ScanCheckpoint?, Expr?, double, Expr?)"/> and
/// <see cref="Nn.Gru(Expr, IReadOnlyDictionary{string, Expr}, Expr?, bool, string, ScanCheckpoint?, Expr?, double, Expr?)"/>, torch.nn.LSTM and
/// torch.nn.GRU over a sequence, held to the layers written here as loops over doubles from torch's documented equations:
/// every layer and direction, torch's state-dict names and shapes, the reverse direction reading the sequence from its
/// end, the output [time, batch, directions·hidden] and the final states [layers·directions, batch, hidden]. Values to
/// rounding, gradients in every weight, the input and the initial states to central differences, and the Hessian times
/// a vector to mixed central differences of the same loops.
/// </summary>
public class ClientTwentyRecurrentTests
{
    /// <summary>One layer configuration: torch's module arguments and the data's layout.</summary>
    public sealed record Config(bool IsLstm, int Layers, bool Bidirectional, bool Bias, bool BatchFirst, bool Batched, bool WithState, int[]? Lengths = null,
        double Dropout = 0, int Proj = 0)
    {
        public const int Time = 4, BatchSize = 2, In = 3, Hidden = 2;
        public int Directions => Bidirectional ? 2 : 1;
        public int Gates => IsLstm ? 4 : 3;
        public int Batch => Batched ? BatchSize : 1;
        public int[] InputShape => !Batched ? [Time, In] : BatchFirst ? [BatchSize, Time, In] : [Time, BatchSize, In];
        /// <summary>The size of h: proj_size with a projection, the hidden size without.</summary>
        public int HSize => Proj > 0 ? Proj : Hidden;
        public int[] StateShape => Batched ? [Layers * Directions, BatchSize, HSize] : [Layers * Directions, HSize];
        public int[] CellShape => Batched ? [Layers * Directions, BatchSize, Hidden] : [Layers * Directions, Hidden];
        public int[] OutputShape => !Batched ? [Time, Directions * HSize]
            : BatchFirst ? [BatchSize, Time, Directions * HSize] : [Time, BatchSize, Directions * HSize];
        /// <summary>The dropout noise in the output's layout, [layers − 1, ...OutputShape]: a fixed sequence spread over
        /// [0, 1), so some entries of every layer are dropped and most are kept.</summary>
        public int[] NoiseShape => [Layers - 1, .. OutputShape];
        public double[] Noise => Enumerable.Range(0, NoiseShape.Aggregate(1, (a, b) => a * b)).Select(i => (0.37 + 0.6180339887 * i) % 1.0).ToArray();
        /// <summary>The noise time first, as the reference loops read it.</summary>
        public double[] NoiseTimeFirst
        {
            get
            {
                if (!(Batched && BatchFirst)) return Noise;
                int slice = OutputShape.Aggregate(1, (a, b) => a * b);
                return Enumerable.Range(0, Layers - 1)
                    .SelectMany(l => RecurrentReference.SwapLeading(Noise[(l * slice)..((l + 1) * slice)], BatchSize, Time, Directions * HSize)).ToArray();
            }
        }
        public Parameters Weights(int seed) => IsLstm
            ? Init.Lstm(In, Hidden, seed, Layers, Bidirectional, Bias, projSize: Proj)
            : Init.Gru(In, Hidden, seed, Layers, Bidirectional, Bias);
    }

    public static TheoryData<string, Config> Configs => new()
    {
        { "LSTM, 2 layers, bidirectional, time first, (h0, c0)", new(true, 2, true, true, false, true, true) },
        { "LSTM, 1 layer, no bias, batch first, zero state", new(true, 1, false, false, true, true, false) },
        { "LSTM, unbatched, 1 layer bidirectional, (h0, c0)", new(true, 1, true, true, false, false, true) },
        { "GRU, 2 layers, bidirectional, batch first, h0", new(false, 2, true, true, true, true, true) },
        { "GRU, 1 layer, no bias, unbatched, zero state", new(false, 1, false, false, false, false, false) },
        { "GRU, 3 layers, time first, h0", new(false, 3, false, true, false, true, true) },
        { "LSTM, 2 layers, bidirectional, batch first, lengths 2 and 4", new(true, 2, true, true, true, true, true, [2, 4]) },
        { "GRU, bidirectional, time first, lengths 4 and 1", new(false, 1, true, true, false, true, false, [4, 1]) },
        // torch's dropout between layers (training mode), with the noise given
        { "LSTM, 3 layers, bidirectional, batch first, dropout 0.3", new(true, 3, true, true, true, true, true, Dropout: 0.3) },
        { "GRU, 2 layers, time first, lengths 3 and 4, dropout 0.5", new(false, 2, false, true, false, true, false, [3, 4], 0.5) },
        { "LSTM, 2 layers, unbatched, dropout 0.25", new(true, 2, false, false, false, false, false, Dropout: 0.25) },
        // torch's proj_size: h projected to 1 entry per direction, c keeps 2
        { "LSTM, 2 layers, bidirectional, batch first, (h0, c0), proj_size 1", new(true, 2, true, true, true, true, true, Proj: 1) },
        { "LSTM, 3 layers, time first, lengths 4 and 2, dropout 0.3, proj_size 1", new(true, 3, false, true, false, true, false, [4, 2], 0.3, 1) },
    };

    static (double[] Output, double[] H, double[] C) Reference(Config k, Func<string, double[]?> w, double[] x, double[] h0, double[] c0) =>
        RecurrentReference.Run(k.IsLstm, k.Layers, k.Directions, Config.Hidden, w, x, Config.Time, k.Batch, Config.In, h0, c0, k.Lengths,
            k.Dropout, k.Dropout > 0 ? k.NoiseTimeFirst : null, k.Proj);

    // ---- the problem: every differentiable input flat, and a loss that reads every result ----

    sealed record Problem(Config K, (string Name, int[] Shape)[] Layout, double[] Point, Tensor OutputWeight, Tensor StateWeight, Tensor CellWeight)
    {
        public int WeightCount => Layout.Length - (K.WithState ? (K.IsLstm ? 3 : 2) : 1);
    }

    static Problem MakeProblem(Config k)
    {
        var weights = k.Weights(seed: 7);
        var layout = weights.Names.Select(n => (n, weights[n].Shape)).ToList();
        layout.Add(("input", k.InputShape));
        if (k.WithState)
        {
            layout.Add(("h0", k.StateShape));
            if (k.IsLstm) layout.Add(("c0", k.CellShape));
        }
        var point = weights.Names.SelectMany(n => weights[n].ToDoubleArray()).ToList();
        point.AddRange(Values(k.InputShape.Aggregate(1, (a, b) => a * b), 3));
        if (k.WithState)
            for (int s = 0; s < (k.IsLstm ? 2 : 1); s++)
                point.AddRange(Values((s == 0 ? k.StateShape : k.CellShape).Aggregate(1, (a, b) => a * b), 5 + s).Select(v => 0.5 * v));
        return new(k, layout.ToArray(), point.ToArray(), T(k.OutputShape, 11), T(k.StateShape, 13), T(k.CellShape, 13));
    }

    /// <summary>The loss Σ output·A + Σ h_n·S + Σ c_n·C²: it reads the output and every final state.</summary>
    static double ReferenceLoss(Problem p, double[] flat)
    {
        var k = p.K;
        var values = Unflatten(p.Layout, flat);
        int T = Config.Time, B = k.Batch, stateSize = k.Layers * k.Directions * B * k.HSize, cellSize = k.Layers * k.Directions * B * Config.Hidden;
        var x = k.Batched && k.BatchFirst ? RecurrentReference.SwapLeading(values["input"], B, T, Config.In) : values["input"];
        var h0 = values.GetValueOrDefault("h0") ?? new double[stateSize];
        var c0 = values.GetValueOrDefault("c0") ?? new double[cellSize];
        var (output, h, c) = Reference(k, name => values.GetValueOrDefault(name), x, h0, c0);
        if (k.Batched && k.BatchFirst) output = RecurrentReference.SwapLeading(output, T, B, k.Directions * k.HSize);
        var a = p.OutputWeight.ToDoubleArray();
        var s = p.StateWeight.ToDoubleArray();
        var cw = p.CellWeight.ToDoubleArray();
        double loss = output.Select((v, i) => v * a[i]).Sum() + h.Select((v, i) => v * s[i]).Sum();
        if (k.IsLstm) loss += c.Select((v, i) => v * cw[i] * cw[i]).Sum();
        return loss;
    }

    /// <summary>The layer under test, as a client writes it, over the arguments in the layout's order.</summary>
    static (Expr Output, Expr H, Expr? C) Ours(Problem p, Expr[] a)
    {
        var k = p.K;
        var weights = new Dictionary<string, Expr>();
        for (int i = 0; i < p.WeightCount; i++) weights[p.Layout[i].Name] = a[i];
        var input = a[p.WeightCount];
        if (k.IsLstm)
        {
            var (output, (h, c)) = Nn.Lstm(input, weights, k.WithState ? (a[p.WeightCount + 1], a[p.WeightCount + 2]) : null, k.BatchFirst,
                lengths: LengthsOf(k), dropout: k.Dropout, dropoutNoise: NoiseOf(k));
            return (output, h, c);
        }
        var (o, hN) = Nn.Gru(input, weights, k.WithState ? a[p.WeightCount + 1] : null, k.BatchFirst, lengths: LengthsOf(k),
            dropout: k.Dropout, dropoutNoise: NoiseOf(k));
        return (o, hN, null);
    }

    static Expr? NoiseOf(Config k) => k.Dropout > 0 ? Tensor.FromArray(k.Noise, k.NoiseShape) : null;

    static Expr? LengthsOf(Config k) => k.Lengths is null ? null : Tensor.FromArray(k.Lengths.Select(v => (double)v).ToArray());

    static Expr OurLoss(Problem p, Expr[] a)
    {
        var (output, h, c) = Ours(p, a);
        var loss = (output * p.OutputWeight).Sum() + (h * p.StateWeight).Sum();
        return c is null ? loss : loss + (c * p.CellWeight.Square()).Sum();
    }

    static Tensor[] Arguments(Problem p) =>
        Unflatten(p.Layout, p.Point) is var values ? p.Layout.Select(e => Tensor.FromArray(values[e.Name], e.Shape)).ToArray() : [];

    [Theory]
    [MemberData(nameof(Configs))]
    public void ValuesAndShapesAreTorchsEquations(string name, Config k)
    {
        var p = MakeProblem(k);
        var (output, h, c) = Ours(p, Arguments(p).Select(t => (Expr)t).ToArray());
        Assert.Equal(k.OutputShape, output.Shape);
        Assert.Equal(k.StateShape, h.Shape);
        var values = Unflatten(p.Layout, p.Point);
        int stateSize = k.Layers * k.Directions * k.Batch * k.HSize, cellSize = k.Layers * k.Directions * k.Batch * Config.Hidden;
        var x = k.Batched && k.BatchFirst ? RecurrentReference.SwapLeading(values["input"], k.Batch, Config.Time, Config.In) : values["input"];
        var (expected, hN, cN) = Reference(k, n => values.GetValueOrDefault(n), x,
            values.GetValueOrDefault("h0") ?? new double[stateSize], values.GetValueOrDefault("c0") ?? new double[cellSize]);
        if (k.Batched && k.BatchFirst) expected = RecurrentReference.SwapLeading(expected, Config.Time, k.Batch, k.Directions * k.HSize);
        Close(expected, output.Eval().ToDoubleArray(), 1e-14, $"{name}: output");
        Close(hN, h.Eval().ToDoubleArray(), 1e-14, $"{name}: h_n");
        if (c is not null)
        {
            Assert.Equal(k.CellShape, c.Shape);
            Close(cN, c.Eval().ToDoubleArray(), 1e-14, $"{name}: c_n");
        }
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void GradientsInEveryWeightTheInputAndTheStatesAreCentralDifferences(string name, Config k)
    {
        var p = MakeProblem(k);
        var gradients = Expr.EvalMany(Diff.Grad((Expr[] a) => OurLoss(p, a))(Arguments(p).Select(t => (Expr)t).ToArray()));
        var ours = gradients.SelectMany(g => g.ToDoubleArray()).ToArray();
        Close(Gradient(flat => ReferenceLoss(p, flat), p.Point), ours, 1e-8, $"{name}: gradient");
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void HessianVectorProductsAreMixedCentralDifferences(string name, Config k)
    {
        var p = MakeProblem(k);
        var direction = Values(p.Point.Length, 17);
        var arguments = Arguments(p).Select(t => (Expr)t).ToArray();
        int offset = 0;
        var tangents = p.Layout.Select(e =>
        {
            int n = e.Shape.Aggregate(1, (a, b) => a * b);
            var t = (Expr)Tensor.FromArray(direction[offset..(offset + n)], e.Shape);
            offset += n;
            return t;
        }).ToArray();
        var ours = Expr.EvalMany(Diff.Hvp((Expr[] a) => OurLoss(p, a), arguments, tangents)).SelectMany(t => t.ToDoubleArray()).ToArray();
        // e_iᵀ H v ≈ [f(x + h e_i + h v) − f(x + h e_i − h v) − f(x − h e_i + h v) + f(x − h e_i − h v)] / 4h²
        const double step = 1e-4;
        double At(int i, double si, double sv)
        {
            var q = p.Point.Select((v, j) => v + sv * step * direction[j]).ToArray();
            q[i] += si * step;
            return ReferenceLoss(p, q);
        }
        var expected = Enumerable.Range(0, p.Point.Length)
            .Select(i => (At(i, 1, 1) - At(i, 1, -1) - At(i, -1, 1) + At(i, -1, -1)) / (4 * step * step)).ToArray();
        Close(expected, ours, 1e-6, $"{name}: Hessian-vector product");
    }

    [Fact]
    public void DropoutBetweenLayersNeedsItsNoiseOfTheOutputsLayoutAndAProbabilityBelowOne()
    {
        var k = new Config(true, 2, true, true, true, true, false, Dropout: 0.3);
        var weights = k.Weights(seed: 3);
        Expr x = T(k.InputShape, 1);
        // training without noise would silently train without the dropout asked for
        var missing = Assert.ThrowsAny<ArgumentException>(() => Nn.Lstm(x, weights, batchFirst: true, dropout: 0.3));
        Assert.Contains("dropout = 0.3", missing.Message);
        Assert.Contains("[1,2,4,4]", missing.Message);
        // the time-first layout where the output is batch first
        var wrong = Assert.ThrowsAny<ArgumentException>(() => Nn.Lstm(x, weights, batchFirst: true, dropout: 0.3, dropoutNoise: T([1, 4, 2, 4], 2)));
        Assert.Contains("[1,4,2,4]", wrong.Message);
        Assert.Contains("[1,2,4,4]", wrong.Message);
        foreach (var p in new[] { -0.1, 1.0, double.NaN })
            Assert.Contains("dropout", Assert.ThrowsAny<ArgumentException>(() => Nn.Gru(x, Init.Gru(Config.In, Config.Hidden, 3, 2), batchFirst: true, dropout: p, dropoutNoise: T([1, 2, 4, 2], 2))).Message);
        // one layer has no layer after it: torch only warns, and the output is the layer's own
        var single = new Config(true, 1, false, true, false, true, false);
        var one = single.Weights(seed: 3);
        Expr y = T(single.InputShape, 4);
        Close(Nn.Lstm(y, one).Output.Eval().ToDoubleArray(), Nn.Lstm(y, one, dropout: 0.5).Output.Eval().ToDoubleArray(), 0, "one layer");
    }

    [Fact]
    public void ProjSizeShapesAreTorchsAndMismatchesAreNamed()
    {
        // torch.nn.LSTM(3, 4, num_layers=2, proj_size=2): weight_hh [16, 2], weight_hr [2, 4], layer 1 reads 2 features
        var p = Init.Lstm(3, 4, seed: 2, numLayers: 2, projSize: 2);
        Assert.Equal([16, 2], p["weight_hh_l0"].Shape);
        Assert.Equal([2, 4], p["weight_hr_l1"].Shape);
        Assert.Equal([16, 2], p["weight_ih_l1"].Shape);
        Expr x = T([5, 3, 3], 1);
        var (output, (h, c)) = Nn.Lstm(x, p);
        Assert.Equal([5, 3, 2], output.Shape);
        Assert.Equal([2, 3, 2], h.Shape);
        Assert.Equal([2, 3, 4], c.Shape);
        // h0 has proj_size entries and c0 the hidden size
        var wrongH = Assert.ThrowsAny<ArgumentException>(() => Nn.Lstm(x, p, ((Expr)T([2, 3, 4], 2), (Expr)T([2, 3, 4], 3))));
        Assert.Contains("h0 is [2,3,4]", wrongH.Message);
        Assert.Contains("proj_size 2", wrongH.Message);
        // a weight_hr of another size, and the projections of a GRU, are named
        var bad = new Dictionary<string, Tensor>(p.Names.Select(n => KeyValuePair.Create(n, p[n]))) { ["weight_hr_l1"] = T([2, 3], 4) };
        Assert.Contains("weight_hr_l1 is [2,3]", Assert.ThrowsAny<ArgumentException>(() => Nn.Lstm(x, bad)).Message);
        var gru = new Dictionary<string, Tensor>(Init.Gru(3, 4, 2).Names.Select(n => KeyValuePair.Create(n, Init.Gru(3, 4, 2)[n]))) { ["weight_hr_l0"] = T([2, 4], 4) };
        Assert.Contains("GRU has no proj_size", Assert.ThrowsAny<ArgumentException>(() => Nn.Gru(x, gru)).Message);
        Assert.Contains("projSize", Assert.ThrowsAny<ArgumentException>(() => Init.Lstm(3, 4, 1, projSize: 4)).Message);
    }
}
