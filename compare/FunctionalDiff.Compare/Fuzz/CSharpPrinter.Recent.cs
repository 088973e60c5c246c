namespace FunctionalDiff.Compare.Fuzz;

// The recent ops (`--ops recent`) and the special ones (`--ops special`) as the C# calls OurInterpreter makes.
public static partial class CSharpPrinter
{
    static string Recent(Step s, string[] a, DType dtype)
    {
        string x = a[0];
        int[] p = s.Ints;
        string c = Number(s.Scalar);
        string Data() => TensorLiteral(s.Data!, s.DataShape!, dtype);
        string Scales() => $"{Number(s.Data![0])}, {Number(s.Data![1])}";
        string Split(string method, int first) => s.Mode == 0 ? $"{x}.{method}({p[first]}" : $"{x}.{method}(new[] {{ {Ints(p[first..])} }}";
        return s.Kind switch
        {
            OpKind.AtLeast => $"{x}.AtLeast{p[0]}d()",
            OpKind.Hstack or OpKind.Vstack or OpKind.Dstack or OpKind.ColumnStack or OpKind.MultiDot => $"Expr.{s.Kind}({string.Join(", ", a)})",
            OpKind.TensorSplit => $"{Split("TensorSplit", 2)}, {p[0]})[{p[1]}]",
            OpKind.Hsplit or OpKind.Vsplit or OpKind.Dsplit => $"{Split(s.Kind.ToString(), 1)})[{p[0]}]",
            OpKind.Fliplr or OpKind.Flipud or OpKind.BesselJ0 or OpKind.BesselJ1 or OpKind.BesselY0 or OpKind.BesselY1 or OpKind.ModifiedBesselK0
                or OpKind.ModifiedBesselK1 or OpKind.ScaledModifiedBesselK0 or OpKind.ScaledModifiedBesselK1 => $"{x}.{s.Kind}()",
            OpKind.Gammainc or OpKind.Gammaincc or OpKind.Zeta => $"Expr.{s.Kind}({Data()}, {x})",
            OpKind.Rot90 => $"{x}.Rot90({p[0]}, {p[1]}, {p[2]})",
            OpKind.TakeAlongDim => p.Length == 0 ? $"{x}.TakeAlongDim({Data()})" : $"{x}.TakeAlongDim({Data()}, {p[0]})",
            OpKind.Diagflat => $"{x}.Diagflat({p[0]})",
            OpKind.SliceScatter => $"{x}.SliceScatter({a[1]}, {p[0]}, {p[1]}, {p[2]}, {p[3]})",
            OpKind.SelectScatter => $"{x}.SelectScatter({a[1]}, {p[0]}, {p[1]})",
            OpKind.DiagonalScatter => $"{x}.DiagonalScatter({a[1]}, {p[0]}, {p[1]}, {p[2]})",
            OpKind.IndexFill => $"{x}.IndexFill({p[0]}, new[] {{ {Ints(p[1..])} }}, {c})",
            OpKind.Fmax or OpKind.Fmin => $"Expr.{s.Kind}({a[0]}, {a[1]})",
            OpKind.IsClose => $"{a[0]}.IsClose({a[1]}, {Scales()}, equalNaN: {Bool(s.Flag ? 1 : 0)})",
            OpKind.IsIn => $"{x}.IsIn({Data()}, invert: {Bool(s.Flag ? 1 : 0)})",
            OpKind.StdMean or OpKind.VarMean =>
                $"{x}.{s.Kind}({(p.Length == 0 ? c : $"new[] {{ {Ints(p)} }}, {c}, keepDims: {Bool(s.Flag ? 1 : 0)}")}).{(s.Mode == 1 ? "Mean" : s.Kind == OpKind.StdMean ? "Std" : "Var")}",
            OpKind.Addmm or OpKind.Addmv or OpKind.Addr or OpKind.Baddbmm or OpKind.Addbmm => $"{a[0]}.{s.Kind}({a[1]}, {a[2]}, {Scales()})",
            OpKind.Vecdot => $"Expr.Vecdot({a[0]}, {a[1]}, {p[0]})",
            OpKind.CholeskyInverse => $"{x}.CholeskyInverse(upper: {Bool(s.Flag ? 1 : 0)})",
            OpKind.AdaptiveAvgPool3d or OpKind.AdaptiveMaxPool3d => $"Nn.{s.Kind}({x}, ({p[0]}, {p[1]}, {p[2]}))",
            OpKind.LpPool1d => $"Nn.LpPool1d({x}, {c}, {p[0]}, {p[1]}, ceilMode: {Bool(s.Flag ? 1 : 0)})",
            OpKind.LpPool2d => $"Nn.LpPool2d({x}, {c}, ({p[0]}, {p[1]}), ({p[2]}, {p[3]}), ceilMode: {Bool(s.Flag ? 1 : 0)})",
            OpKind.Softmax2d => $"Nn.Softmax2d({x})",
            OpKind.Cond => s.Mode switch { 0 => $"{x}.Cond({c})", 1 => $"{x}.Cond(\"fro\")", _ => $"{x}.Cond(\"nuc\")" },
            OpKind.MatrixRank => $"{x}.MatrixRank(atol: {c}, hermitian: {Bool(s.Flag ? 1 : 0)})",
            OpKind.VectorNorm => $"{x}.VectorNorm({c}, {(p.Length == 0 ? "null" : $"new[] {{ {Ints(p)} }}")}, keepDims: {Bool(s.Flag ? 1 : 0)})",
            _ => throw new ArgumentOutOfRangeException(nameof(s), s.Kind, "no printer"),
        };
    }
}
