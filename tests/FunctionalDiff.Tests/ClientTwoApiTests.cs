using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Spellings a torch user types first that did not compile, each checked against a value written
/// out in the test or the longer spelling that already existed.
/// </summary>
public class ClientTwoApiTests
{
    [Fact]
    public void ToArrayAndNumelAreTorchsNumpyAndNumel()
    {
        var m = Tensor.FromArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal(new[] { 1.0, 2, 3, 4, 5, 6 }, m.ToArray());
        Assert.Equal(6, m.Numel);
        Assert.Equal(1, Tensor.Scalar(3).Numel);
        Assert.Equal(0, Tensor.Zeros(0, 3).Numel);
        Expr e = m;
        Assert.Equal(6, e.Numel);
        Assert.Equal(1, e.Sum().Numel);
        var back = Tensor.FromArray(m.ToArray(), m.Shape);
        Assert.Equal(m.ToArray(), back.ToArray());
    }

    [Fact]
    public void ZerosAndOnesTakeTheDimensionsAsArgumentsAsTorchDoes()
    {
        var z = Tensor.Zeros(2, 3);
        Assert.Equal(new[] { 2, 3 }, z.Shape);
        Assert.Equal(DType.Float64, z.DType);
        Assert.All(z.ToArray(), v => Assert.Equal(0.0, v));
        var o = Tensor.Ones(4);
        Assert.Equal(new[] { 4 }, o.Shape);
        Assert.All(o.ToArray(), v => Assert.Equal(1.0, v));
        // the array forms keep their dtype argument
        Assert.Equal(DType.Float32, Tensor.Ones([2], DType.Float32).DType);
        Assert.Equal(new[] { 3 }, Tensor.Zeros([3]).Shape);
        Assert.Equal(new[] { 3 }, Tensor.Zeros(new[] { 3 }).Shape);
    }

    [Fact]
    public void ClampTakesOneBoundByName()
    {
        var t = Tensor.FromArray(new[] { -2.0, 0.5, 3.0 });
        Assert.Equal(new[] { 0.0, 0.5, 3.0 }, t.Clamp(min: 0).ToArray());
        Assert.Equal(new[] { -2.0, 0.5, 1.0 }, t.Clamp(max: 1).ToArray());
        Expr x = t;
        Assert.Equal(new[] { 0.0, 0.5, 3.0 }, x.Clamp(min: 0).Eval().ToArray());
        Assert.Equal(new[] { -2.0, 0.5, 1.0 }, x.Clamp(max: 1).Eval().ToArray());
        // gradient: 1 inside, 0 where clamped
        Assert.Equal(new[] { 0.0, 1, 1 }, Diff.Grad(v => v.Clamp(min: 0).Sum())(x).Eval().ToArray());
    }

    [Fact]
    public void ACapturedTensorMultipliesATracedExprWithoutACast()
    {
        var w = T([3, 2], 1);
        var x0 = T([2], 2);
        // w.MatMul(x) with w a Tensor and x an Expr: the form torch users write inside a function
        var g = Diff.Grad(x => w.MatMul(x).Tanh().Sum())(x0).Eval().ToArray();
        var z = w.MatMul(x0).ToArray();
        var wv = w.ToArray();
        var expected = new double[2];
        for (int j = 0; j < 2; j++)
            for (int i = 0; i < 3; i++) expected[j] += (1 - Math.Pow(Math.Tanh(z[i]), 2)) * wv[i * 2 + j];
        Close(expected, g, 1e-14, "grad");
        var step = Diff.Compile((Expr[] p) => [w.MatMul(p[0])]);
        Close(z, step.Invoke(x0)[0].ToArray(), 1e-15, "compiled");
        var e = Assert.ThrowsAny<ArgumentException>(() => w.MatMul((Expr)T([3])));
        Assert.Contains("MatMul", e.Message);
        Assert.Throws<ArgumentNullException>(() => w.MatMul((Expr)null!));
    }

