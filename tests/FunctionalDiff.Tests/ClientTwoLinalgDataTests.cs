using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Linear-algebra gradients against central differences in float64, data exchange and tensor
/// conversions against values written in the test, and the errors a new user meets first.
/// </summary>
public class ClientTwoLinalgDataTests
{
    // ---------- 5. Linear algebra gradients on well-conditioned matrices ----------

    /// <summary>A well-conditioned n×n matrix: identity times n plus small spread values.</summary>
    static Tensor WellConditioned(int n, int salt) => Tensor.FromArray(
        Values(n * n, salt).Select((v, k) => 0.3 * v + (k / n == k % n ? n : 0)).ToArray(), n, n);

    // Each case: a scalar function of one matrix built from a decomposition, and the matrix's shape.
    // Weights make every entry of every output count, so a wrong entry of any rule shows.
    public static TheoryData<string, int[]> LinalgCases() => new()
    {
        { "solve matrix", [4, 4] }, { "solve vector", [4, 4] }, { "inverse", [4, 4] }, { "det 3", [3, 3] }, { "det 4", [4, 4] },
        { "slogdet", [4, 4] }, { "logdet", [4, 4] }, { "cholesky", [4, 4] }, { "eigh values", [4, 4] }, { "eigh vectors", [4, 4] },
        { "qr tall", [5, 3] }, { "qr square", [3, 3] }, { "solve triangular", [4, 4] }, { "batched solve", [2, 3, 3] },
    };

    static Expr Weighted(Expr e, int salt) => (e * T(e.Shape, salt)).Sum();

    static Expr LinalgFunction(string name, Expr a)
    {
        var rhs = T([a.Shape[^1], 2], 90);
        // symmetric positive definite from a: M Mᵀ + n I, so a perturbation of any entry of a stays valid
        Expr Spd(Expr m) => m.MatMul(m.Transpose()) + Tensor.FromArray(Enumerable.Range(0, 16).Select(k => k / 4 == k % 4 ? 4.0 : 0).ToArray(), 4, 4);
        // symmetric, with well-separated eigenvalues
        Expr Sym(Expr m) => 0.5 * (m + m.Transpose()) + Tensor.FromArray(Enumerable.Range(0, 16).Select(k => k / 4 == k % 4 ? (double)(k / 4) : 0).ToArray(), 4, 4);
        return name switch
        {
            "solve matrix" => Weighted(a.Solve(rhs), 91),
            "solve vector" => Weighted(a.Solve(T([4], 92)), 93),
            "inverse" => Weighted(a.Inverse(), 94),
            "det 3" or "det 4" => a.Det(),
            "slogdet" => a.SlogDet().LogAbsDet + 0 * a.SlogDet().Sign,
            "logdet" => a.LogDet(),
            "cholesky" => Weighted(Spd(a).Cholesky(), 95),
            "eigh values" => Weighted(Sym(a).EigvalsH(), 96),
            // squares of the eigenvectors' entries do not depend on their signs
            "eigh vectors" => Weighted(Sym(a).Eigh().Eigenvectors.Square(), 97) + Weighted(Sym(a).Eigh().Eigenvalues, 98),
            "qr tall" or "qr square" => Weighted(a.Qr().Q, 99) + Weighted(a.Qr().R, 100),
            "solve triangular" => Weighted(a.SolveTriangular(rhs, upper: false), 101) + Weighted(a.SolveTriangular(rhs, upper: true, left: true, transpose: true), 102),
            "batched solve" => Weighted(a.Solve(T([2, 3, 2], 103)), 104),
            _ => throw new ArgumentException(name),
        };
    }

    [Theory]
    [MemberData(nameof(LinalgCases))]
    public void LinalgGradientsAgreeWithCentralDifferences(string name, int[] shape)
    {
        var a = shape.Length == 2 && shape[0] == shape[1]
            ? WellConditioned(shape[0], shape[0] + name.Length)
            : Tensor.FromArray(Values(shape.Aggregate(1, (x, y) => x * y), 7).Select((v, k) => v + (shape.Length == 2 && k / shape[1] == k % shape[1] ? 3 : 0) + (shape.Length == 3 && (k % 9) / 3 == k % 3 ? 3 : 0)).ToArray(), shape);
        var g = Diff.Grad(x => LinalgFunction(name, x))(a).Eval();
        Assert.Equal(shape, g.Shape);
        var numeric = Gradient(v => LinalgFunction(name, Tensor.FromArray(v, shape)).Eval().ToScalar(), a.ToDoubleArray());
        Close(numeric, g.ToDoubleArray(), 2e-7, name);
        // and a second derivative (a Hessian-vector product) against differences of the gradient
        var direction = T(shape, 105);
        var hv = Diff.Hvp(x => LinalgFunction(name, x), a, direction).Eval().ToDoubleArray();
        var plus = Diff.Grad(x => LinalgFunction(name, x))(a + 1e-5 * direction).Eval().ToDoubleArray();
        var minus = Diff.Grad(x => LinalgFunction(name, x))(a - 1e-5 * direction).Eval().ToDoubleArray();
        Close(plus.Zip(minus, (p, m) => (p - m) / 2e-5).ToArray(), hv, 1e-5, name + " hvp");
    }

