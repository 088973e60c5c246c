using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// What a user coming from torch writes first and expects to work: class labels passed to a compiled
/// step as a batch, one-hot targets, comparisons with the number on the left, argmin, reductions over
/// several axes and optimizer steps from symbolic gradients. Each is checked against torch's definition
/// written out here on doubles, or against the spelling the library already had.
/// </summary>
public class ClientFrictionTests
{
    static readonly double[] LogitValues = [0.3, -1.2, 2.0, 0.5, 1.1, 0.0, -0.7, 3.0, -2.0, 0.4, 0.9, -0.1];
    static readonly int[] Labels = [2, 3, 0];

    /// <summary>torch: per example (1 − ε)·(−log p[y]) + (ε / C)·Σ_c (−log p[c]), log p a stable log-softmax.</summary>
    static double[] CrossEntropyReference(double[] logits, double[][] targetRows, double smoothing)
    {
        int c = targetRows[0].Length, n = targetRows.Length;
        var losses = new double[n];
        for (int i = 0; i < n; i++)
        {
            var row = logits.Skip(i * c).Take(c).ToArray();
            double max = row.Max(), logSum = Math.Log(row.Sum(v => Math.Exp(v - max))) + max;
            double loss = 0;
            // torch's soft-target form: −Σ_c ((1 − ε) t_c + ε / C) log p_c
            for (int k = 0; k < c; k++) loss -= ((1 - smoothing) * targetRows[i][k] + smoothing / c) * (row[k] - logSum);
            losses[i] = loss;
        }
        return losses;
    }

