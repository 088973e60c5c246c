using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// The errors a porting user meets first, each naming the public method and the shapes involved: mismatched
/// products, concatenations and broadcasts, a compiled function called with the wrong number, shape or kind of
/// inputs, the gradient of a non-scalar, and an Expr evaluated outside the transform whose variable it reads.
/// </summary>
public class ClientFourErrorTests
{
    static void Names(Exception e, params string[] parts)
    {
        foreach (var part in parts) Assert.Contains(part, e.Message);
    }

    static int Count(string text, string part)
    {
        int count = 0;
        for (int at = text.IndexOf(part, StringComparison.Ordinal); at >= 0; at = text.IndexOf(part, at + 1, StringComparison.Ordinal)) count++;
        return count;
    }

    [Fact]
    public void ShapeMismatchesNameTheOpAndBothShapes()
    {
        Names(Assert.ThrowsAny<ArgumentException>(() => Tensor.Ones(2, 3).MatMul(Tensor.Ones(4, 5))), "MatMul", "[2,3]", "[4,5]");
        Names(Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.Ones(2, 3)).MatMul(Tensor.Ones(4, 5))), "MatMul", "[2,3]", "[4,5]");
        Names(Assert.ThrowsAny<ArgumentException>(() => Tensor.Concat(0, Tensor.Ones(2, 3), Tensor.Ones(2, 4))), "Concat", "[2,3]", "[2,4]");
        Names(Assert.ThrowsAny<ArgumentException>(() => Expr.Concat(0, Tensor.Ones(2, 3), Tensor.Ones(2, 4))), "Concat", "[2,3]", "[2,4]");
        Names(Assert.ThrowsAny<ArgumentException>(() => Tensor.Ones(2, 3) + Tensor.Ones(4)), "Add", "[2,3]", "[4]");
        Names(Assert.ThrowsAny<ArgumentException>(() => (Expr)Tensor.Ones(2, 3) * Tensor.Ones(3, 2)), "Mul", "[2,3]", "[3,2]");
        Names(Assert.ThrowsAny<ArgumentException>(() => Nn.Linear(Tensor.Ones(4, 3), Tensor.Ones(5, 2))), "Linear", "[4,3]", "[5,2]");
    }

    [Fact]
    public void ACompiledFunctionCalledWithTheWrongInputsSaysWhichAndHow()
    {
        var sine = Diff.Compile(x => x.Sin());
        var count = Assert.Throws<ArgumentException>(() => sine.Invoke(Tensor.Ones(2), Tensor.Ones(2)));
        Names(count, "Invoke", "one input", "2 were given");
        Assert.Equal(1, Count(count.Message, "(Parameter"));   // said once, not once per layer

        var w = Tensor.Ones(3, 3);
        var product = Diff.Compile(x => w.MatMul(x));
        product.Invoke(Tensor.Ones(3));
        var shape = Assert.Throws<ArgumentException>(() => product.Invoke(Tensor.Ones(4)));
        Names(shape, "Invoke", "inputs[0]", "float64[4]", "float64[3]", "MatMul", "[3,3]");
        Assert.Equal(1, Count(shape.Message, "(Parameter"));

        var pair = Diff.Compile((Expr[] p) => [p[0].MatMul(p[1])]);
        var output = Assert.Throws<ArgumentException>(() => pair.InvokeInto([Tensor.Ones(2, 3), Tensor.Ones(3, 2)], [Tensor.Ones(3, 3)]));
        Names(output, "InvokeInto", "outputs[0]", "[3,3]", "[2,2]");

        var step = Diff.CompileValueAndGrad((p, batch) => Loss.Mse(batch[0].MatMul(p["w"]), batch[1]));
        var model = Parameters.Of(("w", Tensor.Ones(3, 1)));
        var missing = Assert.Throws<ArgumentException>(() => step.Invoke(model, Tensor.Ones(4, 3)));
        Names(missing, "Invoke", "data[i]", "1 data tensors");
        Names(Assert.Throws<ArgumentException>(() => step.Invoke(model, Tensor.Ones(4, 3), Tensor.Ones(4))), "Mse", "[4,1]", "[4]");
    }

    [Fact]
    public void TheGradientOfANonScalarNamesTheTransformAndTheShape()
    {
        Names(Assert.ThrowsAny<ArgumentException>(() => Diff.Grad(x => x.Sin())(Tensor.Ones(3))), "Grad", "[3]");
        Names(Assert.ThrowsAny<ArgumentException>(() => Diff.ValueAndGrad(x => x.Sin(), Tensor.Ones(3))), "ValueAndGrad", "[3]");
    }

    [Fact]
    public void AnExprLeakedOutOfATransformNamesEvalAndTheVariable()
    {
        Expr? leaked = null;
        Diff.Grad(x => { leaked = x * 2; return x.Sum(); })(Tensor.Ones(2));
        Names(Assert.Throws<InvalidOperationException>(() => leaked!.Eval()), "Eval", "f64[2]", "Diff.Grad");
    }
}
