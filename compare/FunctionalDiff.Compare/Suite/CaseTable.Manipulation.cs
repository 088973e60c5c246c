using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// torch's manipulation conveniences and BLAS-style products (Expr.Manipulation.cs): atleast_nd, the stacks and splits,
// fliplr, flipud, rot90, moveaxis, ravel, take_along_dim, diagflat, the slice, select and diagonal scatters, index_fill,
// fmax and fmin, isclose and isin (as masks times the input), addmm, addmv, addr, baddbmm, addbmm, multi_dot, vecdot,
// cholesky_inverse, std_mean and var_mean. A split's pieces are compared flattened and joined. TorchSharp 0.107 takes
// addmm's β and α as float32, so every β and α here is exact in float32.
public static partial class CaseTable
{
    static Expr Joined(Expr[] pieces) => Expr.Cat(pieces.Select(p => p.Ravel()).ToArray());
    static TT Joined(TT[] pieces) => torch.cat(pieces.Select(p => p.reshape(-1)).ToArray());

    static IEnumerable<Case> Manipulation()
    {
        double nan = double.NaN, inf = double.PositiveInfinity;
        yield return C("atleast_1d of a scalar []", new[] { I() }, x => x[0].AtLeast1d().Sin(), x => x[0].atleast_1d().sin());
        yield return C("atleast_2d of a vector [3]", new[] { I(3) }, x => x[0].AtLeast2d().MatMul(Const(Ramp(6), [3, 2], x[0])),
            x => x[0].atleast_2d().matmul(Const(Ramp(6), new long[] { 3, 2 }, x[0])));
        yield return C("atleast_3d of a matrix [2,3]", new[] { I(2, 3) }, x => x[0].AtLeast3d() * Const(Ramp(2), [1, 1, 2], x[0]),
            x => x[0].atleast_3d() * Const(Ramp(2), new long[] { 1, 1, 2 }, x[0]));
        yield return C("atleast_3d of a vector [3]", new[] { I(3) }, x => x[0].AtLeast3d().Square(), x => x[0].atleast_3d().square());
        yield return C("hstack vectors and a scalar [3]·[2]·[]", new[] { I(3), I(2), I() }, x => Expr.Hstack(x).Sin(), x => torch.hstack(x).sin());
        yield return C("hstack matrices [2,3]·[2,1]", new[] { I(2, 3), I(2, 1) }, x => Expr.Hstack(x).Square(), x => torch.hstack(x).square());
        yield return C("vstack a vector and a matrix [3]·[2,3]", new[] { I(3), I(2, 3) }, x => Expr.Vstack(x).Tanh(), x => torch.vstack(x).tanh());
        yield return C("row_stack [2]·[1,2]", new[] { I(2), I(1, 2) }, x => Expr.RowStack(x).Exp(), x => torch.row_stack(x).exp());
        yield return C("dstack [2,3]·[2,3,2]", new[] { I(2, 3), I(2, 3, 2) }, x => Expr.Dstack(x).Sin(), x => torch.dstack(x).sin());
        yield return C("column_stack [2]·[2,3]·[2,1]", new[] { I(2), I(2, 3), I(2, 1) }, x => Expr.ColumnStack(x).Square(), x => torch.column_stack(x).square());
        yield return C("tensor_split 3 sections axis 1 [2,7]", new[] { I(2, 7) }, x => Joined(x[0].TensorSplit(3, 1).Select((p, i) => p * (i + 1.0)).ToArray()),
            x => Joined(x[0].tensor_split(3, 1).Select((p, i) => p * (i + 1.0)).ToArray()));
        yield return C("tensor_split 5 sections of 3 [3]", new[] { I(3) }, x => Joined(x[0].TensorSplit(5).Select((p, i) => p.Sin() * (i + 1.0)).ToArray()),
            x => Joined(x[0].tensor_split(5, 0).Select((p, i) => p.sin() * (i + 1.0)).ToArray()));
        yield return C("tensor_split at 1, 4, 2 [6,2]", new[] { I(6, 2) }, x => Joined(x[0].TensorSplit([1, 4, 2]).Select((p, i) => p * (i + 1.0)).ToArray()),
            x => Joined(x[0].tensor_split(new long[] { 1, 4, 2 }, 0).Select((p, i) => p * (i + 1.0)).ToArray()));
        yield return C("tensor_split at -2 axis 1 [2,5]", new[] { I(2, 5) }, x => Joined(x[0].TensorSplit([-2], 1).Select((p, i) => p.Square() * (i + 1.0)).ToArray()),
            x => Joined(x[0].tensor_split(new long[] { -2 }, 1).Select((p, i) => p.square() * (i + 1.0)).ToArray()));
        yield return C("hsplit 2 [3,4]", new[] { I(3, 4) }, x => Joined(x[0].Hsplit(2).Select((p, i) => p * (i + 2.0)).ToArray()),
            x => Joined(x[0].hsplit(2).Select((p, i) => p * (i + 2.0)).ToArray()));
        yield return C("hsplit at 1, 3 [2,5]", new[] { I(2, 5) }, x => Joined(x[0].Hsplit([1, 3]).Select((p, i) => p * (i + 2.0)).ToArray()),
            x => Joined(x[0].hsplit(new long[] { 1, 3 }).Select((p, i) => p * (i + 2.0)).ToArray()));
        yield return C("vsplit 2 [4,3]", new[] { I(4, 3) }, x => Joined(x[0].Vsplit(2).Select((p, i) => p.Sin() * (i + 2.0)).ToArray()),
            x => Joined(x[0].vsplit(2).Select((p, i) => p.sin() * (i + 2.0)).ToArray()));
        yield return C("dsplit at 1 [2,2,3]", new[] { I(2, 2, 3) }, x => Joined(x[0].Dsplit([1]).Select((p, i) => p * (i + 2.0)).ToArray()),
            x => Joined(x[0].dsplit(new long[] { 1 }).Select((p, i) => p * (i + 2.0)).ToArray()));
        yield return C("fliplr [3,4]", new[] { I(3, 4) }, x => x[0].Fliplr() * Const(Ramp(12), [3, 4], x[0]), x => x[0].fliplr() * Const(Ramp(12), new long[] { 3, 4 }, x[0]));
        yield return C("flipud [3,2]", new[] { I(3, 2) }, x => x[0].Flipud() * Const(Ramp(6), [3, 2], x[0]), x => x[0].flipud() * Const(Ramp(6), new long[] { 3, 2 }, x[0]));
        foreach (var k in new[] { 1, 2, 3, -1 })
            yield return C($"rot90 k {k} [3,4]", new[] { I(3, 4) }, x => x[0].Rot90(k) * Const(Ramp(12), k % 2 == 0 ? [3, 4] : [4, 3], x[0]),
                x => x[0].rot90(k, (0, 1)) * Const(Ramp(12), k % 2 == 0 ? new long[] { 3, 4 } : new long[] { 4, 3 }, x[0]));
        yield return C("rot90 k 1 axes (2, 1) [2,3,4]", new[] { I(2, 3, 4) }, x => x[0].Rot90(1, 2, 1) * Const(Ramp(24), [2, 4, 3], x[0]),
            x => x[0].rot90(1, (2, 1)) * Const(Ramp(24), new long[] { 2, 4, 3 }, x[0]));
        yield return C("moveaxis 0 to 2 [2,3,4]", new[] { I(2, 3, 4) }, x => x[0].Moveaxis(0, 2) * Const(Ramp(24), [3, 4, 2], x[0]),
            x => x[0].moveaxis(new long[] { 0 }, new long[] { 2 }) * Const(Ramp(24), new long[] { 3, 4, 2 }, x[0]));
        yield return C("ravel [2,3]", new[] { I(2, 3) }, x => x[0].Ravel() * Const(Ramp(6), [6], x[0]), x => x[0].ravel() * Const(Ramp(6), new long[] { 6 }, x[0]));
        double[] picks = { 3, 0, 1, 1, 2, 3 };
        yield return C("take_along_dim axis 1 [3,4] by [3,2]", new[] { I(3, 4) }, x => x[0].TakeAlongDim(Const(picks, [3, 2], x[0]), 1).Sin(),
            x => x[0].take_along_dim(LongIdx(picks, 3, 2), 1).sin());
        yield return C("take_along_dim broadcast axis 1 [3,4] by [1,2]", new[] { I(3, 4) }, x => x[0].TakeAlongDim(Const([2, 0], [1, 2], x[0]), 1).Square(),
            x => x[0].take_along_dim(LongIdx(new double[] { 2, 0 }, 1, 2), 1).square());
        yield return C("take_along_dim broadcast axis 0 [1,3] by [2,1]", new[] { I(1, 3) }, x => x[0].TakeAlongDim(Const([0, 0], [2, 1], x[0]), 0).Sin(),
            x => x[0].take_along_dim(LongIdx(new double[] { 0, 0 }, 2, 1), 0).sin());
        yield return C("take_along_dim flattened [2,3] by [4]", new[] { I(2, 3) }, x => x[0].TakeAlongDim(Const([5, 0, 5, 2], [4], x[0])).Sin(),
            x => x[0].take_along_dim(LongIdx(new double[] { 5, 0, 5, 2 }, 4)).sin());
        yield return C("diagflat offset 1 [3]", new[] { I(3) }, x => x[0].Diagflat(1) * Const(Ramp(16), [4, 4], x[0]), x => x[0].diagflat(1) * Const(Ramp(16), new long[] { 4, 4 }, x[0]));
        yield return C("diagflat offset -1 [2,2]", new[] { I(2, 2) }, x => x[0].Diagflat(-1).Sin(), x => x[0].diagflat(-1).sin());
        yield return C("slice_scatter axis 0 1:5:2 [5,3]·[2,3]", new[] { I(5, 3), I(2, 3) }, x => x[0].SliceScatter(x[1].Sin(), 0, 1, 5, 2) * Const(Ramp(15), [5, 3], x[0]),
            x => x[0].slice_scatter(x[1].sin(), 0, 1, 5, 2) * Const(Ramp(15), new long[] { 5, 3 }, x[0]));
        yield return C("slice_scatter axis 1 from -2 [2,4]·[2,2]", new[] { I(2, 4), I(2, 2) }, x => x[0].SliceScatter(x[1], 1, -2).Square(),
            x => x[0].slice_scatter(x[1], 1, -2, null, 1).square());
        yield return C("slice_scatter whole, step 3 [7]·[3]", new[] { I(7), I(3) }, x => x[0].SliceScatter(x[1], step: 3).Sin(),
            x => x[0].slice_scatter(x[1], 0, null, null, 3).sin());
        yield return C("select_scatter axis 0 index -1 [3,4]·[4]", new[] { I(3, 4), I(4) }, x => x[0].SelectScatter(x[1].Tanh(), 0, -1) * Const(Ramp(12), [3, 4], x[0]),
            x => x[0].select_scatter(x[1].tanh(), 0, -1) * Const(Ramp(12), new long[] { 3, 4 }, x[0]));
        yield return C("select_scatter axis 1 index 2 [2,3,2]·[2,2]", new[] { I(2, 3, 2), I(2, 2) }, x => x[0].SelectScatter(x[1], 1, 2).Square(),
            x => x[0].select_scatter(x[1], 1, 2).square());
        foreach (var offset in new[] { 0, 1, -1, -2 })
        {
            int length = offset >= 0 ? Math.Min(3, 4 - offset) : Math.Min(3 + offset, 4);
            yield return C($"diagonal_scatter offset {offset} [3,4]·[{length}]", new[] { I(3, 4), I(length) },
                x => x[0].DiagonalScatter(x[1].Sin(), offset) * Const(Ramp(12), [3, 4], x[0]),
                x => x[0].diagonal_scatter(x[1].sin(), offset, 0, 1) * Const(Ramp(12), new long[] { 3, 4 }, x[0]));
        }
        yield return C("diagonal_scatter axes (2, 1) [2,3,3]·[2,3]", new[] { I(2, 3, 3), I(2, 3) }, x => x[0].DiagonalScatter(x[1], 0, 2, 1) * Const(Ramp(18), [2, 3, 3], x[0]),
            x => x[0].diagonal_scatter(x[1], 0, 2, 1) * Const(Ramp(18), new long[] { 2, 3, 3 }, x[0]));
        yield return C("index_fill axis 1 at 0, -2 with -1.5 [3,4]", new[] { I(3, 4) }, x => x[0].IndexFill(1, [0, -2], -1.5).Sin(),
            x => x[0].index_fill(1, torch.tensor(new long[] { 0, -2 }), -1.5).sin());
        foreach (var c in Broadcasting("fmax", Z, Z, Expr.Fmax, (a, b) => a.fmax(b))) yield return c;
        foreach (var c in Broadcasting("fmin", Z, Z, Expr.Fmin, (a, b) => a.fmin(b))) yield return c;
        var fmaxInputs = new[] { new[] { 1.0, nan, 0.5, nan, -2.0, 0.25 }, new[] { nan, 2.0, 0.5, nan, -3.0, 0.75 } };
        yield return C("fmax with NaN and a tie [6]·[6]", new[] { I(6), I(6) }, x => Expr.Fmax(x[0], x[1]) * Const(Ramp(6), [6], x[0]),
            x => x[0].fmax(x[1]) * Const(Ramp(6), new long[] { 6 }, x[0]))
            with { Fixed = fmaxInputs, Why = "NaN on either side picks the number, both NaN give NaN, a tie passes the derivative to the first" };
        yield return C("fmin with NaN and a tie [6]·[6]", new[] { I(6), I(6) }, x => Expr.Fmin(x[0], x[1]) * Const(Ramp(6), [6], x[0]),
            x => x[0].fmin(x[1]) * Const(Ramp(6), new long[] { 6 }, x[0]))
            with { Fixed = fmaxInputs, Why = "NaN on either side picks the number, both NaN give NaN, a tie passes the derivative to the first" };
        var closeInputs = new[] { new[] { 1.0, 2.0, inf, inf, nan, 1e-9, 100.0, -0.5 }, new[] { 1.0 + 1e-6, 2.1, inf, -inf, nan, 0.0, 100.0009, -0.5 } };
        yield return C("isclose times x, defaults [8]·[8]", new[] { I(8), I(8) }, x => x[0].IsClose(x[1]) * Const(Ramp(8), [8], x[0]),
            x => Mask(x[0].isclose(x[1], 1e-5, 1e-8, false), x[0]) * Const(Ramp(8), new long[] { 8 }, x[0]))
            with { Fixed = closeInputs, Why = "equal infinities are close, opposite ones and NaN are not, an absolute floor of 1e-8 and a relative 1e-5" };
        yield return C("isclose times y, equal NaN, rtol 1e-3 [8]·[8]", new[] { I(8), I(8) }, x => x[0].IsClose(x[1], 1e-3, 0.0, true) * x[1].Square(),
            x => Mask(x[0].isclose(x[1], 1e-3, 0.0, true), x[0]) * x[1].square())
            with { Fixed = closeInputs, Why = "NaN is close to NaN with equal_nan; atol 0 makes 1e-9 against 0 far" };
        yield return C("isin times x [2,3] in [4]", new[] { I(2, 3) }, x => x[0].IsIn(Const([2, -1, 0.5, 7], [4], x[0])) * x[0].Sin(),
            x => Mask(x[0].isin(Const([2, -1, 0.5, 7], new long[] { 4 }, x[0]), false, false), x[0]) * x[0].sin())
            with { Fixed = new[] { new[] { 2.0, 0.5, 3.0, -1.0, 7.5, 0.5 } }, Why = "four entries found, two not" };
        yield return C("isin inverted times x [5] in [2,2]", new[] { I(5) }, x => x[0].IsIn(Const([1, 2, 3, nan], [2, 2], x[0]), invert: true) * x[0],
            x => Mask(x[0].isin(Const([1, 2, 3, nan], new long[] { 2, 2 }, x[0]), false, true), x[0]) * x[0])
            with { Fixed = new[] { new[] { 1.0, nan, 3.0, 4.0, 2.5 } }, Why = "NaN matches nothing, so inverted it is kept" };
        yield return C("addmm β 0.5 α -1.5 [3]·[2,4]·[4,3]", new[] { I(3), I(2, 4), I(4, 3) }, x => x[0].Addmm(x[1], x[2], 0.5, -1.5),
            x => x[0].addmm(x[1], x[2], 0.5f, -1.5f));
        yield return C("addmm defaults [2,3]·[2,2]·[2,3]", new[] { I(2, 3), I(2, 2), I(2, 3) }, x => x[0].Addmm(x[1], x[2]).Sin(), x => x[0].addmm(x[1], x[2], 1f, 1f).sin());
        yield return C("addmm β 0 ignores a NaN input [2,2]·[2,3]·[3,2]", new[] { I(2, 2), I(2, 3), I(3, 2) }, x => x[0].Addmm(x[1], x[2], 0.0, 2.0),
            x => x[0].addmm(x[1], x[2], 0f, 2f))
            with
            {
                Fixed = new[] { new[] { nan, inf, 0.5, -inf }, new[] { 0.3, -0.2, 0.7, 1.1, -0.4, 0.6 }, new[] { 0.9, -0.5, 0.2, 0.8, -1.3, 0.4 } },
                Why = "β = 0 leaves the input out: its NaN and infinities reach neither the value nor a derivative",
            };
        yield return C("addmv β 2 α 0.5 [3]·[3,4]·[4]", new[] { I(3), I(3, 4), I(4) }, x => x[0].Addmv(x[1], x[2], 2.0, 0.5), x => x[0].addmv(x[1], x[2], 2f, 0.5f));
        yield return C("addr β 1 α -1 [3,1]·[3]·[2]", new[] { I(3, 1), I(3), I(2) }, x => x[0].Addr(x[1], x[2], 1.0, -1.0).Square(), x => x[0].addr(x[1], x[2], 1f, -1f).square());
        yield return C("baddbmm β 0.25 α 1.5 [1,3]·[2,2,4]·[2,4,3]", new[] { I(1, 3), I(2, 2, 4), I(2, 4, 3) }, x => x[0].Baddbmm(x[1], x[2], 0.25, 1.5),
            // TorchSharp 0.107's Tensor.baddbmm(a, b) is batch1.baddbmm(batch2, input): this is batch1, the last argument the input
            x => x[1].baddbmm(x[2], x[0], 0.25f, 1.5f));
        yield return C("addbmm β 1 α 0.5 [2,3]·[3,2,4]·[3,4,3]", new[] { I(2, 3), I(3, 2, 4), I(3, 4, 3) }, x => x[0].Addbmm(x[1], x[2], 1.0, 0.5).Sin(),
            x => x[0].addbmm(x[1], x[2], 1f, 0.5f).sin());
        yield return C("multi_dot of two [2,3]·[3,4]", new[] { I(2, 3), I(3, 4) }, x => Expr.MultiDot(x), x => torch.linalg.multi_dot(x));
        yield return C("multi_dot of three, (AB)C cheaper [5,2]·[2,6]·[6,1]", new[] { I(5, 2), I(2, 6), I(6, 1) }, x => Expr.MultiDot(x), x => torch.linalg.multi_dot(x));
        yield return C("multi_dot of three, A(BC) cheaper [1,6]·[6,2]·[2,5]", new[] { I(1, 6), I(6, 2), I(2, 5) }, x => Expr.MultiDot(x), x => torch.linalg.multi_dot(x));
        yield return C("multi_dot of five with vector ends [4]·[4,2]·[2,5]·[5,3]·[3]", new[] { I(4), I(4, 2), I(2, 5), I(5, 3), I(3) }, x => Expr.MultiDot(x),
            x => torch.linalg.multi_dot(x));
        yield return C("multi_dot of four [3,1]·[1,4]·[4,2]·[2,3]", new[] { I(3, 1), I(1, 4), I(4, 2), I(2, 3) }, x => Expr.MultiDot(x).Sin(), x => torch.linalg.multi_dot(x).sin());
        yield return C("vecdot [3,4]·[4]", new[] { I(3, 4), I(4) }, x => Expr.Vecdot(x[0], x[1]), x => torch.linalg.vecdot(x[0], x[1]));
        yield return C("vecdot axis 0 [3,2]·[3,1]", new[] { I(3, 2), I(3, 1) }, x => Expr.Vecdot(x[0], x[1], 0).Sin(), x => torch.linalg.vecdot(x[0], x[1], 0).sin());
        yield return C("cholesky_inverse of a lower factor [3,3]", new[] { I(3, 3) }, x => Spd(x[0]).Cholesky().CholeskyInverse(),
            x => torch.linalg.cholesky(Spd(x[0])).cholesky_inverse(false));
        yield return C("cholesky_inverse of an upper factor, batched [2,3,3]", new[] { I(2, 3, 3) }, x => Spd(x[0]).Cholesky().Transpose().CholeskyInverse(upper: true),
            x => torch.linalg.cholesky(Spd(x[0])).transpose(-2, -1).cholesky_inverse(true));
        yield return C("std_mean axis 1 [3,4]", new[] { I(3, 4) }, x => { var (s, m) = x[0].StdMean([1]); return s * m; },
            x => { var (s, m) = x[0].std_mean(new long[] { 1 }, true, false); return s * m; });
        yield return C("var_mean of every entry, correction 0 [2,3]", new[] { I(2, 3) }, x => { var (v, m) = x[0].VarMean(0.0); return v + m.Square(); },
            x => { var (v, m) = x[0].var_mean(false); return v + m.square(); });
    }

