/// Primitive names: one plain snake_case name per primitive (`sin`, `less_equal`, `reduce_sum`,
/// `matmul`), without static parameters, for tools, coverage checks and the C# facade. The list of
/// all names is read from the Op union by reflection, so a new primitive appears in it unasked.
namespace FunctionalDiff.Core

open System
open System.Text
open Microsoft.FSharp.Reflection

/// Names of primitives.
[<RequireQualifiedAccess>]
module OpName =

    /// `LessEqual` -> `less_equal`: union case names as snake_case.
    let private snake (caseName: string) =
        let b = StringBuilder()
        caseName |> String.iteri (fun i c ->
            if Char.IsUpper c && i > 0 then b.Append('_') |> ignore
            b.Append(Char.ToLowerInvariant c) |> ignore)
        b.ToString()

    let private caseName (value: obj) =
        (FSharpValue.GetUnionFields(value, value.GetType()) |> fst).Name

    /// The snake_case names of the kinds of UnaryOp, BinaryOp and ReduceOp met so far: reflection
    /// costs tens of microseconds a call, which printed a 10^5-node graph in seconds.
    let private kindNames = System.Collections.Concurrent.ConcurrentDictionary<obj, string>()
    let private kindName = Func<obj, string>(fun value -> snake (caseName value))

    /// The snake_case name of an elementwise or reduction kind (`less_equal`, `sum`).
    let internal kind (value: obj) : string = kindNames.GetOrAdd(value, kindName)

    /// The primitive's name. Elementwise ops are named by their kind (`sin`, `add`), reductions
    /// as `reduce_<kind>`; static parameters (axes, shapes) are not part of the name.
    let name (op: Op) : string =
        match op with
        | Op.Var _ -> "var"
        | Op.Const _ -> "const"
        | Op.Unary u -> kind u
        | Op.Binary b -> kind b
        | Op.Where -> "where"
        | Op.Reduce(r, _, _) -> "reduce_" + kind r
        | Op.ArgMax _ -> "argmax"
        | Op.MatMul -> "matmul"
        | Op.Permute _ -> "permute"
        | Op.Reshape _ -> "reshape"
        | Op.BroadcastTo _ -> "broadcast_to"
        | Op.Slice _ -> "slice"
        | Op.Pad _ -> "pad"
        | Op.Concat _ -> "concat"
        | Op.Flip _ -> "flip"
        | Op.Gather _ -> "gather"
        | Op.ScatterAdd _ -> "scatter_add"
        | Op.Cast _ -> "cast"
        | Op.StopGradient -> "stop_gradient"
        | Op.Custom _ -> "custom"
        | Op.Cholesky -> "cholesky"
        | Op.TriangularSolve _ -> "triangular_solve"
        | Op.Solve -> "solve"
        | Op.SlogDet -> "slogdet"
        | Op.Qr -> "qr"
        | Op.Lu -> "lu_factor"
        | Op.LuPermutation -> "lu_permutation"
        | Op.MatrixExp -> "matrix_exp"
        | Op.Eigh -> "eigh"
        | Op.Svd -> "svd"
        | Op.Polygamma _ -> "polygamma"
        | Op.ArgSort _ -> "argsort"
        | Op.Unfold _ -> "unfold"
        | Op.Fold _ -> "fold"
        | Op.Scan _ -> "scan"
        | Op.Softmax _ -> "softmax"
        | Op.LogSoftmax _ -> "log_softmax"
        | Op.SoftmaxBackward _ -> "softmax_backward"
        | Op.LogSoftmaxBackward _ -> "log_softmax_backward"
        | Op.DiagonalMinusRankOne _ -> "diagonal_minus_rank_one"
        | Op.CumSum _ -> "cumsum"

    /// Every value of a field-less union (UnaryOp, BinaryOp, ReduceOp) or, for any other field
    /// type, one placeholder: the field's default. `name` never looks at placeholder payloads.
    let private valuesOf (fieldType: Type) : obj[] =
        if FSharpType.IsUnion fieldType
           && FSharpType.GetUnionCases fieldType |> Array.forall (fun c -> c.GetFields().Length = 0) then
            FSharpType.GetUnionCases fieldType |> Array.map (fun c -> FSharpValue.MakeUnion(c, [||]))
        elif fieldType.IsValueType then [| Activator.CreateInstance fieldType |]
        else [| null |]

    /// Every primitive's name, in the Op union's order with each kind-carrying case expanded
    /// into its kinds (one `reduce_*` per ReduceOp, one name per UnaryOp and BinaryOp).
    let all : string[] =
        [| for case in FSharpType.GetUnionCases typeof<Op> do
             let fields = case.GetFields()
             let choices = fields |> Array.map (fun f -> valuesOf f.PropertyType)
             // At most one field carries a kind, so the product below is the list of kinds.
             let combinations =
                 choices |> Array.fold (fun (acc: obj list list) options ->
                     [ for prefix in acc do for o in options -> prefix @ [ o ] ]) [ [] ]
             for combination in combinations do
                 yield name (FSharpValue.MakeUnion(case, Array.ofList combination) :?> Op) |]
        |> Array.distinct
