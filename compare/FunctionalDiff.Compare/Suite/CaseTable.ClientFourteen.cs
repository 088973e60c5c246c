using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

// nn.EmbeddingBag and nn.GRUCell (2026-12-06). TorchSharp 0.107 has embedding_bag only as a module holding its own
// weight (no functional form to differentiate in the table), and GRUCell likewise, so torch's side writes each out:
// embedding_bag as torch documents it, each bag's rows picked by index_select and reduced by sum, mean or amax (an empty
// bag zeros, per_sample_weights scaling the rows of a sum), and the GRU cell as nn.GRUCell's equations over weights laid
// out [r, z, n]. A recommender's BPR loss with L2 runs the bag into a program. A sine after each op makes the
// second-order checks non-trivial.
public static partial class CaseTable
{
    static readonly double[] BagIds = { 0, 2, 3, 1, 4, 6, 5, 2, 2 };
    static readonly int[] BagStarts = { 0, 3, 4, 4, 6 };   // bag 2 is empty; the last holds id 2 twice
    static readonly double[] BagUsers = { 0, 1, 2, 3, 4 }, BagPositive = { 1, 0, 2, 3, 5 }, BagNegative = { 6, 5, 0, 4, 1 };

    static TT TorchBags(TT table, string mode, TT? weights = null)
    {
        var bags = new List<TT>();
        for (int b = 0; b < BagStarts.Length; b++)
        {
            int start = BagStarts[b], stop = b + 1 < BagStarts.Length ? BagStarts[b + 1] : BagIds.Length;
            if (start == stop) { bags.Add(torch.zeros(table.shape[1], dtype: table.dtype)); continue; }
            var rows = table.index_select(0, torch.tensor(BagIds[start..stop].Select(v => (long)v).ToArray()));
            if (weights is not null) rows = rows * weights.slice(0, start, stop, 1).unsqueeze(1);
            bags.Add(mode switch { "sum" => rows.sum(new long[] { 0 }), "mean" => rows.mean(new long[] { 0 }), _ => rows.amax(new long[] { 0 }) });
        }
        return torch.stack(bags);
    }

    static TT TorchGruCell(TT x, TT h, TT wIh, TT wHh, TT bIh, TT bHh)
    {
        var gi = x.matmul(wIh.t()) + bIh;
        var gh = h.matmul(wHh.t()) + bHh;
        var (i, g) = (gi.chunk(3, 1), gh.chunk(3, 1));
        var r = (i[0] + g[0]).sigmoid();
        var z = (i[1] + g[1]).sigmoid();
        var n = (i[2] + r * g[2]).tanh();
        return (1 - z) * n + z * h;
    }

    static IEnumerable<Case> ClientFourteen()
    {
        Expr Bags(Expr table, string mode, Expr? weights = null) =>
            Nn.EmbeddingBag(Const(BagIds, [9], table), table, Const(BagStarts.Select(s => (double)s).ToArray(), [5], table), mode: mode,
                perSampleWeights: weights);
        foreach (var mode in new[] { "sum", "mean", "max" })
            yield return C($"embedding_bag {mode} [7,3] in 5 bags", new[] { mode == "max" ? D(7, 3) : I(7, 3) },
                x => Bags(x[0], mode).Sin(), x => TorchBags(x[0], mode).sin());
        yield return C("embedding_bag sum per_sample_weights", new[] { I(7, 3), I(9) },
            x => Bags(x[0], "sum", x[1]).Sin(), x => TorchBags(x[0], "sum", x[1]).sin());
        yield return C("gru_cell [2,3]·[2,4]", new[] { I(2, 3), I(2, 4), I(12, 3), I(12, 4), I(12), I(12) },
            x => Nn.GruCell(x[0], x[1], x[2], x[3], x[4], x[5]).Sin(), x => TorchGruCell(x[0], x[1], x[2], x[3], x[4], x[5]).sin());
        yield return C("bpr loss with embedding_bag history and L2", new[] { I(5, 3), I(7, 3) },
            x =>
            {
                var u = Nn.Embedding(Const(BagUsers, [5], x[0]), x[0]) + Bags(x[1], "mean");
                var pos = (u * Nn.Embedding(Const(BagPositive, [5], x[0]), x[1])).Sum(1);
                var neg = (u * Nn.Embedding(Const(BagNegative, [5], x[0]), x[1])).Sum(1);
                return -(pos - neg).LogSigmoid().Mean() + 0.01 * (x[0].Square().Sum() + x[1].Square().Sum());
            },
            x =>
            {
                var u = x[0].index_select(0, torch.tensor(BagUsers.Select(v => (long)v).ToArray())) + TorchBags(x[1], "mean");
                var pos = (u * x[1].index_select(0, torch.tensor(BagPositive.Select(v => (long)v).ToArray()))).sum(1);
                var neg = (u * x[1].index_select(0, torch.tensor(BagNegative.Select(v => (long)v).ToArray()))).sum(1);
                return -torch.nn.functional.logsigmoid(pos - neg).mean() + 0.01 * (x[0].square().sum() + x[1].square().sum());
            });
    }
}
