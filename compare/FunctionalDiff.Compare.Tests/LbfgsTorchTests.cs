using FunctionalDiff.Compare.Train;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// Lbfgs against TorchSharp's torch.optim.LBFGS (no line search), step by step in float64 from the same start with the
/// same settings. Each side differentiates its own loss and sums its dot products in its own order, so they differ by
/// rounding, which Rosenbrock's narrow valley amplifies with every iteration (measured: 0 after 7 iterations, 1e-13 after
/// 20, 5e-10 after 40, 1e-4 after 80 at lr 1): so it is compared over the first 20 and 21 iterations, and a
/// well-conditioned quadratic with a short history over 40.
/// </summary>
public class LbfgsTorchTests
{
    static double Relative(double[] ours, double[] theirs) =>
        ours.Zip(theirs, (a, b) => Math.Abs(a - b)).Max() / Math.Max(1e-300, theirs.Max(Math.Abs));

    static void Compare(Func<Expr, Expr> ourLoss, Func<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> torchLoss, Tensor start,
        double lr, int maxIter, int history, int steps, double tolerance)
    {
        using var scope = torch.NewDisposeScope();
        var step = Diff.CompileValueAndGrad((p, _) => ourLoss(p["v"]));
        var ours = new Lbfgs(Parameters.Of(("v", start)), lr: lr, maxIter: maxIter, historySize: history);
        var v = new Parameter(TorchBridge.ToTorch(start), requires_grad: true);
        var theirs = torch.optim.LBFGS([v], lr, maxIter, null, 1e-7, 1e-9, history);
        for (int i = 0; i < steps; i++)
        {
            double ourValue = ours.Step(p => step.Invoke(p)).ToScalar();
            var theirValue = theirs.step(() =>
            {
                theirs.zero_grad();
                var loss = torchLoss(v);
                loss.backward();
                return loss;
            })!.item<double>();
            Assert.True(Relative([ourValue], [theirValue]) <= tolerance, $"loss at step {i}: {ourValue} and {theirValue}");
            var got = ours.Parameters["v"].ToDoubleArray();
            var expected = TorchBridge.Values(v);
            Assert.True(Relative(got, expected) <= tolerance, $"step {i}: ours [{string.Join(", ", got)}], torch's [{string.Join(", ", expected)}]");
        }
    }

    [Theory]
    [InlineData(1.0, 20, 100, 1)]
    [InlineData(0.5, 7, 3, 3)]
    public void RosenbrockStepsMatchTorchSharpsLbfgs(double lr, int maxIter, int history, int steps) =>
        Compare(v => (1 - v.Row(0)).Square() + 100 * (v.Row(1) - v.Row(0).Square()).Square(),
            v => (1 - v[0]).square() + 100 * (v[1] - v[0].square()).square(),
            Tensor.FromArray([-1.5, 2.0]), lr, maxIter, history, steps, 1e-10);

    static readonly double[] A = [4, 1, 0.5, 0, 1, 3, 0.2, 0.1, 0.5, 0.2, 2, 0.3, 0, 0.1, 0.3, 1.5];
    static readonly double[] B = [1, -2, 0.5, 3];

    [Fact]
    public void QuadraticStepsWithAShortHistoryMatchTorchSharpsLbfgs() =>
        Compare(v => 0.5 * (v * ((Expr)Tensor.FromArray(A, 4, 4)).MatMul(v)).Sum() - (v * Tensor.FromArray(B)).Sum() + (v * v).Sum().Square() * 0.01,
            v => 0.5 * (v * torch.tensor(A, dtype: ScalarType.Float64).reshape(4, 4).matmul(v)).sum() - (v * torch.tensor(B, dtype: ScalarType.Float64)).sum()
                 + (v * v).sum().square() * 0.01,
            Tensor.FromArray([2.0, -1.0, 0.5, 1.5]), 0.8, 10, 3, 4, 1e-9);
}
