using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>Diff.Vmap and the chunked Jacobian and Hessian from C#, against loops over the examples.</summary>
public class VmapTests
{
    /// <summary>Row b of a tensor's flat data, for a first axis of <paramref name="rows"/> entries.</summary>
    static double[] Row(Tensor t, int rows, int b)
    {
        var data = t.ToDoubleArray();
        int size = data.Length / rows;
        return data.Skip(b * size).Take(size).ToArray();
    }

    [Fact]
    public void PerExampleGradientsOfTheReadmeAreTheGradientsOfALoopOverTheExamples()
    {
        var r = PerExampleGradients.Run();
        var values = Expr.EvalMany(r.Gradients);
        Assert.Equal(new[] { 8, 4, 3 }, values[0].Shape);
        for (int b = 0; b < 8; b++)
        {
            Expr x = Tensor.FromArray(Row(r.Xs, 8, b), 3);
            Expr y = Tensor.FromArray(Row(r.Ys, 8, b), 2);
            var loop = Diff.Grad((Expr[] p) => r.Loss(p, x, y))(r.Parameters.Select(t => (Expr)t).ToArray());
            for (int i = 0; i < 4; i++)
                Close(loop[i].Eval().ToDoubleArray(), Row(values[i], 8, b), 1e-12, $"example {b}, parameter {i}");
            // Central differences of the example's loss in W2 (the loss evaluated, nothing differentiated).
            var w2 = r.Parameters[2];
            var numeric = Gradient(v => r.Loss(new Expr[] { r.Parameters[0], r.Parameters[1], Tensor.FromArray(v, 2, 4), r.Parameters[3] }, x, y).Eval().ToScalar(), w2.ToDoubleArray());
            Close(numeric, Row(values[2], 8, b), 1e-6, $"example {b}, W2 by finite differences");
        }
    }

    [Fact]
    public void TheReadmeShowsExactlyThePerExampleGradientsExampleThatIsCompiledHere() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/PerExampleGradients.cs", "## Batching with vmap");

    [Fact]
    public void VmapOfOneInputMapsRowsAndSharesTheCapturedMatrix()
    {
        var w = T(new[] { 3, 2 });
        var xs = T(new[] { 5, 3 }, salt: 1);
        var batched = Diff.Vmap(x => x.MatMul(w).Sin())(xs).Eval();
        Assert.Equal(new[] { 5, 2 }, batched.Shape);
        for (int b = 0; b < 5; b++)
        {
            Expr x = Tensor.FromArray(Row(xs, 5, b), 3);
            Close(x.MatMul(w).Sin().Eval().ToDoubleArray(), Row(batched, 5, b), 1e-15, $"row {b}");
        }
    }

    [Fact]
    public void InAxesMixBatchedAndSharedInputsAndOutAxisPlacesTheExamples()
    {
        // x batched along its last axis, a shared, the examples placed on axis 1 of the result.
        var xs = T(new[] { 2, 4 });      // 4 examples of shape [2]
        var a = T(new[] { 2 }, salt: 2);
        var result = Diff.Vmap((Expr[] v) => v[0] * v[1] + v[1], new int?[] { -1, null }, outAxis: 1)(new Expr[] { xs, a }).Eval();
        Assert.Equal(new[] { 2, 4 }, result.Shape);
        var x = xs.ToDoubleArray();
        var av = a.ToDoubleArray();
        var expected = new double[8];
        for (int i = 0; i < 2; i++)
            for (int b = 0; b < 4; b++)
                expected[i * 4 + b] = x[i * 4 + b] * av[i] + av[i];
        Close(expected, result.ToDoubleArray(), 0, "x[:, b] * a + a");
    }

