/// GEMM with B packed whole and kept (PackedOperand): products against a plain triple loop, at
/// every row count from 1 to 33, odd widths and depths, transposed operands, both dtypes; the
/// same bits as the product that packs B itself; and B packed once for many products by it, but
/// again for any other operand. And C = addend + A·B, against the loop and with the bits of the
/// product followed by the sum.
module FunctionalDiff.Core.Tests.GemmPanelsTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GemmTests

/// One operand stored row-major (or as its transpose, read through swapped strides), as the
/// driver takes it: the array, then the row and column strides of the logical matrix.
let private stored (values: float[]) (rows: int) (columns: int) (transpose: bool) =
    if transpose then
        // element (i, j) of the logical matrix sits at j*rows + i
        Array.init (rows * columns) (fun s -> let j, i = s / rows, s % rows in values.[i * columns + j]), 1, rows
    else Array.copy values, columns, 1

/// C = A·B through `multiplyPacked*` (with `packed`) or the ordinary entry point (null), as float64.
let internal product (settings: GemmSettings) (dtype: DType) (m: int) (n: int) (k: int)
                     (a: float[], aRow: int, aColumn: int) (b: float[], bRow: int, bColumn: int) (packed: PackedOperand) (b32: float32[]) =
    match dtype with
    | DType.Float64 ->
        let c = Array.zeroCreate (m * n)
        if isNull packed then GemmDriver.multiply64 settings m n k a 0 aRow aColumn b 0 bRow bColumn c 0 n
        else GemmDriver.multiplyPacked64 settings m n k a 0 aRow aColumn b 0 bRow bColumn packed null 0 0 c 0 n
        c
    | DType.Float32 ->
        let c = Array.zeroCreate (m * n)
        let a32 = Array.map float32 a
        if isNull packed then GemmDriver.multiply32 settings m n k a32 0 aRow aColumn b32 0 bRow bColumn c 0 n
        else GemmDriver.multiplyPacked32 settings m n k a32 0 aRow aColumn b32 0 bRow bColumn packed null 0 0 c 0 n
        Array.map float c

/// Values exactly representable in float32, so both dtypes share one float64 reference.
let private representable (seed: int) (count: int) = randomValues seed count |> Array.map (fun v -> float (float32 v))

let private sameBits (actual: float[]) (expected: float[]) (label: string) =
    for i in 0 .. actual.Length - 1 do
        if BitConverter.DoubleToInt64Bits actual.[i] <> BitConverter.DoubleToInt64Bits expected.[i] then
            failtestf "%s: element %d is %.17g, the product that packs B gives %.17g" label i actual.[i] expected.[i]

/// Two products by one B kept in one PackedOperand (different A each time): each is within the
/// bound of the reference loop and has the bits of the ordinary product; B was packed once.
let private checkKept (settings: GemmSettings) (dtype: DType) (m: int) (n: int) (k: int) (transposeA: bool) (transposeB: bool) =
    let label = sprintf "%O m=%d n=%d k=%d%s%s" dtype m n k (if transposeA then " Aᵀ" else "") (if transposeB then " Bᵀ" else "")
    let bValues = representable (100 + m + n + k) (k * n)
    let (bData, _, _) as b = stored bValues k n transposeB
    let b32 = Array.map float32 bData
    let packed = PackedOperand()
    for round in 1 .. 2 do
        let aValues = representable (round * 1000 + m) (m * k)
        let a = stored aValues m k transposeA
        let kept = product settings dtype m n k a b packed b32
        expectClose dtype k kept (reference aValues bValues m n k) (sprintf "%s round %d" label round)
        sameBits kept (product settings dtype m n k a b null b32) (sprintf "%s round %d" label round)
    // tiny and single-column products never pack, so they never fill the operand; nor do small
    // products of A·Bᵀ contiguous along the depth, which take one dot product per element
    let aColumn = if transposeA then m else 1 // as `stored` lays A out
    let (_, bRow, _) = b
    // the inner-product path reads a B contiguous along the depth where it lies; any other B it
    // transposes into the kept operand, which counts as its one packing
    let readsBInPlace = GemmDriver.takesInnerProduct settings (if dtype = DType.Float32 then 4 else 8) m n k aColumn bRow && bRow = 1
    let packs = m * n * k >= settings.TinyWork && m > 1 && n > 1 && not readsBInPlace
    Expect.equal packed.Packings (if packs then 1L else 0L) (label + ": packings of B")

