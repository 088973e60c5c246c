using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>Diff.Compile and CompiledFunction through the C# facade, against loops and finite differences.</summary>
public class CompileTests
{
    static readonly Tensor X = Tensor.FromArray(new[] { 0.7, -1.2 });
    static readonly Tensor Y = Tensor.FromArray(new[] { 1.0 });

    static Expr LossOf(Expr[] p)
    {
        var a1 = (p[0].MatMul(X) + p[1]).Sigmoid();
        var a2 = (p[2].MatMul(a1) + p[3]).Sigmoid();
        return Loss.Mse(a2, Y);
    }

    static Tensor[] Parameters() =>
        [Tensor.RandomNormal(new[] { 3, 2 }, seed: 1), Tensor.RandomNormal(new[] { 3 }, seed: 5),
         Tensor.RandomNormal(new[] { 1, 3 }, seed: 2), Tensor.RandomNormal(new[] { 1 }, seed: 6)];

    /// <summary>The loss written out with loops, independent of the library.</summary>
    static double LoopLoss(double[][] p)
    {
        var x = X.ToDoubleArray();
        double z2 = p[3][0];
        for (int j = 0; j < 3; j++)
            z2 += p[2][j] / (1 + Math.Exp(-(p[0][2 * j] * x[0] + p[0][2 * j + 1] * x[1] + p[1][j])));
        double a2 = 1 / (1 + Math.Exp(-z2));
        return (a2 - 1.0) * (a2 - 1.0);
    }

    [Fact]
    public void TheIssueContractCompilesAndGivesTheLossAndGradients()
    {
        var (w1, b1, w2, b2) = (Parameters()[0], Parameters()[1], Parameters()[2], Parameters()[3]);
        CompiledFunction step = Diff.Compile((Expr[] p) => { var (l, g) = Diff.ValueAndGrad(LossOf, p); return [l, .. g]; });
        Tensor[] outs = step.Invoke(w1, b1, w2, b2);

        var values = new[] { w1, b1, w2, b2 }.Select(t => t.ToDoubleArray()).ToArray();
        Assert.Equal(5, outs.Length);
        Close(new[] { LoopLoss(values) }, outs[0].ToDoubleArray(), 1e-13);
        for (int k = 0; k < 4; k++)
        {
            var numeric = Gradient(v => LoopLoss(values.Select((p, i) => i == k ? v : p).ToArray()), values[k]);
            Close(numeric, outs[k + 1].ToDoubleArray(), 1e-7, $"gradient {k}");
            Assert.Equal(new[] { w1, b1, w2, b2 }[k].Shape, outs[k + 1].Shape);
        }
        Assert.Equal(1, step.TraceCount);
    }

    [Fact]
    public void CompiledResultsHaveTheBitsOfEvalMany()
    {
        var p = Parameters();
        var step = Diff.Compile((Expr[] q) => { var (l, g) = Diff.ValueAndGrad(LossOf, q); return [l, .. g]; });
        var (loss, gradients) = Diff.ValueAndGrad(LossOf, p.Select(t => (Expr)t).ToArray());
        var expected = Expr.EvalMany([loss, .. gradients]);
        var actual = step.Invoke(p);
        for (int i = 0; i < 5; i++) Assert.Equal(expected[i].ToDoubleArray(), actual[i].ToDoubleArray());

        // into given outputs, twice, and a second signature
        var outputs = expected.Select(t => Tensor.Zeros(t.Shape)).ToArray();
        step.InvokeInto(p, outputs);
        step.InvokeInto(p, outputs);
        for (int i = 0; i < 5; i++) Assert.Equal(expected[i].ToDoubleArray(), outputs[i].ToDoubleArray());
        Assert.Equal(1, step.TraceCount);
    }

    [Fact]
    public void ASignatureTheFunctionRejectsIsNamedInTheError()
    {
        var step = Diff.Compile((Expr[] p) => [p[0].MatMul(p[1])]);
        var a = Tensor.Ones(new[] { 2, 3 });
        step.Invoke(a, Tensor.Ones(new[] { 3, 4 }));
        var e = Assert.Throws<ArgumentException>(() => step.Invoke(a, Tensor.Ones(new[] { 5, 4 })));
        Assert.Equal("inputs", e.ParamName);
        Assert.Contains("Invoke", e.Message);
        Assert.Contains("inputs[1] is float64[5,4]", e.Message);
        Assert.Contains("float64[3,4]", e.Message);
        var count = Assert.Throws<ArgumentException>(() => step.Invoke(a));
        Assert.Contains("expected 2 inputs", count.Message);
        Assert.Throws<ArgumentNullException>(() => step.Invoke(a, null!));
        var wrongOutput = Assert.Throws<ArgumentException>(() => step.InvokeInto([a, Tensor.Ones(new[] { 3, 4 })], [Tensor.Zeros(new[] { 2, 5 })]));
        Assert.Contains("InvokeInto", wrongOutput.Message);
        Assert.Equal(1, step.TraceCount);
    }

    [Fact]
    public void AFunctionThatFailsOnItsOwnIsNotBlamedOnTheInputs()
    {
        // null results: the function's fault, whatever the inputs
        var returnsNull = Diff.Compile((Expr[] p) => (Expr[])null!);
        var nullError = Assert.Throws<InvalidOperationException>(() => returnsNull.Invoke(Tensor.Ones(new[] { 2 })));
        Assert.Contains("Invoke", nullError.Message);
        Assert.Contains("returned null", nullError.Message);

        // an error of the function's own stays reachable as the inner exception
        var throws = Diff.Compile((Expr[] p) => throw new NotSupportedException("my layer has no float32 path"));
        var own = Assert.Throws<InvalidOperationException>(() => throws.Invoke(Tensor.Ones(new[] { 2 })));
        Assert.IsType<NotSupportedException>(own.InnerException);
        Assert.Contains("my layer has no float32 path", own.Message);

        // a shape the function's operations reject is still an argument error on `inputs`
        var matmul = Diff.Compile((Expr[] p) => [p[0].MatMul(p[1])]);
        var shape = Assert.Throws<ArgumentException>(() => matmul.Invoke(Tensor.Ones(new[] { 2, 3 }), Tensor.Ones(new[] { 4, 2 })));
        Assert.Equal("inputs", shape.ParamName);
    }

    [Fact]
    public void TheReadmeShowsExactlyTheTrainingLoopThatIsCompiledHere() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/TrainingLoop.cs", "## Compiled functions");

    [Fact]
    public void TheTrainingLoopMatchesGradientDescentWrittenOut()
    {
        var r = TrainingLoop.Run();
        var x = r.X.ToDoubleArray();
        var y = r.Y.ToDoubleArray();
        int n = y.Length;
        var w = new double[3];
        double b = 0;
        for (int step = 0; step < 100; step++)
        {
            // mean squared error of x w + b: gradients 2/n xᵀ r and 2/n Σ r
            var gw = new double[3];
            double gb = 0;
            for (int i = 0; i < n; i++)
            {
                double residual = x[3 * i] * w[0] + x[3 * i + 1] * w[1] + x[3 * i + 2] * w[2] + b - y[i];
                for (int j = 0; j < 3; j++) gw[j] += 2.0 / n * residual * x[3 * i + j];
                gb += 2.0 / n * residual;
            }
            for (int j = 0; j < 3; j++) w[j] -= 0.1 * gw[j];
            b -= 0.1 * gb;
        }
        Close(w, r.Parameters[0].ToDoubleArray(), 1e-12, "W");
        Close(new[] { b }, r.Parameters[1].ToDoubleArray(), 1e-12, "b");
    }
}
