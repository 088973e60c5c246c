using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// A training loop over CompiledFunction.InvokeInto, as the README writes it, allocates nothing on
/// the calling thread once its plan is made, and gives the numbers of the same loop written out.
/// </summary>
public class CompileAllocationTests
{
    [Fact]
    public void AnInvokeIntoLoopAllocatesNothing()
    {
        // gradient descent on Σ (p − t)²: p ← p − 0.1 · 2 (p − t)
        var target = Tensor.FromArray(new[] { 1.0, -2.0, 0.5, 3.0 });
        var step = Diff.Compile((Expr[] p) =>
        {
            var (loss, gradient) = Diff.ValueAndGrad(q => (q - target).Square().Sum(), p[0]);
            return [loss, p[0] - 0.1 * gradient];
        });
        double[] start = [0.0, 0.0, 0.0, 0.0];
        Tensor[] current = step.Invoke(Tensor.FromArray(start)), spare = step.Invoke(Tensor.FromArray(start));
        Tensor[] inputs = new Tensor[1];
        const int warmUp = 10, steps = 200;
        long before = 0;
        for (int k = 1; k < steps; k++)
        {
            if (k == warmUp) before = GC.GetAllocatedBytesForCurrentThread();
            inputs[0] = current[1];
            step.InvokeInto(inputs, spare);
            (current, spare) = (spare, current);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);

        // the same loop on plain doubles: `current` holds the loss at the parameters of step
        // `steps - 1` and the parameters after `steps` updates
        double[] t = [1.0, -2.0, 0.5, 3.0];
        var p = (double[])start.Clone();
        double loss = 0;
        for (int k = 0; k < steps; k++)
        {
            loss = 0;
            for (int i = 0; i < p.Length; i++) loss += (p[i] - t[i]) * (p[i] - t[i]);
            for (int i = 0; i < p.Length; i++) p[i] -= 0.1 * 2 * (p[i] - t[i]);
        }
        Assert.Equal(loss, current[0].ToScalar(), 12);
        var parameters = current[1].ToDoubleArray();
        for (int i = 0; i < p.Length; i++) Assert.Equal(p[i], parameters[i], 12);
    }
}
