/// Eager tensor math: the same kernels a plan runs, called directly on values with no graph.
/// This is the module a training loop uses between compiled steps (updates, metrics, data
/// preparation). A bare float takes the tensor's dtype, as a literal does in the op language.
namespace FunctionalDiff.Core

/// Eager arithmetic, functions, reductions and structure over Tensors.
[<RequireQualifiedAccess>]
module TensorMath =

    let private scalarLike (t: Tensor) (value: float) = Tensor.Scalar(value, t.DType)

    /// Elementwise sum with broadcasting; float32 meeting float64 gives float64.
    let add (a: Tensor) (b: Tensor) = Elementwise.binary BinaryOp.Add a b
    /// Elementwise difference with broadcasting.
    let sub (a: Tensor) (b: Tensor) = Elementwise.binary BinaryOp.Sub a b
    /// Elementwise product with broadcasting.
    let mul (a: Tensor) (b: Tensor) = Elementwise.binary BinaryOp.Mul a b
    /// Elementwise quotient with broadcasting.
    let div (a: Tensor) (b: Tensor) = Elementwise.binary BinaryOp.Div a b
    /// Elementwise power with broadcasting.
    let pow (a: Tensor) (b: Tensor) = Elementwise.binary BinaryOp.Pow a b
    /// Elementwise maximum (NaN wins, as in torch.maximum).
    let maximum (a: Tensor) (b: Tensor) = Elementwise.binary BinaryOp.Maximum a b
    /// Elementwise minimum (NaN wins, as in torch.minimum).
    let minimum (a: Tensor) (b: Tensor) = Elementwise.binary BinaryOp.Minimum a b
    /// Any binary op with broadcasting (comparisons give 0/1 masks in the operand dtype).
    let binary (op: BinaryOp) (a: Tensor) (b: Tensor) = Elementwise.binary op a b
    /// torch.clamp's value: min(max(t, lower), upper), either bound absent. The kernels propagate NaN,
    /// so a NaN entry stays NaN and a NaN bound makes every entry NaN; lower > upper gives upper. The
    /// same values as Activations.clamp builds for graphs.
    let clamp (lower: float option) (upper: float option) (t: Tensor) =
        let raised = match lower with Some l -> maximum t (scalarLike t l) | None -> t
        match upper with Some u -> minimum raised (scalarLike t u) | None -> raised

    /// t + value, the scalar in t's dtype.
    let addScalar (value: float) (t: Tensor) = add t (scalarLike t value)
    /// t * value, the scalar in t's dtype.
    let mulScalar (value: float) (t: Tensor) = mul t (scalarLike t value)
    /// t - value, the scalar in t's dtype.
    let subScalar (value: float) (t: Tensor) = sub t (scalarLike t value)
    /// value - t, the scalar in t's dtype.
    let rsubScalar (value: float) (t: Tensor) = sub (scalarLike t value) t
    /// t / value, the scalar in t's dtype.
    let divScalar (value: float) (t: Tensor) = div t (scalarLike t value)
    /// value / t, the scalar in t's dtype.
    let rdivScalar (value: float) (t: Tensor) = div (scalarLike t value) t

    /// Any elementwise function of one argument.
    let unary (op: UnaryOp) (t: Tensor) = Elementwise.unary op t
    /// Negation.
    let neg t = unary UnaryOp.Neg t
    /// e^t.
    let exp t = unary UnaryOp.Exp t
    /// Natural logarithm.
    let log t = unary UnaryOp.Log t
    /// Square root.
    let sqrt t = unary UnaryOp.Sqrt t
    /// Hyperbolic tangent.
    let tanh t = unary UnaryOp.Tanh t
    /// Logistic sigmoid.
    let sigmoid t = unary UnaryOp.Sigmoid t
    /// max(t, 0).
    let relu t = unary UnaryOp.Relu t
    /// Absolute value.
    let abs t = unary UnaryOp.Abs t
    /// t².
    let square t = unary UnaryOp.Square t

    /// Picks ifTrue where mask is nonzero, else ifFalse; all three broadcast.
    let where (mask: Tensor) (ifTrue: Tensor) (ifFalse: Tensor) = Elementwise.where mask ifTrue ifFalse

    /// torch.masked_select(t, mask), torch's t[mask]: the entries of t where the mask is nonzero, in row-major order,
    /// as a rank-1 tensor of t's dtype; the mask and t broadcast. Its length depends on the mask's values, so it exists
    /// for tensors only: inside a traced function a mask multiplies instead (Σ loss·mask / Σ mask).
    let maskedSelect (mask: Tensor) (t: Tensor) =
        let shape = Shape.broadcast "MaskedSelect" t.Dims mask.Dims
        // where broadcasts its operands: t and the mask laid out over the common shape
        let values = (Elementwise.where (Tensor.Full(shape, 1.0, t.DType)) t t).ToDoubleArray()
        let keep = (Elementwise.where mask (Tensor.Full(shape, 1.0, t.DType)) (Tensor.Full(shape, 0.0, t.DType))).ToDoubleArray()
        let picked = [| for i in 0 .. values.Length - 1 do if keep.[i] <> 0.0 then yield values.[i] |]
        Tensor.FromArray(picked, [| picked.Length |]).Cast t.DType

    /// The matrix product with torch.matmul's rules for ranks 1, 2 and batches.
    let matmul (a: Tensor) (b: Tensor) = LinearAlgebra.matmul a b

    /// Any reduction over the given axes (negative counts from the end).
    let reduce (op: ReduceOp) (axes: int[]) (keepDims: bool) (t: Tensor) = Reduction.reduce op axes keepDims t
    /// The sum of every element, as a rank-0 tensor.
    let sum (t: Tensor) = Reduction.reduceAll ReduceOp.Sum t
    /// The mean of every element, as a rank-0 tensor.
    let mean (t: Tensor) = Reduction.reduceAll ReduceOp.Mean t
    /// The largest element, as a rank-0 tensor.
    let max (t: Tensor) = Reduction.reduceAll ReduceOp.Max t
    /// The smallest element, as a rank-0 tensor.
    let min (t: Tensor) = Reduction.reduceAll ReduceOp.Min t
    /// The index of the largest element along an axis (first on ties), in the input dtype.
    let argmax (axis: int) (keepDims: bool) (t: Tensor) = Reduction.argmax axis keepDims t
    /// The index of the smallest element along an axis (first on ties, NaN first, as torch), in the
    /// input dtype: the argmax of the negation, as Structure.argmin builds it for graphs.
    let argmin (axis: int) (keepDims: bool) (t: Tensor) =
        let a = Shape.normalizeAxis "ArgMin" t.Rank axis
        if t.Dims.[a] = 0 then
            Shape.fail "ArgMin" (sprintf "cannot take the argmin of an empty axis of shape %s" (Shape.format t.Dims))
        Reduction.argmax a keepDims (Elementwise.unary UnaryOp.Neg t)
    /// The row-major flat index of the largest element, rank 0 (torch's argmax without a dim).
    let argmaxAll (t: Tensor) =
        if t.Numel = 0 then Shape.fail "ArgMax" (sprintf "cannot take the argmax of the empty shape %s" (Shape.format t.Dims))
        Reduction.argmaxAll t
    /// The row-major flat index of the smallest element, rank 0 (torch's argmin without a dim).
    let argminAll (t: Tensor) =
        if t.Numel = 0 then Shape.fail "ArgMin" (sprintf "cannot take the argmin of the empty shape %s" (Shape.format t.Dims))
        Reduction.argmaxAll (Elementwise.unary UnaryOp.Neg t)

    /// The same elements in a new shape (one entry may be -1).
    let reshape (shape: int[]) (t: Tensor) = Structural.reshape shape t
    /// Reverses the axes (the matrix transpose for rank 2).
    let transpose (t: Tensor) = Structural.transpose t
    /// Reorders the axes.
    let permute (perm: int[]) (t: Tensor) = Structural.permute perm t
    /// Python-style slice of one axis.
    let slice (axis: int) (start: int) (stop: int) (step: int) (t: Tensor) = Structural.sliceAxis axis start stop step t
    /// Concatenates along an existing axis.
    let concat (axis: int) (parts: Tensor[]) = Structural.concat axis parts
    /// Stacks along a new axis.
    let stack (axis: int) (parts: Tensor[]) = Structural.stack axis parts
    /// Picks rows (elements along `axis`) by an index tensor.
    let gather (axis: int) (index: Tensor) (t: Tensor) = Structural.gather axis index t

    /// torch.allclose: whether |a − b| ≤ atol + rtol·|b| everywhere, with broadcasting; equal
    /// values are close (so are equal infinities), NaN is close to nothing unless equalNan, where
    /// a NaN is close to a NaN. True for empty tensors.
    let allClose (rtol: float) (atol: float) (equalNan: bool) (a: Tensor) (b: Tensor) : bool =
        if not (rtol >= 0.0) then invalidArg "rtol" (sprintf "AllClose: rtol = %g must be ≥ 0" rtol)
        if not (atol >= 0.0) then invalidArg "atol" (sprintf "AllClose: atol = %g must be ≥ 0" atol)
        Shape.broadcast "AllClose" a.Shape b.Shape |> ignore
        let within = binary BinaryOp.LessEqual (abs (sub a b)) (addScalar atol (mulScalar rtol (abs b)))
        let close = maximum within (binary BinaryOp.Equal a b)
        let close = if equalNan then maximum close (mul (binary BinaryOp.NotEqual a a) (binary BinaryOp.NotEqual b b)) else close
        close.Numel = 0 || (min close).ToScalar() = 1.0