    static double[][] OneHotRows(int[] labels, int classes) =>
        labels.Select(y => Enumerable.Range(0, classes).Select(k => k == y ? 1.0 : 0.0).ToArray()).ToArray();

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.2)]
    public void CrossEntropyTakesLabelsAsAnExprInEitherOfTorchsForms(double smoothing)
    {
        var logits = Tensor.FromArray(LogitValues, 3, 4);
        var reference = CrossEntropyReference(LogitValues, OneHotRows(Labels, 4), smoothing);
        var indices = Tensor.FromArray(Labels.Select(y => (double)y).ToArray());
        var oneHot = Tensor.FromArray(OneHotRows(Labels, 4).SelectMany(r => r).ToArray(), 3, 4);
        foreach (var targets in new[] { indices, oneHot })
        {
            var none = Loss.CrossEntropy(logits, targets, Reduction.None, smoothing).Eval();
            Assert.Equal([3], none.Shape);
            TestSupport.Close(reference, none.ToDoubleArray(), 1e-14);
            Assert.Equal(reference.Sum(), Loss.CrossEntropy(logits, targets, Reduction.Sum, smoothing).Eval().ToScalar(), 13);
            Assert.Equal(reference.Average(), Loss.CrossEntropy(logits, targets, labelSmoothing: smoothing).Eval().ToScalar(), 13);
            Assert.True(Diff.CheckGrad(x => Loss.CrossEntropy(x, targets, Reduction.Sum, smoothing), logits).Passed);
        }
        if (smoothing == 0) Assert.Equal(reference.Average(), Loss.CrossEntropy(logits, indices).Eval().ToScalar(), 13);
    }

    [Fact]
    public void CrossEntropyWithSoftTargetsIsTorchsFormula()
    {
        double[][] soft = [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [0.7, 0.0, 0.3, 0.0]];
        var logits = Tensor.FromArray(LogitValues, 3, 4);
        var targets = Tensor.FromArray(soft.SelectMany(r => r).ToArray(), 3, 4);
        var reference = CrossEntropyReference(LogitValues, soft, 0.1);
        TestSupport.Close(reference, Loss.CrossEntropy(logits, targets, Reduction.None, 0.1).Eval().ToDoubleArray(), 1e-14);
    }

    [Fact]
    public void CompiledStepTakesEachBatchsLabelsAsAnInput()
    {
        // The labels change with the batch, so they must be an input of the plan, not a captured int[].
        var step = Diff.CompileValueAndGrad((p, batch) => Loss.CrossEntropy(batch[0].MatMul(p["w"]), batch[1]));
        var w = Tensor.FromArray([0.5, -0.2, 0.1, 0.3, -0.4, 0.2, 0.0, 0.6], 2, 4);
        var model = Parameters.Of(("w", w));
        double[] xValues = [1.0, 2.0, -0.5, 0.3, 0.7, -1.1];
        var x = Tensor.FromArray(xValues, 3, 2);
        foreach (var labels in new[] { Labels, new[] { 0, 0, 1 } })
        {
            var (loss, gradients) = step.Invoke(model, x, Tensor.FromArray(labels.Select(y => (double)y).ToArray()));
            double Reference(double[] wv)
            {
                var logits = new double[12];
                for (int i = 0; i < 3; i++)
                    for (int k = 0; k < 4; k++) logits[i * 4 + k] = xValues[i * 2] * wv[k] + xValues[i * 2 + 1] * wv[4 + k];
                return CrossEntropyReference(logits, OneHotRows(labels, 4), 0).Average();
            }
            Assert.Equal(Reference(w.ToDoubleArray()), loss.ToScalar(), 13);
            TestSupport.Close(TestSupport.Gradient(Reference, w.ToDoubleArray()), gradients["w"].ToDoubleArray());
        }
        Assert.Equal(1, step.TraceCount);
    }

    [Fact]
    public void CrossEntropyLabelsTakeTheLogitsDtypeAndBadShapesNameTheMethod()
    {
        var logits = Tensor.FromArray(LogitValues.Select(v => (float)v).ToArray(), 3, 4);
        Assert.Equal(DType.Float32, Loss.CrossEntropy(logits, Tensor.FromArray([2.0, 3.0, 0.0])).DType);
        var error = Assert.ThrowsAny<ArgumentException>(() => Loss.CrossEntropy(logits, Tensor.Zeros([3, 5])));
        Assert.StartsWith("CrossEntropy", error.Message);
        Assert.Contains("[3,5]", error.Message);
        Assert.ThrowsAny<ArgumentException>(() => Loss.CrossEntropy(logits, Tensor.Zeros([2])));
    }

    static readonly double[] Values = [1.0, double.NaN, -2.0, 3.0, -2.0, 0.5, 4.0, 4.0, -1.0, 0.0, -0.0, 2.0];

    /// <summary>torch.argmin along one axis of a [rows, columns] array: first smallest, a NaN wins.</summary>
    static double[] ArgMinReference(double[] a, int rows, int columns, int axis)
    {
        int outer = axis == 0 ? columns : rows, inner = axis == 0 ? rows : columns;
        var result = new double[outer];
        for (int o = 0; o < outer; o++)
        {
            int best = 0;
            for (int i = 0; i < inner; i++)
            {
                double v = axis == 0 ? a[i * columns + o] : a[o * columns + i];
                double b = axis == 0 ? a[best * columns + o] : a[o * columns + best];
                if (double.IsNaN(b)) break;
                if (double.IsNaN(v) || v < b) best = i;
            }
            result[o] = best;
        }
        return result;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void ArgMinIsTorchsOnTensorsAndExprsInBothDtypes(int axis)
    {
        int normalized = axis < 0 ? axis + 2 : axis;
        var reference = ArgMinReference(Values, 3, 4, normalized);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var t = Tensor.FromArray(Values, 3, 4).Cast(dtype);
            Assert.Equal(reference, t.ArgMin(axis).ToDoubleArray());
            Assert.Equal(reference, ((Expr)t).ArgMin(axis).Eval().ToDoubleArray());
            Assert.Equal(dtype, t.ArgMin(axis).DType);
            var kept = ((Expr)t).ArgMin(axis, keepDims: true);
            Assert.Equal(normalized == 0 ? [1, 4] : new[] { 3, 1 }, kept.Shape);
            Assert.Equal(reference, Diff.Compile(xs => [xs[0].ArgMin(axis)]).Invoke(t)[0].ToDoubleArray());
        }
        Assert.StartsWith("ArgMin", Assert.ThrowsAny<ArgumentException>(() => Tensor.Zeros([2, 0]).ArgMin(1)).Message);
        Assert.StartsWith("ArgMin", Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.Zeros([2, 0])).ArgMin(1)).Message);
        Assert.StartsWith("ArgMin", Assert.ThrowsAny<ArgumentException>(() => Tensor.Zeros([2, 3]).ArgMin(2)).Message);
    }

    [Fact]
    public void TensorComparesWithTheNumberOnEitherSide()
    {
        double[] a = [-1.0, 0.5, 2.0, double.NaN];
        var t = Tensor.FromArray(a);
        double Mask(bool b) => b ? 1 : 0;
        Assert.Equal(a.Select(v => Mask(0.5 < v)).ToArray(), (0.5 < t).ToDoubleArray());
        Assert.Equal(a.Select(v => Mask(0.5 > v)).ToArray(), (0.5 > t).ToDoubleArray());
        Assert.Equal(a.Select(v => Mask(0.5 <= v)).ToArray(), (0.5 <= t).ToDoubleArray());
        Assert.Equal(a.Select(v => Mask(0.5 >= v)).ToArray(), (0.5 >= t).ToDoubleArray());
        Assert.Equal(a.Select(v => Mask(v == 0.5)).ToArray(), t.Eq(0.5).ToDoubleArray());
        Assert.Equal(a.Select(v => Mask(v != 0.5)).ToArray(), t.Ne(0.5).ToDoubleArray());
        Assert.Equal(a.Select(v => Mask(double.IsNaN(v))).ToArray(), t.Ne(t).ToDoubleArray());
        var f = t.Cast(DType.Float32);
        Assert.Equal(DType.Float32, (1 < f).DType);
        Assert.Equal(DType.Float32, f.Ne(1).DType);
        Assert.StartsWith("Ne", Assert.ThrowsAny<ArgumentException>(() => t.Ne(Tensor.Zeros([3]))).Message);
    }

    [Fact]
    public void TensorReducesOverSeveralAxesAsExprDoes()
    {
        var t = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => Math.Sin(i) * (i + 1)).ToArray(), 2, 3, 4);
        double Reference(Func<IEnumerable<double>, double> reduce, int j) =>
            reduce(Enumerable.Range(0, 2).SelectMany(i => Enumerable.Range(0, 4).Select(k => t[i, j, k])));
        foreach (var keep in new[] { false, true })
        {
            Assert.Equal(keep ? [1, 3, 1] : new[] { 3 }, t.Max([0, -1], keep).Shape);
            Assert.Equal(Enumerable.Range(0, 3).Select(j => Reference(v => v.Max(), j)).ToArray(), t.Max([0, -1], keep).ToDoubleArray());
            Assert.Equal(Enumerable.Range(0, 3).Select(j => Reference(v => v.Min(), j)).ToArray(), t.Min([-1, 0], keep).ToDoubleArray());
            TestSupport.Close(Enumerable.Range(0, 3).Select(j => Reference(v => v.Aggregate(1.0, (p, x) => p * x), j)).ToArray(), t.Prod([0, 2], keep).ToDoubleArray(), 1e-14);
        }
        Assert.StartsWith("Max", Assert.ThrowsAny<ArgumentException>(() => t.Max([0, 0])).Message);
    }

    [Fact]
    public void OptimizerStepsWithSymbolicGradientsAsWithTheirValues()
    {
        var model = Parameters.Of(("w", Tensor.FromArray([0.5, -0.3, 0.8], 3, 1)), ("b", Tensor.FromArray([0.1])));
        var x = Tensor.FromArray([1.0, 2.0, -1.0, 0.5, 0.0, 3.0], 2, 3);
        var y = Tensor.FromArray([1.0, -1.0], 2, 1);
        Expr LossOf(IReadOnlyDictionary<string, Expr> p) => Loss.Mse(((Expr)x).MatMul(p["w"]) + p["b"], y);
        var symbolic = new Adam(model, lr: 0.1);
        var evaluated = new Adam(model, lr: 0.1);
        for (int i = 0; i < 5; i++)
        {
            symbolic.Step(Diff.ValueAndGrad(LossOf, symbolic.Parameters).Gradients);
            var gradients = Diff.ValueAndGrad(LossOf, evaluated.Parameters).Gradients;
            evaluated.Step(Parameters.Of(("b", gradients["b"].Eval()), ("w", gradients["w"].Eval())));
        }
        Assert.Equal(evaluated.Parameters["w"].ToDoubleArray(), symbolic.Parameters["w"].ToDoubleArray());
        Assert.Equal(evaluated.Parameters["b"].ToDoubleArray(), symbolic.Parameters["b"].ToDoubleArray());
        Assert.Equal(5, symbolic.StepCount);
        var stray = new Dictionary<string, Expr> { ["w"] = Tensor.Zeros([3, 1]), ["b"] = Tensor.Zeros([1]), ["z"] = Tensor.Zeros([1]) };
        Assert.StartsWith("Adam.Step", Assert.ThrowsAny<ArgumentException>(() => symbolic.Step(stray)).Message);
    }

    [Fact]
    public void IndexingAMatrixWithOneIndexPointsToRow()
    {
        var m = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        var error = Assert.ThrowsAny<ArgumentException>(() => m[1]);
        Assert.Contains("[2,3]", error.Message);
        Assert.Contains("Row(i)", error.Message);
        Assert.Equal([4.0, 5.0, 6.0], m.Row(1).ToDoubleArray());
    }

    [Fact]
    public void AUserFunctionReturningNullIsNamedByTheMethodItWasGivenTo()
    {
        var x = Tensor.FromArray([1.0, 2.0]);
        var rule = Diff.CustomVjp(v => v * v, (v, g) => null!);
        Assert.StartsWith("CustomVjp: the VJP rule", Assert.Throws<InvalidOperationException>(() => Diff.Grad(v => rule(v).Sum())(x)).Message);
        var forward = Diff.CustomVjp(v => null!, (v, g) => g);
        Assert.StartsWith("CustomVjp: the forward function", Assert.Throws<InvalidOperationException>(() => forward(x)).Message);
        // a null result is the function's failure, not its inputs': Invoke says so, with the function's own error inside
        var traced = Assert.Throws<InvalidOperationException>(() => Diff.Compile(xs => null!).Invoke(x));
        Assert.StartsWith("Invoke: tracing the function", traced.Message);
        Assert.Contains("Compile: the compiled function", traced.Message);
        Assert.StartsWith("Compile: the compiled function", Assert.IsType<InvalidOperationException>(traced.InnerException).Message);
    }

    [Fact]
    public void ACompiledStepCalledWithoutItsBatchSaysHowManyInputsItGot()
    {
        var step = Diff.CompileValueAndGrad((p, data) => (p["w"] * data[0]).Sum());
        var error = Assert.ThrowsAny<ArgumentException>(() => step.Invoke(Parameters.Of(("w", Tensor.FromArray([1.0, 2.0])))));
        Assert.StartsWith("Invoke", error.Message);
        // the batch is what is missing: the message counts data tensors and names data, not the parameters
        Assert.Contains("beyond the 0 data tensors given", error.Message);
        Assert.Equal("data", error.ParamName);
    }

    static readonly double[] Predictions = [0.5, -1.0, 2.0, 0.25, 3.0, -0.5];
    // no difference sits at a kink (0, 0.7 or 1), where central differences and CheckGrad see a corner
    static readonly double[] Goals = [1.0, 0.1, 0.2, 0.7, -1.0, -0.3];

    public static IEnumerable<object[]> RegressionLosses() => new (string, Func<Expr, Expr, Reduction, Expr>, Func<double, double>)[]
    {
        // torch's definitions of each element's loss, d = prediction − target
        ("L1", (p, t, r) => Loss.L1(p, t, r), d => Math.Abs(d)),
        ("Huber 1", (p, t, r) => Loss.Huber(p, t, reduction: r), d => Math.Abs(d) < 1 ? 0.5 * d * d : Math.Abs(d) - 0.5),
        ("Huber 0.7", (p, t, r) => Loss.Huber(p, t, 0.7, r), d => Math.Abs(d) < 0.7 ? 0.5 * d * d : 0.7 * (Math.Abs(d) - 0.35)),
        ("SmoothL1 1", (p, t, r) => Loss.SmoothL1(p, t, reduction: r), d => Math.Abs(d) < 1 ? 0.5 * d * d : Math.Abs(d) - 0.5),
        ("SmoothL1 0.7", (p, t, r) => Loss.SmoothL1(p, t, 0.7, r), d => Math.Abs(d) < 0.7 ? 0.5 * d * d / 0.7 : Math.Abs(d) - 0.35),
        ("SmoothL1 0", (p, t, r) => Loss.SmoothL1(p, t, 0, r), d => Math.Abs(d)),
    }.Select(c => new object[] { c.Item1, c.Item2, c.Item3 });

    [Theory]
    [MemberData(nameof(RegressionLosses))]
    public void RegressionLossesAreTorchsWithEveryReduction(string name, Func<Expr, Expr, Reduction, Expr> loss, Func<double, double> element)
    {
        var prediction = Tensor.FromArray(Predictions, 2, 3);
        var target = Tensor.FromArray(Goals, 2, 3);
        var reference = Predictions.Select((p, i) => element(p - Goals[i])).ToArray();
        var none = loss(prediction, target, Reduction.None).Eval();
        Assert.Equal([2, 3], none.Shape);
        TestSupport.Close(reference, none.ToDoubleArray(), 1e-15, name);
        Assert.Equal(reference.Sum(), loss(prediction, target, Reduction.Sum).Eval().ToScalar(), 14);
        Assert.Equal(reference.Average(), loss(prediction, target, Reduction.Mean).Eval().ToScalar(), 14);
        // no |d| sits at a kink, so central differences of the reference are the gradient
        var expected = TestSupport.Gradient(v => v.Select((p, i) => element(p - Goals[i])).Sum(), Predictions);
        var gradient = Diff.Grad(p => loss(p, target, Reduction.Sum))(prediction).Eval();
        TestSupport.Close(expected, gradient.ToDoubleArray(), 1e-6, name);
        Assert.True(Diff.CheckGrad(p => loss(p, target, Reduction.Mean), prediction).Passed, name);
        Assert.StartsWith(name.Split(' ')[0], Assert.ThrowsAny<ArgumentException>(() => loss(prediction, Tensor.Zeros([6]), Reduction.Mean)).Message);
    }

    [Fact]
    public void RegressionLossesRejectWidthsTorchRejects()
    {
        var x = Tensor.FromArray([1.0, 2.0]);
        Assert.ThrowsAny<ArgumentException>(() => Loss.Huber(x, x, 0));
        Assert.ThrowsAny<ArgumentException>(() => Loss.SmoothL1(x, x, -1));
        Assert.Equal(0.0, Diff.Grad(p => Loss.L1(p, x))(x).Eval().ToDoubleArray().Sum());
    }

    [Fact]
    public void LogSumExpKeepsDimsAndTakesSeveralAxes()
    {
        var t = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => Math.Cos(i) * 3).ToArray(), 2, 3, 4);
        double Lse(IEnumerable<double> v) { var a = v.ToArray(); double m = a.Max(); return m + Math.Log(a.Sum(z => Math.Exp(z - m))); }
        var overLast = Enumerable.Range(0, 6).Select(r => Lse(Enumerable.Range(0, 4).Select(k => t[r / 3, r % 3, k]))).ToArray();
        var kept = ((Expr)t).LogSumExp(-1, keepDims: true).Eval();
        Assert.Equal([2, 3, 1], kept.Shape);
        TestSupport.Close(overLast, kept.ToDoubleArray(), 1e-15);
        var overTwo = Enumerable.Range(0, 3).Select(j => Lse(Enumerable.Range(0, 8).Select(q => t[q / 4, j, q % 4]))).ToArray();
        TestSupport.Close(overTwo, ((Expr)t).LogSumExp([0, 2]).Eval().ToDoubleArray(), 1e-15);
        Assert.Equal([1, 3, 1], ((Expr)t).LogSumExp([0, -1], keepDims: true).Shape);
        Assert.True(Diff.CheckGrad(x => x.LogSumExp([0, 2]).Sum(), t).Passed);
    }

    [Fact]
    public void LogSumExpWithoutAnAxisReducesEveryElementAndItsGradientIsTheSoftmaxOfAll()
    {
        // entries up to 800: exp overflows, the reference shifts by the maximum first
        var data = Enumerable.Range(0, 6).Select(i => 160.0 * i - 3.0 * Math.Sin(i)).ToArray();
        var t = Tensor.FromArray(data, 2, 3);
        double m = data.Max();
        double lse = m + Math.Log(data.Sum(z => Math.Exp(z - m)));
        var value = ((Expr)t).LogSumExp().Eval();
        Assert.Empty(value.Shape);
        TestSupport.Close([lse], value.ToDoubleArray(), 1e-15);
        TestSupport.Close([lse], t.LogSumExp().ToDoubleArray(), 1e-15);
        // d lse / d x_i = exp(x_i - lse), the softmax over every entry
        var softmax = data.Select(z => Math.Exp(z - lse)).ToArray();
        TestSupport.Close(softmax, Diff.Grad(x => x.LogSumExp())(t).Eval().ToDoubleArray(), 1e-15);
    }

    [Theory]
    [InlineData(0.0, 1.0)]
    [InlineData(null, 0.5)]
    [InlineData(-1.0, null)]
    [InlineData(2.0, 1.0)]
    [InlineData(null, null)]
    public void TensorClampIsTorchsAndAgreesWithExprClamp(double? min, double? max)
    {
        double[] a = [double.NaN, -3.0, 0.5, 7.0, 1.0, double.NegativeInfinity];
        // torch.clamp: min(max(x, lo), hi), NaN propagating through both
        double Clamp(double v)
        {
            if (double.IsNaN(v)) return v;
            if (min is { } lo && v < lo) v = lo;
            if (max is { } hi && v > hi) v = hi;
            return v;
        }
        var expected = a.Select(Clamp).ToArray();
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var t = Tensor.FromArray(a).Cast(dtype);
            var clamped = t.Clamp(min, max);
            Assert.Equal(dtype, clamped.DType);
            Assert.Equal(expected, clamped.ToDoubleArray());
            Assert.Equal(((Expr)t).Clamp(min, max).Eval().ToDoubleArray(), clamped.ToDoubleArray());
        }
    }

    [Fact]
    public void TensorMaximumAndMinimumTakeANumberOnEitherSide()
    {
        double[] a = [double.NaN, -3.0, 0.5, 7.0];
        var t = Tensor.FromArray(a);
        double Max(double x, double y) => double.IsNaN(x) || double.IsNaN(y) ? double.NaN : Math.Max(x, y);
        double Min(double x, double y) => double.IsNaN(x) || double.IsNaN(y) ? double.NaN : Math.Min(x, y);
        Assert.Equal(a.Select(v => Max(v, 0.0)).ToArray(), Tensor.Maximum(t, 0.0).ToDoubleArray());
        Assert.Equal(a.Select(v => Max(0.0, v)).ToArray(), Tensor.Maximum(0.0, t).ToDoubleArray());
        Assert.Equal(a.Select(v => Min(v, 1.0)).ToArray(), Tensor.Minimum(t, 1.0).ToDoubleArray());
        Assert.Equal(a.Select(v => Min(1.0, v)).ToArray(), Tensor.Minimum(1.0, t).ToDoubleArray());
        Assert.Equal(DType.Float32, Tensor.Maximum(t.Cast(DType.Float32), 0.0).DType);
    }

    [Fact]
    public void CrossEntropyTakesTorchsUnbatchedFormAsVmapUsesIt()
    {
        var logits = Tensor.FromArray(LogitValues, 3, 4);
        var reference = CrossEntropyReference(LogitValues, OneHotRows(Labels, 4), 0);
        for (int i = 0; i < 3; i++)
        {
            var row = logits.Row(i);
            var byIndex = Loss.CrossEntropy(row, Tensor.Scalar(Labels[i]));
            Assert.Equal([], byIndex.Shape);
            Assert.Equal(reference[i], byIndex.Eval().ToScalar(), 14);
            Assert.Equal(reference[i], Loss.CrossEntropy(row, Tensor.FromArray(OneHotRows(Labels, 4)[i])).Eval().ToScalar(), 14);
        }
        // per-example losses of a batch by vmap over the unbatched form
        var labels = Tensor.FromArray(Labels.Select(y => (double)y).ToArray());
        var perExample = Diff.Vmap(a => Loss.CrossEntropy(a[0], a[1]), inAxes: new int?[] { 0, 0 })([logits, labels]).Eval();
        TestSupport.Close(reference, perExample.ToDoubleArray(), 1e-14);
        Assert.StartsWith("CrossEntropy", Assert.ThrowsAny<ArgumentException>(() => Loss.CrossEntropy(logits.Row(0), Tensor.Zeros([3]))).Message);
    }

    [Fact]
    public void ArgMaxAndArgMinWithoutAnAxisGiveTheFlatIndex()
    {
        // the first largest and first smallest in row-major order, NaN counting as both, as torch
        int FirstBy(double[] a, Func<double, double, bool> better)
        {
            int best = 0;
            for (int i = 1; i < a.Length && !double.IsNaN(a[best]); i++)
                if (double.IsNaN(a[i]) || better(a[i], a[best])) best = i;
            return best;
        }
        double[] plain = [1.0, 4.0, -2.0, 4.0, -2.0, 0.0];
        foreach (var values in new[] { plain, Values })
        {
            var t = Tensor.FromArray(values, 2, values.Length / 2);
            double max = FirstBy(values, (u, v) => u > v), min = FirstBy(values, (u, v) => u < v);
            Assert.Equal(max, t.ArgMax().ToScalar());
            Assert.Equal(min, t.ArgMin().ToScalar());
            Assert.Equal(max, ((Expr)t).ArgMax().Eval().ToScalar());
            Assert.Equal(min, ((Expr)t).ArgMin().Eval().ToScalar());
            Assert.Equal([], ((Expr)t).ArgMax().Shape);
        }
        Assert.StartsWith("ArgMin", Assert.ThrowsAny<ArgumentException>(() => Tensor.Zeros([0, 2]).ArgMin()).Message);
        Assert.StartsWith("ArgMax", Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.Zeros([0])).ArgMax()).Message);
    }

    [Fact]
    public void FromArrayTakesThreeDimensionalArraysRowMajor()
    {
        var data = new double[2, 3, 4];
        var single = new float[2, 3, 4];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++) { data[i, j, k] = 100 * i + 10 * j + k; single[i, j, k] = 100 * i + 10 * j + k; }
        foreach (var t in new[] { Tensor.FromArray(data), Tensor.FromArray(single) })
        {
            Assert.Equal([2, 3, 4], t.Shape);
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 3; j++)
                    for (int k = 0; k < 4; k++) Assert.Equal(data[i, j, k], t[i, j, k]);
        }
        Assert.Equal(DType.Float32, Tensor.FromArray(single).DType);
        Assert.Equal([0, 3, 4], Tensor.FromArray(new double[0, 3, 4]).Shape);
    }

    [Fact]
    public void ACompiledLossNamesTheParameterOrTheDataWhoseShapeDoesNotFit()
    {
        var step = Diff.CompileValueAndGrad((p, d) => (d[0].MatMul(p["w"]) + p["b"]).Sum());
        var model = Parameters.Of(("w", Tensor.Ones([3, 2])), ("b", Tensor.Ones([2])));
        Assert.Equal(4 * 2 * 4.0, step.Invoke(model, Tensor.Ones([4, 3])).Loss.ToScalar());
        var data = Assert.ThrowsAny<ArgumentException>(() => step.Invoke(model, Tensor.Ones([4, 5])));
        Assert.Equal("data", data.ParamName);
        Assert.Contains("data[0] is float64[4,5] where the traced signature has float64[4,3]", data.Message);
        var parameter = Assert.ThrowsAny<ArgumentException>(() => step.Invoke(model.With("w", Tensor.Ones([4, 2])), Tensor.Ones([4, 3])));
        Assert.Equal("parameters", parameter.ParamName);
        Assert.Contains("parameter 'w' is float64[4,2] where the traced signature has float64[3,2]", parameter.Message);
        Assert.DoesNotContain("inputs[", parameter.Message);
    }

    [Fact]
    public void ExprRowIsTensorRowAndItsGradientFillsThatRow()
    {
        var t = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => Math.Sin(i)).ToArray(), 4, 2, 3);
        foreach (var i in new[] { 0, 2, -1 })
        {
            var row = ((Expr)t).Row(i);
            Assert.Equal([2, 3], row.Shape);
            Assert.Equal(t.Row(i).ToDoubleArray(), row.Eval().ToDoubleArray());
            // d/dt Σ Row(i)² is 2t in row i and 0 elsewhere
            int k = i < 0 ? i + 4 : i;
            var expected = t.ToDoubleArray().Select((v, q) => q / 6 == k ? 2 * v : 0.0).ToArray();
            Assert.Equal(expected, Diff.Grad(x => x.Row(i).Square().Sum())(t).Eval().ToDoubleArray());
        }
        Assert.StartsWith("Row", Assert.ThrowsAny<ArgumentException>(() => ((Expr)t).Row(4)).Message);
        Assert.StartsWith("Row", Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.Scalar(1)).Row(0)).Message);
    }
}
