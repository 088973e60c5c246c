using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Fuzz;

// The torch side of the recent ops (`--ops recent`) and of the special ones (`--ops special`: torch.special's gammainc,
// gammaincc and zeta): each the torch function of the same name, with the case table's workarounds where TorchSharp 0.107
// needs one (baddbmm's argument order, adaptive_max_pool3d, cond at the p torch cannot differentiate, and the Bessel
// functions, which libtorch cannot differentiate at all).
public static partial class TorchInterpreter
{
    static TT Recent(Step s, TT[] a, ScalarType dtype)
    {
        TT x = a[0];
        int[] p = s.Ints;
        long[] l = p.Select(v => (long)v).ToArray();
        // TorchSharp 0.107 takes the addmm family's β and α as float (the generator draws them exact in float32)
        float Beta() => (float)s.Data![0];
        float Alpha() => (float)s.Data![1];
        return s.Kind switch
        {
            OpKind.AtLeast => p[0] switch { 1 => x.atleast_1d(), 2 => x.atleast_2d(), _ => x.atleast_3d() },
            OpKind.Hstack => torch.hstack(a),
            OpKind.Vstack => torch.vstack(a),
            OpKind.Dstack => torch.dstack(a),
            OpKind.ColumnStack => torch.column_stack(a),
            OpKind.TensorSplit => (s.Mode == 0 ? x.tensor_split(l[2], l[0]) : x.tensor_split(l[2..], l[0]))[p[1]],
            OpKind.Hsplit => (s.Mode == 0 ? x.hsplit(l[1]) : x.hsplit(l[1..]))[p[0]],
            OpKind.Vsplit => (s.Mode == 0 ? x.vsplit(l[1]) : x.vsplit(l[1..]))[p[0]],
            OpKind.Dsplit => (s.Mode == 0 ? x.dsplit(l[1]) : x.dsplit(l[1..]))[p[0]],
            OpKind.Fliplr => x.fliplr(),
            OpKind.Flipud => x.flipud(),
            OpKind.Rot90 => x.rot90(l[0], (l[1], l[2])),
            OpKind.TakeAlongDim => p.Length == 0 ? x.take_along_dim(Index(s)) : x.take_along_dim(Index(s), l[0]),
            OpKind.Diagflat => x.diagflat(l[0]),
            OpKind.SliceScatter => x.slice_scatter(a[1], l[0], l[1], l[2], l[3]),
            OpKind.SelectScatter => x.select_scatter(a[1], l[0], l[1]),
            OpKind.DiagonalScatter => x.diagonal_scatter(a[1], l[0], l[1], l[2]),
            OpKind.IndexFill => x.index_fill(l[0], torch.tensor(l[1..]), s.Scalar),
            OpKind.Fmax => a[0].fmax(a[1]),
            OpKind.Fmin => a[0].fmin(a[1]),
            OpKind.IsClose => a[0].isclose(a[1], s.Data![0], s.Data![1], s.Flag).to_type(dtype),
            OpKind.IsIn => x.isin(Data(s, dtype), false, s.Flag).to_type(dtype),
            // std_mean and var_mean: torch's std or var (with the suite's conventions for them) and its mean
            OpKind.StdMean or OpKind.VarMean => Apply(FuzzProgram.Canonical(s, (int)x.dim()), a, dtype),
            OpKind.Addmm => a[0].addmm(a[1], a[2], Beta(), Alpha()),
            OpKind.Addmv => a[0].addmv(a[1], a[2], Beta(), Alpha()),
            OpKind.Addr => a[0].addr(a[1], a[2], Beta(), Alpha()),
            // TorchSharp 0.107's Tensor.baddbmm(a, b) is batch1.baddbmm(batch2, input) (the case table's note)
            OpKind.Baddbmm => a[1].baddbmm(a[2], a[0], Beta(), Alpha()),
            OpKind.Addbmm => a[0].addbmm(a[1], a[2], Beta(), Alpha()),
            OpKind.MultiDot => torch.linalg.multi_dot(a),
            OpKind.Vecdot => torch.linalg.vecdot(a[0], a[1], l[0]),
            OpKind.CholeskyInverse => x.cholesky_inverse(s.Flag),
            OpKind.AdaptiveAvgPool3d => F.adaptive_avg_pool3d(x, (l[0], l[1], l[2])),
            OpKind.AdaptiveMaxPool3d => AdaptiveMax3d(x, p),
            OpKind.LpPool1d => F.lp_pool1d(x, s.Scalar, l[0], l[1], s.Flag),
            OpKind.LpPool2d => F.lp_pool2d(x, s.Scalar, new[] { l[0], l[1] }, new[] { l[2], l[3] }, s.Flag),
            OpKind.Softmax2d => F.softmax2d(x),
            // TorchSharp 0.107's linalg.cond aborts the process when differentiated at p ±1, ±∞ and "fro" (the case table):
            // those, and "nuc", are its definition ‖A‖ₚ·‖A⁻¹‖ₚ in torch's own norms and inverse
            OpKind.Cond => s.Mode switch
            {
                0 when Math.Abs(s.Scalar) == 2 => torch.linalg.cond(x, s.Scalar),
                0 => torch.linalg.matrix_norm(x, s.Scalar) * torch.linalg.matrix_norm(torch.linalg.inv(x), s.Scalar),
                1 => torch.linalg.matrix_norm(x, "fro") * torch.linalg.matrix_norm(torch.linalg.inv(x), "fro"),
                _ => torch.linalg.matrix_norm(x, "nuc") * torch.linalg.matrix_norm(torch.linalg.inv(x), "nuc"),
            },
            OpKind.MatrixRank => torch.linalg.matrix_rank(x, s.Scalar, null, s.Flag).to_type(dtype),
            OpKind.VectorNorm => Apply(FuzzProgram.Canonical(s, (int)x.dim()), a, dtype),
            // libtorch gives these no derivative (asking aborts the process): its values in the second-order Taylor
            // polynomial at the input, with the derivatives in closed form from its own values (CaseTable.TorchBessel)
            OpKind.BesselJ0 => Suite.CaseTable.TorchJ0(x),
            OpKind.BesselJ1 => Suite.CaseTable.TorchJ1(x),
            OpKind.BesselY0 => Suite.CaseTable.TorchY0(x),
            OpKind.BesselY1 => Suite.CaseTable.TorchY1(x),
            OpKind.ModifiedBesselK0 => Suite.CaseTable.TorchK0(x),
            OpKind.ModifiedBesselK1 => Suite.CaseTable.TorchK1(x),
            OpKind.ScaledModifiedBesselK0 => Suite.CaseTable.TorchK0e(x),
            OpKind.ScaledModifiedBesselK1 => Suite.CaseTable.TorchK1e(x),
            // the first operand is data: torch raises when asked for its derivative, as ours
            OpKind.Gammainc => torch.special.gammainc(Data(s, dtype), x),
            OpKind.Gammaincc => torch.special.gammaincc(Data(s, dtype), x),
            OpKind.Zeta => torch.special.zeta(Data(s, dtype), x),
            _ => throw new ArgumentOutOfRangeException(nameof(s), s.Kind, "no interpretation"),
        };
    }

