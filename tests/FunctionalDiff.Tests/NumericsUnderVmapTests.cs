using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// The numerical conveniences and the dropout variants under Diff.Vmap: each example's value and gradient equal the op
/// applied to that example alone, bit for bit (a reference loop over the batch).
/// </summary>
public class NumericsUnderVmapTests
{
    public static TheoryData<string> Ops => new()
    {
        "Diff", "Trapezoid", "CumulativeTrapezoid", "Cov", "Corrcoef", "Renorm", "Tensordot", "Pdist", "NanMedian", "Combinations",
        "Vander", "LogAddExp2", "Copysign", "ChannelShuffle", "MultiLabelMarginLoss", "AlphaDropout", "Dropout2d", "RRelu",
    };

    static readonly Tensor Weights = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => Math.Cos(0.9 * i)).ToArray(), 6, 4);
    static readonly Tensor Draws = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => (i * 0.61 + 0.2) % 1.0).ToArray(), 4, 6);

    static Expr Apply(string op, Expr x) => op switch
    {
        "Diff" => x.Reshape(4, 6).Diff(2, 1),
        "Trapezoid" => x.Reshape(4, 6).Trapezoid(0.5, 0),
        "CumulativeTrapezoid" => x.Reshape(4, 6).CumulativeTrapezoid(0.25),
        "Cov" => x.Reshape(3, 8).Cov(),
        "Corrcoef" => x.Reshape(3, 8).Corrcoef(),
        "Renorm" => x.Reshape(4, 6).Renorm(2, 0, 1.5),
        "Tensordot" => Expr.Tensordot(x.Reshape(4, 6), Weights, [1], [0]),
        "Pdist" => Nn.Pdist(x.Reshape(6, 4)),
        "NanMedian" => x.Reshape(4, 6).NanMedian(1).Values,
        "Combinations" => x.Reshape(24).Narrow(0, 0, 6).Combinations(3),
        "Vander" => x.Reshape(24).Narrow(0, 3, 5).Vander(4),
        "LogAddExp2" => Expr.LogAddExp2(x.Reshape(4, 6), x.Reshape(4, 6).Flip(1)),
        "Copysign" => x.Reshape(4, 6).Copysign(x.Reshape(4, 6).Flip(0)),
        "ChannelShuffle" => Nn.ChannelShuffle(x.Reshape(1, 6, 4), 3),
        "MultiLabelMarginLoss" => Loss.MultiLabelMarginLoss(x.Reshape(4, 6), new[,] { { 1, 4, -1, 0, 0, 0 }, { 0, -1, 0, 0, 0, 0 }, { 5, 3, 2, -1, 0, 0 }, { -1, 0, 0, 0, 0, 0 } }),
        "AlphaDropout" => Nn.AlphaDropout(x.Reshape(4, 6), 0.3, Draws),
        "Dropout2d" => Nn.Dropout2d(x.Reshape(2, 3, 2, 2), 0.4, Draws.Reshape(24).Narrow(0, 0, 6).Reshape(2, 3)),
        "RRelu" => Nn.RRelu(x.Reshape(4, 6), 0.1, 0.3, Draws),
        _ => throw new ArgumentException(op),
    };

    [Theory]
    [MemberData(nameof(Ops))]
    public void EachExampleIsTheOpAppliedAlone(string op)
    {
        const int batch = 3;
        var values = Enumerable.Range(0, batch * 24).Select(i => Math.Sin(1.7 * i + 0.3) * 2).ToArray();
        // a NaN in the last example for nanmedian to leave out
        if (op == "NanMedian") values[^2] = double.NaN;
        TestSupport.VmapMatchesTheLoop(e => Apply(op, e).Sin().Sum(), values, batch);
    }
}
