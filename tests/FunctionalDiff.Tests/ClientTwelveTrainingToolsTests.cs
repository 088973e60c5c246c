using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The training tools a PyTorch user ports around a model: a frozen parameter (<c>requires_grad=False</c>), parameter
/// groups with their own learning rates, <c>clip_grad_norm_</c> over every gradient, saving and loading the parameters,
/// per-sample gradients (<c>torch.func.vmap(grad(...))</c>), and the Jacobian, Hessian and Hessian-vector product of a
/// small net (<c>torch.autograd.functional</c>), each against loops over doubles and central differences.
/// </summary>
public class ClientTwelveTrainingToolsTests
{
    const int B = 5, In = 3;
    static readonly Tensor X = T([B, In], 11), Y = T([B], 12);

    // y = tanh(x · (scale ⊙ w) + b): "scale" is frozen, w and b train
    static double LossRef(double[] w, double b, double[] scale) =>
        Enumerable.Range(0, B).Average(n =>
        {
            double z = b;
            for (int i = 0; i < In; i++) z += X.ToDoubleArray()[n * In + i] * scale[i] * w[i];
            double d = Math.Tanh(z) - Y.ToDoubleArray()[n];
            return d * d;
        });

    static readonly double[] Scale = [1.0, 0.5, 2.0];

    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Tensor frozen) =>
        Loss.Mse((((Expr)X).MatMul(p["w"] * frozen) + p["b"]).Tanh(), Y);

    [Fact]
    public void FrozenParameterGroupsAndGradientClippingFollowTorch()
    {
        var frozen = Tensor.FromArray(Scale);   // requires_grad=False: captured, not a parameter
        var model = Parameters.Of(("w", T([In], 13)), ("b", Tensor.FromArray([0.2]).Reshape()));
        // two groups: torch's SGD([{'params': [w], 'lr': 0.1, 'momentum': 0.9}, {'params': [b], 'lr': 0.01}])
        var weights = new Sgd(Parameters.Of(("w", model["w"])), lr: 0.1, momentum: 0.9);
        var biases = new Sgd(Parameters.Of(("b", model["b"])), lr: 0.01);
        double[] w = model["w"].ToDoubleArray(), buffer = new double[In];
        double b = model["b"].ToScalar();
        for (int t = 0; t < 3; t++)
        {
            var current = Parameters.Of(weights.Parameters.Concat(biases.Parameters));
            var (loss, gradients) = Diff.ValueAndGrad(p => LossOf(p, frozen), current);
            Assert.Equal(new[] { "b", "w" }, gradients.Keys.Order().ToArray());   // none for the frozen scale
            var (clipped, norm) = Optimizer.ClipGradNorm(gradients, maxNorm: 0.05);

            var gw = Gradient(v => LossRef(v, b, Scale), w);
            double gb = Gradient(v => LossRef(w, v[0], Scale), [b])[0];
            // the reference's parameters follow its central-difference gradients, so they drift from ours by ~1e-10
            Close(LossRef(w, b, Scale), loss.Eval().ToScalar(), 1e-9, $"loss {t}");
            double total = Math.Sqrt(gw.Sum(g => g * g) + gb * gb);
            Close(total, norm, 1e-8, $"total norm {t}");
            double factor = Math.Min(1, 0.05 / (total + 1e-6));
            Close(gw.Select(g => g * factor).ToArray(), clipped["w"].ToDoubleArray(), 1e-7, $"clipped w {t}");

            weights.Step(Parameters.Of(("w", clipped["w"])));
            biases.Step(Parameters.Of(("b", clipped["b"])));
            for (int i = 0; i < In; i++)
            {
                buffer[i] = t == 0 ? gw[i] * factor : 0.9 * buffer[i] + gw[i] * factor;
                w[i] -= 0.1 * buffer[i];
            }
            b -= 0.01 * gb * factor;
            Close(w, weights.Parameters["w"].ToDoubleArray(), 1e-8, $"w after step {t}");
            Close(b, biases.Parameters["b"].ToScalar(), 1e-8, $"b after step {t}");
        }
    }

    [Fact]
    public void ParametersSurviveASaveAndLoadRoundTripBitForBit()
    {
        var model = Parameters.Of(("conv.weight", T([2, 1, 3, 3], 14)), ("conv.bias", T([2], 15).To(DType.Float32)), ("step", Tensor.FromArray([7.0]).Reshape()));
        var path = Path.Combine(Path.GetTempPath(), $"client12-{Guid.NewGuid():N}.npz");
        try
        {
            model.Save(path);
            var loaded = Parameters.Load(path);
            Assert.Equal(model.Names, loaded.Names);
            foreach (var name in model.Names)
            {
                Assert.Equal(model[name].Shape, loaded[name].Shape);
                Assert.Equal(model[name].DType, loaded[name].DType);
                Assert.Equal(model[name].ToDoubleArray(), loaded[name].ToDoubleArray());
            }
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void PerSampleGradientsByVmapOfGradMatchEachExamplesCentralDifferences()
    {
        // torch.func.vmap(grad(loss_one), in_dims=(None, None, 0, 0)): one gradient of w and b per example
        var w = T([In], 16);
        var b = Tensor.FromArray([0.1]).Reshape();
        var perSample = Diff.Vmap((Expr[] a) =>
            Diff.Grad((Expr[] p) => ((a[2].MatMul(p[0]) + p[1]).Tanh() - a[3]).Square())([a[0], a[1]]), inAxes: [null, null, 0, 0]);
        var grads = perSample([w, b, X, Y]);
        Assert.Equal(new[] { B, In }, grads[0].Shape);
        Assert.Equal(new[] { B }, grads[1].Shape);
        var (xs, ys, ws) = (X.ToDoubleArray(), Y.ToDoubleArray(), w.ToDoubleArray());
        var gw = grads[0].Eval().ToDoubleArray();
        var gb = grads[1].Eval().ToDoubleArray();
        for (int n = 0; n < B; n++)
        {
            double One(double[] v)
            {
                double z = v[In];
                for (int i = 0; i < In; i++) z += xs[n * In + i] * v[i];
                return (Math.Tanh(z) - ys[n]) * (Math.Tanh(z) - ys[n]);
            }
            var g = Gradient(One, [.. ws, 0.1]);
            Close(g[..In], gw[(n * In)..((n + 1) * In)], 1e-7, $"w gradient of example {n}");
            Close(g[In], gb[n], 1e-7, $"b gradient of example {n}");
        }
    }

    // second central differences of a scalar function: H_ij from four values
    static double[,] HessianRef(Func<double[], double> f, double[] x, double h = 1e-4)
    {
        int n = x.Length;
        var result = new double[n, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double At(double si, double sj)
                {
                    var p = (double[])x.Clone();
                    p[i] += si * h;
                    p[j] += sj * h;
                    return f(p);
                }
                result[i, j] = (At(1, 1) - At(1, -1) - At(-1, 1) + At(-1, -1)) / (4 * h * h);
            }
        return result;
    }

    [Fact]
    public void JacobianHessianAndHvpOfASmallNetMatchCentralDifferences()
    {
        var w1 = T([4, In], 17);
        var w2 = T([2, 4], 18);
        var x = T([In], 19);
        var (a, c) = (w1.ToDoubleArray(), w2.ToDoubleArray());
        double[] NetRef(double[] v)
        {
            var h = Enumerable.Range(0, 4).Select(o => Math.Tanh(Enumerable.Range(0, In).Sum(i => a[o * In + i] * v[i]))).ToArray();
            return Enumerable.Range(0, 2).Select(o => Enumerable.Range(0, 4).Sum(k => c[o * 4 + k] * h[k])).ToArray();
        }
        Expr Net(Expr v) => ((Expr)w2).MatMul(((Expr)w1).MatMul(v).Tanh());

        // torch.autograd.functional.jacobian(net, x): [outputs, inputs]
        var jacobian = Diff.Jacobian(Net)(x).Eval();
        Assert.Equal(new[] { 2, In }, jacobian.Shape);
        var columns = Directional(NetRef, x.ToDoubleArray());   // row i is d net / d x_i
        Close(Enumerable.Range(0, 2 * In).Select(k => columns[k % In][k / In]).ToArray(), jacobian.ToDoubleArray(), 1e-7, "jacobian");

        // hessian of the squared norm of the output, and its product with a direction
        double F(double[] v) => NetRef(v).Sum(u => u * u);
        var reference = HessianRef(F, x.ToDoubleArray());
        var hessian = Diff.Hessian(v => Net(v).Square().Sum())(x).Eval().ToDoubleArray();
        Close(Enumerable.Range(0, In * In).Select(k => reference[k / In, k % In]).ToArray(), hessian, 1e-5, "hessian");
        var direction = Tensor.FromArray([1.0, -2.0, 0.5]);
        var hv = Diff.Hvp(v => Net(v).Square().Sum(), x, direction).Eval().ToDoubleArray();
        var d = direction.ToDoubleArray();
        Close(Enumerable.Range(0, In).Select(i => Enumerable.Range(0, In).Sum(j => reference[i, j] * d[j])).ToArray(), hv, 1e-5, "hvp");
    }
}
