using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch's <c>scaled_dot_product_attention(..., enable_gqa=True)</c>: query head h attends with key and value head
/// h / (Hq / Hkv). Held to a loop over the query heads, each attending with its own key and value head sliced out, and
/// the keys' derivative to central differences (it sums over the query heads a key head serves).
/// </summary>
public class GroupedQueryAttentionTests
{
    [Fact]
    public void EachKeyAndValueHeadServesItsGroupOfQueryHeads()
    {
        // batch 2, 6 query heads, 2 key/value heads, L = 3 queries, S = 4 keys, E = 5, Ev = 3
        var q = T([2, 6, 3, 5], 1);
        var k = T([2, 2, 4, 5], 2);
        var v = T([2, 2, 4, 3], 3);
        var grouped = Nn.ScaledDotProductAttention(q, k, v, isCausal: true, enableGqa: true).Eval();
        Assert.Equal(new[] { 2, 6, 3, 3 }, grouped.Shape);
        var byHead = new double[2 * 6 * 3 * 3];
        for (int b = 0; b < 2; b++)
            for (int h = 0; h < 6; h++)
            {
                Expr Head(Tensor t, int i) => ((Expr)t).Slice(0, b, b + 1).Slice(1, i, i + 1);
                var one = Nn.ScaledDotProductAttention(Head(q, h), Head(k, h / 3), Head(v, h / 3), isCausal: true).Eval().ToDoubleArray();
                Array.Copy(one, 0, byHead, (b * 6 + h) * 9, 9);
            }
        Close(byHead, grouped.ToDoubleArray(), 1e-14, "per head");

        var w = T([2, 6, 3, 3], 4);
        Func<Expr, Expr> loss = key => (Nn.ScaledDotProductAttention(q, key, v, enableGqa: true) * w).Sum();
        Close(NumericGradient(loss, k), Diff.Grad(loss)(k).Eval().ToDoubleArray(), 1e-7, "key gradient");
    }

    [Fact]
    public void HeadsThatDoNotDivideRaiseNamingTheShapes()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Nn.ScaledDotProductAttention(T([1, 6, 3, 5]), T([1, 4, 4, 5]), T([1, 4, 4, 3]), enableGqa: true));
        Assert.StartsWith("ScaledDotProductAttention: ", e.Message);
        Assert.Contains("[1,6,3,5]", e.Message);
        Assert.StartsWith("ScaledDotProductAttention: ", Assert.ThrowsAny<ArgumentException>(() => Nn.ScaledDotProductAttention(T([3, 5]), T([4, 5]), T([4, 3]), enableGqa: true)).Message);
    }
}