    /// <summary>
    /// adaptive_max_pool3d by its definition, each output the amax of its box (TorchSharp 0.107's
    /// F.adaptive_max_pool3d calls adaptive_max_pool1d and raises): the cases' inputs are distinct, so amax's
    /// gradient, shared among ties, is the index-based one.
    /// </summary>
    static TT TorchAdaptiveMax3d(TT x, int od, int oh, int ow)
    {
        int r = (int)x.dim();
        long Start(long i, long size, long outputs) => i * size / outputs;
        long Stop(long i, long size, long outputs) => ((i + 1) * size + outputs - 1) / outputs;
        var (d, h, w) = (x.shape[r - 3], x.shape[r - 2], x.shape[r - 1]);
        var planes = new List<TT>();
        for (long i = 0; i < od; i++)
        {
            var rows = new List<TT>();
            for (long j = 0; j < oh; j++)
            {
                var cells = new List<TT>();
                for (long k = 0; k < ow; k++)
                    cells.Add(x.narrow(r - 3, Start(i, d, od), Stop(i, d, od) - Start(i, d, od))
                        .narrow(r - 2, Start(j, h, oh), Stop(j, h, oh) - Start(j, h, oh))
                        .narrow(r - 1, Start(k, w, ow), Stop(k, w, ow) - Start(k, w, ow))
                        .amax(new long[] { r - 3, r - 2, r - 1 }));
                rows.Add(torch.stack(cells, -1));
            }
            planes.Add(torch.stack(rows, -2));
        }
        return torch.stack(planes, -3);
    }

