using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch's <c>scatter</c> (no reduce) and <c>scatter_reduce</c> with its five reductions, on <see cref="Expr"/> and
/// <see cref="Tensor"/>: values against a reference loop over doubles that follows torch's definition entry by entry,
/// first derivatives against central differences of that loop, second derivatives against central differences
/// (<see cref="Diff.CheckGrad"/>), the even sharing of amax/amin ties that torch's backward uses, and the mean rule for
/// a position scatter writes twice.
/// </summary>
public class ScatterReduceTests
{
    static readonly string[] Reductions = ["sum", "prod", "mean", "amax", "amin"];

    // x [3, 4]; along axis 1 the index [3, 2] repeats position 2 in row 1 and position 0 in row 2 (and leaves positions
    // unwritten); along axis 0 the index [2, 3] repeats row 1 in column 0. Source [3, 3] is larger than either index, as
    // torch allows (only the part the index covers is read).
    static readonly int[] XShape = [3, 4], SourceShape = [3, 3];
    static readonly (int Axis, int[] Shape, double[] Index)[] Layouts =
    [
        (1, [3, 2], [0, 3, 2, 2, 0, 0]),
        (0, [2, 3], [1, 0, 2, 1, 1, 0]),
        (-1, [3, 2], [3, 1, 1, 1, 2, 0]),
    ];

    static int[] Strides(int[] shape)
    {
        var s = new int[shape.Length];
        for (int i = shape.Length - 1, p = 1; i >= 0; p *= shape[i], i--) s[i] = p;
        return s;
    }

    /// <summary>torch's scatter_reduce written out: every index entry names a position of x, whose value (and x's own when
    /// included) is reduced; positions nothing lands on keep x. Scatter without reduce is "scatter": the mean rule.</summary>
    static double[] Reference(double[] x, int[] xShape, double[] source, int[] sourceShape, double[] index, int[] indexShape,
        int axis, string reduce, bool includeSelf)
    {
        int r = xShape.Length, a = axis < 0 ? axis + r : axis;
        var lists = Enumerable.Range(0, x.Length).Select(_ => new List<double>()).ToArray();
        var (xs, ss) = (Strides(xShape), Strides(sourceShape));
        int n = indexShape.Aggregate(1, (p, d) => p * d);
        for (int flat = 0; flat < n; flat++)
        {
            int rest = flat, target = 0, from = 0;
            for (int i = r - 1; i >= 0; i--)
            {
                int c = rest % indexShape[i];
                rest /= indexShape[i];
                target += (i == a ? (int)index[flat] : c) * xs[i];
                from += c * ss[i];
            }
            lists[target].Add(source[from]);
        }
        var result = (double[])x.Clone();
        for (int p = 0; p < x.Length; p++)
        {
            var l = lists[p];
            if (l.Count == 0) continue;
            if (reduce == "scatter") { result[p] = l.Average(); continue; }
            if (includeSelf) l.Insert(0, x[p]);
            result[p] = reduce switch
            {
                "sum" => l.Sum(),
                "prod" => l.Aggregate(1.0, (q, v) => q * v),
                "mean" => l.Sum() / l.Count,
                "amax" => l.Max(),
                _ => l.Min(),
            };
        }
        return result;
    }

    static Expr Apply(Expr x, Expr source, Tensor index, int axis, string reduce, bool includeSelf) =>
        reduce == "scatter" ? x.Scatter(axis, index, source) : x.ScatterReduce(axis, index, source, reduce, includeSelf);

    public static IEnumerable<object[]> Cases() =>
        from layout in Enumerable.Range(0, Layouts.Length)
        from reduce in Reductions.Append("scatter")
        from includeSelf in new[] { true, false }
        where reduce != "scatter" || includeSelf
        select new object[] { layout, reduce, includeSelf };