    [Fact]
    public void LinalgValuesAreTheirDefinitions()
    {
        var a = WellConditioned(4, 3);
        var b = T([4, 2], 4);
        var x = ((Expr)a).Solve(b).Eval();
        Close(b.ToDoubleArray(), a.MatMul(x).ToDoubleArray(), 1e-13, "A x = b");
        var inv = ((Expr)a).Inverse().Eval();
        Close(Enumerable.Range(0, 16).Select(k => k / 4 == k % 4 ? 1.0 : 0).ToArray(), a.MatMul(inv).ToDoubleArray(), 1e-13, "A A⁻¹");
        var m3 = new double[,] { { 2, -1, 0.5 }, { 1, 3, -2 }, { 0.25, 1, 4 } };
        double det3 = 2 * (3 * 4 + 2) - (-1) * (1 * 4 - (-2) * 0.25) + 0.5 * (1 * 1 - 3 * 0.25);
        Close(det3, ((Expr)Tensor.FromArray(m3)).Det().Eval().ToScalar(), 1e-14, "det");
        var (sign, logAbs) = ((Expr)Tensor.FromArray(m3) * -1.0).SlogDet();
        Close(-1, sign.Eval().ToScalar(), 0, "sign");
        Close(Math.Log(Math.Abs(det3)), logAbs.Eval().ToScalar(), 1e-14, "log|det|");
        var spd = a.MatMul(a.Transpose());
        var l = ((Expr)spd).Cholesky().Eval();
        Close(spd.ToDoubleArray(), l.MatMul(l.Transpose()).ToDoubleArray(), 1e-12, "L Lᵀ");
        Assert.Equal(0.0, l[0, 1]);
        var (q, r) = ((Expr)T([5, 3], 8)).Qr();
        var qv = q.Eval();
        Close(T([5, 3], 8).ToDoubleArray(), qv.MatMul(r.Eval()).ToDoubleArray(), 1e-13, "Q R");
        Close([1, 0, 0, 0, 1, 0, 0, 0, 1], qv.Transpose().MatMul(qv).ToDoubleArray(), 1e-13, "QᵀQ");
        var (w, v) = ((Expr)spd).Eigh();
        var wv = w.Eval().ToDoubleArray();
        var vv = v.Eval();
        Assert.True(wv.Zip(wv.Skip(1), (p, n) => p <= n).All(ok => ok), "ascending");
        var vd = vv * Tensor.FromArray(wv).Reshape(1, 4);
        Close(spd.ToDoubleArray(), vd.MatMul(vv.Transpose()).ToDoubleArray(), 1e-12, "V diag(w) Vᵀ");
    }

    // ---------- 7. Data exchange and tensor creation/conversion ----------