    [Fact]
    public void TensorHasTheEagerSoftmaxAndShapeOpsOfExpr()
    {
        var logits = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { -1, 0, 4 } });
        var p = logits.Softmax(1);
        var lp = logits.LogSoftmax(1);
        for (int r = 0; r < 2; r++)
        {
            var row = logits.Row(r).ToArray();
            double z = row.Sum(Math.Exp);
            Close(row.Select(v => Math.Exp(v) / z).ToArray(), p.Row(r).ToArray(), 1e-15, "softmax");
            Close(row.Select(v => v - Math.Log(z)).ToArray(), lp.Row(r).ToArray(), 1e-15, "log-softmax");
        }
        Assert.Equal(DType.Float32, logits.Cast(DType.Float32).Softmax(0).DType);

        var t = Tensor.FromArray(Enumerable.Range(0, 6).Select(i => (double)i).ToArray(), 1, 2, 1, 3);
        Assert.Equal(new[] { 2, 3 }, t.Squeeze().Shape);
        Assert.Equal(new[] { 2, 1, 3 }, t.Squeeze(0).Shape);
        Assert.Equal(new[] { 1, 2, 1, 3 }, t.Squeeze(1).Shape);
        Assert.Equal(new[] { 1, 2, 1, 3, 1 }, t.Unsqueeze(-1).Shape);
        Assert.Equal(new[] { 6 }, t.Flatten().Shape);
        Assert.Equal(new[] { 1, 6 }, t.Flatten(1).Shape);
        Assert.Equal(t.ToArray(), t.Flatten().ToArray());
        Assert.Equal(new[] { 3.0, 4, 5 }, t.Squeeze().Row(1).ToArray());
        // the same shapes as Expr's
        Expr e = t;
        Assert.Equal(e.Unsqueeze(2).Shape, t.Unsqueeze(2).Shape);
        Assert.Equal(e.Flatten(0, 1).Shape, t.Flatten(0, 1).Shape);
        var error = Assert.ThrowsAny<ArgumentException>(() => t.Unsqueeze(9));
        Assert.Contains("Unsqueeze", error.Message);
        Assert.Contains("Softmax", Assert.ThrowsAny<ArgumentException>(() => logits.Softmax(2)).Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void TensorWhereTakesANumberForEitherBranch()
    {
        var t = Tensor.FromArray(new[] { -1.0, 2.0, -3.0 });
        Assert.Equal(new[] { 0.0, 2, 0 }, Tensor.Where(t > 0, t, 0.0).ToArray());
        Assert.Equal(new[] { -1.0, 9, -3 }, Tensor.Where(t > 0, 9.0, t).ToArray());
        Assert.Equal(DType.Float32, Tensor.Where(t > 0, t.Cast(DType.Float32), 0.0).DType);
    }

    [Fact]
    public void ConvolutionAndPoolingTakeOnePairAndLeaveTheOthersAtTorchsDefaults()
    {
        var x = T([1, 2, 5, 6], 3);
        var w = T([3, 2, 3, 2], 4);
        var b = T([3], 5);
        // padding=(1, 0) alone, as torch.nn.functional.conv2d(x, w, b, padding=(1, 0))
        var got = Nn.Conv2d(x, w, b, padding: (1, 0)).Eval();
        var spelled = Nn.Conv2d(x, w, b, stride: (1, 1), padding: (1, 0), dilation: (1, 1)).Eval();
        Assert.Equal(new[] { 1, 3, 5, 5 }, got.Shape);
        Close(spelled.ToArray(), got.ToArray(), 0, "padding only");
        // the same numbers as a loop over the definition
        var xv = x.ToArray(); var wv = w.ToArray(); var bv = b.ToArray();
        var expected = new double[3 * 5 * 5];
        for (int o = 0; o < 3; o++)
            for (int i = 0; i < 5; i++)
                for (int j = 0; j < 5; j++)
                {
                    double s = bv[o];
                    for (int c = 0; c < 2; c++)
                        for (int u = 0; u < 3; u++)
                            for (int v = 0; v < 2; v++)
                            {
                                int r = i + u - 1, q = j + v;
                                if (r >= 0 && r < 5) s += wv[((o * 2 + c) * 3 + u) * 2 + v] * xv[(c * 5 + r) * 6 + q];
                            }
                    expected[(o * 5 + i) * 5 + j] = s;
                }
        Close(expected, got.ToArray(), 1e-14, "loop");
        Assert.Equal(new[] { 1, 3, 2, 5 }, Nn.Conv2d(x, w, stride: (2, 1)).Shape);
        // the int forms keep working, bias included or left out
        Assert.Equal(new[] { 1, 3, 3, 5 }, Nn.Conv2d(x, w).Shape);
        Assert.Equal(new[] { 1, 3, 3, 5 }, Nn.Conv2d(x, w, b).Shape);
        Assert.Equal(new[] { 1, 3, 3, 4 }, Nn.Conv2d(x, w, b, 2, 1).Shape);

        // pooling: a kernel pair alone strides by the kernel, as torch's max_pool2d(x, (3, 2))
        var pooled = Nn.MaxPool2d(x, (3, 2)).Eval();
        Assert.Equal(new[] { 1, 2, 1, 3 }, pooled.Shape);
        for (int c = 0; c < 2; c++)
            for (int j = 0; j < 3; j++)
            {
                double m = double.NegativeInfinity;
                for (int u = 0; u < 3; u++) for (int v = 0; v < 2; v++) m = Math.Max(m, xv[(c * 5 + u) * 6 + 2 * j + v]);
                Assert.Equal(m, pooled[0, c, 0, j]);
            }
        Assert.Equal(new[] { 1, 2, 3, 5 }, Nn.MaxPool2d(x, (3, 2), stride: (1, 1)).Shape);
        var averaged = Nn.AvgPool2d(x, (1, 3)).Eval();
        Assert.Equal(new[] { 1, 2, 5, 2 }, averaged.Shape);
        Close((xv[0] + xv[1] + xv[2]) / 3, averaged[0, 0, 0, 0], 1e-15, "avg");
        Assert.Equal(new[] { 1, 2, 7, 3 }, Nn.AvgPool2d(x, (1, 2), padding: (0, 0), stride: (1, 2)).Pad([0, 0, 1, 0], [0, 0, 1, 0]).Shape);
        // transposed convolution: outputPadding alone
        var up = Nn.ConvTranspose2d(x, T([2, 3, 2, 2], 6), stride: (2, 2), outputPadding: (1, 0));
        Assert.Equal(new[] { 1, 3, 11, 12 }, up.Shape);
        Assert.Equal(new[] { 1, 3, 6, 7 }, Nn.ConvTranspose2d(x, T([2, 3, 2, 2], 6)).Shape);
    }
}

