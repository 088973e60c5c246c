using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The ops added on 2026-12-05 (norms, logaddexp, views, the torch extras, cumulative extremes, interpolation) under
/// Diff.Vmap: each batched result equals the stacked results of the function applied example by example (a loop
/// written here), and the per-example gradients equal each example's own gradient.
/// </summary>
public class VmapNewOpsTests
{
    public static IEnumerable<object[]> Functions() => new[]
    {
        new object[] { "BatchNorm", (Func<Expr, Expr>)(x => Nn.BatchNorm(x.Reshape(3, 4))) },
        new object[] { "GroupNorm", (Func<Expr, Expr>)(x => Nn.GroupNorm(x.Reshape(1, 4, 3), 2)) },
        new object[] { "InstanceNorm", (Func<Expr, Expr>)(x => Nn.InstanceNorm(x.Reshape(1, 2, 6))) },
        new object[] { "LogAddExp", (Func<Expr, Expr>)(x => Expr.LogAddExp(x, x.Sin() * 2.0)) },
        new object[] { "Hypot", (Func<Expr, Expr>)(x => Expr.Hypot(x, x.Cos())) },
        new object[] { "Sinc", (Func<Expr, Expr>)(x => x.Sinc()) },
        new object[] { "Nanmean", (Func<Expr, Expr>)(x => x.Reshape(3, 4).Nanmean(1)) },
        new object[] { "Cdist", (Func<Expr, Expr>)(x => Expr.Cdist(x.Reshape(3, 4), x.Reshape(3, 4).Sin())) },
        new object[] { "Kron", (Func<Expr, Expr>)(x => x.Reshape(3, 4).Kron(x.Reshape(3, 4).Narrow(1, 0, 2))) },
        new object[] { "Dot", (Func<Expr, Expr>)(x => x.Dot(x.Sin())) },
        new object[] { "CholeskySolve", (Func<Expr, Expr>)(x => x.Reshape(4, 3).CholeskySolve(x.Narrow(0, 0, 4).Reshape(2, 2).Abs().Kron(Tensor.Ones(2, 2)) + 4 * Expr.Eye(4))) },
        new object[] { "Tile", (Func<Expr, Expr>)(x => x.Reshape(3, 4).Tile(2, 1)) },
        new object[] { "Movedim", (Func<Expr, Expr>)(x => x.Reshape(2, 3, 2).Movedim(0, 2).Tanh()) },
        new object[] { "RepeatInterleave", (Func<Expr, Expr>)(x => x.Reshape(3, 4).RepeatInterleave(2, 1)) },
        new object[] { "LogCumSumExp", (Func<Expr, Expr>)(x => x.LogCumSumExp(0)) },
        new object[] { "Cummax", (Func<Expr, Expr>)(x => x.Cummax(0).Values) },
        new object[] { "Interpolate", (Func<Expr, Expr>)(x => Nn.Interpolate(x.Reshape(1, 1, 3, 4), new[] { 5, 6 }, InterpolationMode.Linear)) },
        new object[] { "PixelShuffle", (Func<Expr, Expr>)(x => Nn.PixelShuffle(x.Reshape(1, 4, 3, 1), 2)) },
    };

    [Theory]
    [MemberData(nameof(Functions))]
    public void VmapEqualsTheLoopOverExamples(string name, Func<Expr, Expr> f)
    {
        const int batch = 3;
        var xs = T(new[] { batch, 12 }, salt: name.Length);
        var batched = Diff.Vmap(f)(xs).Eval().ToDoubleArray();
        var looped = Enumerable.Range(0, batch).SelectMany(b => f(xs.Row(b)).Eval().ToDoubleArray()).ToArray();
        Close(looped, batched, 1e-14, name);
        var perExample = Diff.Vmap(x => Diff.Grad(v => f(v).Sin().Sum())(x))(xs).Eval().ToDoubleArray();
        var each = Enumerable.Range(0, batch).SelectMany(b => Diff.Grad(v => f(v).Sin().Sum())(xs.Row(b)).Eval().ToDoubleArray()).ToArray();
        Close(each, perExample, 1e-13, name + " gradients");
    }
}