    [Theory]
    [InlineData(DType.Float32, new int[0])]
    [InlineData(DType.Float64, new int[0])]
    [InlineData(DType.Float32, new[] { 0, 3 })]
    [InlineData(DType.Float64, new[] { 0 })]
    [InlineData(DType.Float32, new[] { 2, 3, 4 })]
    [InlineData(DType.Float64, new[] { 5 })]
    public void NpyRoundTripsShapeDtypeAndBits(DType dtype, int[] shape)
    {
        int n = shape.Aggregate(1, (a, b) => a * b);
        var t = Tensor.FromArray(Enumerable.Range(0, n).Select(i => Math.PI * (i - 3.5)).ToArray(), shape).Cast(dtype);
        var path = Path.Combine(Path.GetTempPath(), $"client2-{Guid.NewGuid():N}.npy");
        try
        {
            Npy.Save(path, t);
            var bytes = File.ReadAllBytes(path);
            // NumPy's header: magic, version 1.0, and a dict naming the dtype and the shape as a Python tuple
            Assert.Equal(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0 }, bytes[..8]);
            var header = System.Text.Encoding.ASCII.GetString(bytes, 10, bytes[8] | bytes[9] << 8);
            Assert.Contains(dtype == DType.Float32 ? "'<f4'" : "'<f8'", header);
            string tuple = shape.Length switch { 0 => "()", 1 => $"({shape[0]},)", _ => "(" + string.Join(", ", shape) + ")" };
            Assert.Contains($"'shape': {tuple}", header);
            Assert.Equal(10 + header.Length + n * (dtype == DType.Float32 ? 4 : 8), bytes.Length);
            var back = Npy.Load(path);
            Assert.Equal(shape, back.Shape);
            Assert.Equal(dtype, back.DType);
            Assert.Equal(t.ToDoubleArray(), back.ToDoubleArray());
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void FromArrayToArrayShapeAndIndexingAgreeRowMajor()
    {
        var v = Tensor.FromArray(new[] { 1.5, -2.0, 3.25 });
        Assert.Equal(new[] { 3 }, v.Shape);
        Assert.Equal(1, v.Rank);
        Assert.Equal(-2.0, v[1]);
        Assert.Equal(3.25, v[^1 ..].ToScalar());

        var m = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal(new[] { 2, 3 }, m.Shape);
        Assert.Equal(new[] { 1.0, 2, 3, 4, 5, 6 }, m.ToDoubleArray());
        Assert.Equal(6.0, m[1, 2]);
        Assert.Equal(new[] { 4.0, 5, 6 }, m.Row(1).ToDoubleArray());
        Assert.Equal(new[] { 2.0, 5 }, m[.., 1..2].ToDoubleArray());
        Assert.Equal(new[] { 1.0, 4 }, m.Transpose().Row(0).ToDoubleArray());

        var c = Tensor.FromArray(new float[,,] { { { 1, 2 }, { 3, 4 } }, { { 5, 6 }, { 7, 8 } } });
        Assert.Equal(DType.Float32, c.DType);
        Assert.Equal(new[] { 2, 2, 2 }, c.Shape);
        Assert.Equal(7.0, c[1, 1, 0]);
        Assert.Equal(new float[] { 1, 2, 3, 4, 5, 6, 7, 8 }, c.ToSingleArray());

        var scalar = Tensor.Scalar(2.5);
        Assert.Empty(scalar.Shape);
        Assert.Equal(2.5, scalar.ToScalar());
        Assert.Equal(2.5, scalar[Array.Empty<int>()]);
        var empty = Tensor.Zeros([0, 3]);
        Assert.Empty(empty.ToDoubleArray());
        Assert.Equal(0.0, empty.Sum().ToScalar());

        var reshaped = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (double)i).ToArray(), 3, 4).Reshape(2, -1);
        Assert.Equal(new[] { 2, 6 }, reshaped.Shape);
        Assert.Equal(7.0, reshaped[1, 1]);
    }

    [Fact]
    public void TensorsAndExprsPrintAsTorchAndAsTheirNode()
    {
        // torch: str(torch.tensor([1., 2.5, -3.])) and the float64 matrix form
        Assert.Equal("tensor([ 1.0000,  2.5000, -3.0000])", Tensor.FromArray(new float[] { 1, 2.5f, -3 }).ToString());
        Assert.Equal("tensor([[1., 2.],\n        [3., 4.]], dtype=torch.float64)", Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } }).ToString());
        Assert.Equal("tensor(2.5000, dtype=torch.float64)", Tensor.Scalar(2.5).ToString());
        Assert.Equal("tensor([], size=(0, 3), dtype=torch.float64)", Tensor.Zeros([0, 3]).ToString());
        Expr x = Tensor.FromArray(new[] { 1.0, 2.0 });
        Assert.Equal("Expr(reduce_sum, Float64, [])", (x * x).Sum().ToString());
        var text = (x.Sin() * x).ToText();
        Assert.Contains("sin", text);
        Assert.Contains("mul", text);
    }

    // ---------- 8. Errors name the op and the shapes ----------

    static void Throws<TException>(Action action, params string[] fragments) where TException : Exception
    {
        var e = Assert.ThrowsAny<TException>(action);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
    }

    [Fact]
    public void ShapeErrorsNameTheMethodAndTheShapes()
    {
        Expr a = T([2, 3]), b = T([2, 3]);
        Throws<ArgumentException>(() => a.MatMul(b), "MatMul", "[2,3]");
        Throws<ArgumentException>(() => _ = a + T([4]), "[2,3]", "[4]");
        Throws<ArgumentException>(() => a.Reshape(4, 2), "Reshape", "[2,3]");
        Throws<ArgumentException>(() => Nn.Conv2d(T([1, 2, 5, 5]), T([4, 3, 3, 3])), "Conv2d");
        Throws<ArgumentException>(() => Nn.Linear(T([5, 3]), T([4, 2])), "Linear");
        Throws<ArgumentException>(() => a.Solve(T([2])), "Solve");
        Throws<ArgumentException>(() => a.Cholesky(), "Cholesky", "[2,3]");
        Throws<ArgumentException>(() => Loss.CrossEntropy(T([3, 4]), [0, 1]), "CrossEntropy");
        Throws<ArgumentException>(() => Loss.Mse(T([3]), T([3, 1])), "Mse");
        Throws<ArgumentException>(() => Diff.Hvp(x => x.Sum(), T([3]), T([2])), "Hvp");
        Throws<ArgumentException>(() => Diff.Grad(x => x * 2.0)(T([3])), "Grad");
        Throws<ArgumentException>(() => a.Sum(2), "Sum");
        Throws<ArgumentException>(() => Expr.Concat(0, a, T([2, 4])), "Concat");
        Throws<ArgumentException>(() => Expr.Scan((h, x) => (h.Sum(), h), T([2]), T([4, 2])), "Scan");
        Throws<ArgumentException>(() => Diff.Vmap((Expr[] xs) => xs[0] + xs[1], [0, 0])([T([3, 2]), T([4, 2])]), "Vmap");
        Throws<ArgumentException>(() => T([2, 3]).MatMul(T([2, 3])), "MatMul", "[2,3]");
        Throws<ArgumentException>(() => T([2, 3]).Reshape(5), "Reshape");
        Throws<ArgumentException>(() => _ = T([2, 3])[2, 0], "[2,3]");
        Throws<ArgumentException>(() => T([2, 3]).Row(5), "Row");
    }

    [Fact]
    public void CompiledFunctionsNameTheInputThatDoesNotFit()
    {
        var f = Diff.Compile((Expr[] p) => [p[0].MatMul(p[1]).Sum()]);
        var ok = f.Invoke(T([2, 3]), T([3, 4]));
        Close(T([2, 3]).MatMul(T([3, 4])).Sum().ToScalar(), ok[0].ToScalar(), 1e-14, "value");
        Throws<ArgumentException>(() => f.Invoke(T([2, 3])), "Invoke");
        // a function over Expr[] takes any count, as a Python *args function: an extra input is a new signature
        Close(ok[0].ToScalar(), f.Invoke(T([2, 3]), T([3, 4]), T([1]))[0].ToScalar(), 0, "extra input");
        Throws<ArgumentException>(() => f.Invoke(T([2, 3]), T([4, 4])), "Invoke", "[4,4]");
        Assert.ThrowsAny<ArgumentException>(() => f.InvokeInto([T([2, 3]), T([3, 4])], [Tensor.Zeros([2])]));
        Assert.Throws<ArgumentNullException>(() => f.Invoke(null!));
        Assert.Throws<ArgumentNullException>(() => f.Invoke(T([2, 3]), null!));
        // a float32 input where float64 was traced is a new signature, traced again, not an error
        var again = f.Invoke(T([2, 3]).Cast(DType.Float32), T([3, 4]).Cast(DType.Float32));
        Assert.Equal(DType.Float32, again[0].DType);
        Assert.Equal(3, f.TraceCount);
    }

    [Fact]
    public void EvaluationErrorsNameTheMethod()
    {
        var singular = Tensor.FromArray(new double[,] { { 1, 2, 3, 4 }, { 2, 4, 6, 8 }, { 0, 1, 0, 1 }, { 1, 0, 1, 0 } });
        Throws<ArgumentException>(() => ((Expr)singular).Inverse().Eval(), "[4,4]");
        var indefinite = Tensor.FromArray(new double[,] { { 1, 2 }, { 2, 1 } });
        Throws<ArgumentException>(() => ((Expr)indefinite).Cholesky().Eval(), "Cholesky");
        Close(0.0, ((Expr)singular).Det().Eval().ToScalar(), 0, "det");
    }
}
