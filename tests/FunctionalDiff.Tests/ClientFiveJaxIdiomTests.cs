using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Code ported the way a JAX user writes it: value_and_grad with an auxiliary output, grad with respect to
/// chosen arguments, a jitted function of several inputs and outputs called in a loop with new data, vmap with
/// unbatched arguments and out_axes, a scan whose carry is several tensors, jax.nn's activations, jnp.where with
/// broadcasting and einsum with repeated and broadcast letters. Every number is checked against a reference
/// loop over doubles, a closed form or central differences.
/// </summary>
[Collection(nameof(TorchFactoryTests))] // draws from the process-wide seed sequence, which TorchFactoryTests replays
public class ClientFiveJaxIdiomTests
{
    // a 4×3 design matrix, 4×2 targets and 3×2 weights, fixed numbers
    static readonly double[] X = Values(12, 1), Y = Values(8, 2), W = Values(6, 3);

    static double[] Predict(double[] w)
    {
        var p = new double[8];
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 3; k++) p[i * 2 + j] += X[i * 3 + k] * w[k * 2 + j];
        return p;
    }

    static double MseOf(double[] w) => Predict(w).Select((p, i) => (p - Y[i]) * (p - Y[i])).Average();
    static double MaeOf(double[] w) => Predict(w).Select((p, i) => Math.Abs(p - Y[i])).Average();

    [Fact]
    public void ValueAndGradWithAuxReturnsTheLossItsMetricsAndTheGradient()
    {
        var x = Tensor.FromArray(X, 4, 3);
        var y = Tensor.FromArray(Y, 4, 2);
        // jax: (loss, (mae, pred)), grads = value_and_grad(f, has_aux=True)(w)
        var (loss, aux, gradients) = Diff.ValueAndGrad((Expr[] p) =>
        {
            var prediction = ((Expr)x).MatMul(p[0]);
            return (Loss.Mse(prediction, y), [Loss.L1(prediction, y), prediction]);
        }, Tensor.FromArray(W, 3, 2));
        var values = Expr.EvalMany([loss, .. aux, gradients[0]]);
        Close(MseOf(W), values[0].ToScalar(), 1e-12, "loss");
        Close(MaeOf(W), values[1].ToScalar(), 1e-12, "mae");
        Close(Predict(W), values[2].ToDoubleArray(), 1e-12, "prediction");
        Assert.Equal(new[] { 4, 2 }, values[2].Shape);
        Close(Gradient(MseOf, W), values[3].ToDoubleArray(), 1e-7, "gradient");

        // the one-Expr form, as value_and_grad of a function of one array
        var (value, metrics, gradient) = Diff.ValueAndGrad(w => (Loss.Mse(((Expr)x).MatMul(w), y), [w.Abs().Max()]), Tensor.FromArray(W, 3, 2));
        Close(MseOf(W), value.Eval().ToScalar(), 1e-12);
        Close(W.Max(Math.Abs), metrics[0].Eval().ToScalar(), 0);
        Close(Gradient(MseOf, W), gradient.Eval().ToDoubleArray(), 1e-7);

        // no auxiliary outputs is allowed; a loss of several elements is refused under the method's name
        Assert.Empty(Diff.ValueAndGrad((Expr[] p) => (p[0].Sum(), Array.Empty<Expr>()), Tensor.Ones(2)).Aux);
        var error = Assert.ThrowsAny<ArgumentException>(() => Diff.ValueAndGrad((Expr[] p) => (p[0] * 2, [p[0]]), Tensor.Ones(2)));
        Assert.Contains("ValueAndGrad", error.Message);
        Assert.Contains("[2]", error.Message);
        var nullAux = Assert.Throws<InvalidOperationException>(() => Diff.ValueAndGrad((Expr[] p) => (p[0].Sum(), [null!]), Tensor.Ones(2)));
        Assert.Contains("auxiliary output 0", nullAux.Message);
    }

    [Fact]
    public void ValueAndGradWithAuxOverNamedParameters()
    {
        // jax: value_and_grad(f, has_aux=True)({"w": w, "b": b}) with a dict of parameters
        var x = Tensor.FromArray(X, 4, 3);
        var y = Tensor.FromArray(Y, 4, 2);
        double[] b0 = { 0.25, -0.5 };
        var model = Parameters.Of(("w", Tensor.FromArray(W, 3, 2)), ("b", Tensor.FromArray(b0)));
        var (loss, aux, gradients) = Diff.ValueAndGrad(p =>
        {
            var prediction = ((Expr)x).MatMul(p["w"]) + p["b"];
            return (Loss.Mse(prediction, y), [(prediction - y).Abs().Max()]);
        }, model);
        double[] Prediction(double[] wb)
        {
            var p = Predict(wb[..6]);
            return p.Select((v, i) => v + wb[6 + i % 2]).ToArray();
        }
        double Mse(double[] wb) => Prediction(wb).Select((p, i) => (p - Y[i]) * (p - Y[i])).Average();
        double[] all = [.. W, .. b0];
        Close(Mse(all), loss.Eval().ToScalar(), 1e-12, "loss");
        Close(Prediction(all).Select((p, i) => Math.Abs(p - Y[i])).Max(), aux[0].Eval().ToScalar(), 1e-12, "max error");
        Assert.Equal(new[] { "w", "b" }, gradients.Keys);
        var numeric = Gradient(Mse, all);
        Close(numeric[..6], gradients["w"].Eval().ToDoubleArray(), 1e-7, "d/dw");
        Close(numeric[6..], gradients["b"].Eval().ToDoubleArray(), 1e-7, "d/db");
    }

    [Fact]
    public void CompileValueAndGradWithAuxOverNamedParametersAndBatches()
    {
        // jax: jit(value_and_grad(loss, has_aux=True))(params, x, y) over a dict of parameters, a new batch per call
        var step = Diff.CompileValueAndGrad((p, d) =>
        {
            var prediction = d[0].MatMul(p["w"]);
            return (Loss.Mse(prediction, d[1]), [Loss.L1(prediction, d[1]), prediction]);
        });
        var model = Parameters.Of(("w", Tensor.FromArray(W, 3, 2)));
        for (int call = 0; call < 3; call++)
        {
            var ys = Y.Select(v => v + call).ToArray();
            var (loss, aux, gradients) = step.InvokeWithAux(model, Tensor.FromArray(X, 4, 3), Tensor.FromArray(ys, 4, 2));
            var prediction = Predict(W);
            double Mse(double[] w) => Predict(w).Select((p, i) => (p - ys[i]) * (p - ys[i])).Average();
            Close(Mse(W), loss.ToScalar(), 1e-12, $"loss {call}");
            Assert.Equal(2, aux.Length);
            Close(prediction.Select((p, i) => Math.Abs(p - ys[i])).Average(), aux[0].ToScalar(), 1e-12, $"mae {call}");
            Close(prediction, aux[1].ToDoubleArray(), 1e-12, $"prediction {call}");
            Close(Gradient(Mse, W), gradients["w"].ToDoubleArray(), 1e-7, $"gradient {call}");
            // Invoke of the same step gives the loss and gradients alone
            var (plainLoss, plainGradients) = step.Invoke(model, Tensor.FromArray(X, 4, 3), Tensor.FromArray(ys, 4, 2));
            Assert.Equal(loss.ToScalar(), plainLoss.ToScalar());
            Assert.Equal(gradients["w"].ToDoubleArray(), plainGradients["w"].ToDoubleArray());
        }
        Assert.Equal(1, step.TraceCount);
        // a loss compiled without auxiliary outputs gives none
        var plain = Diff.CompileValueAndGrad((p, d) => Loss.Mse(d[0].MatMul(p["w"]), d[1]));
        Assert.Empty(plain.InvokeWithAux(model, Tensor.FromArray(X, 4, 3), Tensor.FromArray(Y, 4, 2)).Aux);
    }

    [Fact]
    public void ACompiledStepWithAnAuxiliaryMetricRunsWithNewDataEachCall()
    {
        // jax: step = jit(lambda w, x, y: value_and_grad(loss, has_aux=True)(w, x, y)); inputs w, x, y; outputs loss, mae, grad
        var step = Diff.Compile((Expr[] inputs) =>
        {
            var (loss, aux, g) = Diff.ValueAndGrad((Expr[] p) =>
            {
                var prediction = inputs[1].MatMul(p[0]);
                return (Loss.Mse(prediction, inputs[2]), [Loss.L1(prediction, inputs[2])]);
            }, inputs[0]);
            return [loss, aux[0], g[0]];
        });
        for (int call = 0; call < 4; call++)
        {
            // a new batch every call: the same numbers as X and Y moved by the call's index
            var xs = X.Select(v => v + 0.25 * call).ToArray();
            var ys = Y.Select(v => v - 0.5 * call).ToArray();
            var outs = step.Invoke(Tensor.FromArray(W, 3, 2), Tensor.FromArray(xs, 4, 3), Tensor.FromArray(ys, 4, 2));
            double Mse(double[] w)
            {
                double total = 0;
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 2; j++)
                    {
                        double p = 0;
                        for (int k = 0; k < 3; k++) p += xs[i * 3 + k] * w[k * 2 + j];
                        total += (p - ys[i * 2 + j]) * (p - ys[i * 2 + j]);
                    }
                return total / 8;
            }
            double Mae(double[] w)
            {
                double total = 0;
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 2; j++)
                    {
                        double p = 0;
                        for (int k = 0; k < 3; k++) p += xs[i * 3 + k] * w[k * 2 + j];
                        total += Math.Abs(p - ys[i * 2 + j]);
                    }
                return total / 8;
            }
            Close(Mse(W), outs[0].ToScalar(), 1e-12, $"loss {call}");
            Close(Mae(W), outs[1].ToScalar(), 1e-12, $"mae {call}");
            Close(Gradient(Mse, W), outs[2].ToDoubleArray(), 1e-7, $"gradient {call}");
        }
        Assert.Equal(1, step.TraceCount);   // one signature, one trace
    }

    [Fact]
    public void GradWithRespectToChosenArgumentsIsAClosureOverTheOthers()
    {
        // jax: grad(f, argnums=(0, 2))(a, b, c) with f(a, b, c) = Σ sin(a)·b + c²·b
        static Expr F(Expr a, Expr b, Expr c) => (a.Sin() * b + c.Square() * b).Sum();
        double[] a0 = Values(3, 4), b0 = Values(3, 5), c0 = Values(3, 6);
        var b = Tensor.FromArray(b0);
        var g = Diff.Grad((Expr[] p) => F(p[0], b, p[1]))([Tensor.FromArray(a0), Tensor.FromArray(c0)]);
        Assert.Equal(2, g.Length);
        Close(a0.Select((v, i) => Math.Cos(v) * b0[i]).ToArray(), g[0].Eval().ToDoubleArray(), 1e-14, "d/da");
        Close(c0.Select((v, i) => 2 * v * b0[i]).ToArray(), g[1].Eval().ToDoubleArray(), 1e-14, "d/dc");
        // argnums=1 of the same function: a lambda of one Expr
        var gb = Diff.Grad(bb => F(Tensor.FromArray(a0), bb, Tensor.FromArray(c0)))(b);
        Close(a0.Select((v, i) => Math.Sin(v) + c0[i] * c0[i]).ToArray(), gb.Eval().ToDoubleArray(), 1e-14, "d/db");
    }

    [Fact]
    public void VmapWithAnUnbatchedArgumentAndOutAxes()
    {
        // jax: vmap(lambda w, x: tanh(w @ x), in_axes=(None, 1), out_axes=1)(w, xs): xs holds 5 examples as columns
        double[] w0 = Values(6, 7), xs0 = Values(15, 8);   // w [2,3], xs [3,5]
        var f = Diff.Vmap((Expr[] a) => a[0].MatMul(a[1]).Tanh(), inAxes: [null, 1], outAxis: 1);
        var result = f([Tensor.FromArray(w0, 2, 3), Tensor.FromArray(xs0, 3, 5)]).Eval();
        Assert.Equal(new[] { 2, 5 }, result.Shape);
        var expected = new double[10];
        for (int r = 0; r < 2; r++)
            for (int n = 0; n < 5; n++)
            {
                double s = 0;
                for (int k = 0; k < 3; k++) s += w0[r * 3 + k] * xs0[k * 5 + n];
                expected[r * 5 + n] = Math.Tanh(s);
            }
        Close(expected, result.ToDoubleArray(), 1e-14);

        // several outputs with their own out_axes
        var g = Diff.Vmap((Expr[] a) => [a[0].MatMul(a[1]), a[1].Sum()], inAxes: [null, 1], outAxes: [0, 0]);
        var outs = g([Tensor.FromArray(w0, 2, 3), Tensor.FromArray(xs0, 3, 5)]);
        Assert.Equal(new[] { 5, 2 }, outs[0].Shape);
        Assert.Equal(new[] { 5 }, outs[1].Shape);
        var sums = Enumerable.Range(0, 5).Select(n => xs0[n] + xs0[5 + n] + xs0[10 + n]).ToArray();
        Close(sums, outs[1].Eval().ToDoubleArray(), 1e-14);
    }

    [Fact]
    public void AScanWhoseCarryIsATupleOfTensors()
    {
        // jax: lax.scan(step, (pos, vel), forces): a damped particle, carry (position, velocity), y the energy
        double[] f0 = Values(20, 9);    // 10 steps of a 2-D force
        double[] p0 = { 0.3, -0.2 }, v0 = { 0.1, 0.4 };
        const double dt = 0.1, damping = 0.9;
        Expr Run(Expr position, Expr velocity, Expr forces, out Expr energies)
        {
            var (carry, ys) = Expr.Scan((c, x) =>
            {
                var v = damping * c[1] + dt * x[0];
                var p = c[0] + dt * v;
                return ([p, v], [0.5 * v.Square().Sum()]);
            }, [position, velocity], [forces]);
            energies = ys[0];
            return carry[0].Square().Sum() + carry[1].Sum();
        }
        (double Loss, double[] Energies) Reference(double[] pv)
        {
            double[] p = { pv[0], pv[1] }, v = { pv[2], pv[3] };
            var energies = new double[10];
            for (int t = 0; t < 10; t++)
            {
                for (int k = 0; k < 2; k++)
                {
                    v[k] = damping * v[k] + dt * f0[t * 2 + k];
                    p[k] += dt * v[k];
                }
                energies[t] = 0.5 * (v[0] * v[0] + v[1] * v[1]);
            }
            return (p[0] * p[0] + p[1] * p[1] + v[0] + v[1], energies);
        }
        var forces = Tensor.FromArray(f0, 10, 2);
        var loss = Run(Tensor.FromArray(p0), Tensor.FromArray(v0), forces, out var energies);
        var reference = Reference([.. p0, .. v0]);
        Close(reference.Loss, loss.Eval().ToScalar(), 1e-14);
        Close(reference.Energies, energies.Eval().ToDoubleArray(), 1e-14);
        var (dp, dv) = Diff.Grad((p, v) => Run(p, v, forces, out _))(Tensor.FromArray(p0), Tensor.FromArray(v0));
        var numeric = Gradient(pv => Reference(pv).Loss, [.. p0, .. v0]);
        Close(numeric, [.. dp.Eval().ToDoubleArray(), .. dv.Eval().ToDoubleArray()], 1e-8);
    }

    [Fact]
    public void JaxNnActivationsMatchTheirFormulas()
    {
        double[] v = Values(12, 10).Select(a => 2 * a).ToArray();   // in [-3, 3]
        Expr x = Tensor.FromArray(v, 3, 4);
        (string Name, Func<Expr, Expr> F, Func<double, double> Reference, double Tolerance)[] table =
        [
            ("relu", e => e.Relu(), a => Math.Max(a, 0), 0),
            ("gelu exact", e => e.Gelu(), a => 0.5 * a * (1 + Erf(a / Math.Sqrt(2))), 1e-11),
            ("gelu tanh", e => e.GeluTanh(), a => 0.5 * a * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (a + 0.044715 * a * a * a))), 1e-14),
            ("silu", e => e.Silu(), a => a / (1 + Math.Exp(-a)), 1e-14),
            ("softplus", e => e.Softplus(), a => Math.Log(1 + Math.Exp(a)), 1e-14),
            ("log_sigmoid", e => e.LogSigmoid(), a => -Math.Log(1 + Math.Exp(-a)), 1e-14),
        ];
        foreach (var (name, f, reference, tolerance) in table)
            Close(v.Select(reference).ToArray(), f(x).Eval().ToDoubleArray(), tolerance, name);

        // log_softmax and softmax over the last axis by default, as jax.nn's
        var logSoftmax = x.LogSoftmax().Eval().ToDoubleArray();
        var softmax = Tensor.FromArray(v, 3, 4).Softmax().ToDoubleArray();
        for (int r = 0; r < 3; r++)
        {
            var row = v.Skip(4 * r).Take(4).ToArray();
            double logSum = Math.Log(row.Sum(Math.Exp));
            Close(row.Select(a => a - logSum).ToArray(), logSoftmax.Skip(4 * r).Take(4).ToArray(), 1e-14, $"log_softmax row {r}");
            Close(row.Select(a => Math.Exp(a - logSum)).ToArray(), softmax.Skip(4 * r).Take(4).ToArray(), 1e-14, $"softmax row {r}");
        }

        // one_hot of integer labels held in a float tensor
        var oneHot = ((Expr)Tensor.FromArray([2, 0, 1])).OneHot(3).Eval();
        Assert.Equal(new[] { 3, 3 }, oneHot.Shape);
        Assert.Equal(new double[] { 0, 0, 1, 1, 0, 0, 0, 1, 0 }, oneHot.ToDoubleArray());
        // and on a Tensor of labels, to build a target batch eagerly, in the labels' dtype
        var targets = Tensor.FromArray(new[] { 1f, 3f }).OneHot(4);
        Assert.Equal(DType.Float32, targets.DType);
        Assert.Equal(new double[] { 0, 1, 0, 0, 0, 0, 0, 1 }, targets.ToDoubleArray());
        Assert.ThrowsAny<ArgumentException>(() => Tensor.FromArray([0, 4]).OneHot(4));

        // each activation's gradient against central differences
        foreach (var (name, f, _, _) in table.Where(t => t.Name != "relu"))
            Close(NumericGradient(e => f(e).Sum(), Tensor.FromArray(v, 3, 4)), Diff.Grad(e => f(e).Sum())(Tensor.FromArray(v, 3, 4)).Eval().ToDoubleArray(), 1e-7, name);
    }

    [Fact]
    public void WhereBroadcastsItsConditionAndBranches()
    {
        // jnp.where(c[:, None] > 0, x[None, :], 0.5): condition [3,1], ifTrue [1,4], ifFalse a number
        double[] c0 = { 0.5, -1, 2 }, x0 = { 1, -2, 3, 0.25 };
        var c = Tensor.FromArray(c0, 3, 1);
        Func<Expr, Expr> f = x => Expr.Where((Expr)c > 0, x, 0.5);
        var result = f(Tensor.FromArray(x0, 1, 4)).Eval();
        Assert.Equal(new[] { 3, 4 }, result.Shape);
        var expected = new double[12];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) expected[i * 4 + j] = c0[i] > 0 ? x0[j] : 0.5;
        Assert.Equal(expected, result.ToDoubleArray());
        // the gradient of Σ where(...)² in x sums over the broadcast rows that take x
        var gradient = Diff.Grad(x => f(x).Square().Sum())(Tensor.FromArray(x0, 1, 4)).Eval();
        Close(x0.Select(a => 2 * 2 * a).ToArray(), gradient.ToDoubleArray(), 1e-14);
    }

    [Fact]
    public void EinsumWithRepeatedAndBroadcastLetters()
    {
        double[] a0 = Values(9, 11), b0 = Values(12, 12), c0 = Values(4, 13);
        var a = Tensor.FromArray(a0, 3, 3);
        Close(new[] { a0[0], a0[4], a0[8] }, Expr.Einsum("ii->i", a).Eval().ToDoubleArray(), 0, "diagonal");
        Close(a0[0] + a0[4] + a0[8], Expr.Einsum("ii", a).Eval().ToScalar(), 1e-15, "trace");
        // a letter of size 1 broadcasts: b [3,4] times c [1,4], summed over j
        var rows = Expr.Einsum("ij,ij->i", Tensor.FromArray(b0, 3, 4), Tensor.FromArray(c0, 1, 4)).Eval();
        var expected = Enumerable.Range(0, 3).Select(i => Enumerable.Range(0, 4).Sum(j => b0[i * 4 + j] * c0[j])).ToArray();
        Close(expected, rows.ToDoubleArray(), 1e-14, "broadcast letter");
        // batch axes under ...: [2,3,2] by [2,2]
        double[] d0 = Values(12, 14), e0 = Values(4, 15);
        var batched = Expr.Einsum("...ij,jk->...ik", Tensor.FromArray(d0, 2, 3, 2), Tensor.FromArray(e0, 2, 2)).Eval();
        var batchedExpected = new double[12];
        for (int n = 0; n < 2; n++)
            for (int i = 0; i < 3; i++)
                for (int k = 0; k < 2; k++)
                    for (int j = 0; j < 2; j++) batchedExpected[(n * 3 + i) * 2 + k] += d0[(n * 3 + i) * 2 + j] * e0[j * 2 + k];
        Close(batchedExpected, batched.ToDoubleArray(), 1e-14, "ellipsis");
        // gradient of the trace of a·a (einsum "ij,ji") is 2aᵀ
        var g = Diff.Grad(m => Expr.Einsum("ij,ji", m, m))(a).Eval().ToDoubleArray();
        Close(Enumerable.Range(0, 9).Select(k => 2 * a0[(k % 3) * 3 + k / 3]).ToArray(), g, 1e-14, "gradient");
    }

    [Fact]
    public void DropoutIsAMaskPassedAsAnInputScaledAsTorchsTrainingMode()
    {
        // the README's recipe for F.dropout(x, p, training=True): x * mask / (1 - p), mask = Rand(shape) >= p, drawn per step
        const double p = 0.25;
        var layer = Diff.Compile((Expr[] a) => (a[0].MatMul(a[1]).Relu() * a[2] / (1 - p)).Sum());
        var x = Tensor.FromArray(Values(12, 16), 4, 3);
        var w = Tensor.FromArray(Values(6, 17), 3, 2);
        Tensor.ManualSeed(3);
        for (int call = 0; call < 3; call++)
        {
            var mask = Tensor.Rand(4, 2) >= p;
            double[] m = mask.ToDoubleArray(), xs = x.ToDoubleArray(), ws = w.ToDoubleArray();
            Assert.All(m, v => Assert.True(v == 0 || v == 1));
            double expected = 0;
            for (int i = 0; i < 4; i++)
                for (int j = 0; j < 2; j++)
                {
                    double z = 0;
                    for (int k = 0; k < 3; k++) z += xs[i * 3 + k] * ws[k * 2 + j];
                    expected += Math.Max(z, 0) * m[i * 2 + j] / (1 - p);
                }
            Close(expected, layer.Invoke(x, w, mask)[0].ToScalar(), 1e-14, $"call {call}");
        }
        Assert.Equal(1, layer.TraceCount);   // a new mask per call is new data, not a new trace
    }
}