/// <summary>Diff.Compile of a one-result function, jax.jit's first use, and torch's eye and arange(n).</summary>
public class ClientTwoCompileTests
{
    [Fact]
    public void CompileTakesAFunctionWithOneResultOrOfOneExpr()
    {
        var x0 = Tensor.FromArray(new[] { 0.5, -1.25, 2.0 });
        // f(x) = sin(x) x, jax.jit(f)(x)
        var f = Diff.Compile(x => x.Sin() * x);
        var y = f.Invoke(x0);
        Assert.Single(y);
        TestSupport.Close(x0.ToArray().Select(v => Math.Sin(v) * v).ToArray(), y[0].ToArray(), 1e-15, "f");
        // its derivative compiled the same way: sin x + x cos x
        var df = Diff.Compile(Diff.Grad(x => (x.Sin() * x).Sum()));
        TestSupport.Close(x0.ToArray().Select(v => Math.Sin(v) + v * Math.Cos(v)).ToArray(), df.Invoke(x0)[0].ToArray(), 1e-15, "df");
        Assert.Equal(1, f.TraceCount);
        f.Invoke(x0);
        Assert.Equal(1, f.TraceCount);
        var e = Assert.ThrowsAny<ArgumentException>(() => f.Invoke(x0, x0));
        Assert.StartsWith("Invoke", e.Message);
        Assert.Contains("one input", e.Message);

        // a loss over several inputs with one result
        var xs = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, -1 }, { 0.5, 0 } });
        var ys = Tensor.FromArray(new double[,] { { 1 }, { 0 }, { 2 } });
        var loss = Diff.Compile((Expr[] p) => Loss.Mse(xs.MatMul(p[0]) + p[1], ys));
        var w = Tensor.FromArray(new[] { 0.25, -0.5 }, 2, 1);
        var b = Tensor.FromArray(new[] { 0.1 });
        double expected = 0;
        for (int i = 0; i < 3; i++)
        {
            double d = xs[i, 0] * 0.25 + xs[i, 1] * -0.5 + 0.1 - ys[i, 0];
            expected += d * d / 3;
        }
        var result = loss.Invoke(w, b);
        Assert.Single(result);
        TestSupport.Close(expected, result[0].ToScalar(), 1e-15, "loss");
        // the array-of-results form is unchanged
        var both = Diff.Compile((Expr[] p) => [p[0].Sum(), p[1].Sum()]);
        Assert.Equal(2, both.Invoke(w, b).Length);
        Assert.Throws<ArgumentNullException>(() => Diff.Compile((Func<Expr, Expr>)null!));
        Assert.Throws<ArgumentNullException>(() => Diff.Compile((Func<Expr[], Expr>)null!));
    }

    [Fact]
    public void EyeAndArangeOfOneNumberAreTorchs()
    {
        var i3 = Tensor.Eye(3);
        Assert.Equal(new[] { 3, 3 }, i3.Shape);
        Assert.Equal(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, i3.ToArray());
        var rect = Tensor.Eye(2, 3, DType.Float32);
        Assert.Equal(DType.Float32, rect.DType);
        Assert.Equal(new double[] { 1, 0, 0, 0, 1, 0 }, rect.ToArray());
        Assert.Empty(Tensor.Eye(0).ToArray());
        Assert.Contains("Eye", Assert.ThrowsAny<ArgumentException>(() => Tensor.Eye(-1)).Message);
        // A + 2I, the form linear-algebra code builds
        var a = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } });
        Assert.Equal(new double[] { 3, 2, 3, 6 }, (a + 2.0 * Tensor.Eye(2)).ToArray());
        Assert.Equal(new double[] { 0, 1, 2, 3, 4 }, Tensor.Arange(5).ToArray());
        Assert.Equal(new double[] { 2, 3, 4 }, Tensor.Arange(2, 5).ToArray());
        Assert.Empty(Tensor.Arange(5, 0).ToArray());
    }
}

