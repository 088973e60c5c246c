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

    /// <summary>
    /// The suite's bundle-adjustment residuals for one observation: <paramref name="v"/> holds the camera (Rodrigues
    /// rotation 3, centre 3, focal length 1, principal point 2, radial distortion 2), the point (3) and the
    /// observation's weight (1), 15 entries; <paramref name="feature"/> the observed position (2). The result: the
    /// weighted reprojection error (2) and the weight's error 1 − w² (1). The rotation takes the formula for a
    /// nonzero angle, as every camera here has one.
    /// </summary>
    public static Expr BaResidual(Expr v, Expr feature)
    {
        Expr Part(int start, int length) => v.Slice(0, start, start + length);
        var rotation = Part(0, 3);
        var point = Part(11, 3) - Part(3, 3);
        var weight = Part(14, 1);
        var angle = rotation.Square().Sum().Sqrt();
        var axis = rotation / angle;
        var cos = angle.Cos();
        var rotated = point * cos + Cross(axis, point) * angle.Sin() + axis * ((axis * point).Sum() * (1.0 - cos));
        var projected = rotated.Slice(0, 0, 2) / rotated.Slice(0, 2, 3);
        var squared = projected.Square().Sum();
        var distortion = 1.0 + Part(9, 1) * squared + Part(10, 1) * squared.Square();
        var reprojected = Part(6, 1) * distortion * projected + Part(7, 2);
        return Expr.Concat(0, weight * (reprojected - feature), 1.0 - weight.Square());
    }

    static Expr Cross(Expr a, Expr b)
    {
        Expr At(Expr e, int i) => e.Slice(0, i, i + 1);
        return Expr.Concat(0, At(a, 1) * At(b, 2) - At(a, 2) * At(b, 1), At(a, 2) * At(b, 0) - At(a, 0) * At(b, 2), At(a, 0) * At(b, 1) - At(a, 1) * At(b, 0));
    }

    /// <summary>The same residuals for every observation at once: <paramref name="v"/> P × 15, <paramref name="features"/> P × 2; P × 3.</summary>
    public static TT BaResiduals(TT v, TT features)
    {
        TT Part(int start, int length) => v.narrow(1, start, length);
        var rotation = Part(0, 3);
        var point = Part(11, 3) - Part(3, 3);
        var weight = Part(14, 1);
        var angle = rotation.square().sum(1, keepdim: true).sqrt();
        var axis = rotation / angle;
        var cos = angle.cos();
        var rotated = point * cos + Cross(axis, point) * angle.sin() + axis * ((axis * point).sum(1, keepdim: true) * (1.0 - cos));
        var projected = rotated.narrow(1, 0, 2) / rotated.narrow(1, 2, 1);
        var squared = projected.square().sum(1, keepdim: true);
        var distortion = 1.0 + Part(9, 1) * squared + Part(10, 1) * squared.square();
        var reprojected = Part(6, 1) * distortion * projected + Part(7, 2);
        return torch.cat(new[] { weight * (reprojected - features), 1.0 - weight.square() }, 1);
    }

    static TT Cross(TT a, TT b)
    {
        TT At(TT e, int i) => e.narrow(1, i, 1);
        return torch.cat(new[] { At(a, 1) * At(b, 2) - At(a, 2) * At(b, 1), At(a, 2) * At(b, 0) - At(a, 0) * At(b, 2), At(a, 0) * At(b, 1) - At(a, 1) * At(b, 0) }, 1);
    }
}
