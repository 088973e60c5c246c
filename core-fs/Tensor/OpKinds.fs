/// The kinds of elementwise and reduction computation. Kernels dispatch on them, and the
/// graph's Op union reuses them, so each kind is named once in the whole core.
namespace FunctionalDiff.Core

/// Elementwise functions of one argument.
[<RequireQualifiedAccess>]
type UnaryOp =
    | Neg | Exp | Log | Log1p | Expm1 | Sin | Cos | Tan | Tanh | Sigmoid | Relu
    | Abs | Sign | Sqrt | Rsqrt | Square | Reciprocal | Erf | Floor | Ceil | Round
    | Erfc | Lgamma

/// Elementwise functions of two broadcast arguments. Comparisons return 0/1 masks in the operand dtype.
[<RequireQualifiedAccess>]
type BinaryOp =
    | Add | Sub | Mul | Div | Pow | Maximum | Minimum | Atan2
    | Less | LessEqual | Greater | GreaterEqual | Equal | NotEqual

/// Reductions over a set of axes.
[<RequireQualifiedAccess>]
type ReduceOp =
    | Sum | Mean | Max | Min | Prod
