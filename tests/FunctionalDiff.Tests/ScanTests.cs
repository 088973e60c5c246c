using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>Expr.Scan and Expr.Repeat from C#, against the same loops unrolled in the test.</summary>
public class ScanTests
{
    static Expr Row(Expr xs, int t) => xs.Slice(0, t, t + 1).Reshape(xs.Shape[1..]);

    /// <summary>A tanh RNN: h' = tanh(W h + U x), y = sum(h').</summary>
    static (Expr Carry, Expr Y) Cell(Expr w, Expr u, Expr h, Expr x)
    {
        var next = (w.MatMul(h) + u.MatMul(x)).Tanh();
        return (next, next.Sum());
    }

    [Fact]
    public void ScanOfOneCarryEqualsTheUnrolledLoopInValueAndGradient()
    {
        Expr u = T([3, 2], salt: 1), h0 = T([3], salt: 2), xs = T([6, 2], salt: 3);
        var w0 = T([3, 3], salt: 4);
        Expr ScanLoss(Expr w)
        {
            var (carry, ys) = Expr.Scan((h, x) => Cell(w, u, h, x), h0, xs);
            return carry.Sum() + (ys * ys).Sum();
        }
        Expr UnrolledLoss(Expr w)
        {
            var h = h0;
            var ys = new Expr[6];
            for (int t = 0; t < 6; t++) (h, ys[t]) = Cell(w, u, h, Row(xs, t));
            var stacked = Expr.Stack(0, ys);
            return h.Sum() + (stacked * stacked).Sum();
        }
        Close(UnrolledLoss(w0).Eval().ToDoubleArray(), ScanLoss(w0).Eval().ToDoubleArray(), 1e-12, "value");
        Close(Diff.Grad(UnrolledLoss)(w0).Eval().ToDoubleArray(), Diff.Grad(ScanLoss)(w0).Eval().ToDoubleArray(), 1e-12, "gradient");
    }

    [Fact]
    public void ScanOfSeveralCarriesAndReverseEqualsTheUnrolledLoop()
    {
        Expr a0 = T([2], salt: 5), b0 = T([2], salt: 6), xs = T([4, 2], salt: 7);
        (Expr[] Carry, Expr[] Ys) Step(Expr[] c, Expr[] x) => ([c[0] * x[0].Sin() + c[1], c[1].Cos()], [c[0] * 2.0]);
        var (carry, ys) = Expr.Scan(Step, [a0, b0], [xs], reverse: true);
        Expr[] state = [a0, b0];
        var expectedYs = new Expr[4];
        for (int t = 3; t >= 0; t--)
        {
            var (next, y) = Step(state, [Row(xs, t)]);
            state = next;
            expectedYs[t] = y[0];
        }
        Close(state[0].Eval().ToDoubleArray(), carry[0].Eval().ToDoubleArray(), 1e-12, "carry 0");
        Close(state[1].Eval().ToDoubleArray(), carry[1].Eval().ToDoubleArray(), 1e-12, "carry 1");
        Close(Expr.Stack(0, expectedYs).Eval().ToDoubleArray(), ys[0].Eval().ToDoubleArray(), 1e-12, "ys");
    }

    [Fact]
    public void RepeatIsAForiLoopAndItsGradientIsTheChainRule()
    {
        var x0 = T([3], salt: 8);
        Expr Repeated(Expr x) => Expr.Repeat(5, v => (v * 0.8).Sin() + 0.1, x).Sum();
        Expr Unrolled(Expr x) { for (int k = 0; k < 5; k++) x = (x * 0.8).Sin() + 0.1; return x.Sum(); }
        Close(Unrolled(x0).Eval().ToDoubleArray(), Repeated(x0).Eval().ToDoubleArray(), 1e-12, "value");
        Close(Diff.Grad(Unrolled)(x0).Eval().ToDoubleArray(), Diff.Grad(Repeated)(x0).Eval().ToDoubleArray(), 1e-12, "gradient");
        // the chain rule in doubles, independent of both graphs: the product of 0.8·cos(0.8 v) over the five steps
        var chain = x0.ToDoubleArray().Select(v =>
        {
            double slope = 1;
            for (int k = 0; k < 5; k++) { slope *= 0.8 * Math.Cos(0.8 * v); v = Math.Sin(0.8 * v) + 0.1; }
            return slope;
        }).ToArray();
        Close(chain, Diff.Grad(Repeated)(x0).Eval().ToDoubleArray(), 1e-14, "the chain rule");
    }

    [Fact]
    public void ALengthOnlyScanRunsWithoutXsAndTZeroGivesInitBackAndEmptyYs()
    {
        Expr c0 = T([2], salt: 9);
        var (carry, ys) = Expr.Scan(3, c => ([c[0] * 2.0], [c[0].Sum()]), [c0]);
        Close(c0.Eval().ToDoubleArray().Select(v => 8 * v).ToArray(), carry[0].Eval().ToDoubleArray(), 1e-15, "carry");
        var (empty, none) = Expr.Scan((h, x) => (h + x, h), c0, T([0, 2]));
        Close(c0.Eval().ToDoubleArray(), empty.Eval().ToDoubleArray(), 0, "init back");
        Assert.Equal(new[] { 0, 2 }, none.Shape);
    }

    [Fact]
    public void ACarryOfAnotherShapeIsAnErrorNamingExprScanThePositionAndBothShapes()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Expr.Scan((h, x) => (h.Sum(), x), T([3]), T([4, 2])));
        Assert.Contains("Expr.Scan", e.Message);
        Assert.Contains("carry 0", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[]", e.Message);
    }

    [Fact]
    public void TheReadmeShowsExactlyTheScanExampleThatIsCompiledHere() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/ScanReadme.cs", "## Loops with Scan");

    [Fact]
    public void TheReadmeScanExampleGivesTheUnrolledLoopsLossAndGradients()
    {
        var r = ScanReadme.Run();
        Expr Unrolled(Expr[] p)
        {
            Expr h = r.H0;
            Expr xs = r.Xs;
            var hs = new Expr[100];
            for (int t = 0; t < 100; t++) h = hs[t] = (p[0].MatMul(h) + p[1].MatMul(Row(xs, t))).Tanh();
            return Expr.Stack(0, hs).Square().Mean() + h.Sum();
        }
        var (loss, gradients) = Diff.ValueAndGrad(Unrolled, r.W, r.U);
        Close(loss.Eval().ToDoubleArray(), r.Loss.Eval().ToDoubleArray(), 1e-12, "loss");
        for (int i = 0; i < 2; i++)
        {
            Close(gradients[i].Eval().ToDoubleArray(), r.Gradients[i].Eval().ToDoubleArray(), 1e-12, $"gradient {i}");
            Close(gradients[i].Eval().ToDoubleArray(), r.Compiled[i].ToDoubleArray(), 1e-12, $"compiled gradient {i}");
        }
    }
}
