using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

using AdBench = FunctionalDiff.Compare.Bench.AdBenchObjectives;

namespace FunctionalDiff.Compare.Suite;

public static partial class CaseTable
{
    // Matrix inputs are built inside both functions from normal draws, so every draw is well conditioned:
    // x xᵀ + n·I is positive definite, x + 3·I has a triangle far from singular. Eigenvectors carry an
    // arbitrary sign in torch (LAPACK's) and in ours, so the eigh cases use functions that do not depend on it.
    static IEnumerable<Case> Linalg()
    {
        yield return C("cholesky [3,3]", new[] { I(3, 3) }, x => Spd(x[0]).Cholesky(), x => linalg.cholesky(Spd(x[0])));
        yield return C("cholesky batched [2,4,4]", new[] { I(2, 4, 4) }, x => Spd(x[0]).Cholesky(), x => linalg.cholesky(Spd(x[0])));
        yield return C("solveTriangular lower left [3,3]·[3,2]", new[] { I(3, 3), I(3, 2) },
            x => Shifted(x[0]).SolveTriangular(x[1], upper: false), x => linalg.solve_triangular(Shifted(x[0]), x[1], upper: false));
        yield return C("solveTriangular upper left [3,3]·[3,1]", new[] { I(3, 3), I(3, 1) },
            x => Shifted(x[0]).SolveTriangular(x[1], upper: true), x => linalg.solve_triangular(Shifted(x[0]), x[1], upper: true));
        yield return C("solveTriangular upper right [3,3]·[2,3]", new[] { I(3, 3), I(2, 3) },
            x => Shifted(x[0]).SolveTriangular(x[1], upper: true, left: false), x => linalg.solve_triangular(Shifted(x[0]), x[1], upper: true, left: false));
        yield return C("solveTriangular lower unitriangular [3,3]·[3,2]", new[] { I(3, 3), I(3, 2) },
            x => x[0].SolveTriangular(x[1], upper: false, unitriangular: true), x => linalg.solve_triangular(x[0], x[1], upper: false, unitriangular: true));
        yield return C("solveTriangular lower transposed [3,3]·[3,2]", new[] { I(3, 3), I(3, 2) },
            x => Shifted(x[0]).SolveTriangular(x[1], upper: false, transpose: true), x => linalg.solve_triangular(Shifted(x[0]).transpose(-2, -1), x[1], upper: true));
        yield return C("solveTriangular batched [2,3,3]·[3,2]", new[] { I(2, 3, 3), I(3, 2) },
            x => Shifted(x[0]).SolveTriangular(x[1], upper: false), x => linalg.solve_triangular(Shifted(x[0]), x[1].expand(2, 3, 2), upper: false));
        // torch.cholesky_solve(B, L, upper): the factor is triangular on both sides (a Cholesky factor, or Triu of a
        // shifted draw), so neither engine's gradient depends on a triangle the solve does not read.
        yield return C("choleskySolve lower [3,3]·[3,2]", new[] { I(3, 3), I(3, 2) },
            x => x[1].CholeskySolve(Spd(x[0]).Cholesky()), x => torch.cholesky_solve(x[1], linalg.cholesky(Spd(x[0]))));
        yield return C("choleskySolve upper [3,3]·[3,1]", new[] { I(3, 3), I(3, 1) },
            x => x[1].CholeskySolve(Shifted(x[0]).Triu(), upper: true), x => torch.cholesky_solve(x[1], Shifted(x[0]).triu(), upper: true));
        yield return C("choleskySolve batched [2,3,3]·[3,2]", new[] { I(2, 3, 3), I(3, 2) },
            x => x[1].CholeskySolve(Shifted(x[0]).Tril()), x => torch.cholesky_solve(x[1].expand(2, 3, 2), Shifted(x[0]).tril()));
        yield return C("solve [3,3]·[3,2]", new[] { I(3, 3), I(3, 2) }, x => Shifted(x[0]).Solve(x[1]), x => linalg.solve(Shifted(x[0]), x[1]));
        yield return C("solve vector [3,3]·[3]", new[] { I(3, 3), I(3) }, x => Shifted(x[0]).Solve(x[1]), x => linalg.solve(Shifted(x[0]), x[1]));
        yield return C("solve batched vectors [2,3,3]·[2,3]", new[] { I(2, 3, 3), I(2, 3) }, x => Shifted(x[0]).Solve(x[1]), x => linalg.solve(Shifted(x[0]), x[1]));
        yield return C("inverse [3,3]", new[] { I(3, 3) }, x => Shifted(x[0]).Inverse(), x => linalg.inv(Shifted(x[0])));
        yield return C("inverse batched [2,3,3]", new[] { I(2, 3, 3) }, x => Shifted(x[0]).Inverse(), x => linalg.inv(Shifted(x[0])));
        yield return C("det [3,3]", new[] { I(3, 3) }, x => x[0].Det(), x => linalg.det(x[0]));
        yield return C("det batched [2,4,4]", new[] { I(2, 4, 4) }, x => x[0].Det(), x => linalg.det(x[0]));
        yield return C("slogdet [3,3]", new[] { I(3, 3) },
            x => { var s = x[0].SlogDet(); return s.Sign * s.LogAbsDet; },
            x => { var (sign, logAbs) = linalg.slogdet(x[0]); return sign * logAbs; });
        yield return C("logdet positive definite [2,3,3]", new[] { I(2, 3, 3) }, x => Spd(x[0]).LogDet(), x => torch.logdet(Spd(x[0])));
        yield return C("qr [4,3]", new[] { I(4, 3) },
            x => { var qr = x[0].Qr(); return Expr.Concat(0, qr.Q, qr.R); },
            x => { var (q, r) = linalg.qr(x[0]); return torch.cat(new[] { q, r }, 0); });
        yield return C("qr batched [2,3,3]", new[] { I(2, 3, 3) },
            x => { var qr = x[0].Qr(); return Expr.Concat(1, qr.Q, qr.R); },
            x => { var (q, r) = linalg.qr(x[0]); return torch.cat(new[] { q, r }, 1); });
        yield return C("qr [5,2] R only", new[] { I(5, 2) }, x => x[0].Qr().R, x => linalg.qr(x[0]).R);
        yield return C("qr wide [2,4]", new[] { I(2, 4) },
            x => { var qr = x[0].Qr(); return Expr.Concat(1, qr.Q, qr.R); },
            x => { var (q, r) = linalg.qr(x[0]); return torch.cat(new[] { q, r }, 1); });
        yield return C("qr wide batched [2,3,5]", new[] { I(2, 3, 5) },
            x => { var qr = x[0].Qr(); return Expr.Concat(2, qr.Q, qr.R); },
            x => { var (q, r) = linalg.qr(x[0]); return torch.cat(new[] { q, r }, 2); });
        // LU: normal draws give each column's candidates distinct magnitudes, so both engines pick the same pivots; torch's
        // int32 pivots are cast to the dtype, as ours are held, and pass no cotangent in either engine.
        yield return C("luFactor [4,4] LU over pivots", new[] { I(4, 4) },
            x => { var (lu, pivots) = x[0].LuFactor(); return Expr.Concat(0, lu, pivots.Reshape(1, 4)); },
            x => { var (lu, pivots) = linalg.lu_factor(x[0]); return torch.cat(new[] { lu, pivots!.to(x[0].dtype).reshape(1, 4) }, 0); });
        yield return C("luFactor batched [2,3,3]", new[] { I(2, 3, 3) }, x => x[0].LuFactor().LU, x => linalg.lu_factor(x[0]).LU);
        yield return C("lu [4,4] P, L, U", new[] { I(4, 4) },
            x => { var (p, l, u) = x[0].Lu(); return Expr.Concat(0, p, l, u); },
            x => { var (p, l, u) = linalg.lu(x[0]); return torch.cat(new[] { p, l, u }, 0); });
        yield return C("luUnpack batched [2,3,3]", new[] { I(2, 3, 3) },
            x => { var (lu, pivots) = x[0].LuFactor(); var (p, l, u) = Expr.LuUnpack(lu, pivots); return Expr.Concat(1, p, l.Sin(), u); },
            x => { var (lu, pivots) = linalg.lu_factor(x[0]); var (p, l, u) = torch.lu_unpack(lu, pivots!); return torch.cat(new[] { p, l!.sin(), u! }, 1); });
        yield return C("luSolve [3,3]·[3,2]", new[] { I(3, 3), I(3, 2) },
            x => { var (lu, pivots) = Shifted(x[0]).LuFactor(); return Expr.LuSolve(lu, pivots, x[1]); },
            x => { var (lu, pivots) = linalg.lu_factor(Shifted(x[0])); return linalg.lu_solve(lu, pivots!, x[1]); });
        yield return C("luSolve adjoint [3,3]·[3,1]", new[] { I(3, 3), I(3, 1) },
            x => { var (lu, pivots) = Shifted(x[0]).LuFactor(); return Expr.LuSolve(lu, pivots, x[1], adjoint: true); },
            x => { var (lu, pivots) = linalg.lu_factor(Shifted(x[0])); return linalg.lu_solve(lu, pivots!, x[1], adjoint: true); });
        yield return C("luSolve right adjoint batched [2,3,3]·[2,3]", new[] { I(2, 3, 3), I(2, 3) },
            x => { var (lu, pivots) = Shifted(x[0]).LuFactor(); return Expr.LuSolve(lu, pivots, x[1], left: false, adjoint: true); },
            x => { var (lu, pivots) = linalg.lu_factor(Shifted(x[0])); return linalg.lu_solve(lu, pivots!, x[1].expand(2, 2, 3), left: false, adjoint: true); });
        yield return C("eigh [3,3] values and V∘V", new[] { I(3, 3) },
            x => { var e = Sym(x[0]).Eigh(); return Expr.Concat(0, e.Eigenvalues.Reshape(1, 3), e.Eigenvectors.Square()); },
            x => { var (w, v) = linalg.eigh(Sym(x[0])); return torch.cat(new[] { w.reshape(1, 3), v.square() }, 0); });
        yield return C("eigh batched [2,4,4] V diag(c) Vᵀ", new[] { I(2, 4, 4) },
            x => { var e = Sym(x[0]).Eigh(); return (e.Eigenvectors * Const(EighWeights, new[] { 4 }, x[0])).MatMul(e.Eigenvectors.Transpose()); },
            x => { var (_, v) = linalg.eigh(Sym(x[0])); return (v * Const(EighWeights, new long[] { 4 }, x[0])).matmul(v.transpose(-2, -1)); });
        yield return C("eigvalsh [4,4]", new[] { I(4, 4) }, x => Sym(x[0]).EigvalsH(), x => linalg.eigvalsh(Sym(x[0])));
        foreach (var model in LinalgModels()) yield return model;
    }

