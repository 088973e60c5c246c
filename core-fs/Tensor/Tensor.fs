/// Tensor: the immutable dense value type. It owns storage, strides and views;
/// the kernels that compute with it live in the files after this one.
namespace FunctionalDiff.Core

open System
open System.Threading

/// The element type of a Tensor.
[<RequireQualifiedAccess>]
type DType =
    | Float32
    | Float64

    /// The torch-style name: `float32` or `float64`.
    override this.ToString() =
        match this with
        | Float32 -> "float32"
        | Float64 -> "float64"

/// Strided iteration shared by views and kernels.
module internal Strided =

    /// Copies the strided view (shape, strides, offset) of `source` into the dense row-major `target`.
    /// Iterative odometer over the outer dimensions; the innermost dimension is a tight loop.
    let copy<'T> (source: 'T[]) (offset: int) (strides: int[]) (shape: int[]) (target: 'T[]) =
        let rank = shape.Length
        let n = Shape.numel shape
        if n = 0 then ()
        elif rank = 0 then target.[0] <- source.[offset]
        else
            let inner = shape.[rank - 1]
            let innerStride = strides.[rank - 1]
            // the odometer's digits, over the outer axes: a single row needs none, so copying a
            // vector (a loop body's carry, once per step) allocates nothing
            let index = if rank > 1 then Array.zeroCreate rank else null
            let mutable position = offset
            let mutable written = 0
            while written < n do
                if innerStride = 1 then
                    Array.Copy(source, position, target, written, inner)
                else
                    let mutable p = position
                    for j in 0 .. inner - 1 do
                        target.[written + j] <- source.[p]
                        p <- p + innerStride
                written <- written + inner
                // advance the odometer over the outer dimensions
                let mutable axis = rank - 2
                let mutable carry = true
                while carry && axis >= 0 do
                    index.[axis] <- index.[axis] + 1
                    position <- position + strides.[axis]
                    if index.[axis] < shape.[axis] then
                        carry <- false
                    else
                        position <- position - strides.[axis] * shape.[axis]
                        index.[axis] <- 0
                        axis <- axis - 1

/// The count of tensors made so far, whose value at a tensor's construction is its serial: a
/// scope (the C# facade's DisposeScope) takes the tensors made after it began, never one made
/// before it that an op hands back again.
module internal TensorSerial =
    let private made = ref 0L
    let next () = Interlocked.Increment(&made.contents)
    let current () = Volatile.Read(&made.contents)

/// An immutable, dense, row-major n-dimensional array of float32 or float64.
/// Views (permute, slice, broadcast, flip) share storage; immutability makes that safe.
///
/// Disposing a tensor (torch's and TorchSharp's `using`/`Dispose`) is a promise that it will not
/// be used again: any later read of its elements throws ObjectDisposedException. When the tensor
/// owns its array (a kernel's or factory's fresh result, never a view) and no other tensor, view
/// or constant node was ever made over that array, a large array (85,000 bytes or more) goes back
/// to the library's pool for the next result of its dtype and length (see TensorMemory). Sharing
/// is recorded when it happens and never forgotten, so a buffer that anything else may still read
/// is left to the garbage collector. No finalizer is involved.
[<Sealed; AllowNullLiteral(false)>]
type Tensor internal (dtype: DType, shape: int[], strides: int[], offset: int, storage: Array) =

    let numel = Shape.numel shape
    let serial = TensorSerial.next ()
    /// 0 while alive, 1 once disposed.
    [<VolatileField>]
    let mutable disposed = 0
    /// True when this tensor made its array (only then may Dispose hand it back).
    let mutable owns = false
    /// True once another tensor, a view or a constant node was made over this array.
    [<VolatileField>]
    let mutable shared = false

    let contiguous =
        let mutable expected = 1
        let mutable ok = true
        for i in shape.Length - 1 .. -1 .. 0 do
            if shape.[i] <> 1 && strides.[i] <> expected then ok <- false
            expected <- expected * shape.[i]
        ok || numel = 0

    /// The element type.
    member _.DType = dtype
    /// A copy of the dimensions, outermost first.
    member _.Shape = Array.copy shape
    /// The dimensions without a copy; callers must not mutate it.
    member internal _.Dims = shape
    /// The number of dimensions.
    member _.Rank = shape.Length
    /// The number of elements.
    member _.Numel = numel
    /// Element strides into the storage, one per dimension.
    member internal _.Strides = strides
    /// Index of the first element in the storage.
    member internal _.Offset = offset
    /// The backing array: float[] for Float64, float32[] for Float32. Every kernel reads a tensor
    /// through here (or Data64/Data32), so a disposed tensor fails here, before its array (which
    /// may already hold another tensor's values) is read.
    member internal this.Storage =
        if disposed <> 0 then this.ThrowDisposed()
        storage
    /// True when the elements lie row-major and dense from Offset on.
    member internal _.IsContiguous = contiguous

    /// The float64 storage; only valid when DType is Float64.
    member internal this.Data64 = this.Storage :?> float[]
    /// The float32 storage; only valid when DType is Float32.
    member internal this.Data32 = this.Storage :?> float32[]

    /// The count of tensors made before this one plus one (see TensorSerial).
    member internal _.Serial = serial

    /// The serial of the last tensor made so far.
    static member internal CurrentSerial = TensorSerial.current ()

    /// True once Dispose has been called.
    member _.IsDisposed = disposed <> 0

    /// Raises the ObjectDisposedException that names this tensor's shape and dtype.
    member internal _.ThrowDisposed() : unit =
        raise (ObjectDisposedException(
                "Tensor",
                sprintf "a tensor of shape %s (%O) was used after Dispose(); dispose a tensor only once nothing reads it any more"
                    (Shape.format shape) dtype))

    /// Throws ObjectDisposedException when the tensor is disposed.
    member internal this.CheckAlive() = if disposed <> 0 then this.ThrowDisposed()

    /// Records that something other than this tensor (a view, a constant node, a plan's view)
    /// reads its array, so that Dispose never hands the array back.
    member internal _.MarkShared() = shared <- true

    /// Marks this tensor as the maker of its array (a fresh result no one else holds).
    member internal this.MarkOwner() =
        owns <- true
        this

    /// Disposes the tensor: later reads throw ObjectDisposedException, and its array goes back to
    /// the pool when this tensor made it and nothing else was ever made over it (see the type's
    /// summary). A second call does nothing.
    member this.Dispose() =
        if Interlocked.Exchange(&disposed, 1) = 0 then
            if owns && not shared && offset = 0 then RecycledArrays.Return storage

    interface IDisposable with
        member this.Dispose() = this.Dispose()

    /// The element at a full index, as a double. Negative indices count from the end.
    member this.Item
        with get (index: int[]) : float =
            this.CheckAlive()
            if index.Length <> shape.Length then
                // torch's t[i] on a matrix is a row; here an index names one element, so say where a row is
                Shape.fail "Item" (sprintf "index of length %d for a tensor of shape %s: an element takes one index per axis (%d); a row, torch's t[i], is Row(i), and a slice t[a..b]"
                                       index.Length (Shape.format shape) shape.Length)
            let mutable position = offset
            for axis in 0 .. index.Length - 1 do
                let i = if index.[axis] < 0 then index.[axis] + shape.[axis] else index.[axis]
                if i < 0 || i >= shape.[axis] then
                    Shape.fail "Item" (sprintf "index %d is out of range for axis %d of shape %s" index.[axis] axis (Shape.format shape))
                position <- position + i * strides.[axis]
            match dtype with
            | DType.Float64 -> (storage :?> float[]).[position]
            | DType.Float32 -> float (storage :?> float32[]).[position]

    /// A tensor with the same elements laid out densely from offset 0; itself when already so.
    member this.Contiguous() : Tensor =
        this.CheckAlive()
        if contiguous && offset = 0 && storage.Length = numel then this
        else
            match dtype with
            | DType.Float64 ->
                let target = RecycledArrays.Take<float> numel
                Strided.copy (storage :?> float[]) offset strides shape target
                (new Tensor(dtype, shape, Shape.contiguousStrides shape, 0, target)).MarkOwner()
            | DType.Float32 ->
                let target = RecycledArrays.Take<float32> numel
                Strided.copy (storage :?> float32[]) offset strides shape target
                (new Tensor(dtype, shape, Shape.contiguousStrides shape, 0, target)).MarkOwner()

    /// A flat row-major copy of the elements as float64.
    member this.ToDoubleArray() : float[] =
        this.CheckAlive()
        match dtype with
        | DType.Float64 ->
            let target = GC.AllocateUninitializedArray<float> numel
            Strided.copy (storage :?> float[]) offset strides shape target
            target
        | DType.Float32 -> (this.Contiguous().Data32) |> Array.map float

    /// A flat row-major copy of the elements as float32.
    member this.ToSingleArray() : float32[] =
        this.CheckAlive()
        match dtype with
        | DType.Float32 ->
            let target = GC.AllocateUninitializedArray<float32> numel
            Strided.copy (storage :?> float32[]) offset strides shape target
            target
        | DType.Float64 -> (this.Contiguous().Data64) |> Array.map float32

    /// The single element of a rank-0 or one-element tensor.
    member this.ToScalar() : float =
        this.CheckAlive()
        if numel <> 1 then
            Shape.fail "ToScalar" (sprintf "tensor of shape %s has %d elements, not 1" (Shape.format shape) numel)
        // The one element is at the offset whatever the strides (every index is 0). Hash-consing
        // reads scalar constants this way on every fold, so no index array is built.
        match dtype with
        | DType.Float64 -> (storage :?> float[]).[offset]
        | DType.Float32 -> float (storage :?> float32[]).[offset]

    /// The same values in another dtype; itself when the dtype already matches.
    member this.Cast(target: DType) : Tensor =
        this.CheckAlive()
        if target = dtype then this
        else
            // the dense source in this dtype, then one conversion pass into a recycled array
            let source = this.Contiguous()
            match target with
            | DType.Float64 ->
                let values, converted = source.Data32, RecycledArrays.Take<float> numel
                for i in 0 .. numel - 1 do converted.[i] <- float values.[source.Offset + i]
                (new Tensor(target, shape, Shape.contiguousStrides shape, 0, converted)).MarkOwner()
            | DType.Float32 ->
                let values, converted = source.Data64, RecycledArrays.Take<float32> numel
                for i in 0 .. numel - 1 do converted.[i] <- float32 values.[source.Offset + i]
                (new Tensor(target, shape, Shape.contiguousStrides shape, 0, converted)).MarkOwner()

    /// The text PyTorch's `str(tensor)` prints for the same values, with torch's default print
    /// options: `tensor([1.0000, 0.0180])`, entries right-aligned to one width, rows on their own
    /// lines, tensors over 1000 elements summarised with `...` (3 items at each end of each axis).
    /// float32 is torch's default dtype and shows none; float64 shows `dtype=torch.float64`, torch's
    /// own spelling rather than our `Float64`, so the text reads the same as torch's.
    override this.ToString() =
        // a debugger shows this too, so a disposed tensor says what it was rather than throwing
        if disposed <> 0 then sprintf "Tensor(disposed, shape %s, %O)" (Shape.format shape) dtype else
        let torchDType = match dtype with DType.Float64 -> "torch.float64" | _ -> null
        TensorFormat.format torchDType shape (this.ToDoubleArray())

    /// Wraps a dense row-major float64 array (not copied: the caller hands over ownership).
    static member internal OwnDense(shape: int[], data: float[]) =
        (new Tensor(DType.Float64, shape, Shape.contiguousStrides shape, 0, data)).MarkOwner()

    /// Wraps a dense row-major float32 array (not copied: the caller hands over ownership).
    static member internal OwnDense(shape: int[], data: float32[]) =
        (new Tensor(DType.Float32, shape, Shape.contiguousStrides shape, 0, data)).MarkOwner()

    /// A view of the same storage with other shape/strides/offset. The array is then shared, so
    /// disposing this tensor never hands it back.
    member internal this.View(newShape: int[], newStrides: int[], newOffset: int) =
        this.CheckAlive()
        shared <- true
        new Tensor(dtype, newShape, newStrides, newOffset, storage)

    /// A float64 tensor with a copy of `data` in the given shape.
    static member FromArray(data: float[], shape: int[]) =
        if isNull data then nullArg "data"
        Shape.validate "FromArray" shape
        if Shape.numel shape <> data.Length then
            Shape.fail "FromArray" (sprintf "%d values cannot fill shape %s" data.Length (Shape.format shape))
        Tensor.OwnDense(Array.copy shape, Array.copy data)

    /// A float32 tensor with a copy of `data` in the given shape.
    static member FromArray(data: float32[], shape: int[]) =
        if isNull data then nullArg "data"
        Shape.validate "FromArray" shape
        if Shape.numel shape <> data.Length then
            Shape.fail "FromArray" (sprintf "%d values cannot fill shape %s" data.Length (Shape.format shape))
        Tensor.OwnDense(Array.copy shape, Array.copy data)

    /// A rank-0 tensor.
    static member Scalar(value: float, dtype: DType) =
        match dtype with
        | DType.Float64 -> Tensor.OwnDense([||], [| value |])
        | DType.Float32 -> Tensor.OwnDense([||], [| float32 value |])

    /// A tensor of the given shape filled with `value`.
    static member Full(shape: int[], value: float, dtype: DType) =
        Shape.validate "Full" shape
        let n = Shape.numel shape
        match dtype with
        | DType.Float64 ->
            let data = RecycledArrays.Take<float> n
            Array.Fill(data, value)
            Tensor.OwnDense(Array.copy shape, data)
        | DType.Float32 ->
            let data = RecycledArrays.Take<float32> n
            Array.Fill(data, float32 value)
            Tensor.OwnDense(Array.copy shape, data)

    /// A tensor of zeros.
    static member Zeros(shape: int[], dtype: DType) = Tensor.Full(shape, 0.0, dtype)

    /// A tensor of ones.
    static member Ones(shape: int[], dtype: DType) = Tensor.Full(shape, 1.0, dtype)

    /// Zeros of t's shape and dtype (torch.zeros_like).
    static member ZerosLike(t: Tensor) = Tensor.Full(t.Shape, 0.0, t.DType)

    /// Ones of t's shape and dtype (torch.ones_like).
    static member OnesLike(t: Tensor) = Tensor.Full(t.Shape, 1.0, t.DType)
