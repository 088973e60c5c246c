using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>Finite differences and closeness checks shared by the facade tests.</summary>
public static class TestSupport
{
    /// <summary>
    /// Parameters flattened in the order of <paramref name="layout"/> (name and shape each), split back into one
    /// array per name: the form the ported models' references and their central differences take.
    /// </summary>
    public static Dictionary<string, double[]> Unflatten((string Name, int[] Shape)[] layout, double[] flat)
    {
        var result = new Dictionary<string, double[]>();
        int offset = 0;
        foreach (var (name, shape) in layout)
        {
            int n = shape.Aggregate(1, (a, b) => a * b);
            result[name] = flat[offset..(offset + n)];
            offset += n;
        }
        return result;
    }

    /// <summary>
    /// One step of torch.optim.Adam (β 0.9 and 0.999, ε 1e-8, no weight decay) over doubles, written out: the
    /// reference the ported training loops' optimizer is held to. <paramref name="k"/> counts steps from 1.
    /// </summary>
    public static void AdamStep(double[] p, double[] m, double[] v, double[] g, int k, double lr)
    {
        double correction1 = 1 - Math.Pow(0.9, k), correction2 = 1 - Math.Pow(0.999, k);
        for (int i = 0; i < p.Length; i++)
        {
            m[i] = 0.9 * m[i] + 0.1 * g[i];
            v[i] = 0.999 * v[i] + 0.001 * g[i] * g[i];
            p[i] -= lr / correction1 * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(correction2) + 1e-8);
        }
    }

    /// <summary>
    /// Runs <paramref name="steps"/> compiled training steps under <paramref name="adam"/> (plain torch.optim.Adam) and
    /// holds each to a reference over doubles: the loss to <paramref name="referenceLoss"/> at the reference's parameters,
    /// the gradient to its central differences, and the update to <see cref="AdamStep"/> fed the gradient just checked (an
    /// exactly zero entry stays zero there, where differences would leave rounding noise for Adam to amplify). The step
    /// must be traced once. Returns the losses.
    /// </summary>
    public static List<double> CheckAdamSteps(CompiledValueAndGrad step, Adam adam, (string Name, int[] Shape)[] layout,
        Func<double[], double> referenceLoss, Tensor[] data, int steps, double lossTolerance = 1e-12)
    {
        var p = Flatten(layout, adam.Parameters);
        double[] m = new double[p.Length], v = new double[p.Length];
        var losses = new List<double>();
        for (int k = 1; k <= steps; k++)
        {
            var (loss, gradients) = step.Invoke(adam.Parameters, data);
            losses.Add(loss.Item());
            Close(referenceLoss(p), loss.Item(), lossTolerance, $"loss {k}");
            var g = Flatten(layout, gradients);
            Close(Gradient(referenceLoss, p), g, 1e-7, $"gradient {k}");
            adam.Step(gradients);
            AdamStep(p, m, v, g, k, adam.LearningRate);
            Close(p, Flatten(layout, adam.Parameters), 1e-12, $"parameters after step {k}");
        }
        Assert.Equal(1, step.TraceCount);
        return losses;
    }

    /// <summary>
    /// Cross-entropy over doubles of the rows of <paramref name="logits"/> [rows, classes] that <paramref name="mask"/>
    /// keeps, averaged over them: torch's <c>F.cross_entropy(logits[mask], labels[mask])</c>, the reference of the ported
    /// graph networks' node classification.
    /// </summary>
    public static double MaskedCrossEntropy(double[] logits, int classes, int[] labels, bool[] mask)
    {
        double total = 0;
        int count = 0;
        for (int n = 0; n < labels.Length; n++)
        {
            if (!mask[n]) continue;
            var row = logits[(n * classes)..((n + 1) * classes)];
            double max = row.Max();
            total += max + Math.Log(row.Sum(v => Math.Exp(v - max))) - row[labels[n]];
            count++;
        }
        return total / count;
    }

    /// <summary>The named tensors' elements, one after another in the order of <paramref name="layout"/>.</summary>
    public static double[] Flatten((string Name, int[] Shape)[] layout, IReadOnlyDictionary<string, Tensor> p) =>
        layout.SelectMany(e => p[e.Name].ToDoubleArray()).ToArray();

    /// <summary>
    /// torch's nn.Linear over doubles, the reference the ported models are held to: y = x Wᵀ + b for
    /// <paramref name="rows"/> rows of <paramref name="inputs"/> values, W stored [outputs, inputs] row-major.
    /// <summary>The product of an [n, m] and an [m, p] row-major matrix, by the triple loop.</summary>
    public static double[] MatrixProduct(double[] a, double[] b, int n, int m, int p)
    {
        var c = new double[n * p];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < p; j++)
                for (int k = 0; k < m; k++)
                    c[i * p + j] += a[i * m + k] * b[k * p + j];
        return c;
    }

    /// </summary>
    public static double[] Linear(double[] input, int rows, int inputs, int outputs, double[] w, double[] b)
    {
        var y = new double[rows * outputs];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outputs; o++)
            {
                double s = b[o];
                for (int i = 0; i < inputs; i++) s += input[r * inputs + i] * w[o * inputs + i];
                y[r * outputs + o] = s;
            }
        return y;
    }

    /// <summary>
    /// torch's conv2d over doubles for one image [C, H, W] (weight [Co, C, kh, kw] row-major): <paramref name="top"/> and
    /// <paramref name="left"/> zeros before the image, as many after as the output size <paramref name="ho"/> ×
    /// <paramref name="wo"/> reads, dilations <paramref name="dh"/> and <paramref name="dw"/>, stride 1. The reference
    /// the convolution tests of the ported programs are held to.
    /// </summary>
    public static double[] Conv2d(double[] x, int c, int h, int wd, double[] w, int co, int kh, int kw, double[] b,
        int top, int left, int dh, int dw, int ho, int wo)
    {
        var y = new double[co * ho * wo];
        for (int o = 0; o < co; o++)
            for (int i = 0; i < ho; i++)
                for (int j = 0; j < wo; j++)
                {
                    double s = b[o];
                    for (int ci = 0; ci < c; ci++)
                        for (int u = 0; u < kh; u++)
                            for (int v = 0; v < kw; v++)
                            {
                                int r = i + u * dh - top, q = j + v * dw - left;
                                if (r >= 0 && r < h && q >= 0 && q < wd) s += w[((o * c + ci) * kh + u) * kw + v] * x[(ci * h + r) * wd + q];
                            }
                    y[(o * ho + i) * wo + j] = s;
                }
        return y;
    }

    /// <summary>
    /// Central differences of a scalar function of a flat float64 vector. The step 1e-6 balances
    /// truncation (h²|f'''|/6 ~ 1e-13) against rounding (1e-16|f|/h ~ 1e-10|f|).
    /// </summary>
    public static double[] Gradient(Func<double[], double> f, double[] x, double h = 1e-6)
    {
        var g = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            var plus = (double[])x.Clone();
            var minus = (double[])x.Clone();
            plus[i] += h;
            minus[i] -= h;
            g[i] = (f(plus) - f(minus)) / (2 * h);
        }
        return g;
    }

    /// <summary>Central differences of a vector function: row i is d f / d x_i (so the Jacobian transposed).</summary>
    public static double[][] Directional(Func<double[], double[]> f, double[] x, double h = 1e-6)
    {
        var rows = new double[x.Length][];
        for (int i = 0; i < x.Length; i++)
        {
            var plus = (double[])x.Clone();
            var minus = (double[])x.Clone();
            plus[i] += h;
            minus[i] -= h;
            var a = f(plus);
            var b = f(minus);
            rows[i] = a.Select((v, k) => (v - b[k]) / (2 * h)).ToArray();
        }
        return rows;
    }

    /// <summary>The value of f at a float64 tensor of the given shape holding <paramref name="x"/>.</summary>
    public static double Scalar(Func<Expr, Expr> f, int[] shape, double[] x) => f(Tensor.FromArray(x, shape)).Eval().ToScalar();

    /// <summary>Finite-difference gradient of a one-element Expr function at x.</summary>
    public static double[] NumericGradient(Func<Expr, Expr> f, Tensor x) =>
        Gradient(v => Scalar(f, x.Shape, v), x.ToDoubleArray());

    /// <summary>
    /// Asserts |actual − expected| ≤ tolerance·(1 + |expected|) elementwise. The default 1e-6 covers
    /// the ~1e-10 error of a first finite difference with room for large derivatives.
    /// </summary>
    public static void Close(double[] expected, double[] actual, double tolerance = 1e-6, string what = "")
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            // A non-finite value is compared exactly (NaN matches NaN): by the relative bound an infinite expected value
            // would accept any finite one (∞ ≤ tolerance·∞), and equal infinities would fail (∞ − ∞ is NaN).
            bool close = double.IsFinite(expected[i]) && double.IsFinite(actual[i])
                ? Math.Abs(actual[i] - expected[i]) <= tolerance * (1 + Math.Abs(expected[i]))
                : expected[i].Equals(actual[i]);
            Assert.True(close, $"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R} (tolerance {tolerance})");
        }
    }

    /// <summary>Asserts two scalars are close (see the array overload).</summary>
    public static void Close(double expected, double actual, double tolerance = 1e-6, string what = "") =>
        Close(new[] { expected }, new[] { actual }, tolerance, what);

    /// <summary>Fixed float64 test data: a deterministic spread of values in [-1.5, 1.5].</summary>
    public static double[] Values(int n, int salt = 0) =>
        Enumerable.Range(0, n).Select(i => 1.5 * Math.Sin(1.7 * i + 0.3 + salt)).ToArray();

    /// <summary>A float64 tensor of the shape holding <see cref="Values"/>.</summary>
    public static Tensor T(int[] shape, int salt = 0) => Tensor.FromArray(Values(shape.Aggregate(1, (a, b) => a * b), salt), shape);

    /// <summary>erf by its Maclaurin series (small |x|) or its continued fraction (large |x|), written in doubles: a reference independent of the library's Chebyshev kernels.</summary>
    public static double Erf(double x)
    {
        double a = Math.Abs(x);
        if (a < 2.5)
        {
            double term = a, sum = a;
            for (int n = 1; n < 200; n++) { term *= -a * a / n; sum += term / (2 * n + 1); }
            return Math.Sign(x) * sum * 2 / Math.Sqrt(Math.PI);
        }
        // erfc by the continued fraction, evaluated from the back
        double f = 0;
        for (int k = 120; k >= 1; k--) f = k / 2.0 / (a + f);
        double erfc = Math.Exp(-a * a) / Math.Sqrt(Math.PI) / (a + f);
        return Math.Sign(x) * (1 - erfc);
    }

    /// <summary>
    /// Diff.Vmap of <paramref name="objective"/> (a scalar of a 24-entry example) and of its gradient over a [batch, 24]
    /// input equal the objective and gradient of each example alone, bit for bit: the reference loop over the batch.
    /// </summary>
    public static void VmapMatchesTheLoop(Func<Expr, Expr> objective, double[] values, int batch)
    {
        var x = Tensor.FromArray(values, batch, 24);
        var mapped = Diff.Vmap(objective)(x).Eval().ToDoubleArray();
        var mappedGrad = Diff.Vmap(Diff.Grad(objective))(x).Eval().ToDoubleArray();
        for (int b = 0; b < batch; b++)
        {
            var example = Tensor.FromArray(values[(b * 24)..((b + 1) * 24)], 24);
            Assert.Equal(objective(example).Eval().ToScalar(), mapped[b]);
            Assert.Equal(Diff.Grad(objective)(example).Eval().ToDoubleArray(), mappedGrad[(b * 24)..((b + 1) * 24)]);
        }
    }
}