    // ---- models ----

    const int GmmComponents = 5, GmmDim = 10, GmmPoints = 100, GpPoints = 20;
    static readonly double[] GmmX = Data(GmmPoints * GmmDim, 601);
    static readonly double[] GpX = Data(GpPoints * 2, 602);
    static readonly double[] GpY = Data(GpPoints, 603);

    /// <summary>Squared distances between the rows of the GP's inputs, a constant of the model.</summary>
    static readonly double[] GpDistances = Enumerable.Range(0, GpPoints * GpPoints).Select(k =>
    {
        int i = k / GpPoints, j = k % GpPoints;
        double dx = GpX[2 * i] - GpX[2 * j], dy = GpX[2 * i + 1] - GpX[2 * j + 1];
        return dx * dx + dy * dy;
    }).ToArray();

    static double[] StrictlyLower(int n) => Enumerable.Range(0, n * n).Select(i => i % n < i / n ? 1.0 : 0.0).ToArray();

    static IEnumerable<Case> LinalgModels()
    {
        int k = GmmComponents, d = GmmDim, n = GmmPoints;
        double halfLog2Pi = 0.5 * Math.Log(2 * Math.PI);
        // Gaussian-mixture NLL: parameters means [K,d], weight logits [K], and per component a matrix whose strict
        // lower triangle and log-diagonal make the precision's Cholesky factor L (precision = L Lᵀ, so
        // log|precision|^½ = Σ log-diagonal and (x-μ)ᵀ precision (x-μ) = |Lᵀ(x-μ)|²).
        yield return C("model Gaussian-mixture NLL K=5 d=10 n=100", new[] { I(k, d), I(k), new InputSpec(new[] { k, d, d }, InputKind.Unit) },
            p =>
            {
                var eye = Const(Identity(d), new[] { d, d }, p[0]);
                var l = p[2] * Const(StrictlyLower(d), new[] { d, d }, p[0]) + p[2].Exp() * eye;
                var diff = Const(GmmX, new[] { 1, n, d }, p[0]) - p[0].Reshape(k, 1, d);
                var mahalanobis = diff.MatMul(l).Square().Sum(2);
                var logDet = (p[2] * eye).Sum(new[] { 1, 2 });
                var perComponent = (p[1].LogSoftmax(0) + logDet).Reshape(k, 1) - 0.5 * mahalanobis - d * halfLog2Pi;
                return -perComponent.LogSumExp(0).Sum();
            },
            p =>
            {
                var eye = torch.eye(d, dtype: p[0].dtype);
                var l = p[2] * Const(StrictlyLower(d), new long[] { d, d }, p[0]) + p[2].exp() * eye;
                var diff = Const(GmmX, new long[] { 1, n, d }, p[0]) - p[0].reshape(k, 1, d);
                var mahalanobis = diff.matmul(l).square().sum(2);
                var logDet = (p[2] * eye).sum(new long[] { 1, 2 });
                var perComponent = (torch.nn.functional.log_softmax(p[1], 0) + logDet).reshape(k, 1) - 0.5 * mahalanobis - d * halfLog2Pi;
                return -torch.logsumexp(perComponent, 0).sum();
            });

        // ADBench's two objectives (Bench/AdBenchObjectives.cs, timed at the suite's sizes by `bench --adbench`), small:
        // the GMM with packed inverse Cholesky factors (gathered into lower triangles by index) and a Wishart prior,
        // and the stacked elementwise LSTM over a short sequence.
        int ak = 2, ad = 3, an = 6, packed = ad * (ad + 1) / 2;
        double[] lowerPositions = AdBench.LowerPositions(ad).Select(v => (double)v).ToArray();
        double[] gmmPoints = Data(an * ad, 604);
        yield return C("model ADBench GMM objective K=2 d=3 n=6", new[] { I(ak), I(ak, ad), U(ak, packed) },
            p => AdBench.Gmm(p[0], p[1], p[2], Const(gmmPoints, new[] { an, ad }, p[0]), Const(lowerPositions, new[] { ad * ad }, p[0]),
                Const(new double[ak], new[] { ak, 1 }, p[0]), Const(Identity(ad), new[] { ad, ad }, p[0]), ak, ad, an),
            p => AdBench.Gmm(p[0], p[1], p[2], Const(gmmPoints, new long[] { an, ad }, p[0]), torch.tensor(AdBench.LowerPositions(ad).Select(v => (long)v).ToArray()),
                Const(new double[ak], new long[] { ak, 1 }, p[0]), Const(Identity(ad), new long[] { ad, ad }, p[0]), ak, ad, an));
        int layers = 2, length = 4, width = 3;
        double[] lstmState = Data(2 * layers * width, 605), lstmSequence = Data(length * width, 606);
        yield return C("model ADBench LSTM objective L=2 C=4 B=3", new[] { U(2 * layers, 4, width), U(3, width) },
            p => AdBench.Lstm(p[0], p[1], Const(lstmState, new[] { 2 * layers, width }, p[0]), Const(lstmSequence, new[] { length, width }, p[0]), layers, length, width),
            p => AdBench.Lstm(p[0], p[1], Const(lstmState, new long[] { 2 * layers, width }, p[0]), Const(lstmSequence, new long[] { length, width }, p[0]), layers, length, width));

        // Gaussian-process marginal log-likelihood with an RBF kernel over 20 points in 2-D; the input is
        // (log length-scale, log signal variance, log noise variance), small enough for the full Hessian check.
        int m = GpPoints;
        yield return C("model Gaussian-process marginal log-likelihood RBF", new[] { U(3) },
            p =>
            {
                var logScale = p[0].Slice(0, 0, 1); var logVariance = p[0].Slice(0, 1, 2); var logNoise = p[0].Slice(0, 2, 3);
                var eye = Const(Identity(m), new[] { m, m }, p[0]);
                var kernel = logVariance.Exp() * (-0.5 * Const(GpDistances, new[] { m, m }, p[0]) / (2.0 * logScale).Exp()).Exp()
                             + logNoise.Exp() * eye;
                var l = kernel.Cholesky();
                var y = Const(GpY, new[] { m, 1 }, p[0]);
                var alpha = l.SolveTriangular(l.SolveTriangular(y, upper: false), upper: false, transpose: true);
                var halfLogDet = (l * eye).Sum(1).Log().Sum();
                return -0.5 * (y * alpha).Sum() - halfLogDet - m * halfLog2Pi;
            },
            p =>
            {
                var logScale = p[0].slice(0, 0, 1, 1); var logVariance = p[0].slice(0, 1, 2, 1); var logNoise = p[0].slice(0, 2, 3, 1);
                var eye = torch.eye(m, dtype: p[0].dtype);
                var kernel = logVariance.exp() * (-0.5 * Const(GpDistances, new long[] { m, m }, p[0]) / (2.0 * logScale).exp()).exp()
                             + logNoise.exp() * eye;
                var l = linalg.cholesky(kernel);
                var y = Const(GpY, new long[] { m, 1 }, p[0]);
                var alpha = linalg.solve_triangular(l.transpose(-2, -1), linalg.solve_triangular(l, y, upper: false), upper: true);
                var halfLogDet = (l * eye).sum(1).log().sum();
                return -0.5 * (y * alpha).sum() - halfLogDet - m * halfLog2Pi;
            });
    }

    static readonly double[] EighWeights = { 0.5, -1.0, 2.0, 0.25 };

    static double[] Identity(int n) => Enumerable.Range(0, n * n).Select(i => i / n == i % n ? 1.0 : 0.0).ToArray();

    static Expr Spd(Expr x) { int n = x.Shape[^1]; return x.MatMul(x.Transpose()) + n * Const(Identity(n), new[] { n, n }, x); }
    static TT Spd(TT x) { long n = x.shape[^1]; return x.matmul(x.transpose(-2, -1)) + n * torch.eye(n, dtype: x.dtype); }
    static Expr Shifted(Expr x) { int n = x.Shape[^1]; return x + 3.0 * Const(Identity(n), new[] { n, n }, x); }
    static TT Shifted(TT x) { long n = x.shape[^1]; return x + 3.0 * torch.eye(n, dtype: x.dtype); }
    static Expr Sym(Expr x) => x + x.Transpose();
    static TT Sym(TT x) => x + x.transpose(-2, -1);
}
