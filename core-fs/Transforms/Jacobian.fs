/// Full Jacobians, as ONE graph: batched VJPs (one pullback per output element) or batched JVPs
/// (one tangent per input element). The pullback or tangent graph is built once with a symbolic
/// cotangent or tangent variable and batched over the basis by vmap's walk, so the primal and every
/// part that does not depend on the basis vector are shared, and the graph's size is independent
/// of the number of rows or columns.
namespace FunctionalDiff.Core

/// How a Jacobian is assembled.
[<RequireQualifiedAccess>]
type JacobianMode =
    /// Forward when the input has fewer elements than the output, otherwise Reverse.
    | Auto
    /// One JVP per input element: cheap for few inputs.
    | Forward
    /// One VJP per output element: cheap for few outputs.
    | Reverse

/// Jacobian assembly.
[<RequireQualifiedAccess>]
module Jacobian =

    /// Rows [first, first + count) of the n×n identity, symbolic: a one followed by n zeros, repeated
    /// and cut to n·n entries, puts each one n+1 places after the last, i.e. on the diagonal. The
    /// graph holds no n×n constant and is the same few nodes for every n.
    let private identityRows (dtype: DType) (n: int) (first: int) (count: int) =
        Expr.ones dtype [| 1 |]
        |> Expr.pad [| 0 |] [| n |]
        |> Expr.broadcastTo [| n; n + 1 |]
        |> Expr.reshape [| n * (n + 1) |]
        |> Expr.sliceAxis 0 0 (n * n)
        |> Expr.reshape [| n; n |]
        |> Expr.sliceAxis 0 first (first + count)

    /// The mode Auto picks for n input and m output elements.
    let resolve (mode: JacobianMode) (inputCount: int) (outputCount: int) =
        match mode with
        | JacobianMode.Auto -> if inputCount < outputCount then JacobianMode.Forward else JacobianMode.Reverse
        | chosen -> chosen

    /// `linear` (a graph linear in `var`) applied to every basis vector of var's shape, as one
    /// batched graph per chunk of at most `chunkSize` basis vectors (all of them when None):
    /// [count] @ linear's shape, the batch axis first, chunks joined along it.
    let private overBasis (chunkSize: int option) (var: Expr) (linear: Expr) =
        let n = var.Numel
        let chunk = match chunkSize with Some c -> min c n | None -> n
        let chunks =
            [| for first in 0 .. chunk .. n - 1 do
                 let count = min chunk (n - first)
                 let basis = identityRows var.DType n first count |> Expr.reshape (Array.append [| count |] var.Dims)
                 let result = (Batching.walk count [| var, { Value = basis; IsBatched = true } |] [| linear |]).[0]
                 yield BatchingRules.expand count result |]
        Expr.concat 0 chunks

    /// The Jacobian of `output` with respect to the Var `var` (both built by the caller), of
    /// shape (output shape @ var shape): entry [i..., j...] is d output[i...] / d var[j...]. The
    /// result is a graph over `var`; the caller substitutes its argument. The pullback (or tangent)
    /// graph is built once over a symbolic cotangent (or tangent) and batched over the basis, like
    /// jax's jacrev (jacfwd): its size does not depend on the number of rows (columns). With a
    /// chunk size, each chunk of that many basis vectors is one batched graph, bounding the memory
    /// an evaluation needs by the chunk instead of the whole Jacobian's intermediates.
    let buildChunked (keepMasks: bool) (mode: JacobianMode) (chunkSize: int option) (var: Expr) (output: Expr) : Expr =
        let m, n = output.Numel, var.Numel
        let shape = Array.append output.Dims var.Dims
        if m = 0 || n = 0 then Expr.zeros output.DType shape
        else
            match resolve mode n m with
            | JacobianMode.Forward ->
                let tangentVar = Ir.freshScopedVar "tangent" var.Dims var.DType
                let tangent = Jvp.tangentOfWith keepMasks output [| var |] [| tangentVar |]
                // [n] @ output shape, column j = J e_j; transposed to [m, n].
                overBasis chunkSize tangentVar tangent
                |> Expr.reshape [| n; m |]
                |> Expr.transpose
                |> Expr.reshape shape
            | _ ->
                let u = Ir.freshScopedVar "cotangent" output.Dims output.DType
                match (Vjp.backward output u [| var |]).[0] with
                | None -> Expr.zeros output.DType shape
                | Some pulled ->
                    // [m] @ var shape, row i = Jᵀ e_i; the cotangent arrives in var's dtype.
                    overBasis chunkSize u pulled |> Expr.cast output.DType |> Expr.reshape shape

    /// buildChunked with every basis vector in one batch.
    let build (mode: JacobianMode) (var: Expr) (output: Expr) : Expr = buildChunked false mode None var output
