namespace FunctionalDiff;

// Second-order and Jacobian transforms of functions of several inputs (a loss of W and b), written
// with the one-input transforms and Grad, so they inherit their rules, checks and nesting.
public static partial class Diff
{
    /// <summary>
    /// The Hessian of a one-element f of several inputs at <paramref name="primals"/> applied to the direction
    /// <paramref name="tangents"/> (one per input), without building the Hessian: result i is
    /// Σⱼ ∂²f/∂xᵢ∂xⱼ · vⱼ, with xᵢ's shape.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The counts of primals and tangents differ, a tangent does not have its primal's shape, or f returns more or
    /// fewer than one element.
    /// </exception>
    public static Expr[] Hvp(Func<Expr[], Expr> f, Expr[] primals, Expr[] tangents)
    {
        ArgumentNullException.ThrowIfNull(f);
        Interop.ThrowIfAnyNull(primals, nameof(primals));
        Interop.ThrowIfAnyNull(tangents, nameof(tangents));
        if (primals.Length != tangents.Length)
            throw new FunctionalDiff.Core.ShapeException($"Hvp: {tangents.Length} tangents for {primals.Length} primals");
        var directions = new Expr[tangents.Length];
        for (int i = 0; i < primals.Length; i++)
        {
            Interop.SameShape("Hvp", primals[i], tangents[i]);
            directions[i] = Expr.Wrap(Expr.Align(primals[i], tangents[i]).B);
        }
        Expr OneElement(Expr[] xs)
        {
            var y = f(xs) ?? throw new InvalidOperationException("Hvp: f returned null");
            if (y.Numel != 1)
                throw new FunctionalDiff.Core.ShapeException($"Hvp: f must return one element, but it returned shape [{string.Join(",", y.Shape)}]");
            return y;
        }
        // the gradient of ⟨∇f(x), v⟩: reverse over reverse, each transform with fresh variables
        return Grad((Expr[] xs) =>
        {
            var g = Grad(OneElement)(xs);
            var total = (g[0] * directions[0]).Sum();
            for (int i = 1; i < g.Length; i++) total += (g[i] * directions[i]).Sum();
            return total;
        })(primals);
    }

    /// <summary>
    /// The Jacobians of f with respect to each of its inputs (JAX's <c>jacrev(f, argnums=(0, 1, ...))</c>): result i
    /// has shape f(xs).Shape followed by xs[i].Shape. The mode is chosen by size for each input unless given.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">mode is not a <see cref="JacobianMode"/>.</exception>
    public static Func<Expr[], Expr[]> Jacobian(Func<Expr[], Expr> f, JacobianMode mode = JacobianMode.Auto)
    {
        ArgumentNullException.ThrowIfNull(f);
        return xs =>
        {
            Interop.ThrowIfAnyNull(xs, nameof(xs));
            var result = new Expr[xs.Length];
            for (int i = 0; i < xs.Length; i++)
            {
                int k = i;
                result[i] = Jacobian(x =>
                {
                    var args = (Expr[])xs.Clone();
                    args[k] = x;
                    return f(args);
                }, mode)(xs[k]);
            }
            return result;
        };
    }

    /// <summary>
    /// The Hessian of a one-element f of several inputs, in blocks (JAX's <c>hessian(f, argnums=(0, 1, ...))</c>):
    /// result[i][j] is ∂²f/∂xᵢ∂xⱼ, of shape xs[i].Shape followed by xs[j].Shape, so result[j][i] is its transpose.
    /// Each block is the forward-mode Jacobian in xⱼ of the gradient in xᵢ, as <see cref="Hessian(Func{Expr, Expr})"/>.
    /// </summary>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    public static Func<Expr[], Expr[][]> Hessian(Func<Expr[], Expr> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var lifted = Interop.LiftManyOneElement(f, "Hessian");
        return xs =>
        {
            Interop.ThrowIfAnyNull(xs, nameof(xs));
            var blocks = FunctionalDiff.Core.Diff.hessianN(lifted, Interop.List(xs));
            return blocks.Select(row => Interop.Wrap(row)).ToArray();
        };
    }
}
