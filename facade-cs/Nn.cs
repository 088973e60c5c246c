using Build = FunctionalDiff.Core.ExprModule;
using CoreNn = FunctionalDiff.Core.Nn;

namespace FunctionalDiff;

/// <summary>Neural-network layers with torch's conventions.</summary>
public static partial class Nn
{
    /// <summary>
    /// A dense layer as torch's linear: input @ weightᵀ + bias, with weight [out, in], input [..., in]
    /// and bias [out] (none when null).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public static Expr Linear(Expr input, Expr weight, Expr? bias = null)
    {
        var (x, w) = Expr.Align(input, weight);
        // an absent bias is −0, which folds away (x + −0 is x), as torch adds none; + (+0) would stay in
        // the graph as a pass over the output, and turn a −0 entry into +0
        var b = bias is null ? Build.scalar(w.DType, -0.0) : Expr.Align(weight, bias).B;
        return Expr.Wrap(CoreNn.linear(w, b, x));
    }
}
