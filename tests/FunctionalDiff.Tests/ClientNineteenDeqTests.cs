using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's deep equilibrium layer: the fixed point z* = tanh(W z* + U x + b) found by iterating outside the
/// graph (torch's <c>with torch.no_grad()</c>), then one application of the layer at z* whose backward pass is the
/// implicit function theorem, as a <c>torch.autograd.Function</c> (here <see cref="Diff.CustomVjp(Func{Expr[], Expr}, Func{Expr[], Expr, Expr?[]})"/>):
/// the cotangent g at z* becomes v with (I − J)ᵀ v = g, J = ∂f/∂z at z*, solved with <see cref="Expr.Solve"/>, and v
/// goes back through f's other inputs. Held to the fixed point iterated over doubles, the gradient to central
/// differences of the converged loss, and to the gradient through the iteration unrolled in the graph.
/// </summary>
public class ClientNineteenDeqTests
{
    const int Z = 4, X = 3, Unrolled = 120;

    static readonly double[] WInit = Values(Z * Z, 50).Select(v => 0.15 * v).ToArray();
    static readonly double[] UInit = Values(Z * X, 51).Select(v => 0.7 * v).ToArray();
    static readonly double[] BInit = Values(Z, 52).Select(v => 0.2 * v).ToArray();
    static readonly double[] XInit = Values(X, 53);
    static readonly double[] Target = Values(Z, 54).Select(v => 0.5 * v).ToArray();

    static Tensor[] Inputs() => [Tensor.FromArray(WInit, Z, Z), Tensor.FromArray(UInit, Z, X), Tensor.FromArray(BInit), Tensor.FromArray(XInit)];

    // ---- the client, as written against the README ----

    /// <summary>f(z) = tanh(W z + U x + b); q is [W, U, b, x].</summary>
    static Expr F(Expr[] q, Expr z) => (q[0].MatMul(z) + q[1].MatMul(q[3]) + q[2]).Tanh();

    /// <summary>The forward solver, outside the graph: iterate f on tensors until it stops moving.</summary>
    static Tensor FixedPoint(Tensor[] q)
    {
        var z = Tensor.Zeros(Z);
        for (int k = 0; k < 500; k++)
        {
            var next = (q[0].MatMul(z) + q[1].MatMul(q[3]) + q[2]).Tanh();
            bool settled = (next - z).Abs().Max().ToScalar() == 0;
            z = next;
            if (settled) break;
        }
        return z;
    }

    /// <summary>
    /// The equilibrium layer at given parameter values: its value is f(z*), z* found beforehand, and its derivative
    /// is the implicit one.
    /// </summary>
    static Func<Expr[], Expr> Deq(Tensor zStar) => Diff.CustomVjp("deq",
        q => F(q, zStar),
        (q, g) =>
        {
            var jacobian = Diff.Jacobian(z => F(q, z))(zStar);                   // ∂f/∂z at z*, [Z, Z]
            var v = (Expr.Eye(Z) - jacobian).Transpose().Solve(g);               // (I − J)ᵀ v = g
            return Diff.Vjp(qq => F(qq, zStar), q).Pullback(v);                  // vᵀ ∂f/∂(W, U, b, x)
        });

    static Expr LossOf(Expr z) => 0.5 * (z - Tensor.FromArray(Target)).Square().Sum();

    // ---- the reference over doubles ----

    static double[] ReferenceFixedPoint(double[] flat)
    {
        var (w, u, b, x) = Split(flat);
        var z = new double[Z];
        for (int k = 0; k < 2000; k++)
            z = Enumerable.Range(0, Z).Select(i =>
                Math.Tanh(Enumerable.Range(0, Z).Sum(j => w[i * Z + j] * z[j]) + Enumerable.Range(0, X).Sum(j => u[i * X + j] * x[j]) + b[i])).ToArray();
        return z;
    }

    static (double[] W, double[] U, double[] B, double[] X) Split(double[] flat) =>
        (flat[..(Z * Z)], flat[(Z * Z)..(Z * Z + Z * X)], flat[(Z * Z + Z * X)..(Z * Z + Z * X + Z)], flat[(Z * Z + Z * X + Z)..]);

    static double ReferenceLoss(double[] flat) => 0.5 * ReferenceFixedPoint(flat).Zip(Target).Sum(z => (z.First - z.Second) * (z.First - z.Second));

    static readonly double[] Flat = [.. WInit, .. UInit, .. BInit, .. XInit];

    [Fact]
    public void TheSolverFindsTheFixedPointOfTheDoubleIteration()
    {
        var q = Inputs();
        var zStar = FixedPoint(q);
        Close(ReferenceFixedPoint(Flat), zStar.ToDoubleArray(), 1e-15, "z*");
        Close(zStar.ToDoubleArray(), Deq(zStar)([.. q.Select(t => (Expr)t)]).Eval().ToDoubleArray(), 1e-15, "the layer's value is z*");
    }

    [Fact]
    public void TheImplicitGradientIsCentralDifferencesOfTheConvergedLossAndTheUnrolledGradient()
    {
        var q = Inputs();
        var zStar = FixedPoint(q);
        var implicitGradient = Diff.Grad((Expr[] p) => LossOf(Deq(zStar)(p)))([.. q.Select(t => (Expr)t)]);
        var implicitFlat = Expr.EvalMany(implicitGradient).SelectMany(t => t.ToDoubleArray()).ToArray();
        Close(Gradient(ReferenceLoss, Flat), implicitFlat, 1e-8, "central differences");

        // backpropagation through the iteration itself, unrolled in the graph long enough to converge
        var unrolledGradient = Diff.Grad((Expr[] p) => LossOf(Expr.Repeat(Unrolled, z => F(p, z), Expr.Zeros(Z))))([.. q.Select(t => (Expr)t)]);
        Close(Expr.EvalMany(unrolledGradient).SelectMany(t => t.ToDoubleArray()).ToArray(), implicitFlat, 1e-12, "unrolled");
    }

    [Fact]
    public void OneStepThroughTheLayerIsNotTheImplicitGradient()
    {
        // differentiating only the last application f(z*) (z* held) misses (I − J)⁻ᵀ: the solve matters
        var q = Inputs();
        var zStar = FixedPoint(q);
        var oneStep = Diff.Grad((Expr[] p) => LossOf(F(p, zStar)))([.. q.Select(t => (Expr)t)]);
        var oneStepFlat = Expr.EvalMany(oneStep).SelectMany(t => t.ToDoubleArray()).ToArray();
        var expected = Gradient(ReferenceLoss, Flat);
        Assert.True(expected.Zip(oneStepFlat).Max(z => Math.Abs(z.First - z.Second)) > 1e-3, "the one-step gradient differs");
    }
}
