/// Matrix products of tensors with torch.matmul semantics: vectors, matrices and broadcast
/// batches of matrices. This module owns the shape rules and the mapping of strided views onto
/// the GEMM driver; the arithmetic is in Gemm.fs.
namespace FunctionalDiff.Core

/// Owner of the per-thread buffers for an addend of a compiled product that is not dense. A
/// loop's gradient accumulator starts as broadcast zeros, made dense at the first step of every
/// run of the loop: as a fresh array each time, its pages were faulted in again at every run (a
/// checkpointed loop's backward pass runs its inner loops once per segment). Buffers over 4M
/// elements are not kept.
type internal AddendScratch = class end

/// Linear algebra on tensors.
[<RequireQualifiedAccess>]
module LinearAlgebra =

    /// How one operand is read as a stack of matrices.
    type private Operand =
        { Rows: int
          Columns: int
          RowStride: int
          ColumnStride: int
          /// Batch dimensions (everything before the last two), outermost first.
          Batch: int[]
          BatchStrides: int[] }

    /// A 1-D left operand is a 1 × k row; a 1-D right operand is a k × 1 column (torch's rule).
    let private asMatrices (tensor: Tensor) (isLeft: bool) =
        let dims, strides = tensor.Dims, tensor.Strides
        let rank = dims.Length
        if rank = 1 then
            if isLeft then
                { Rows = 1; Columns = dims.[0]; RowStride = 0; ColumnStride = strides.[0]; Batch = [||]; BatchStrides = [||] }
            else
                { Rows = dims.[0]; Columns = 1; RowStride = strides.[0]; ColumnStride = 0; Batch = [||]; BatchStrides = [||] }
        else
            { Rows = dims.[rank - 2]
              Columns = dims.[rank - 1]
              RowStride = strides.[rank - 2]
              ColumnStride = strides.[rank - 1]
              Batch = dims.[.. rank - 3]
              BatchStrides = strides.[.. rank - 3] }

    /// Broadcasts the two batch shapes, or fails naming both operands' full shapes.
    let private broadcastBatch (describe: unit -> string) (left: int[]) (right: int[]) =
        let rank = max left.Length right.Length
        let at (shape: int[]) i = if i < rank - shape.Length then 1 else shape.[i - (rank - shape.Length)]
        Array.init rank (fun i ->
            let l, r = at left i, at right i
            if l = r || r = 1 then l
            elif l = 1 then r
            else
                Shape.fail "MatMul" (sprintf "%s: batch dimensions %s and %s cannot be broadcast"
                                         (describe ()) (Shape.format left) (Shape.format right)))

    /// The storage offset of each matrix in the broadcast batch, in row-major batch order.
    /// A dimension of size 1 (or missing) repeats the same matrix, so it contributes nothing.
    let private batchOffsets (batch: int[]) (operand: Operand) (start: int) =
        let count = Shape.numel batch
        let offsets = Array.zeroCreate count
        let rank = batch.Length
        let shift = rank - operand.Batch.Length
        let step =
            Array.init rank (fun i ->
                if i < shift || operand.Batch.[i - shift] = 1 then 0 else operand.BatchStrides.[i - shift])
        let index = Array.zeroCreate rank
        let mutable position = start
        for b in 0 .. count - 1 do
            offsets.[b] <- position
            // advance the odometer over the batch dimensions
            let mutable axis = rank - 1
            let mutable carry = b < count - 1
            while carry && axis >= 0 do
                index.[axis] <- index.[axis] + 1
                position <- position + step.[axis]
                if index.[axis] < batch.[axis] then carry <- false
                else
                    position <- position - step.[axis] * batch.[axis]
                    index.[axis] <- 0
                    axis <- axis - 1
        offsets

    /// True when every matrix of the batch reads the same B (a right operand broadcast over the
    /// batch: a weight shared by the examples).
    let private sameMatrix (offsets: int[]) =
        let mutable same = offsets.Length > 1
        let mutable i = 1
        while same && i < offsets.Length do
            same <- offsets.[i] = offsets.[0]
            i <- i + 1
        same

    /// matmul with explicit GEMM settings, into a given dense buffer when `into` has one. A B
    /// shared by the whole batch is packed once per run of the batch (in `shared` when not null,
    /// else in panels of this call) instead of once per matrix: the driver reads panels packed
    /// whole in the same block order, so the bits are those of packing it every time.
    let private matmulGeneral (settings: GemmSettings) (shared: PackedOperand) (into: System.Array option) (a: Tensor) (b: Tensor) : Tensor =
        if isNull (box a) then nullArg "a"
        if isNull (box b) then nullArg "b"
        // formatted only for an error: a compiled plan calls this on every run, and sprintf costs microseconds
        let describe () = sprintf "%s @ %s" (Shape.format a.Dims) (Shape.format b.Dims)
        if a.Rank = 0 || b.Rank = 0 then
            Shape.fail "MatMul" (sprintf "%s: both operands need at least one dimension" (describe ()))
        let left, right = asMatrices a true, asMatrices b false
        if left.Columns <> right.Rows then
            Shape.fail "MatMul" (sprintf "%s: inner dimensions %d and %d differ" (describe ()) left.Columns right.Rows)
        let batch = broadcastBatch describe left.Batch right.Batch
        let m, n, k = left.Rows, right.Columns, left.Columns
        let resultShape =
            Array.concat [ batch; (if a.Rank = 1 then [||] else [| m |]); (if b.Rank = 1 then [||] else [| n |]) ]
        // Mixed dtypes promote to float64, like torch; the float32 side is copied once.
        let dtype = if a.DType = DType.Float64 || b.DType = DType.Float64 then DType.Float64 else DType.Float32
        let a, b = a.Cast dtype, b.Cast dtype
        // Cast may have made a dense copy with new strides: read the layouts again.
        let left, right = asMatrices a true, asMatrices b false
        let aOffsets = batchOffsets batch left a.Offset
        let bOffsets = batchOffsets batch right b.Offset
        let count = aOffsets.Length
        let size = m * n
        let work = int64 m * int64 n * int64 k
        let bShared = sameMatrix bOffsets
        let multiply (settings: GemmSettings) (packed: PackedOperand) (result: System.Array) (i: int) =
            match dtype with
            | DType.Float32 ->
                GemmDriver.multiplyPacked32 settings m n k a.Data32 aOffsets.[i] left.RowStride left.ColumnStride
                                            b.Data32 bOffsets.[i] right.RowStride right.ColumnStride packed null 0 0
                                            (result :?> float32[]) (i * size) n
            | DType.Float64 ->
                GemmDriver.multiplyPacked64 settings m n k a.Data64 aOffsets.[i] left.RowStride left.ColumnStride
                                            b.Data64 bOffsets.[i] right.RowStride right.ColumnStride packed null 0 0
                                            (result :?> float[]) (i * size) n
        // The GEMM driver writes every element of C, so the runtime need not zero it first
        // (that would be a second pass over C, and a single-threaded one).
        let result: System.Array =
            match into with
            | Some (given: System.Array) -> given
            | None ->
                match dtype with
                | DType.Float32 -> RecycledArrays.Take<float32> (count * size)
                | DType.Float64 -> RecycledArrays.Take<float> (count * size)
        // Many matrices each too small to split: spread the batch over the cores instead.
        if count > 1 && work < int64 settings.ParallelWork && work * int64 count >= int64 settings.ParallelWork && settings.Threads > 1 then
            let serial = { settings with Threads = 1 }
            // a few matrices per part, so a worker that starts late still finds some
            let parts = min count (4 * settings.Threads)
            Workers.run parts (fun part ->
                // packed panels are not shared between threads: each part keeps its own
                let packed = if bShared then PackedOperand() else null
                for i in count * part / parts .. count * (part + 1) / parts - 1 do
                    multiply serial packed result i)
        else
            let packed =
                if not bShared then null
                elif isNull shared then PackedOperand()
                else
                    // B's values may have changed since the caller's panels were filled
                    shared.Invalidate()
                    shared
            for i in 0 .. count - 1 do
                multiply settings packed result i
        match result with
        | :? (float32[]) as data -> Tensor.OwnDense(resultShape, data)
        | data -> Tensor.OwnDense(resultShape, data :?> float[])

    /// matmul with explicit GEMM settings, so tests can reach every path of the driver.
    let internal matmulWith (settings: GemmSettings) (a: Tensor) (b: Tensor) : Tensor = matmulGeneral settings null None a b

    /// `matmulWith` packing a B shared by the batch into `shared`, so tests can count its packings.
    let internal matmulSharedWith (settings: GemmSettings) (shared: PackedOperand) (a: Tensor) (b: Tensor) : Tensor =
        matmulGeneral settings shared None a b

    /// The product of two operands of one dtype and rank 1 or 2 (shapes already checked), written
    /// into the dense buffer `result` of the product's size; for compiled plans, which call it on
    /// every run and so skip the general path's descriptions and batch tables. B's packed panels
    /// are kept in `packed` (when not null) for the next product by the same B. With `addend` not
    /// null (of the product's shape and dtype), the result is addend + the product, with the bits
    /// of the sum computed after the product.
    let internal matmulPackedInto (a: Tensor) (b: Tensor) (packed: PackedOperand) (addend: Tensor) (result: System.Array) : unit =
        // the layouts of asMatrices, read without allocating its records
        let ad, asd, bd, bsd = a.Dims, a.Strides, b.Dims, b.Strides
        let m, k, aRow, aColumn =
            if ad.Length = 1 then 1, ad.[0], 0, asd.[0] else ad.[0], ad.[1], asd.[0], asd.[1]
        let n, bRow, bColumn =
            if bd.Length = 1 then 1, bsd.[0], 0 else bd.[1], bsd.[0], bsd.[1]
        // the addend read as m rows of n, like C (a strided addend is made dense first, in the
        // thread's AddendScratch: the driver reads it before this thread's next product)
        let hasAddend = not (isNull (box addend))
        let dense = not hasAddend || addend.IsContiguous
        let addendOffset = if dense && hasAddend then addend.Offset else 0
        match a.DType with
        | DType.Float32 ->
            let addendData =
                if not hasAddend then null
                elif dense then addend.Data32
                else
                    let scratch = ThreadScratch<AddendScratch, float32>.Get(addend.Numel, 1 <<< 22)
                    Strided.copy addend.Data32 addend.Offset addend.Strides addend.Dims scratch
                    scratch
            GemmDriver.multiplyPacked32 GemmSettings.Default m n k a.Data32 a.Offset aRow aColumn
                                        b.Data32 b.Offset bRow bColumn packed addendData addendOffset n
                                        (result :?> float32[]) 0 n
        | DType.Float64 ->
            let addendData =
                if not hasAddend then null
                elif dense then addend.Data64
                else
                    let scratch = ThreadScratch<AddendScratch, float>.Get(addend.Numel, 1 <<< 22)
                    Strided.copy addend.Data64 addend.Offset addend.Strides addend.Dims scratch
                    scratch
            GemmDriver.multiplyPacked64 GemmSettings.Default m n k a.Data64 a.Offset aRow aColumn
                                        b.Data64 b.Offset bRow bColumn packed addendData addendOffset n
                                        (result :?> float[]) 0 n

    /// `matmulPackedInto` without keeping B's panels or an addend.
    let internal matmulInto (a: Tensor) (b: Tensor) (result: System.Array) : unit = matmulPackedInto a b null Unchecked.defaultof<Tensor> result

    /// matmul of any operands (batches, mixed dtypes) into a dense buffer of the product's size.
    let internal matmulGeneralInto (a: Tensor) (b: Tensor) (result: System.Array) : unit =
        matmulGeneral GemmSettings.Default null (Some result) a b |> ignore

    /// The matrix product with torch.matmul semantics: 1-D · 1-D is a dot product (rank 0);
    /// 2-D · 2-D is the matrix product; a 1-D operand acts as a row (left) or column (right)
    /// whose unit dimension is removed from the result; operands of rank ≥ 3 are stacks of
    /// matrices whose batch dimensions broadcast. float32 with float64 gives float64.
    /// Transposed and other strided views are read in place, without a copy.
    let matmul (a: Tensor) (b: Tensor) : Tensor = matmulWith GemmSettings.Default a b