/// C = addend + A·B (addend rows `n + 3` apart from offset 2, C rows `n + 1` apart from offset 1,
/// with B kept): within the bound of the loop plus the addend, and with the bits of the ordinary
/// product followed by an elementwise sum in the dtype.
let private checkAddend (settings: GemmSettings) (dtype: DType) (m: int) (n: int) (k: int) (transposeA: bool) =
    let label = sprintf "%O m=%d n=%d k=%d%s" dtype m n k (if transposeA then " Aᵀ" else "")
    let aValues, bValues = representable (7 + m) (m * k), representable (8 + n) (k * n)
    let addendValues = representable (9 + k) (m * n)
    let a, aRow, aColumn = stored aValues m k transposeA
    let b, bRow, bColumn = stored bValues k n false
    let lds, ldc = n + 3, n + 1
    let addend = Array.zeroCreate (2 + m * lds)
    for i in 0 .. m - 1 do Array.blit addendValues (i * n) addend (2 + i * lds) n
    let packed = PackedOperand()
    let result =
        match dtype with
        | DType.Float64 ->
            let c = Array.create (1 + m * ldc) nan
            GemmDriver.multiplyPacked64 settings m n k a 0 aRow aColumn b 0 bRow bColumn packed addend 2 lds c 1 ldc
            Array.init (m * n) (fun s -> c.[1 + s / n * ldc + s % n])
        | DType.Float32 ->
            let c = Array.create (1 + m * ldc) nanf
            GemmDriver.multiplyPacked32 settings m n k (Array.map float32 a) 0 aRow aColumn (Array.map float32 b) 0 bRow bColumn packed
                                        (Array.map float32 addend) 2 lds c 1 ldc
            Array.init (m * n) (fun s -> float c.[1 + s / n * ldc + s % n])
    let expected, scale = reference aValues bValues m n k
    expectClose dtype (k + 1) result (Array.map2 (+) expected addendValues, Array.map2 (fun s (v: float) -> s + abs v) scale addendValues) label
    let plain = product settings dtype m n k (a, aRow, aColumn) (b, bRow, bColumn) null (Array.map float32 b)
    let summed =
        match dtype with
        | DType.Float64 -> Array.map2 (+) addendValues plain
        | DType.Float32 -> Array.map2 (fun (x: float) (y: float) -> float (float32 x + float32 y)) addendValues plain
    sameBits result summed (label + ": addend then product")

[<Tests>]
let tests =
    testList "Gemm.packedOperand" [
        for dtype in dtypes do
            for settings, name in [ GemmSettings.Default, "default blocks"; smallBlocks GemmKernels.bestWidth, "small blocks, two parts" ] do
                test (sprintf "%O, %s: M = 1..33 with B kept, against a triple loop" dtype name) {
                    for m in 1 .. 33 do
                        for n, k in [ 37, 19; 70, 131 ] do
                            for transposeA, transposeB in [ false, false; false, true; true, true ] do
                                checkKept settings dtype m n k transposeA transposeB
                }
        for dtype in dtypes do
            for settings, name in [ GemmSettings.Default, "default blocks"; smallBlocks GemmKernels.bestWidth, "small blocks, two parts" ] do
                test (sprintf "%O, %s: addend + A·B for M = 1..33, against a triple loop and the product then the sum" dtype name) {
                    for m in 1 .. 33 do
                        // depth 3: one slice of the small blocks (the addend in the kernels); 19: several
                        for n, k in [ 37, 3; 37, 19; 70, 131 ] do
                            for transposeA in [ false; true ] do
                                checkAddend settings dtype m n k transposeA
                }
        test "another operand is packed again: another array, offset or layout" {
            let m, n, k = 8, 40, 30
            let settings = GemmSettings.Default
            let packed = PackedOperand()
            let aValues = representable 1 (m * k)
            let a = stored aValues m k false
            let run (b: float[]) (offset: int) (bRow: int) (bColumn: int) =
                let c = Array.zeroCreate (m * n)
                GemmDriver.multiplyPacked64 settings m n k (let (d, _, _) = a in d) 0 k 1 b offset bRow bColumn packed null 0 0 c 0 n
                c
            let first = representable 2 (k * n + 1)
            let second = representable 3 (k * n + 1)
            let expect (values: float[]) (offset: int) (transpose: bool) (c: float[]) label =
                let logical = Array.init (k * n) (fun s -> let p, j = s / n, s % n in values.[offset + (if transpose then j * k + p else p * n + j)])
                expectClose DType.Float64 k c (reference aValues logical m n k) label
            expect first 0 false (run first 0 n 1) "first B"
            expect first 0 false (run first 0 n 1) "first B again"
            Expect.equal packed.Packings 1L "the same B is packed once"
            expect second 0 false (run second 0 n 1) "another array"
            Expect.equal packed.Packings 2L "another array is packed"
            expect second 1 false (run second 1 n 1) "another offset"
            Expect.equal packed.Packings 3L "another offset is packed"
            expect second 1 true (run second 1 1 k) "another layout"
            Expect.equal packed.Packings 4L "another layout is packed"
            packed.Invalidate()
            expect second 1 true (run second 1 1 k) "after invalidation"
            Expect.equal packed.Packings 5L "an invalidated operand is packed again"
        }
    ]
