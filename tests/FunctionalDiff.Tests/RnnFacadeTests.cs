using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Nn.RnnCell against its equation written as loops, and Nn.Rnn against the cell stepped through the sequence by hand;
/// TorchSharp's nn.RNN checks the layer in ClientTwentyTorchTests (values, gradients and Hessian-vector products).
/// </summary>
public class RnnFacadeTests
{
    [Theory]
    [InlineData("tanh")]
    [InlineData("relu")]
    public void TheCellIsItsEquation(string nonlinearity)
    {
        int batch = 2, input = 3, hidden = 4;
        var x = Tensor.RandomNormal([batch, input], seed: 1);
        var h = Tensor.RandomNormal([batch, hidden], seed: 2);
        var p = Init.Rnn(input, hidden, seed: 3);
        var ours = Nn.RnnCell(x, h, p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"], nonlinearity).Eval().ToDoubleArray();
        double[] xv = x.ToDoubleArray(), hv = h.ToDoubleArray(), wi = p["weight_ih_l0"].ToDoubleArray(), wh = p["weight_hh_l0"].ToDoubleArray(),
            bi = p["bias_ih_l0"].ToDoubleArray(), bh = p["bias_hh_l0"].ToDoubleArray();
        for (int b = 0; b < batch; b++)
            for (int j = 0; j < hidden; j++)
            {
                double pre = bi[j] + bh[j];
                for (int k = 0; k < input; k++) pre += xv[b * input + k] * wi[j * input + k];
                for (int k = 0; k < hidden; k++) pre += hv[b * hidden + k] * wh[j * hidden + k];
                Assert.Equal(nonlinearity == "tanh" ? Math.Tanh(pre) : Math.Max(0, pre), ours[b * hidden + j], 13);
            }
        var error = Assert.Throws<ArgumentException>(() => Nn.RnnCell(x, h, p["weight_ih_l0"], p["weight_hh_l0"], nonlinearity: "sigmoid"));
        Assert.Contains("RnnCell", error.Message);
    }

    [Fact]
    public void TheLayerStepsTheCellThroughTheSequence()
    {
        int time = 5, batch = 2, input = 3, hidden = 4;
        var xs = Tensor.RandomNormal([time, batch, input], seed: 4);
        var h0 = Tensor.RandomNormal([1, batch, hidden], seed: 5);
        var p = Init.Rnn(input, hidden, seed: 6);
        var (output, hN) = Nn.Rnn(xs, p, h0, nonlinearity: "relu");
        Expr h = ((Expr)h0).Reshape(batch, hidden);
        var steps = new List<Expr>();
        for (int t = 0; t < time; t++)
        {
            h = Nn.RnnCell(((Expr)xs).Select(0, t), h, p["weight_ih_l0"], p["weight_hh_l0"], p["bias_ih_l0"], p["bias_hh_l0"], "relu");
            steps.Add(h);
        }
        var expected = Expr.Stack(0, steps.ToArray()).Eval().ToDoubleArray();
        var got = output.Eval().ToDoubleArray();
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], got[i], 13);
        Assert.Equal(h.Eval().ToDoubleArray().Select(v => Math.Round(v, 12)), hN.Eval().ToDoubleArray().Select(v => Math.Round(v, 12)));
    }
}
