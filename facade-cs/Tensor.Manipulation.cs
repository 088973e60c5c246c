namespace FunctionalDiff;

// Expr.Manipulation.cs's members on values, computed as the Expr versions are (a small graph, evaluated through a cached
// plan). Splits return copies, one per piece.
public sealed partial class Tensor
{
    /// <summary>This with at least one axis, as <see cref="Expr.AtLeast1d"/> (torch.atleast_1d).</summary>
    public Tensor AtLeast1d() => EagerPlans.Run("AtLeast1d", a => a[0].AtLeast1d(), this);

    /// <summary>This with at least two axes, as <see cref="Expr.AtLeast2d"/> (torch.atleast_2d).</summary>
    public Tensor AtLeast2d() => EagerPlans.Run("AtLeast2d", a => a[0].AtLeast2d(), this);

    /// <summary>This with at least three axes, as <see cref="Expr.AtLeast3d"/> (torch.atleast_3d).</summary>
    public Tensor AtLeast3d() => EagerPlans.Run("AtLeast3d", a => a[0].AtLeast3d(), this);

    /// <summary>The tensors joined horizontally, as <see cref="Expr.Hstack"/> (torch.hstack).</summary>
    public static Tensor Hstack(params Tensor[] tensors) => Joined("Hstack", Expr.Hstack, tensors);

    /// <summary>The tensors joined vertically, as <see cref="Expr.Vstack"/> (torch.vstack).</summary>
    public static Tensor Vstack(params Tensor[] tensors) => Joined("Vstack", Expr.Vstack, tensors);

    /// <summary>torch.row_stack, another name of <see cref="Vstack"/>.</summary>
    public static Tensor RowStack(params Tensor[] tensors) => Joined("RowStack", Expr.RowStack, tensors);

    /// <summary>The tensors joined depthwise, as <see cref="Expr.Dstack"/> (torch.dstack).</summary>
    public static Tensor Dstack(params Tensor[] tensors) => Joined("Dstack", Expr.Dstack, tensors);

    /// <summary>The tensors as columns, as <see cref="Expr.ColumnStack"/> (torch.column_stack).</summary>
    public static Tensor ColumnStack(params Tensor[] tensors) => Joined("ColumnStack", Expr.ColumnStack, tensors);

    static Tensor Joined(string name, Func<Expr[], Expr> join, Tensor[] tensors)
    {
        Interop.ThrowIfAnyNull(tensors, nameof(tensors));
        return EagerPlans.Run($"{name} {tensors.Length}", join, tensors);
    }

    /// <summary>Pieces along <paramref name="axis"/>, as <see cref="Expr.TensorSplit(int, int)"/> (torch.tensor_split with a count).</summary>
    public Tensor[] TensorSplit(int sections, int axis = 0) => Each(Symbolic().TensorSplit(sections, axis).Length, $"TensorSplit {sections} {axis}", (x, i) => x.TensorSplit(sections, axis)[i]);

    /// <summary>The pieces between <paramref name="indices"/>, as <see cref="Expr.TensorSplit(int[], int)"/>.</summary>
    public Tensor[] TensorSplit(int[] indices, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return Each(indices.Length + 1, $"TensorSplitAt {string.Join(",", indices)} {axis}", (x, i) => x.TensorSplit(indices, axis)[i]);
    }

    /// <summary>Equal sections along axis 1 (0 of a vector), as <see cref="Expr.Hsplit(int)"/> (torch.hsplit).</summary>
    public Tensor[] Hsplit(int sections) => Each(Symbolic().Hsplit(sections).Length, $"Hsplit {sections}", (x, i) => x.Hsplit(sections)[i]);

    /// <summary>The pieces between <paramref name="indices"/> along axis 1 (0 of a vector), as <see cref="Expr.Hsplit(int[])"/>.</summary>
    public Tensor[] Hsplit(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return Each(Symbolic().Hsplit(indices).Length, $"HsplitAt {string.Join(",", indices)}", (x, i) => x.Hsplit(indices)[i]);
    }

    /// <summary>Equal sections along axis 0, as <see cref="Expr.Vsplit(int)"/> (torch.vsplit).</summary>
    public Tensor[] Vsplit(int sections) => Each(Symbolic().Vsplit(sections).Length, $"Vsplit {sections}", (x, i) => x.Vsplit(sections)[i]);

