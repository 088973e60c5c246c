using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Programs a PyTorch/JAX user writes first (a small CNN, a recurrence in a Scan, per-example
/// gradients, the higher-order transforms), each checked against an independent reference:
/// central differences in float64, a closed form, or the same computation as a loop in the test.
/// </summary>
public class ClientTwoModelTests
{
    // ---------- 1. A small CNN: conv, relu, max pool, flatten, linear, softmax cross-entropy ----------

    static readonly int[] Labels = { 2, 0 };

    static Expr CnnLoss(Expr[] p, Expr images)
    {
        var h = Nn.MaxPool2d(Nn.Conv2d(images, p[0], p[1], padding: 1).Relu(), 2);   // [2,3,6,6] -> [2,3,3,3]
        var logits = Nn.Linear(h.Flatten(1), p[2], p[3]);                              // [2,4]
        return Loss.CrossEntropy(logits, Labels);
    }

    static Tensor[] CnnParameters() =>
    [
        T([3, 1, 3, 3], 1), T([3], 2) * 0.1, T([4, 27], 3) * 0.3, T([4], 4) * 0.1,
    ];

    static Tensor CnnImages() => T([2, 1, 6, 6], 5);

    /// <summary>The same network with loops over doubles: conv (padding 1), relu, 2×2 max pool, linear, cross-entropy.</summary>
    static double CnnLossByLoops(double[][] p, double[] img, int[]? labels = null)
    {
        double total = 0;
        for (int n = 0; n < 2; n++)
        {
            var conv = new double[3, 6, 6];
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < 6; i++)
                    for (int j = 0; j < 6; j++)
                    {
                        double s = p[1][c];
                        for (int a = 0; a < 3; a++)
                            for (int b = 0; b < 3; b++)
                            {
                                int y = i + a - 1, x = j + b - 1;
                                if (y >= 0 && y < 6 && x >= 0 && x < 6) s += p[0][c * 9 + a * 3 + b] * img[n * 36 + y * 6 + x];
                            }
                        conv[c, i, j] = Math.Max(s, 0);
                    }
            var flat = new double[27];
            for (int c = 0; c < 3; c++)
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 3; j++)
                        flat[c * 9 + i * 3 + j] = Math.Max(Math.Max(conv[c, 2 * i, 2 * j], conv[c, 2 * i, 2 * j + 1]),
                                                           Math.Max(conv[c, 2 * i + 1, 2 * j], conv[c, 2 * i + 1, 2 * j + 1]));
            var logits = new double[4];
            for (int k = 0; k < 4; k++)
            {
                logits[k] = p[3][k];
                for (int m = 0; m < 27; m++) logits[k] += p[2][k * 27 + m] * flat[m];
            }
            double max = logits.Max();
            double lse = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
            total += lse - logits[(labels ?? Labels)[n]];
        }
        return total / 2;
    }

    [Fact]
    public void CnnLossAndGradientsMatchLoopsAndCentralDifferences()
    {
        var parameters = CnnParameters();
        var images = CnnImages();
        var flat = parameters.Select(t => t.ToDoubleArray()).ToArray();

        var (loss, gradients) = Diff.ValueAndGrad((Expr[] p) => CnnLoss(p, images), parameters.Select(t => (Expr)t).ToArray());
        var values = Expr.EvalMany([loss, .. gradients]);
        Close(CnnLossByLoops(flat, images.ToDoubleArray()), values[0].ToScalar(), 1e-12, "loss");

        for (int k = 0; k < parameters.Length; k++)
        {
            int which = k;
            var numeric = Gradient(v =>
            {
                var copy = (double[][])flat.Clone();
                copy[which] = v;
                return CnnLossByLoops(copy, images.ToDoubleArray());
            }, flat[k]);
            Assert.Equal(parameters[k].Shape, values[k + 1].Shape);
            Close(numeric, values[k + 1].ToDoubleArray(), 1e-6, $"dLoss/dp{k}");
        }
    }

    [Fact]
    public void CompiledCnnTrainedWithSgdMovesEachParameterAgainstItsGradient()
    {
        var images = CnnImages();
        var model = Parameters.Of(
            ("conv.w", CnnParameters()[0]), ("conv.b", CnnParameters()[1]),
            ("fc.w", CnnParameters()[2]), ("fc.b", CnnParameters()[3]));
        var step = Diff.CompileValueAndGrad((p, batch) => CnnLoss([p["conv.w"], p["conv.b"], p["fc.w"], p["fc.b"]], batch[0]));
        const double lr = 0.1;
        var sgd = new Sgd(model, lr: lr);
        var losses = new List<double>();
        for (int i = 0; i < 15; i++)
        {
            var before = sgd.Parameters;
            var (loss, gradients) = step.Invoke(before, images);
            // each compiled step's loss and gradient are those of the loops at the current parameters
            var flat = before.Names.Select(n => before[n].ToDoubleArray()).ToArray();
            Close(CnnLossByLoops(flat, images.ToDoubleArray()), loss.ToScalar(), 1e-12, "loss");
            if (i == 0)
            {
                var numeric = Gradient(v =>
                {
                    var copy = (double[][])flat.Clone();
                    copy[2] = v;
                    return CnnLossByLoops(copy, images.ToDoubleArray());
                }, flat[2]);
                Close(numeric, gradients["fc.w"].ToDoubleArray(), 1e-6, "fc.w");
            }
            sgd.Step(gradients);
            foreach (var name in before.Names)
                Close(before[name].ToDoubleArray().Zip(gradients[name].ToDoubleArray(), (w, g) => w - lr * g).ToArray(),
                      sgd.Parameters[name].ToDoubleArray(), 1e-15, name);
            losses.Add(loss.ToScalar());
        }
        Assert.Equal(1, step.TraceCount);
        Assert.True(losses[^1] < 0.5 * losses[0], $"loss {losses[0]} -> {losses[^1]}");
    }

    [Fact]
    public void CnnInFloat32GivesTheFloat64NumbersToSinglePrecision()
    {
        var parameters = CnnParameters();
        var images = CnnImages();
        var grad64 = Diff.Grad((Expr[] p) => CnnLoss(p, images))(parameters.Select(t => (Expr)t).ToArray());
        var grad32 = Diff.Grad((Expr[] p) => CnnLoss(p, images.Cast(DType.Float32)))(parameters.Select(t => (Expr)t.Cast(DType.Float32)).ToArray());
        var v64 = Expr.EvalMany(grad64);
        var v32 = Expr.EvalMany(grad32);
        for (int k = 0; k < v64.Length; k++)
        {
            Assert.Equal(DType.Float32, v32[k].DType);
            Close(v64[k].ToDoubleArray(), v32[k].ToDoubleArray(), 1e-4, $"p{k}");
        }
    }

    // ---------- 2. An LSTM in a Scan vs the same cell unrolled, and vs central differences ----------

    const int Hidden = 3, Features = 2, Steps = 5;

    static (Expr H, Expr C) LstmCell(Expr[] p, Expr h, Expr c, Expr x)
    {
        var gates = p[0].MatMul(x) + p[1].MatMul(h) + p[2];
        Expr Gate(int k) => gates.Slice(0, k * Hidden, (k + 1) * Hidden);
        var cNew = Gate(1).Sigmoid() * c + Gate(0).Sigmoid() * Gate(2).Tanh();
        return (Gate(3).Sigmoid() * cNew.Tanh(), cNew);
    }

    static Expr LstmScanLoss(Expr[] p, Expr xs)
    {
        var zero = Tensor.Zeros([Hidden]);
        var (carry, ys) = Expr.Scan((carry, x) =>
        {
            var (h, c) = LstmCell(p, carry[0], carry[1], x[0]);
            return ([h, c], [p[3].MatMul(h)]);
        }, [zero, zero], [xs]);
        return ys[0].Square().Sum() + carry[1].Sum();
    }

    static Expr LstmUnrolledLoss(Expr[] p, Expr xs)
    {
        Expr h = Tensor.Zeros([Hidden]), c = Tensor.Zeros([Hidden]);
        Expr total = 0.0;
        for (int t = 0; t < Steps; t++)
        {
            (h, c) = LstmCell(p, h, c, xs.Row(t));
            total = total + p[3].MatMul(h).Square().Sum();
        }
        return total + c.Sum();
    }

    static Tensor[] LstmParameters() =>
        [T([4 * Hidden, Features], 11), T([4 * Hidden, Hidden], 12), T([4 * Hidden], 13) * 0.1, T([2, Hidden], 14)];

    [Fact]
    public void LstmScanGradientEqualsTheUnrolledLoopAndCentralDifferences()
    {
        var parameters = LstmParameters();
        var xs = T([Steps, Features], 15);
        Expr[] p = parameters.Select(t => (Expr)t).ToArray();

        var (scanLoss, scanGrads) = Diff.ValueAndGrad((Expr[] q) => LstmScanLoss(q, xs), p);
        var (loopLoss, loopGrads) = Diff.ValueAndGrad((Expr[] q) => LstmUnrolledLoss(q, xs), p);
        var scan = Expr.EvalMany([scanLoss, .. scanGrads]);
        var loop = Expr.EvalMany([loopLoss, .. loopGrads]);
        Close(loop[0].ToScalar(), scan[0].ToScalar(), 1e-13, "loss");
        for (int k = 1; k < scan.Length; k++) Close(loop[k].ToDoubleArray(), scan[k].ToDoubleArray(), 1e-12, $"p{k - 1}");

        // the gradient in the inputs xs as well, and every one against central differences
        var dxs = Diff.Grad((Expr x) => LstmScanLoss(p, x))(xs).Eval();
        Close(Gradient(v => LstmScanLoss(p, Tensor.FromArray(v, Steps, Features)).Eval().ToScalar(), xs.ToDoubleArray()),
              dxs.ToDoubleArray(), 1e-6, "dxs");
        for (int k = 0; k < p.Length; k++)
        {
            int which = k;
            var numeric = Gradient(v =>
            {
                var q = (Expr[])p.Clone();
                q[which] = Tensor.FromArray(v, parameters[which].Shape);
                return LstmScanLoss(q, xs).Eval().ToScalar();
            }, parameters[k].ToDoubleArray());
            Close(numeric, scan[k + 1].ToDoubleArray(), 1e-6, $"numeric p{k}");
        }
    }

    [Fact]
    public void CompiledLstmScanHvpEqualsTheUnrolledLoop()
    {
        var parameters = LstmParameters();
        var xs = T([Steps, Features], 16);
        var direction = T([4 * Hidden, Hidden], 17);
        Expr[] p = parameters.Select(t => (Expr)t).ToArray();
        Expr Scanned(Expr wh) => LstmScanLoss([p[0], wh, p[2], p[3]], xs);
        Expr Unrolled(Expr wh) => LstmUnrolledLoss([p[0], wh, p[2], p[3]], xs);
        var compiled = Diff.Compile((Expr[] a) => [Diff.Hvp(Scanned, a[0], a[1])]);
        var hv = compiled.Invoke(parameters[1], direction)[0];
        var expected = Diff.Hvp(Unrolled, parameters[1], direction).Eval();
        Close(expected.ToDoubleArray(), hv.ToDoubleArray(), 1e-11, "hvp");
        // and the Hvp against central differences of the gradient along the direction
        var plus = Diff.Grad(Unrolled)(parameters[1] + 1e-6 * direction).Eval().ToDoubleArray();
        var minus = Diff.Grad(Unrolled)(parameters[1] - 1e-6 * direction).Eval().ToDoubleArray();
        Close(plus.Zip(minus, (a, b) => (a - b) / 2e-6).ToArray(), hv.ToDoubleArray(), 1e-5, "fd hvp");
    }

    // ---------- 3. Per-example gradients: vmap of grad, vs a loop over the examples ----------

    [Fact]
    public void PerExampleGradientsOfAConvNetEqualALoopOverExamples()
    {
        var parameters = CnnParameters();
        var images = T([3, 1, 6, 6], 21);
        var labels = Tensor.FromArray(new[] { 1.0, 3.0, 0.0 });
        // one example: [1, 6, 6] image and a rank-0 label, torch.func's idiom
        Expr One(Expr[] p, Expr image, Expr label)
        {
            var h = Nn.MaxPool2d(Nn.Conv2d(image, p[0], p[1], padding: 1).Relu(), 2);
            return Loss.CrossEntropy(Nn.Linear(h.Flatten(), p[2], p[3]), label);
        }
        var perExample = Diff.Vmap(
            args => Diff.Grad((Expr[] q) => One(q, args[4], args[5]))(args[..4]),
            inAxes: [null, null, null, null, 0, 0]);
        var batched = Expr.EvalMany(perExample([.. parameters.Select(t => (Expr)t), images, labels]));

        for (int n = 0; n < 3; n++)
        {
            var image = images.Row(n);
            var label = labels.Row(n);
            var single = Expr.EvalMany(Diff.Grad((Expr[] q) => One(q, image, label))(parameters.Select(t => (Expr)t).ToArray()));
            for (int k = 0; k < 4; k++)
            {
                Assert.Equal(new[] { 3 }.Concat(parameters[k].Shape), batched[k].Shape);
                Close(single[k].ToDoubleArray(), batched[k].Row(n).ToDoubleArray(), 1e-12, $"example {n} p{k}");
            }
        }
        // and the loop's numbers against central differences for one parameter and example
        var img0 = images.Row(0).ToDoubleArray();
        var numeric = Gradient(v =>
        {
            var ps = parameters.Select(t => t.ToDoubleArray()).ToArray();
            ps[2] = v;
            return CnnLossByLoopsOne(ps, img0, 1);
        }, parameters[2].ToDoubleArray());
        Close(numeric, batched[2].Row(0).ToDoubleArray(), 1e-6, "fd");
    }

    static double CnnLossByLoopsOne(double[][] p, double[] image, int label)
    {
        // the batch-of-two loop with both examples equal to this one and both labels this label
        return CnnLossByLoops(p, image.Concat(image).ToArray(), [label, label]);
    }

    [Fact]
    public void PerExampleGradientsOfAnMlpCompiledEqualALoop()
    {
        var w = T([4, 3], 31);
        var b = T([4], 32);
        var xs = T([5, 3], 33);
        var ys = T([5, 4], 34);
        Expr One(Expr w1, Expr b1, Expr x, Expr y) => ((w1.MatMul(x) + b1).Tanh() - y).Square().Sum();
        var compiled = Diff.Compile((Expr[] a) => Diff.Vmap(
            args => Diff.Grad((Expr[] q) => One(q[0], q[1], args[2], args[3]))(args[..2]),
            inAxes: [null, null, 0, 0])(a));
        var outs = compiled.Invoke(w, b, xs, ys);
        for (int n = 0; n < 5; n++)
        {
            // closed form: dL/dw = (2 (a − y) (1 − a²)) xᵀ, dL/db = 2 (a − y) (1 − a²)
            var x = xs.Row(n).ToDoubleArray();
            var y = ys.Row(n).ToDoubleArray();
            var wv = w.ToDoubleArray();
            var bv = b.ToDoubleArray();
            var delta = new double[4];
            for (int i = 0; i < 4; i++)
            {
                double z = bv[i];
                for (int j = 0; j < 3; j++) z += wv[i * 3 + j] * x[j];
                double a = Math.Tanh(z);
                delta[i] = 2 * (a - y[i]) * (1 - a * a);
            }
            Close(delta, outs[1].Row(n).ToDoubleArray(), 1e-13, $"db {n}");
            Close(Enumerable.Range(0, 12).Select(k => delta[k / 3] * x[k % 3]).ToArray(), outs[0].Row(n).ToDoubleArray(), 1e-13, $"dw {n}");
        }
    }

    [Fact]
    public void PerExampleGradientsOfAGruInAScanEqualALoopAndCentralDifferences()
    {
        var wz = T([3, 2], 81); var uz = T([3, 3], 82); var wh = T([3, 2], 83); var uh = T([3, 3], 84);
        Expr Gru(Expr[] p, Expr xs)
        {
            var (h, hs) = Expr.Scan((h, x) =>
            {
                var z = (p[0].MatMul(x) + p[1].MatMul(h)).Sigmoid();
                var candidate = (p[2].MatMul(x) + p[3].MatMul(h * z)).Tanh();
                var next = (1.0 - z) * h + z * candidate;
                return (next, next);
            }, Tensor.Zeros(3), xs);
            return hs.Square().Sum() + h.Sum();
        }
        var batch = T([4, 5, 2], 85);   // 4 sequences of 5 steps
        var perExample = Diff.Vmap(a => Diff.Grad((Expr[] q) => Gru(q, a[4]))(a[..4]), inAxes: [null, null, null, null, 0]);
        var batched = Expr.EvalMany(perExample([wz, uz, wh, uh, batch]));
        for (int n = 0; n < 4; n++)
        {
            var single = Expr.EvalMany(Diff.Grad((Expr[] q) => Gru(q, batch.Row(n)))([wz, uz, wh, uh]));
            for (int k = 0; k < 4; k++) Close(single[k].ToDoubleArray(), batched[k].Row(n).ToDoubleArray(), 1e-12, $"sequence {n} p{k}");
        }
        Close(Gradient(v => Gru([wz, Tensor.FromArray(v, 3, 3), wh, uh], batch.Row(0)).Eval().ToScalar(), uz.ToDoubleArray()),
              batched[1].Row(0).ToDoubleArray(), 1e-6, "fd");
    }

    // ---------- 4. Hessian, Jacobian (both modes), Hvp, Jvp over several inputs, Linearize ----------

    // f(x) = [sin(x0) x1, x0² + exp(x1), x0 x1 x2]
    static Expr Vector3(Expr x)
    {
        var (a, b, c) = (x.Slice(0, 0, 1), x.Slice(0, 1, 2), x.Slice(0, 2, 3));
        return Expr.Concat(0, a.Sin() * b, a.Square() + b.Exp(), a * b * c);
    }

    static double[] Vector3Jacobian(double[] x) =>
    [
        Math.Cos(x[0]) * x[1], Math.Sin(x[0]), 0,
        2 * x[0], Math.Exp(x[1]), 0,
        x[1] * x[2], x[0] * x[2], x[0] * x[1],
    ];

    [Theory]
    [InlineData(null)]
    [InlineData(JacobianMode.Forward)]
    [InlineData(JacobianMode.Reverse)]
    public void JacobianInEveryModeIsTheClosedForm(JacobianMode? mode)
    {
        var x = new[] { 0.3, -0.7, 1.1 };
        var jacobian = mode is { } m ? Diff.Jacobian(Vector3, m) : Diff.Jacobian(Vector3);
        var j = jacobian(Tensor.FromArray(x)).Eval();
        Assert.Equal(new[] { 3, 3 }, j.Shape);
        Close(Vector3Jacobian(x), j.ToDoubleArray(), 1e-14, "J");
        // chunked the same
        var chunked = Diff.Jacobian(Vector3, 2)(Tensor.FromArray(x)).Eval();
        Close(Vector3Jacobian(x), chunked.ToDoubleArray(), 1e-14, "chunked J");
    }

    [Fact]
    public void JacobianOfAMatrixFunctionHasOutputThenInputAxes()
    {
        // f(W) = W x for W [2,3]: J[i, k, l] = δ_ik x_l
        var x = new[] { 0.5, -1.0, 2.0 };
        var w = T([2, 3], 41);
        foreach (var mode in new[] { JacobianMode.Forward, JacobianMode.Reverse })
        {
            var j = Diff.Jacobian(v => v.MatMul(Tensor.FromArray(x)), mode)(w).Eval();
            Assert.Equal(new[] { 2, 2, 3 }, j.Shape);
            var expected = new double[12];
            for (int i = 0; i < 2; i++) for (int l = 0; l < 3; l++) expected[i * 6 + i * 3 + l] = x[l];
            Close(expected, j.ToDoubleArray(), 0, mode.ToString());
        }
    }

    [Fact]
    public void HessianAndHvpAreTheClosedForm()
    {
        // f(x) = Σ x³ + x0 x1 + exp(x1 x2): H = diag(6x) + e01 + exp(x1x2) [[x2², 1 + x1x2] ...]
        Expr F(Expr x) => x.Pow(3.0).Sum() + x.Slice(0, 0, 1).Sum() * x.Slice(0, 1, 2).Sum() + (x.Slice(0, 1, 2) * x.Slice(0, 2, 3)).Exp().Sum();
        var x = new[] { 0.4, -0.3, 0.9 };
        double e = Math.Exp(x[1] * x[2]);
        var expected = new[,]
        {
            { 6 * x[0], 1, 0 },
            { 1, 6 * x[1] + e * x[2] * x[2], e * (1 + x[1] * x[2]) },
            { 0, e * (1 + x[1] * x[2]), 6 * x[2] + e * x[1] * x[1] },
        };
        var h = Diff.Hessian(F)(Tensor.FromArray(x)).Eval();
        Assert.Equal(new[] { 3, 3 }, h.Shape);
        Close(expected.Cast<double>().ToArray(), h.ToDoubleArray(), 1e-14, "H");
        Close(expected.Cast<double>().ToArray(), Diff.Hessian(F, 1)(Tensor.FromArray(x)).Eval().ToDoubleArray(), 1e-14, "chunked H");
        var v = new[] { 1.0, -2.0, 0.5 };
        var hv = Diff.Hvp(F, Tensor.FromArray(x), Tensor.FromArray(v)).Eval().ToDoubleArray();
        Close(Enumerable.Range(0, 3).Select(i => Enumerable.Range(0, 3).Sum(k => expected[i, k] * v[k])).ToArray(), hv, 1e-14, "Hv");
    }

    [Fact]
    public void JvpOverSeveralInputsAndLinearizeAreTheDirectionalDerivative()
    {
        // f(a, B) = Σ tanh(B a) ⊙ a-ish: f(a, B) = Σ_i tanh((B a)_i) + (a·a) B00
        Expr F(Expr[] p) => p[1].MatMul(p[0]).Tanh().Sum() + p[0].Square().Sum() * p[1].Slice(0, 0, 1).Slice(1, 0, 1).Sum();
        var a = T([3], 51);
        var bm = T([2, 3], 52);
        var da = T([3], 53);
        var db = T([2, 3], 54);
        double Numeric(double s) => F([a + s * da, bm + s * db]).Eval().ToScalar();
        double expected = (Numeric(1e-6) - Numeric(-1e-6)) / 2e-6;

        var (value, tangent) = Diff.Jvp(F, [a, bm], [da, db]);
        Close(Numeric(0), value.Eval().ToScalar(), 1e-14, "value");
        Close(expected, tangent.Eval().ToScalar(), 1e-8, "jvp");

        var (linValue, jvp) = Diff.Linearize(F, a, bm);
        Close(Numeric(0), linValue.Eval().ToScalar(), 1e-14, "linearize value");
        Close(expected, jvp([da, db]).Eval().ToScalar(), 1e-8, "linearize jvp");
        // linear in the tangent: J(2u − v) = 2 J u − J v
        var other = jvp([db.Sum() * da, 0.5 * db]).Eval().ToScalar();
        var combined = jvp([2 * da - db.Sum() * da, 2 * db - 0.5 * db]).Eval().ToScalar();
        Close(2 * expected - other, combined, 1e-8, "linear");
        // the one-input forms
        var (v1, t1) = Diff.Jvp(x => x.Sin().Sum(), a, da);
        Close(a.ToDoubleArray().Zip(da.ToDoubleArray(), (x, d) => Math.Cos(x) * d).Sum(), t1.Eval().ToScalar(), 1e-14, "jvp1");
        var (lv, lj) = Diff.Linearize(x => x.Sin(), a);
        Close(a.ToDoubleArray().Zip(da.ToDoubleArray(), (x, d) => Math.Cos(x) * d).ToArray(), lj(da).Eval().ToDoubleArray(), 1e-14, "lin1");
        Close(a.ToDoubleArray().Select(Math.Sin).ToArray(), lv.Eval().ToDoubleArray(), 1e-15, "lin1 value");
        _ = v1;
    }

    // ---------- 6. Custom VJP, Checkpoint, StopGradient ----------

    [Fact]
    public void CustomVjpUsesItsRuleAtFirstAndSecondOrder()
    {
        // a rule that is deliberately 3·cos, so the test sees the rule rather than the forward's derivative
        var op = Diff.CustomVjp(x => x.Sin(), (x, g) => 3.0 * g * x.Cos());
        var x0 = T([4], 61);
        var value = op(x0).Eval().ToDoubleArray();
        Close(x0.ToDoubleArray().Select(Math.Sin).ToArray(), value, 1e-15, "value");
        var g = Diff.Grad(x => op(x).Sum())(x0).Eval().ToDoubleArray();
        Close(x0.ToDoubleArray().Select(v => 3 * Math.Cos(v)).ToArray(), g, 1e-15, "grad");
        var gg = Diff.Grad(x => Diff.Grad(y => op(y).Sum())(x).Sum())(x0).Eval().ToDoubleArray();
        Close(x0.ToDoubleArray().Select(v => -3 * Math.Sin(v)).ToArray(), gg, 1e-15, "second");
        // inside a compiled function and under vmap
        var compiled = Diff.Compile((Expr[] a) => [Diff.Grad(x => op(x).Sum())(a[0])]);
        Close(g, compiled.Invoke(x0)[0].ToDoubleArray(), 1e-15, "compiled");
    }

    [Fact]
    public void CustomVjpOfSeveralInputsGivesEachItsCotangentAndNullIsZero()
    {
        // f(x, w) = Σ sin(x) ⊙ w, with the honest rule for x and none (zero) for w
        var op = Diff.CustomVjp((Expr[] xs) => (xs[0].Sin() * xs[1]).Sum(), (xs, g) => [g * xs[0].Cos() * xs[1], null]);
        var x = T([3], 62);
        var w = T([3], 63);
        var grads = Expr.EvalMany(Diff.Grad((Expr[] p) => op([p[0], p[1]]))([x, w]));
        Close(x.ToDoubleArray().Zip(w.ToDoubleArray(), (a, b) => Math.Cos(a) * b).ToArray(), grads[0].ToDoubleArray(), 1e-15, "dx");
        Close(new double[3], grads[1].ToDoubleArray(), 0, "dw");
        Close(x.ToDoubleArray().Zip(w.ToDoubleArray(), (a, b) => Math.Sin(a) * b).Sum(), op([x, w]).Eval().ToScalar(), 1e-15, "value");
    }

    [Fact]
    public void CheckpointAndStopGradientKeepValuesAndGiveTheClosedFormGradients()
    {
        Expr w = T([3, 3], 71);
        var x0 = T([3], 72);
        var block = Diff.Checkpoint(x => w.MatMul(x).Tanh() * x.Sigmoid());
        Expr Plain(Expr x) => w.MatMul(x).Tanh() * x.Sigmoid();
        var checkpointed = Diff.Grad(x => block(block(x)).Sum())(x0).Eval().ToDoubleArray();
        var plain = Diff.Grad(x => Plain(Plain(x)).Sum())(x0).Eval().ToDoubleArray();
        Close(plain, checkpointed, 1e-14, "checkpoint grad");
        Close(Gradient(v => Plain(Plain(Tensor.FromArray(v))).Sum().Eval().ToScalar(), x0.ToDoubleArray()), checkpointed, 1e-7, "fd");
        // gradient into the captured weight too
        var dw = Diff.Grad(v => Diff.Checkpoint(x => v.MatMul(x).Tanh())(x0).Sum())(w).Eval().ToDoubleArray();
        var z = w.MatMul(x0).Eval().ToDoubleArray();
        Close(Enumerable.Range(0, 9).Select(k => (1 - Math.Pow(Math.Tanh(z[k / 3]), 2)) * x0.ToDoubleArray()[k % 3]).ToArray(), dw, 1e-14, "dw");

        // d/dx Σ x · sg(x) = sg(x) = x; d²: 1 (not 2)
        var g = Diff.Grad(x => (x * x.StopGradient()).Sum())(x0).Eval().ToDoubleArray();
        Close(x0.ToDoubleArray(), g, 0, "stop");
        var h = Diff.Hessian(x => (x * x.StopGradient()).Sum())(x0).Eval().ToDoubleArray();
        Close(new double[9], h, 0, "stop hessian");
        Close(x0.ToDoubleArray().Select(v => v * v).ToArray(), ((Expr)x0 * ((Expr)x0).StopGradient()).ToDoubleArray(), 0, "stop value");
    }
}

static class ExprTensorExtensions
{
    /// <summary>Evaluates an Expr built from tensors (a test shorthand).</summary>
    public static double[] ToDoubleArray(this Expr e) => e.Eval().ToDoubleArray();
}
