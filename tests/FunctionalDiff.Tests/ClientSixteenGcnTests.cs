using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's GCN written without PyG, the way torch code spells it: degrees by <c>torch.bincount(dst,
/// minlength=n)</c> (<c>Bincount</c>), messages summed into their destinations by <c>out.scatter_add_(0,
/// dst.unsqueeze(1).expand(-1, F), msg)</c> (<c>ScatterAdd</c> with an expanded index), symmetric normalisation
/// deg^−½, and cross-entropy over a masked subset of nodes (the per-node loss times the mask over its sum, torch's
/// <c>F.cross_entropy(logits[train_mask], y[train_mask])</c>). The loss is held to the network written as loops over
/// the edges with doubles, its gradient to central differences of those loops, and Bincount to torch's definition.
/// </summary>
public class ClientSixteenGcnTests
{
    const int Nodes = 5, Features = 3, Hidden = 4, Classes = 2;
    static readonly int[] Src = [0, 1, 1, 2, 2, 3, 3, 4, 0, 1, 2, 3, 4], Dst = [1, 0, 2, 1, 3, 2, 4, 3, 0, 1, 2, 3, 4];
    static readonly int[] Labels = [0, 1, 1, 0, 1];
    static readonly bool[] Train = [true, true, false, true, false];
    static readonly double[] X = Values(Nodes * Features, 4);
    static readonly (string Name, int[] Shape)[] Layout = [("conv1.weight", [Hidden, Features]), ("conv2.weight", [Classes, Hidden])];

    static Parameters Model() => Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape[0] * e.Shape[1], 20 + k).Select(v => 0.6 * v).ToArray(), e.Shape))).ToArray());

    static Expr Loss(IReadOnlyDictionary<string, Expr> p, Expr x, Expr src, Expr dst, Expr labels, Expr train)
    {
        var norm = dst.Bincount(Nodes).Pow(-0.5);                                   // torch.bincount(dst, minlength=n) ** -0.5
        Expr Conv(Expr h, Expr weight)
        {
            h = Nn.Linear(h, weight);
            var messages = h.IndexSelect(0, src) * (norm.IndexSelect(0, src) * norm.IndexSelect(0, dst)).Unsqueeze(1);
            var index = dst.Unsqueeze(1).Expand(-1, h.Shape[1]);                     // dst.unsqueeze(1).expand(-1, F)
            return Expr.ZerosLike(h).ScatterAdd(0, index, messages);                  // zeros_like(h).scatter_add_(0, index, msg)
        }
        var logits = Conv(Conv(x, p["conv1.weight"]).Relu(), p["conv2.weight"]);
        return (FunctionalDiff.Loss.CrossEntropy(logits, labels, Reduction.None) * train).Sum() / train.Sum();
    }

    static double Reference(double[] flat)
    {
        var w = Unflatten(Layout, flat);
        var degree = new double[Nodes];
        foreach (var d in Dst) degree[d] += 1;
        double[] Conv(double[] h, int inputs, double[] weight, int outputs)
        {
            var projected = Linear(h, Nodes, inputs, outputs, weight, new double[outputs]);
            var result = new double[Nodes * outputs];
            for (int e = 0; e < Src.Length; e++)
                for (int o = 0; o < outputs; o++)
                    result[Dst[e] * outputs + o] += projected[Src[e] * outputs + o] / Math.Sqrt(degree[Src[e]] * degree[Dst[e]]);
            return result;
        }
        var hidden = Conv(X, Features, w["conv1.weight"], Hidden).Select(v => Math.Max(0, v)).ToArray();
        var logits = Conv(hidden, Hidden, w["conv2.weight"], Classes);
        return MaskedCrossEntropy(logits, Classes, Labels, Train);
    }

    [Fact]
    public void TheMaskedLossAndItsGradientAreTheLoopsOverTheEdges()
    {
        var step = Diff.CompileValueAndGrad((p, d) => Loss(p, d[0], d[1], d[2], d[3], d[4]));
        var model = Model();
        var (loss, gradients) = step.Invoke(model, Tensor.FromArray(X, Nodes, Features), Tensor.FromArray(Src), Tensor.FromArray(Dst),
            Tensor.FromArray(Labels), Tensor.FromArray(Train, Nodes));
        var flat = Flatten(Layout, model);
        Close(Reference(flat), loss.Item(), 1e-12, "loss");
        Close(Gradient(Reference, flat), Flatten(Layout, gradients), 1e-7, "gradient");
    }

    [Fact]
    public void BincountIsTorchs()
    {
        var dst = Tensor.FromArray(Dst);
        var counts = new double[Nodes];
        foreach (var d in Dst) counts[d] += 1;
        Assert.Equal(counts, dst.Bincount().ToDoubleArray());
        // minlength pads; torch's length is max(max + 1, minlength)
        Assert.Equal(counts.Concat(new double[3]).ToArray(), dst.Bincount(minlength: 8).ToDoubleArray());
        Assert.Equal(counts, dst.Bincount(minlength: 2).ToDoubleArray());
        var weights = Values(Dst.Length, 5);
        var sums = new double[Nodes];
        for (int e = 0; e < Dst.Length; e++) sums[Dst[e]] += weights[e];
        Close(sums, dst.Bincount(Tensor.FromArray(weights)).ToDoubleArray(), 1e-15, "weighted");
        Close(sums, ((Expr)dst).Bincount(Nodes, Tensor.FromArray(weights)).Eval().ToDoubleArray(), 1e-15, "weighted, traced");
        // the derivative of Σ c_v · bincount(w)_v in w_e is c at the entry's bin
        var c = Values(Nodes, 6);
        var g = Diff.Grad(w => (((Expr)dst).Bincount(Nodes, w) * Tensor.FromArray(c)).Sum())(Tensor.FromArray(weights)).Eval();
        Close(Dst.Select(d => c[d]).ToArray(), g.ToDoubleArray(), 1e-15, "d/dweights");

        var negative = Assert.ThrowsAny<ArgumentException>(() => Tensor.FromArray([1.0, -1.0]).Bincount());
        Assert.StartsWith("Bincount: entry 1 of input [2] is -1", negative.Message);
        var beyond = Assert.ThrowsAny<ArgumentException>(() => ((Expr)dst).Bincount(3));
        Assert.StartsWith("Bincount: entry 4 of input [13] is 3, not a whole number below minlength 3", beyond.Message);
        Assert.StartsWith("Bincount: weights [2] must have the shape of input [13]",
            Assert.ThrowsAny<ArgumentException>(() => ((Expr)dst).Bincount(Nodes, Tensor.FromArray([1.0, 2.0]))).Message);
    }
}
