using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A RealNVP normalizing flow on 2-D data as a PyTorch user writes it: two affine coupling layers, each splitting the
/// columns (x.chunk(2, dim=1), x[:, :1] as Narrow), scale = tanh of an MLP of the kept half, log-det = sum of the
/// scales, and the mean negative log-likelihood under a standard normal base. The gradient is checked against central
/// differences of the same flow written over doubles here, the inverse map against the forward one, and a log-det
/// through torch.linalg.slogdet against the cofactor expansion and its closed-form gradient inv(A)ᵀ.
/// </summary>
public class ClientSevenFlowTests
{
    const int N = 6, H = 5;

    // per coupling layer: s-net and t-net, each Linear(1, H) -> tanh -> Linear(H, 1), torch's [out, in] layout
    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("c0.s1.weight", [H, 1]), ("c0.s1.bias", [H]), ("c0.s2.weight", [1, H]), ("c0.s2.bias", [1]),
        ("c0.t1.weight", [H, 1]), ("c0.t1.bias", [H]), ("c0.t2.weight", [1, H]), ("c0.t2.bias", [1]),
        ("c1.s1.weight", [H, 1]), ("c1.s1.bias", [H]), ("c1.s2.weight", [1, H]), ("c1.s2.bias", [1]),
        ("c1.t1.weight", [H, 1]), ("c1.t1.bias", [H]), ("c1.t2.weight", [1, H]), ("c1.t2.bias", [1]),
    ];

    static Parameters Model(int seed) =>
        Parameters.Of(Layout.Select((entry, i) => (entry.Name, 0.7 * Tensor.RandomNormal(entry.Shape, seed: seed + i))).ToArray());

    static Expr Mlp(IReadOnlyDictionary<string, Expr> p, string net, Expr input) =>
        Nn.Linear(Nn.Linear(input, p[net + "1.weight"], p[net + "1.bias"]).Tanh(), p[net + "2.weight"], p[net + "2.bias"]);

    // One coupling layer: the column `keep` passes through, the other is scaled and shifted by functions of it.
    static (Expr Y, Expr LogDet) Coupling(IReadOnlyDictionary<string, Expr> p, string layer, Expr x, int keep)
    {
        var halves = x.Chunk(2, 1);                          // x.chunk(2, dim=1): two [N, 1] columns
        var kept = halves[keep];
        var moved = halves[1 - keep];
        var s = Mlp(p, layer + ".s", kept).Tanh();
        var t = Mlp(p, layer + ".t", kept);
        var y = moved * s.Exp() + t;
        var joined = keep == 0 ? Expr.Concat([kept, y], axis: 1) : Expr.Concat([y, kept], axis: 1);
        return (joined, s.Sum(1));                             // log|det J| = Σ s
    }

    static (Expr Z, Expr LogDet) Forward(IReadOnlyDictionary<string, Expr> p, Expr x)
    {
        var (h, logDet0) = Coupling(p, "c0", x, 0);
        var (z, logDet1) = Coupling(p, "c1", h, 1);
        return (z, logDet0 + logDet1);
    }

    static Expr Inverse(IReadOnlyDictionary<string, Expr> p, Expr z)
    {
        Expr Undo(string layer, Expr y, int keep)
        {
            var kept = y.Narrow(1, keep, 1);                  // y[:, keep:keep+1]
            var moved = y.Narrow(1, 1 - keep, 1);
            var s = Mlp(p, layer + ".s", kept).Tanh();
            var t = Mlp(p, layer + ".t", kept);
            var x = (moved - t) * (-s).Exp();
            return keep == 0 ? Expr.Concat([kept, x], axis: 1) : Expr.Concat([x, kept], axis: 1);
        }
        return Undo("c0", Undo("c1", z, 1), 0);
    }

    static Expr MeanNll(IReadOnlyDictionary<string, Expr> p, Expr x)
    {
        var (z, logDet) = Forward(p, x);
        var logPz = (-0.5 * z.Pow(2) - 0.5 * Math.Log(2 * Math.PI)).Sum(1);
        return -(logPz + logDet).Mean();
    }

    // ---- the same flow over doubles ----

    static double Mlp(Dictionary<string, double[]> p, string net, double input)
    {
        var w1 = p[net + "1.weight"]; var b1 = p[net + "1.bias"]; var w2 = p[net + "2.weight"]; var b2 = p[net + "2.bias"];
        double o = b2[0];
        for (int j = 0; j < H; j++) o += w2[j] * Math.Tanh(w1[j] * input + b1[j]);
        return o;
    }

    static (double[] Z, double LogDet) ReferenceForward(Dictionary<string, double[]> p, double a, double b)
    {
        double s0 = Math.Tanh(Mlp(p, "c0.s", a));
        double b1 = b * Math.Exp(s0) + Mlp(p, "c0.t", a);
        double s1 = Math.Tanh(Mlp(p, "c1.s", b1));
        double a1 = a * Math.Exp(s1) + Mlp(p, "c1.t", b1);
        return ([a1, b1], s0 + s1);
    }

    static double ReferenceNll(Dictionary<string, double[]> p, double[] x)
    {
        double total = 0;
        for (int i = 0; i < N; i++)
        {
            var (z, logDet) = ReferenceForward(p, x[2 * i], x[2 * i + 1]);
            total += -(-0.5 * (z[0] * z[0] + z[1] * z[1]) - Math.Log(2 * Math.PI) + logDet);
        }
        return total / N;
    }

    /// The mean NLL and its gradient in every parameter against the double flow and its central differences.
    static void NllAndGradientsMatchTheDoubleFlow(Func<IReadOnlyDictionary<string, Expr>, Expr> nll, Parameters model, Tensor x)
    {
        var (loss, gradients) = Diff.ValueAndGrad(nll, model);
        var values = Expr.EvalMany([loss, .. model.Names.Select(n => gradients[n])]);
        var doubles = model.Names.ToDictionary(n => n, n => model[n].ToDoubleArray());
        var xv = x.ToDoubleArray();
        Close(ReferenceNll(doubles, xv), values[0].ToScalar(), 1e-12, "mean NLL");
        for (int i = 0; i < model.Count; i++)
        {
            var name = model.Names[i];
            var expected = Gradient(v => ReferenceNll(new Dictionary<string, double[]>(doubles) { [name] = v }, xv), doubles[name]);
            Close(expected, values[i + 1].ToDoubleArray(), 1e-7, name);
        }
    }

    [Fact]
    public void MeanNllAndItsGradientMatchTheDoubleFlowAndCentralDifferences()
    {
        var model = Model(30);
        var x = Tensor.RandomNormal([N, 2], seed: 3);
        NllAndGradientsMatchTheDoubleFlow(p => MeanNll(p, x), model, x);
        // and with respect to the data (the score), through both couplings
        var dx = Diff.Grad(v => MeanNll(model.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value), v))(x).Eval().ToDoubleArray();
        var doubles = model.Names.ToDictionary(n => n, n => model[n].ToDoubleArray());
        Close(Gradient(v => ReferenceNll(doubles, v), x.ToDoubleArray()), dx, 1e-7, "dNLL/dx");
    }

    [Fact]
    public void TheInverseUndoesTheForwardMapAndSamplesComeBack()
    {
        var model = Model(50);
        var p = model.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value);
        var x = Tensor.RandomNormal([N, 2], seed: 4);
        var (z, _) = Forward(p, x);
        var back = Inverse(p, z).Eval().ToDoubleArray();
        Close(x.ToDoubleArray(), back, 1e-12, "inverse(forward(x))");

        // sampling: z ~ N(0, I), x = inverse(z), then forward(x) gives z back and matches the double flow
        var noise = Tensor.RandomNormal([N, 2], seed: 5);
        var samples = Inverse(p, noise);
        var (again, _) = Forward(p, samples);
        Close(noise.ToDoubleArray(), again.Eval().ToDoubleArray(), 1e-12, "forward(inverse(z))");
        var doubles = model.Names.ToDictionary(n => n, n => model[n].ToDoubleArray());
        var sv = samples.Eval().ToDoubleArray();
        var nv = noise.ToDoubleArray();
        for (int i = 0; i < N; i++)
        {
            var (zi, _) = ReferenceForward(doubles, sv[2 * i], sv[2 * i + 1]);
            Close(nv[2 * i], zi[0], 1e-12);
            Close(nv[2 * i + 1], zi[1], 1e-12);
        }

        // the log-det of the flow equals log|det| of its 2×2 Jacobian, computed by jacobian of one point
        var point = Tensor.FromArray([0.3, -0.8]);
        var jac = Diff.Jacobian(v => Forward(p, v.Reshape(1, 2)).Z.Reshape(2))(point).Eval().ToDoubleArray();
        var (_, logDet) = Forward(p, point.Reshape(1, 2));
        Close(Math.Log(Math.Abs(jac[0] * jac[3] - jac[1] * jac[2])), logDet.Eval().ToDoubleArray()[0], 1e-12, "log|det J|");
    }

    /// <summary>
    /// The JAX way to a flow's log-det when no closed form is at hand: jnp.linalg.slogdet(vmap(jacfwd(f))(x)), per example.
    /// It must equal the couplings' Σ s, and the NLL written with it must have the same gradient in the parameters, which
    /// differentiates through a vmapped Jacobian and a batched slogdet.
    /// </summary>
    [Fact]
    public void LogDetBySlogDetOfTheVmappedJacobianEqualsTheCouplingsAndHasTheSameGradient()
    {
        var model = Model(70);
        var x = Tensor.RandomNormal([N, 2], seed: 6);
        Expr OnePoint(IReadOnlyDictionary<string, Expr> p, Expr v) => Forward(p, v.Reshape(1, 2)).Z.Reshape(2);
        Expr NllByJacobian(IReadOnlyDictionary<string, Expr> p, Expr xs)
        {
            var jacobians = Diff.Vmap(Diff.Jacobian(v => OnePoint(p, v)))(xs);         // [N, 2, 2]
            var logDet = jacobians.SlogDet().LogAbsDet;                                // [N]
            var (z, _) = Forward(p, xs);
            var logPz = (-0.5 * z.Pow(2) - 0.5 * Math.Log(2 * Math.PI)).Sum(1);
            return -(logPz + logDet).Mean();
        }
        var p0 = model.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value);
        var jac = Diff.Vmap(Diff.Jacobian(v => OnePoint(p0, v)))(x).Eval();
        Assert.Equal(new[] { N, 2, 2 }, jac.Shape);
        var (_, couplingLogDet) = Forward(p0, x);
        var jv = jac.ToDoubleArray();
        var expected = Enumerable.Range(0, N).Select(i => Math.Log(Math.Abs(jv[4 * i] * jv[4 * i + 3] - jv[4 * i + 1] * jv[4 * i + 2]))).ToArray();
        Close(expected, couplingLogDet.Eval().ToDoubleArray(), 1e-12, "Σ s against log|det J|");
        Close(expected, ((Expr)jac).SlogDet().LogAbsDet.Eval().ToDoubleArray(), 1e-12, "slogdet of the Jacobians");

        NllAndGradientsMatchTheDoubleFlow(p => NllByJacobian(p, x), model, x);
    }

    // ---- torch.linalg.slogdet of a 3×3 matrix built from parameters ----

    static double Det3(double[] a) =>
        a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) + a[2] * (a[3] * a[7] - a[4] * a[6]);

    /// <summary>inv(A)ᵀ = cofactor(A) / det A, the gradient of log|det A|.</summary>
    static double[] InverseTransposed(double[] a)
    {
        double det = Det3(a);
        var c = new double[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                int r0 = (i + 1) % 3, r1 = (i + 2) % 3, c0 = (j + 1) % 3, c1 = (j + 2) % 3;
                c[i * 3 + j] = (a[r0 * 3 + c0] * a[r1 * 3 + c1] - a[r0 * 3 + c1] * a[r1 * 3 + c0]) / det;
            }
        return c;
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void SlogDetOfAParameterMatrixGivesSignLogAbsDetAndInverseTransposedGradient(DType dtype)
    {
        // A = L U built from parameters, as a flow's invertible 1×1 convolution (Glow) builds it, and a plain one with det < 0
        var lower = Tensor.FromArray(new[,] { { 0.0, 0, 0 }, { 0.4, 0, 0 }, { -0.3, 0.8, 0 } }).Cast(dtype);
        var logScale = Tensor.FromArray([0.2, -0.5, 0.1]).Cast(dtype);
        var upper = Tensor.FromArray(new[,] { { 0.0, 0.7, -0.2 }, { 0, 0, 0.5 }, { 0, 0, 0 } }).Cast(dtype);
        var sign = Tensor.FromArray([1.0, -1.0, 1.0]).Cast(dtype);
        Expr Build(Expr l, Expr logS, Expr u) =>
            (l.Tril(-1) + Expr.Eye(3, dtype)).MatMul(u.Triu(1) + (sign * logS.Exp()).DiagEmbed());

        double tolerance = dtype == DType.Float64 ? 1e-12 : 2e-5;
        var a = Build(lower, logScale, upper);
        var av = a.Eval().ToDoubleArray();
        var (s, logAbsDet) = a.SlogDet();
        double det = Det3(av);
        Assert.True(det < 0);
        Assert.Equal(Math.Sign(det), s.Eval().ToScalar());
        Close(Math.Log(Math.Abs(det)), logAbsDet.Eval().ToScalar(), tolerance, "log|det|");
        // Glow's shortcut: log|det| = Σ log-scales
        Close(logScale.ToDoubleArray().Sum(), logAbsDet.Eval().ToScalar(), tolerance, "Σ log s");

        // d log|det A| / dA = inv(A)ᵀ, and through the construction the log-scales get 1 each, the triangles 0
        var g = Diff.Grad(m => m.SlogDet().LogAbsDet)(a.Eval()).Eval().ToDoubleArray();
        Close(InverseTransposed(av), g, tolerance, "inv(A)ᵀ");
        var throughParameters = Diff.Grad((Expr[] q) => Build(q[0], q[1], q[2]).SlogDet().LogAbsDet)([lower, logScale, upper]);
        var values = Expr.EvalMany(throughParameters);
        Close([0, 0, 0, 0, 0, 0, 0, 0, 0], values[0].ToDoubleArray(), tolerance, "strict lower");
        Close([1, 1, 1], values[1].ToDoubleArray(), tolerance, "log-scales");
        Close([0, 0, 0, 0, 0, 0, 0, 0, 0], values[2].ToDoubleArray(), tolerance, "strict upper");

        // LogDet of a matrix with det < 0 is NaN, as torch.logdet; Det the cofactor expansion
        Assert.True(double.IsNaN(a.LogDet().Eval().ToScalar()));
        Close(det, a.Det().Eval().ToScalar(), tolerance, "det");
        // a positive-determinant matrix: logdet = log det, gradient inv(A)ᵀ
        var b = Tensor.FromArray(new[,] { { 2.0, 0.3, -0.4 }, { 0.1, 1.5, 0.2 }, { -0.6, 0.25, 1.2 } }).Cast(dtype);
        var bv = b.ToDoubleArray();
        Close(Math.Log(Det3(bv)), ((Expr)b).LogDet().Eval().ToScalar(), tolerance, "logdet");
        Close(InverseTransposed(bv), Diff.Grad(m => m.LogDet())(b).Eval().ToDoubleArray(), tolerance, "d logdet");
    }
}
