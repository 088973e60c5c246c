/// A product followed by fold (col2im), one image at a time: the input gradient of a convolution.
/// The product [C·kh·kw, K] × [N, K, Ho·Wo] gives every image's column gradients, which fold then
/// adds back into [N, C, H, W]. Made whole, those columns are the largest array of a convolution's
/// backward pass (7 MB for 32 images of 3×32×32 under a 3×3 kernel in float64), written once and
/// read once from memory; one image's columns (221 KB there) stay in cache between the product
/// and the fold.
namespace FunctionalDiff.Core

/// Owner of the per-thread buffer of one image's column gradients.
type internal PatchProductScratch = class end

[<RequireQualifiedAccess>]
module internal PatchProducts =

    /// One image's columns are kept per thread up to this many elements (8 MB of float64).
    let private keptColumns = 1 <<< 20

    /// The product of image `i` into `scratch` (dense, ldc = columns): the call the batched path
    /// of LinearAlgebra.matmulGeneralInto makes for matrix i, so the same bits.
    let private multiply (settings: GemmSettings) (a: Tensor) (b: Tensor) (i: int) (scratch: System.Array) =
        let m, k, n = a.Dims.[0], a.Dims.[1], b.Dims.[2]
        let bOffset = b.Offset + i * b.Strides.[0]
        match a.DType with
        | DType.Float64 ->
            GemmDriver.multiplyPacked64 settings m n k a.Data64 a.Offset a.Strides.[0] a.Strides.[1]
                                        b.Data64 bOffset b.Strides.[1] b.Strides.[2] null null 0 0 (scratch :?> float[]) 0 n
        | DType.Float32 ->
            GemmDriver.multiplyPacked32 settings m n k a.Data32 a.Offset a.Strides.[0] a.Strides.[1]
                                        b.Data32 bOffset b.Strides.[1] b.Strides.[2] null null 0 0 (scratch :?> float32[]) 0 n

    let private scratchFor (dtype: DType) (count: int) : System.Array =
        match dtype with
        | DType.Float64 -> ThreadScratch<PatchProductScratch, float>.Get(count, keptColumns) :> System.Array
        | DType.Float32 -> ThreadScratch<PatchProductScratch, float32>.Get(count, keptColumns) :> System.Array

    /// fold(a × b) into `target` [N, C, H, W] (outputSize = [H; W]), with the bits of the product
    /// made whole then folded. a [C·kh·kw, K] and b [N, K, Ho·Wo] of one dtype go image by image;
    /// any other operands (a batched a, mixed dtypes) take the whole product first.
    let foldProductInto (outputSize: int[]) (kernel: int[]) (stride: int[]) (padding: int[]) (dilation: int[])
                        (a: Tensor) (b: Tensor) (target: System.Array) =
        if a.Rank = 2 && b.Rank = 3 && a.DType = b.DType && a.Dims.[1] = b.Dims.[1] then
            let images, m, n, k = b.Dims.[0], a.Dims.[0], b.Dims.[2], a.Dims.[1]
            let channels = m / (kernel.[0] * kernel.[1])
            let size = m * n
            let work = int64 m * int64 n * int64 k
            let settings = GemmSettings.Default
            let image (settings: GemmSettings) (i: int) =
                let scratch = scratchFor a.DType size
                multiply settings a b i scratch
                Patches.foldImageInto outputSize kernel stride padding dilation channels i scratch 0 target
            // the batched product's split: small matrices spread over the cores, each part serial
            if images > 1 && work < int64 settings.ParallelWork && work * int64 images >= int64 settings.ParallelWork && settings.Threads > 1 then
                let serial = { settings with Threads = 1 }
                let parts = min images (4 * settings.Threads)
                Workers.run parts (fun part ->
                    for i in images * part / parts .. images * (part + 1) / parts - 1 do image serial i)
            else
                for i in 0 .. images - 1 do image settings i
        else
            Patches.foldInto outputSize kernel stride padding dilation (LinearAlgebra.matmul a b) target