/// <summary>torch.cat/stack's argument order and jax.vmap's in_axes for a function of one argument.</summary>
public class ClientTwoOrderTests
{
    [Fact]
    public void ConcatAndStackTakeThePartsFirstAsTorchDoes()
    {
        var a = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 } });
        var b = Tensor.FromArray(new double[,] { { 5, 6 }, { 7, 8 } });
        Assert.Equal(new double[] { 1, 2, 5, 6, 3, 4, 7, 8 }, Tensor.Concat([a, b], axis: 1).ToArray());
        Assert.Equal(new double[] { 1, 2, 3, 4, 5, 6, 7, 8 }, Tensor.Concat([a, b]).ToArray());
        Assert.Equal(new[] { 2, 2, 2 }, Tensor.Stack([a, b], 1).Shape);
        Assert.Equal(new double[] { 1, 2, 5, 6, 3, 4, 7, 8 }, Tensor.Stack([a, b], 1).ToArray());
        Expr x = a, y = b;
        Assert.Equal(Tensor.Concat(1, a, b).ToArray(), Expr.Concat([x, y], axis: 1).Eval().ToArray());
        Assert.Equal(Tensor.Stack(0, a, b).ToArray(), Expr.Stack([x, y]).Eval().ToArray());
        Assert.Equal(new[] { 2, 2, 2 }, Expr.Stack([x, y], 2).Shape);
        // the axis-first forms are unchanged
        Assert.Equal(new[] { 4, 2 }, Expr.Concat(0, x, y).Shape);
    }

    [Fact]
    public void VmapOfOneArgumentTakesItsInputAndOutputAxes()
    {
        // f(v) = softmax(v) over one column: batched over the columns (axis 1) of a matrix
        var m = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 0, -1, 4 } });
        var byColumn = Diff.Vmap(v => v.Softmax(0), inAxis: 1);
        var r = byColumn(m).Eval();
        Assert.Equal(new[] { 3, 2 }, r.Shape);   // examples first, as jax puts them
        for (int j = 0; j < 3; j++)
        {
            double e0 = Math.Exp(m[0, j]), e1 = Math.Exp(m[1, j]);
            TestSupport.Close(new[] { e0 / (e0 + e1), e1 / (e0 + e1) }, r.Row(j).ToArray(), 1e-15, $"column {j}");
        }
        var kept = Diff.Vmap(v => v.Softmax(0), inAxis: -1, outAxis: 1)(m).Eval();
        Assert.Equal(new[] { 2, 3 }, kept.Shape);
        TestSupport.Close(r.Transpose().ToArray(), kept.ToArray(), 0, "outAxis");
        Assert.ThrowsAny<ArgumentException>(() => Diff.Vmap(v => v.Sin(), inAxis: 2)(m));
    }
}

