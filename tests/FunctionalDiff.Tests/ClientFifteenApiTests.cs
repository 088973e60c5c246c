using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// What the fifteenth porting client met before its programs ran: constant labels are checked by the core's losses (so the
/// C# overloads and the F# functions refuse the same labels with the same message), an error inside a Scan's step says it
/// came from there and how Scan slices its xs, and the eager <see cref="Tensor"/> has the elementwise functions of
/// <see cref="Expr"/> a torch user calls on a plain tensor, each against System.Math or a closed form over doubles.
/// </summary>
public class ClientFifteenApiTests
{
    static readonly Tensor Logits = Tensor.FromArray(Enumerable.Range(0, 12).Select(k => Math.Sin(1.3 * (k / 4) + 0.7 * (k % 4))).ToArray(), 3, 4);

    static double LogP(int i, int c)
    {
        var row = Logits.ToDoubleArray().Skip(4 * i).Take(4).ToArray();
        double m = row.Max();
        return row[c] - m - Math.Log(row.Sum(v => Math.Exp(v - m)));
    }

    public static TheoryData<string> LossNames => new() { "CrossEntropy", "NllLoss", "CrossEntropy weighted", "NllLoss weighted" };

    static Expr Build(string loss, Expr targets, int? ignoreIndex = null)
    {
        var weight = (Expr)Tensor.FromArray([0.5, 2.0, 1.0, 3.0]);
        return loss switch
        {
            "CrossEntropy" => Loss.CrossEntropy(Logits, targets, Reduction.None, ignoreIndex: ignoreIndex),
            "NllLoss" => Loss.NllLoss(((Expr)Logits).LogSoftmax(1), targets, Reduction.None, ignoreIndex),
            "CrossEntropy weighted" => Loss.CrossEntropy(Logits, targets, Reduction.None, ignoreIndex: ignoreIndex, weight: weight),
            _ => Loss.NllLoss(((Expr)Logits).LogSoftmax(1), targets, Reduction.None, ignoreIndex, weight),
        };
    }

    [Theory]
    [MemberData(nameof(LossNames))]
    public void ConstantLabelsAreCheckedByTheCoreUnderTheCSharpMethodsName(string loss)
    {
        var method = loss.Split(' ')[0];
        var input = method == "CrossEntropy" ? "logits" : "input";
        double[] weights = loss.EndsWith("weighted") ? [0.5, 2.0, 1.0, 3.0] : [1, 1, 1, 1];
        // in range: torch's −w[y]·log p[y] per example
        Close([-weights[1] * LogP(0, 1), -weights[3] * LogP(1, 3), -weights[0] * LogP(2, 0)],
            Build(loss, Tensor.FromArray([1.0, 3.0, 0.0])).Eval().ToDoubleArray(), 1e-14, loss);
        foreach (var (labels, position, value) in new[] { (new[] { 1.0, -100, 0 }, 1, "-100"), ([1.0, 3, 4], 2, "4"), ([0.5, 3, 0], 0, "0.5") })
        {
            var e = Assert.Throws<ArgumentOutOfRangeException>(() => Build(loss, Tensor.FromArray(labels)));
            Assert.Equal("targets", e.ParamName);
            Assert.StartsWith($"{method}: target {position} is {value}, not a class of the 4 classes of {input} [3,4]", e.Message);
        }
        // an ignore index keeps its label and still refuses the others
        Close([-weights[1] * LogP(0, 1), 0, -weights[2] * LogP(2, 2)],
            Build(loss, Tensor.FromArray([1.0, -100, 2.0]), -100).Eval().ToDoubleArray(), 1e-14, loss + " ignoring");
        Assert.Throws<ArgumentOutOfRangeException>(() => Build(loss, Tensor.FromArray([1.0, -100, 4.0]), -100));
    }

    [Fact]
    public void TheIntArrayOverloadsRefuseTheSameLabelsWithTheSameMessage()
    {
        var fromInts = Assert.Throws<ArgumentOutOfRangeException>(() => Loss.NllLoss(((Expr)Logits).LogSoftmax(1), new[] { 1, -100, 0 }));
        var fromTensor = Assert.Throws<ArgumentOutOfRangeException>(() => Loss.NllLoss(((Expr)Logits).LogSoftmax(1), (Expr)Tensor.FromArray([1, -100, 0])));
        Assert.Equal(fromTensor.Message, fromInts.Message);
        Assert.Contains("pass ignoreIndex: -100", fromInts.Message);
        var categorical = Assert.Throws<ArgumentOutOfRangeException>(() => Distributions.CategoricalLogProb(Logits, Tensor.FromArray([0.0, 4, 1])));
        Assert.Equal("value", categorical.ParamName);
        Assert.StartsWith("CategoricalLogProb: target 1 is 4", categorical.Message);
    }

