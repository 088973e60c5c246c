using CoreManipulation = FunctionalDiff.Core.Manipulation;
using CoreProducts = FunctionalDiff.Core.Products;
using CoreExpr = FunctionalDiff.Core.Expr;
using System.Runtime.CompilerServices;

namespace FunctionalDiff;

// torch's manipulation conveniences and BLAS-style products: atleast_1d/2d/3d, hstack, vstack, dstack, column_stack,
// tensor_split, hsplit, vsplit, dsplit, fliplr, flipud, rot90, moveaxis, ravel, take_along_dim, diagflat, slice_scatter,
// select_scatter, diagonal_scatter, index_fill, fmax, fmin, isclose, isin; addmm, addmv, addr, baddbmm, addbmm,
// linalg.multi_dot, linalg.vecdot, cholesky_inverse, std_mean and var_mean. Each is a composite of primitives, so
// derivatives of every order follow. Tensor has the same members (Tensor.Manipulation.cs).
public sealed partial class Expr
{
    /// <summary>This with at least one axis: a scalar becomes shape [1] (torch.atleast_1d). F#: <c>Manipulation.atleast1d</c>.</summary>
    public Expr AtLeast1d() => Wrap(CoreManipulation.atleast1d(Node));

    /// <summary>This with at least two axes: a scalar becomes [1, 1], a vector [n] the row [1, n] (torch.atleast_2d).</summary>
    public Expr AtLeast2d() => Wrap(CoreManipulation.atleast2d(Node));

    /// <summary>This with at least three axes: [] → [1, 1, 1], [n] → [1, n, 1], [m, n] → [m, n, 1] (torch.atleast_3d).</summary>
    public Expr AtLeast3d() => Wrap(CoreManipulation.atleast3d(Node));

    /// <summary>
    /// The tensors joined horizontally (torch.hstack): along axis 0 when the first is a vector, along axis 1 otherwise;
    /// scalars count as vectors. F#: <c>Manipulation.hstack</c>.
    /// </summary>
    /// <exception cref="ArgumentException">No tensors, or shapes that do not join.</exception>
    public static Expr Hstack(params Expr[] tensors) => Interop.Named("Hstack", () => Wrap(CoreManipulation.hstack(Align(tensors, nameof(tensors)))));

    /// <summary>The tensors joined vertically along axis 0, vectors as rows [1, n] (torch.vstack).</summary>
    /// <exception cref="ArgumentException">No tensors, or shapes that do not join.</exception>
    public static Expr Vstack(params Expr[] tensors) => Interop.Named("Vstack", () => Wrap(CoreManipulation.vstack(Align(tensors, nameof(tensors)))));

    /// <summary>torch.row_stack, another name of <see cref="Vstack"/>.</summary>
    public static Expr RowStack(params Expr[] tensors) => Interop.Named("RowStack", () => Wrap(CoreManipulation.vstack(Align(tensors, nameof(tensors)))));

    /// <summary>The tensors joined depthwise along axis 2, each first given three axes as <see cref="AtLeast3d"/> (torch.dstack).</summary>
    /// <exception cref="ArgumentException">No tensors, or shapes that do not join.</exception>
    public static Expr Dstack(params Expr[] tensors) => Interop.Named("Dstack", () => Wrap(CoreManipulation.dstack(Align(tensors, nameof(tensors)))));

    /// <summary>The tensors as columns joined along axis 1: scalars and vectors become [n, 1] columns (torch.column_stack).</summary>
    /// <exception cref="ArgumentException">No tensors, or shapes that do not join.</exception>
    public static Expr ColumnStack(params Expr[] tensors) => Interop.Named("ColumnStack", () => Wrap(CoreManipulation.columnStack(Align(tensors, nameof(tensors)))));

    /// <summary>
    /// <paramref name="sections"/> pieces along <paramref name="axis"/> (torch.tensor_split with a count): the first
    /// length % sections pieces are one longer than the rest, and pieces past the length are empty. F#:
    /// <c>Manipulation.tensorSplitSections</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="sections"/> is below 1.</exception>
    public Expr[] TensorSplit(int sections, int axis = 0) => Interop.Wrap(CoreManipulation.tensorSplitSections(sections, axis, Node));

    /// <summary>
    /// The pieces between the given <paramref name="indices"/> along <paramref name="axis"/> (torch.tensor_split with
    /// indices): x[:i₀], x[i₀:i₁], …, x[iₖ:], each index read as a Python slice bound. F#: <c>Manipulation.tensorSplitIndices</c>.
    /// </summary>
    public Expr[] TensorSplit(int[] indices, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return Interop.Wrap(CoreManipulation.tensorSplitIndices(indices, axis, Node));
    }

