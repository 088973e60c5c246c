using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

/// <summary>How one level of a nested derivative is taken.</summary>
public enum Mode
{
    /// <summary>Reverse mode: one pullback gives the whole gradient.</summary>
    Reverse,
    /// <summary>Forward mode: one JVP per basis vector of the input, each giving one entry of the gradient.</summary>
    Forward,
}

/// <summary>An outer mode over an inner mode; named "rr", "rf", "fr" or "ff", outer first.</summary>
public readonly record struct ModePair(Mode Outer, Mode Inner)
{
    /// <summary>The four combinations, in the order the report lists them.</summary>
    public static readonly ModePair[] All =
    {
        new(Mode.Reverse, Mode.Reverse), new(Mode.Reverse, Mode.Forward),
        new(Mode.Forward, Mode.Reverse), new(Mode.Forward, Mode.Forward),
    };

    /// <summary>"rr", "rf", "fr" or "ff".</summary>
    public string Name => $"{Letter(Outer)}{Letter(Inner)}";

    static char Letter(Mode mode) => mode == Mode.Reverse ? 'r' : 'f';
}

/// <summary>The gradient of a one-element function at x, taken in some mode: how a model takes its inner gradient.</summary>
public delegate Expr OurGradient(Func<Expr, Expr> f, Expr x);

/// <summary>The same in TorchSharp: the result keeps its graph (create_graph), so it can be differentiated again.</summary>
public delegate TT TorchGradient(Func<TT, TT> f, TT x);

/// <summary>
/// A model with a transform inside it: a scalar objective of one flat parameter vector θ, written
/// once for each engine around an inner gradient whose mode is a parameter. The meta-derivative
/// is the outer gradient of the objective in θ.
/// </summary>
/// <param name="Ours">The objective at θ, given how to take the inner gradient.</param>
/// <param name="Torch">The same objective in TorchSharp.</param>
public sealed record NestedModel(Func<OurGradient, Expr, Expr> Ours, Func<TorchGradient, TT, TT> Torch)
{
    /// <summary>Whether the comparison also checks the outer Hessian-vector product in every mode.</summary>
    public bool WithHvp { get; init; }

    /// <summary>The check names this model's case reports, in order.</summary>
    public IEnumerable<string> CheckNames()
    {
        yield return nameof(Check.Value);
        foreach (var m in ModePair.All) yield return "Gradient " + m.Name;
        if (WithHvp)
            foreach (var m in ModePair.All) yield return "HVP " + m.Name;
    }
}

/// <summary>
/// Our gradients in each mode, built only from the public C# API as a user writes them:
/// reverse is <c>Diff.Grad(f)(x)</c>, forward is one <c>Diff.Jvp</c> per basis vector.
/// </summary>
public static class OurNested
{
    /// <summary>The gradient of a one-element f at a vector x in the given mode.</summary>
    public static Expr Gradient(Mode mode, Func<Expr, Expr> f, Expr x)
    {
        if (mode == Mode.Reverse) return Diff.Grad(f)(x);
        int n = x.Shape.Aggregate(1, (a, b) => a * b);
        var entries = new Expr[n];
        for (int i = 0; i < n; i++)
        {
            var basis = new double[n];
            basis[i] = 1;
            entries[i] = Diff.Jvp(f, x, OurSide.Make(basis, x.Shape, x.DType)).Tangent.Reshape();
        }
        return Expr.Stack(0, entries).Reshape(x.Shape);
    }

    /// <summary>The gradient strategy a model's inner level uses.</summary>
    public static OurGradient Inner(Mode mode) => (f, x) => Gradient(mode, f, x);

    /// <summary>The meta-gradient: the outer gradient in θ of the objective with its inner gradient in the pair's modes.</summary>
    public static Expr MetaGradient(NestedModel model, ModePair modes, Expr theta) =>
        Gradient(modes.Outer, t => model.Ours(Inner(modes.Inner), t), theta);

    /// <summary>
    /// The outer Hessian applied to v. Outer reverse: reverse over the reverse meta-gradient,
    /// ∇⟨∇L, v⟩. Outer forward: a JVP of the forward meta-gradient along v.
    /// </summary>
    public static Expr Hvp(NestedModel model, ModePair modes, Expr theta, Expr v) =>
        modes.Outer == Mode.Reverse
            ? Gradient(Mode.Reverse, t => (MetaGradient(model, modes, t) * v).Sum(), theta)
            : Diff.Jvp(t => MetaGradient(model, modes, t), theta, v).Tangent;
}

/// <summary>
/// libtorch's gradients in each mode, with its nested autograd (create_graph). Forward mode is the
/// double-VJP trick, J·t = d/du ⟨Jᵀu, t⟩ with a dummy u, once per basis vector. Every
/// torch.autograd.grad goes through <see cref="TorchSide.Grad"/>, which never differentiates an output
/// without a graph (that would abort the process natively).
/// </summary>
public static class TorchNested
{
    /// <summary>The gradient of a one-element f at x in the given mode, keeping its graph when <paramref name="createGraph"/>.</summary>
    public static TT Gradient(Mode mode, Func<TT, TT> f, TT x, bool createGraph = true)
    {
        // a point that does not depend on anything differentiable (a constant start) becomes a leaf,
        // because libtorch refuses to differentiate with respect to a tensor that has no grad
        if (!x.requires_grad) x = x.detach().requires_grad_(true);
        var y = f(x);
        if (mode == Mode.Reverse)
            return TorchSide.Grad(y, new[] { x }, null, createGraph)[0] ?? torch.zeros_like(x);
        long n = x.numel();
        var entries = new TT[n];
        for (int i = 0; i < n; i++)
        {
            var basis = new double[n];
            basis[i] = 1;
            entries[i] = Jvp(y, x, torch.tensor(basis, dtype: x.dtype).reshape(x.shape), createGraph);
        }
        return torch.stack(entries, 0).reshape(x.shape);
    }

    /// <summary>J·t for y = g(x), by the double-VJP trick.</summary>
    public static TT Jvp(TT y, TT x, TT t, bool createGraph = true)
    {
        var dummy = torch.zeros_like(y).requires_grad_(true);
        var transposed = TorchSide.Grad(y, new[] { x }, dummy, createGraph: true)[0];
        if (transposed is null) return torch.zeros_like(y);
        return TorchSide.Grad((transposed * t).sum(), new[] { dummy }, null, createGraph)[0] ?? torch.zeros_like(y);
    }

    /// <summary>The gradient strategy a model's inner level uses.</summary>
    public static TorchGradient Inner(Mode mode) => (f, x) => Gradient(mode, f, x);

    /// <summary>The meta-gradient in the pair's modes.</summary>
    public static TT MetaGradient(NestedModel model, ModePair modes, TT theta, bool createGraph = true) =>
        Gradient(modes.Outer, t => model.Torch(Inner(modes.Inner), t), theta, createGraph);

    /// <summary>The outer Hessian applied to v, grouped as in <see cref="OurNested.Hvp"/>.</summary>
    public static TT Hvp(NestedModel model, ModePair modes, TT theta, TT v)
    {
        if (modes.Outer == Mode.Reverse)
            return Gradient(Mode.Reverse, t => (MetaGradient(model, modes, t) * v).sum(), theta, createGraph: false);
        if (!theta.requires_grad) theta = theta.detach().requires_grad_(true);
        return Jvp(MetaGradient(model, modes, theta), theta, v, createGraph: false);
    }
}