    // 3-D adaptive pooling, LP pooling, Softmax2d, cond, matrix_rank and vector_norm
    static IEnumerable<Case> PoolingAndConditioning()
    {
        yield return C("adaptive_avg_pool3d (2,3,2) [1,2,5,4,3]", new[] { I(1, 2, 5, 4, 3) }, x => Nn.AdaptiveAvgPool3d(x[0], (2, 3, 2)).Sin(),
            x => F.adaptive_avg_pool3d(x[0], (2L, 3L, 2L)).sin());
        yield return C("adaptive_avg_pool3d 2 unbatched [2,3,4,5]", new[] { I(2, 3, 4, 5) }, x => Nn.AdaptiveAvgPool3d(x[0], 2).Square(),
            x => F.adaptive_avg_pool3d(x[0], 2L).square());
        yield return C("adaptive_max_pool3d (2,2,3) [1,2,4,5,6]", new[] { D(1, 2, 4, 5, 6) }, x => Nn.AdaptiveMaxPool3d(x[0], (2, 2, 3)).Sin(),
            x => TorchAdaptiveMax3d(x[0], 2, 2, 3).sin());
        yield return C("adaptive_max_pool3d 3 overlapping windows [2,3,5,4]", new[] { D(2, 3, 5, 4) }, x => Nn.AdaptiveMaxPool3d(x[0], 3).Square(),
            x => TorchAdaptiveMax3d(x[0], 3, 3, 3).square());
        yield return C("lp_pool1d p 2 kernel 3 stride 2 [2,3,8]", new[] { I(2, 3, 8) }, x => Nn.LpPool1d(x[0], 2.0, 3, 2), x => F.lp_pool1d(x[0], 2.0, 3, 2, false));
        yield return C("lp_pool1d p 3 kernel 2 ceil mode [2,7]", new[] { P(2, 7) }, x => Nn.LpPool1d(x[0], 3.0, 2, ceilMode: true).Sin(),
            x => F.lp_pool1d(x[0], 3.0, 2, null, true).sin());
        yield return C("lp_pool2d p 2 kernel (2,3) [1,2,4,6]", new[] { I(1, 2, 4, 6) }, x => Nn.LpPool2d(x[0], 2.0, (2, 3)),
            x => F.lp_pool2d(x[0], 2.0, new long[] { 2, 3 }, new long[] { 2, 3 }, false));
        yield return C("lp_pool2d p 1.5 kernel 2 stride 1 [2,3,3] positive", new[] { P(2, 3, 3) }, x => Nn.LpPool2d(x[0], 1.5, 2, 1),
            x => F.lp_pool2d(x[0], 1.5, 2, 1, false));
        yield return C("softmax2d [2,3,2,2]", new[] { I(2, 3, 2, 2) }, x => Nn.Softmax2d(x[0]) * Const(Ramp(24), [2, 3, 2, 2], x[0]),
            x => F.softmax2d(x[0]) * Const(Ramp(24), new long[] { 2, 3, 2, 2 }, x[0]));
        yield return C("cond p 2 [3,3]", new[] { I(3, 3) }, x => Shifted(x[0]).Cond(), x => torch.linalg.cond(Shifted(x[0])));
        yield return C("cond p -2 of a wide batch [2,2,3]", new[] { I(2, 2, 3) }, x => x[0].Cond(-2.0), x => torch.linalg.cond(x[0], -2.0));
        // TorchSharp 0.107's linalg.cond aborts the process when differentiated at these p: its side is the definition,
        // ‖A‖ₚ·‖A⁻¹‖ₚ, in torch's own matrix_norm and inv
        foreach (var p in new[] { 1.0, -1.0, double.PositiveInfinity, double.NegativeInfinity })
            yield return C($"cond p {p} [3,3]", new[] { I(3, 3) }, x => Shifted(x[0]).Cond(p),
                x => linalg.matrix_norm(Shifted(x[0]), p) * linalg.matrix_norm(linalg.inv(Shifted(x[0])), p));
        foreach (var p in new[] { "fro", "nuc" })
            yield return C($"cond p {p} [2,3,3]", new[] { I(2, 3, 3) }, x => Shifted(x[0]).Cond(p),
                x => linalg.matrix_norm(Shifted(x[0]), p) * linalg.matrix_norm(linalg.inv(Shifted(x[0])), p));
        // an atol far above the third singular value's rounding (about ε·σ₁) and far below the second
        yield return C("matrix_rank atol 1e-3 times x of a rank-2 [4,3]", new[] { I(4, 2), I(2, 3) }, x => x[0].MatMul(x[1]).MatrixRank(atol: 1e-3) * x[0].Sum(),
            x => torch.linalg.matrix_rank(x[0].matmul(x[1]), 1e-3, null, false).to_type(x[0].dtype) * x[0].sum());
        yield return C("matrix_rank hermitian atol 3.5 [3,3]", new[] { I(3, 3) }, x => Spd(x[0]).MatrixRank(atol: 3.5, hermitian: true) * x[0].Square().Sum(),
            x => torch.linalg.matrix_rank(Spd(x[0]), 3.5, null, true).to_type(x[0].dtype) * x[0].square().sum());
        foreach (var ord in new[] { 2.0, 1.0, 3.0, double.PositiveInfinity })
            yield return C($"vector_norm ord {ord} axis 1 [3,4]", new[] { Z(3, 4) }, x => x[0].VectorNorm(ord, [1]), x => torch.linalg.vector_norm(x[0], ord, new long[] { 1 }, false));
    }
}
