namespace FunctionalDiff.Tests;

/// <summary>
/// torch.nn.LSTM and torch.nn.GRU written out over doubles from torch's documented equations, one batch entry and one
/// step at a time: the reference the recurrent layers and the ported sequence models are held to.
/// </summary>
public static class RecurrentReference
{
    public static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary>
    /// The stacked layers over time-first data x [time, batch, in] and states [layers·directions, batch, hidden] (all
    /// flat), the weights by torch's names (null for an absent bias). With <paramref name="lengths"/>, entry b reads only
    /// its first lengths[b] steps (its reverse direction starts at the last of them) and its output beyond them is 0, as
    /// torch's packed sequences. With <paramref name="dropout"/> above 0, layer l's output entry (time first) is zeroed
    /// where noise [layers − 1, time, batch, directions·hidden] at [l, ...] is below it and divided by 1 − dropout
    /// elsewhere, before layer l + 1 reads it (torch's dropout between layers). Returns the output [time, batch,
    /// directions·hidden] and the final h and c. With <paramref name="proj"/> above 0 (torch's proj_size), each LSTM step's
    /// h is weight_hr times o ⊙ tanh(c), of proj entries: h, the states h0 and h_n and the output have proj entries
    /// where they had hidden ones.
    /// </summary>
    public static (double[] Output, double[] H, double[] C) Run(bool isLstm, int layers, int directions, int hidden,
        Func<string, double[]?> w, double[] x, int time, int batch, int inFeatures, double[] h0, double[] c0, int[]? lengths = null,
        double dropout = 0, double[]? noise = null, int proj = 0)
    {
        int H = hidden, G = isLstm ? 4 : 3, D = directions, R = proj > 0 ? proj : hidden;
        var layerInput = x;
        int width = inFeatures;
        double[] hN = new double[layers * D * batch * R], cN = new double[layers * D * batch * H];
        for (int l = 0; l < layers; l++)
        {
            var output = new double[time * batch * D * R];
            for (int d = 0; d < D; d++)
            {
                string tail = $"_l{l}" + (d == 1 ? "_reverse" : "");
                var (wIh, wHh) = (w("weight_ih" + tail)!, w("weight_hh" + tail)!);
                var bIh = w("bias_ih" + tail) ?? new double[G * H];
                var bHh = w("bias_hh" + tail) ?? new double[G * H];
                var wHr = proj > 0 ? w("weight_hr" + tail)! : null;
                for (int b = 0; b < batch; b++)
                {
                    int s0 = ((l * D + d) * batch + b) * H, r0 = ((l * D + d) * batch + b) * R, length = lengths?[b] ?? time;
                    var h = h0[r0..(r0 + R)];
                    var c = c0[s0..(s0 + H)];
                    for (int step = 0; step < length; step++)
                    {
                        int t = d == 0 ? step : length - 1 - step;
                        var row = layerInput[((t * batch + b) * width)..((t * batch + b) * width + width)];
                        var gi = TestSupport.Linear(row, 1, width, G * H, wIh, bIh);
                        var gh = TestSupport.Linear(h, 1, R, G * H, wHh, bHh);
                        var next = new double[H];
                        for (int j = 0; j < H; j++)
                        {
                            if (isLstm)
                            {
                                double Gate(int q) => gi[q * H + j] + gh[q * H + j];
                                c[j] = Sigmoid(Gate(1)) * c[j] + Sigmoid(Gate(0)) * Math.Tanh(Gate(2));
                                next[j] = Sigmoid(Gate(3)) * Math.Tanh(c[j]);
                            }
                            else
                            {
                                double r = Sigmoid(gi[j] + gh[j]), z = Sigmoid(gi[H + j] + gh[H + j]);
                                double n = Math.Tanh(gi[2 * H + j] + r * gh[2 * H + j]);
                                next[j] = (1 - z) * n + z * h[j];
                            }
                        }
                        h = wHr is null ? next : TestSupport.Linear(next, 1, H, R, wHr, new double[R]);
                        for (int j = 0; j < R; j++) output[(t * batch + b) * D * R + d * R + j] = h[j];
                    }
                    Array.Copy(h, 0, hN, r0, R);
                    Array.Copy(c, 0, cN, s0, H);
                }
            }
            if (dropout > 0 && l < layers - 1)
                for (int i = 0; i < output.Length; i++)
                    output[i] = noise![l * output.Length + i] >= dropout ? output[i] / (1 - dropout) : 0;
            layerInput = output;
            width = D * R;
        }
        return (layerInput, hN, cN);
    }

    /// <summary>[first, second, f] to [second, first, f]: batch first to time first, or back.</summary>
    public static double[] SwapLeading(double[] v, int first, int second, int f)
    {
        var r = new double[v.Length];
        for (int a = 0; a < first; a++)
            for (int b = 0; b < second; b++)
                Array.Copy(v, (a * second + b) * f, r, (b * first + a) * f, f);
        return r;
    }
}