/// <summary>torch's nll_loss and binary_cross_entropy, and jax.grad of a parameter dictionary.</summary>
public class ClientTwoLossTests
{
    static readonly double[,] Logits = { { 1.0, -0.5, 2.0 }, { 0.25, 0.5, -1.0 }, { -2.0, 3.0, 0.0 } };
    static readonly int[] Targets = [2, 0, 1];

    static double LogSoftmax(int i, int c) =>
        Logits[i, c] - Math.Log(Enumerable.Range(0, 3).Sum(k => Math.Exp(Logits[i, k])));

    [Fact]
    public void NllLossOfLogSoftmaxIsTheNegativeLogLikelihoodAndCrossEntropy()
    {
        Expr logits = Tensor.FromArray(Logits);
        var perExample = Targets.Select((t, i) => -LogSoftmax(i, t)).ToArray();
        TestSupport.Close(perExample, Loss.NllLoss(logits.LogSoftmax(1), Targets, Reduction.None).Eval().ToArray(), 1e-15, "none");
        TestSupport.Close(perExample.Average(), Loss.NllLoss(logits.LogSoftmax(1), Targets).Eval().ToScalar(), 1e-15, "mean");
        TestSupport.Close(perExample.Sum(), Loss.NllLoss(logits.LogSoftmax(1), Targets, Reduction.Sum).Eval().ToScalar(), 1e-15, "sum");
        // targets as an Expr (a batch of labels), and unbatched under vmap
        var labels = Tensor.FromArray(Targets.Select(t => (double)t).ToArray());
        TestSupport.Close(perExample.Average(), Loss.NllLoss(logits.LogSoftmax(1), labels).Eval().ToScalar(), 1e-15, "expr");
        var vmapped = Diff.Vmap((Expr[] a) => Loss.NllLoss(a[0].LogSoftmax(0), a[1]), [0, 0])([logits, labels]).Eval();
        TestSupport.Close(perExample, vmapped.ToArray(), 1e-15, "vmap");
        // its gradient is cross-entropy's: softmax − one-hot, over N
        var g = Diff.Grad(x => Loss.NllLoss(x.LogSoftmax(1), Targets))(logits).Eval();
        var ce = Diff.Grad(x => Loss.CrossEntropy(x, Targets))(logits).Eval();
        TestSupport.Close(ce.ToArray(), g.ToArray(), 1e-15, "grad");
        for (int i = 0; i < 3; i++)
            for (int c = 0; c < 3; c++)
                TestSupport.Close((Math.Exp(LogSoftmax(i, c)) - (Targets[i] == c ? 1 : 0)) / 3, g[i, c], 1e-15, $"grad {i},{c}");
        Assert.Contains("NllLoss", Assert.ThrowsAny<ArgumentException>(() => Loss.NllLoss(logits, [0, 3, 1])).Message);
        Assert.Contains("NllLoss", Assert.ThrowsAny<ArgumentException>(() => Loss.NllLoss(logits, [0, 1])).Message);
        Assert.Equal(DType.Float32, Loss.NllLoss(logits.Cast(DType.Float32), labels).DType);
    }

