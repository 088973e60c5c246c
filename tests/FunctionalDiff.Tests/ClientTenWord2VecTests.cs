using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Word2vec skip-gram with negative sampling, ported from PyTorch as a user writes it first: an input and an output
/// <c>nn.Embedding</c>, center, context and negative ids as data, and
/// <c>-(F.logsigmoid((u * v).sum(1)) + F.logsigmoid(-torch.bmm(v_neg, u.unsqueeze(2)).squeeze()).sum(1)).mean()</c>.
/// The loss is compared with the same formula over doubles, the gradient with its central differences (and rows no
/// id names with exact zeros), and a few SGD steps with the plain update written out.
/// </summary>
public class ClientTenWord2VecTests
{
    const int Vocab = 9, Dim = 4, Batch = 5, Negatives = 3;
    static readonly int[] Centers = [0, 3, 3, 5, 1];
    static readonly int[] Contexts = [1, 2, 4, 6, 0];
    // row b holds the negatives of example b; id 3 repeats inside a row and across the tables' roles
    static readonly int[,] NegativeIds = { { 2, 7, 7 }, { 5, 0, 3 }, { 6, 1, 2 }, { 3, 3, 0 }, { 4, 6, 5 } };

    static Tensor CenterIds => Tensor.FromArray(Centers);
    static Tensor ContextIds => Tensor.FromArray(Contexts);
    static Tensor NegativeIdTensor => Tensor.FromArray(NegativeIds);

    static Parameters Model() => Parameters.Of(
        ("in_embed.weight", 0.5 * Tensor.RandomNormal([Vocab, Dim], seed: 11)),
        ("out_embed.weight", 0.5 * Tensor.RandomNormal([Vocab, Dim], seed: 12)));

    // ---- what a torch user writes ----

    static Expr SkipGramLoss(IReadOnlyDictionary<string, Expr> p, Expr center, Expr context, Expr negatives)
    {
        var u = Expr.Embedding(center, p["in_embed.weight"]);            // [B, d]
        var v = Expr.Embedding(context, p["out_embed.weight"]);          // [B, d]
        var vNeg = Expr.Embedding(negatives, p["out_embed.weight"]);     // [B, K, d]
        var positive = (u * v).Sum(1).LogSigmoid();                       // F.logsigmoid((u * v).sum(1))
        var negative = (-vNeg.Bmm(u.Unsqueeze(2)).Squeeze()).LogSigmoid().Sum(1);   // torch.bmm(v_neg, u.unsqueeze(2)).squeeze()
        return -(positive + negative).Mean();
    }

    // ---- the same loss over doubles ----

    static double LogSigmoid(double z) => z >= 0 ? -Math.Log(1 + Math.Exp(-z)) : z - Math.Log(1 + Math.Exp(z));

    static double Dot(double[] a, int i, double[] b, int j)
    {
        double s = 0;
        for (int k = 0; k < Dim; k++) s += a[i * Dim + k] * b[j * Dim + k];
        return s;
    }

    static double Reference(double[] input, double[] output)
    {
        double total = 0;
        for (int b = 0; b < Batch; b++)
        {
            double l = LogSigmoid(Dot(input, Centers[b], output, Contexts[b]));
            for (int k = 0; k < Negatives; k++) l += LogSigmoid(-Dot(input, Centers[b], output, NegativeIds[b, k]));
            total -= l;
        }
        return total / Batch;
    }

    static double[] Flat(Parameters p) => [.. p["in_embed.weight"].ToDoubleArray(), .. p["out_embed.weight"].ToDoubleArray()];

    static double ReferenceFlat(double[] flat) => Reference(flat[..(Vocab * Dim)], flat[(Vocab * Dim)..]);

    [Fact]
    public void LossIsTheFormulaAndGradientIsCentralDifferencesWithUnusedRowsExactlyZero()
    {
        var model = Model();
        var (loss, gradients) = Diff.ValueAndGrad(p => SkipGramLoss(p, CenterIds, ContextIds, NegativeIdTensor), model);
        var values = Expr.EvalMany([loss, gradients["in_embed.weight"], gradients["out_embed.weight"]]);
        Close(ReferenceFlat(Flat(model)), values[0].ToScalar(), 1e-12, "loss");
        var numeric = Gradient(ReferenceFlat, Flat(model));
        Close(numeric, [.. values[1].ToDoubleArray(), .. values[2].ToDoubleArray()], 1e-7, "gradient");

        // only the rows an id names get a gradient; the others are exact zeros, as torch's dense embedding gradient
        var usedIn = Centers.ToHashSet();
        var usedOut = Contexts.Concat(NegativeIds.Cast<int>()).ToHashSet();
        var gIn = values[1].ToDoubleArray();
        var gOut = values[2].ToDoubleArray();
        for (int r = 0; r < Vocab; r++)
            for (int k = 0; k < Dim; k++)
            {
                if (!usedIn.Contains(r)) Assert.Equal(0.0, gIn[r * Dim + k]);
                if (!usedOut.Contains(r)) Assert.Equal(0.0, gOut[r * Dim + k]);
            }
        Assert.Contains(Enumerable.Range(0, Vocab), r => !usedIn.Contains(r));
        Assert.Contains(Enumerable.Range(0, Vocab), r => !usedOut.Contains(r));
    }

    [Fact]
    public void SgdStepsThroughACompiledStepFollowTheReferenceUpdate()
    {
        const double lr = 0.5;
        var step = Diff.CompileValueAndGrad((p, data) => SkipGramLoss(p, data[0], data[1], data[2]));
        var sgd = new Sgd(Model(), lr: lr);
        var flat = Flat(sgd.Parameters);
        var losses = new List<double>();
        for (int i = 0; i < 5; i++)
        {
            var (loss, gradients) = step.Invoke(sgd.Parameters, CenterIds, ContextIds, NegativeIdTensor);
            // after the first step the reference moved by central differences, within 1e-10 of the true gradient
            Close(ReferenceFlat(flat), loss.Item(), i == 0 ? 1e-12 : 1e-8, $"loss at step {i}");
            losses.Add(loss.Item());
            sgd.Step(gradients);
            var numeric = Gradient(ReferenceFlat, flat);
            flat = flat.Select((w, k) => w - lr * numeric[k]).ToArray();
            Close(flat, Flat(sgd.Parameters), 1e-7, $"parameters after step {i}");
        }
        Assert.True(losses[^1] < losses[0], "SGD lowered the loss");
        Assert.Equal(1, step.TraceCount);
    }

    [Fact]
    public void Float32TablesGiveTheFloat64LossToSinglePrecision()
    {
        var model = Model();
        var single = model.Map((_, t) => t.To(DType.Float32));
        var loss = SkipGramLoss(single.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value), CenterIds, ContextIds, NegativeIdTensor).Eval();
        Assert.Equal(DType.Float32, loss.DType);
        Close(ReferenceFlat(Flat(model)), loss.Item(), 1e-5, "float32 loss");
    }
}
