using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// CompiledFunction.InvokeInto with outputs that are also inputs, and Invoke's results as memory
/// of their own, through the C# facade, against values written out in the test.
/// </summary>
public class CompileInPlaceTests
{
    [Fact]
    public void AnInPlaceUpdateReadsTheOldValues()
    {
        // Every result reads p, and the first is written over p: a plan that wrote p before the
        // others read it would give sums of the new values.
        var step = Diff.Compile((Expr[] p) => [p[0] + 1.0, (p[0] * 3.0).Sum(), (p[0].Exp() * p[0]).Sum()]);
        double[] old = [0.5, -1.0, 2.0];
        var p = Tensor.FromArray((double[])old.Clone());
        var outs = step.Invoke(p);
        step.InvokeInto([p], [p, outs[1], outs[2]]);
        var updated = p.ToDoubleArray();
        for (int i = 0; i < old.Length; i++) Assert.Equal(old[i] + 1.0, updated[i], 12);
        Assert.Equal(3.0 * old.Sum(), outs[1].ToDoubleArray()[0], 12);
        Assert.Equal(old.Sum(v => Math.Exp(v) * v), outs[2].ToDoubleArray()[0], 12);
    }

    [Fact]
    public void InvokeReturnsCopiesOfInputsSoTheyCanBeOutputsLater()
    {
        var identity = Diff.Compile((Expr[] p) => [p[0], p[0].Reshape(2, 1)]);
        var input = Tensor.FromArray(new[] { 1.0, 2.0 });
        var outs = identity.Invoke(input);
        identity.InvokeInto([Tensor.FromArray(new[] { 7.0, 8.0 })], outs);
        Assert.Equal(new[] { 1.0, 2.0 }, input.ToDoubleArray());
        Assert.Equal(new[] { 7.0, 8.0 }, outs[0].ToDoubleArray());
        Assert.Equal(new[] { 7.0, 8.0 }, outs[1].ToDoubleArray());
    }

    [Fact]
    public void ACapturedTensorCannotBeAnOutput()
    {
        var captured = Tensor.FromArray(new[] { 1.0, 2.0 });
        var add = Diff.Compile((Expr[] p) => [p[0] + captured]);
        var input = Tensor.FromArray(new[] { 3.0, 4.0 });
        add.Invoke(input);
        var error = Assert.Throws<ArgumentException>(() => add.InvokeInto([input], [captured]));
        Assert.Equal("outputs", error.ParamName);
        Assert.Contains("outputs[0]", error.Message);
        Assert.Equal(new[] { 1.0, 2.0 }, captured.ToDoubleArray());
    }

    [Fact]
    public void WritingIntoAnEvaluatedGradientChangesNoLaterGraph()
    {
        // The gradient of x * c at a scalar is the scalar constant c, which every graph in the
        // process that writes c shares (c is a value no other test uses). A caller that reuses the
        // evaluated gradient as an output must not change c for them.
        const double c = 1.6875;
        var gradient = Diff.Grad(x => x * c)(Tensor.Scalar(0.5)).Eval();
        Assert.Equal(c, gradient.ToScalar());
        var times50 = Diff.Compile((Expr[] p) => [p[0] * 50.0]);
        times50.InvokeInto([Tensor.Scalar(1.0)], [gradient]);
        Assert.Equal(50.0, gradient.ToScalar());
        Assert.Equal(3.0 * c, ((Expr)Tensor.FromArray(new[] { 3.0 }) * c).Eval().ToDoubleArray()[0]);
        Assert.Equal(c, Diff.Grad(x => x * c)(Tensor.Scalar(0.25)).Eval().ToScalar());
    }

    [Fact]
    public void AScalarConstantKeepsItsValueWhenItsTensorIsWrittenInto()
    {
        const double c = 2.4375;
        var owned = Tensor.Scalar(c);
        Expr constant = owned;
        Assert.Equal(3.0 * c, ((Expr)Tensor.FromArray(new[] { 3.0 }) * c).Eval().ToDoubleArray()[0]);
        Diff.Compile((Expr[] p) => [p[0] * 50.0]).InvokeInto([Tensor.Scalar(1.0)], [owned]);
        Assert.Equal(50.0, owned.ToScalar());
        Assert.Equal(c, constant.Eval().ToScalar());
        Assert.Equal(4.0 * c, ((Expr)Tensor.FromArray(new[] { 4.0 }) * c).Eval().ToDoubleArray()[0]);
    }
}
