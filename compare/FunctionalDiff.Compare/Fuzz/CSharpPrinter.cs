using System.Globalization;
using System.Text;

namespace FunctionalDiff.Compare.Fuzz;

/// <summary>Prints a program as C# that uses FunctionalDiff's public API: the inputs, then a function F over them.</summary>
public static partial class CSharpPrinter
{
    /// <summary>The inputs as <c>x</c>, the function as <c>Expr F(Expr[] x)</c>.</summary>
    public static string Print(FuzzProgram p, DType dtype)
    {
        var text = new StringBuilder();
        text.Append(PrintInputs(p, dtype));
        text.AppendLine("Expr F(Expr[] x)");
        text.AppendLine("{");
        var names = Enumerable.Range(0, p.InputCount).Select(i => $"x[{i}]").ToList();
        for (int i = 0; i < p.Steps.Length; i++)
        {
            names.Add($"v{i}");
            text.AppendLine($"    var v{i} = {Call(p.Steps[i], p.Steps[i].Args.Select(a => names[a]).ToArray(), dtype)};");
        }
        text.AppendLine($"    return {names[p.Output]};");
        text.AppendLine("}");
        return text.ToString();
    }

    /// <summary>The program's inputs as <c>var x = new Expr[] { ... };</c>, one line per input.</summary>
    public static string PrintInputs(FuzzProgram p, DType dtype)
    {
        var text = new StringBuilder();
        text.AppendLine("var x = new Expr[]");
        text.AppendLine("{");
        for (int i = 0; i < p.InputCount; i++)
            text.AppendLine($"    {TensorLiteral(p.InputValues[i], p.InputShapes[i], dtype)},");
        text.AppendLine("};");
        return text.ToString();
    }

    /// <summary>A number as a C# literal that reads back to the same double.</summary>
    public static string Number(double v) =>
        double.IsNaN(v) ? "double.NaN" : double.IsPositiveInfinity(v) ? "double.PositiveInfinity" : double.IsNegativeInfinity(v) ? "double.NegativeInfinity"
        : v.ToString("R", CultureInfo.InvariantCulture) is var s && (s.Contains('.') || s.Contains('E')) ? s : s + ".0";

    static string Numbers(IEnumerable<double> values, DType dtype) =>
        string.Join(", ", values.Select(v => dtype == DType.Float64 ? Number(v)
            : float.IsFinite((float)v) ? ((float)v).ToString("R", CultureInfo.InvariantCulture) + "f" : Number((float)v).Replace("double.", "float.")));

    static string Bool(int flag) => flag == 1 ? "true" : "false";

    static string Ints(IEnumerable<int> values) => string.Join(", ", values);

    /// <summary>An optional int of a step, 0 for none (a pool's stride, an average pool's divisor override).</summary>
    static string Stride(int value) => value == 0 ? "null" : value.ToString(CultureInfo.InvariantCulture);

    static string TensorLiteral(double[] values, int[] shape, DType dtype) =>
        $"Tensor.FromArray(new {(dtype == DType.Float64 ? "double" : "float")}[] {{ {Numbers(values, dtype)} }}{(shape.Length == 0 ? ", Array.Empty<int>()" : ", " + Ints(shape))})";