    [Theory]
    [MemberData(nameof(Cases))]
    public void ValuesMatchTorchsDefinitionOnExprAndTensorInBothDtypes(int layout, string reduce, bool includeSelf)
    {
        var (axis, shape, index) = Layouts[layout];
        double[] x = Values(12, 1), source = Values(9, 2);
        var expected = Reference(x, XShape, source, SourceShape, index, shape, axis, reduce, includeSelf);
        var idx = Tensor.FromArray(index, shape);
        var (tx, ts) = (Tensor.FromArray(x, XShape), Tensor.FromArray(source, SourceShape));
        Close(expected, Apply(tx, ts, idx, axis, reduce, includeSelf).Eval().ToDoubleArray(), 1e-15, $"{reduce} Expr");
        var eager = reduce == "scatter" ? tx.Scatter(axis, idx, ts) : tx.ScatterReduce(axis, idx, ts, reduce, includeSelf);
        Close(expected, eager.ToDoubleArray(), 1e-15, $"{reduce} Tensor");
        var single = Apply(tx.To(DType.Float32), ts.To(DType.Float32), idx, axis, reduce, includeSelf).Eval();
        Assert.Equal(DType.Float32, single.DType);
        Close(expected, single.ToDoubleArray(), 1e-6, $"{reduce} float32");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FirstDerivativesMatchCentralDifferencesOfTheReferenceLoop(int layout, string reduce, bool includeSelf)
    {
        var (axis, shape, index) = Layouts[layout];
        double[] x = Values(12, 1), source = Values(9, 2), w = Values(12, 5);
        var idx = Tensor.FromArray(index, shape);
        double Weighted(double[] xv, double[] sv) =>
            Reference(xv, XShape, sv, SourceShape, index, shape, axis, reduce, includeSelf).Zip(w, (o, k) => o * k).Sum();
        var (gx, gs) = Diff.Grad((Expr a, Expr b) => (Apply(a, b, idx, axis, reduce, includeSelf) * Tensor.FromArray(w, XShape)).Sum())(
            Tensor.FromArray(x, XShape), Tensor.FromArray(source, SourceShape));
        Close(Gradient(v => Weighted(v, source), x), gx.Eval().ToDoubleArray(), 1e-7, $"{reduce} d/dx");
        Close(Gradient(v => Weighted(x, v), source), gs.Eval().ToDoubleArray(), 1e-7, $"{reduce} d/dsource");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void SecondDerivativesMatchCentralDifferences(int layout, string reduce, bool includeSelf)
    {
        var (axis, shape, index) = Layouts[layout];
        var idx = Tensor.FromArray(index, shape);
        var (x, source) = (T(XShape, 1), T(SourceShape, 2));
        var w = T(XShape, 5);
        // a smooth function after the scatter, so the second derivatives are not zero
        var inX = Diff.CheckGrad(v => (Apply(v, source, idx, axis, reduce, includeSelf).Sin() * w).Sum(), x, order: 2);
        Assert.True(inX.Passed, $"{reduce} in x: {inX.Message}");
        var inSource = Diff.CheckGrad(v => (Apply(x, v, idx, axis, reduce, includeSelf).Sin() * w).Sum(), source, order: 2);
        Assert.True(inSource.Passed, $"{reduce} in source: {inSource.Message}");
    }

    [Theory]
    [InlineData("amax", true), InlineData("amax", false), InlineData("amin", true), InlineData("amin", false)]
    public void TiesShareTheGradientEvenlyAsTorchsBackward(string reduce, bool includeSelf)
    {
        // position 1 of x holds the extreme 5 (or −5), and two source entries equal it: torch's backward divides the
        // cotangent by the number of entries equal to the result (x's own when included) and gives each one share
        double extreme = reduce == "amax" ? 5 : -5;
        var x = Tensor.FromArray(new[] { 0.5, extreme, 0.25 }, 1, 3);
        var source = Tensor.FromArray(new[] { extreme, extreme * 0.5, extreme }, 1, 3);
        var index = Tensor.FromArray(new[] { 1.0, 1, 1 }, 1, 3);
        var (gx, gs) = Diff.Grad((Expr a, Expr b) => a.ScatterReduce(1, index, b, reduce, includeSelf).Sum())(x, source);
        double share = 1.0 / (includeSelf ? 3 : 2);
        Close(new[] { 1.0, includeSelf ? share : 0, 1 }, gx.Eval().ToDoubleArray(), 1e-15, "x");
        Close(new[] { share, 0, share }, gs.Eval().ToDoubleArray(), 1e-15, "source");
    }

    [Fact]
    public void ScatterWritesUniquePositionsExactlyAndRepeatedOnesTakeTheMeanWithSharedGradients()
    {
        // torch.zeros(2, 4).scatter(1, [[3, 0], [1, 1]], src): row 0 is written exactly, row 1's position 1 twice
        var x = Tensor.FromArray(new[] { 9.0, 9, 9, 9, 9, 9, 9, 9 }, 2, 4);
        var source = Tensor.FromArray(new[] { 1.0, 2, 3, 5 }, 2, 2);
        var index = Tensor.FromArray(new[] { 3.0, 0, 1, 1 }, 2, 2);
        Assert.Equal(new[] { 2.0, 9, 9, 1, 9, 4, 9, 9 }, x.Scatter(1, index, source).ToDoubleArray());
        var (gx, gs) = Diff.Grad((Expr a, Expr b) => (a.Scatter(1, index, b) * Tensor.Arange(8).Reshape(2, 4)).Sum())(x, source);
        // x keeps its gradient only where nothing is written; the two writers of row 1's position 1 (weight 5) share it
        Assert.Equal(new[] { 0.0, 1, 2, 0, 4, 0, 6, 7 }, gx.Eval().ToDoubleArray());
        Assert.Equal(new[] { 3.0, 0, 2.5, 2.5 }, gs.Eval().ToDoubleArray());
    }

    [Fact]
    public void MistakesNameTheMethodAndTheParameter()
    {
        var x = Tensor.Zeros(2, 3);
        var index = Tensor.FromArray(new[] { 0.0, 2, 1, 1 }, 2, 2);
        var unknown = Assert.ThrowsAny<ArgumentException>(() => ((Expr)x).ScatterReduce(1, index, Tensor.Ones(2, 2), "max"));
        Assert.Equal("reduce", unknown.ParamName);
        Assert.Contains("'amax'", unknown.Message);
        var outside = Assert.ThrowsAny<ArgumentException>(() => x.Scatter(1, Tensor.FromArray(new[] { 0.0, 3, 1, 1 }, 2, 2), Tensor.Ones(2, 2)));
        Assert.Contains("Scatter", outside.Message);
        Assert.Contains("index 3", outside.Message);
        var dtype = Assert.ThrowsAny<ArgumentException>(() => x.ScatterReduce(1, index, Tensor.Ones(2, 2).To(DType.Float32), "sum"));
        Assert.Contains("ScatterReduce", dtype.Message);
        var shape = Assert.ThrowsAny<ArgumentException>(() => ((Expr)x).Scatter(0, Tensor.Zeros(2, 4), Tensor.Ones(2, 4)));
        Assert.Contains("Scatter", shape.Message);
        Assert.Equal("index", Assert.Throws<ArgumentNullException>(() => ((Expr)x).Scatter(0, null!, Tensor.Ones(2, 2))).ParamName);
    }
}
