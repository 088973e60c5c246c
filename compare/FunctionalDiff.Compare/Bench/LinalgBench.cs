using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Bench;

/// <summary>
/// `bench --linalg`: issue 15's linear-algebra rows, a Cholesky factorisation and the solve with its factor
/// (two triangular solves) at n = 256, forward and forward + backward, and the LU solve, against TorchSharp
/// in one process with <see cref="Benchmarks"/>' alternating-rounds method. Ours runs compiled through the
/// public C# API; torch runs its linalg functions and `torch.autograd.grad`. `--thread-time` (with
/// DOTNET_PROCESSOR_COUNT=1) times calls by the calling thread's CPU time, for a host loaded by other processes.
/// </summary>
public static class LinalgBench
{
    /// <summary>Prints the table; returns the exit code.</summary>
    public static int Run(TextWriter output, IReadOnlyList<string> options)
    {
        if (BenchOptions.Parse(output, options) is not { } parsed) return 2;
        bool quick = parsed.Quick;
        parsed.WriteHeader(output, "Linear algebra vs TorchSharp");
        parsed.WriteClock(output);
        output.WriteLine("- workload: A = X Xᵀ + n·I (n×n), B (n×k); L = cholesky(A), X = L⁻ᵀ (L⁻¹ B); backward: gradient of sum(X ∘ W) wrt A and B");
        output.WriteLine();
        output.WriteLine("| workload | dtype | n, k | FunctionalDiff | TorchSharp | ours / torch | max rel. difference |");
        output.WriteLine("|---|---|---|---|---|---|---|");
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
            foreach (int k in new[] { 1, 256 })
            {
                output.WriteLine(Row("cholesky + solve, forward", dtype, 256, k, backward: false, parsed));
                output.WriteLine(Row("cholesky + solve, forward + backward", dtype, 256, k, backward: true, parsed));
            }
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
            output.WriteLine(LuRow(dtype, 256, 1, parsed));
        output.WriteLine();
        output.WriteLine($"Load average at the end: {BenchOptions.LoadAverage()}. Each figure is the median of all calls timed in {(quick ? 3 : 7)} alternating rounds per library.");
        return 0;
    }

    static double[] PositiveDefinite(int n)
    {
        double[] x = Benchmarks.Draw(n * n, n);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = i == j ? n : 0;
                for (int p = 0; p < n; p++) sum += x[i * n + p] * x[j * n + p];
                a[i * n + j] = sum;
            }
        return a;
    }

    static Expr SolveWithFactor(Expr a, Expr b)
    {
        var l = a.Cholesky();
        return l.SolveTriangular(l.SolveTriangular(b, upper: false), upper: false, transpose: true);
    }

    static TT SolveWithFactor(TT a, TT b)
    {
        var l = linalg.cholesky(a);
        return linalg.solve_triangular(l.transpose(-2, -1), linalg.solve_triangular(l, b, upper: false), upper: true);
    }

    static string Row(string name, DType dtype, int n, int k, bool backward, BenchOptions timing)
    {
        double[] aValues = PositiveDefinite(n), bValues = Benchmarks.Draw(n * k, 7), wValues = Benchmarks.Draw(n * k, 8);
        var scalar = dtype == DType.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        var a = Tensor.FromArray(aValues, n, n).Cast(dtype);
        var b = Tensor.FromArray(bValues, n, k).Cast(dtype);
        var w = Tensor.FromArray(wValues, n, k).Cast(dtype);
        using var ta = torch.tensor(aValues, ScalarType.Float64).reshape(n, n).to_type(scalar).detach().requires_grad_(backward);
        using var tb = torch.tensor(bValues, ScalarType.Float64).reshape(n, k).to_type(scalar).detach().requires_grad_(backward);
        using var tw = torch.tensor(wValues, ScalarType.Float64).reshape(n, k).to_type(scalar);

        Func<Tensor[]> ours;
        Func<TT[]> theirs;
        if (backward)
        {
            var step = Diff.Compile((Expr[] p) =>
            {
                var (l, g) = Diff.ValueAndGrad(q => (SolveWithFactor(q[0], q[1]) * p[2]).Sum(), p[..2]);
                return [l, .. g];
            });
            ours = () => step.Invoke(a, b, w);
            theirs = () =>
            {
                var loss = (SolveWithFactor(ta, tb) * tw).sum();
                return [loss, .. torch.autograd.grad(new[] { loss }, new[] { ta, tb })];
            };
        }
        else
        {
            var step = Diff.Compile((Expr[] p) => [SolveWithFactor(p[0], p[1])]);
            ours = () => step.Invoke(a, b);
            theirs = () => { using (torch.no_grad()) return [SolveWithFactor(ta, tb)]; };
        }
        return Finish(name, dtype, $"{n}, {k}", timing, ours, theirs);
    }

    static string LuRow(DType dtype, int n, int k, BenchOptions timing)
    {
        double[] aValues = Benchmarks.Draw(n * n, 11).Select((v, i) => i / n == i % n ? v + 4 : v).ToArray(), bValues = Benchmarks.Draw(n * k, 12);
        var scalar = dtype == DType.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        var a = Tensor.FromArray(aValues, n, n).Cast(dtype);
        var b = Tensor.FromArray(bValues, n, k).Cast(dtype);
        using var ta = torch.tensor(aValues, ScalarType.Float64).reshape(n, n).to_type(scalar);
        using var tb = torch.tensor(bValues, ScalarType.Float64).reshape(n, k).to_type(scalar);
        var step = Diff.Compile((Expr[] p) => [p[0].Solve(p[1])]);
        return Finish("solve (LU), forward", dtype, $"{n}, {k}", timing, () => step.Invoke(a, b), () => { using (torch.no_grad()) return [linalg.solve(ta, tb)]; });
    }

    static string Finish(string name, DType dtype, string size, BenchOptions timing, Func<Tensor[]> ours, Func<TT[]> theirs)
    {
        var (oursSeconds, torchSeconds, difference) = timing.SideBySide(ours, theirs);
        return $"| {name} | {dtype.ToString().ToLowerInvariant()} | {size} | {oursSeconds * 1e3:F3} ms | {torchSeconds * 1e3:F3} ms | {oursSeconds / torchSeconds:F2}× | {difference:E1} |";
    }
}