    [Fact]
    public void BinaryCrossEntropyOfProbabilitiesIsTorchsWithItsClampedLogs()
    {
        var p = new[] { 0.1, 0.5, 0.8, 0.999 };
        var t = new[] { 0.0, 1.0, 0.7, 1.0 };
        var elements = p.Zip(t, (q, y) => -(y * Math.Log(q) + (1 - y) * Math.Log(1 - q))).ToArray();
        Expr probabilities = Tensor.FromArray(p), targets = Tensor.FromArray(t);
        TestSupport.Close(elements, Loss.BinaryCrossEntropy(probabilities, targets, Reduction.None).Eval().ToArray(), 1e-15, "none");
        TestSupport.Close(elements.Average(), Loss.BinaryCrossEntropy(probabilities, targets).Eval().ToScalar(), 1e-15, "mean");
        // the slope torch's backward gives: (p − t) / (p (1 − p)), over the count
        var g = Diff.Grad(x => Loss.BinaryCrossEntropy(x, targets))(probabilities).Eval().ToArray();
        TestSupport.Close(p.Zip(t, (q, y) => (q - y) / (q * (1 - q)) / 4).ToArray(), g, 1e-12, "grad");
        // through a sigmoid it is the logits' form
        Expr logits = Tensor.FromArray(new[] { -2.0, 0.0, 1.5, 4.0 });
        TestSupport.Close(Loss.BinaryCrossEntropyWithLogits(logits, targets).Eval().ToScalar(),
                          Loss.BinaryCrossEntropy(logits.Sigmoid(), targets).Eval().ToScalar(), 1e-15, "sigmoid");
        // p = 0 or 1 against the other label: torch's clamp gives 100, not infinity
        var ends = Loss.BinaryCrossEntropy(Tensor.FromArray(new[] { 0.0, 1.0 }), Tensor.FromArray(new[] { 1.0, 0.0 }), Reduction.None).Eval().ToArray();
        Assert.Equal(new[] { 100.0, 100.0 }, ends);
        Assert.Contains("BinaryCrossEntropy", Assert.ThrowsAny<ArgumentException>(() => Loss.BinaryCrossEntropy(probabilities, Tensor.Ones(4, 1))).Message);
    }

    [Fact]
    public void GradOfNamedParametersGivesTheGradientsByName()
    {
        var model = Parameters.Of(("w", Tensor.FromArray(new[] { 0.5, -1.0 })), ("b", Tensor.Scalar(0.25)));
        var x = Tensor.FromArray(new[] { 2.0, 3.0 });
        // f = (w·x + b)², so df/dw = 2 (w·x + b) x and df/db = 2 (w·x + b)
        var gradients = Diff.Grad(p => ((p["w"] * x).Sum() + p["b"]).Square(), model);
        double z = 0.5 * 2 - 3 + 0.25;
        Assert.Equal(new[] { "w", "b" }, gradients.Keys);
        TestSupport.Close(new[] { 2 * z * 2, 2 * z * 3 }, gradients["w"].Eval().ToArray(), 1e-15, "w");
        TestSupport.Close(2 * z, gradients["b"].Eval().ToScalar(), 1e-15, "b");
    }
}

/// <summary>The statistics a training loop computes on values (gradient norms, spreads) on Tensor as on Expr.</summary>
public class ClientTwoTensorStatisticsTests
{
    [Fact]
    public void TensorNormStdVarAndLogSumExpAreTheirDefinitions()
    {
        var m = Tensor.FromArray(new double[,] { { 3, -4, 0 }, { 1, 2, 2 } });
        var v = m.ToArray();
        TestSupport.Close(Math.Sqrt(v.Sum(x => x * x)), m.Norm().ToScalar(), 1e-15, "2-norm");
        TestSupport.Close(v.Sum(Math.Abs), m.Norm(1).ToScalar(), 1e-15, "1-norm");
        TestSupport.Close(4.0, m.Norm(double.PositiveInfinity).ToScalar(), 0, "inf-norm");
        TestSupport.Close(new[] { 5.0, 3.0 }, m.Norm(2, 1).ToArray(), 1e-15, "row norms");
        Assert.Equal(new[] { 2, 1 }, m.Norm(2, 1, keepDims: true).Shape);
        double mean = v.Average();
        double ss = v.Sum(x => (x - mean) * (x - mean));
        TestSupport.Close(ss / 5, m.Var().ToScalar(), 1e-15, "var");
        TestSupport.Close(Math.Sqrt(ss / 5), m.Std().ToScalar(), 1e-15, "std");
        // per column, biased
        var columnVar = Enumerable.Range(0, 3).Select(j => { double a = m[0, j], b = m[1, j], c = (a + b) / 2; return ((a - c) * (a - c) + (b - c) * (b - c)) / 2; }).ToArray();
        TestSupport.Close(columnVar, m.Var(0, correction: 0).ToArray(), 1e-15, "column var");
        TestSupport.Close(columnVar.Select(Math.Sqrt).ToArray(), m.Std(0, correction: 0).ToArray(), 1e-15, "column std");
        TestSupport.Close(Enumerable.Range(0, 2).Select(i => Math.Log(Enumerable.Range(0, 3).Sum(j => Math.Exp(m[i, j])))).ToArray(), m.LogSumExp(1).ToArray(), 1e-15, "logsumexp");
        Assert.Equal(new[] { 1, 3 }, m.LogSumExp(0, keepDims: true).Shape);
        Assert.Equal(DType.Float32, m.Cast(DType.Float32).Norm().DType);
        Assert.Contains("Norm", Assert.ThrowsAny<ArgumentException>(() => m.Norm(double.NaN)).Message);
    }
}