    /// <summary>Equal sections along axis 1, axis 0 of a vector (torch.hsplit). The count must divide that axis.</summary>
    /// <exception cref="ArgumentException">A scalar, or a count that does not divide the axis.</exception>
    public Expr[] Hsplit(int sections) => Interop.Wrap(CoreManipulation.hsplit(sections, Node));

    /// <summary>The pieces between <paramref name="indices"/> along axis 1, axis 0 of a vector (torch.hsplit with indices).</summary>
    public Expr[] Hsplit(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return Interop.Wrap(CoreManipulation.hsplitAt(indices, Node));
    }

    /// <summary>Equal sections along axis 0 of a tensor of rank 2 or more (torch.vsplit).</summary>
    /// <exception cref="ArgumentException">Rank below 2, or a count that does not divide the axis.</exception>
    public Expr[] Vsplit(int sections) => Interop.Wrap(CoreManipulation.vsplit(sections, Node));

    /// <summary>The pieces between <paramref name="indices"/> along axis 0 (torch.vsplit with indices).</summary>
    public Expr[] Vsplit(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return Interop.Wrap(CoreManipulation.vsplitAt(indices, Node));
    }

    /// <summary>Equal sections along axis 2 of a tensor of rank 3 or more (torch.dsplit).</summary>
    /// <exception cref="ArgumentException">Rank below 3, or a count that does not divide the axis.</exception>
    public Expr[] Dsplit(int sections) => Interop.Wrap(CoreManipulation.dsplit(sections, Node));

    /// <summary>The pieces between <paramref name="indices"/> along axis 2 (torch.dsplit with indices).</summary>
    public Expr[] Dsplit(int[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return Interop.Wrap(CoreManipulation.dsplitAt(indices, Node));
    }

    /// <summary>This reversed along axis 1 (torch.fliplr); rank 2 or more.</summary>
    public Expr Fliplr() => Wrap(CoreManipulation.fliplr(Node));

    /// <summary>This reversed along axis 0 (torch.flipud); rank 1 or more.</summary>
    public Expr Flipud() => Wrap(CoreManipulation.flipud(Node));

    /// <summary>
    /// This turned <paramref name="k"/> quarter turns in the plane of <paramref name="axis1"/> and
    /// <paramref name="axis2"/>, from the first towards the second (torch.rot90; k modulo 4, negative turns back).
    /// </summary>
    /// <exception cref="ArgumentException">Rank below 2, or one axis given twice.</exception>
    public Expr Rot90(int k = 1, int axis1 = 0, int axis2 = 1) => Wrap(CoreManipulation.rot90(k, axis1, axis2, Node));

    /// <summary>torch.moveaxis, another name of <see cref="Movedim"/>.</summary>
    public Expr Moveaxis(int source, int destination) => Interop.Named("Moveaxis", () => Movedim(source, destination));

    /// <summary>This flattened to a vector (torch.ravel).</summary>
    public Expr Ravel() => Reshape(Node.Numel);

    /// <summary>
    /// The entries at <paramref name="indices"/> (integers in a float dtype) along <paramref name="axis"/>
    /// (torch.take_along_dim): this and the indices have the same rank and broadcast together off that axis; the
    /// derivative adds back into the picked entries. F#: <c>Manipulation.takeAlongDim</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Ranks differ, or shapes do not broadcast.</exception>
    public Expr TakeAlongDim(Expr indices, int axis)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return Wrap(CoreManipulation.takeAlongDim(indices.Node, axis, Node));
    }

    /// <summary>The entries of this flattened, at the flattened <paramref name="indices"/> (torch.take_along_dim without a dim): a vector.</summary>
    public Expr TakeAlongDim(Expr indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return Wrap(CoreManipulation.takeAlongFlat(indices.Node, Node));
    }

    /// <summary>The entries of this, flattened, on diagonal <paramref name="offset"/> of a square matrix of zeros (torch.diagflat).</summary>
    public Expr Diagflat(int offset = 0) => Wrap(CoreManipulation.diagflat(offset, Node));

    /// <summary>
    /// This with its slice <paramref name="start"/>:<paramref name="end"/>:<paramref name="step"/> along
    /// <paramref name="axis"/> replaced by <paramref name="src"/> (torch.slice_scatter; bounds as Python's, null for the
    /// ends). The derivative of the written entries goes to src, of the others to this. F#: <c>Manipulation.sliceScatter</c>.
    /// </summary>
    /// <exception cref="ArgumentException">src does not have the slice's shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="step"/> is below 1.</exception>
    public Expr SliceScatter(Expr src, int axis = 0, int? start = null, int? end = null, int step = 1)
    {
        ArgumentNullException.ThrowIfNull(src);
        return Wrap(CoreManipulation.sliceScatter(src.Node, axis, Interop.Option(start), Interop.Option(end), step, Node));
    }

