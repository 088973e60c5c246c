/// Primitive names: the list read from the Op union by reflection, and the name of built nodes.
module FunctionalDiff.Core.Tests.OpNameTests

open Expecto
open FunctionalDiff.Core

/// The primitives written out by hand from the Op, UnaryOp, BinaryOp and ReduceOp unions, so the
/// reflection-based list is checked against an independent reading of the source.
let expectedNames =
    [ "var"; "const"
      "neg"; "exp"; "log"; "log1p"; "expm1"; "sin"; "cos"; "tan"; "tanh"; "sigmoid"; "relu"
      "abs"; "sign"; "sqrt"; "rsqrt"; "square"; "reciprocal"; "erf"; "floor"; "ceil"; "round"
      "add"; "sub"; "mul"; "div"; "pow"; "maximum"; "minimum"; "atan2"
      "less"; "less_equal"; "greater"; "greater_equal"; "equal"; "not_equal"; "fmod"; "gammainc"; "gammaincc"; "zeta"
      "where"; "reduce_sum"; "reduce_mean"; "reduce_max"; "reduce_min"; "reduce_prod"; "argmax"; "matmul"
      "permute"; "reshape"; "broadcast_to"; "slice"; "pad"; "concat"; "flip"; "gather"; "scatter_add"
      "cast"; "stop_gradient"; "custom"
      "cholesky"; "triangular_solve"; "solve"; "slogdet"; "qr"; "lu_factor"; "lu_permutation"; "eigh"; "svd"
      "erfc"; "lgamma"; "softplus"; "sigmoid_slope"; "gelu"; "gelu_slope"; "tanh_slope"; "polygamma"; "argsort"; "unfold"; "fold"; "scan"; "softmax"; "log_softmax"; "softmax_backward"; "log_softmax_backward"; "diagonal_minus_rank_one"; "cumsum"
      "i0"; "i0e"; "i1"; "i1e"; "erfcx"; "ndtr"; "log_ndtr"; "ndtri"; "matrix_exp"
      "bessel_j0"; "bessel_j1"; "bessel_y0"; "bessel_y1"; "modified_bessel_k0"; "modified_bessel_k1"
      "scaled_modified_bessel_k0"; "scaled_modified_bessel_k1" ]

[<Tests>]
let opNameTests =
    let x = Expr.variable "x" [| 2; 3 |] DType.Float64
    let y = Expr.variable "y" [| 2; 3 |] DType.Float64
    let nameOf (e: Expr) = OpName.name e.Op
    testList "OpName" [
        test "the reflected list is every primitive, each once" {
            Expect.sequenceEqual (Array.sort OpName.all) (List.sort expectedNames |> Array.ofList) "names"
            Expect.equal (Array.distinct OpName.all).Length OpName.all.Length "no duplicates"
        }
        test "built nodes carry the names of their primitives" {
            let cases =
                [ x, "var"
                  Expr.constant (Tensor.Zeros([| 2 |], DType.Float64)), "const"
                  Expr.sin x, "sin"
                  Expr.log1p x, "log1p"
                  Expr.add x y, "add"
                  Expr.le x y, "less_equal"
                  Expr.ne x y, "not_equal"
                  Expr.sumAxes [| 1 |] false x, "reduce_sum"
                  Expr.maxAxes [| 0 |] true x, "reduce_max"
                  Expr.argmax 1 false x, "argmax"
                  Expr.digamma x, "polygamma"
                  Expr.argsort 1 true x, "argsort"
                  Expr.matmul x (Expr.transpose y), "matmul"
                  Expr.transpose x, "permute"
                  Expr.broadcastTo [| 4; 2; 3 |] x, "broadcast_to"
                  Expr.sliceAxis 1 0 2 x, "slice"
                  Expr.concat 0 [ x; y ], "concat"
                  Expr.where (Expr.lt x y) x y, "where"
                  Expr.cast DType.Float32 x, "cast"
                  Expr.stopGradient x, "stop_gradient"
                  Nn.softmax 1 x, "softmax"
                  Nn.logSoftmax 0 x, "log_softmax"
                  Expr.softmaxBackward 1 x y, "softmax_backward"
                  Expr.logSoftmaxBackward 0 x y, "log_softmax_backward"
                  Expr.diagonalMinusRankOne 0 x y x y, "diagonal_minus_rank_one"
                  Indexing.cumsum 1 x, "cumsum" ]
            for node, expected in cases do
                Expect.equal (nameOf node) expected (sprintf "name of %O" node)
        }
    ]