    [Fact]
    public void VmapNestsUnderGrad()
    {
        // d/dx sum_b sin(x_b . x_b) = 2 cos(x_b . x_b) x_b, row by row.
        var xs = T(new[] { 3, 2 });
        var g = Diff.Grad(x => Diff.Vmap(row => row.MatMul(row).Sin())(x).Sum())(xs).Eval().ToDoubleArray();
        var x = xs.ToDoubleArray();
        for (int b = 0; b < 3; b++)
        {
            double dot = x[2 * b] * x[2 * b] + x[2 * b + 1] * x[2 * b + 1];
            Close(new[] { 2 * Math.Cos(dot) * x[2 * b], 2 * Math.Cos(dot) * x[2 * b + 1] }, g.Skip(2 * b).Take(2).ToArray(), 1e-14, $"row {b}");
        }
    }

    [Fact]
    public void ErrorsNameVmapAndTheShapes()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Diff.Vmap((Expr[] v) => v[0] + v[1])(new Expr[] { T(new[] { 3, 2 }), T(new[] { 4, 2 }) }));
        Assert.Contains("Vmap", e.Message);
        Assert.Contains("[3,2]", e.Message);
        Assert.Contains("[4,2]", e.Message);
        var wrongCount = Assert.ThrowsAny<ArgumentException>(() => Diff.Vmap((Expr[] v) => v[0], new int?[] { 0, 0 })(new Expr[] { T(new[] { 3 }) }));
        Assert.Contains("inAxes", wrongCount.Message);
        // the one-output overload's parameter is outAxis: the message names the output axis, not "outAxes"
        var wrongAxis = Assert.ThrowsAny<ArgumentException>(() => Diff.Vmap((Expr[] v) => v[0] * 2.0, null, outAxis: 2)(new Expr[] { T(new[] { 3, 2 }) }));
        Assert.Contains("Vmap", wrongAxis.Message);
        Assert.Contains("output axis 2", wrongAxis.Message);
        Assert.Contains("[3,2]", wrongAxis.Message);
        Assert.DoesNotContain("outAxes", wrongAxis.Message);
        // a batch axis that does not exist: the argument's position and shape; the one-Expr overload has no inAxes to name
        var scalar = Assert.ThrowsAny<ArgumentException>(() => Diff.Vmap(x => x * 2.0)(Tensor.Scalar(1.0)));
        Assert.Equal("Vmap: argument 0 of shape [] has no axis 0 to batch along", scalar.Message);
        var pastTheEnd = Assert.ThrowsAny<ArgumentException>(() => Diff.Vmap((Expr[] v) => v[0] + v[1], new int?[] { null, 2 })(new Expr[] { T(new[] { 3 }), T(new[] { 3, 4 }) }));
        Assert.Equal("Vmap: argument 1 of shape [3,4] has no axis 2 to batch along", pastTheEnd.Message);
    }

    [Fact]
    public void ChunkedJacobianAndHessianEqualTheirClosedForms()
    {
        var w = T(new[] { 4, 4 });
        var x0 = T(new[] { 4 }, salt: 3);
        var wv = w.ToDoubleArray();
        var xv = x0.ToDoubleArray();
        for (int chunk = 1; chunk <= 5; chunk++)
        {
            // J of tanh(W x) = diag(1 - tanh(W x)^2) W
            var j = Diff.Jacobian(x => ((Expr)w).MatMul(x).Tanh(), chunk)(x0).Eval().ToDoubleArray();
            var expected = new double[16];
            for (int i = 0; i < 4; i++)
            {
                double z = Enumerable.Range(0, 4).Sum(k => wv[i * 4 + k] * xv[k]);
                for (int k = 0; k < 4; k++) expected[i * 4 + k] = (1 - Math.Tanh(z) * Math.Tanh(z)) * wv[i * 4 + k];
            }
            Close(expected, j, 1e-14, $"Jacobian, chunk {chunk}");
            // H of sum(x^3) = diag(6 x)
            var h = Diff.Hessian(x => (x * x * x).Sum(), chunk)(x0).Eval().ToDoubleArray();
            Close(Enumerable.Range(0, 16).Select(k => k / 4 == k % 4 ? 6 * xv[k % 4] : 0.0).ToArray(), h, 1e-14, $"Hessian, chunk {chunk}");
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => Diff.Jacobian(x => x, 0));
    }
}
