/// Joins a product and the fold (col2im) that alone reads it into one step, which folds each
/// image's part of the product while it is still in cache (PatchProducts): a convolution's input
/// gradient then never makes its largest array whole. The product's buffer is no longer written
/// or read, so it gets no arena slot.
namespace FunctionalDiff.Core

[<RequireQualifiedAccess>]
module internal PatchFusion =

    /// The values a step reads.
    let private reads (step: Step) : int[] =
        match step with
        | Step.Fused(group, _) -> group.InputValues
        | Step.Reduce(_, _, input, _) | Step.Copy(input, _) | Step.View(_, input, _, _, _, _) -> [| input |]
        | Step.Unfold(_, _, _, _, input, _) | Step.Fold(_, _, _, _, _, input, _) -> [| input |]
        | Step.MatMul(left, right, _, _, _, addend) -> if addend >= 0 then [| left; right; addend |] else [| left; right |]
        | Step.Kernel(_, args, _) | Step.Write(_, args, _) | Step.Loop(_, args, _) -> args
        | Step.FoldProduct(left, right, _, _, _, _, _, _) -> [| left; right |]

    let private bufferOf (homes: Home[]) (v: int) =
        match homes.[v] with
        | Home.Buffer(b, _, _, _) -> b
        | Home.Input _ | Home.Constant _ | Home.Computed -> -1

    /// The dense row-major layout of a value over its whole buffer, as its shape; None otherwise.
    let private denseShape (homes: Home[]) (buffers: PlanBuffer[]) (v: int) =
        match homes.[v] with
        | Home.Buffer(b, shape, strides, offset) when offset = 0 && Shape.numel shape = buffers.[b].Numel
                                                      && Ir.sameDims strides (Shape.contiguousStrides shape) -> Some shape
        | Home.Buffer _ | Home.Input _ | Home.Constant _ | Home.Computed -> None

    /// The steps with every product-then-fold pair joined (the product's step dropped, the fold's
    /// replaced); `homes` is updated in place: the values over a dropped product's buffer become
    /// Computed, values no run sets. A pair is joined when the fold is the only step that reads
    /// the product's buffer, no root lies over it, the product has no addend, and both see it
    /// densely in the same shape.
    let fuse (homes: Home[]) (buffers: PlanBuffer[]) (rootValues: int[]) (steps: Step[]) : Step[] =
        // most plans have no fold: they pay one pass over the steps, nothing allocated
        let isFold (step: Step) =
            match step with
            | Step.Fold _ -> true
            | Step.Fused _ | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.View _ | Step.Kernel _ | Step.Write _
            | Step.Unfold _ | Step.Loop _ | Step.FoldProduct _ -> false
        if not (Array.exists isFold steps) then steps else
        let readers = Array.zeroCreate<int> buffers.Length
        for step in steps do
            for v in reads step do
                let b = bufferOf homes v
                if b >= 0 then readers.[b] <- readers.[b] + 1
        for v in rootValues do
            let b = bufferOf homes v
            if b >= 0 then readers.[b] <- System.Int32.MaxValue
        // the step that writes each buffer, for the products among them
        let product = Array.create buffers.Length -1
        steps |> Array.iteri (fun i step ->
            match step with
            | Step.MatMul(_, _, output, _, _, -1) ->
                let b = bufferOf homes output
                if b >= 0 then product.[b] <- i
            | Step.Fused _ | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.View _ | Step.Kernel _ | Step.Write _
            | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> ())
        let dropped = Array.zeroCreate<bool> steps.Length
        let result = Array.copy steps
        for i in 0 .. steps.Length - 1 do
            match steps.[i] with
            | Step.Fold(size, k, s, pad, d, input, output) ->
                let b = bufferOf homes input
                if b >= 0 && readers.[b] = 1 && product.[b] >= 0 && product.[b] < i then
                    match steps.[product.[b]] with
                    | Step.MatMul(left, right, written, _, _, _) ->
                        match denseShape homes buffers input, denseShape homes buffers written with
                        | Some a, Some c when a.Length = 3 && Ir.sameDims a c ->
                            dropped.[product.[b]] <- true
                            result.[i] <- Step.FoldProduct(left, right, size, k, s, pad, d, output)
                            for v in 0 .. homes.Length - 1 do
                                if bufferOf homes v = b then homes.[v] <- Home.Computed
                        | _ -> ()
                    | Step.Fused _ | Step.Reduce _ | Step.Copy _ | Step.View _ | Step.Kernel _ | Step.Write _
                    | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> ()
            | Step.Fused _ | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.View _ | Step.Kernel _ | Step.Write _
            | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> ()
        if Array.exists id dropped then
            result |> Array.indexed |> Array.filter (fun (i, _) -> not dropped.[i]) |> Array.map snd
        else result
