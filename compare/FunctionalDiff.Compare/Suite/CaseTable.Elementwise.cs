using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

public static partial class CaseTable
{
    static IEnumerable<Case> Elementwise() => new[]
    {
        AtShapes("neg", I, x => -x, x => -x),
        AtShapes("exp", I, x => x.Exp(), x => x.exp()),
        AtShapes("log", P, x => x.Log(), x => x.log()),
        AtShapes("log1p", P, x => x.Log1p(), x => x.log1p()),
        AtShapes("expm1", I, x => x.Expm1(), x => x.expm1()),
        AtShapes("sin", I, x => x.Sin(), x => x.sin()),
        AtShapes("cos", I, x => x.Cos(), x => x.cos()),
        AtShapes("tan", U, x => x.Tan(), x => x.tan()),
        AtShapes("tanh", I, x => x.Tanh(), x => x.tanh()),
        AtShapes("sigmoid", I, x => x.Sigmoid(), x => x.sigmoid()),
        AtShapes("relu", Z, x => x.Relu(), x => x.relu()),
        AtShapes("abs", Z, x => x.Abs(), x => x.abs()),
        AtShapes("sign", Z, x => x.Sign() * x, x => x.sign() * x),
        AtShapes("sqrt", P, x => x.Sqrt(), x => x.sqrt()),
        AtShapes("rsqrt", P, x => x.Rsqrt(), x => x.rsqrt()),
        AtShapes("square", I, x => x.Square(), x => x.square()),
        AtShapes("reciprocal", Z, x => x.Reciprocal(), x => x.reciprocal()),
        AtShapes("erf", I, x => x.Erf(), x => x.erf()),
        AtShapes("floor", I, x => x.Floor() * x, x => x.floor() * x),
        AtShapes("ceil", I, x => x.Ceil() * x, x => x.ceil() * x),
        AtShapes("round", I, x => x.Round() * x, x => x.round() * x),
        AtShapes("softplus", I, x => x.Softplus(), x => F.softplus(x)),
        AtShapes("cast", I, x => x.Cast(x.DType == DType.Float64 ? DType.Float32 : DType.Float64).Sin().Cast(x.DType),
                            x => x.to_type(x.dtype == ScalarType.Float64 ? ScalarType.Float32 : ScalarType.Float64).sin().to_type(x.dtype))
            .Select(c => c with { Float64 = new Tolerance(1e-6, 1e-7),
                                  Why = "the value passes through float32 on the way: float64 agreement is limited to float32 rounding" }),
    }.SelectMany(c => c);

    static IEnumerable<Case> Binary() => new[]
    {
        Broadcasting("add", I, I, (a, b) => a + b, (a, b) => a + b),
        Broadcasting("sub", I, I, (a, b) => a - b, (a, b) => a - b),
        Broadcasting("mul", I, I, (a, b) => a * b, (a, b) => a * b),
        Broadcasting("div", I, Z, (a, b) => a / b, (a, b) => a / b),
        Broadcasting("pow", P, I, (a, b) => a.Pow(b), (a, b) => a.pow(b)),
        Broadcasting("maximum", D, D, Expr.Maximum, torch.maximum),
        Broadcasting("minimum", D, D, Expr.Minimum, torch.minimum),
        Broadcasting("atan2", Z, Z, Expr.Atan2, torch.atan2),
        // comparisons have zero derivative; multiplying by an input keeps the check meaningful
        Broadcasting("lt", D, D, (a, b) => (a < b) * a * b, (a, b) => Mask(a.lt(b), a) * a * b),
        Broadcasting("le", D, D, (a, b) => (a <= b) * a * b, (a, b) => Mask(a.le(b), a) * a * b),
        Broadcasting("gt", D, D, (a, b) => (a > b) * a * b, (a, b) => Mask(a.gt(b), a) * a * b),
        Broadcasting("ge", D, D, (a, b) => (a >= b) * a * b, (a, b) => Mask(a.ge(b), a) * a * b),
        // rounded normals are often equal, so both outcomes of eq/ne occur
        Broadcasting("eq", I, I, (a, b) => a.Round().Eq(b.Round()) * a * b, (a, b) => Mask(a.round().eq(b.round()), a) * a * b),
        Broadcasting("ne", I, I, (a, b) => a.Round().Ne(b.Round()) * a * b, (a, b) => Mask(a.round().ne(b.round()), a) * a * b),
        Broadcasting("where", I, I, (a, b) => Expr.Where(a > b, a * b, a - b), (a, b) => torch.where(a.gt(b), a * b, a - b)),
        Broadcasting("scalar literal", I, I, (a, b) => a * 2.0 + b / 3.0 - 1.5, (a, b) => a * 2.0 + b / 3.0 - 1.5),
    }.SelectMany(c => c);
}
