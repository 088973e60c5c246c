using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>Errors: null arguments, shape mistakes with readable messages, and Eval of a symbolic argument.</summary>
public class ErrorTests
{
    static readonly Expr M = Tensor.Ones(new[] { 2, 3 });

    public static IEnumerable<object[]> NullCases() => new (string, Action)[]
    {
        ("Tensor.FromArray", () => Tensor.FromArray((double[])null!)),
        ("Tensor.FromArray shape", () => Tensor.FromArray(new[] { 1.0 }, null!)),
        ("Tensor to Expr", () => { Expr e = (Tensor)null!; }),
        ("operator +", () => { var e = M + null!; }),
        ("MatMul", () => M.MatMul(null!)),
        ("Pow", () => M.Pow(null!)),
        ("Maximum", () => Expr.Maximum(null!, M)),
        ("Where", () => Expr.Where(M, M, null!)),
        ("Reshape", () => M.Reshape(null!)),
        ("Sum axes", () => M.Sum((int[])null!)),
        ("Concat", () => Expr.Concat(0, M, null!)),
        ("Gather", () => M.Gather(0, null!)),
        ("Lt", () => M.Lt(null!)),
        ("Loss.Mse", () => Loss.Mse(M, null!)),
        ("Loss.CrossEntropy", () => Loss.CrossEntropy(M, null!)),
        ("Nn.Linear", () => Nn.Linear(null!, M)),
        ("Diff.Grad", () => Diff.Grad((Func<Expr, Expr>)null!)),
        ("Diff.Grad argument", () => Diff.Grad(x => x.Sum())(null!)),
        ("Diff.Vjp", () => Diff.Vjp(x => x, null!)),
        ("Diff.Vjp many", () => Diff.Vjp(xs => xs[0], M, null!)),
        ("Diff.Vjp pullback", () => Diff.Vjp(x => x, M).Pullback(null!)),
        ("Diff.ValueAndGrad", () => Diff.ValueAndGrad((Func<Expr, Expr>)null!, M)),
        ("Diff.Jvp", () => Diff.Jvp(x => x, M, null!)),
        ("Diff.Hvp", () => Diff.Hvp(x => x.Sum(), M, null!)),
        ("Diff.Jacobian", () => Diff.Jacobian(null!)),
        ("Diff.Hessian", () => Diff.Hessian(null!)),
        ("Diff.CustomVjp", () => Diff.CustomVjp(x => x, null!)),
        ("Diff.CheckGrad", () => Diff.CheckGrad(x => x.Sum(), null!)),
    }.Select(c => new object[] { c.Item1, c.Item2 });

    [Theory]
    [MemberData(nameof(NullCases))]
    public void NullArgumentsRaiseArgumentNullException(string member, Action call)
    {
        Assert.False(string.IsNullOrEmpty(member));
        Assert.Throws<ArgumentNullException>(call);
    }

    [Fact]
    public void MatMulShapeMistakeNamesTheOpAndShapes()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => M.MatMul(M));
        Assert.Equal("MatMul: [2,3] @ [2,3]: inner dimensions 3 and 2 differ", e.Message);
    }

    public static IEnumerable<object[]> ShapeCases() => new (string, Action)[]
    {
        ("Add", () => { var e = M + Tensor.Ones(new[] { 4 }); }),
        ("Reshape", () => M.Reshape(4, 2)),
        ("Sum", () => M.Sum(2)),
        ("Permute", () => M.Transpose(0, 0)),
        ("BroadcastTo", () => M.BroadcastTo(3, 3)),
        ("Slice", () => M.Slice(0, 0, 1, step: 0)),
        ("Concat", () => Expr.Concat(0, M, Tensor.Ones(new[] { 2, 2 }))),
        ("Grad", () => Diff.Grad(x => x * 2.0)(M)),
        ("CrossEntropy", () => Loss.CrossEntropy(M, new[] { 0, 1, 2 })),
    }.Select(c => new object[] { c.Item1, c.Item2 });

    [Theory]
    [MemberData(nameof(ShapeCases))]
    public void ShapeMistakesRaiseArgumentExceptionNamingTheOp(string op, Action call)
    {
        var e = Assert.ThrowsAny<ArgumentException>(call);
        Assert.Contains(op, e.Message);
    }

    [Fact]
    public void ATargetOutsideTheClassesIsRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.CrossEntropy(M, new[] { 0, 3 }));
    }

    [Fact]
    public void EvalOfATransformsArgumentExplainsWhy()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Diff.Grad(x => { x.Sin().Eval(); return x.Sum(); })(M));
        Assert.Contains("symbolic argument of a transform", e.Message);
        Assert.Throws<InvalidOperationException>(() => Diff.Vjp(x => { x.Eval(); return x; }, M));
    }

    [Fact]
    public void AFunctionReturningNullIsReported()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Diff.Grad((Expr x) => null!)(M));
        Assert.Contains("null", e.Message);
    }
}
