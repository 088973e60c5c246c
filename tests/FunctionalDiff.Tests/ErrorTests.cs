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
        ("Tensor to Expr", () => M.MatMul((Tensor)null!)),
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
        ("Loss.CrossEntropy", () => Loss.CrossEntropy(M, (int[])null!)),
        ("Loss.CrossEntropy targets", () => Loss.CrossEntropy(M, (Expr)null!)),
        ("Nn.Linear", () => Nn.Linear(null!, M)),
        ("Diff.Grad", () => Diff.Grad((Func<Expr, Expr>)null!)),
        ("Diff.Grad argument", () => Diff.Grad(x => x.Sum())(null!)),
        ("Diff.Vjp", () => Diff.Vjp(x => x, null!)),
        ("Diff.Vjp", () => Diff.Vjp(xs => xs[0], M, null!)),
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
        ("Transpose", () => M.Transpose(0, 0, 1)),
        ("Transpose", () => M.Transpose(0, 2)),
        ("Permute", () => M.Permute(1, 1)),
        ("BroadcastTo", () => M.BroadcastTo(3, 3)),
        ("Slice", () => M.Slice(0, 0, 1, step: 0)),
        ("Concat", () => Expr.Concat(0, M, Tensor.Ones(new[] { 2, 2 }))),
        ("Grad", () => Diff.Grad(x => x * 2.0)(M)),
        ("CrossEntropy", () => Loss.CrossEntropy(M, new[] { 0, 1, 2 })),
        // Public methods built on a core op or transform of another name: the message must name the
        // method the caller wrote, never the op inside it (Less, Permute, Max, Sub, MatMul, Jvp, Grad).
        ("Lt", () => M.Lt(V4)),
        ("Lt", () => { var e = M < V4; }),
        ("Le", () => { var e = M <= V4; }),
        ("Gt", () => M.Gt(V4)),
        ("Ge", () => M.Ge(V4)),
        ("Eq", () => M.Eq(V4)),
        ("Ne", () => M.Ne(V4)),
        ("Softmax", () => M.Softmax(2)),
        ("LogSoftmax", () => M.LogSoftmax(-3)),
        ("LogSumExp", () => M.LogSumExp(5)),
        ("LayerNorm", () => ((Expr)Tensor.Scalar(1.0)).LayerNorm()),
        ("Mse", () => Loss.Mse(V3, Tensor.Ones(new[] { 3, 1 }))),
        ("BinaryCrossEntropyWithLogits", () => Loss.BinaryCrossEntropyWithLogits(M, V3)),
        ("Linear", () => Nn.Linear(M, Tensor.Ones(new[] { 3, 2 }))),
        ("Linear", () => Nn.Linear(M, Tensor.Ones(new[] { 4, 3 }), V3)),
        ("Jvp", () => Diff.Jvp(x => x.Sin(), M, V3)),
        ("Hvp", () => Diff.Hvp(x => x.Sum(), M, V3)),
        ("Hvp", () => Diff.Hvp(x => x.Sin(), M, M)),
        ("Hessian", () => Diff.Hessian(x => x.Sin())(M)),
        ("ValueAndGrad", () => Diff.ValueAndGrad(x => x.Sin(), M)),
        ("Grad", () => Diff.Grad((x, y) => x * y)(M, M)),
        ("Grad", () => Diff.Grad(xs => xs[0].Sin())(new[] { M })),
        ("ValueAndGrad", () => Diff.ValueAndGrad(xs => xs[0].Sin(), M)),
        ("Vjp", () => Diff.Vjp(x => x.Sin(), M).Pullback(V3)),
        ("Vjp", () => Diff.Vjp((x, y) => x * y, M, M).Pullback(V3)),
        ("Vjp", () => Diff.Vjp(xs => xs[0].Sin(), M).Pullback(V3)),
        ("CustomVjp", () => Diff.Grad(x => Diff.CustomVjp(z => z.Sin(), (z, g) => g.Sum())(x).Sum())(M)),
        ("CheckGrad", () => Diff.CheckGrad(x => x.Sum(), Tensor.Ones(new[] { 2 }), order: 0)),
        // The rest of the surface, for completeness: each names itself already.
        ("Where", () => Expr.Where(M, V4, M)),
        ("Pow", () => M.Pow(V4)),
        ("Maximum", () => Expr.Maximum(M, V4)),
        ("Minimum", () => Expr.Minimum(M, V4)),
        ("Atan2", () => Expr.Atan2(M, V4)),
        ("Mean", () => M.Mean(3)),
        ("Max", () => M.Max(new[] { 0, 0 })),
        ("Min", () => M.Min(-3)),
        ("Prod", () => M.Prod(2)),
        ("ArgMax", () => M.ArgMax(2)),
        ("Slice", () => M.Slice(2, 0, 1)),
        ("Pad", () => M.Pad(new[] { 1 }, new[] { 1 })),
        ("Flip", () => M.Flip(2)),
        ("Gather", () => M.Gather(0, V3)),
        ("ScatterAdd", () => Expr.ScatterAdd(0, V3, V4, new[] { 3 })),
        ("Stack", () => Expr.Stack(0, M, V3)),
        ("Transpose", () => V3.Transpose()),
        ("FromArray", () => Tensor.FromArray(new[] { 1.0, 2.0 }, 3)),
        ("Zeros", () => Tensor.Zeros(new[] { -1 })),
        ("Ones", () => Tensor.Ones(new[] { 2, -2 })),
    }.Select(c => new object[] { c.Item1, c.Item2 });

    static readonly Expr V3 = Tensor.Ones(new[] { 3 });
    static readonly Expr V4 = Tensor.Ones(new[] { 4 });

    [Theory]
    [MemberData(nameof(ShapeCases))]
    public void ShapeMistakesRaiseArgumentExceptionNamingTheMethod(string method, Action call)
    {
        var e = Assert.ThrowsAny<ArgumentException>(call);
        Assert.StartsWith(method + ": ", e.Message);
    }

    static readonly Tensor TM = Tensor.Ones(new[] { 2, 3 });
    static readonly Tensor T4 = Tensor.Ones(new[] { 4 });

    /// <summary>The eager Tensor methods name themselves as the Expr ones do, and give the shape.</summary>
    public static IEnumerable<object[]> TensorShapeCases() => new (string, Action)[]
    {
        ("Sum", () => TM.Sum(2)),
        ("Sum", () => TM.Sum(new[] { 0, 0 })),
        ("Mean", () => TM.Mean(3)),
        ("Max", () => TM.Max(-3)),
        ("Max", () => Tensor.Zeros(new[] { 0 }).Max()),
        ("Min", () => TM.Min(5)),
        ("Prod", () => TM.Prod(2)),
        ("ArgMax", () => TM.ArgMax(2)),
        ("Lt", () => { var e = TM < T4; }),
        ("Le", () => { var e = TM <= T4; }),
        ("Gt", () => { var e = TM > T4; }),
        ("Ge", () => { var e = TM >= T4; }),
        ("Eq", () => TM.Eq(T4)),
        ("Slice", () => { var e = TM[0..1, 0..9]; }),
        ("Slice", () => { var e = TM[3..]; }),
    }.Select(c => new object[] { c.Item1, c.Item2 });

    [Theory]
    [MemberData(nameof(TensorShapeCases))]
    public void TensorShapeMistakesNameTheMethodAndTheShape(string method, Action call)
    {
        var e = Assert.ThrowsAny<ArgumentException>(call);
        Assert.StartsWith(method + ": ", e.Message);
        Assert.Matches(@"\[[0-9,]*\]|rank 2", e.Message);
    }

    [Fact]
    public void AShapeMistakeNamesTheParametersAndTheirShapes()
    {
        var jvp = Assert.ThrowsAny<ArgumentException>(() => Diff.Jvp(x => x.Sin(), M, V3));
        Assert.Equal("Jvp: tangent of shape [3] does not match x of shape [2,3]", jvp.Message);
        var hvp = Assert.ThrowsAny<ArgumentException>(() => Diff.Hvp(x => x.Sin(), M, M));
        Assert.Equal("Hvp: f must return one element, but it returned shape [2,3]", hvp.Message);
        var mse = Assert.ThrowsAny<ArgumentException>(() => Loss.Mse(V3, Tensor.Ones(new[] { 3, 1 })));
        Assert.Contains("prediction of shape [3] and target of shape [3,1]", mse.Message);
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
