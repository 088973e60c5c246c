/// Elementwise: unary and binary maps with broadcasting, `where`, and `cast`. Each kernel is
/// written once, generic over the element type; the JIT specialises it for float and float32.
/// Contiguous runs go to TensorPrimitives (vectorised); the rest are scalar loops.
namespace FunctionalDiff.Core

#nowarn "9" "51" // the address of a local, read to learn the stack alignment, and stack padding

open System
open System.Diagnostics
open System.Numerics
open System.Runtime.CompilerServices
open Microsoft.FSharp.NativeInterop
open KernelSupport

/// Elementwise kernels over Tensors.
module Elementwise =

    /// Applies a float64 function to every element, rounding once for float32.
    let private mapThroughDouble<'T when 'T :> IFloatingPointIeee754<'T>>
        (f: float -> float) (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        for i in 0 .. x.Length - 1 do
            y.[i] <- 'T.CreateTruncating(f (Double.CreateTruncating x.[i]))

    /// One unary op over a contiguous run.
    let private unarySpan<'T when 'T :> IFloatingPointIeee754<'T>> (op: UnaryOp) (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        match op with
        | UnaryOp.Neg -> Tensors.TensorPrimitives.Negate(x, y)
        | UnaryOp.Exp -> Tensors.TensorPrimitives.Exp(x, y)
        | UnaryOp.Log -> Tensors.TensorPrimitives.Log(x, y)
        | UnaryOp.Log1p -> mapThroughDouble Special.log1p x y
        | UnaryOp.Expm1 -> mapThroughDouble Special.expm1 x y
        | UnaryOp.Sin -> Tensors.TensorPrimitives.Sin(x, y)
        | UnaryOp.Cos -> Tensors.TensorPrimitives.Cos(x, y)
        | UnaryOp.Tan -> Tensors.TensorPrimitives.Tan(x, y)
        | UnaryOp.Tanh -> Tensors.TensorPrimitives.Tanh(x, y)
        // 1/(1+e^{-x}): e^{-x} overflows to +inf for x ≪ 0 and the result is then exactly 0, never NaN
        | UnaryOp.Sigmoid -> Tensors.TensorPrimitives.Sigmoid(x, y)
        // Max propagates NaN, so relu(NaN) = NaN as in torch
        | UnaryOp.Relu -> Tensors.TensorPrimitives.Max(x, 'T.Zero, y)
        | UnaryOp.Abs -> Tensors.TensorPrimitives.Abs(x, y)
        | UnaryOp.Sign -> mapThroughDouble Special.sign x y
        | UnaryOp.Sqrt -> Tensors.TensorPrimitives.Sqrt(x, y)
        | UnaryOp.Rsqrt -> Tensors.TensorPrimitives.ReciprocalSqrt(x, y)
        | UnaryOp.Square -> Tensors.TensorPrimitives.Multiply(x, x, y)
        | UnaryOp.Reciprocal -> Tensors.TensorPrimitives.Reciprocal(x, y)
        | UnaryOp.Erf -> mapThroughDouble Special.erf x y
        | UnaryOp.Floor -> Tensors.TensorPrimitives.Floor(x, y)
        | UnaryOp.Ceil -> Tensors.TensorPrimitives.Ceiling(x, y)
        | UnaryOp.Round -> Tensors.TensorPrimitives.Round(x, MidpointRounding.ToEven, y)

    /// Transcendental ops cost enough per element to go parallel earlier than memory-bound ones.
    let private unaryThreshold (op: UnaryOp) =
        match op with
        | UnaryOp.Exp | UnaryOp.Log | UnaryOp.Log1p | UnaryOp.Expm1 | UnaryOp.Sin | UnaryOp.Cos | UnaryOp.Tan
        | UnaryOp.Tanh | UnaryOp.Sigmoid | UnaryOp.Erf -> parallelThresholdCostly
        | _ -> parallelThresholdCheap

    /// The vectorised transcendental kernels of TensorPrimitives (.NET 10, AVX-512) spill vectors
    /// to the stack, and the JIT aligns frames to 16 bytes only: when the stack pointer at the
    /// call is 16 bytes off a 32-byte boundary the same call runs 1.7 to 3.6 times slower
    /// (float32 Exp over 16K elements: 9.5 vs 24.6 µs; float64 Tanh: 24 vs 89 µs). Which of
    /// the two alignments is the fast one depends on the caller's stack depth, so it varied
    /// from process to process. These ops therefore go through `Aligned.Unary`.
    let internal hasAlignmentCost (op: UnaryOp) =
        match op with
        | UnaryOp.Exp | UnaryOp.Log | UnaryOp.Sin | UnaryOp.Cos | UnaryOp.Tan | UnaryOp.Tanh | UnaryOp.Sigmoid -> true
        | _ -> false

    /// Calls `unarySpan` from a frame whose address modulo 32 is `wanted` (0 or 16; any other
    /// value: as it comes). A frame at the other alignment re-enters through `Padded`, which
    /// lowers the stack by 16 bytes, then by 32 when the frames between add up to an odd
    /// multiple of 16; so the third entry at the latest has the wanted alignment. (Static
    /// members, because generic functions cannot be mutually recursive over span arguments.)
    [<AbstractClass; Sealed>]
    type internal Aligned =
        [<MethodImpl(MethodImplOptions.NoInlining)>]
        static member Unary<'T when 'T :> IFloatingPointIeee754<'T>>
            (op: UnaryOp, x: ReadOnlySpan<'T>, y: Span<'T>, wanted: int, depth: int) : unit =
            let mutable marker = 0
            let alignment = int (NativePtr.toNativeInt &&marker &&& 31n)
            if (wanted <> 0 && wanted <> 16) || alignment &&& 16 = wanted || depth >= 2 then unarySpan op x y
            else Aligned.Padded(op, x, y, wanted, depth + 1)

        [<MethodImpl(MethodImplOptions.NoInlining)>]
        static member Padded<'T when 'T :> IFloatingPointIeee754<'T>>
            (op: UnaryOp, x: ReadOnlySpan<'T>, y: Span<'T>, wanted: int, depth: int) : unit =
            let padding = NativePtr.stackalloc<byte> (16 * depth)
            NativePtr.write padding 0uy
            Aligned.Unary(op, x, y, wanted, depth)
            // read after the call so the padding stays allocated until then
            NativePtr.read padding |> ignore

    /// Which alignment (0 or 16) of `Aligned.Unary`'s frame makes Exp fast, by element type;
    /// -1 until measured, 32 when neither is clearly faster. One measurement per process and
    /// dtype, about 0.1 ms; the other transcendental ops share Exp's spill pattern (measured:
    /// Exp, Log, Sin, Tanh and Sigmoid in both dtypes are fast at the same alignment).
    let private fastAlignment = [| -1; -1 |]

    let private measureAlignment<'T when 'T :> IFloatingPointIeee754<'T>> () =
        let x = Array.init 2048 (fun i -> 'T.CreateTruncating(float (i % 64) / 32.0 - 1.0))
        let y = Array.zeroCreate<'T> x.Length
        let best = [| Double.MaxValue; Double.MaxValue |]
        for trial in 0 .. 11 do
            let side = trial % 2
            let start = Stopwatch.GetTimestamp()
            Aligned.Unary(UnaryOp.Exp, ReadOnlySpan x, Span y, 16 * side, 0)
            best.[side] <- min best.[side] (float (Stopwatch.GetTimestamp() - start))
        // trials 0 and 1 include the first call's cache misses; the minimum discards them
        if best.[0] < 0.8 * best.[1] then 0 elif best.[1] < 0.8 * best.[0] then 16 else 32

    /// The alignment `Aligned.Unary` should ask for with element type 'T.
    let internal alignmentFor<'T when 'T :> IFloatingPointIeee754<'T>> () =
        let slot = if typeof<'T> = typeof<float> then 0 else 1
        if fastAlignment.[slot] < 0 then fastAlignment.[slot] <- measureAlignment<'T> ()
        fastAlignment.[slot]

    /// `op` over `x` called from a frame at the alignment `wanted` (0 or 16 modulo 32; any other
    /// value: as it comes). For tests, which check each alignment against System.Math.
    let internal unaryFromFrame<'T when 'T :> IFloatingPointIeee754<'T>> (wanted: int) (op: UnaryOp) (x: 'T[]) : 'T[] =
        let y = Array.zeroCreate<'T> x.Length
        Aligned.Unary(op, ReadOnlySpan x, Span y, wanted, 0)
        y

    let private unaryDense<'T when 'T :> IFloatingPointIeee754<'T>> (op: UnaryOp) (t: Tensor) : 'T[] =
        let source = storage<'T> t
        let offset = t.Offset
        let result = RecycledArrays.Take<'T> t.Numel
        // 32: any frame will do
        let wanted = if hasAlignmentCost op then alignmentFor<'T> () else 32
        forChunksFrom (unaryThreshold op) t.Numel (fun start length ->
            Aligned.Unary(op, ReadOnlySpan(source, offset + start, length), Span(result, start, length), wanted, 0))
        result

    /// Applies a unary op to every element. Views are read through their strides.
    let unary (op: UnaryOp) (t: Tensor) : Tensor =
        let t = dense t
        match t.DType with
        | DType.Float64 -> Tensor.OwnDense(t.Shape, unaryDense<float> op t)
        | DType.Float32 -> Tensor.OwnDense(t.Shape, unaryDense<float32> op t)

    /// 1 when the comparison holds, else 0. Comparisons with NaN are false except NotEqual.
    let private compare<'T when 'T :> IFloatingPointIeee754<'T>> (op: BinaryOp) (a: 'T) (b: 'T) : 'T =
        let holds =
            match op with
            | BinaryOp.Less -> 'T.op_LessThan(a, b)
            | BinaryOp.LessEqual -> 'T.op_LessThanOrEqual(a, b)
            | BinaryOp.Greater -> 'T.op_GreaterThan(a, b)
            | BinaryOp.GreaterEqual -> 'T.op_GreaterThanOrEqual(a, b)
            | BinaryOp.Equal -> 'T.op_Equality(a, b)
            | _ -> 'T.op_Inequality(a, b)
        if holds then 'T.One else 'T.Zero

    /// One binary op on scalars: the reference the strided fallback uses.
    let private binaryScalar<'T when 'T :> IFloatingPointIeee754<'T>> (op: BinaryOp) (a: 'T) (b: 'T) : 'T =
        match op with
        | BinaryOp.Add -> a + b
        | BinaryOp.Sub -> a - b
        | BinaryOp.Mul -> a * b
        | BinaryOp.Div -> a / b
        | BinaryOp.Pow -> 'T.Pow(a, b)
        | BinaryOp.Maximum -> 'T.Max(a, b)
        | BinaryOp.Minimum -> 'T.Min(a, b)
        | BinaryOp.Atan2 -> 'T.Atan2(a, b)
        | _ -> compare op a b

    /// True for the ops TensorPrimitives computes on spans; comparisons it does not.
    let private hasSpanKernel (op: BinaryOp) =
        match op with
        | BinaryOp.Add | BinaryOp.Sub | BinaryOp.Mul | BinaryOp.Div | BinaryOp.Pow
        | BinaryOp.Maximum | BinaryOp.Minimum | BinaryOp.Atan2 -> true
        | _ -> false

    /// One binary op over runs with strides 0 or 1 each: whole spans, or a span against a
    /// repeated scalar, go to TensorPrimitives; comparisons are plain loops.
    let internal binaryRun<'T when 'T :> IFloatingPointIeee754<'T>>
        (op: BinaryOp) (a: 'T[]) (aStart: int) (aStride: int) (b: 'T[]) (bStart: int) (bStride: int)
        (result: 'T[]) (start: int) (length: int) =
        let y = Span(result, start, length)
        match aStride, bStride with
        | 1, 1 when hasSpanKernel op ->
            let x = ReadOnlySpan(a, aStart, length)
            let z = ReadOnlySpan(b, bStart, length)
            match op with
            | BinaryOp.Add -> Tensors.TensorPrimitives.Add(x, z, y)
            | BinaryOp.Sub -> Tensors.TensorPrimitives.Subtract(x, z, y)
            | BinaryOp.Mul -> Tensors.TensorPrimitives.Multiply(x, z, y)
            | BinaryOp.Div -> Tensors.TensorPrimitives.Divide(x, z, y)
            | BinaryOp.Pow -> Tensors.TensorPrimitives.Pow(x, z, y)
            | BinaryOp.Maximum -> Tensors.TensorPrimitives.Max(x, z, y)
            | BinaryOp.Minimum -> Tensors.TensorPrimitives.Min(x, z, y)
            | _ -> Tensors.TensorPrimitives.Atan2(x, z, y)
        | 1, 0 when hasSpanKernel op ->
            let x = ReadOnlySpan(a, aStart, length)
            let s = b.[bStart]
            match op with
            | BinaryOp.Add -> Tensors.TensorPrimitives.Add(x, s, y)
            | BinaryOp.Sub -> Tensors.TensorPrimitives.Subtract(x, s, y)
            | BinaryOp.Mul -> Tensors.TensorPrimitives.Multiply(x, s, y)
            | BinaryOp.Div -> Tensors.TensorPrimitives.Divide(x, s, y)
            | BinaryOp.Pow -> Tensors.TensorPrimitives.Pow(x, s, y)
            | BinaryOp.Maximum -> Tensors.TensorPrimitives.Max(x, s, y)
            | BinaryOp.Minimum -> Tensors.TensorPrimitives.Min(x, s, y)
            | _ -> Tensors.TensorPrimitives.Atan2(x, s, y)
        | 0, 1 when hasSpanKernel op ->
            let s = a.[aStart]
            let z = ReadOnlySpan(b, bStart, length)
            match op with
            // the commutative ops swap their operands; the others have scalar-first overloads
            | BinaryOp.Add -> Tensors.TensorPrimitives.Add(z, s, y)
            | BinaryOp.Mul -> Tensors.TensorPrimitives.Multiply(z, s, y)
            | BinaryOp.Maximum -> Tensors.TensorPrimitives.Max(z, s, y)
            | BinaryOp.Minimum -> Tensors.TensorPrimitives.Min(z, s, y)
            | BinaryOp.Sub -> Tensors.TensorPrimitives.Subtract(s, z, y)
            | BinaryOp.Div -> Tensors.TensorPrimitives.Divide(s, z, y)
            | BinaryOp.Pow -> Tensors.TensorPrimitives.Pow(s, z, y)
            | _ -> Tensors.TensorPrimitives.Atan2(s, z, y)
        | _ ->
            let mutable i = aStart
            let mutable j = bStart
            for k in 0 .. length - 1 do
                y.[k] <- binaryScalar op a.[i] b.[j]
                i <- i + aStride
                j <- j + bStride

    let private binaryTyped<'T when 'T :> IFloatingPointIeee754<'T>>
        (op: BinaryOp) (a: Tensor) (b: Tensor) (outShape: int[]) : 'T[] =
        let n = Shape.numel outShape
        let result = RecycledArrays.Take<'T> n
        let forChunks = forChunksFrom (match op with BinaryOp.Pow | BinaryOp.Atan2 -> parallelThresholdCostly | _ -> parallelThresholdCheap)
        // a one-element operand's value sits at its Offset whatever its strides
        let flat (t: Tensor) = t.IsContiguous && t.Numel = n
        if n = 0 then ()
        elif flat a && flat b then
            // same shape: one flat run, split for threads
            let aData, bData = storage<'T> a, storage<'T> b
            forChunks n (fun start length ->
                binaryRun op aData (a.Offset + start) 1 bData (b.Offset + start) 1 result start length)
        elif flat a && b.Numel = 1 then
            let aData, bData = storage<'T> a, storage<'T> b
            forChunks n (fun start length ->
                binaryRun op aData (a.Offset + start) 1 bData b.Offset 0 result start length)
        elif a.Numel = 1 && flat b then
            let aData, bData = storage<'T> a, storage<'T> b
            forChunks n (fun start length ->
                binaryRun op aData a.Offset 0 bData (b.Offset + start) 1 result start length)
        else
            let operands, plan = planOperands outShape [| a; b |]
            let a, b = operands.[0], operands.[1]
            let aData, bData = storage<'T> a, storage<'T> b
            forRows plan (fun row starts ->
                binaryRun op aData (a.Offset + starts.[0]) plan.InnerStrides.[0]
                    bData (b.Offset + starts.[1]) plan.InnerStrides.[1] result (row * plan.Length) plan.Length)
        result

    /// The op's name for error messages; a fixed table because sprintf "%A" costs tens of microseconds.
    let private opName (op: BinaryOp) =
        match op with
        | BinaryOp.Add -> "Add"
        | BinaryOp.Sub -> "Sub"
        | BinaryOp.Mul -> "Mul"
        | BinaryOp.Div -> "Div"
        | BinaryOp.Pow -> "Pow"
        | BinaryOp.Maximum -> "Maximum"
        | BinaryOp.Minimum -> "Minimum"
        | BinaryOp.Atan2 -> "Atan2"
        | BinaryOp.Less -> "Less"
        | BinaryOp.LessEqual -> "LessEqual"
        | BinaryOp.Greater -> "Greater"
        | BinaryOp.GreaterEqual -> "GreaterEqual"
        | BinaryOp.Equal -> "Equal"
        | BinaryOp.NotEqual -> "NotEqual"

    /// Applies a binary op with NumPy/torch broadcasting. Mixed dtypes compute in float64.
    let binary (op: BinaryOp) (a: Tensor) (b: Tensor) : Tensor =
        let outShape = Shape.broadcast (opName op) a.Dims b.Dims
        let dtype = promote a.DType b.DType
        let a = a.Cast dtype
        let b = b.Cast dtype
        match dtype with
        | DType.Float64 -> Tensor.OwnDense(outShape, binaryTyped<float> op a b outShape)
        | DType.Float32 -> Tensor.OwnDense(outShape, binaryTyped<float32> op a b outShape)

    let private whereTyped<'M, 'T when 'M :> IFloatingPointIeee754<'M>>
        (mask: Tensor) (ifTrue: Tensor) (ifFalse: Tensor) (outShape: int[]) : 'T[] =
        let operands, plan = planOperands outShape [| mask; ifTrue; ifFalse |]
        let mask, ifTrue, ifFalse = operands.[0], operands.[1], operands.[2]
        let m, t, f = storage<'M> mask, storage<'T> ifTrue, storage<'T> ifFalse
        let result = RecycledArrays.Take<'T> (Shape.numel outShape)
        let ms, ts, fs = plan.InnerStrides.[0], plan.InnerStrides.[1], plan.InnerStrides.[2]
        if result.Length > 0 then
            forRows plan (fun row starts ->
                let mutable i = mask.Offset + starts.[0]
                let mutable j = ifTrue.Offset + starts.[1]
                let mutable k = ifFalse.Offset + starts.[2]
                let start = row * plan.Length
                for p in start .. start + plan.Length - 1 do
                    // NaN counts as true, as bool(nan) does in torch
                    result.[p] <- if 'M.op_Inequality(m.[i], 'M.Zero) then t.[j] else f.[k]
                    i <- i + ms
                    j <- j + ts
                    k <- k + fs)
        result

    let private whereMasked<'T> (mask: Tensor) (ifTrue: Tensor) (ifFalse: Tensor) (outShape: int[]) : 'T[] =
        match mask.DType with
        | DType.Float64 -> whereTyped<float, 'T> mask ifTrue ifFalse outShape
        | DType.Float32 -> whereTyped<float32, 'T> mask ifTrue ifFalse outShape

    /// Picks `ifTrue` where `mask` is nonzero and `ifFalse` elsewhere; all three broadcast.
    /// The result has the promoted dtype of the two value tensors.
    let where (mask: Tensor) (ifTrue: Tensor) (ifFalse: Tensor) : Tensor =
        let outShape = Shape.broadcastMany "Where" [ mask.Dims; ifTrue.Dims; ifFalse.Dims ]
        let dtype = promote ifTrue.DType ifFalse.DType
        let ifTrue = ifTrue.Cast dtype
        let ifFalse = ifFalse.Cast dtype
        match dtype with
        | DType.Float64 -> Tensor.OwnDense(outShape, whereMasked<float> mask ifTrue ifFalse outShape)
        | DType.Float32 -> Tensor.OwnDense(outShape, whereMasked<float32> mask ifTrue ifFalse outShape)

    /// The same values in another dtype (a dense copy unless the dtype already matches).
    let cast (dtype: DType) (t: Tensor) : Tensor = t.Cast dtype