    [Fact]
    public void AShapeErrorInsideAScanStepNamesScanTheStepsShapesAndTheTimeAxis()
    {
        // a torch user's batch_first=True sequence [batch 2, time 5, features 3] fed to Scan, which steps along axis 0
        var xs = Tensor.RandomNormal([2, 5, 3], seed: 21);
        var w = Tensor.RandomNormal([3, 4], seed: 22);
        var e = Assert.ThrowsAny<ArgumentException>(() => Expr.Scan((h, x) => { var next = (x.MatMul(w) + h).Tanh(); return (next, next); },
            Tensor.Zeros(2, 4), xs));
        Assert.Contains("Expr.Scan's step", e.Message);
        Assert.Contains("carry [2,4] and x [5,3] (rows of xs [2,5,3])", e.Message);
        Assert.Contains("axis 0, the time axis", e.Message);
        // time-first, the same step runs: its final carry is the loop written out over doubles
        var timeFirst = xs.Transpose(0, 1);
        var (carry, _) = Expr.Scan((h, x) => { var next = (x.MatMul(w) + h).Tanh(); return (next, next); }, Tensor.Zeros(2, 4), timeFirst);
        var (xv, wv) = (xs.ToDoubleArray(), w.ToDoubleArray());
        var hv = new double[8];
        for (int t = 0; t < 5; t++)
        {
            var next = new double[8];
            for (int b = 0; b < 2; b++)
                for (int j = 0; j < 4; j++)
                {
                    double s = hv[4 * b + j];
                    for (int k = 0; k < 3; k++) s += xv[(b * 5 + t) * 3 + k] * wv[4 * k + j];
                    next[4 * b + j] = Math.Tanh(s);
                }
            hv = next;
        }
        Close(hv, carry.Eval().ToDoubleArray(), 1e-14, "final carry");
    }

