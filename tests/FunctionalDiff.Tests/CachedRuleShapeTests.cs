using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Several ops keep one custom VJP rule per key (the axis, the axes with the correction and keepDims) for the
/// process's life, and every shape with that key shares it. A rule that read a length from the first shape it met,
/// instead of from the node it differentiates, would give the second shape a wrong gradient; so each op here is
/// differentiated at one shape and then at another with the same key, to first and second order, against float64
/// central differences at each.
/// </summary>
public class CachedRuleShapeTests
{
    public static TheoryData<string> Ops() => new() { "Glu(1)", "Var(1)", "Std(1)", "Norm(2, 1)", "Var(1, 0)", "Std([1], keepDims)" };

    static Expr Apply(string op, Expr x) => op switch
    {
        "Glu(1)" => x.Glu(1),
        "Var(1)" => x.Var(1),
        "Std(1)" => x.Std(1),
        "Norm(2, 1)" => x.Norm(2.0, 1),
        "Var(1, 0)" => x.Var(1, correction: 0.0),
        "Std([1], keepDims)" => x.Std(new[] { 1 }, keepDims: true),
        _ => throw new ArgumentException(op),
    };

    // A nonlinear one-element loss over the op's output, so the cotangent differs between entries.
    static Expr Loss(string op, Expr x) => Apply(op, x).Sin().Sum();

    [Theory]
    [MemberData(nameof(Ops))]
    public void EachShapeWithTheSameKeyGetsItsOwnGradient(string op)
    {
        // [2, 4] first, then rows of another length and count: the rule registered for the first serves both
        foreach (var shape in new[] { new[] { 2, 4 }, new[] { 3, 6 }, new[] { 1, 2 } })
        {
            var x = Tensor.FromArray(Values(shape[0] * shape[1], salt: shape[1]).Select(v => 0.5 + v).ToArray(), shape);
            var gradient = Diff.Grad(e => Loss(op, e))(x).Eval().ToDoubleArray();
            Close(NumericGradient(e => Loss(op, e), x), gradient, 1e-6, $"{op} gradient at [{string.Join(", ", shape)}]");

            // second order: the gradient of the squared gradient's sum, against central differences of the first
            // order's values (which the line above checked)
            var second = Diff.Grad(e => Diff.Grad(z => Loss(op, z))(e).Square().Sum())(x).Eval().ToDoubleArray();
            var expected = Gradient(v => Diff.Grad(z => Loss(op, z))(Tensor.FromArray(v, shape)).Eval().ToDoubleArray().Sum(g => g * g),
                x.ToDoubleArray());
            Close(expected, second, 1e-5, $"{op} second order at [{string.Join(", ", shape)}]");
        }
    }
}