    /// <summary>The pieces between <paramref name="indices"/> along axis 0, as <see cref="Expr.Vsplit(int[])"/>.</summary>
    public Tensor[] Vsplit(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return Each(Symbolic().Vsplit(indices).Length, $"VsplitAt {string.Join(",", indices)}", (x, i) => x.Vsplit(indices)[i]);
    }

    /// <summary>Equal sections along axis 2, as <see cref="Expr.Dsplit(int)"/> (torch.dsplit).</summary>
    public Tensor[] Dsplit(int sections) => Each(Symbolic().Dsplit(sections).Length, $"Dsplit {sections}", (x, i) => x.Dsplit(sections)[i]);

    /// <summary>The pieces between <paramref name="indices"/> along axis 2, as <see cref="Expr.Dsplit(int[])"/>.</summary>
    public Tensor[] Dsplit(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return Each(Symbolic().Dsplit(indices).Length, $"DsplitAt {string.Join(",", indices)}", (x, i) => x.Dsplit(indices)[i]);
    }

    /// <summary>Each of <paramref name="count"/> pieces of this, evaluated (the Expr form checks the arguments first).</summary>
    Tensor[] Each(int count, string key, Func<Expr, int, Expr> piece)
    {
        var result = new Tensor[count];
        for (int i = 0; i < count; i++)
        {
            int k = i;
            result[i] = EagerPlans.Run($"{key} #{k}", a => piece(a[0], k), this);
        }
        return result;
    }

    /// <summary>This reversed along axis 1, as <see cref="Expr.Fliplr"/> (torch.fliplr).</summary>
    public Tensor Fliplr() => EagerPlans.Run("Fliplr", a => a[0].Fliplr(), this);

    /// <summary>This reversed along axis 0, as <see cref="Expr.Flipud"/> (torch.flipud).</summary>
    public Tensor Flipud() => EagerPlans.Run("Flipud", a => a[0].Flipud(), this);

    /// <summary>This turned by quarter turns, as <see cref="Expr.Rot90"/> (torch.rot90).</summary>
    public Tensor Rot90(int k = 1, int axis1 = 0, int axis2 = 1) => EagerPlans.Run($"Rot90 {k} {axis1} {axis2}", a => a[0].Rot90(k, axis1, axis2), this);

    /// <summary>torch.moveaxis, as <see cref="Expr.Moveaxis"/>.</summary>
    public Tensor Moveaxis(int source, int destination) => EagerPlans.Run($"Moveaxis {source} {destination}", a => a[0].Moveaxis(source, destination), this);

    /// <summary>This flattened to a vector (torch.ravel).</summary>
    public Tensor Ravel() => EagerPlans.Run("Ravel", a => a[0].Ravel(), this);

