using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Bench;

/// <summary>
/// `bench --adbench`: the two objectives of the ADBench suite (Srajer, Kukelova and Fitzgibbon, "A benchmark of
/// selected algorithmic differentiation tools on some problems in computer vision and machine learning", 2018) that
/// AD libraries are usually compared on, written here from their mathematical definitions, at the suite's own sizes:
/// the Gaussian-mixture objective (GMM) and the stacked LSTM objective. Each row is the objective and its gradient
/// with respect to every parameter, ours through the public C# API (compiled with <see cref="Diff.Compile"/>, or
/// uncompiled as <see cref="Diff.ValueAndGrad(Func{Expr[], Expr}, Expr[])"/> + <see cref="Expr.EvalMany"/>), torch
/// eager with `torch.autograd.grad`, side by side with <see cref="Benchmarks"/>' alternating rounds.
/// </summary>
public static class PeerBench
{
    /// <summary>Prints the table; returns the exit code.</summary>
    public static int Run(TextWriter output, IReadOnlyList<string> options)
    {
        if (BenchOptions.Parse(output, options) is not { } parsed) return 2;
        parsed.WriteHeader(output, "ADBench objectives vs TorchSharp");
        parsed.WriteClock(output);
        output.WriteLine("- GMM: K components in D dimensions over N points; parameters α (K), μ (K×D) and the packed inverse Cholesky factors (K × D(D+1)/2: D log-diagonal entries, then the strict lower triangle by columns); Wishart prior with γ = 1, m = 0; constant terms left out");
        output.WriteLine("- LSTM: L layers of the suite's elementwise LSTM cell over a sequence of C one-hot-sized vectors of B entries; parameters: per layer 4 gate weights and 4 biases (2L × 4 × B), input and output scalings and output bias (3 × B); loss: the mean log-likelihood of each next entry under a log-softmax of the prediction");
        output.WriteLine("- BA: bundle adjustment's residuals for P observations of M points by N cameras and the nonzero blocks of their Jacobian (each observation's 3 residuals against its camera's 11, its point's 3 and its weight); ours: `Diff.Vmap` of `Diff.Jacobian` of one observation's residuals, compiled; torch: the residuals of all observations at once and one `torch.autograd.grad` per residual row (the observations are independent, so each gives a row of every block)");
        output.WriteLine("- ours: compiled (`Diff.Compile` of `Diff.ValueAndGrad`, fresh outputs) or uncompiled (`Diff.ValueAndGrad` + `Expr.EvalMany` each call); torch: eager forward + `torch.autograd.grad`");
        output.WriteLine();
        output.WriteLine("| objective + gradient | ours | dtype | size | FunctionalDiff | TorchSharp | ours / torch | max rel. difference |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        var rows = new List<(string Name, Func<string> Row)>
        {
            ("GMM compiled float64 d=10 k=25", () => Gmm(DType.Float64, 10, 25, 1000, compiled: true, parsed)),
            ("GMM uncompiled float64 d=10 k=25", () => Gmm(DType.Float64, 10, 25, 1000, compiled: false, parsed)),
            ("GMM compiled float64 d=64 k=50", () => Gmm(DType.Float64, 64, 50, 1000, compiled: true, parsed)),
            ("GMM uncompiled float64 d=64 k=50", () => Gmm(DType.Float64, 64, 50, 1000, compiled: false, parsed)),
            ("GMM compiled float32 d=64 k=50", () => Gmm(DType.Float32, 64, 50, 1000, compiled: true, parsed)),
            ("LSTM compiled float64 l=2 c=1024", () => Lstm(DType.Float64, 2, 1024, 14, compiled: true, parsed)),
            ("LSTM uncompiled float64 l=2 c=1024", () => Lstm(DType.Float64, 2, 1024, 14, compiled: false, parsed)),
            ("LSTM compiled float64 l=4 c=1024", () => Lstm(DType.Float64, 4, 1024, 14, compiled: true, parsed)),
            ("BA compiled float64 n=49 m=7776 p=31843", () => BundleAdjustment(DType.Float64, 49, 7776, 31843, parsed)),
        };
        foreach (var (name, row) in rows)
            if (parsed.Wanted(name))
            {
                output.WriteLine(row());
                output.Flush();
            }
        output.WriteLine();
        output.WriteLine($"Load average at the end: {BenchOptions.LoadAverage()}. Each figure is the median of all calls timed in {(parsed.Quick ? 3 : 7)} alternating rounds per library.");
        return 0;
    }

    static string Gmm(DType dtype, int d, int k, int n, bool compiled, BenchOptions timing)
    {
        int packed = d * (d + 1) / 2;
        double[] alphaValues = Benchmarks.Draw(k, 1), meanValues = Benchmarks.Draw(k * d, 2), icfValues = Benchmarks.Draw(k * packed, 3, 0.3), xValues = Benchmarks.Draw(n * d, 4);
        int[] positions = AdBenchObjectives.LowerPositions(d);
        var scalar = dtype == DType.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        Tensor Ours(double[] values, params int[] shape) => Tensor.FromArray(values, shape).Cast(dtype);
        var parameters = new[] { Ours(alphaValues, k), Ours(meanValues, k, d), Ours(icfValues, k, packed) };
        var x = Ours(xValues, n, d);
        var lowerIndex = Tensor.FromArray(positions.Select(p => (double)p).ToArray(), d * d);
        var zeroColumn = Tensor.Zeros(new[] { k, 1 }, dtype);
        var eye = Tensor.Eye(d, dtype);
        Expr Objective(Expr[] p) => AdBenchObjectives.Gmm(p[0], p[1], p[2], x, lowerIndex, zeroColumn, eye, k, d, n);

        TT Torch(double[] values, params long[] shape) =>
            torch.tensor(values, ScalarType.Float64).reshape(shape).to_type(scalar).detach();
        var tparameters = new[] { Torch(alphaValues, k), Torch(meanValues, k, d), Torch(icfValues, k, packed) };
        foreach (var p in tparameters) p.requires_grad_(true);
        var tx = Torch(xValues, n, d);
        var tlowerIndex = torch.tensor(positions.Select(p => (long)p).ToArray());
        var tzeroColumn = torch.zeros(k, 1, dtype: scalar);
        var teye = torch.eye(d, dtype: scalar);

        Func<Tensor[]> ours = ValueAndGradient(Objective, parameters, compiled);
        Func<TT[]> theirs = () =>
        {
            var loss = AdBenchObjectives.Gmm(tparameters[0], tparameters[1], tparameters[2], tx, tlowerIndex, tzeroColumn, teye, k, d, n);
            return [loss, .. torch.autograd.grad(new[] { loss }, tparameters)];
        };
        return Finish("GMM", compiled, dtype, $"d={d}, K={k}, N={n}", timing, ours, theirs);
    }

    /// <summary>The value and gradient of <paramref name="objective"/> at <paramref name="parameters"/>, compiled or not.</summary>
    static Func<Tensor[]> ValueAndGradient(Func<Expr[], Expr> objective, Tensor[] parameters, bool compiled)
    {
        if (compiled)
        {
            var step = Diff.Compile((Expr[] p) =>
            {
                var (l, g) = Diff.ValueAndGrad(objective, p);
                return [l, .. g];
            });
            return () => step.Invoke(parameters);
        }
        return () =>
        {
            var (l, g) = Diff.ValueAndGrad(objective, parameters.Select(p => (Expr)p).ToArray());
            return Expr.EvalMany([l, .. g]);
        };
    }

    static string Lstm(DType dtype, int layers, int length, int b, bool compiled, BenchOptions timing)
    {
        double[] mainValues = Benchmarks.Draw(2 * layers * 4 * b, 11, 0.5), extraValues = Benchmarks.Draw(3 * b, 12, 0.5), stateValues = Benchmarks.Draw(2 * layers * b, 13, 0.5);
        double[] sequenceValues = Benchmarks.Draw(length * b, 14);
        var scalar = dtype == DType.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        Tensor Ours(double[] values, params int[] shape) => Tensor.FromArray(values, shape).Cast(dtype);
        var parameters = new[] { Ours(mainValues, 2 * layers, 4, b), Ours(extraValues, 3, b) };
        var state = Ours(stateValues, 2 * layers, b);
        var sequence = Ours(sequenceValues, length, b);
        Expr Objective(Expr[] p) => AdBenchObjectives.Lstm(p[0], p[1], state, sequence, layers, length, b);

        TT Torch(double[] values, params long[] shape) =>
            torch.tensor(values, ScalarType.Float64).reshape(shape).to_type(scalar).detach();
        var tparameters = new[] { Torch(mainValues, 2 * layers, 4, b), Torch(extraValues, 3, b) };
        foreach (var p in tparameters) p.requires_grad_(true);
        var tstate = Torch(stateValues, 2 * layers, b);
        var tsequence = Torch(sequenceValues, length, b);

        Func<Tensor[]> ours = ValueAndGradient(Objective, parameters, compiled);
        Func<TT[]> theirs = () =>
        {
            var loss = AdBenchObjectives.Lstm(tparameters[0], tparameters[1], tstate, tsequence, layers, length, b);
            return [loss, .. torch.autograd.grad(new[] { loss }, tparameters)];
        };
        return Finish("LSTM", compiled, dtype, $"L={layers}, C={length}, B={b}", timing, ours, theirs);
    }

    static string BundleAdjustment(DType dtype, int cameras, int points, int observations, BenchOptions timing)
    {
        var random = new Random(21);
        double Uniform(double low, double high) => low + (high - low) * random.NextDouble();
        // cameras near the origin with small rotations, points in front of them, unit focal length
        double[] cameraValues = Enumerable.Range(0, cameras).SelectMany(_ => new[]
        {
            Uniform(-0.2, 0.2), Uniform(-0.2, 0.2), Uniform(-0.2, 0.2), Uniform(-1, 1), Uniform(-1, 1), Uniform(-1, 1),
            Uniform(0.8, 1.2), Uniform(-0.1, 0.1), Uniform(-0.1, 0.1), Uniform(-0.05, 0.05), Uniform(-0.01, 0.01),
        }).ToArray();
        double[] pointValues = Enumerable.Range(0, points).SelectMany(_ => new[] { Uniform(-3, 3), Uniform(-3, 3), Uniform(6, 12) }).ToArray();
        double[] weightValues = Enumerable.Range(0, observations).Select(_ => Uniform(0.5, 1.5)).ToArray();
        double[] featureValues = Enumerable.Range(0, 2 * observations).Select(_ => Uniform(-0.5, 0.5)).ToArray();
        int[] cameraOf = Enumerable.Range(0, observations).Select(_ => random.Next(cameras)).ToArray();
        int[] pointOf = Enumerable.Range(0, observations).Select(i => i < points ? i : random.Next(points)).ToArray();
        var scalar = dtype == DType.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        Tensor Ours(double[] values, params int[] shape) => Tensor.FromArray(values, shape).Cast(dtype);
        var inputs = new[] { Ours(cameraValues, cameras, 11), Ours(pointValues, points, 3), Ours(weightValues, observations) };
        var features = Ours(featureValues, observations, 2);
        var cameraIndex = Tensor.FromArray(cameraOf.Select(c => (double)c).ToArray(), observations);
        var pointIndex = Tensor.FromArray(pointOf.Select(c => (double)c).ToArray(), observations);
        var step = Diff.Compile((Expr[] a) =>
        {
            var gathered = Expr.Concat(1, a[0].IndexSelect(0, cameraIndex), a[1].IndexSelect(0, pointIndex), a[2].Reshape(observations, 1));
            var perObservation = new Expr[] { gathered, features };
            var residuals = Diff.Vmap((Expr[] r) => AdBenchObjectives.BaResidual(r[0], r[1]))(perObservation);
            var blocks = Diff.Vmap((Expr[] r) => Diff.Jacobian(v => AdBenchObjectives.BaResidual(v, r[1]))(r[0]))(perObservation);
            return [residuals, blocks];
        });
        Func<Tensor[]> ours = () => step.Invoke(inputs);

        TT Torch(double[] values, params long[] shape) =>
            torch.tensor(values, ScalarType.Float64).reshape(shape).to_type(scalar).detach();
        var tcameras = Torch(cameraValues, cameras, 11);
        var tpoints = Torch(pointValues, points, 3);
        var tweights = Torch(weightValues, observations, 1);
        var tfeatures = Torch(featureValues, observations, 2);
        var tcameraIndex = torch.tensor(cameraOf.Select(c => (long)c).ToArray());
        var tpointIndex = torch.tensor(pointOf.Select(c => (long)c).ToArray());
        Func<TT[]> theirs = () =>
        {
            var gathered = torch.cat(new[] { tcameras.index_select(0, tcameraIndex), tpoints.index_select(0, tpointIndex), tweights }, 1).requires_grad_(true);
            var residuals = AdBenchObjectives.BaResiduals(gathered, tfeatures);
            var rows = new TT[3];
            for (int j = 0; j < 3; j++)
                rows[j] = torch.autograd.grad(new[] { residuals.narrow(1, j, 1).sum() }, new[] { gathered }, retain_graph: j < 2)[0];
            return [residuals.detach(), torch.stack(rows, 1)];
        };
        return Finish("BA (Jacobian)", true, dtype, $"N={cameras}, M={points}, P={observations}", timing, ours, theirs);
    }

    static string Finish(string name, bool compiled, DType dtype, string size, BenchOptions timing, Func<Tensor[]> ours, Func<TT[]> theirs)
    {
        var (oursSeconds, torchSeconds, difference) = timing.SideBySide(ours, theirs);
        return $"| {name} | {(compiled ? "compiled" : "uncompiled")} | {dtype.ToString().ToLowerInvariant()} | {size} | {Benchmarks.Time(oursSeconds)} | {Benchmarks.Time(torchSeconds)} | {oursSeconds / torchSeconds:F2}× | {difference:E1} |";
    }
}