    static string Call(Step s, string[] a, DType dtype)
    {
        string x = a.Length > 0 ? a[0] : "";
        int[] p = s.Ints;
        string c = Number(s.Scalar);
        string keep = s.Flag ? ", keepDims: true" : "";
        string Axes() => s.Mode switch { 0 => "", 1 => $"{p[0]}{keep}", _ => $"new[] {{ {Ints(p)} }}{keep}" };
        string other = dtype == DType.Float64 ? "DType.Float32" : "DType.Float64";
        string self = dtype == DType.Float64 ? "DType.Float64" : "DType.Float32";
        return s.Kind switch
        {
            OpKind.Neg => $"-{x}",
            OpKind.StopGradient or OpKind.Exp or OpKind.Expm1 or OpKind.Log or OpKind.Log1p or OpKind.Sin or OpKind.Cos or OpKind.Tan
                or OpKind.Tanh or OpKind.Sigmoid or OpKind.Relu or OpKind.Softplus or OpKind.Abs or OpKind.Sign or OpKind.Sqrt or OpKind.Rsqrt
                or OpKind.Square or OpKind.Reciprocal or OpKind.Erf or OpKind.Floor or OpKind.Ceil or OpKind.Round => $"{x}.{s.Kind}()",
            OpKind.CastRoundTrip => $"{x}.Cast({other}).Cast({self})",
            OpKind.AddScalar => $"{x} + {c}",
            OpKind.MulScalar => $"{x} * {c}",
            OpKind.RSubScalar => $"{c} - {x}",
            OpKind.DivScalar => $"{x} / {c}",
            OpKind.RDivScalar => $"{c} / {x}",
            OpKind.PowScalar => $"{x}.Pow({c})",
            OpKind.Add => $"{a[0]} + {a[1]}",
            OpKind.Sub => $"{a[0]} - {a[1]}",
            OpKind.Mul => $"{a[0]} * {a[1]}",
            OpKind.Div => $"{a[0]} / {a[1]}",
            OpKind.Pow => $"{a[0]}.Pow({a[1]})",
            OpKind.Maximum or OpKind.Minimum or OpKind.Atan2 => $"Expr.{s.Kind}({a[0]}, {a[1]})",
            OpKind.Lt => $"{a[0]} < {a[1]}",
            OpKind.Le => $"{a[0]} <= {a[1]}",
            OpKind.Gt => $"{a[0]} > {a[1]}",
            OpKind.Ge => $"{a[0]} >= {a[1]}",
            OpKind.Eq or OpKind.Ne => $"{a[0]}.{s.Kind}({a[1]})",
            OpKind.Where => $"Expr.Where({a[0]}, {a[1]}, {a[2]})",
            OpKind.Sum or OpKind.Mean or OpKind.Max or OpKind.Min or OpKind.Prod => $"{x}.{s.Kind}({Axes()})",
            OpKind.ArgMax => $"{x}.ArgMax({p[0]}{keep})",
            OpKind.Softmax or OpKind.LogSoftmax or OpKind.LogSumExp => $"{x}.{s.Kind}({p[0]})",
            OpKind.LayerNorm => $"{x}.LayerNorm({c})",
            OpKind.Mse => $"Loss.Mse({a[0]}, {a[1]})",
            OpKind.BceWithLogits => $"Loss.BinaryCrossEntropyWithLogits({a[0]}, {a[1]}.Sigmoid())",
            OpKind.CrossEntropy => $"Loss.CrossEntropy({x}, new[] {{ {Ints(p)} }})",
            OpKind.Linear => $"Nn.Linear({string.Join(", ", a)})",
            OpKind.MatMul => $"{a[0]}.MatMul({a[1]})",
            OpKind.Transpose => $"{x}.Transpose()",
            OpKind.Permute => $"{x}.Transpose({Ints(p)})",
            OpKind.Reshape => $"{x}.Reshape({Ints(p)})",
            OpKind.BroadcastTo => $"{x}.BroadcastTo({Ints(p)})",
            OpKind.Slice => $"{x}.Slice({p[0]}, {p[1]}, {p[2]}, step: {p[3]})",
            OpKind.Pad => $"{x}.Pad(new[] {{ {Ints(p[..(p.Length / 2)])} }}, new[] {{ {Ints(p[(p.Length / 2)..])} }})",
            OpKind.Flip => $"{x}.Flip({Ints(p)})",
            OpKind.Gather => $"{x}.Gather({p[0]}, {TensorLiteral(s.Data!, s.DataShape!, dtype)})",
            OpKind.ScatterAdd => $"Expr.ScatterAdd({p[0]}, {TensorLiteral(s.Data!, s.DataShape!, dtype)}, {x}, new[] {{ {Ints(p[1..])} }})",
            OpKind.Concat or OpKind.Stack => $"Expr.{s.Kind}({p[0]}, {string.Join(", ", a)})",
            OpKind.Gelu or OpKind.GeluTanh or OpKind.Silu or OpKind.Softsign or OpKind.LogSigmoid or OpKind.Erfc or OpKind.Lgamma
                or OpKind.Digamma or OpKind.EigvalsH or OpKind.Det or OpKind.LogDet or OpKind.Inverse or OpKind.Cholesky => $"{x}.{s.Kind}()",
            OpKind.Polygamma or OpKind.Cumsum or OpKind.Cumprod or OpKind.OneHot or OpKind.Tril or OpKind.Triu or OpKind.DiagEmbed => $"{x}.{s.Kind}({p[0]})",
            OpKind.Elu or OpKind.LeakyRelu => $"{x}.{s.Kind}({c})",
            OpKind.Clamp => $"{x}.Clamp({(s.Mode == 2 ? "null" : Number(s.Data![0]))}, {(s.Mode == 1 ? "null" : Number(s.Data![1]))})",
            OpKind.Var or OpKind.Std => s.Mode == 0 ? $"{x}.{s.Kind}()"
                : $"{x}.{s.Kind}({(s.Mode == 1 ? p[0].ToString() : $"new[] {{ {Ints(p)} }}")}, {c}{keep})",
            OpKind.Norm => $"{x}.Norm({(double.IsPositiveInfinity(s.Scalar) ? "double.PositiveInfinity" : c)}{(s.Mode == 0 ? "" : ", " + Axes())})",
            OpKind.FrobeniusNorm => $"{x}.FrobeniusNorm({(s.Flag ? "keepDims: true" : "")})",
            OpKind.Repeat => $"Expr.Repeat({p[0]}, {FuzzProgram.RepeatBodies[s.Mode].Replace("c", c)}, {x})",
            OpKind.IndexSelect => $"{x}.IndexSelect({p[0]}, {TensorLiteral(s.Data!, s.DataShape!, dtype)})",
            OpKind.Embedding => $"Expr.Embedding({TensorLiteral(s.Data!, s.DataShape!, dtype)}, {x})",
            OpKind.Sort => $"{x}.Sort({p[0]}, descending: {(s.Flag ? "true" : "false")}).{(s.Mode == 0 ? "Values" : "Indices")}",
            OpKind.TopK => $"{x}.TopK({p[0]}, {p[1]}, largest: {(s.Flag ? "true" : "false")}).{(s.Mode == 0 ? "Values" : "Indices")}",
            OpKind.Diagonal => $"{x}.Diagonal({Ints(p)})",
            OpKind.Einsum => $"Expr.Einsum(\"{FuzzProgram.EinsumEquations[p[0]]}\", {string.Join(", ", a)})",
            OpKind.Solve => $"{a[0]}.Solve({a[1]})",
            OpKind.SolveTriangular => $"{a[0]}.SolveTriangular({a[1]}, upper: {Bool(p[0])}, left: {Bool(p[1])}, transpose: {Bool(p[2])}, unitriangular: {Bool(p[3])})",
            OpKind.Conv1d or OpKind.Conv2d => $"Nn.{s.Kind}({a[0]}, {a[1]}, {(a.Length > 2 ? a[2] : "null")}, stride: {p[0]}, padding: {p[1]}, dilation: {p[2]}, groups: {p[3]})",
            OpKind.ConvTranspose2d => $"Nn.ConvTranspose2d({a[0]}, {a[1]}, {(a.Length > 2 ? a[2] : "null")}, stride: {p[0]}, padding: {p[1]}, outputPadding: {p[2]}, dilation: {p[3]}, groups: {p[4]})",
            OpKind.MaxPool2d => $"Nn.MaxPool2d({x}, {p[0]}, stride: {(p[1] == 0 ? "null" : p[1].ToString())}, padding: {p[2]}, dilation: {p[3]})",
            OpKind.AvgPool2d => $"Nn.AvgPool2d({x}, {p[0]}, stride: {(p[1] == 0 ? "null" : p[1].ToString())}, padding: {p[2]})",
            OpKind.AdaptiveAvgPool2d => $"Nn.AdaptiveAvgPool2d({x}, ({p[0]}, {p[1]}))",
            OpKind.Unfold => $"Nn.Unfold({x}, {p[0]}, dilation: {p[1]}, padding: {p[2]}, stride: {p[3]})",
            OpKind.Fold => $"Nn.Fold({x}, {p[0]}, {p[1]}, {p[2]}, dilation: {p[3]}, padding: {p[4]}, stride: {p[5]})",
            OpKind.LogAddExp or OpKind.Hypot => $"Expr.{s.Kind}({a[0]}, {a[1]})",
            OpKind.Kron => $"{a[0]}.Kron({a[1]})",
            OpKind.Sinc or OpKind.Erfinv or OpKind.Frac or OpKind.Selu or OpKind.Tanhshrink => $"{x}.{s.Kind}()",
            OpKind.Celu or OpKind.Softshrink or OpKind.Hardshrink => $"{x}.{s.Kind}({c})",
            OpKind.Softmin or OpKind.Glu or OpKind.LogCumSumExp or OpKind.Diag => $"{x}.{s.Kind}({p[0]})",
            OpKind.Cummax => $"{x}.Cummax({p[0]}).{(s.Mode == 0 ? "Values" : "Indices")}",
            OpKind.Nansum => $"{x}.Nansum({Axes()})",
            OpKind.Tile => $"{x}.Tile({Ints(p)})",
            OpKind.GroupNorm => $"Nn.GroupNorm({x}, {p[0]})",
            OpKind.InstanceNorm or OpKind.BatchNorm => $"Nn.{s.Kind}({x})",
            OpKind.Interpolate => $"Nn.Interpolate({x}, new[] {{ {Ints(p)} }}, InterpolationMode.{(s.Mode == 0 ? "Nearest" : "Linear")}{(s.Flag ? ", alignCorners: true" : "")})",
            OpKind.Normalize => $"Nn.Normalize({x}, p: {c}, axis: {p[0]})",
            OpKind.CosineSimilarity => $"Nn.CosineSimilarity({a[0]}, {a[1]}, axis: {p[0]})",
            OpKind.Const => "(Expr)" + TensorLiteral(s.Data!, s.DataShape!, dtype),
            OpKind.Acos or OpKind.Asin or OpKind.Atan or OpKind.Acosh or OpKind.Asinh or OpKind.Atanh or OpKind.Sinh or OpKind.Cosh
                or OpKind.Trunc or OpKind.Hardsigmoid or OpKind.Hardswish or OpKind.Mish or OpKind.Trace or OpKind.Median => $"{x}.{s.Kind}()",
            OpKind.Hardtanh or OpKind.Threshold => $"{x}.{s.Kind}({Number(s.Data![0])}, {Number(s.Data![1])})",
            OpKind.Logit => $"{x}.Logit({(s.Mode == 1 ? c : "")})",
            OpKind.Prelu or OpKind.Heaviside or OpKind.Dot or OpKind.Outer => $"{a[0]}.{s.Kind}({a[1]})",
            OpKind.Xlogy or OpKind.Fmod or OpKind.Remainder or OpKind.FloorDivide => $"Expr.{s.Kind}({a[0]}, {a[1]})",
            OpKind.Lerp => $"Expr.Lerp({a[0]}, {a[1]}, {a[2]})",
            OpKind.AddCMul or OpKind.AddCDiv => $"{a[0]}.{s.Kind}({a[1]}, {a[2]}, {c})",
            OpKind.Cdist or OpKind.Dist => $"Expr.{s.Kind}({a[0]}, {a[1]}, {c})",
            OpKind.PairwiseDistance => $"Nn.PairwiseDistance({a[0]}, {a[1]}, {c}{keep})",
            OpKind.Cross => $"{a[0]}.Cross({a[1]}, {p[0]})",
            OpKind.MatrixPower or OpKind.Unsqueeze => $"{x}.{s.Kind}({p[0]})",
            OpKind.CholeskySolve => $"{a[0]}.CholeskySolve({a[1]}, upper: {(s.Flag ? "true" : "false")})",
            OpKind.Nanmean => $"{x}.Nanmean({Axes()})",
            OpKind.CountNonzero or OpKind.ArgMin => s.Mode == 0 ? $"{x}.{s.Kind}()" : $"{x}.{s.Kind}({p[0]}{keep})",
            OpKind.Amax or OpKind.Amin => $"{x}.{s.Kind}({Axes()})",
            OpKind.Movedim or OpKind.Narrow or OpKind.Flatten or OpKind.Unflatten or OpKind.Expand => $"{x}.{s.Kind}({Ints(p)})",
            OpKind.Squeeze => s.Mode == 2 ? $"{x}.Squeeze(new[] {{ {Ints(p)} }})" : $"{x}.Squeeze({Ints(p)})",
            OpKind.MaskedFill => $"{a[0]}.MaskedFill({a[1]}, {c})",
            OpKind.RepeatInterleave => $"{x}.RepeatInterleave({Ints(p)})",
            OpKind.NllLoss => $"Loss.NllLoss({x}, new[] {{ {Ints(p)} }}, Reduction.{RestOfSurface.Reduction(s.Mode)}{(s.Flag ? $", ignoreIndex: {(int)s.Scalar}" : "")})",
            OpKind.Huber or OpKind.SmoothL1 => $"Loss.{s.Kind}({a[0]}, {a[1]}, {c}, Reduction.{RestOfSurface.Reduction(s.Mode)})",
            OpKind.KlDiv => $"Loss.KlDiv({a[0]}, {a[1]}, Reduction.{RestOfSurface.Reduction(s.Mode)}, logTarget: {(s.Flag ? "true" : "false")})",
            OpKind.GaussianNllLoss => $"Loss.GaussianNllLoss({a[0]}, {a[1]}, {a[2]}, full: {(s.Flag ? "true" : "false")}, reduction: Reduction.{RestOfSurface.Reduction(s.Mode)})",
            OpKind.BinaryCrossEntropy => $"Loss.BinaryCrossEntropy({a[0]}, {a[1]}, Reduction.{RestOfSurface.Reduction(s.Mode)})",
            OpKind.PixelShuffle or OpKind.PixelUnshuffle => $"Nn.{s.Kind}({x}, {p[0]})",
            OpKind.ScaledDotProductAttention => $"Nn.ScaledDotProductAttention({a[0]}, {a[1]}, {a[2]}, isCausal: {(s.Flag ? "true" : "false")}{(s.Mode == 1 ? $", scale: {c}" : "")})",
            OpKind.IndexAdd => $"{x}.IndexAdd({p[0]}, {TensorLiteral(s.Data!, s.DataShape!, dtype)}, {a[1]})",
            OpKind.Svd => s.Mode switch
            {
                0 => $"{x}.Svd().S",
                1 => $"((Func<SvdResult, Expr>)(d => (d.U * {TensorLiteral(s.Data!, s.DataShape!, dtype)}).MatMul(d.Vh)))({x}.Svd())",
                2 => $"{x}.Svd().U.Square()",
                _ => $"{x}.Svd().Vh.Square()",
            },
            OpKind.SvdVals or OpKind.Pinv => $"{x}.{s.Kind}()",
            OpKind.Lstsq => $"{a[0]}.Lstsq({a[1]})",
            OpKind.MatrixNorm => $"{x}.MatrixNorm({(s.Mode == 1 ? "\"nuc\"" : Number(s.Scalar))}{keep})",
            OpKind.KthValue => $"{x}.KthValue({p[0]}, {p[1]}{keep}).{(s.Mode == 0 ? "Values" : "Indices")}",
            OpKind.Conv3d => $"Nn.Conv3d({a[0]}, {a[1]}, {(a.Length > 2 ? a[2] : "null")}, stride: {p[0]}, padding: {p[1]}, dilation: {p[2]}, groups: {p[3]})",
            OpKind.GridSample => $"Nn.GridSample({a[0]}, {a[1]}, GridSampleMode.{(s.Mode == 0 ? "Bilinear" : "Nearest")}, GridSamplePadding.{(GridSamplePadding)p[0]}, alignCorners: {(s.Flag ? "true" : "false")})",
            OpKind.AffineGrid => $"Nn.AffineGrid({x}, new[] {{ {Ints(p)} }}, alignCorners: {(s.Flag ? "true" : "false")})",
            OpKind.CtcLoss => $"Loss.CtcLoss({x}.LogSoftmax(-1), {TensorLiteral(s.Data!, s.DataShape!, dtype)}, new[] {{ {Ints(p[2..(2 + p[1])])} }}, new[] {{ {Ints(p[(2 + p[1])..])} }}, blank: {p[0]}, Reduction.{RestOfSurface.Reduction(s.Mode)}, zeroInfinity: {(s.Flag ? "true" : "false")})",
            OpKind.SegmentSoftmax => $"Nn.SegmentSoftmax({x}, {TensorLiteral(s.Data!, s.DataShape!, dtype)}, {p[0]}, axis: {p[1]})",
            OpKind.MaxPool1d or OpKind.MaxPool3d or OpKind.MaxPool2dWith =>
                $"Nn.{(s.Kind == OpKind.MaxPool2dWith ? "MaxPool2d" : s.Kind)}({x}, {p[0]}, stride: {Stride(p[1])}, padding: {p[2]}, dilation: {p[3]}, ceilMode: {Bool(s.Flag ? 1 : 0)})",
            OpKind.AvgPool1d => $"Nn.AvgPool1d({x}, {p[0]}, stride: {Stride(p[1])}, padding: {p[2]}, ceilMode: {Bool(s.Flag ? 1 : 0)}, countIncludePad: {Bool(s.Mode == 0 ? 1 : 0)})",
            OpKind.AvgPool3d or OpKind.AvgPool2dWith =>
                $"Nn.{(s.Kind == OpKind.AvgPool2dWith ? "AvgPool2d" : s.Kind)}({x}, {p[0]}, stride: {Stride(p[1])}, padding: {p[2]}, ceilMode: {Bool(s.Flag ? 1 : 0)}, countIncludePad: {Bool(s.Mode == 0 ? 1 : 0)}, divisorOverride: {Stride(p[3])})",
            OpKind.AdaptiveAvgPool1d or OpKind.AdaptiveMaxPool1d => $"Nn.{s.Kind}({x}, {p[0]})",
            OpKind.AdaptiveMaxPool2d => $"Nn.AdaptiveMaxPool2d({x}, ({p[0]}, {p[1]}))",
            OpKind.ConvTranspose1d => $"Nn.ConvTranspose1d({a[0]}, {a[1]}, {(a.Length > 2 ? a[2] : "null")}, stride: {p[0]}, padding: {p[1]}, outputPadding: {p[2]}, dilation: {p[3]}, groups: {p[4]})",
            OpKind.Quantile or OpKind.NanQuantile =>
                $"{x}.{s.Kind}({(s.DataShape is null ? Number(s.Data![0]) : $"new[] {{ {string.Join(", ", s.Data!.Select(Number))} }}")}, {(p.Length == 0 ? "null" : p[0].ToString())}{keep}, interpolation: QuantileInterpolation.{(QuantileInterpolation)s.Mode})",
            OpKind.SoftMarginLoss => $"Loss.SoftMarginLoss({x}, {TensorLiteral(s.Data!, s.DataShape!, dtype)}, Reduction.{RestOfSurface.Reduction(s.Mode)})",
            OpKind.HingeEmbeddingLoss => $"Loss.HingeEmbeddingLoss({x}, {TensorLiteral(s.Data!, s.DataShape!, dtype)}, {c}, Reduction.{RestOfSurface.Reduction(s.Mode)})",
            OpKind.MultiLabelSoftMarginLoss => $"Loss.MultiLabelSoftMarginLoss({x}, {TensorLiteral(s.Data!, s.DataShape!, dtype)}, {(a.Length > 1 ? a[1] : "null")}, Reduction.{RestOfSurface.Reduction(s.Mode)})",
            OpKind.MultiMarginLoss => $"Loss.MultiMarginLoss({x}, new[] {{ {Ints(p)} }}, p: {(s.Flag ? 2 : 1)}, margin: {c}, weight: {(s.Data is null ? "null" : TensorLiteral(s.Data, s.DataShape!, dtype))}, reduction: Reduction.{RestOfSurface.Reduction(s.Mode)})",
            OpKind.RmsNorm => $"Nn.RmsNorm({x}, new[] {{ {Ints(p)} }}, {(a.Length > 1 ? a[1] : "null")}{(s.Mode == 1 ? $", epsilon: {c}" : "")})",
            OpKind.LocalResponseNorm => $"Nn.LocalResponseNorm({x}, {p[0]}, alpha: {Number(s.Data![0])}, beta: {Number(s.Data![1])}, k: {Number(s.Data![2])})",
            OpKind.Bilinear => $"Nn.Bilinear({a[0]}, {a[1]}, {a[2]}{(a.Length > 3 ? $", {a[3]}" : "")})",
            OpKind.GumbelSoftmax => $"Nn.GumbelSoftmax({x}, {TensorLiteral(s.Data!, s.DataShape!, dtype)}, tau: {c}, hard: {Bool(s.Flag ? 1 : 0)}, axis: {p[0]})",
            OpKind.I0 or OpKind.I0e or OpKind.I1 or OpKind.I1e or OpKind.Erfcx or OpKind.Ndtr or OpKind.LogNdtr or OpKind.Ndtri or OpKind.Entr
                or OpKind.MatrixExp or OpKind.Corrcoef or OpKind.Deg2Rad or OpKind.Rad2Deg => $"{x}.{s.Kind}()",
            OpKind.Xlog1py or OpKind.LogAddExp2 => $"Expr.{s.Kind}({a[0]}, {a[1]})",
            OpKind.Copysign => $"{a[0]}.Copysign({a[1]})",
            OpKind.Multigammaln or OpKind.Cov => $"{x}.{s.Kind}({p[0]})",
            OpKind.Diff => $"{x}.Diff({p[0]}, {p[1]})",
            OpKind.Trapezoid or OpKind.CumulativeTrapezoid => $"{x}.{s.Kind}({c}, {p[0]})",
            OpKind.Vander => $"{x}.Vander({(p[0] == 0 ? "null" : p[0].ToString())}, increasing: {Bool(s.Flag ? 1 : 0)})",
            OpKind.Pdist => $"Nn.Pdist({x}, {c})",
            OpKind.Tensordot => $"Expr.Tensordot({a[0]}, {a[1]}, {p[0]})",
            OpKind.Dropout or OpKind.AlphaDropout or OpKind.FeatureAlphaDropout => $"Nn.{s.Kind}({x}, {c}, {TensorLiteral(s.Data!, s.DataShape!, dtype)})",
            OpKind.FeatureDropout => $"Nn.Dropout{p[0]}d({x}, {c}, {TensorLiteral(s.Data!, s.DataShape!, dtype)})",
            OpKind.RReluTraining => $"Nn.RRelu({x}, {Number(FuzzProgram.RReluBounds[s.Mode].Lower)}, {Number(FuzzProgram.RReluBounds[s.Mode].Upper)}, {TensorLiteral(s.Data!, s.DataShape!, dtype)})",
            OpKind.ConvTranspose3d => $"Nn.ConvTranspose3d({a[0]}, {a[1]}, {(a.Length > 2 ? a[2] : "null")}, stride: {p[0]}, padding: {p[1]}, outputPadding: {p[2]}, dilation: {p[3]}, groups: {p[4]})",
            OpKind.RnnCell => $"Nn.RnnCell({a[0]}, {a[1]}, {a[2]}, {a[3]}, {(a.Length > 4 ? a[4] : "null")}, {(a.Length > 5 ? a[5] : "null")}, \"{(s.Mode == 1 ? "relu" : "tanh")}\")",
            > OpKind.RnnCell => Recent(s, a, dtype),
            _ => throw new ArgumentOutOfRangeException(nameof(s), s.Kind, "no printer"),
        };
    }
}
