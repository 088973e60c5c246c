/// Creation: the functions that make new tensors from nothing, from arrays, from ranges, or from
/// the seeded generator. The Tensor type's static members stay the C#-facing spelling; these are
/// the curried F# ones the graph layers call.
namespace FunctionalDiff.Core

open System

/// Curried constructors for Tensor values.
[<RequireQualifiedAccess; CompilationRepresentation(CompilationRepresentationFlags.ModuleSuffix)>]
module Tensor =

    /// Wraps float64 values in the requested dtype; the array is handed over, not copied.
    let internal ofFloats (dtype: DType) (shape: int[]) (values: float[]) =
        match dtype with
        | DType.Float64 -> Tensor.OwnDense(shape, values)
        | DType.Float32 -> Tensor.OwnDense(shape, Array.map float32 values)

    /// A rank-0 tensor holding `value`.
    let scalar (dtype: DType) (value: float) = Tensor.Scalar(value, dtype)

    /// A tensor of zeros.
    let zeros (dtype: DType) (shape: int[]) = Tensor.Zeros(shape, dtype)

    /// A tensor of ones.
    let ones (dtype: DType) (shape: int[]) = Tensor.Ones(shape, dtype)

    /// A tensor filled with `value`.
    let full (dtype: DType) (shape: int[]) (value: float) = Tensor.Full(shape, value, dtype)

    /// A float64 tensor holding a copy of `values`, row-major.
    let ofArray64 (shape: int[]) (values: float[]) = Tensor.FromArray(values, shape)

    /// A float32 tensor holding a copy of `values`, row-major.
    let ofArray32 (shape: int[]) (values: float32[]) = Tensor.FromArray(values, shape)

    /// The values start, start+step, … strictly before stop (after it for a negative step), like torch.arange.
    let arange (dtype: DType) (start: float) (stop: float) (step: float) =
        if step = 0.0 || Double.IsNaN step then Shape.fail "Arange" "step must be nonzero"
        if not (Double.IsFinite start && Double.IsFinite stop) then
            Shape.fail "Arange" (sprintf "start %g and stop %g must be finite" start stop)
        let steps = Math.Ceiling((stop - start) / step)
        // checked before the conversion, which would wrap a count past int32 to a negative one
        if steps > float Shape.maxElements then
            Shape.fail "Arange" (sprintf "start %g, stop %g and step %g give %g elements, more than the limit of %d" start stop step steps Shape.maxElements)
        let count = max 0 (int steps)
        ofFloats dtype [| count |] (Array.init count (fun i -> start + float i * step))

    /// `count` evenly spaced values from start to stop inclusive, like torch.linspace.
    let linspace (dtype: DType) (start: float) (stop: float) (count: int) =
        if count < 0 then Shape.fail "Linspace" (sprintf "count %d is negative" count)
        let values =
            if count = 1 then [| start |]
            else
                let step = (stop - start) / float (count - 1)
                // the last value is exactly stop, not start + (count-1)·step with its rounding
                Array.init count (fun i -> if i = count - 1 then stop else start + float i * step)
        ofFloats dtype [| count |] values

    /// torch.logspace: base^v for `count` exponents v evenly spaced from start to stop, computed as torch's kernel does
    /// (the first half from start, the second from stop, so both ends are exact powers), in float64, then rounded.
    let logspace (dtype: DType) (start: float) (stop: float) (count: int) (logBase: float) =
        if count < 0 then Shape.fail "Logspace" (sprintf "count %d is negative" count)
        let values =
            if count = 1 then [| Math.Pow(logBase, start) |]
            else
                let step = (stop - start) / float (count - 1)
                let halfway = count / 2
                Array.init count (fun i ->
                    Math.Pow(logBase, (if i < halfway then start + step * float i else stop - step * float (count - i - 1))))
        ofFloats dtype [| count |] values

    /// torch.tril_indices (lower) or triu_indices: the [2, M] row and column indices of the entries of a rows × columns
    /// matrix on or below (above) the diagonal `offset`, in row-major order, as float64 values.
    let triangleIndices (lower: bool) (rows: int) (columns: int) (offset: int) =
        let name = if lower then "TrilIndices" else "TriuIndices"
        if rows < 0 || columns < 0 then Shape.fail name (sprintf "negative dimension in [%d, %d]" rows columns)
        let pairs =
            [| for i in 0 .. rows - 1 do
                 for j in 0 .. columns - 1 do
                     if (if lower then j - i <= offset else j - i >= offset) then yield (i, j) |]
        let values = Array.append (pairs |> Array.map (fst >> float)) (pairs |> Array.map (snd >> float))
        Tensor.OwnDense([| 2; pairs.Length |], values)

    /// Standard normal samples from the deterministic generator: the same seed gives the same
    /// values everywhere. Float32 values are the float64 samples rounded.
    let randomNormal (dtype: DType) (seed: int) (shape: int[]) =
        Shape.validate "RandomNormal" shape
        ofFloats dtype (Array.copy shape) (RandomSampling.normals seed (Shape.numel shape))

    /// Uniform samples in [low, high) from the deterministic generator.
    let randomUniform (dtype: DType) (seed: int) (low: float) (high: float) (shape: int[]) =
        Shape.validate "RandomUniform" shape
        if not (low <= high) then Shape.fail "RandomUniform" (sprintf "low %g exceeds high %g" low high)
        let values = RandomSampling.uniforms seed low high (Shape.numel shape)
        match dtype with
        | DType.Float64 -> Tensor.OwnDense(Array.copy shape, values)
        | DType.Float32 ->
            // rounding to float32 can land exactly on high; step back so the interval stays half-open
            let narrow (x: float) =
                let y = float32 x
                if float y >= high && low < high then MathF.BitDecrement(float32 high) else y
            Tensor.OwnDense(Array.copy shape, Array.map narrow values)