    /// <summary>An LP pool's Σ|x|^p over each window, averaged as torch's lp_pool forms it (0 exactly where a window holds zeros only).</summary>
    public static TT LpWindowSums(Step s, TT x)
    {
        var powered = x.abs().pow(s.Scalar);
        return s.Kind == OpKind.LpPool1d
            ? F.avg_pool1d(powered, s.Ints[0], s.Ints[1], 0, s.Flag)
            : F.avg_pool2d(powered, new long[] { s.Ints[0], s.Ints[1] }, new long[] { s.Ints[2], s.Ints[3] }, new long[] { 0, 0 }, s.Flag);
    }

    /// <summary>The start and stop of adaptive pooling's window i of n over an axis of the given size (torch's rule).</summary>
    static (long Start, long Length) AdaptiveWindow(long i, long size, long n)
    {
        long start = i * size / n, stop = ((i + 1) * size + n - 1) / n;
        return (start, stop - start);
    }

    /// <summary>Each output cell's window of adaptive_max_pool3d, flattened along the last axis: [..., window].</summary>
    public static IEnumerable<TT> AdaptiveMax3dWindows(TT x, int[] size)
    {
        int r = (int)x.dim();
        var (d, h, w) = (x.shape[r - 3], x.shape[r - 2], x.shape[r - 1]);
        for (long i = 0; i < size[0]; i++)
            for (long j = 0; j < size[1]; j++)
                for (long k = 0; k < size[2]; k++)
                {
                    var (di, dn) = AdaptiveWindow(i, d, size[0]);
                    var (hi, hn) = AdaptiveWindow(j, h, size[1]);
                    var (wi, wn) = AdaptiveWindow(k, w, size[2]);
                    yield return x.narrow(r - 3, di, dn).narrow(r - 2, hi, hn).narrow(r - 1, wi, wn).flatten(r - 3);
                }
    }

    /// <summary>
    /// adaptive_max_pool3d by its definition, each cell the max of its window with the derivative to one entry, as torch's
    /// kernel and ours route it (TorchSharp 0.107's F.adaptive_max_pool3d calls the 1-D kernel and raises; the case table's
    /// amax form shares the derivative among ties, which the fuzzer's inputs hold).
    /// </summary>
    static TT AdaptiveMax3d(TT x, int[] size)
    {
        int r = (int)x.dim();
        var cells = AdaptiveMax3dWindows(x, size).Select(w => w.max(-1).values).ToList();
        var lead = x.shape[..(r - 3)];
        return torch.stack(cells, -1).reshape(lead.Concat(new long[] { size[0], size[1], size[2] }).ToArray());
    }
}
