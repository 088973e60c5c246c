using FunctionalDiff.Compare.Train;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// Where Nn.MultiheadAttention departs from torch on purpose: a batch entry whose every key is padding. libtorch's
/// nn.MultiheadAttention gives NaN in that entry's output and weights (its softmax of a row of −∞); ours gives zero
/// weights, so the output rows are the out-projection's bias, as Nn.ScaledDotProductAttention and torch's safe softmax
/// do. Every other entry agrees with torch.
/// </summary>
public class ClientSixteenTorchTests
{
    [Fact]
    public void AFullyPaddedEntryIsNaNInTorchAndTheOutProjectionBiasInOurs()
    {
        using var scope = torch.NewDisposeScope();
        static double[] Values(int n, double a, double b) => Enumerable.Range(0, n).Select(i => Math.Sin(a * i + b)).ToArray();
        var q = Tensor.FromArray(Values(24, 0.9, 0.2), 3, 2, 4);
        var k = Tensor.FromArray(Values(32, 1.1, 0.4), 4, 2, 4);
        var v = Tensor.FromArray(Values(32, 0.7, -0.5), 4, 2, 4);
        var win = Tensor.FromArray(Values(48, 1.3, 0.1), 12, 4) * 0.5;
        var bin = Tensor.FromArray(Values(12, 2.1, 0.3), 12) * 0.2;
        var wout = Tensor.FromArray(Values(16, 0.8, 0.3), 4, 4) * 0.6;
        var bout = Tensor.FromArray(new[] { 0.1, -0.2, 0.3, 0.05 }, 4);
        // batch entry 1 pads every key
        var padding = new[] { false, false, true, false, true, true, true, true };

        var (output, weights) = Nn.MultiheadAttention(q, k, v, 2, win, bin, wout, bout, keyPaddingMask: Tensor.FromArray(padding, 2, 4));
        var ours = output.Eval().ToDoubleArray();
        var ourWeights = weights!.Eval().ToDoubleArray();

        var module = nn.MultiheadAttention(4, 2);
        module.to(ScalarType.Float64);
        module.eval();
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (torch.no_grad())
        {
            parameters["in_proj_weight"].copy_(TorchBridge.ToTorch(win));
            parameters["in_proj_bias"].copy_(TorchBridge.ToTorch(bin));
            parameters["out_proj.weight"].copy_(TorchBridge.ToTorch(wout));
            parameters["out_proj.bias"].copy_(TorchBridge.ToTorch(bout));
        }
        var (torchOutput, torchWeights) = module.call(TorchBridge.ToTorch(q), TorchBridge.ToTorch(k), TorchBridge.ToTorch(v),
            torch.tensor(padding).reshape(2, 4), true, null);
        var theirs = TorchBridge.Values(torchOutput);
        var theirWeights = TorchBridge.Values(torchWeights);

        for (int i = 0; i < 3; i++)
            for (int c = 0; c < 4; c++)
            {
                // [L, N, E]: entry 0 agrees, entry 1 is NaN in torch and the bias in ours
                Assert.True(Math.Abs(ours[(i * 2) * 4 + c] - theirs[(i * 2) * 4 + c]) <= 1e-12, $"output [{i},0,{c}]");
                Assert.True(double.IsNaN(theirs[(i * 2 + 1) * 4 + c]), $"torch's output [{i},1,{c}]");
                Assert.Equal(bout.ToDoubleArray()[c], ours[(i * 2 + 1) * 4 + c], 15);
            }
        for (int r = 0; r < 12; r++)
        {
            Assert.True(Math.Abs(ourWeights[r] - theirWeights[r]) <= 1e-12, $"weights of entry 0 [{r}]");
            Assert.True(double.IsNaN(theirWeights[12 + r]), $"torch's weights of entry 1 [{r}]");
            Assert.Equal(0.0, ourWeights[12 + r]);
        }
    }

    [Fact]
    public void BincountIsTorchsWithAndWithoutWeights()
    {
        using var scope = torch.NewDisposeScope();
        long[] ids = { 2, 0, 5, 2, 2, 1 };
        var weights = new[] { 0.5, -1.0, 2.0, 0.25, 3.0, 1.5 };
        var ours = Tensor.FromArray(ids.Select(v => (double)v).ToArray());
        foreach (var minlength in new[] { 0, 4, 9 })
        {
            Assert.Equal(TorchBridge.Values(torch.bincount(torch.tensor(ids), minlength: minlength).to(ScalarType.Float64)),
                ours.Bincount(minlength: minlength).ToDoubleArray());
            Assert.Equal(TorchBridge.Values(torch.bincount(torch.tensor(ids), torch.tensor(weights), minlength)),
                ours.Bincount(Tensor.FromArray(weights), minlength).ToDoubleArray());
        }
    }

    [Fact]
    public void MaskedSelectIsTorchsWithABroadcastMask()
    {
        using var scope = torch.NewDisposeScope();
        var x = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => Math.Sin(1.3 * i)).ToArray(), 3, 4);
        bool[] rows = { true, false, true }, columns = { false, true, true, false };
        Assert.Equal(TorchBridge.Values(torch.masked_select(TorchBridge.ToTorch(x), torch.tensor(rows).reshape(3, 1))),
            x.MaskedSelect(Tensor.FromArray(rows, 3, 1)).ToDoubleArray());
        Assert.Equal(TorchBridge.Values(torch.masked_select(TorchBridge.ToTorch(x), torch.tensor(columns))),
            x.MaskedSelect(Tensor.FromArray(columns, 4)).ToDoubleArray());
    }
}