/// <summary>Hessian-vector products and Jacobians of a function of several inputs (a layer's W and b).</summary>
public class ClientTwoSeveralInputsTests
{
    static readonly Tensor X = Tensor.FromArray(new[] { 0.5, -1.0, 2.0 });

    // f(W, b) = Σ tanh(W x + b)², W [2, 3], b [2]
    static Expr F(Expr[] p) => (p[0].MatMul(X) + p[1]).Tanh().Square().Sum();

    [Fact]
    public void HvpOfSeveralInputsIsTheDifferenceOfGradientsAlongTheDirection()
    {
        var w = TestSupport.T([2, 3], 1);
        var b = TestSupport.T([2], 2);
        var vw = TestSupport.T([2, 3], 3);
        var vb = TestSupport.T([2], 4);
        var hv = Expr.EvalMany(Diff.Hvp(F, [w, b], [vw, vb]));
        var plus = Expr.EvalMany(Diff.Grad(F)([w + 1e-5 * vw, b + 1e-5 * vb]));
        var minus = Expr.EvalMany(Diff.Grad(F)([w - 1e-5 * vw, b - 1e-5 * vb]));
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(new[] { w, b }[i].Shape, hv[i].Shape);
            TestSupport.Close(plus[i].ToArray().Zip(minus[i].ToArray(), (p, m) => (p - m) / 2e-5).ToArray(), hv[i].ToArray(), 1e-7, $"input {i}");
        }
        // with one input it is the one-input Hvp
        TestSupport.Close(Diff.Hvp(v => F([v, b]), w, vw).Eval().ToArray(),
                          Diff.Hvp((Expr[] p) => F([p[0], b]), [w], [vw])[0].Eval().ToArray(), 1e-14, "one input");
        Assert.Contains("Hvp", Assert.ThrowsAny<ArgumentException>(() => Diff.Hvp(F, [w, b], [vw])).Message);
        Assert.Contains("Hvp", Assert.ThrowsAny<ArgumentException>(() => Diff.Hvp(F, [w, b], [vw, vw])).Message);
        Assert.Contains("Hvp", Assert.ThrowsAny<ArgumentException>(() => Diff.Hvp((Expr[] p) => p[0], [w, b], [vw, vb])).Message);
    }

    [Theory]
    [InlineData(JacobianMode.Auto)]
    [InlineData(JacobianMode.Forward)]
    [InlineData(JacobianMode.Reverse)]
    public void JacobianOfSeveralInputsGivesOneBlockPerInput(JacobianMode mode)
    {
        // g(a, B) = B a + a₀ [1, 1]: ∂/∂a = B + e₀ columns, ∂/∂B[i, k, l] = δᵢₖ aₗ
        var a = Tensor.FromArray(new[] { 0.5, -1.0, 2.0 });
        var bm = TestSupport.T([2, 3], 5);
        Expr G(Expr[] p) => p[1].MatMul(p[0]) + p[0].Slice(0, 0, 1);
        var j = Expr.EvalMany(Diff.Jacobian(G, mode)([a, bm]));
        Assert.Equal(new[] { 2, 3 }, j[0].Shape);
        Assert.Equal(new[] { 2, 2, 3 }, j[1].Shape);
        var expectedA = bm.ToArray().Select((v, k) => v + (k % 3 == 0 ? 1 : 0)).ToArray();
        TestSupport.Close(expectedA, j[0].ToArray(), 1e-15, "d/da");
        var expectedB = new double[12];
        for (int i = 0; i < 2; i++) for (int l = 0; l < 3; l++) expectedB[i * 6 + i * 3 + l] = a[l];
        TestSupport.Close(expectedB, j[1].ToArray(), 0, "d/dB");
        // the one-input forms still bind as before (x => x.Max() fits an array too)
        Assert.Equal(new[] { 3 }, Diff.Jacobian(x => x.Max())(a).Shape);
        Assert.Equal(new[] { 3 }, Diff.Jacobian(x => x.Max(), mode)(a).Shape);
    }
}
