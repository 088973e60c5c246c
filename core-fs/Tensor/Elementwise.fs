/// Elementwise: unary and binary maps with broadcasting, `where`, and `cast`. Each kernel is
/// written once, generic over the element type; the JIT specialises it for float and float32.
/// Contiguous runs go to SpanKernels or TensorPrimitives (vectorised); the rest are scalar loops.
namespace FunctionalDiff.Core

#nowarn "9" "51" // the address of a local, read to learn the stack alignment, and stack padding

open System
open System.Diagnostics
open System.Numerics
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open System.Runtime.Intrinsics
open Microsoft.FSharp.NativeInterop
open KernelSupport

/// Elementwise kernels over Tensors.
module Elementwise =

    /// Applies a float64 function to every element, rounding once for float32.
    let private mapThroughDouble<'T when 'T :> IFloatingPointIeee754<'T>>
        (f: float -> float) (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        for i in 0 .. x.Length - 1 do
            y.[i] <- 'T.CreateTruncating(f (Double.CreateTruncating x.[i]))

    /// The transcendental functions with a vectorised float64 kernel of our own.
    [<RequireQualifiedAccess>]
    type private VectorFunction =
        | Exp | Log | Sin | Cos | Tanh | Sigmoid | Expm1 | Log1p | Softplus

    /// The vectorised float64 kernel of the function (lengths are multiples of 16).
    let private vectorKernel (f: VectorFunction) (x: ReadOnlySpan<float>) (y: Span<float>) =
        match f with
        | VectorFunction.Exp -> Transcendental.exp x y
        | VectorFunction.Log -> Transcendental.log x y
        | VectorFunction.Sin -> Transcendental.sin x y
        | VectorFunction.Cos -> Transcendental.cos x y
        | VectorFunction.Tanh -> Transcendental.tanh x y
        | VectorFunction.Sigmoid -> Transcendental.sigmoid x y
        | VectorFunction.Expm1 -> Transcendental.expm1 x y
        | VectorFunction.Log1p -> Transcendental.log1p x y
        | VectorFunction.Softplus -> Transcendental.softplus x y

    /// The inputs the vector kernel takes, as bounds on |x| (or on x for log): where its range
    /// reduction and polynomial are accurate to a few ulp and its results are normal numbers.
    /// System.Math takes the rest (non-finite, huge, subnormal, non-positive for log, and the
    /// exact zeros of sin and tanh, whose sign the kernels would lose). NaN fails both bounds.
    let private vectorDomain (f: VectorFunction) : struct (bool * float * float) =
        match f with
        | VectorFunction.Exp | VectorFunction.Sigmoid -> struct (true, 0.0, 700.0)
        | VectorFunction.Log -> struct (false, 1e-300, 1e300)
        | VectorFunction.Sin -> struct (true, Double.Epsilon, 1048576.0)
        | VectorFunction.Cos -> struct (true, 0.0, 1048576.0)
        | VectorFunction.Tanh -> struct (true, Double.Epsilon, Double.PositiveInfinity)
        | VectorFunction.Expm1 -> struct (true, 0.0, 700.0)
        // 1 + x normal, x finite; ±0 and tiny x are x itself in the kernel
        | VectorFunction.Log1p -> struct (false, -0.9999999999999999, 1e300)
        | VectorFunction.Softplus -> struct (true, 0.0, 700.0)

    /// A value inside the domain that stands in for the elements computed by System.Math.
    let private standIn (f: VectorFunction) =
        match f with
        | VectorFunction.Log | VectorFunction.Tanh | VectorFunction.Expm1 -> 1.0
        | VectorFunction.Exp | VectorFunction.Sin | VectorFunction.Cos | VectorFunction.Sigmoid | VectorFunction.Log1p
        | VectorFunction.Softplus -> 0.0

    /// The scalar function for inputs outside the vector domain.
    let private scalarKernel (f: VectorFunction) (x: float) =
        match f with
        | VectorFunction.Exp -> Math.Exp x
        | VectorFunction.Log -> Math.Log x
        | VectorFunction.Sin -> Math.Sin x
        | VectorFunction.Cos -> Math.Cos x
        | VectorFunction.Tanh -> Math.Tanh x
        // e^{-x} overflows to +inf for x ≪ 0 and the result is then exactly 0, never NaN
        | VectorFunction.Sigmoid -> 1.0 / (1.0 + Math.Exp(-x))
        | VectorFunction.Expm1 -> Special.expm1 x
        | VectorFunction.Log1p -> Special.log1p x
        | VectorFunction.Softplus -> Special.softplus x

    /// Elements per call of the vector kernel: a 4 KB block of float64 in and out.
    let private isolationBlock = 512

    /// The block buffers of `isolated`, one set per thread, each `isolationBlock` long.
    type private IsolationBuffers private () =
        [<ThreadStatic; DefaultValue>]
        static val mutable private floats: float[][]
        [<ThreadStatic; DefaultValue>]
        static val mutable private positions: int[]

        static member Floats(k: int) : float[] =
            if isNull IsolationBuffers.floats then
                IsolationBuffers.floats <- Array.init 3 (fun _ -> Array.zeroCreate<float> isolationBlock)
            IsolationBuffers.floats.[k]

        static member Positions() : int[] =
            if isNull IsolationBuffers.positions then IsolationBuffers.positions <- Array.zeroCreate<int> isolationBlock
            IsolationBuffers.positions

    /// Whether every element lies inside the vector kernel's domain (NaN fails both bounds),
    /// tested four vectors at a time (lengths are multiples of 16). The lanes' verdicts are
    /// and-ed together without a branch per vector: a block is almost always wholly inside.
    let private allInside (x: ReadOnlySpan<float>) (onMagnitude: bool) (low: float) (high: float) =
        let lowV, highV = Vector256.Create low, Vector256.Create high
        let inline inside (v: Vector256<float>) =
            let bounded = if onMagnitude then Vector256.Abs v else v
            Vector256.GreaterThanOrEqual(bounded, lowV) &&& Vector256.LessThanOrEqual(bounded, highV)
        let mutable verdict = Vector256<float>.AllBitsSet
        let mutable i = 0
        while i < x.Length do
            let a = inside (Vector256.Create<float>(x.Slice(i, 4))) &&& inside (Vector256.Create<float>(x.Slice(i + 4, 4)))
            let b = inside (Vector256.Create<float>(x.Slice(i + 8, 4))) &&& inside (Vector256.Create<float>(x.Slice(i + 12, 4)))
            verdict <- verdict &&& a &&& b
            i <- i + 16
        Vector256.EqualsAll(verdict.AsInt64(), Vector256<int64>.AllBitsSet)

    /// x as float64 (exact): SpanKernels' widening for float32, a copy for float64 (TensorPrimitives'
    /// generic conversion started unoptimised under tiered compilation).
    let private toDouble<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<float>) =
        if Type.op_Equality(typeof<'T>, typeof<float32>) then
            SpanKernels.widen (MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, float32>(&MemoryMarshal.GetReference x), x.Length)) y
        elif Type.op_Equality(typeof<'T>, typeof<float>) then
            MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, float>(&MemoryMarshal.GetReference x), x.Length).CopyTo y
        else Tensors.TensorPrimitives.ConvertTruncating<'T, float>(x, y)

    /// x rounded to 'T (to nearest, as a cast), the inverse of toDouble.
    let private fromDouble<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<float>) (y: Span<'T>) =
        if Type.op_Equality(typeof<'T>, typeof<float32>) then
            SpanKernels.narrow x (MemoryMarshal.CreateSpan(&Unsafe.As<'T, float32>(&MemoryMarshal.GetReference y), y.Length))
        elif Type.op_Equality(typeof<'T>, typeof<float>) then
            x.CopyTo(MemoryMarshal.CreateSpan(&Unsafe.As<'T, float>(&MemoryMarshal.GetReference y), y.Length))
        else Tensors.TensorPrimitives.ConvertTruncating<float, 'T>(x, y)

    /// A transcendental function whose result for each element depends on that element's value
    /// only (never on its position, its neighbours, the array's alignment or the JIT tier), in
    /// both dtypes. Each block is copied into float64 with the out-of-domain elements replaced
    /// by a stand-in and padded to whole vectors, then the out-of-domain elements are computed by
    /// System.Math. float32 sin and cos are computed in float64 and rounded once (float32 exp, expm1,
    /// log, log1p, tanh, sigmoid and softplus have kernels of their own): TensorPrimitives' float32
    /// kernels missed the dtype's accuracy (exp 0 = 1.0000001, tanh's relative error 4.6e-2 at
    /// 1e-6), and its float64 ones were not reproducible (a vector with one lane out of range
    /// ran scalar code for all its lanes, and the last bit changed with the JIT tier).
    let private isolated<'T when 'T :> IFloatingPointIeee754<'T>> (f: VectorFunction) (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        // A float64 block wholly inside the domain goes straight from x to y: the kernel computes
        // each lane from its own element, so the bits are those of the copied path; the kernels
        // read each vector before writing it, so y may be x itself, but not a shifted x.
        let direct =
            let mutable shift = 0
            Type.op_Equality(typeof<'T>, typeof<float>)
            && (not (MemoryExtensions.Overlaps(x, Span<'T>.op_Implicit y, &shift)) || shift = 0)
        let x64 = if direct then MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, float>(&MemoryMarshal.GetReference x), x.Length) else ReadOnlySpan<float>.Empty
        let y64 = if direct then MemoryMarshal.CreateSpan(&Unsafe.As<'T, float>(&MemoryMarshal.GetReference y), y.Length) else Span<float>.Empty
        let capacity = min isolationBlock ((x.Length + 15) &&& ~~~15)
        // per-thread blocks (a call runs on one thread from start to end), so a call allocates nothing
        let input = IsolationBuffers.Floats(0)
        let output = IsolationBuffers.Floats(1)
        // the elements left to System.Math: their positions in the block and their values
        let outsidePositions = IsolationBuffers.Positions()
        let outsideValues = IsolationBuffers.Floats(2)
        let stand = standIn f
        let struct (onMagnitude, low, high) = vectorDomain f
        let mutable start = 0
        while start < x.Length do
            let n = min capacity (x.Length - start)
            if direct && n &&& 15 = 0 && allInside (x64.Slice(start, n)) onMagnitude low high then
                vectorKernel f (x64.Slice(start, n)) (y64.Slice(start, n))
            else
                let padded = (n + 15) &&& ~~~15
                toDouble (x.Slice(start, n)) (Span(input, 0, n))
                for i in n .. padded - 1 do
                    input.[i] <- stand
                let mutable outside = 0
                // the vector test first: a float32 block is almost always wholly inside, and the
                // element-by-element search cost more than the kernel
                if not (allInside (ReadOnlySpan(input, 0, padded)) onMagnitude low high) then
                    for i in 0 .. n - 1 do
                        let v = input.[i]
                        let bounded = if onMagnitude then abs v else v
                        if not (bounded >= low && bounded <= high) then
                            outsidePositions.[outside] <- i
                            outsideValues.[outside] <- v
                            outside <- outside + 1
                            input.[i] <- stand
                vectorKernel f (ReadOnlySpan(input, 0, padded)) (Span(output, 0, padded))
                // float64 -> float32 rounds to nearest, as a cast does
                fromDouble (ReadOnlySpan(output, 0, n)) (y.Slice(start, n))
                for k in 0 .. outside - 1 do
                    y.[start + outsidePositions.[k]] <- 'T.CreateTruncating(scalarKernel f outsideValues.[k])
            start <- start + n

    /// e^x over a float64 run into y (y may be x itself, not a shifted x): the vector kernel, and
    /// System.Math outside its domain. For kernels of other ops that exponentiate (softmax).
    let internal expRun (x: ReadOnlySpan<float>) (y: Span<float>) = isolated VectorFunction.Exp x y

    /// The float32 kernels of Transcendental, which take every input and length themselves, so
    /// need none of `isolated`'s copying and sorting (the ops the LSTM and the float32 chains
    /// spend their time in); float32 sin and cos still go through `isolated`.
    [<RequireQualifiedAccess>]
    type private SingleFunction =
        | Exp | Log | Tanh | Sigmoid | Expm1 | Log1p | Softplus

    /// The function over 'T spans: the float32 kernel when 'T is float32 (a test the JIT folds
    /// away), `isolated` otherwise.
    let private singleOrIsolated<'T when 'T :> IFloatingPointIeee754<'T>>
        (f: SingleFunction) (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if Type.op_Equality(typeof<'T>, typeof<float32>) then
            let x32 = MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, float32>(&MemoryMarshal.GetReference x), x.Length)
            let y32 = MemoryMarshal.CreateSpan(&Unsafe.As<'T, float32>(&MemoryMarshal.GetReference y), y.Length)
            match f with
            | SingleFunction.Exp -> Transcendental.exp32 x32 y32
            | SingleFunction.Log -> Transcendental.log32 x32 y32
            | SingleFunction.Tanh -> Transcendental.tanh32 x32 y32
            | SingleFunction.Sigmoid -> Transcendental.sigmoid32 x32 y32
            | SingleFunction.Expm1 -> Transcendental.expm132 x32 y32
            | SingleFunction.Log1p -> Transcendental.log1p32 x32 y32
            | SingleFunction.Softplus -> Transcendental.softplus32 x32 y32
        else
            match f with
            | SingleFunction.Exp -> isolated VectorFunction.Exp x y
            | SingleFunction.Log -> isolated VectorFunction.Log x y
            | SingleFunction.Tanh -> isolated VectorFunction.Tanh x y
            | SingleFunction.Sigmoid -> isolated VectorFunction.Sigmoid x y
            | SingleFunction.Expm1 -> isolated VectorFunction.Expm1 x y
            | SingleFunction.Log1p -> isolated VectorFunction.Log1p x y
            | SingleFunction.Softplus -> isolated VectorFunction.Softplus x y

    /// The slopes of sigmoid and tanh, over blocks that stay in the first-level cache, so x is read
    /// once and y written once. y may be x itself (a plan runs unary ops in place): each block of x
    /// is read into the scratch before the same block of y is written.
    ///
    /// σ'(x) = e^−|x| / (1 + e^−|x|)², the form Special.sigmoidSlope keeps for constant folding: one
    /// vectorised exp per element, and nothing cancels (σ(x)(1 − σ(x)) loses every digit where σ(x)
    /// rounds to 1). As σ(x)·σ(−x), two sigmoid passes and a product over the whole run, sigmoid's
    /// gradient over 1M float32 entries cost about twice tanh's.
    ///
    /// tanh's slope (1 − y)(1 + y) at y = tanh x as the Tanh kernel rounds it, the form of Special.tanhSlope: exactly 0
    /// where y is ±1, and the slope of the function as computed, so a step after tanh that is singular at ±1 (erfinv,
    /// atanh, log(1 − y)) meets the y it was given: sech² x itself, exact, was 16% off (1 − y)(1 + y) at float32's
    /// rounded tanh 8.4, and the second derivative of erfinv(tanh x) there 5× off (`fuzz 21/827`, float32). 1 − y is
    /// exact for y ≥ 1/2 (Sterbenz), so this is within an ulp or two of (1 − y²) computed exactly.
    let private slopeSpan<'T when 'T :> IFloatingPointIeee754<'T>> (ofTanh: bool) (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        let n = x.Length
        if not ofTanh && Type.op_Equality(typeof<'T>, typeof<float32>) then
            // the three passes below in one (Transcendental.sigmoidSlope32: the same operations, the same bits)
            Transcendental.sigmoidSlope32
                (MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, float32>(&MemoryMarshal.GetReference x), n))
                (MemoryMarshal.CreateSpan(&Unsafe.As<'T, float32>(&MemoryMarshal.GetReference y), n))
        else
            let block = min n 2048
            let scratch = Buffers.ArrayPool<'T>.Shared.Rent(max block 1)
            try
                let mutable start = 0
                while start < n do
                    let count = min block (n - start)
                    let t = Span(scratch, 0, count)
                    let out = y.Slice(start, count)
                    if ofTanh then
                        singleOrIsolated SingleFunction.Tanh (x.Slice(start, count)) t
                        SpanKernels.scalarSubtract 'T.One (Span<'T>.op_Implicit t) out
                        SpanKernels.addScalar (Span<'T>.op_Implicit t) 'T.One t
                        SpanKernels.multiply (Span<'T>.op_Implicit out) (Span<'T>.op_Implicit t) out
                    else
                        SpanKernels.negativeAbs (x.Slice(start, count)) t
                        singleOrIsolated SingleFunction.Exp (Span<'T>.op_Implicit t) t
                        SpanKernels.overOnePlusSquared (Span<'T>.op_Implicit t) out
                    start <- start + count
            finally
                Buffers.ArrayPool<'T>.Shared.Return scratch

    /// Special.chebyshevSeries on four lanes: the same operations in the same order, so each lane has its bits.
    let private chebyshevSeries256 (c: float[]) (t: Vector256<float>) =
        let t2 = t + t
        let mutable b1 = Vector256<float>.Zero
        let mutable b2 = Vector256<float>.Zero
        for k in c.Length - 1 .. -1 .. 1 do
            let b0 = Vector256.FusedMultiplyAdd(t2, b1, Vector256.Create c.[k] - b2)
            b2 <- b1
            b1 <- b0
        Vector256.Create(0.5 * c.[0]) + t * b1 - b2

    /// Special.erfcMiddle on four lanes, by the same operations in the same order (Clenshaw's recurrence over
    /// erfcxChebyshev, then Special.gaussian's reduction and series), so each lane has the scalar function's bits.
    let private erfcMiddle256 (v: Vector256<float>) =
        let scaled = chebyshevSeries256 Special.erfcxChebyshev (v * Vector256.Create(2.0 / 3.0) - Vector256.Create 1.0)
        let square = v * v
        let error = Vector256.FusedMultiplyAdd(v, v, -square)
        let n = Vector256.Round(-square * Vector256.Create Special.log2e)
        let r = Vector256.FusedMultiplyAdd(n, Vector256.Create -Special.ln2Low, Vector256.FusedMultiplyAdd(n, Vector256.Create -Special.ln2High, -square)) - error
        let e = Special.expTaylor
        let mutable p = Vector256.Create e.[0]
        for k in 1 .. e.Length - 1 do
            p <- Vector256.FusedMultiplyAdd(p, r, Vector256.Create e.[k])
        // 2^n from its bits: adding 1.5·2^52 leaves n + 2^51 in the low bits, and the shift keeps n + 1023
        // (AVX2 has no float64 → int64 conversion)
        let power = Vector256.ShiftLeft((n + Vector256.Create 6755399441055744.0).AsInt64() + Vector256.Create 1023L, 52).AsDouble()
        scaled * (p * power)

    /// erfcMiddle256 on eight lanes, as two halves (the same operations per lane).
    let private erfcMiddle512 (v: Vector512<float>) =
        Vector512.Create(erfcMiddle256 (v.GetLower()), erfcMiddle256 (v.GetUpper()))

    /// erfc of four lanes inside (−3, 3) whose erf is r, as Special.erfc: 1 − r below Special.erfcSplit, erfcMiddle
    /// from it on (evaluated only when a lane is there).
    let private complementOf256 (v: Vector256<float>) (r: Vector256<float>) =
        let split = Vector256.Create Special.erfcSplit
        let below = Vector256.Create 1.0 - r
        if Vector256.LessThanAll(v, split) then below
        else Vector256.ConditionalSelect(Vector256.LessThan(v, split), below, erfcMiddle256 v)

    /// complementOf256 on eight lanes.
    let private complementOf512 (v: Vector512<float>) (r: Vector512<float>) =
        let split = Vector512.Create Special.erfcSplit
        let below = Vector512.Create 1.0 - r
        if Vector512.LessThanAll(v, split) then below
        else Vector512.ConditionalSelect(Vector512.LessThan(v, split), below, erfcMiddle512 v)

    /// erf (or erfc) of the four entries of x at j into y: the recurrence of Special.erfSmall, lane
    /// by lane, where all four are inside (−3, 3); the scalar function otherwise.
    let private erfVector (complement: bool) (x: ReadOnlySpan<float>) (y: Span<float>) (j: int) =
        let v = Vector256.Create<float>(x.Slice(j, 4))
        if Vector256.LessThanAll(Vector256.Abs v, Vector256.Create 3.0) then
            let r = v * chebyshevSeries256 Special.erfChebyshev (v * v * Vector256.Create(2.0 / 9.0) - Vector256.Create 1.0)
            (if complement then complementOf256 v r else r).CopyTo(y.Slice(j, 4))
        else
            for q in j .. j + 3 do
                y.[q] <- if complement then Special.erfc x.[q] else Special.erf x.[q]

    /// erf (or erfc, with `complement`) over a float64 run: four lanes at a time by the Chebyshev form
    /// of Special.erfSmall where every lane is inside (−3, 3), the same operations in the same order
    /// so the bits are the scalar function's; Special.erf/erfc for the other lanes (the tails, NaN).
    /// y may be x itself: each vector is read before it is written.
    let private erfRun (complement: bool) (x: ReadOnlySpan<float>) (y: Span<float>) =
        let c = Special.erfChebyshev
        let n = x.Length
        let inline scalar (v: float) = if complement then Special.erfc v else Special.erf v
        let mutable i = 0
        if Vector512.IsHardwareAccelerated then
            // the same four chains over eight lanes each: the recurrence is bound by the latency of
            // its multiply-adds, so wider lanes give more entries per wait
            let three = Vector512.Create 3.0
            let scale = Vector512.Create(2.0 / 9.0)
            let one = Vector512.Create 1.0
            let first = Vector512.Create(0.5 * c.[0])
            let rx = &MemoryMarshal.GetReference x
            while i + 32 <= n do
                let k = unativeint i
                let v0 = Vector512.LoadUnsafe(&rx, k)
                let v1 = Vector512.LoadUnsafe(&rx, k + 8un)
                let v2 = Vector512.LoadUnsafe(&rx, k + 16un)
                let v3 = Vector512.LoadUnsafe(&rx, k + 24un)
                let m = Vector512.Max(Vector512.Max(Vector512.Abs v0, Vector512.Abs v1), Vector512.Max(Vector512.Abs v2, Vector512.Abs v3))
                if Vector512.LessThanAll(m, three) then
                    let t0, t1, t2, t3 = v0 * v0 * scale - one, v1 * v1 * scale - one, v2 * v2 * scale - one, v3 * v3 * scale - one
                    let d0, d1, d2, d3 = t0 + t0, t1 + t1, t2 + t2, t3 + t3
                    let mutable a0, a1, a2, a3 = Vector512<float>.Zero, Vector512<float>.Zero, Vector512<float>.Zero, Vector512<float>.Zero
                    let mutable b0, b1, b2, b3 = Vector512<float>.Zero, Vector512<float>.Zero, Vector512<float>.Zero, Vector512<float>.Zero
                    for k in c.Length - 1 .. -1 .. 1 do
                        let ck = Vector512.Create c.[k]
                        let n0 = Vector512.FusedMultiplyAdd(d0, a0, ck - b0)
                        let n1 = Vector512.FusedMultiplyAdd(d1, a1, ck - b1)
                        let n2 = Vector512.FusedMultiplyAdd(d2, a2, ck - b2)
                        let n3 = Vector512.FusedMultiplyAdd(d3, a3, ck - b3)
                        b0 <- a0
                        b1 <- a1
                        b2 <- a2
                        b3 <- a3
                        a0 <- n0
                        a1 <- n1
                        a2 <- n2
                        a3 <- n3
                    let r0 = v0 * (first + t0 * a0 - b0)
                    let r1 = v1 * (first + t1 * a1 - b1)
                    let r2 = v2 * (first + t2 * a2 - b2)
                    let r3 = v3 * (first + t3 * a3 - b3)
                    let ry = &MemoryMarshal.GetReference y
                    (if complement then complementOf512 v0 r0 else r0).StoreUnsafe(&ry, k)
                    (if complement then complementOf512 v1 r1 else r1).StoreUnsafe(&ry, k + 8un)
                    (if complement then complementOf512 v2 r2 else r2).StoreUnsafe(&ry, k + 16un)
                    (if complement then complementOf512 v3 r3 else r3).StoreUnsafe(&ry, k + 24un)
                else
                    for q in 0 .. 7 do
                        erfVector complement x y (i + 4 * q)
                i <- i + 32
        if Vector256.IsHardwareAccelerated then
            let three = Vector256.Create 3.0
            let scale = Vector256.Create(2.0 / 9.0)
            let one = Vector256.Create 1.0
            let first = Vector256.Create(0.5 * c.[0])
            // four vectors at a time when all sixteen lanes are inside: the recurrence is a chain of
            // dependent multiply-adds, so four independent chains keep the core's pipelines full
            while i + 16 <= n do
                let m01 = Vector256.Max(Vector256.Abs(Vector256.Create<float>(x.Slice(i, 4))), Vector256.Abs(Vector256.Create<float>(x.Slice(i + 4, 4))))
                let m23 = Vector256.Max(Vector256.Abs(Vector256.Create<float>(x.Slice(i + 8, 4))), Vector256.Abs(Vector256.Create<float>(x.Slice(i + 12, 4))))
                if Vector256.LessThanAll(Vector256.Max(m01, m23), three) then
                    let v0 = Vector256.Create<float>(x.Slice(i, 4))
                    let v1 = Vector256.Create<float>(x.Slice(i + 4, 4))
                    let v2 = Vector256.Create<float>(x.Slice(i + 8, 4))
                    let v3 = Vector256.Create<float>(x.Slice(i + 12, 4))
                    let t0, t1, t2, t3 = v0 * v0 * scale - one, v1 * v1 * scale - one, v2 * v2 * scale - one, v3 * v3 * scale - one
                    let d0, d1, d2, d3 = t0 + t0, t1 + t1, t2 + t2, t3 + t3
                    let mutable a0, a1, a2, a3 = Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero
                    let mutable b0, b1, b2, b3 = Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero, Vector256<float>.Zero
                    for k in c.Length - 1 .. -1 .. 1 do
                        let ck = Vector256.Create c.[k]
                        let n0 = Vector256.FusedMultiplyAdd(d0, a0, ck - b0)
                        let n1 = Vector256.FusedMultiplyAdd(d1, a1, ck - b1)
                        let n2 = Vector256.FusedMultiplyAdd(d2, a2, ck - b2)
                        let n3 = Vector256.FusedMultiplyAdd(d3, a3, ck - b3)
                        b0 <- a0
                        b1 <- a1
                        b2 <- a2
                        b3 <- a3
                        a0 <- n0
                        a1 <- n1
                        a2 <- n2
                        a3 <- n3
                    let r0 = v0 * (first + t0 * a0 - b0)
                    let r1 = v1 * (first + t1 * a1 - b1)
                    let r2 = v2 * (first + t2 * a2 - b2)
                    let r3 = v3 * (first + t3 * a3 - b3)
                    (if complement then complementOf256 v0 r0 else r0).CopyTo(y.Slice(i, 4))
                    (if complement then complementOf256 v1 r1 else r1).CopyTo(y.Slice(i + 4, 4))
                    (if complement then complementOf256 v2 r2 else r2).CopyTo(y.Slice(i + 8, 4))
                    (if complement then complementOf256 v3 r3 else r3).CopyTo(y.Slice(i + 12, 4))
                else
                    for q in 0 .. 3 do
                        erfVector complement x y (i + 4 * q)
                i <- i + 16
            while i + 4 <= n do
                erfVector complement x y i
                i <- i + 4
        while i < n do
            y.[i] <- scalar x.[i]
            i <- i + 1

    /// erf (or erfc, with `complement`) over a float64 run, for float32 results: Horner's rule over
    /// Special.erfPowers (one multiply-add per term, where erfRun's recurrence takes two on its
    /// dependency chain), four independent chains of eight lanes at a time where every lane is inside
    /// (−3, 3); lane by lane otherwise, by Special.erfSmallByPowers inside and Special.erf/erfc
    /// outside, which are the same operations, so a lane's bits never depend on its neighbours.
    /// The float64 result differs from erfRun's by a few units in the 16th digit, which the
    /// rounding to float32 removes. y may be x itself: each group is read before it is written.
    let private erfByPowersRun (complement: bool) (x: ReadOnlySpan<float>) (y: Span<float>) =
        let a = Special.erfPowers
        let top = a.Length - 1
        let n = x.Length
        let inline scalar (v: float) =
            if complement && v >= Special.erfcSplit then Special.erfc v
            elif abs v < 3.0 then
                let r = Special.erfSmallByPowers v
                if complement then 1.0 - r else r
            elif complement then Special.erfc v
            else Special.erf v
        let rx = &MemoryMarshal.GetReference x
        let ry = &MemoryMarshal.GetReference y
        let mutable i = 0
        if Vector512.IsHardwareAccelerated then
            let three, scale, one = Vector512.Create 3.0, Vector512.Create(2.0 / 9.0), Vector512.Create 1.0
            while i + 32 <= n do
                let k = unativeint i
                let v0, v1 = Vector512.LoadUnsafe(&rx, k), Vector512.LoadUnsafe(&rx, k + 8un)
                let v2, v3 = Vector512.LoadUnsafe(&rx, k + 16un), Vector512.LoadUnsafe(&rx, k + 24un)
                let m = Vector512.Max(Vector512.Max(Vector512.Abs v0, Vector512.Abs v1), Vector512.Max(Vector512.Abs v2, Vector512.Abs v3))
                if Vector512.LessThanAll(m, three) then
                    let t0, t1, t2, t3 = v0 * v0 * scale - one, v1 * v1 * scale - one, v2 * v2 * scale - one, v3 * v3 * scale - one
                    let first = Vector512.Create a.[top]
                    let mutable p0, p1, p2, p3 = first, first, first, first
                    for j in top - 1 .. -1 .. 0 do
                        let aj = Vector512.Create a.[j]
                        p0 <- Vector512.FusedMultiplyAdd(p0, t0, aj)
                        p1 <- Vector512.FusedMultiplyAdd(p1, t1, aj)
                        p2 <- Vector512.FusedMultiplyAdd(p2, t2, aj)
                        p3 <- Vector512.FusedMultiplyAdd(p3, t3, aj)
                    let r0, r1, r2, r3 = v0 * p0, v1 * p1, v2 * p2, v3 * p3
                    (if complement then complementOf512 v0 r0 else r0).StoreUnsafe(&ry, k)
                    (if complement then complementOf512 v1 r1 else r1).StoreUnsafe(&ry, k + 8un)
                    (if complement then complementOf512 v2 r2 else r2).StoreUnsafe(&ry, k + 16un)
                    (if complement then complementOf512 v3 r3 else r3).StoreUnsafe(&ry, k + 24un)
                else
                    for q in i .. i + 31 do y.[q] <- scalar x.[q]
                i <- i + 32
        elif Vector256.IsHardwareAccelerated then
            // four lanes where AVX-512 is missing: the same operations, so the same bits. Four chains at a time where
            // all sixteen entries are inside (−3, 3), since one chain waits on each multiply-add's latency
            let three, scale, one = Vector256.Create 3.0, Vector256.Create(2.0 / 9.0), Vector256.Create 1.0
            while i + 16 <= n do
                let k = unativeint i
                let v0, v1 = Vector256.LoadUnsafe(&rx, k), Vector256.LoadUnsafe(&rx, k + 4un)
                let v2, v3 = Vector256.LoadUnsafe(&rx, k + 8un), Vector256.LoadUnsafe(&rx, k + 12un)
                let m = Vector256.Max(Vector256.Max(Vector256.Abs v0, Vector256.Abs v1), Vector256.Max(Vector256.Abs v2, Vector256.Abs v3))
                if Vector256.LessThanAll(m, three) then
                    let t0, t1, t2, t3 = v0 * v0 * scale - one, v1 * v1 * scale - one, v2 * v2 * scale - one, v3 * v3 * scale - one
                    let first = Vector256.Create a.[top]
                    let mutable p0, p1, p2, p3 = first, first, first, first
                    for j in top - 1 .. -1 .. 0 do
                        let aj = Vector256.Create a.[j]
                        p0 <- Vector256.FusedMultiplyAdd(p0, t0, aj)
                        p1 <- Vector256.FusedMultiplyAdd(p1, t1, aj)
                        p2 <- Vector256.FusedMultiplyAdd(p2, t2, aj)
                        p3 <- Vector256.FusedMultiplyAdd(p3, t3, aj)
                    let r0, r1, r2, r3 = v0 * p0, v1 * p1, v2 * p2, v3 * p3
                    (if complement then complementOf256 v0 r0 else r0).StoreUnsafe(&ry, k)
                    (if complement then complementOf256 v1 r1 else r1).StoreUnsafe(&ry, k + 4un)
                    (if complement then complementOf256 v2 r2 else r2).StoreUnsafe(&ry, k + 8un)
                    (if complement then complementOf256 v3 r3 else r3).StoreUnsafe(&ry, k + 12un)
                    i <- i + 16
                else
                    // a lane outside: these sixteen one vector at a time, as below
                    let stop = i + 16
                    while i < stop do
                        let v = Vector256.LoadUnsafe(&rx, unativeint i)
                        if Vector256.LessThanAll(Vector256.Abs v, three) then
                            let t = v * v * scale - one
                            let mutable p = Vector256.Create a.[top]
                            for j in top - 1 .. -1 .. 0 do
                                p <- Vector256.FusedMultiplyAdd(p, t, Vector256.Create a.[j])
                            let r = v * p
                            (if complement then complementOf256 v r else r).StoreUnsafe(&ry, unativeint i)
                        else
                            for q in i .. i + 3 do y.[q] <- scalar x.[q]
                        i <- i + 4
            while i + 4 <= n do
                let v = Vector256.LoadUnsafe(&rx, unativeint i)
                if Vector256.LessThanAll(Vector256.Abs v, three) then
                    let t = v * v * scale - one
                    let mutable p = Vector256.Create a.[top]
                    for j in top - 1 .. -1 .. 0 do
                        p <- Vector256.FusedMultiplyAdd(p, t, Vector256.Create a.[j])
                    let r = v * p
                    (if complement then complementOf256 v r else r).StoreUnsafe(&ry, unativeint i)
                else
                    for q in i .. i + 3 do y.[q] <- scalar x.[q]
                i <- i + 4
        while i < n do
            y.[i] <- scalar x.[i]
            i <- i + 1

    /// erf or erfc in float64 for either dtype, rounded once for float32: a float32 run goes through
    /// a float64 block from the pool and erfByPowersRun.
    let private erfThroughDouble<'T when 'T :> IFloatingPointIeee754<'T>> (complement: bool) (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if Type.op_Equality(typeof<'T>, typeof<float>) then
            let x64 = MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, float>(&MemoryMarshal.GetReference x), x.Length)
            let y64 = MemoryMarshal.CreateSpan(&Unsafe.As<'T, float>(&MemoryMarshal.GetReference y), y.Length)
            erfRun complement x64 y64
        elif not (Type.op_Equality(typeof<'T>, typeof<float32>)) then
            mapThroughDouble (if complement then Special.erfc else Special.erf) x y
        else
            let block = min x.Length 512
            let buffer = Buffers.ArrayPool<float>.Shared.Rent(max block 1)
            try
                let mutable start = 0
                while start < x.Length do
                    let count = min block (x.Length - start)
                    let b = Span(buffer, 0, count)
                    // 'T is float32 here
                    SpanKernels.widen (MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, float32>(&MemoryMarshal.GetReference(x.Slice(start, count))), count)) b
                    erfByPowersRun complement (Span<float>.op_Implicit b) b
                    SpanKernels.narrow (Span<float>.op_Implicit b) (MemoryMarshal.CreateSpan(&Unsafe.As<'T, float32>(&MemoryMarshal.GetReference(y.Slice(start, count))), count))
                    start <- start + count
            finally
                Buffers.ArrayPool<float>.Shared.Return buffer

    /// −x/√2 held at ±40 (NaN stays NaN), erfc's argument in gelu: beyond ±40 erfc is exactly 0 or 2 in
    /// both dtypes, and e^(−h²) is 0, so a held argument changes no value and keeps x² out of the slope.
    let private geluArgument (b: ReadOnlySpan<float>) (h: Span<float>) =
        let scale = -1.0 / Math.Sqrt 2.0
        let mutable i = 0
        if Vector256.IsHardwareAccelerated then
            let k, high, low = Vector256.Create scale, Vector256.Create 40.0, Vector256.Create -40.0
            while i + 4 <= b.Length do
                let v = Vector256.Create<float>(b.Slice(i, 4)) * k
                let v = Vector256.ConditionalSelect(Vector256.GreaterThan(v, high), high, v)
                Vector256.ConditionalSelect(Vector256.LessThan(v, low), low, v).CopyTo(h.Slice(i, 4))
                i <- i + 4
        while i < b.Length do
            let v = b.[i] * scale
            h.[i] <- if v > 40.0 then 40.0 elif v < -40.0 then -40.0 else v
            i <- i + 1

    /// b ← (b/2)·e, four lanes at a time.
    let private geluFinish (b: Span<float>) (e: Span<float>) =
        let mutable i = 0
        if Vector256.IsHardwareAccelerated then
            let half = Vector256.Create 0.5
            while i + 4 <= b.Length do
                (half * Vector256.Create<float>(b.Slice(i, 4)) * Vector256.Create<float>(e.Slice(i, 4))).CopyTo(b.Slice(i, 4))
                i <- i + 4
        while i < b.Length do
            b.[i] <- 0.5 * b.[i] * e.[i]
            i <- i + 1

    /// b ← e/2 + b·(q·density), the second term 0 where b·scale lies beyond ±40 (erfc's argument held
    /// there, so q = e^(−1600) = 0 and b may be infinite), four lanes at a time.
    let private geluSlopeFinish (b: Span<float>) (e: Span<float>) (q: ReadOnlySpan<float>) (scale: float) (density: float) =
        let mutable i = 0
        if Vector256.IsHardwareAccelerated then
            let half, k, d = Vector256.Create 0.5, Vector256.Create scale, Vector256.Create density
            let high, low = Vector256.Create 40.0, Vector256.Create -40.0
            while i + 4 <= b.Length do
                let bv = Vector256.Create<float>(b.Slice(i, 4))
                let v = bv * k
                let held = Vector256.GreaterThan(v, high) ||| Vector256.LessThan(v, low)
                let term = Vector256.ConditionalSelect(held, Vector256<float>.Zero, bv * (Vector256.Create<float>(q.Slice(i, 4)) * d))
                (half * Vector256.Create<float>(e.Slice(i, 4)) + term).CopyTo(b.Slice(i, 4))
                i <- i + 4
        while i < b.Length do
            let v = b.[i] * scale
            let held = v > 40.0 || v < -40.0
            b.[i] <- 0.5 * e.[i] + (if held then 0.0 else b.[i] * (q.[i] * density))
            i <- i + 1

    /// gelu(x) = (x/2)·erfc(h) or its slope Φ(x) + x·φ(x) = erfc(h)/2 + x·e^(−h²)/√(2π) (the second
    /// term 0 where h is held, so ±∞ gives 1 and 0, not ∞·0), with h = −x/√2 held at ±40
    /// (geluArgument), over blocks of float64: the input widened for float32 and each result
    /// rounded once. erfc takes float32's Horner form for float32 results, float64's recurrence
    /// otherwise. One kernel where the composite it replaced ran sixteen passes in its derivative
    /// (two comparisons and two selections for the hold, and their masks again).
    let private geluThroughDouble<'T when 'T :> IFloatingPointIeee754<'T>> (slope: bool) (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        let wide = Type.op_Equality(typeof<'T>, typeof<float>)
        let block = min x.Length 512
        let buffer = Buffers.ArrayPool<float>.Shared.Rent(3 * max block 1)
        let scale = -1.0 / Math.Sqrt 2.0
        let density = 1.0 / Math.Sqrt(2.0 * Math.PI)
        try
            let mutable start = 0
            while start < x.Length do
                let count = min block (x.Length - start)
                let b = Span(buffer, 0, count)
                let h = Span(buffer, block, count)
                let e = Span(buffer, 2 * block, count)
                let xs = x.Slice(start, count)
                if wide then MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, float>(&MemoryMarshal.GetReference xs), count).CopyTo b
                elif Type.op_Equality(typeof<'T>, typeof<float32>) then
                    SpanKernels.widen (MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, float32>(&MemoryMarshal.GetReference xs), count)) b
                else
                    for i in 0 .. count - 1 do b.[i] <- Double.CreateTruncating xs.[i]
                geluArgument (Span<float>.op_Implicit b) h
                if wide then erfRun true (Span<float>.op_Implicit h) e else erfByPowersRun true (Span<float>.op_Implicit h) e
                if not slope then geluFinish b e
                else
                    SpanKernels.negativeSquare (Span<float>.op_Implicit h) h
                    // e^(−h²) ≤ 1 and the slope rounds to float32 at the end: float32's series
                    // (held at −200: where it stands in for a smaller term, |x| > 20, both terms of
                    // the slope are far below float32's least value and keep the sign they had)
                    if wide then singleOrIsolated SingleFunction.Exp (Span<float>.op_Implicit h) h
                    else Transcendental.expFor32 (Span<float>.op_Implicit h) h
                    geluSlopeFinish b e (Span<float>.op_Implicit h) scale density
                let ys = y.Slice(start, count)
                if wide then (Span<float>.op_Implicit b).CopyTo(MemoryMarshal.CreateSpan(&Unsafe.As<'T, float>(&MemoryMarshal.GetReference ys), count))
                elif Type.op_Equality(typeof<'T>, typeof<float32>) then
                    SpanKernels.narrow (Span<float>.op_Implicit b) (MemoryMarshal.CreateSpan(&Unsafe.As<'T, float32>(&MemoryMarshal.GetReference ys), count))
                else
                    for i in 0 .. count - 1 do ys.[i] <- 'T.CreateTruncating b.[i]
                start <- start + count
        finally
            Buffers.ArrayPool<float>.Shared.Return buffer

    /// x^s for a scalar exponent: s = 2 as x·x and s = −1 as 1/x, each one correctly rounded
    /// operation like pow itself (and the same at ±0, ±∞ and NaN), so the bits are pow's; s = ±0.5 as
    /// √x and 1/√x, as torch computes them (Special.pow); other exponents through
    /// TensorPrimitives.Pow. A user's (p − y).Pow(2) is common, and pow per
    /// element cost about twenty times a product.
    let private powScalar<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (s: 'T) (y: Span<'T>) =
        let exponent = Double.CreateTruncating s
        if exponent = 2.0 then SpanKernels.multiply x x y
        elif exponent = -1.0 then SpanKernels.scalarDivide 'T.One x y
        // torch's own cases: its pow kernel takes a square root for 0.5 ((−0)^0.5 is −0 and (−∞)^0.5
        // NaN, as √ gives, where IEEE pow gives +0 and +∞; elsewhere torch's is within an ulp of the
        // correctly rounded √x here) and 1/√x for −0.5 (bit for bit). pow's derivative at 1.5,
        // s·x^(s−1), then runs a square root, not TensorPrimitives.Pow.
        elif exponent = 0.5 then SpanKernels.sqrt x y
        // and its products for 3 and −2: (x·x)·x and 1/(x·x)
        elif exponent = 3.0 then SpanKernels.cube x y
        elif exponent = -2.0 then SpanKernels.inverseSquare x y
        elif exponent = -0.5 then
            SpanKernels.sqrt x y
            SpanKernels.scalarDivide 'T.One (Span<'T>.op_Implicit y) y
        else Tensors.TensorPrimitives.Pow(x, s, y)

    /// One unary op over a contiguous run. The arithmetic ops go to SpanKernels (negation, square)
    /// or TensorPrimitives in the element type: they are exact or correctly rounded lane by lane.
    let private unarySpan<'T when 'T :> IFloatingPointIeee754<'T>> (op: UnaryOp) (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        match op with
        | UnaryOp.Neg -> SpanKernels.negate x y
        | UnaryOp.Exp -> singleOrIsolated SingleFunction.Exp x y
        | UnaryOp.Log -> singleOrIsolated SingleFunction.Log x y
        | UnaryOp.Log1p -> singleOrIsolated SingleFunction.Log1p x y
        | UnaryOp.Expm1 -> singleOrIsolated SingleFunction.Expm1 x y
        | UnaryOp.Sin -> isolated VectorFunction.Sin x y
        | UnaryOp.Cos -> isolated VectorFunction.Cos x y
        // TensorPrimitives has no float64 vector tan: its results came from scalar code that
        // varied with the position in the array, so tan is System.Math's everywhere
        | UnaryOp.Tan -> mapThroughDouble Math.Tan x y
        | UnaryOp.Tanh -> singleOrIsolated SingleFunction.Tanh x y
        | UnaryOp.Sigmoid -> singleOrIsolated SingleFunction.Sigmoid x y
        // NaN and −0 stay themselves, as in torch
        | UnaryOp.Relu -> SpanKernels.relu x y
        | UnaryOp.Abs -> SpanKernels.abs x y
        | UnaryOp.Sign -> SpanKernels.sign x y
        | UnaryOp.Sqrt -> SpanKernels.sqrt x y
        | UnaryOp.Rsqrt ->
            SpanKernels.sqrt x y
            SpanKernels.scalarDivide 'T.One (Span<'T>.op_Implicit y) y
        | UnaryOp.Square -> SpanKernels.multiply x x y
        | UnaryOp.Reciprocal -> SpanKernels.scalarDivide 'T.One x y
        | UnaryOp.Erf -> erfThroughDouble false x y
        | UnaryOp.Floor -> SpanKernels.floor x y
        | UnaryOp.Ceil -> SpanKernels.ceiling x y
        | UnaryOp.Round -> SpanKernels.round x y
        | UnaryOp.Erfc -> erfThroughDouble true x y
        | UnaryOp.Lgamma -> mapThroughDouble Special.lgamma x y
        | UnaryOp.Softplus -> singleOrIsolated SingleFunction.Softplus x y
        | UnaryOp.SigmoidSlope -> slopeSpan false x y
        | UnaryOp.Gelu -> geluThroughDouble false x y
        | UnaryOp.GeluSlope -> geluThroughDouble true x y
        | UnaryOp.TanhSlope -> slopeSpan true x y
        | UnaryOp.I0 -> mapThroughDouble Bessel.i0 x y
        | UnaryOp.I0e -> mapThroughDouble Bessel.i0e x y
        | UnaryOp.I1 -> mapThroughDouble Bessel.i1 x y
        | UnaryOp.I1e -> mapThroughDouble Bessel.i1e x y
        | UnaryOp.Erfcx -> mapThroughDouble Special.erfcx x y
        | UnaryOp.Ndtr -> mapThroughDouble Gaussian.ndtr x y
        | UnaryOp.LogNdtr -> mapThroughDouble Gaussian.logNdtr x y
        | UnaryOp.Ndtri -> mapThroughDouble Gaussian.ndtri x y
        | UnaryOp.BesselJ0 -> mapThroughDouble BesselJY.j0 x y
        | UnaryOp.BesselJ1 -> mapThroughDouble BesselJY.j1 x y
        | UnaryOp.BesselY0 -> mapThroughDouble BesselJY.y0 x y
        | UnaryOp.BesselY1 -> mapThroughDouble BesselJY.y1 x y
        | UnaryOp.ModifiedBesselK0 -> mapThroughDouble BesselK.k0 x y
        | UnaryOp.ModifiedBesselK1 -> mapThroughDouble BesselK.k1 x y
        | UnaryOp.ScaledModifiedBesselK0 -> mapThroughDouble BesselK.k0e x y
        | UnaryOp.ScaledModifiedBesselK1 -> mapThroughDouble BesselK.k1e x y

    /// Transcendental ops cost enough per element to go parallel earlier than memory-bound ones.
    let private unaryThreshold (op: UnaryOp) =
        match op with
        | UnaryOp.Exp | UnaryOp.Log | UnaryOp.Log1p | UnaryOp.Expm1 | UnaryOp.Sin | UnaryOp.Cos | UnaryOp.Tan
        | UnaryOp.Tanh | UnaryOp.Sigmoid | UnaryOp.Erf -> parallelThresholdCostly
        | UnaryOp.Neg | UnaryOp.Relu | UnaryOp.Abs | UnaryOp.Sign | UnaryOp.Sqrt | UnaryOp.Rsqrt | UnaryOp.Square
        | UnaryOp.Reciprocal | UnaryOp.Floor | UnaryOp.Ceil | UnaryOp.Round -> parallelThresholdCheap
        | UnaryOp.Erfc | UnaryOp.Lgamma | UnaryOp.Softplus | UnaryOp.SigmoidSlope | UnaryOp.Gelu | UnaryOp.GeluSlope
        | UnaryOp.TanhSlope | UnaryOp.I0 | UnaryOp.I0e | UnaryOp.I1 | UnaryOp.I1e | UnaryOp.Erfcx | UnaryOp.Ndtr
        | UnaryOp.LogNdtr | UnaryOp.Ndtri
        | UnaryOp.BesselJ0 | UnaryOp.BesselJ1 | UnaryOp.BesselY0 | UnaryOp.BesselY1 | UnaryOp.ModifiedBesselK0
        | UnaryOp.ModifiedBesselK1 | UnaryOp.ScaledModifiedBesselK0 | UnaryOp.ScaledModifiedBesselK1 -> parallelThresholdCostly

    /// The vectorised transcendental kernels of TensorPrimitives (.NET 10, AVX-512) spill vectors
    /// to the stack, and the JIT aligns frames to 16 bytes only: when the stack pointer at the
    /// call is 16 bytes off a 32-byte boundary the same call runs 1.7 to 3.6 times slower
    /// (float32 Exp over 16K elements: 9.5 vs 24.6 µs; float64 Tanh: 24 vs 89 µs). Which of
    /// the two alignments is the fast one depends on the caller's stack depth, so it varied
    /// from process to process. These ops therefore go through `Aligned.Unary`.
    let internal hasAlignmentCost (op: UnaryOp) =
        match op with
        | UnaryOp.Exp | UnaryOp.Log | UnaryOp.Sin | UnaryOp.Cos | UnaryOp.Tanh | UnaryOp.Sigmoid | UnaryOp.SigmoidSlope
        | UnaryOp.TanhSlope | UnaryOp.Log1p | UnaryOp.Expm1 | UnaryOp.Softplus -> true
        | UnaryOp.Neg | UnaryOp.Tan | UnaryOp.Relu | UnaryOp.Abs | UnaryOp.Sign
        | UnaryOp.Sqrt | UnaryOp.Rsqrt | UnaryOp.Square | UnaryOp.Reciprocal | UnaryOp.Erf | UnaryOp.Floor
        | UnaryOp.Ceil | UnaryOp.Round | UnaryOp.Erfc | UnaryOp.Lgamma | UnaryOp.Gelu | UnaryOp.GeluSlope
        | UnaryOp.I0 | UnaryOp.I0e | UnaryOp.I1 | UnaryOp.I1e | UnaryOp.Erfcx | UnaryOp.Ndtr | UnaryOp.LogNdtr
        | UnaryOp.Ndtri
        | UnaryOp.BesselJ0 | UnaryOp.BesselJ1 | UnaryOp.BesselY0 | UnaryOp.BesselY1 | UnaryOp.ModifiedBesselK0
        | UnaryOp.ModifiedBesselK1 | UnaryOp.ScaledModifiedBesselK0 | UnaryOp.ScaledModifiedBesselK1 -> false

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
        let slot = if Type.op_Equality(typeof<'T>, typeof<float>) then 0 else 1
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

    let private mapDense<'T when 'T :> IFloatingPointIeee754<'T>> (f: float -> float) (t: Tensor) : 'T[] =
        let source = storage<'T> t
        let result = RecycledArrays.Take<'T> t.Numel
        forChunksFrom parallelThresholdCostly t.Numel (fun start length ->
            mapThroughDouble f (ReadOnlySpan(source, t.Offset + start, length)) (Span(result, start, length)))
        result

    /// A float64 scalar function applied to every element (float32 through float64, rounded
    /// once): the kernel of elementwise primitives with a parameter, such as polygamma's order.
    let mapDouble (f: float -> float) (t: Tensor) : Tensor =
        let t = dense t
        match t.DType with
        | DType.Float64 -> Tensor.OwnDense(t.Shape, mapDense<float> f t)
        | DType.Float32 -> Tensor.OwnDense(t.Shape, mapDense<float32> f t)

    /// 1 when a comparison holds, else 0: comparisons return masks in the operand dtype.
    let private mask<'T when 'T :> IFloatingPointIeee754<'T>> (holds: bool) : 'T = if holds then 'T.One else 'T.Zero

    /// One binary op on scalars: the reference the strided fallback uses. Comparisons with NaN
    /// are false except NotEqual.
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
        | BinaryOp.Less -> mask ('T.op_LessThan(a, b))
        | BinaryOp.LessEqual -> mask ('T.op_LessThanOrEqual(a, b))
        | BinaryOp.Greater -> mask ('T.op_GreaterThan(a, b))
        | BinaryOp.GreaterEqual -> mask ('T.op_GreaterThanOrEqual(a, b))
        | BinaryOp.Equal -> mask ('T.op_Equality(a, b))
        | BinaryOp.NotEqual -> mask ('T.op_Inequality(a, b))
        // .NET's % on floating point is C's fmod: exact, with the dividend's sign
        | BinaryOp.Fmod -> 'T.op_Modulus(a, b)
        // in float64 and rounded once, for either dtype
        | BinaryOp.Gammainc -> 'T.CreateTruncating(IncompleteGamma.lower (Double.CreateTruncating a) (Double.CreateTruncating b))
        | BinaryOp.Gammaincc -> 'T.CreateTruncating(IncompleteGamma.upper (Double.CreateTruncating a) (Double.CreateTruncating b))
        | BinaryOp.Zeta -> 'T.CreateTruncating(Special.zeta (Double.CreateTruncating a) (Double.CreateTruncating b))

    /// One binary op over a run, element by element, each operand advancing by its stride.
    let private binaryLoop<'T when 'T :> IFloatingPointIeee754<'T>>
        (op: BinaryOp) (a: 'T[]) (aStart: int) (aStride: int) (b: 'T[]) (bStart: int) (bStride: int)
        (result: 'T[]) (start: int) (length: int) =
        let mutable i = aStart
        let mutable j = bStart
        for k in start .. start + length - 1 do
            result.[k] <- binaryScalar op a.[i] b.[j]
            i <- i + aStride
            j <- j + bStride

    /// A comparison over runs of strides 0 or 1, a vector of lanes at a time, the tail by the scalar
    /// loop. Masks are exactly 1 or 0 and the lane comparisons are IEEE's (NaN compares unequal to
    /// everything), so the bits are those of the scalar loop.
    /// The lanes of one comparison over runs of strides 0 or 1: the vectors of the run, a repeated
    /// operand broadcast once; returns how many entries it wrote (the caller's scalar loop takes the
    /// tail). Inlined per comparison, so the loop holds no dispatch on the op, and read without
    /// bounds checks (the caller's run lies inside each array).
    let inline private compareVectors<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> IFloatingPointIeee754<'T>>
        ([<InlineIfLambda>] holds: Vector256<'T> -> Vector256<'T> -> Vector256<'T>)
        (a: 'T[]) (aStart: int) (aStride: int) (b: 'T[]) (bStart: int) (bStride: int)
        (result: 'T[]) (start: int) (length: int) =
        let width = Vector256<'T>.Count
        let one = Vector256<'T>.One
        let ra = &MemoryMarshal.GetArrayDataReference a
        let rb = &MemoryMarshal.GetArrayDataReference b
        let ry = &MemoryMarshal.GetArrayDataReference result
        let repeatedA = Vector256.Create a.[aStart]
        let repeatedB = Vector256.Create b.[bStart]
        let mutable p = 0
        while p <= length - width do
            let x = if aStride = 0 then repeatedA else Vector256.LoadUnsafe(&ra, unativeint (aStart + p))
            let y = if bStride = 0 then repeatedB else Vector256.LoadUnsafe(&rb, unativeint (bStart + p))
            // a mask lane is all ones or all zeros, so the AND keeps 1 or 0
            (holds x y &&& one).StoreUnsafe(&ry, unativeint (start + p))
            p <- p + width
        p

    /// A comparison over runs of strides 0 or 1 (each operand's), to 1 or 0 per lane.
    let private compareLanes<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> IFloatingPointIeee754<'T>>
        (op: BinaryOp) (a: 'T[]) (aStart: int) (aStride: int) (b: 'T[]) (bStart: int) (bStride: int)
        (result: 'T[]) (start: int) (length: int) =
        let p =
            if not Vector256.IsHardwareAccelerated || length < Vector256<'T>.Count then 0
            else
                match op with
                | BinaryOp.Less -> compareVectors (fun x y -> Vector256.LessThan(x, y)) a aStart aStride b bStart bStride result start length
                | BinaryOp.LessEqual -> compareVectors (fun x y -> Vector256.LessThanOrEqual(x, y)) a aStart aStride b bStart bStride result start length
                | BinaryOp.Greater -> compareVectors (fun x y -> Vector256.GreaterThan(x, y)) a aStart aStride b bStart bStride result start length
                | BinaryOp.GreaterEqual -> compareVectors (fun x y -> Vector256.GreaterThanOrEqual(x, y)) a aStart aStride b bStart bStride result start length
                | BinaryOp.Equal -> compareVectors (fun x y -> Vector256.Equals(x, y)) a aStart aStride b bStart bStride result start length
                | BinaryOp.NotEqual -> compareVectors (fun x y -> Vector256.OnesComplement(Vector256.Equals(x, y))) a aStart aStride b bStart bStride result start length
                | BinaryOp.Add | BinaryOp.Sub | BinaryOp.Mul | BinaryOp.Div | BinaryOp.Pow
                | BinaryOp.Maximum | BinaryOp.Minimum | BinaryOp.Atan2 | BinaryOp.Fmod | BinaryOp.Gammainc
                | BinaryOp.Gammaincc | BinaryOp.Zeta -> invalidOp "compareLanes takes comparisons only"
        binaryLoop op a (aStart + p * aStride) aStride b (bStart + p * bStride) bStride result (start + p) (length - p)

    /// A comparison over runs of strides 0 or 1, through the lanes of the element type.
    let private compareRun<'T when 'T :> IFloatingPointIeee754<'T>>
        (op: BinaryOp) (a: 'T[]) (aStart: int) (aStride: int) (b: 'T[]) (bStart: int) (bStride: int)
        (result: 'T[]) (start: int) (length: int) =
        match box a with
        | :? (float32[]) as a32 ->
            compareLanes<float32> op a32 aStart aStride (box b :?> float32[]) bStart bStride (box result :?> float32[]) start length
        | :? (float[]) as a64 ->
            compareLanes<float> op a64 aStart aStride (box b :?> float[]) bStart bStride (box result :?> float[]) start length
        | _ -> binaryLoop op a aStart aStride b bStart bStride result start length

    /// `where` over runs of strides 0 or 1 with a mask of the values' type, a vector of lanes at a
    /// time: a lane takes `ifFalse` where the mask equals 0 (so NaN and -0.0 select as the scalar
    /// test `mask <> 0` does), and the tail by the scalar loop.
    let private whereLanes<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> IFloatingPointIeee754<'T>>
        (m: 'T[]) (mStart: int) (mStride: int) (t: 'T[]) (tStart: int) (tStride: int) (f: 'T[]) (fStart: int) (fStride: int)
        (result: 'T[]) (start: int) (length: int) =
        let width = Vector256<'T>.Count
        let mutable p = 0
        if Vector256.IsHardwareAccelerated && length >= width then
            let zero = Vector256<'T>.Zero
            let rm = &MemoryMarshal.GetArrayDataReference m
            let rt = &MemoryMarshal.GetArrayDataReference t
            let rf = &MemoryMarshal.GetArrayDataReference f
            let ry = &MemoryMarshal.GetArrayDataReference result
            // read without bounds checks: the caller's run lies inside each array
            let repeatedM, repeatedT, repeatedF = Vector256.Create m.[mStart], Vector256.Create t.[tStart], Vector256.Create f.[fStart]
            while p <= length - width do
                let mv = if mStride = 0 then repeatedM else Vector256.LoadUnsafe(&rm, unativeint (mStart + p))
                let tv = if tStride = 0 then repeatedT else Vector256.LoadUnsafe(&rt, unativeint (tStart + p))
                let fv = if fStride = 0 then repeatedF else Vector256.LoadUnsafe(&rf, unativeint (fStart + p))
                Vector256.ConditionalSelect(Vector256.Equals(mv, zero), fv, tv).StoreUnsafe(&ry, unativeint (start + p))
                p <- p + width
        let mutable i = mStart + p * mStride
        let mutable j = tStart + p * tStride
        let mutable k = fStart + p * fStride
        for q in start + p .. start + length - 1 do
            // NaN counts as true, as bool(nan) does in torch
            result.[q] <- if 'T.op_Inequality(m.[i], 'T.Zero) then t.[j] else f.[k]
            i <- i + mStride
            j <- j + tStride
            k <- k + fStride

    /// `where` over runs of strides 0 or 1 (each operand's), mask and values of one type.
    let internal whereRun<'T when 'T :> IFloatingPointIeee754<'T>>
        (m: 'T[]) (mStart: int) (mStride: int) (t: 'T[]) (tStart: int) (tStride: int) (f: 'T[]) (fStart: int) (fStride: int)
        (result: 'T[]) (start: int) (length: int) =
        match box m with
        | :? (float32[]) as m32 ->
            whereLanes<float32> m32 mStart mStride (box t :?> float32[]) tStart tStride (box f :?> float32[]) fStart fStride
                                (box result :?> float32[]) start length
        | _ ->
            whereLanes<float> (box m :?> float[]) mStart mStride (box t :?> float[]) tStart tStride (box f :?> float[]) fStart fStride
                              (box result :?> float[]) start length

    /// One binary op over runs with strides 0 or 1 each: whole spans, or a span against a
    /// repeated scalar, go to SpanKernels (+ − × ÷, the ops of every training step, compiled
    /// optimised from the first call) or TensorPrimitives (the rest); comparisons go to our lanes.
    let internal binaryRun<'T when 'T :> IFloatingPointIeee754<'T>>
        (op: BinaryOp) (a: 'T[]) (aStart: int) (aStride: int) (b: 'T[]) (bStart: int) (bStride: int)
        (result: 'T[]) (start: int) (length: int) =
        let y = Span(result, start, length)
        let inline loop () = binaryLoop op a aStart aStride b bStart bStride result start length
        let inline compare () = compareRun op a aStart aStride b bStart bStride result start length
        match aStride, bStride with
        | 1, 1 ->
            let x = ReadOnlySpan(a, aStart, length)
            let z = ReadOnlySpan(b, bStart, length)
            match op with
            | BinaryOp.Add -> SpanKernels.add x z y
            | BinaryOp.Sub -> SpanKernels.subtract x z y
            | BinaryOp.Mul -> SpanKernels.multiply x z y
            | BinaryOp.Div -> SpanKernels.divide x z y
            | BinaryOp.Pow -> Tensors.TensorPrimitives.Pow(x, z, y)
            | BinaryOp.Maximum -> SpanKernels.maximum x z y
            | BinaryOp.Minimum -> SpanKernels.minimum x z y
            | BinaryOp.Atan2 -> Tensors.TensorPrimitives.Atan2(x, z, y)
            // TensorPrimitives has no fmod or incomplete gamma: the scalar loop, exact as C's fmod
            | BinaryOp.Fmod | BinaryOp.Gammainc | BinaryOp.Gammaincc | BinaryOp.Zeta -> loop ()
            | BinaryOp.Less | BinaryOp.LessEqual | BinaryOp.Greater | BinaryOp.GreaterEqual
            | BinaryOp.Equal | BinaryOp.NotEqual -> compare ()
        | 1, 0 ->
            let x = ReadOnlySpan(a, aStart, length)
            let s = b.[bStart]
            match op with
            | BinaryOp.Add -> SpanKernels.addScalar x s y
            | BinaryOp.Sub -> SpanKernels.subtractScalar x s y
            | BinaryOp.Mul -> SpanKernels.multiplyScalar x s y
            | BinaryOp.Div -> SpanKernels.divideScalar x s y
            | BinaryOp.Pow -> powScalar x s y
            | BinaryOp.Maximum -> SpanKernels.maximumScalar x s y
            | BinaryOp.Minimum -> SpanKernels.minimumScalar x s y
            | BinaryOp.Atan2 -> Tensors.TensorPrimitives.Atan2(x, s, y)
            | BinaryOp.Fmod | BinaryOp.Gammainc | BinaryOp.Gammaincc | BinaryOp.Zeta -> loop ()
            | BinaryOp.Less | BinaryOp.LessEqual | BinaryOp.Greater | BinaryOp.GreaterEqual
            | BinaryOp.Equal | BinaryOp.NotEqual -> compare ()
        | 0, 1 ->
            let s = a.[aStart]
            let z = ReadOnlySpan(b, bStart, length)
            match op with
            // the commutative ops swap their operands; the others have scalar-first overloads
            | BinaryOp.Add -> SpanKernels.addScalar z s y
            | BinaryOp.Mul -> SpanKernels.multiplyScalar z s y
            | BinaryOp.Maximum -> SpanKernels.maximumScalar z s y
            | BinaryOp.Minimum -> SpanKernels.minimumScalar z s y
            | BinaryOp.Sub -> SpanKernels.scalarSubtract s z y
            | BinaryOp.Div -> SpanKernels.scalarDivide s z y
            | BinaryOp.Pow -> Tensors.TensorPrimitives.Pow(s, z, y)
            | BinaryOp.Atan2 -> Tensors.TensorPrimitives.Atan2(s, z, y)
            | BinaryOp.Fmod | BinaryOp.Gammainc | BinaryOp.Gammaincc | BinaryOp.Zeta -> loop ()
            | BinaryOp.Less | BinaryOp.LessEqual | BinaryOp.Greater | BinaryOp.GreaterEqual
            | BinaryOp.Equal | BinaryOp.NotEqual -> compare ()
        | _ -> loop ()

    /// Pow and Atan2 cost enough per element to go parallel earlier than the memory-bound ops.
    let private binaryThreshold (op: BinaryOp) =
        match op with
        | BinaryOp.Pow | BinaryOp.Atan2 | BinaryOp.Fmod | BinaryOp.Gammainc | BinaryOp.Gammaincc | BinaryOp.Zeta -> parallelThresholdCostly
        | BinaryOp.Add | BinaryOp.Sub | BinaryOp.Mul | BinaryOp.Div | BinaryOp.Maximum | BinaryOp.Minimum
        | BinaryOp.Less | BinaryOp.LessEqual | BinaryOp.Greater | BinaryOp.GreaterEqual
        | BinaryOp.Equal | BinaryOp.NotEqual -> parallelThresholdCheap

    let private binaryTyped<'T when 'T :> IFloatingPointIeee754<'T>>
        (op: BinaryOp) (a: Tensor) (b: Tensor) (outShape: int[]) : 'T[] =
        let n = Shape.numel outShape
        let result = RecycledArrays.Take<'T> n
        let forChunks = forChunksFrom (binaryThreshold op)
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
        | BinaryOp.Fmod -> "Fmod"
        | BinaryOp.Gammainc -> "Gammainc"
        | BinaryOp.Gammaincc -> "Gammaincc"
        | BinaryOp.Zeta -> "Zeta"

    /// Applies a binary op with NumPy/torch broadcasting. Mixed dtypes compute in float64.
    let binary (op: BinaryOp) (a: Tensor) (b: Tensor) : Tensor =
        let outShape = Shape.broadcast (opName op) a.Dims b.Dims
        let dtype = promote a.DType b.DType
        let a = a.Cast dtype
        let b = b.Cast dtype
        match dtype with
        | DType.Float64 -> Tensor.OwnDense(outShape, binaryTyped<float> op a b outShape)
        | DType.Float32 -> Tensor.OwnDense(outShape, binaryTyped<float32> op a b outShape)

    let private whereTyped<'M, 'T when 'M :> IFloatingPointIeee754<'M> and 'T :> IFloatingPointIeee754<'T>>
        (mask: Tensor) (ifTrue: Tensor) (ifFalse: Tensor) (outShape: int[]) : 'T[] =
        let operands, plan = planOperands outShape [| mask; ifTrue; ifFalse |]
        let mask, ifTrue, ifFalse = operands.[0], operands.[1], operands.[2]
        let m, t, f = storage<'M> mask, storage<'T> ifTrue, storage<'T> ifFalse
        let result = RecycledArrays.Take<'T> (Shape.numel outShape)
        let ms, ts, fs = plan.InnerStrides.[0], plan.InnerStrides.[1], plan.InnerStrides.[2]
        let lanes = Type.op_Equality(typeof<'M>, typeof<'T>) && (ms = 0 || ms = 1) && (ts = 0 || ts = 1) && (fs = 0 || fs = 1)
        if result.Length > 0 && lanes then
            let m = box m :?> 'T[]
            forRows plan (fun row starts ->
                whereRun m (mask.Offset + starts.[0]) ms t (ifTrue.Offset + starts.[1]) ts f (ifFalse.Offset + starts.[2]) fs
                         result (row * plan.Length) plan.Length)
        elif result.Length > 0 then
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

    let private whereMasked<'T when 'T :> IFloatingPointIeee754<'T>> (mask: Tensor) (ifTrue: Tensor) (ifFalse: Tensor) (outShape: int[]) : 'T[] =
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

    /// `cast` into `target` (dense, of t's shape, in the other dtype), for compiled plans: the
    /// conversion of Tensor.Cast element by element, without its dense copy of a strided source.
    let internal castInto (t: Tensor) (target: Array) : unit =
        let dims = t.Dims
        let rank = dims.Length
        let n = t.Numel
        if n > 0 then
            // rows of the innermost axis, walked with an odometer on the stack
            let inner = if rank = 0 then 1 else dims.[rank - 1]
            let innerStride = if rank = 0 then 0 else t.Strides.[rank - 1]
            let counter = Span<int>(NativePtr.toVoidPtr (NativePtr.stackalloc<int> (max rank 1)), max rank 1)
            counter.Clear()
            let strides = t.Strides
            let mutable position = t.Offset
            let mutable written = 0
            while written < n do
                match t.DType with
                | DType.Float32 ->
                    let values, converted = t.Data32, target :?> float[]
                    for j in 0 .. inner - 1 do converted.[written + j] <- float values.[position + j * innerStride]
                | DType.Float64 ->
                    let values, converted = t.Data64, target :?> float32[]
                    for j in 0 .. inner - 1 do converted.[written + j] <- float32 values.[position + j * innerStride]
                written <- written + inner
                let mutable axis = rank - 2
                let mutable carry = true
                while carry && axis >= 0 do
                    counter.[axis] <- counter.[axis] + 1
                    position <- position + strides.[axis]
                    if counter.[axis] < dims.[axis] then carry <- false
                    else
                        position <- position - strides.[axis] * dims.[axis]
                        counter.[axis] <- 0
                        axis <- axis - 1
