namespace FunctionalDiff;

/// <summary>How <see cref="Diff.Jacobian(System.Func{Expr, Expr}, JacobianMode, int?)"/> assembles a Jacobian, as JAX's
/// <c>jacfwd</c> and <c>jacrev</c>. Both give the same matrix; they differ in cost.</summary>
public enum JacobianMode
{
    /// <summary>Forward when the input has fewer elements than the output, otherwise reverse.</summary>
    Auto,
    /// <summary>One forward-mode product (JVP) per input element, batched: cheap for few inputs (<c>jacfwd</c>).</summary>
    Forward,
    /// <summary>One reverse-mode product (VJP) per output element, batched: cheap for few outputs (<c>jacrev</c>).</summary>
    Reverse,
}