    /// <summary>
    /// This with its entries at <paramref name="index"/> along <paramref name="axis"/> replaced by
    /// <paramref name="src"/>, which has this shape without that axis (torch.select_scatter).
    /// </summary>
    /// <exception cref="ArgumentException">src has another shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="index"/> is out of range.</exception>
    public Expr SelectScatter(Expr src, int axis, int index)
    {
        ArgumentNullException.ThrowIfNull(src);
        return Wrap(CoreManipulation.selectScatter(src.Node, axis, index, Node));
    }

    /// <summary>
    /// This with diagonal <paramref name="offset"/> of axes <paramref name="axis1"/> and <paramref name="axis2"/>
    /// replaced by <paramref name="src"/>, which has that diagonal's shape (<see cref="Diagonal"/>'s; torch.diagonal_scatter).
    /// </summary>
    /// <exception cref="ArgumentException">src has another shape, or the axes are invalid.</exception>
    public Expr DiagonalScatter(Expr src, int offset = 0, int axis1 = 0, int axis2 = 1)
    {
        ArgumentNullException.ThrowIfNull(src);
        return Wrap(CoreManipulation.diagonalScatter(src.Node, offset, axis1, axis2, Node));
    }

    /// <summary>
    /// This with <paramref name="value"/> at <paramref name="indices"/> along <paramref name="axis"/> (torch.index_fill;
    /// negative indices count from the end); the filled entries pass no derivative.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">An index is out of range.</exception>
    public Expr IndexFill(int axis, int[] indices, double value)
    {
        ArgumentNullException.ThrowIfNull(indices);
        return Wrap(CoreManipulation.indexFill(axis, indices, value, Node));
    }

    /// <summary>
    /// The elementwise maximum ignoring NaN (torch.fmax): the number where one side is NaN, NaN only where both are;
    /// broadcasting. The derivative goes whole to the chosen side, to a at a tie, as torch's.
    /// </summary>
    public static Expr Fmax(Expr a, Expr b) { var (x, y) = Align(a, b); return Interop.Named("Fmax", () => Wrap(CoreManipulation.fmax(x, y))); }

    /// <summary>The elementwise minimum ignoring NaN (torch.fmin), as <see cref="Fmax"/>.</summary>
    public static Expr Fmin(Expr a, Expr b) { var (x, y) = Align(a, b); return Interop.Named("Fmin", () => Wrap(CoreManipulation.fmin(x, y))); }

    /// <summary>
    /// 1 where this and <paramref name="other"/> are close, |a − b| ≤ atol + rtol·|b| (torch.isclose): equal infinities
    /// are close, NaN is close to NaN only with <paramref name="equalNaN"/>; 0 elsewhere. A mask: no derivative.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative tolerance.</exception>
    public Expr IsClose(Expr other, double rtol = 1e-05, double atol = 1e-08, bool equalNaN = false)
    {
        var (a, b) = Align(this, other);
        return Interop.Named("IsClose", () => Wrap(CoreManipulation.isclose(rtol, atol, equalNaN, a, b)));
    }

    /// <summary>
    /// 1 where an entry of this equals some entry of <paramref name="testElements"/> (torch.isin; NaN equals nothing),
    /// 0 elsewhere, or the reverse with <paramref name="invert"/>. A mask of this shape: no derivative.
    /// </summary>
    public Expr IsIn(Expr testElements, bool invert = false)
    {
        var (a, b) = Align(this, testElements);
        return Interop.Named("IsIn", () => Wrap(CoreManipulation.isin(invert, a, b)));
    }

    /// <summary>
    /// β·this + α·(<paramref name="mat1"/> @ <paramref name="mat2"/>) for matrices [n, m] and [m, p] (torch.addmm);
    /// this broadcasts to [n, p] and is left out when β = 0 (a NaN in it does not reach the result). F#: <c>Products.addmm</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Operands that are not matrices or do not fit.</exception>
    public Expr Addmm(Expr mat1, Expr mat2, double beta = 1.0, double alpha = 1.0) =>
        Accumulated("Addmm", CoreProducts.addmm, mat1, mat2, beta, alpha);

    /// <summary>β·this + α·(<paramref name="mat"/> @ <paramref name="vec"/>) for a matrix [n, m] and a vector [m] (torch.addmv).</summary>
    /// <exception cref="ArgumentException">Operands of the wrong rank or that do not fit.</exception>
    public Expr Addmv(Expr mat, Expr vec, double beta = 1.0, double alpha = 1.0) =>
        Accumulated("Addmv", CoreProducts.addmv, mat, vec, beta, alpha);

