using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

/// <summary>
/// The models of issue 18, each a loop with a gradient inside, written once per engine and sized by
/// the caller: the comparison table runs them small, the benchmark large. Each takes one flat
/// parameter vector θ; its fixed data is drawn once from a seeded generator.
/// </summary>
public static class NestedModels
{
    /// <summary>Size of θ in <see cref="Bilevel"/>.</summary>
    public const int BilevelSize = 8;

    /// <summary>
    /// Bilevel descent: x ← x − 0.05·∇ₓ f(x, w) for <paramref name="steps"/> steps from a fixed x₀ in R⁸,
    /// with f(x, w) = Σ tanh(x·w)² + 0.1·Σ (x − w)²; the objective is Σ x_N², θ = w.
    /// </summary>
    public static NestedModel Bilevel(int steps)
    {
        double[] start = Data(BilevelSize, 601);

        Expr Ours(OurGradient gradient, Expr w)
        {
            Expr F(Expr x) => (x * w).Tanh().Square().Sum() + 0.1 * (x - w).Square().Sum();
            Expr x = OurSide.Make(start, new[] { BilevelSize }, w.DType);
            for (int k = 0; k < steps; k++) x = x - 0.05 * gradient(F, x);
            return x.Square().Sum();
        }

        TT Torch(TorchGradient gradient, TT w)
        {
            TT F(TT x) => (x * w).tanh().square().sum() + 0.1 * (x - w).square().sum();
            var x = torch.tensor(start, dtype: w.dtype);
            for (int k = 0; k < steps; k++) x = x - 0.05 * gradient(F, x);
            return x.square().sum();
        }

        return new NestedModel(Ours, Torch) { WithHvp = true };
    }

    /// <summary>Size of θ in <see cref="Particle"/>.</summary>
    public const int ParticleSize = 2;

    static readonly double[] FixedCharge = { 0.0, 0.0 };
    static readonly double[] MovingCharge = { 1.5, 1.0 };
    static readonly double[] ParticleStart = { -2.0, -0.4 };
    static readonly double[] ParticleVelocity = { 1.0, 0.3 };
    static readonly double[] ParticleTarget = { 4.0, 2.0 };

    /// <summary>
    /// A 2-D particle in the potential p(x) = Σ_c 1/‖x − c‖ of two charges, one fixed at the origin and
    /// one at (1.5, 1) + 0.3·w; its acceleration is −∇p, integrated by explicit Euler steps of 0.1
    /// for <paramref name="steps"/> steps. The objective is ‖x_N − (4, 2)‖² + ‖v_N‖², θ = w.
    /// </summary>
    public static NestedModel Particle(int steps)
    {
        Expr Ours(OurGradient gradient, Expr w)
        {
            Expr C(double[] values) => OurSide.Make(values, new[] { ParticleSize }, w.DType);
            var fixedCharge = C(FixedCharge);
            var movingCharge = C(MovingCharge) + 0.3 * w;
            Expr P(Expr x) => (x - fixedCharge).Square().Sum().Rsqrt() + (x - movingCharge).Square().Sum().Rsqrt();
            Expr x = C(ParticleStart), v = C(ParticleVelocity);
            for (int k = 0; k < steps; k++)
            {
                var acceleration = -gradient(P, x);
                x = x + 0.1 * v;
                v = v + 0.1 * acceleration;
            }
            return (x - C(ParticleTarget)).Square().Sum() + v.Square().Sum();
        }

        TT Torch(TorchGradient gradient, TT w)
        {
            TT C(double[] values) => torch.tensor(values, dtype: w.dtype);
            var fixedCharge = C(FixedCharge);
            var movingCharge = C(MovingCharge) + 0.3 * w;
            TT P(TT x) => (x - fixedCharge).square().sum().rsqrt() + (x - movingCharge).square().sum().rsqrt();
            TT x = C(ParticleStart), v = C(ParticleVelocity);
            for (int k = 0; k < steps; k++)
            {
                var acceleration = -gradient(P, x);
                x = x + 0.1 * v;
                v = v + 0.1 * acceleration;
            }
            return (x - C(ParticleTarget)).square().sum() + v.square().sum();
        }

        return new NestedModel(Ours, Torch);
    }

    /// <summary>Size of θ in <see cref="Maml"/>: a 2-4-1 tanh MLP (W1 4×2, b1 4, w2 4, b2 1).</summary>
    public const int MamlSize = 17;

    const int TaskPoints = 6;
    static readonly double[] SupportX = Data(2 * TaskPoints, 611);
    static readonly double[] QueryX = Data(2 * TaskPoints, 612);
    static readonly double[] SupportY = Targets(SupportX);
    static readonly double[] QueryY = Targets(QueryX);

    /// <summary>
    /// A MAML step: <paramref name="innerSteps"/> gradient steps of size 0.1 on the mean squared error of
    /// a 2-4-1 tanh MLP over a support batch of 6 points, starting from θ; the objective is the same
    /// loss on a query batch at the adapted parameters, so its gradient in θ is the meta-gradient.
    /// </summary>
    public static NestedModel Maml(int innerSteps)
    {
        Expr Ours(OurGradient gradient, Expr theta)
        {
            Expr D(double[] values, params int[] shape) => OurSide.Make(values, shape, theta.DType);
            var (supportX, supportY) = (D(SupportX, TaskPoints, 2), D(SupportY, TaskPoints));
            var (queryX, queryY) = (D(QueryX, TaskPoints, 2), D(QueryY, TaskPoints));
            Expr Loss(Expr p, Expr x, Expr y)
            {
                var w1 = p.Slice(0, 0, 8).Reshape(4, 2);
                var hidden = (x.MatMul(w1.Transpose()) + p.Slice(0, 8, 12)).Tanh();
                var prediction = hidden.MatMul(p.Slice(0, 12, 16)) + p.Slice(0, 16, 17).Reshape();
                return (prediction - y).Square().Mean();
            }
            var phi = theta;
            for (int k = 0; k < innerSteps; k++) phi = phi - 0.1 * gradient(p => Loss(p, supportX, supportY), phi);
            return Loss(phi, queryX, queryY);
        }

        TT Torch(TorchGradient gradient, TT theta)
        {
            TT D(double[] values, params long[] shape) => torch.tensor(values, dtype: theta.dtype).reshape(shape);
            var (supportX, supportY) = (D(SupportX, TaskPoints, 2), D(SupportY, TaskPoints));
            var (queryX, queryY) = (D(QueryX, TaskPoints, 2), D(QueryY, TaskPoints));
            TT Loss(TT p, TT x, TT y)
            {
                var w1 = p.narrow(0, 0, 8).reshape(4, 2);
                var hidden = (x.matmul(w1.t()) + p.narrow(0, 8, 4)).tanh();
                var prediction = hidden.matmul(p.narrow(0, 12, 4)) + p.narrow(0, 16, 1).reshape(Array.Empty<long>());
                return (prediction - y).square().mean();
            }
            var phi = theta;
            for (int k = 0; k < innerSteps; k++) phi = phi - 0.1 * gradient(p => Loss(p, supportX, supportY), phi);
            return Loss(phi, queryX, queryY);
        }

        return new NestedModel(Ours, Torch);
    }

    static double[] Data(int n, int seed) => Tensor.RandomNormal(new[] { n }, seed).ToDoubleArray();

    /// <summary>A smooth regression task: y = sin(x₀) + 0.5·x₁ for each row (x₀, x₁).</summary>
    static double[] Targets(double[] x) =>
        Enumerable.Range(0, x.Length / 2).Select(i => Math.Sin(x[2 * i]) + 0.5 * x[2 * i + 1]).ToArray();
}
