using FunctionalDiff.Compare.Suite;

namespace FunctionalDiff.Compare.Fuzz;

// Our side of the recent ops (`--ops recent`) and the special ones (`--ops special`), one public call each.
public static partial class OurInterpreter
{
    static Expr Recent(Step s, Expr[] a, DType dtype)
    {
        Expr x = a[0];
        int[] p = s.Ints;
        return s.Kind switch
        {
            OpKind.AtLeast => p[0] switch { 1 => x.AtLeast1d(), 2 => x.AtLeast2d(), _ => x.AtLeast3d() },
            OpKind.Hstack => Expr.Hstack(a),
            OpKind.Vstack => Expr.Vstack(a),
            OpKind.Dstack => Expr.Dstack(a),
            OpKind.ColumnStack => Expr.ColumnStack(a),
            OpKind.TensorSplit => (s.Mode == 0 ? x.TensorSplit(p[2], p[0]) : x.TensorSplit(p[2..], p[0]))[p[1]],
            OpKind.Hsplit => (s.Mode == 0 ? x.Hsplit(p[1]) : x.Hsplit(p[1..]))[p[0]],
            OpKind.Vsplit => (s.Mode == 0 ? x.Vsplit(p[1]) : x.Vsplit(p[1..]))[p[0]],
            OpKind.Dsplit => (s.Mode == 0 ? x.Dsplit(p[1]) : x.Dsplit(p[1..]))[p[0]],
            OpKind.Fliplr => x.Fliplr(),
            OpKind.Flipud => x.Flipud(),
            OpKind.Rot90 => x.Rot90(p[0], p[1], p[2]),
            OpKind.TakeAlongDim => p.Length == 0 ? x.TakeAlongDim(OurSide.Make(s.Data!, s.DataShape!, dtype))
                : x.TakeAlongDim(OurSide.Make(s.Data!, s.DataShape!, dtype), p[0]),
            OpKind.Diagflat => x.Diagflat(p[0]),
            OpKind.SliceScatter => x.SliceScatter(a[1], p[0], p[1], p[2], p[3]),
            OpKind.SelectScatter => x.SelectScatter(a[1], p[0], p[1]),
            OpKind.DiagonalScatter => x.DiagonalScatter(a[1], p[0], p[1], p[2]),
            OpKind.IndexFill => x.IndexFill(p[0], p[1..], s.Scalar),
            OpKind.Fmax => Expr.Fmax(a[0], a[1]),
            OpKind.Fmin => Expr.Fmin(a[0], a[1]),
            OpKind.IsClose => a[0].IsClose(a[1], s.Data![0], s.Data![1], s.Flag),
            OpKind.IsIn => x.IsIn(OurSide.Make(s.Data!, s.DataShape!, dtype), s.Flag),
            OpKind.StdMean => (p.Length == 0 ? x.StdMean(s.Scalar) : x.StdMean(p, s.Scalar, s.Flag)) is var (std, mean) && s.Mode == 0 ? std : mean,
            OpKind.VarMean => (p.Length == 0 ? x.VarMean(s.Scalar) : x.VarMean(p, s.Scalar, s.Flag)) is var (v, m) && s.Mode == 0 ? v : m,
            OpKind.Addmm => a[0].Addmm(a[1], a[2], s.Data![0], s.Data![1]),
            OpKind.Addmv => a[0].Addmv(a[1], a[2], s.Data![0], s.Data![1]),
            OpKind.Addr => a[0].Addr(a[1], a[2], s.Data![0], s.Data![1]),
            OpKind.Baddbmm => a[0].Baddbmm(a[1], a[2], s.Data![0], s.Data![1]),
            OpKind.Addbmm => a[0].Addbmm(a[1], a[2], s.Data![0], s.Data![1]),
            OpKind.MultiDot => Expr.MultiDot(a),
            OpKind.Vecdot => Expr.Vecdot(a[0], a[1], p[0]),
            OpKind.CholeskyInverse => x.CholeskyInverse(s.Flag),
            OpKind.AdaptiveAvgPool3d => Nn.AdaptiveAvgPool3d(x, (p[0], p[1], p[2])),
            OpKind.AdaptiveMaxPool3d => Nn.AdaptiveMaxPool3d(x, (p[0], p[1], p[2])),
            OpKind.LpPool1d => Nn.LpPool1d(x, s.Scalar, p[0], p[1], s.Flag),
            OpKind.LpPool2d => Nn.LpPool2d(x, s.Scalar, (p[0], p[1]), (p[2], p[3]), s.Flag),
            OpKind.Softmax2d => Nn.Softmax2d(x),
            OpKind.Cond => s.Mode switch { 0 => x.Cond(s.Scalar), 1 => x.Cond("fro"), _ => x.Cond("nuc") },
            OpKind.MatrixRank => x.MatrixRank(atol: s.Scalar, hermitian: s.Flag),
            OpKind.VectorNorm => x.VectorNorm(s.Scalar, p.Length == 0 ? null : p, s.Flag),
            OpKind.BesselJ0 => x.BesselJ0(),
            OpKind.BesselJ1 => x.BesselJ1(),
            OpKind.BesselY0 => x.BesselY0(),
            OpKind.BesselY1 => x.BesselY1(),
            OpKind.ModifiedBesselK0 => x.ModifiedBesselK0(),
            OpKind.ModifiedBesselK1 => x.ModifiedBesselK1(),
            OpKind.ScaledModifiedBesselK0 => x.ScaledModifiedBesselK0(),
            OpKind.ScaledModifiedBesselK1 => x.ScaledModifiedBesselK1(),
            OpKind.Gammainc => Expr.Gammainc(OurSide.Make(s.Data!, s.DataShape!, dtype), x),
            OpKind.Gammaincc => Expr.Gammaincc(OurSide.Make(s.Data!, s.DataShape!, dtype), x),
            OpKind.Zeta => Expr.Zeta(OurSide.Make(s.Data!, s.DataShape!, dtype), x),
            _ => throw new ArgumentOutOfRangeException(nameof(s), s.Kind, "no interpretation"),
        };
    }
}
