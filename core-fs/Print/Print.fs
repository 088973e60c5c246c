/// Printing graphs: a jaxpr-like text form with one named line per node, and Graphviz DOT.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic
open System.Text

/// Text renderings of a graph. Both walk it once, iteratively.
[<RequireQualifiedAccess>]
module Print =

    let private typeName (e: Expr) =
        (match e.DType with DType.Float32 -> "f32" | DType.Float64 -> "f64") + Shape.format e.Dims

    /// Spreadsheet-style names: a..z, ba..zz, ... (never a bare number, so they read as variables).
    let private nameOf (index: int) =
        let letters = StringBuilder()
        let mutable n = index
        letters.Insert(0, char (int 'a' + n % 26)) |> ignore
        n <- n / 26
        while n > 0 do
            letters.Insert(0, char (int 'a' + n % 26)) |> ignore
            n <- n / 26
        letters.ToString()

    /// The op's name with its static parameters, as in `reduce_sum[axes=[1] keep_dims=true]`.
    let opLabel (op: Op) =
        match op with
        | Op.Var(name, _) -> "var " + name
        | Op.Const t when t.Rank = 0 -> sprintf "%g" (t.ToScalar())
        | Op.Const _ -> "const"
        | Op.Unary u -> OpName.kind u
        | Op.Binary b -> OpName.kind b
        | Op.Where -> "where"
        | Op.Reduce(r, axes, keepDims) -> sprintf "reduce_%s[axes=%s keep_dims=%b]" (OpName.kind r) (Shape.format axes) keepDims
        | Op.ArgMax(axis, keepDims) -> sprintf "argmax[axis=%d keep_dims=%b]" axis keepDims
        | Op.MatMul -> "matmul"
        | Op.Permute p when p.Length >= 2 && p = Array.append [| 0 .. p.Length - 3 |] [| p.Length - 1; p.Length - 2 |] -> "transpose"
        | Op.Permute p -> sprintf "permute[%s]" (Shape.format p)
        | Op.Reshape s -> sprintf "reshape[%s]" (Shape.format s)
        | Op.BroadcastTo s -> sprintf "broadcast_to[%s]" (Shape.format s)
        | Op.Slice(starts, stops, steps) -> sprintf "slice[starts=%s stops=%s steps=%s]" (Shape.format starts) (Shape.format stops) (Shape.format steps)
        | Op.Pad(before, after) -> sprintf "pad[before=%s after=%s]" (Shape.format before) (Shape.format after)
        | Op.Concat axis -> sprintf "concat[axis=%d]" axis
        | Op.Flip axes -> sprintf "flip[axes=%s]" (Shape.format axes)
        | Op.Gather axis -> sprintf "gather[axis=%d]" axis
        | Op.ScatterAdd(axis, shape) -> sprintf "scatter_add[axis=%d shape=%s]" axis (Shape.format shape)
        | Op.Cast d -> sprintf "cast[%O]" d
        | Op.StopGradient -> "stop_gradient"
        | Op.Custom(id, name) -> sprintf "custom[%s #%d]" name id
        | Op.Cholesky -> "cholesky"
        | Op.TriangularSolve(upper, left, unit) -> sprintf "triangular_solve[upper=%b left=%b unit_diagonal=%b]" upper left unit
        | Op.Solve -> "solve"
        | Op.SlogDet -> "slogdet"
        | Op.Qr -> "qr"
        | Op.Lu -> "lu_factor"
        | Op.LuPermutation -> "lu_permutation"
        | Op.MatrixExp -> "matrix_exp"
        | Op.Eigh -> "eigh"
        | Op.Svd -> "svd"
        | Op.Polygamma n -> sprintf "polygamma[order=%d]" n
        | Op.ArgSort(axis, descending) -> sprintf "argsort[axis=%d descending=%b]" axis descending
        | Op.Unfold(k, s, p, d) ->
            sprintf "unfold[kernel=%s stride=%s padding=%s dilation=%s]" (Shape.format k) (Shape.format s) (Shape.format p) (Shape.format d)
        | Op.Fold(size, k, s, p, d) ->
            sprintf "fold[size=%s kernel=%s stride=%s padding=%s dilation=%s]" (Shape.format size) (Shape.format k) (Shape.format s) (Shape.format p) (Shape.format d)
        | Op.Scan(body, length, reverse, remat) -> sprintf "scan[body=#%d length=%d reverse=%b remat=%b]" body.Id length reverse remat
        | Op.Softmax axis -> sprintf "softmax[axis=%d]" axis
        | Op.LogSoftmax axis -> sprintf "log_softmax[axis=%d]" axis
        | Op.SoftmaxBackward axis -> sprintf "softmax_backward[axis=%d]" axis
        | Op.LogSoftmaxBackward axis -> sprintf "log_softmax_backward[axis=%d]" axis
        | Op.DiagonalMinusRankOne axis -> sprintf "diagonal_minus_rank_one[axis=%d]" axis
        | Op.CumSum(axis, reverse) -> sprintf "cumsum[axis=%d%s]" axis (if reverse then " reverse" else "")

    /// A jaxpr-like listing: `{ lambda a:f64[2,3] b:f64[3] ; let c:f64[2] = matmul a b ... in (c) }`.
    /// Vars are the lambda's parameters; scalar constants print inline as literals; tensor
    /// constants get a line of their own.
    let text (root: Expr) : string =
        let order = Graph.topologicalOrder [ root ]
        let names = Dictionary<int64, string>()
        let mutable next = 0
        let fresh (e: Expr) =
            let n = nameOf next
            next <- next + 1
            names.[e.Id] <- n
            n
        let parameters = order |> Array.filter (fun e -> match e.Op with Op.Var _ -> true | _ -> false)
        let header = parameters |> Array.map (fun v -> sprintf "%s:%s" (fresh v) (typeName v)) |> String.concat " "
        let reference (e: Expr) =
            match e.Op with
            | Op.Const t when t.Rank = 0 -> sprintf "%g:%s" (t.ToScalar()) (typeName e)
            | _ -> names.[e.Id]
        let body = StringBuilder()
        for node in order do
            match node.Op with
            | Op.Var _ -> ()
            | Op.Const t when t.Rank = 0 -> ()
            | op ->
                let name = fresh node
                let arguments = node.Inputs |> Array.map reference |> String.concat " "
                body.AppendFormat("    {0}:{1} = {2}{3}\n", name, typeName node, opLabel op, (if arguments = "" then "" else " " + arguments)) |> ignore
        sprintf "{ lambda %s ; let\n%s  in (%s) }" header (body.ToString()) (reference root)

    /// Graphviz DOT: one box per node labelled with its op and type, edges from inputs to users.
    let dot (root: Expr) : string =
        let b = StringBuilder("digraph expr {\n  node [shape=box fontname=monospace];\n")
        for node in Graph.topologicalOrder [ root ] do
            let label = (opLabel node.Op).Replace("\"", "'") + "\\n" + typeName node
            b.AppendFormat("  n{0} [label=\"{1}\"];\n", node.Id, label) |> ignore
            for input in node.Inputs do
                b.AppendFormat("  n{0} -> n{1};\n", input.Id, node.Id) |> ignore
        b.Append("}\n").ToString()