    [Fact]
    public void AShapeErrorInsideARepeatsStepNamesRepeatWithoutTheXsHint()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Expr.Repeat(3, h => h.MatMul(Tensor.Ones(3, 3)), Tensor.Ones(2, 4)));
        Assert.Contains("Expr.Repeat's step, traced over carry [2,4])", e.Message);
        Assert.DoesNotContain("time axis", e.Message);
    }

    [Theory]
    [InlineData("ij")]
    [InlineData("xy")]
    public void MeshgridIsTorchsGridOfItsAxes(string indexing)
    {
        double[] x = [0.0, 0.5, 1.0], t = [0.1, 0.2], z = [7.0, 8.0, 9.0, 10.0];
        var grids = Tensor.Meshgrid([Tensor.FromArray(x), Tensor.FromArray(t), Tensor.FromArray(z)], indexing);
        // torch: "ij" is [3, 2, 4] with x along axis 0; "xy" swaps the first two axes, [2, 3, 4], x along axis 1
        int[] shape = indexing == "ij" ? [3, 2, 4] : [2, 3, 4];
        foreach (var g in grids) Assert.Equal(shape, g.Shape);
        for (int a = 0; a < shape[0]; a++)
            for (int b = 0; b < shape[1]; b++)
                for (int c = 0; c < 4; c++)
                {
                    var (i, j) = indexing == "ij" ? (a, b) : (b, a);
                    int flat = (a * shape[1] + b) * 4 + c;
                    Assert.Equal(x[i], grids[0].ToDoubleArray()[flat]);
                    Assert.Equal(t[j], grids[1].ToDoubleArray()[flat]);
                    Assert.Equal(z[c], grids[2].ToDoubleArray()[flat]);
                }
        // the gradient of a weighted sum of a grid sums the weights over the other axes
        var w = Tensor.RandomNormal(shape, seed: 31);
        var g0 = Diff.Grad(v => (Expr.Meshgrid([v, Tensor.FromArray(t), Tensor.FromArray(z)], indexing)[0] * w).Sum())(Tensor.FromArray(x)).Eval();
        var wv = w.ToDoubleArray();
        Close(Enumerable.Range(0, 3).Select(i => Enumerable.Range(0, 24).Where(f => (indexing == "ij" ? f / 8 : f / 4 % 3) == i).Sum(f => wv[f])).ToArray(),
            g0.ToDoubleArray(), 1e-14, "gradient");
    }

    [Fact]
    public void MeshgridRefusesMatricesAndUnknownIndexingByName()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Expr.Meshgrid([Tensor.Ones(2), Tensor.Ones(2, 2)]));
        Assert.StartsWith("Meshgrid: tensor 1 has shape [2,2]", e.Message);
        Assert.Equal("indexing", Assert.ThrowsAny<ArgumentException>(() => Expr.Meshgrid([Tensor.Ones(2)], "ji")).ParamName);
        Assert.Equal("tensors", Assert.Throws<ArgumentNullException>(() => Expr.Meshgrid(null!)).ParamName);
    }

    [Fact]
    public void LinearsShapeErrorShowsNoAbsentBiasAndSpotsAWeightLaidOutInOut()
    {
        // x @ W's weight [in, out] where torch's F.linear takes [out, in]
        var e = Assert.ThrowsAny<ArgumentException>(() => Nn.Linear(Tensor.Ones(4, 3), Tensor.Ones(3, 5)));
        Assert.StartsWith("Linear: input [4,3] and weight [3,5] do not fit", e.Message);
        Assert.Contains("weight [3,5] looks like [in, out]", e.Message);
        Assert.DoesNotContain("bias", e.Message.Split(':')[1].Split("do not fit")[0]);
        // with a bias its shape is shown, and a weight that fits neither way gets no such hint
        var withBias = Assert.ThrowsAny<ArgumentException>(() => Nn.Linear(Tensor.Ones(4, 3), Tensor.Ones(5, 2), Tensor.Ones(5)));
        Assert.StartsWith("Linear: input [4,3], weight [5,2] and bias [5] do not fit", withBias.Message);
        Assert.DoesNotContain("looks like", withBias.Message);
    }

    const double SeluScale = 1.0507009873554804934193349852946, SeluAlpha = 1.6732632423543772848170429916717;

    static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    /// <summary>log Γ at the whole and half-whole numbers: log((n − 1)!) and log(√π·(2n)!/(4ⁿ·n!)) for Γ(n + 1/2).</summary>
    static double LogGamma(double x)
    {
        double whole = Math.Floor(x);
        if (x == whole) return Enumerable.Range(1, (int)x - 1).Sum(k => Math.Log(k));
        int n = (int)whole;      // x = n + 1/2
        return 0.5 * Math.Log(Math.PI) + Enumerable.Range(1, 2 * n).Sum(k => Math.Log(k)) - n * Math.Log(4) - Enumerable.Range(1, n).Sum(k => Math.Log(k));
    }

    public static TheoryData<string> EagerNames => new()
    {
        "Selu", "Mish", "Softsign", "Hardswish", "Hardsigmoid", "Relu6", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Asin", "Acos",
        "Atan", "Lgamma", "Log2", "Log10", "Exp2", "Trunc",
    };

    static (Func<Tensor, Tensor> Eager, Func<double, double> Reference, double[] Points) EagerCase(string name)
    {
        double[] wide = [-4.5, -3, -1.25, -0.5, 0, 0.75, 2, 3, 6.5], unit = [-0.95, -0.5, -0.1, 0, 0.3, 0.8, 0.99];
        return name switch
        {
            "Selu" => (t => t.Selu(), x => SeluScale * (x > 0 ? x : SeluAlpha * (Math.Exp(x) - 1)), wide),
            "Mish" => (t => t.Mish(), x => x * Math.Tanh(Softplus(x)), wide),
            "Softsign" => (t => t.Softsign(), x => x / (1 + Math.Abs(x)), wide),
            "Hardswish" => (t => t.Hardswish(), x => x * Math.Min(Math.Max(x + 3, 0), 6) / 6, wide),
            "Hardsigmoid" => (t => t.Hardsigmoid(), x => Math.Min(Math.Max(x + 3, 0), 6) / 6, wide),
            "Relu6" => (t => t.Relu6(), x => Math.Min(Math.Max(x, 0), 6), wide),
            "Sinh" => (t => t.Sinh(), Math.Sinh, wide),
            "Cosh" => (t => t.Cosh(), Math.Cosh, wide),
            "Asinh" => (t => t.Asinh(), Math.Asinh, wide),
            "Acosh" => (t => t.Acosh(), Math.Acosh, [1, 1.5, 2, 10, 1e3]),
            "Atanh" => (t => t.Atanh(), Math.Atanh, unit),
            "Asin" => (t => t.Asin(), Math.Asin, unit),
            "Acos" => (t => t.Acos(), Math.Acos, unit),
            "Atan" => (t => t.Atan(), Math.Atan, wide),
            "Lgamma" => (t => t.Lgamma(), LogGamma, [0.5, 1, 1.5, 2, 3.5, 7, 12.5, 30]),
            "Log2" => (t => t.Log2(), Math.Log2, [0.125, 0.7, 1, 3, 1024]),
            "Log10" => (t => t.Log10(), Math.Log10, [0.001, 0.7, 1, 3, 1e5]),
            "Exp2" => (t => t.Exp2(), x => Math.Pow(2, x), wide),
            _ => (t => t.Trunc(), Math.Truncate, wide),
        };
    }

    [Theory]
    [MemberData(nameof(EagerNames))]
    public void EagerElementwiseFunctionsAreTheirFormulasOverDoubles(string name)
    {
        var (eager, reference, points) = EagerCase(name);
        Close(points.Select(reference).ToArray(), eager(Tensor.FromArray(points)).ToDoubleArray(), 1e-13, name);
        // float32 in, float32 out, to float32's precision
        var single = eager(Tensor.FromArray(points).To(DType.Float32));
        Assert.Equal(DType.Float32, single.DType);
        Close(points.Select(p => reference((float)p)).ToArray(), single.ToDoubleArray(), 1e-5, name + " float32");
        // a [2, 2] tensor keeps its shape
        Assert.Equal([2, 2], eager(Tensor.FromArray(points.Take(4).ToArray(), 2, 2)).Shape);
    }
}