    /// <summary>β·this + α·(<paramref name="vec1"/> ⊗ <paramref name="vec2"/>), the outer product of two vectors (torch.addr).</summary>
    /// <exception cref="ArgumentException">Operands of the wrong rank or that do not fit.</exception>
    public Expr Addr(Expr vec1, Expr vec2, double beta = 1.0, double alpha = 1.0) =>
        Accumulated("Addr", CoreProducts.addr, vec1, vec2, beta, alpha);

    /// <summary>β·this + α·(<paramref name="batch1"/> @ <paramref name="batch2"/>) for batches [b, n, m] and [b, m, p] (torch.baddbmm).</summary>
    /// <exception cref="ArgumentException">Operands that are not batches of matrices or do not fit.</exception>
    public Expr Baddbmm(Expr batch1, Expr batch2, double beta = 1.0, double alpha = 1.0) =>
        Accumulated("Baddbmm", CoreProducts.baddbmm, batch1, batch2, beta, alpha);

    /// <summary>β·this + α·Σᵢ <paramref name="batch1"/>[i] @ <paramref name="batch2"/>[i] (torch.addbmm): the batch's products summed.</summary>
    /// <exception cref="ArgumentException">Operands that are not batches of matrices or do not fit.</exception>
    public Expr Addbmm(Expr batch1, Expr batch2, double beta = 1.0, double alpha = 1.0) =>
        Accumulated("Addbmm", CoreProducts.addbmm, batch1, batch2, beta, alpha);

    /// <summary>β·this + α·(a product of <paramref name="first"/> and <paramref name="second"/>), as the BLAS-style products build it.</summary>
    Expr Accumulated(string name, Func<double, double, CoreExpr, CoreExpr, CoreExpr, CoreExpr> product, Expr first, Expr second, double beta, double alpha,
        [CallerArgumentExpression(nameof(first))] string firstName = "", [CallerArgumentExpression(nameof(second))] string secondName = "")
    {
        ArgumentNullException.ThrowIfNull(first, firstName);
        ArgumentNullException.ThrowIfNull(second, secondName);
        var parts = Align([this, first, second], name);
        return Interop.Named(name, () => Wrap(product(beta, alpha, parts[0], parts[1], parts[2])));
    }

    /// <summary>
    /// The product of a chain of matrices in the cheapest order (torch.linalg.multi_dot, which chooses it the same
    /// way); the first may be a vector (a row) and the last a vector (a column), whose axes the result drops. F#:
    /// <c>Products.multiDot</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two tensors, or shapes that do not chain.</exception>
    public static Expr MultiDot(params Expr[] tensors) => Interop.Named("MultiDot", () => Wrap(CoreProducts.multiDot(Align(tensors, nameof(tensors)))));

    /// <summary>Σ x·y along <paramref name="axis"/>, x and y broadcast together (torch.linalg.vecdot).</summary>
    public static Expr Vecdot(Expr x, Expr y, int axis = -1) { var (a, b) = Align(x, y); return Interop.Named("Vecdot", () => Wrap(CoreProducts.vecdot(axis, a, b))); }

    /// <summary>
    /// The inverse of A = L Lᵀ (or Uᵀ U with <paramref name="upper"/>) from this Cholesky factor, (…, n, n)
    /// (torch.cholesky_inverse), by two triangular solves.
    /// </summary>
    /// <exception cref="ArgumentException">Not a (batch of) square matrices.</exception>
    public Expr CholeskyInverse(bool upper = false) => Wrap(CoreProducts.choleskyInverse(upper, Node));

    /// <summary>The standard deviation and the mean over every entry, as torch.std_mean (Bessel's correction by default).</summary>
    public (Expr Std, Expr Mean) StdMean(double correction = 1.0) => (Std(AllAxes, correction, false), Mean());

    /// <summary>The standard deviation and the mean along <paramref name="axes"/>, as torch.std_mean.</summary>
    public (Expr Std, Expr Mean) StdMean(int[] axes, double correction = 1.0, bool keepDims = false)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return (Std(axes, correction, keepDims), Mean(axes, keepDims));
    }

    /// <summary>The variance and the mean over every entry, as torch.var_mean (Bessel's correction by default).</summary>
    public (Expr Var, Expr Mean) VarMean(double correction = 1.0) => (Var(AllAxes, correction, false), Mean());

    /// <summary>The variance and the mean along <paramref name="axes"/>, as torch.var_mean.</summary>
    public (Expr Var, Expr Mean) VarMean(int[] axes, double correction = 1.0, bool keepDims = false)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return (Var(axes, correction, keepDims), Mean(axes, keepDims));
    }
}
