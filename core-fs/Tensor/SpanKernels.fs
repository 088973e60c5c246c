/// SpanKernels: the arithmetic that elementwise maps and reductions run on contiguous spans
/// (+, −, ×, ÷ of two spans or a span and a scalar, negation, max and min, abs, sign, sqrt, floor, ceiling,
/// round, and the sum, maximum and minimum of a span), written here
/// instead of calling TensorPrimitives. Why: TensorPrimitives is generic code of another assembly,
/// so under .NET's default tiered compilation each instantiation over float32 and float64 starts
/// as unoptimised tier-0 code (every vector operation a call) and stays there until the runtime's
/// call counting promotes it; in a training loop that kept creating new graphs the promotion had
/// not come after 10,000 steps. The methods here are ours, and a Release build compiles them
/// optimised at their first call (core-fs/build/OptimizeMethods.targets). Each lane does the one
/// IEEE operation its scalar does, so the results are the correctly rounded ones TensorPrimitives
/// gives; only the sum's order of additions is our own (fixed, so every path that sums agrees).
namespace FunctionalDiff.Core

open System
open System.Numerics
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open System.Runtime.Intrinsics

/// Vectorised arithmetic over contiguous spans of float32 or float64.
module internal SpanKernels =

    /// y = x ⊕ z lane by lane, 4 vectors per iteration, then single vectors, then scalars.
    let inline private lanes2<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> INumber<'T>>
        ([<InlineIfLambda>] vector: Vector256<'T> -> Vector256<'T> -> Vector256<'T>)
        ([<InlineIfLambda>] scalar: 'T -> 'T -> 'T)
        (x: ReadOnlySpan<'T>) (z: ReadOnlySpan<'T>) (y: Span<'T>) =
        let n = y.Length
        let rx = &MemoryMarshal.GetReference x
        let rz = &MemoryMarshal.GetReference z
        let ry = &MemoryMarshal.GetReference y
        let w = Vector256<'T>.Count
        let mutable i = 0
        if Vector256.IsHardwareAccelerated then
            while i + 4 * w <= n do
                let k = unativeint i
                let a0 = vector (Vector256.LoadUnsafe(&rx, k)) (Vector256.LoadUnsafe(&rz, k))
                let a1 = vector (Vector256.LoadUnsafe(&rx, k + unativeint w)) (Vector256.LoadUnsafe(&rz, k + unativeint w))
                let a2 = vector (Vector256.LoadUnsafe(&rx, k + unativeint (2 * w))) (Vector256.LoadUnsafe(&rz, k + unativeint (2 * w)))
                let a3 = vector (Vector256.LoadUnsafe(&rx, k + unativeint (3 * w))) (Vector256.LoadUnsafe(&rz, k + unativeint (3 * w)))
                a0.StoreUnsafe(&ry, k)
                a1.StoreUnsafe(&ry, k + unativeint w)
                a2.StoreUnsafe(&ry, k + unativeint (2 * w))
                a3.StoreUnsafe(&ry, k + unativeint (3 * w))
                i <- i + 4 * w
            while i + w <= n do
                let k = unativeint i
                (vector (Vector256.LoadUnsafe(&rx, k)) (Vector256.LoadUnsafe(&rz, k))).StoreUnsafe(&ry, k)
                i <- i + w
        while i < n do
            Unsafe.Add(&ry, i) <- scalar (Unsafe.Add(&rx, i)) (Unsafe.Add(&rz, i))
            i <- i + 1

    /// y = x ⊕ s (or s ⊕ x, as `vector` and `scalar` order them) lane by lane.
    let inline private lanes1<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> INumber<'T>>
        ([<InlineIfLambda>] vector: Vector256<'T> -> Vector256<'T>)
        ([<InlineIfLambda>] scalar: 'T -> 'T)
        (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        let n = y.Length
        let rx = &MemoryMarshal.GetReference x
        let ry = &MemoryMarshal.GetReference y
        let w = Vector256<'T>.Count
        let mutable i = 0
        if Vector256.IsHardwareAccelerated then
            while i + 4 * w <= n do
                let k = unativeint i
                let a0 = vector (Vector256.LoadUnsafe(&rx, k))
                let a1 = vector (Vector256.LoadUnsafe(&rx, k + unativeint w))
                let a2 = vector (Vector256.LoadUnsafe(&rx, k + unativeint (2 * w)))
                let a3 = vector (Vector256.LoadUnsafe(&rx, k + unativeint (3 * w)))
                a0.StoreUnsafe(&ry, k)
                a1.StoreUnsafe(&ry, k + unativeint w)
                a2.StoreUnsafe(&ry, k + unativeint (2 * w))
                a3.StoreUnsafe(&ry, k + unativeint (3 * w))
                i <- i + 4 * w
            while i + w <= n do
                let k = unativeint i
                (vector (Vector256.LoadUnsafe(&rx, k))).StoreUnsafe(&ry, k)
                i <- i + w
        while i < n do
            Unsafe.Add(&ry, i) <- scalar (Unsafe.Add(&rx, i))
            i <- i + 1

    /// The sum of a span: four vector accumulators (independent chains of additions), added as
    /// (a0 + a1) + (a2 + a3), their lanes added in order, then the tail in order.
    let inline private sumLanes<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> INumber<'T>>
        (x: ReadOnlySpan<'T>) : 'T =
        let n = x.Length
        let rx = &MemoryMarshal.GetReference x
        let w = Vector256<'T>.Count
        let mutable i = 0
        let mutable total = 'T.Zero
        if Vector256.IsHardwareAccelerated && n >= w then
            let mutable a0 = Vector256<'T>.Zero
            let mutable a1 = Vector256<'T>.Zero
            let mutable a2 = Vector256<'T>.Zero
            let mutable a3 = Vector256<'T>.Zero
            while i + 4 * w <= n do
                let k = unativeint i
                a0 <- a0 + Vector256.LoadUnsafe(&rx, k)
                a1 <- a1 + Vector256.LoadUnsafe(&rx, k + unativeint w)
                a2 <- a2 + Vector256.LoadUnsafe(&rx, k + unativeint (2 * w))
                a3 <- a3 + Vector256.LoadUnsafe(&rx, k + unativeint (3 * w))
                i <- i + 4 * w
            while i + w <= n do
                a0 <- a0 + Vector256.LoadUnsafe(&rx, unativeint i)
                i <- i + w
            let v = (a0 + a1) + (a2 + a3)
            for lane in 0 .. w - 1 do
                total <- total + v.GetElement lane
        while i < n do
            total <- total + Unsafe.Add(&rx, i)
            i <- i + 1
        total

    /// The maximum (or minimum, as `pick` is Vector256.Max or Min and `scalar` Math.Max or Min) of a
    /// nonempty span, by four vector accumulators. These follow IEEE 754's maximum: NaN wins and +0
    /// is above −0, which makes them associative and commutative, so the order of the lanes cannot
    /// change the result.
    let inline private extremumLanes<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> INumber<'T>>
        ([<InlineIfLambda>] pick: Vector256<'T> -> Vector256<'T> -> Vector256<'T>)
        ([<InlineIfLambda>] scalar: 'T -> 'T -> 'T)
        (x: ReadOnlySpan<'T>) : 'T =
        let n = x.Length
        let rx = &MemoryMarshal.GetReference x
        let w = Vector256<'T>.Count
        let mutable i = 0
        let mutable result = x.[0]
        if Vector256.IsHardwareAccelerated && n >= w then
            let mutable a0 = Vector256.LoadUnsafe(&rx, 0un)
            let mutable a1 = a0
            let mutable a2 = a0
            let mutable a3 = a0
            i <- w
            while i + 4 * w <= n do
                let k = unativeint i
                a0 <- pick a0 (Vector256.LoadUnsafe(&rx, k))
                a1 <- pick a1 (Vector256.LoadUnsafe(&rx, k + unativeint w))
                a2 <- pick a2 (Vector256.LoadUnsafe(&rx, k + unativeint (2 * w)))
                a3 <- pick a3 (Vector256.LoadUnsafe(&rx, k + unativeint (3 * w)))
                i <- i + 4 * w
            while i + w <= n do
                a0 <- pick a0 (Vector256.LoadUnsafe(&rx, unativeint i))
                i <- i + w
            let v = pick (pick a0 a1) (pick a2 a3)
            for lane in 0 .. w - 1 do
                result <- scalar result (v.GetElement lane)
        while i < n do
            result <- scalar result (Unsafe.Add(&rx, i))
            i <- i + 1
        result

    /// The dot product of two spans of one length: four vector accumulators of products (each
    /// product and each addition rounded, no fused multiply-add), added as (a0 + a1) + (a2 + a3),
    /// their lanes in order, then the tail in order.
    let inline private dotLanes<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> INumber<'T>>
        (x: ReadOnlySpan<'T>) (z: ReadOnlySpan<'T>) : 'T =
        let n = x.Length
        let rx = &MemoryMarshal.GetReference x
        let rz = &MemoryMarshal.GetReference z
        let w = Vector256<'T>.Count
        let mutable i = 0
        let mutable total = 'T.Zero
        if Vector256.IsHardwareAccelerated && n >= w then
            let mutable a0 = Vector256<'T>.Zero
            let mutable a1 = Vector256<'T>.Zero
            let mutable a2 = Vector256<'T>.Zero
            let mutable a3 = Vector256<'T>.Zero
            while i + 4 * w <= n do
                let k = unativeint i
                a0 <- a0 + Vector256.LoadUnsafe(&rx, k) * Vector256.LoadUnsafe(&rz, k)
                a1 <- a1 + Vector256.LoadUnsafe(&rx, k + unativeint w) * Vector256.LoadUnsafe(&rz, k + unativeint w)
                a2 <- a2 + Vector256.LoadUnsafe(&rx, k + unativeint (2 * w)) * Vector256.LoadUnsafe(&rz, k + unativeint (2 * w))
                a3 <- a3 + Vector256.LoadUnsafe(&rx, k + unativeint (3 * w)) * Vector256.LoadUnsafe(&rz, k + unativeint (3 * w))
                i <- i + 4 * w
            while i + w <= n do
                let k = unativeint i
                a0 <- a0 + Vector256.LoadUnsafe(&rx, k) * Vector256.LoadUnsafe(&rz, k)
                i <- i + w
            let v = (a0 + a1) + (a2 + a3)
            for lane in 0 .. w - 1 do
                total <- total + v.GetElement lane
        while i < n do
            total <- total + Unsafe.Add(&rx, i) * Unsafe.Add(&rz, i)
            i <- i + 1
        total

    // The float32 and float64 instances: the public functions below reinterpret a span of 'T as
    // one of these (the element type is float32 or float64 whenever they are called).
    let private add32 (x: ReadOnlySpan<float32>) z y = lanes2 (fun a b -> a + b) (fun a b -> a + b) x z y
    let private add64 (x: ReadOnlySpan<float>) z y = lanes2 (fun a b -> a + b) (fun a b -> a + b) x z y
    let private sub32 (x: ReadOnlySpan<float32>) z y = lanes2 (fun a b -> a - b) (fun a b -> a - b) x z y
    let private sub64 (x: ReadOnlySpan<float>) z y = lanes2 (fun a b -> a - b) (fun a b -> a - b) x z y
    let private mul32 (x: ReadOnlySpan<float32>) z y = lanes2 (fun a b -> a * b) (fun a b -> a * b) x z y
    let private mul64 (x: ReadOnlySpan<float>) z y = lanes2 (fun a b -> a * b) (fun a b -> a * b) x z y
    let private div32 (x: ReadOnlySpan<float32>) z y = lanes2 (fun a b -> a / b) (fun a b -> a / b) x z y
    let private div64 (x: ReadOnlySpan<float>) z y = lanes2 (fun a b -> a / b) (fun a b -> a / b) x z y

    let private addScalar32 (x: ReadOnlySpan<float32>) (s: float32) y = let v = Vector256.Create s in lanes1 (fun a -> a + v) (fun a -> a + s) x y
    let private addScalar64 (x: ReadOnlySpan<float>) (s: float) y = let v = Vector256.Create s in lanes1 (fun a -> a + v) (fun a -> a + s) x y
    let private subScalar32 (x: ReadOnlySpan<float32>) (s: float32) y = let v = Vector256.Create s in lanes1 (fun a -> a - v) (fun a -> a - s) x y
    let private subScalar64 (x: ReadOnlySpan<float>) (s: float) y = let v = Vector256.Create s in lanes1 (fun a -> a - v) (fun a -> a - s) x y
    let private mulScalar32 (x: ReadOnlySpan<float32>) (s: float32) y = let v = Vector256.Create s in lanes1 (fun a -> a * v) (fun a -> a * s) x y
    let private mulScalar64 (x: ReadOnlySpan<float>) (s: float) y = let v = Vector256.Create s in lanes1 (fun a -> a * v) (fun a -> a * s) x y
    let private divScalar32 (x: ReadOnlySpan<float32>) (s: float32) y = let v = Vector256.Create s in lanes1 (fun a -> a / v) (fun a -> a / s) x y
    let private divScalar64 (x: ReadOnlySpan<float>) (s: float) y = let v = Vector256.Create s in lanes1 (fun a -> a / v) (fun a -> a / s) x y
    let private scalarSub32 (s: float32) (x: ReadOnlySpan<float32>) y = let v = Vector256.Create s in lanes1 (fun a -> v - a) (fun a -> s - a) x y
    let private scalarSub64 (s: float) (x: ReadOnlySpan<float>) y = let v = Vector256.Create s in lanes1 (fun a -> v - a) (fun a -> s - a) x y
    let private scalarDiv32 (s: float32) (x: ReadOnlySpan<float32>) y = let v = Vector256.Create s in lanes1 (fun a -> v / a) (fun a -> s / a) x y
    let private scalarDiv64 (s: float) (x: ReadOnlySpan<float>) y = let v = Vector256.Create s in lanes1 (fun a -> v / a) (fun a -> s / a) x y
    let private timesDifference32 (x: ReadOnlySpan<float32>) (s: float32) z y = let v = Vector256.Create s in lanes2 (fun a b -> b * (a - v)) (fun a b -> b * (a - s)) x z y
    let private timesDifference64 (x: ReadOnlySpan<float>) (s: float) z y = let v = Vector256.Create s in lanes2 (fun a b -> b * (a - v)) (fun a b -> b * (a - s)) x z y
    let private negate32 (x: ReadOnlySpan<float32>) y = lanes1 (fun a -> -a) (fun a -> -a) x y
    let private negate64 (x: ReadOnlySpan<float>) y = lanes1 (fun a -> -a) (fun a -> -a) x y
    let private negativeAbs32 (x: ReadOnlySpan<float32>) y = lanes1 (fun a -> -Vector256.Abs a) (fun a -> -(abs a)) x y
    let private negativeAbs64 (x: ReadOnlySpan<float>) y = lanes1 (fun a -> -Vector256.Abs a) (fun a -> -(abs a)) x y
    let private negativeSquare64 (x: ReadOnlySpan<float>) y = lanes1 (fun a -> -(a * a)) (fun a -> -(a * a)) x y
    let private overOnePlusSquared32 (x: ReadOnlySpan<float32>) y =
        lanes1 (fun a -> let d = a + Vector256<float32>.One in a / (d * d)) (fun a -> let d = a + 1.0f in a / (d * d)) x y
    let private overOnePlusSquared64 (x: ReadOnlySpan<float>) y =
        lanes1 (fun a -> let d = a + Vector256<float>.One in a / (d * d)) (fun a -> let d = a + 1.0 in a / (d * d)) x y
    let private max32 (x: ReadOnlySpan<float32>) z y = lanes2 (fun (a: Vector256<float32>) b -> Vector256.Max(a, b)) (fun (a: float32) b -> MathF.Max(a, b)) x z y
    let private max64 (x: ReadOnlySpan<float>) z y = lanes2 (fun (a: Vector256<float>) b -> Vector256.Max(a, b)) (fun (a: float) b -> Math.Max(a, b)) x z y
    let private min32 (x: ReadOnlySpan<float32>) z y = lanes2 (fun (a: Vector256<float32>) b -> Vector256.Min(a, b)) (fun (a: float32) b -> MathF.Min(a, b)) x z y
    let private min64 (x: ReadOnlySpan<float>) z y = lanes2 (fun (a: Vector256<float>) b -> Vector256.Min(a, b)) (fun (a: float) b -> Math.Min(a, b)) x z y
    // relu as torch's clamp_min keeps it: x itself unless x < 0, so −0 stays −0 (IEEE maximum(−0, +0) is +0; atan2 and 1/x
    // tell them apart) and NaN stays NaN
    let private relu32 (x: ReadOnlySpan<float32>) y =
        lanes1 (fun (a: Vector256<float32>) -> Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256<float32>.Zero), Vector256<float32>.Zero, a))
            (fun (a: float32) -> if a < 0.0f then 0.0f else a) x y
    let private relu64 (x: ReadOnlySpan<float>) y =
        lanes1 (fun (a: Vector256<float>) -> Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256<float>.Zero), Vector256<float>.Zero, a))
            (fun (a: float) -> if a < 0.0 then 0.0 else a) x y
    let private maxScalar32 (x: ReadOnlySpan<float32>) (s: float32) y = let v = Vector256.Create s in lanes1 (fun (a: Vector256<float32>) -> Vector256.Max(a, v)) (fun (a: float32) -> MathF.Max(a, s)) x y
    let private maxScalar64 (x: ReadOnlySpan<float>) (s: float) y = let v = Vector256.Create s in lanes1 (fun (a: Vector256<float>) -> Vector256.Max(a, v)) (fun (a: float) -> Math.Max(a, s)) x y
    let private minScalar32 (x: ReadOnlySpan<float32>) (s: float32) y = let v = Vector256.Create s in lanes1 (fun (a: Vector256<float32>) -> Vector256.Min(a, v)) (fun (a: float32) -> MathF.Min(a, s)) x y
    let private minScalar64 (x: ReadOnlySpan<float>) (s: float) y = let v = Vector256.Create s in lanes1 (fun (a: Vector256<float>) -> Vector256.Min(a, v)) (fun (a: float) -> Math.Min(a, s)) x y
    let private abs32 (x: ReadOnlySpan<float32>) y = lanes1 (fun (a: Vector256<float32>) -> Vector256.Abs a) (fun (a: float32) -> MathF.Abs a) x y
    let private abs64 (x: ReadOnlySpan<float>) y = lanes1 (fun (a: Vector256<float>) -> Vector256.Abs a) (fun (a: float) -> Math.Abs a) x y
    // sign as (x > 0) − (x < 0): each comparison's mask keeps 1 or 0, so both zeros and NaN give +0,
    // as the scalar Special.sign and torch.sign
    let private sign32 (x: ReadOnlySpan<float32>) y =
        let one = Vector256.Create 1.0f
        lanes1 (fun (a: Vector256<float32>) ->
                    (Vector256.GreaterThan(a, Vector256<float32>.Zero) &&& one) - (Vector256.LessThan(a, Vector256<float32>.Zero) &&& one))
               (fun (a: float32) -> if a > 0.0f then 1.0f elif a < 0.0f then -1.0f else 0.0f) x y
    let private sign64 (x: ReadOnlySpan<float>) y =
        let one = Vector256.Create 1.0
        lanes1 (fun (a: Vector256<float>) ->
                    (Vector256.GreaterThan(a, Vector256<float>.Zero) &&& one) - (Vector256.LessThan(a, Vector256<float>.Zero) &&& one))
               (fun (a: float) -> if a > 0.0 then 1.0 elif a < 0.0 then -1.0 else 0.0) x y
    let private sqrt32 (x: ReadOnlySpan<float32>) y = lanes1 (fun (a: Vector256<float32>) -> Vector256.Sqrt a) (fun (a: float32) -> MathF.Sqrt a) x y
    let private sqrt64 (x: ReadOnlySpan<float>) y = lanes1 (fun (a: Vector256<float>) -> Vector256.Sqrt a) (fun (a: float) -> Math.Sqrt a) x y
    let private floor32 (x: ReadOnlySpan<float32>) y = lanes1 (fun (a: Vector256<float32>) -> Vector256.Floor a) (fun (a: float32) -> MathF.Floor a) x y
    let private floor64 (x: ReadOnlySpan<float>) y = lanes1 (fun (a: Vector256<float>) -> Vector256.Floor a) (fun (a: float) -> Math.Floor a) x y
    let private ceiling32 (x: ReadOnlySpan<float32>) y = lanes1 (fun (a: Vector256<float32>) -> Vector256.Ceiling a) (fun (a: float32) -> MathF.Ceiling a) x y
    let private ceiling64 (x: ReadOnlySpan<float>) y = lanes1 (fun (a: Vector256<float>) -> Vector256.Ceiling a) (fun (a: float) -> Math.Ceiling a) x y
    let private round32 (x: ReadOnlySpan<float32>) y = lanes1 (fun (a: Vector256<float32>) -> Vector256.Round a) (fun (a: float32) -> MathF.Round(a, MidpointRounding.ToEven)) x y
    let private round64 (x: ReadOnlySpan<float>) y = lanes1 (fun (a: Vector256<float>) -> Vector256.Round a) (fun (a: float) -> Math.Round(a, MidpointRounding.ToEven)) x y
    let private maximum32 (x: ReadOnlySpan<float32>) = extremumLanes (fun (a: Vector256<float32>) b -> Vector256.Max(a, b)) (fun (a: float32) b -> MathF.Max(a, b)) x
    let private maximum64 (x: ReadOnlySpan<float>) = extremumLanes (fun (a: Vector256<float>) b -> Vector256.Max(a, b)) (fun (a: float) b -> Math.Max(a, b)) x
    let private minimum32 (x: ReadOnlySpan<float32>) = extremumLanes (fun (a: Vector256<float32>) b -> Vector256.Min(a, b)) (fun (a: float32) b -> MathF.Min(a, b)) x
    let private minimum64 (x: ReadOnlySpan<float>) = extremumLanes (fun (a: Vector256<float>) b -> Vector256.Min(a, b)) (fun (a: float) b -> Math.Min(a, b)) x
    let private dot32 (x: ReadOnlySpan<float32>) z = dotLanes x z
    let private dot64 (x: ReadOnlySpan<float>) z = dotLanes x z
    let private multiplyAdd32 (x: ReadOnlySpan<float32>) (s: float32) (y: Span<float32>) =
        let v = Vector256.Create s
        lanes2 (fun (a: Vector256<float32>) b -> a * v + b) (fun (a: float32) b -> a * s + b) x (Span<float32>.op_Implicit y) y
    let private multiplyAdd64 (x: ReadOnlySpan<float>) (s: float) (y: Span<float>) =
        let v = Vector256.Create s
        lanes2 (fun (a: Vector256<float>) b -> a * v + b) (fun (a: float) b -> a * s + b) x (Span<float>.op_Implicit y) y
    let private sum32 (x: ReadOnlySpan<float32>) = sumLanes x
    let private sum64 (x: ReadOnlySpan<float>) = sumLanes x

    let inline private is32<'T> () = Type.op_Equality(typeof<'T>, typeof<float32>)
    let inline private is64<'T> () = Type.op_Equality(typeof<'T>, typeof<float>)

    /// The same memory as a span of 'U (float32 or float64, which 'T is).
    let inline private read<'T, 'U> (x: ReadOnlySpan<'T>) : ReadOnlySpan<'U> =
        MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, 'U>(&MemoryMarshal.GetReference x), x.Length)
    let inline private write<'T, 'U> (y: Span<'T>) : Span<'U> =
        MemoryMarshal.CreateSpan(&Unsafe.As<'T, 'U>(&MemoryMarshal.GetReference y), y.Length)
    let inline private value<'T, 'U> (s: 'T) : 'U =
        let mutable s = s
        Unsafe.As<'T, 'U>(&s)

    // Element types other than float32 and float64 never reach the kernels; TensorPrimitives
    // keeps them correct should one ever do.

    /// y = x + z.
    let add<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (z: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then add32 (read x) (read z) (write y)
        elif is64<'T> () then add64 (read x) (read z) (write y)
        else Tensors.TensorPrimitives.Add(x, z, y)

    /// y = x − z.
    let subtract<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (z: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then sub32 (read x) (read z) (write y)
        elif is64<'T> () then sub64 (read x) (read z) (write y)
        else Tensors.TensorPrimitives.Subtract(x, z, y)

    /// y = x × z.
    let multiply<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (z: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then mul32 (read x) (read z) (write y)
        elif is64<'T> () then mul64 (read x) (read z) (write y)
        else Tensors.TensorPrimitives.Multiply(x, z, y)

    /// y = x ÷ z.
    let divide<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (z: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then div32 (read x) (read z) (write y)
        elif is64<'T> () then div64 (read x) (read z) (write y)
        else Tensors.TensorPrimitives.Divide(x, z, y)

    /// y = x + s.
    let addScalar<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (s: 'T) (y: Span<'T>) =
        if is32<'T> () then addScalar32 (read x) (value s) (write y)
        elif is64<'T> () then addScalar64 (read x) (value s) (write y)
        else Tensors.TensorPrimitives.Add(x, s, y)

    /// y = x − s.
    let subtractScalar<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (s: 'T) (y: Span<'T>) =
        if is32<'T> () then subScalar32 (read x) (value s) (write y)
        elif is64<'T> () then subScalar64 (read x) (value s) (write y)
        else Tensors.TensorPrimitives.Subtract(x, s, y)

    /// y = z × (x − s), lane by lane, so y may be x or z (softmax's pullback of x at its output z, with s
    /// the run's Σ x·z).
    let timesDifference<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (s: 'T) (z: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then timesDifference32 (read x) (value s) (read z) (write y)
        elif is64<'T> () then timesDifference64 (read x) (value s) (read z) (write y)
        else
            for i in 0 .. y.Length - 1 do
                y.[i] <- z.[i] * (x.[i] - s)

    /// y = x × s.
    let multiplyScalar<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (s: 'T) (y: Span<'T>) =
        if is32<'T> () then mulScalar32 (read x) (value s) (write y)
        elif is64<'T> () then mulScalar64 (read x) (value s) (write y)
        else Tensors.TensorPrimitives.Multiply(x, s, y)

    /// y = x ÷ s. Where s is ±2^k and 2^−k is a value of the dtype too (normal or subnormal), x·(1/s) is the same
    /// real number as x/s for every x, so it rounds to the same bits (±0, ±∞, NaN and subnormals included), and a
    /// multiply costs a fraction of a divide: a norm divides its rows by a held power of two (1 unless they are huge).
    let divideScalar<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (s: 'T) (y: Span<'T>) =
        let reciprocal = 'T.One / s
        let exact =
            'T.IsFinite s && not ('T.IsZero s) && 'T.IsFinite reciprocal && not ('T.IsZero reciprocal)
            && (let k = 'T.ILogB s
                'T.op_Equality('T.Abs s, 'T.ScaleB('T.One, k)) && 'T.op_Equality('T.Abs reciprocal, 'T.ScaleB('T.One, -k)))
        if exact then multiplyScalar x reciprocal y
        elif is32<'T> () then divScalar32 (read x) (value s) (write y)
        elif is64<'T> () then divScalar64 (read x) (value s) (write y)
        else Tensors.TensorPrimitives.Divide(x, s, y)

    /// y = s − x.
    let scalarSubtract<'T when 'T :> IFloatingPointIeee754<'T>> (s: 'T) (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then scalarSub32 (value s) (read x) (write y)
        elif is64<'T> () then scalarSub64 (value s) (read x) (write y)
        else Tensors.TensorPrimitives.Subtract(s, x, y)

    /// y = s ÷ x.
    let scalarDivide<'T when 'T :> IFloatingPointIeee754<'T>> (s: 'T) (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then scalarDiv32 (value s) (read x) (write y)
        elif is64<'T> () then scalarDiv64 (value s) (read x) (write y)
        else Tensors.TensorPrimitives.Divide(s, x, y)

    /// y = −x.
    let negate<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then negate32 (read x) (write y)
        elif is64<'T> () then negate64 (read x) (write y)
        else Tensors.TensorPrimitives.Negate(x, y)

    /// y = max(x, z) lane by lane, IEEE 754's maximum (NaN if either is, +0 above −0), as Math.Max.
    let maximum<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (z: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then max32 (read x) (read z) (write y)
        elif is64<'T> () then max64 (read x) (read z) (write y)
        else Tensors.TensorPrimitives.Max(x, z, y)

    /// y = min(x, z) lane by lane, IEEE 754's minimum (NaN if either is, −0 below +0), as Math.Min.
    let minimum<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (z: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then min32 (read x) (read z) (write y)
        elif is64<'T> () then min64 (read x) (read z) (write y)
        else Tensors.TensorPrimitives.Min(x, z, y)

    /// y = max(x, s), as `maximum` (relu is s = 0: NaN stays NaN and −0 gives +0).
    let maximumScalar<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (s: 'T) (y: Span<'T>) =
        if is32<'T> () then maxScalar32 (read x) (value s) (write y)
        elif is64<'T> () then maxScalar64 (read x) (value s) (write y)
        else Tensors.TensorPrimitives.Max(x, s, y)

    /// y = relu x: 0 where x < 0, x itself elsewhere (−0 and NaN included).
    let relu<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then relu32 (read x) (write y)
        elif is64<'T> () then relu64 (read x) (write y)
        else
            for i in 0 .. x.Length - 1 do
                y.[i] <- if 'T.op_LessThan(x.[i], 'T.Zero) then 'T.Zero else x.[i]

    /// y = min(x, s), as `minimum`.
    let minimumScalar<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (s: 'T) (y: Span<'T>) =
        if is32<'T> () then minScalar32 (read x) (value s) (write y)
        elif is64<'T> () then minScalar64 (read x) (value s) (write y)
        else Tensors.TensorPrimitives.Min(x, s, y)

    /// y = |x|.
    let abs<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then abs32 (read x) (write y)
        elif is64<'T> () then abs64 (read x) (write y)
        else Tensors.TensorPrimitives.Abs(x, y)

    /// y = sign x: −1, 0 or 1, and +0 for both zeros and for NaN (torch.sign's convention).
    let sign<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then sign32 (read x) (write y)
        elif is64<'T> () then sign64 (read x) (write y)
        else
            for i in 0 .. x.Length - 1 do
                let v = Double.CreateTruncating x.[i]
                y.[i] <- 'T.CreateTruncating(if v > 0.0 then 1.0 elif v < 0.0 then -1.0 else 0.0)

    // x³ as (x·x)·x and x^−2 as 1/(x·x): two correctly rounded operations in this order, one pass
    // (a pass of x·x, then one of it times x, would read x again after an in-place first pass wrote
    // over it)
    let private cube32 (x: ReadOnlySpan<float32>) y = lanes1 (fun (a: Vector256<float32>) -> a * a * a) (fun (a: float32) -> a * a * a) x y
    let private cube64 (x: ReadOnlySpan<float>) y = lanes1 (fun (a: Vector256<float>) -> a * a * a) (fun (a: float) -> a * a * a) x y
    let private inverseSquare32 (x: ReadOnlySpan<float32>) y =
        let one = Vector256.Create 1.0f
        lanes1 (fun (a: Vector256<float32>) -> one / (a * a)) (fun (a: float32) -> 1.0f / (a * a)) x y
    let private inverseSquare64 (x: ReadOnlySpan<float>) y =
        let one = Vector256.Create 1.0
        lanes1 (fun (a: Vector256<float>) -> one / (a * a)) (fun (a: float) -> 1.0 / (a * a)) x y

    /// y = (x·x)·x.
    let cube<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then cube32 (read x) (write y)
        elif is64<'T> () then cube64 (read x) (write y)
        else Tensors.TensorPrimitives.Pow(x, 'T.CreateTruncating 3.0, y)

    /// y = 1/(x·x).
    let inverseSquare<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then inverseSquare32 (read x) (write y)
        elif is64<'T> () then inverseSquare64 (read x) (write y)
        else Tensors.TensorPrimitives.Pow(x, 'T.CreateTruncating -2.0, y)

    /// y = √x, correctly rounded.
    let sqrt<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then sqrt32 (read x) (write y)
        elif is64<'T> () then sqrt64 (read x) (write y)
        else Tensors.TensorPrimitives.Sqrt(x, y)

    /// y = ⌊x⌋.
    let floor<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then floor32 (read x) (write y)
        elif is64<'T> () then floor64 (read x) (write y)
        else Tensors.TensorPrimitives.Floor(x, y)

    /// y = ⌈x⌉.
    let ceiling<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then ceiling32 (read x) (write y)
        elif is64<'T> () then ceiling64 (read x) (write y)
        else Tensors.TensorPrimitives.Ceiling(x, y)

    /// y = x rounded to the nearest integer, halves to even (as torch.round).
    let round<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then round32 (read x) (write y)
        elif is64<'T> () then round64 (read x) (write y)
        else Tensors.TensorPrimitives.Round(x, MidpointRounding.ToEven, y)

    /// The largest entry of a nonempty span, NaN if any entry is NaN (as torch's max).
    let max<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) : 'T =
        if is32<'T> () then value<float32, 'T> (maximum32 (read x))
        elif is64<'T> () then value<float, 'T> (maximum64 (read x))
        else Tensors.TensorPrimitives.Max x

    /// The smallest entry of a nonempty span, NaN if any entry is NaN.
    let min<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) : 'T =
        if is32<'T> () then value<float32, 'T> (minimum32 (read x))
        elif is64<'T> () then value<float, 'T> (minimum64 (read x))
        else Tensors.TensorPrimitives.Min x

    /// Σ x·z over two spans of one length, in the fixed order of `dotLanes`.
    let dot<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (z: ReadOnlySpan<'T>) : 'T =
        if is32<'T> () then value<float32, 'T> (dot32 (read x) (read z))
        elif is64<'T> () then value<float, 'T> (dot64 (read x) (read z))
        else Tensors.TensorPrimitives.Dot(x, z)

    /// y = x·s + y, the product and the sum each rounded (as TensorPrimitives.MultiplyAdd).
    let multiplyAddInto<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (s: 'T) (y: Span<'T>) =
        if is32<'T> () then multiplyAdd32 (read x) (value s) (write y)
        elif is64<'T> () then multiplyAdd64 (read x) (value s) (write y)
        else Tensors.TensorPrimitives.MultiplyAdd(x, s, Span<'T>.op_Implicit y, y)

    /// y = f(x widened to float64), 8 lanes at a time: the widening is exact, so f sees x's values.
    let inline private widenWith ([<InlineIfLambda>] f: Vector256<float> -> Vector256<float>) ([<InlineIfLambda>] g: float -> float)
                                  (x: ReadOnlySpan<float32>) (y: Span<float>) =
        let n = x.Length
        let rx = &MemoryMarshal.GetReference x
        let ry = &MemoryMarshal.GetReference y
        let mutable i = 0
        if Vector256.IsHardwareAccelerated then
            while i + 8 <= n do
                let v = Vector256.LoadUnsafe(&rx, unativeint i)
                (f (Vector256.WidenLower v)).StoreUnsafe(&ry, unativeint i)
                (f (Vector256.WidenUpper v)).StoreUnsafe(&ry, unativeint (i + 4))
                i <- i + 8
        while i < n do
            Unsafe.Add(&ry, i) <- g (float (Unsafe.Add(&rx, i)))
            i <- i + 1

    /// y = f(x) rounded to float32 (to nearest, as a cast), 8 lanes at a time: one rounding after f's.
    let inline private narrowWith ([<InlineIfLambda>] f: Vector256<float> -> Vector256<float>) ([<InlineIfLambda>] g: float -> float)
                                   (x: ReadOnlySpan<float>) (y: Span<float32>) =
        let n = x.Length
        let rx = &MemoryMarshal.GetReference x
        let ry = &MemoryMarshal.GetReference y
        let mutable i = 0
        if Vector256.IsHardwareAccelerated then
            while i + 8 <= n do
                let low = f (Vector256.LoadUnsafe(&rx, unativeint i))
                let high = f (Vector256.LoadUnsafe(&rx, unativeint (i + 4)))
                (Vector256.Narrow(low, high)).StoreUnsafe(&ry, unativeint i)
                i <- i + 8
        while i < n do
            Unsafe.Add(&ry, i) <- float32 (g (Unsafe.Add(&rx, i)))
            i <- i + 1

    /// y = x as float64 (exact), 8 lanes at a time.
    let widen (x: ReadOnlySpan<float32>) (y: Span<float>) = widenWith id id x y

    /// y = x widened to float64, minus s: the float64 difference of the widened values, in one pass.
    let widenMinus (x: ReadOnlySpan<float32>) (s: float) (y: Span<float>) =
        let v = Vector256.Create s
        widenWith (fun a -> a - v) (fun a -> a - s) x y

    /// y = x rounded to float32 (to nearest, as a cast), 8 lanes at a time.
    let narrow (x: ReadOnlySpan<float>) (y: Span<float32>) = narrowWith id id x y

    /// y = x / s rounded to float32: the float64 quotient rounded once, in one pass.
    let narrowDivided (x: ReadOnlySpan<float>) (s: float) (y: Span<float32>) =
        let v = Vector256.Create s
        narrowWith (fun a -> a / v) (fun a -> a / s) x y

    /// y = x − s rounded to float32: the float64 difference rounded once, in one pass.
    let narrowMinus (x: ReadOnlySpan<float>) (s: float) (y: Span<float32>) =
        let v = Vector256.Create s
        narrowWith (fun a -> a - v) (fun a -> a - s) x y

    /// y = (x widened − m) − s rounded to float32: the float64 operations of widenMinus then
    /// narrowMinus, in one pass (a float32 log-softmax row's last step).
    let shiftedNarrow (x: ReadOnlySpan<float32>) (m: float) (s: float) (y: Span<float32>) =
        let n = x.Length
        let rx = &MemoryMarshal.GetReference x
        let ry = &MemoryMarshal.GetReference y
        let vm, vs = Vector256.Create m, Vector256.Create s
        let mutable i = 0
        if Vector256.IsHardwareAccelerated then
            while i + 8 <= n do
                let v = Vector256.LoadUnsafe(&rx, unativeint i)
                let low = (Vector256.WidenLower v - vm) - vs
                let high = (Vector256.WidenUpper v - vm) - vs
                (Vector256.Narrow(low, high)).StoreUnsafe(&ry, unativeint i)
                i <- i + 8
        while i < n do
            Unsafe.Add(&ry, i) <- float32 ((float (Unsafe.Add(&rx, i)) - m) - s)
            i <- i + 1

    /// y = −|x| (NaN stays NaN).
    let negativeAbs<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then negativeAbs32 (read x) (write y)
        elif is64<'T> () then negativeAbs64 (read x) (write y)
        else
            Tensors.TensorPrimitives.Abs(x, y)
            Tensors.TensorPrimitives.Negate(Span<'T>.op_Implicit y, y)

    /// y = −x² in float64 (the exponent of gelu's slope, see Elementwise).
    let negativeSquare (x: ReadOnlySpan<float>) (y: Span<float>) = negativeSquare64 x y

    /// y = x / (1 + x)², each lane rounded after every operation as its scalar is (sigmoid's slope
    /// from e^−|x|, see Elementwise).
    let overOnePlusSquared<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (y: Span<'T>) =
        if is32<'T> () then overOnePlusSquared32 (read x) (write y)
        elif is64<'T> () then overOnePlusSquared64 (read x) (write y)
        else
            for i in 0 .. x.Length - 1 do
                let d = x.[i] + 'T.One
                y.[i] <- x.[i] / (d * d)

    /// The sum of x, in the fixed order of `sumLanes`.
    let sum<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) : 'T =
        if is32<'T> () then value<float32, 'T> (sum32 (read x))
        elif is64<'T> () then value<float, 'T> (sum64 (read x))
        else Tensors.TensorPrimitives.Sum x