    /// <summary>The entries at <paramref name="indices"/> along <paramref name="axis"/>, as <see cref="Expr.TakeAlongDim(Expr, int)"/>.</summary>
    public Tensor TakeAlongDim(Tensor indices, int axis)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return EagerPlans.Run($"TakeAlongDim {axis}", a => a[0].TakeAlongDim(a[1], axis), this, indices);
    }

    /// <summary>The flattened entries at the flattened <paramref name="indices"/>, as <see cref="Expr.TakeAlongDim(Expr)"/>.</summary>
    public Tensor TakeAlongDim(Tensor indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return EagerPlans.Run("TakeAlongFlat", a => a[0].TakeAlongDim(a[1]), this, indices);
    }

    /// <summary>The entries on a diagonal of a square matrix of zeros, as <see cref="Expr.Diagflat"/> (torch.diagflat).</summary>
    public Tensor Diagflat(int offset = 0) => EagerPlans.Run($"Diagflat {offset}", a => a[0].Diagflat(offset), this);

    /// <summary>This with a slice replaced by <paramref name="src"/>, as <see cref="Expr.SliceScatter"/> (torch.slice_scatter).</summary>
    public Tensor SliceScatter(Tensor src, int axis = 0, int? start = null, int? end = null, int step = 1)
    {
        ArgumentNullException.ThrowIfNull(src);
        return EagerPlans.Run($"SliceScatter {axis} {start} {end} {step}", a => a[0].SliceScatter(a[1], axis, start, end, step), this, src);
    }

    /// <summary>This with an index along an axis replaced by <paramref name="src"/>, as <see cref="Expr.SelectScatter"/>.</summary>
    public Tensor SelectScatter(Tensor src, int axis, int index)
    {
        ArgumentNullException.ThrowIfNull(src);
        return EagerPlans.Run($"SelectScatter {axis} {index}", a => a[0].SelectScatter(a[1], axis, index), this, src);
    }

    /// <summary>This with a diagonal replaced by <paramref name="src"/>, as <see cref="Expr.DiagonalScatter"/>.</summary>
    public Tensor DiagonalScatter(Tensor src, int offset = 0, int axis1 = 0, int axis2 = 1)
    {
        ArgumentNullException.ThrowIfNull(src);
        return EagerPlans.Run($"DiagonalScatter {offset} {axis1} {axis2}", a => a[0].DiagonalScatter(a[1], offset, axis1, axis2), this, src);
    }

    /// <summary>This with <paramref name="value"/> at <paramref name="indices"/> along an axis, as <see cref="Expr.IndexFill"/>.</summary>
    public Tensor IndexFill(int axis, int[] indices, double value)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return EagerPlans.Run(Key($"IndexFill {axis} {string.Join(",", indices)} {value:R}"), a => a[0].IndexFill(axis, indices, value), this);
    }

    /// <summary>The elementwise maximum ignoring NaN, as <see cref="Expr.Fmax"/> (torch.fmax).</summary>
    public static Tensor Fmax(Tensor a, Tensor b) { ArgumentNullException.ThrowIfNull(a); ArgumentNullException.ThrowIfNull(b); return EagerPlans.Run("Fmax", x => Expr.Fmax(x[0], x[1]), a, b); }

    /// <summary>The elementwise minimum ignoring NaN, as <see cref="Expr.Fmin"/> (torch.fmin).</summary>
    public static Tensor Fmin(Tensor a, Tensor b) { ArgumentNullException.ThrowIfNull(a); ArgumentNullException.ThrowIfNull(b); return EagerPlans.Run("Fmin", x => Expr.Fmin(x[0], x[1]), a, b); }

    /// <summary>1 where this and <paramref name="other"/> are close, as <see cref="Expr.IsClose"/> (torch.isclose).</summary>
    public Tensor IsClose(Tensor other, double rtol = 1e-05, double atol = 1e-08, bool equalNaN = false)
    {
        ArgumentNullException.ThrowIfNull(other);
        return EagerPlans.Run(Key($"IsClose {rtol:R} {atol:R} {equalNaN}"), a => a[0].IsClose(a[1], rtol, atol, equalNaN), this, other);
    }

    /// <summary>1 where an entry is among <paramref name="testElements"/>, as <see cref="Expr.IsIn"/> (torch.isin).</summary>
    public Tensor IsIn(Tensor testElements, bool invert = false)
    {
        ArgumentNullException.ThrowIfNull(testElements);
        return EagerPlans.Run($"IsIn {invert}", a => a[0].IsIn(a[1], invert), this, testElements);
    }

    /// <summary>β·this + α·(mat1 @ mat2), as <see cref="Expr.Addmm"/> (torch.addmm).</summary>
    public Tensor Addmm(Tensor mat1, Tensor mat2, double beta = 1.0, double alpha = 1.0) => Accumulated("Addmm", (a, b, c) => a.Addmm(b, c, beta, alpha), beta, alpha, mat1, mat2);

    /// <summary>β·this + α·(mat @ vec), as <see cref="Expr.Addmv"/> (torch.addmv).</summary>
    public Tensor Addmv(Tensor mat, Tensor vec, double beta = 1.0, double alpha = 1.0) => Accumulated("Addmv", (a, b, c) => a.Addmv(b, c, beta, alpha), beta, alpha, mat, vec);

    /// <summary>β·this + α·(vec1 ⊗ vec2), as <see cref="Expr.Addr"/> (torch.addr).</summary>
    public Tensor Addr(Tensor vec1, Tensor vec2, double beta = 1.0, double alpha = 1.0) => Accumulated("Addr", (a, b, c) => a.Addr(b, c, beta, alpha), beta, alpha, vec1, vec2);

    /// <summary>β·this + α·(batch1 @ batch2), as <see cref="Expr.Baddbmm"/> (torch.baddbmm).</summary>
    public Tensor Baddbmm(Tensor batch1, Tensor batch2, double beta = 1.0, double alpha = 1.0) => Accumulated("Baddbmm", (a, b, c) => a.Baddbmm(b, c, beta, alpha), beta, alpha, batch1, batch2);

    /// <summary>β·this + α·Σᵢ batch1[i] @ batch2[i], as <see cref="Expr.Addbmm"/> (torch.addbmm).</summary>
    public Tensor Addbmm(Tensor batch1, Tensor batch2, double beta = 1.0, double alpha = 1.0) => Accumulated("Addbmm", (a, b, c) => a.Addbmm(b, c, beta, alpha), beta, alpha, batch1, batch2);

    Tensor Accumulated(string name, Func<Expr, Expr, Expr, Expr> f, double beta, double alpha, Tensor first, Tensor second,
        [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(first))] string firstName = "",
        [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(second))] string secondName = "")
    {
        ArgumentNullException.ThrowIfNull(first, firstName);
        ArgumentNullException.ThrowIfNull(second, secondName);
        return EagerPlans.Run(Key($"{name} {beta:R} {alpha:R}"), a => f(a[0], a[1], a[2]), this, first, second);
    }

    /// <summary>The product of a chain of matrices in the cheapest order, as <see cref="Expr.MultiDot"/> (torch.linalg.multi_dot).</summary>
    public static Tensor MultiDot(params Tensor[] tensors) => Joined("MultiDot", Expr.MultiDot, tensors);

    /// <summary>Σ x·y along an axis, as <see cref="Expr.Vecdot"/> (torch.linalg.vecdot).</summary>
    public static Tensor Vecdot(Tensor x, Tensor y, int axis = -1)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        return EagerPlans.Run($"Vecdot {axis}", a => Expr.Vecdot(a[0], a[1], axis), x, y);
    }

    /// <summary>The inverse of A from its Cholesky factor, as <see cref="Expr.CholeskyInverse"/> (torch.cholesky_inverse).</summary>
    public Tensor CholeskyInverse(bool upper = false) => EagerPlans.Run($"CholeskyInverse {upper}", a => a[0].CholeskyInverse(upper), this);

    /// <summary>The standard deviation and the mean over every entry, as torch.std_mean.</summary>
    public (Tensor Std, Tensor Mean) StdMean(double correction = 1.0) =>
        (EagerPlans.Run(Key($"Std all {correction:R}"), a => a[0].StdMean(correction).Std, this), Mean());

    /// <summary>The standard deviation and the mean along <paramref name="axes"/>, as torch.std_mean.</summary>
    public (Tensor Std, Tensor Mean) StdMean(int[] axes, double correction = 1.0, bool keepDims = false)
    {
        ArgumentNullException.ThrowIfNull(axes);
        string key = Key($"{string.Join(",", axes)} {correction:R} {keepDims}");
        return (EagerPlans.Run("StdMean std " + key, a => a[0].StdMean(axes, correction, keepDims).Std, this),
                EagerPlans.Run("StdMean mean " + key, a => a[0].StdMean(axes, correction, keepDims).Mean, this));
    }

    /// <summary>The variance and the mean over every entry, as torch.var_mean.</summary>
    public (Tensor Var, Tensor Mean) VarMean(double correction = 1.0) =>
        (EagerPlans.Run(Key($"Var all {correction:R}"), a => a[0].VarMean(correction).Var, this), Mean());

    /// <summary>The variance and the mean along <paramref name="axes"/>, as torch.var_mean.</summary>
    public (Tensor Var, Tensor Mean) VarMean(int[] axes, double correction = 1.0, bool keepDims = false)
    {
        ArgumentNullException.ThrowIfNull(axes);
        string key = Key($"{string.Join(",", axes)} {correction:R} {keepDims}");
        return (EagerPlans.Run("VarMean var " + key, a => a[0].VarMean(axes, correction, keepDims).Var, this),
                EagerPlans.Run("VarMean mean " + key, a => a[0].VarMean(axes, correction, keepDims).Mean, this));
    }

    /// <summary>The vector norm over <paramref name="axes"/>, as <see cref="Expr.VectorNorm"/> (torch.linalg.vector_norm).</summary>
    public Tensor VectorNorm(double ord = 2.0, int[]? axes = null, bool keepDims = false) =>
        EagerPlans.Run(Key($"VectorNorm {ord:R} {(axes is null ? "all" : string.Join(",", axes))} {keepDims}"), a => a[0].VectorNorm(ord, axes, keepDims), this);
}
