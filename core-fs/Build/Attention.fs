/// Scaled dot-product attention as torch.nn.functional.scaled_dot_product_attention, composed from
/// matmul, where and the softmax primitive, so its derivatives of every order follow from theirs.
namespace FunctionalDiff.Core

open System

/// torch's F.scaled_dot_product_attention and the softmax its math backend uses for masked rows.
[<RequireQualifiedAccess>]
module Attention =

    /// Softmax along the last axis, except that a row whose every entry is −∞ gives zeros instead of NaN, as
    /// torch's _safe_softmax inside scaled_dot_product_attention (a query that may attend to nothing reads nothing).
    /// Such a row is replaced by zeros before the softmax, so neither the value nor any derivative meets −∞ − (−∞);
    /// the row's entries get a zero derivative. Other rows are the plain softmax, bit for bit.
    let safeSoftmax (x: Expr) =
        if x.Rank < 1 then Shape.fail "Softmax" (sprintf "needs rank >= 1, got %s" (Shape.format x.Dims))
        let last = x.Rank - 1
        let zero = Expr.scalar x.DType 0.0
        let masked = Statistics.all [| last |] true (Expr.eq x (Expr.scalar x.DType Double.NegativeInfinity))
        Expr.where masked zero (Nn.softmax last (Expr.where masked zero x))

    /// The causal mask of torch's is_causal: 1 where key position j ≤ query position i (top-left aligned when
    /// L ≠ S, as torch's tril), in the scores' dtype.
    let private causalMask (dtype: DType) (queries: int) (keys: int) =
        let keep = Array.init (queries * keys) (fun n -> if n % keys <= n / keys then 1.0 else 0.0)
        Expr.cast dtype (Expr.constant (Tensor.FromArray(keep, [| queries; keys |])))

    /// A constant boolean mask (0/1) is read when the graph is built: a negative, infinite or NaN entry is an additive
    /// float mask passed where the boolean one goes; `explain` formats that entry into the message.
    let private checkBoolean (name: string) (mask: Expr) (explain: Printf.StringFormat<float -> string>) =
        let wrong (v: float) = Double.IsNaN v || Double.IsInfinity v || v < 0.0
        let fail (v: float) = Shape.fail name (sprintf explain v)
        match mask with
        | Fold.Filled v -> if wrong v then fail v
        | _ ->
            match mask.Op with
            | Op.Const t -> t.ToDoubleArray() |> Array.tryFind wrong |> Option.iter fail
            | _ -> ()

    /// A constant attnMask is read now, when the graph is built: a negative, infinite or NaN entry means an
    /// additive float mask (torch's 0 and −∞, as nn.Transformer.generate_square_subsequent_mask gives) was passed
    /// where the boolean mask goes, which would silently attend exactly where it should not. A mask computed in
    /// the graph (a comparison, 0 or 1) is not checked.
    let private checkKeep (name: string) (keep: Expr) =
        checkBoolean name keep
            "attnMask holds %g: it is torch's boolean mask as 0/1 (nonzero: the query may attend to that key; 0: it may not); an additive float mask of 0 and -inf goes in attnBias"

    /// softmax(q kᵀ · scale + bias, masked) v over q [..., L, E], k [..., S, E], v [..., S, Ev] (batch axes broadcast),
    /// torch's F.scaled_dot_product_attention. scale defaults to 1/√E. keep is torch's boolean attn_mask, as 0/1
    /// (nonzero: the query may attend to that key; zero: the score becomes −∞); bias is torch's float attn_mask,
    /// added to the scores; isCausal masks key j > query i. Each broadcasts to [..., L, S]. A query that may attend to
    /// no key gets zeros, as torch (see safeSoftmax). dropout, when given, is (p, noise) applied to the attention
    /// weights as Resampling.dropout.
    let scaledDotProductAttention
        (keep: Expr option) (bias: Expr option) (isCausal: bool) (scale: float option) (dropout: (float * Expr) option)
        (query: Expr) (key: Expr) (value: Expr) =
        let name = "ScaledDotProductAttention"
        let shapes () = sprintf "query %s, key %s, value %s" (Shape.format query.Dims) (Shape.format key.Dims) (Shape.format value.Dims)
        if query.Rank < 2 || key.Rank < 2 || value.Rank < 2 then
            Shape.fail name (sprintf "%s: each needs rank >= 2 ([..., L, E], [..., S, E], [..., S, Ev])" (shapes ()))
        if query.Dims.[query.Rank - 1] <> key.Dims.[key.Rank - 1] then
            Shape.fail name (sprintf "%s: query and key must share the last dimension E" (shapes ()))
        if key.Dims.[key.Rank - 2] <> value.Dims.[value.Rank - 2] then
            Shape.fail name (sprintf "%s: key and value must share the sequence length S (axis -2)" (shapes ()))
        let factor =
            match scale with
            | Some s -> s
            | None -> 1.0 / Math.Sqrt(float query.Dims.[query.Rank - 1])
        let scores = Expr.matmul query (Expr.swapAxes -2 -1 key) * factor
        let fits (what: string) (m: Expr) =
            if not (Shape.broadcastsTo m.Dims scores.Dims) then
                Shape.fail name (sprintf "%s %s does not broadcast to the scores [..., L, S] = %s (%s)" what (Shape.format m.Dims) (Shape.format scores.Dims) (shapes ()))
        let negativeInfinity = Expr.scalar scores.DType Double.NegativeInfinity
        let scores =
            match bias with
            | Some b -> fits "attnBias" b; scores + Expr.cast scores.DType b
            | None -> scores
        let scores =
            match keep with
            | Some m -> fits "attnMask" m; checkKeep name m; Expr.where m scores negativeInfinity
            | None -> scores
        let scores =
            if isCausal then
                let l, s = scores.Dims.[scores.Rank - 2], scores.Dims.[scores.Rank - 1]
                Expr.where (causalMask scores.DType l s) scores negativeInfinity
            else scores
        let weights = safeSoftmax scores
        let weights =
            match dropout with
            | Some (p, noise) -> Resampling.dropout p noise weights
            | None -> weights
        Expr.matmul weights value

    /// torch's nn.MultiheadAttention forward (F.multi_head_attention_forward) with one packed in-projection, no
    /// bias_k/bias_v, no zero attention and no dropout, composed from linear, reshape, where and safeSoftmax. query is
    /// [L, N, E] ([N, L, E] when batchFirst, [L, E] unbatched), key and value [S, N, E] alike; inProjWeight is [3E, E]
    /// (rows q, k, v), inProjBias [3E], outProjWeight [E, E], outProjBias [E]. The masks follow this function's torch
    /// conventions, not scaled_dot_product_attention's: keyPaddingMask [N, S] ([S] unbatched) and attnMask are 0/1 with
    /// nonzero meaning "ignore" (torch's True); attnBias is torch's float attn_mask, added to the scores; attnMask and
    /// attnBias are [L, S] or [N·numHeads, L, S]. isCausal masks key j > query i itself (torch takes it as a hint beside
    /// an attn_mask). Returns the output, laid out as the query, and, when needWeights, the attention weights [N, L, S]
    /// averaged over heads (averageAttnWeights) or [N, numHeads, L, S] ([L, S] or [numHeads, L, S] unbatched). A query
    /// that may attend to no key (every key padded, say) gets zero weights, so its output row is outProjBias and it
    /// passes no derivative, where torch's softmax gives NaN.
    let multiheadAttention
        (numHeads: int) (batchFirst: bool) (keyPaddingMask: Expr option) (attnMask: Expr option) (attnBias: Expr option)
        (isCausal: bool) (needWeights: bool) (averageAttnWeights: bool)
        (inProjWeight: Expr) (inProjBias: Expr option) (outProjWeight: Expr) (outProjBias: Expr option)
        (query: Expr) (key: Expr) (value: Expr) : Expr * Expr option =
        let name = "MultiheadAttention"
        let f = Shape.format
        let shapes () = sprintf "query %s, key %s, value %s" (f query.Dims) (f key.Dims) (f value.Dims)
        let layout = if batchFirst then "[N, L, E] (batchFirst)" else "[L, N, E]"
        if not (query.Rank = 2 || query.Rank = 3) || key.Rank <> query.Rank || value.Rank <> query.Rank then
            Shape.fail name (sprintf "%s: query, key and value must all be %s or all unbatched [L, E]" (shapes ()) layout)
        let batched = query.Rank = 3
        let e = query.Dims.[query.Rank - 1]
        if key.Dims.[key.Rank - 1] <> e || value.Dims.[value.Rank - 1] <> e then
            Shape.fail name (sprintf "%s: key and value need the query's embedding dimension E = %d, which the packed inProjWeight projects from" (shapes ()) e)
        if numHeads <= 0 || e % numHeads <> 0 then
            Shape.fail name (sprintf "numHeads %d does not divide the embedding dimension E = %d (%s)" numHeads e (shapes ()))
        let toBatchFirst (x: Expr) =
            if not batched then Expr.reshape (Array.append [| 1 |] x.Dims) x
            elif batchFirst then x
            else Expr.swapAxes 0 1 x
        let q0, k0, v0 = toBatchFirst query, toBatchFirst key, toBatchFirst value
        let n, l, s = q0.Dims.[0], q0.Dims.[1], k0.Dims.[1]
        if k0.Dims.[0] <> n || v0.Dims.[0] <> n then
            Shape.fail name (sprintf "%s: query, key and value must share the batch N (layout %s)" (shapes ()) layout)
        if v0.Dims.[1] <> s then
            Shape.fail name (sprintf "%s: key and value must share the sequence length S (layout %s)" (shapes ()) layout)
        let expect (what: string) (x: Expr) (dims: int[]) (meaning: string) =
            if not (Ir.sameDims x.Dims dims) then
                Shape.fail name (sprintf "%s %s must be %s = %s for E = %d (%s)" what (f x.Dims) meaning (f dims) e (shapes ()))
        expect "inProjWeight" inProjWeight [| 3 * e; e |] "[3E, E]"
        inProjBias |> Option.iter (fun b -> expect "inProjBias" b [| 3 * e |] "[3E]")
        expect "outProjWeight" outProjWeight [| e; e |] "[E, E]"
        outProjBias |> Option.iter (fun b -> expect "outProjBias" b [| e |] "[E]")
        let dtype = query.DType
        let absent = Expr.scalar dtype -0.0
        let project (part: int) (x: Expr) =
            let bias = match inProjBias with Some b -> Structure.narrow 0 (part * e) e b | None -> absent
            Nn.linear (Structure.narrow 0 (part * e) e inProjWeight) bias x
        let d = e / numHeads
        // [N, T, E] to [N, heads, T, D]
        let heads (x: Expr) = x |> Expr.reshape [| n; x.Dims.[1]; numHeads; d |] |> Expr.swapAxes 1 2
        let q, k, v = heads (project 0 q0), heads (project 1 k0), heads (project 2 v0)
        let scores = Expr.matmul q (Expr.swapAxes -2 -1 k) * (1.0 / Math.Sqrt(float d))
        let negativeInfinity = Expr.scalar dtype Double.NegativeInfinity
        // torch's 2-D mask serves every batch and head; its 3-D mask holds one [L, S] per (batch, head), batch-major
        let perHead (what: string) (m: Expr) =
            if Ir.sameDims m.Dims [| l; s |] then m
            elif Ir.sameDims m.Dims [| n * numHeads; l; s |] then Expr.reshape [| n; numHeads; l; s |] m
            else
                let stacked = if batched then "[N·numHeads, L, S]" else "[numHeads, L, S]"
                Shape.fail name
                    (sprintf "%s %s must be [L, S] = %s or %s = %s (%s)" what (f m.Dims) (f [| l; s |]) stacked (f [| n * numHeads; l; s |]) (shapes ()))
        let ignoring (what: string) (m: Expr) =
            checkBoolean name m
                (Printf.StringFormat<float -> string>(
                    what + " holds %g: it is torch's boolean mask as 0/1 (nonzero: ignore, as torch's True; 0: attend); an additive float mask of 0 and -inf goes in attnBias"))
        let scores =
            match keyPaddingMask with
            | Some m ->
                let expected = if batched then [| n; s |] else [| s |]
                if not (Ir.sameDims m.Dims expected) then
                    Shape.fail name
                        (sprintf "keyPaddingMask %s must be %s = %s, one entry per key (%s)" (f m.Dims) (if batched then "[N, S]" else "[S]") (f expected) (shapes ()))
                ignoring "keyPaddingMask" m
                Expr.where (Expr.reshape [| n; 1; 1; s |] m) negativeInfinity scores
            | None -> scores
        let scores =
            match attnMask with
            | Some m -> ignoring "attnMask" m; Expr.where (perHead "attnMask" m) negativeInfinity scores
            | None -> scores
        let scores =
            match attnBias with
            | Some b -> scores + Expr.cast dtype (perHead "attnBias" b)
            | None -> scores
        let scores = if isCausal then Expr.where (causalMask dtype l s) scores negativeInfinity else scores
        let weights = safeSoftmax scores
        let merged = Expr.matmul weights v |> Expr.swapAxes 1 2 |> Expr.reshape [| n; l; e |]
        let output = Nn.linear outProjWeight (defaultArg outProjBias absent) merged
        let output =
            if not batched then Expr.reshape [| l; e |] output
            elif batchFirst then output
            else Expr.swapAxes 0 1 output
        let returned =
            if not needWeights then None
            else
                let w = if averageAttnWeights then Expr.meanAxes [| 1 |] false weights else weights
                Some (if batched then w else Expr.reshape w.Dims.[1..] w)
        output, returned
