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

    /// A constant attnMask is read now, when the graph is built: a negative, infinite or NaN entry means an
    /// additive float mask (torch's 0 and −∞, as nn.Transformer.generate_square_subsequent_mask gives) was passed
    /// where the boolean mask goes, which would silently attend exactly where it should not. A mask computed in
    /// the graph (a comparison, 0 or 1) is not checked.
    let private checkKeep (name: string) (keep: Expr) =
        let wrong (v: float) = Double.IsNaN v || Double.IsInfinity v || v < 0.0
        let fail (v: float) =
            Shape.fail name
                (sprintf "attnMask holds %g: it is torch's boolean mask as 0/1 (nonzero: the query may attend to that key; 0: it may not); an additive float mask of 0 and -inf goes in attnBias" v)
        match keep with
        | Fold.Filled v -> if wrong v then fail v
        | _ ->
            match keep.Op with
            | Op.Const t -> t.ToDoubleArray() |> Array.tryFind wrong |> Option.iter fail
            | _ -> ()

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
