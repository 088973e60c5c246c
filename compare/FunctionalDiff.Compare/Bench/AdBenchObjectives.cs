using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Bench;

/// <summary>
/// The two ADBench objectives (see <see cref="PeerBench"/>), written once for each library from their mathematical
/// definitions: the benchmark times them at the suite's sizes, and the comparison suite checks their first and second
/// derivatives against torch's at small sizes (CaseTable.Models).
/// </summary>
public static class AdBenchObjectives
{
    /// <summary>
    /// For each entry (i, j) of a D×D matrix, row-major: where the packed strict lower triangle holds L[i, j]
    /// (the suite's order, column by column), counted from 1; 0 on and above the diagonal, where the
    /// gathered vector holds a zero in front.
    /// </summary>
    public static int[] LowerPositions(int d)
    {
        var position = new int[d * d];
        int next = 1;
        for (int j = 0; j < d; j++)
            for (int i = j + 1; i < d; i++)
                position[i * d + j] = next++;
        return position;
    }

    /// <summary>The GMM objective over our Exprs (see the table's header for the parameters).</summary>
    public static Expr Gmm(Expr alphas, Expr means, Expr icf, Expr x, Expr lowerIndex, Expr zeroColumn, Expr eye, int k, int d, int n)
    {
        var logDiagonal = icf.Slice(1, 0, d);
        var lowerEntries = icf.Slice(1, d, d * (d + 1) / 2);
        var lower = Expr.Concat(1, zeroColumn, lowerEntries).IndexSelect(1, lowerIndex).Reshape(k, d, d);
        var q = lower + logDiagonal.Exp().Reshape(k, d, 1) * eye;
        var centred = x.Reshape(1, n, d) - means.Reshape(k, 1, d);
        var projected = centred.MatMul(q.Transpose(1, 2));
        var perComponent = (alphas + logDiagonal.Sum(1)).Reshape(k, 1) - 0.5 * projected.Square().Sum(2);
        var wishart = 0.5 * (logDiagonal.Exp().Square().Sum() + lowerEntries.Square().Sum());
        return perComponent.LogSumExp(0).Sum() - n * alphas.LogSumExp() + wishart;
    }

    /// <summary>The same objective over torch tensors.</summary>
    public static TT Gmm(TT alphas, TT means, TT icf, TT x, TT lowerIndex, TT zeroColumn, TT eye, int k, int d, int n)
    {
        var logDiagonal = icf.narrow(1, 0, d);
        var lowerEntries = icf.narrow(1, d, d * (d - 1) / 2);
        var lower = torch.cat(new[] { zeroColumn, lowerEntries }, 1).index_select(1, lowerIndex).reshape(k, d, d);
        var q = lower + logDiagonal.exp().reshape(k, d, 1) * eye;
        var centred = x.reshape(1, n, d) - means.reshape(k, 1, d);
        var projected = centred.matmul(q.transpose(1, 2));
        var perComponent = (alphas + logDiagonal.sum(1)).reshape(k, 1) - 0.5 * projected.square().sum(2);
        var wishart = 0.5 * (logDiagonal.exp().square().sum() + lowerEntries.square().sum());
        return torch.logsumexp(perComponent, 0).sum() - n * torch.logsumexp(alphas, 0) + wishart;
    }

    /// <summary>
    /// The suite's LSTM objective over our Exprs: `main` holds per layer the 4 gate weights then the 4 biases
    /// (2L × 4 × B), `extra` the input scaling, output scaling and output bias (3 × B), `state` the initial hidden
    /// and cell vectors of each layer (2L × B), `sequence` C vectors of B entries.
    /// </summary>
    public static Expr Lstm(Expr main, Expr extra, Expr state, Expr sequence, int layers, int length, int b)
    {
        Expr Row(Expr matrix, int i) => matrix.Slice(0, i, i + 1).Reshape(b);
        Expr Gate(int layer, int kind, int gate) => main.Slice(0, 2 * layer + kind, 2 * layer + kind + 1).Slice(1, gate, gate + 1).Reshape(b);
        var hidden = new Expr[layers];
        var cell = new Expr[layers];
        for (int l = 0; l < layers; l++)
        {
            hidden[l] = Row(state, 2 * l);
            cell[l] = Row(state, 2 * l + 1);
        }
        Expr total = 0.0;
        for (int t = 0; t < length - 1; t++)
        {
            var input = Row(sequence, t) * Row(extra, 0);
            for (int l = 0; l < layers; l++)
            {
                var forget = (input * Gate(l, 0, 0) + Gate(l, 1, 0)).Sigmoid();
                var ingate = (hidden[l] * Gate(l, 0, 1) + Gate(l, 1, 1)).Sigmoid();
                var outgate = (input * Gate(l, 0, 2) + Gate(l, 1, 2)).Sigmoid();
                var change = (hidden[l] * Gate(l, 0, 3) + Gate(l, 1, 3)).Tanh();
                cell[l] = cell[l] * forget + ingate * change;
                hidden[l] = outgate * cell[l].Tanh();
                input = hidden[l];
            }
            var prediction = input * Row(extra, 1) + Row(extra, 2);
            total = total + (Row(sequence, t + 1) * (prediction - prediction.LogSumExp())).Sum();
        }
        return -total / ((length - 1) * b);
    }

    /// <summary>The same objective over torch tensors.</summary>
    public static TT Lstm(TT main, TT extra, TT state, TT sequence, int layers, int length, int b)
    {
        var hidden = new TT[layers];
        var cell = new TT[layers];
        for (int l = 0; l < layers; l++)
        {
            hidden[l] = state[2 * l];
            cell[l] = state[2 * l + 1];
        }
        TT total = torch.zeros(new long[0], dtype: main.dtype);
        for (int t = 0; t < length - 1; t++)
        {
            var input = sequence[t] * extra[0];
            for (int l = 0; l < layers; l++)
            {
                var weight = main[2 * l];
                var bias = main[2 * l + 1];
                var forget = (input * weight[0] + bias[0]).sigmoid();
                var ingate = (hidden[l] * weight[1] + bias[1]).sigmoid();
                var outgate = (input * weight[2] + bias[2]).sigmoid();
                var change = (hidden[l] * weight[3] + bias[3]).tanh();
                cell[l] = cell[l] * forget + ingate * change;
                hidden[l] = outgate * cell[l].tanh();
                input = hidden[l];
            }
            var prediction = input * extra[1] + extra[2];
            total = total + (sequence[t + 1] * (prediction - torch.logsumexp(prediction, 0))).sum();
        }
        return -total / ((length - 1) * b);
    }
}
