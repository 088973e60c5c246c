using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>Diff.Checkpoint and Expr.Scan with a checkpoint policy, from C#: values and gradients against the
/// same functions without checkpointing and against loops unrolled in the test.</summary>
public class CheckpointTests
{
    static Expr Row(Expr xs, int t) => xs.Slice(0, t, t + 1).Reshape(xs.Shape[1..]);

    [Fact]
    public void ACheckpointedBlockHasTheValueAndGradientOfTheBlock()
    {
        Expr w = T([4, 4], salt: 11) * 0.5, x0 = T([4], salt: 12);
        Expr Block(Expr h) => w.MatMul(h).Tanh() + h.Sin();
        var checkpointed = Diff.Checkpoint(Block);
        Expr Plain(Expr x) => Block(Block(x)).Square().Sum();
        Expr Remat(Expr x) => checkpointed(checkpointed(x)).Square().Sum();
        Close(Plain(x0).Eval().ToDoubleArray(), Remat(x0).Eval().ToDoubleArray(), 0, "value");
        // The gradient to rounding, not bit for bit: tanh's slope is the primitive sech² where its cotangent can be
        // huge (here it holds the matmul) and the polynomial 1 − y² where the cotangent is the walk's placeholder,
        // as inside the checkpointed block's own pullback; the two agree to a few ulps.
        Close(Diff.Grad(Plain)(x0).Eval().ToDoubleArray(), Diff.Grad(Remat)(x0).Eval().ToDoubleArray(), 1e-14, "gradient");
    }

    [Fact]
    public void TheArrayOverloadTakesSeveralArgumentsAndResults()
    {
        Expr a0 = T([3], salt: 13), b0 = T([3], salt: 14);
        var f = Diff.Checkpoint((Expr[] p) => [p[0] * p[1], (p[0] - p[1]).Exp()]);
        Expr Loss(Expr[] p) { var r = f(p); return r[0].Sum() + r[1].Sum(); }
        Expr Plain(Expr[] p) => (p[0] * p[1]).Sum() + (p[0] - p[1]).Exp().Sum();
        var g = Diff.Grad(Loss)([a0, b0]);
        var expected = Diff.Grad(Plain)([a0, b0]);
        for (int i = 0; i < 2; i++) Close(expected[i].Eval().ToDoubleArray(), g[i].Eval().ToDoubleArray(), 0, $"gradient {i}");
    }

    [Fact]
    public void AScanWithSqrtCheckpointingEqualsTheUnrolledLoop()
    {
        Expr u = T([3, 2], salt: 15), h0 = T([3], salt: 16), xs = T([10, 2], salt: 17), w0 = T([3, 3], salt: 18);
        Expr Loss(Expr w, ScanOptions options)
        {
            var (carry, ys) = Expr.Scan((h, x) => { var n = (w.MatMul(h) + u.MatMul(x)).Tanh(); return (n, n.Sum()); }, h0, xs, options);
            return carry.Sum() + (ys * ys).Sum();
        }
        Expr Unrolled(Expr w)
        {
            var h = h0;
            var ys = new Expr[10];
            for (int t = 0; t < 10; t++) { h = (w.MatMul(h) + u.MatMul(Row(xs, t))).Tanh(); ys[t] = h.Sum(); }
            var stacked = Expr.Stack(0, ys);
            return h.Sum() + (stacked * stacked).Sum();
        }
        foreach (var checkpoint in new[] { ScanCheckpoint.Sqrt, ScanCheckpoint.Every(3), ScanCheckpoint.None })
        {
            var options = new ScanOptions { Checkpoint = checkpoint };
            Close(Unrolled(w0).Eval().ToDoubleArray(), Loss(w0, options).Eval().ToDoubleArray(), 1e-12, $"value, {checkpoint}");
            Close(Diff.Grad(Unrolled)(w0).Eval().ToDoubleArray(), Diff.Grad(w => Loss(w, options))(w0).Eval().ToDoubleArray(), 1e-12,
                $"gradient, {checkpoint}");
        }
    }

    [Fact]
    public void ACheckpointIntervalBelowOneIsRejected()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ScanCheckpoint.Every(0));
        Assert.Equal("k", e.ParamName);
        // the message names the method and the value, as every other error of the library
        Assert.StartsWith("ScanCheckpoint.Every: ", e.Message);
        Assert.Contains("got 0", e.Message);
    }
}
