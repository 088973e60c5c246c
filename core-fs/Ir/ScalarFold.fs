/// The arithmetic that folds operations on scalar constants while a graph is built: plain float
/// functions of the op kinds, with no knowledge of nodes.
namespace FunctionalDiff.Core

open System

/// Scalar folding and op-kind names.
module internal ScalarFold =

    let private names = System.Collections.Concurrent.ConcurrentDictionary<obj, string>()

    // One delegate for every lookup: a lambda at the call site became a new delegate per call.
    let private describe = Func<obj, string>(fun k -> sprintf "%A" k)

    /// The case name of an op kind (`Add`, `Sum`) for messages, cached: `%A` formatting is slow
    /// and every constructor call needs the name at hand for its shape errors.
    let caseName (kind: obj) = names.GetOrAdd(kind, describe)

    /// Rounds a folded value to what the dtype can hold.
    let toDType (dtype: DType) (v: float) =
        match dtype with
        | DType.Float32 -> float (float32 v)
        | DType.Float64 -> v

    /// The value of a unary op on a scalar; ValueNone where folding would need a kernel (erf).
    /// A struct option: substitution folds every node of a graph over scalar arguments.
    let unary (op: UnaryOp) (x: float) : float voption =
        match op with
        | UnaryOp.Neg -> ValueSome -x
        | UnaryOp.Exp -> ValueSome(Math.Exp x)
        | UnaryOp.Log -> ValueSome(Math.Log x)
        | UnaryOp.Log1p -> ValueNone
        | UnaryOp.Expm1 -> ValueNone
        | UnaryOp.Sin -> ValueSome(Math.Sin x)
        | UnaryOp.Cos -> ValueSome(Math.Cos x)
        | UnaryOp.Tan -> ValueSome(Math.Tan x)
        | UnaryOp.Tanh -> ValueSome(Math.Tanh x)
        | UnaryOp.Sigmoid -> ValueSome(1.0 / (1.0 + Math.Exp -x))
        // NaN stays NaN, as the kernel and torch have it (a comparison alone would give 0)
        // x itself unless x < 0: NaN and −0 stay themselves, as the kernel and torch have them
        | UnaryOp.Relu -> ValueSome(if x < 0.0 then 0.0 else x)
        | UnaryOp.Abs -> ValueSome(abs x)
        | UnaryOp.Sign -> ValueSome(Special.sign x)
        | UnaryOp.Sqrt -> ValueSome(sqrt x)
        | UnaryOp.Rsqrt -> ValueSome(1.0 / sqrt x)
        | UnaryOp.Square -> ValueSome(x * x)
        | UnaryOp.Reciprocal -> ValueSome(1.0 / x)
        | UnaryOp.Erf -> ValueNone
        | UnaryOp.Floor -> ValueSome(floor x)
        | UnaryOp.Ceil -> ValueSome(ceil x)
        | UnaryOp.Round -> ValueSome(Math.Round x)
        | UnaryOp.Erfc | UnaryOp.Lgamma | UnaryOp.Softplus | UnaryOp.Gelu | UnaryOp.GeluSlope -> ValueNone
        | UnaryOp.I0 | UnaryOp.I0e | UnaryOp.I1 | UnaryOp.I1e | UnaryOp.Erfcx | UnaryOp.Ndtr | UnaryOp.LogNdtr
        | UnaryOp.Ndtri
        | UnaryOp.BesselJ0 | UnaryOp.BesselJ1 | UnaryOp.BesselY0 | UnaryOp.BesselY1 | UnaryOp.ModifiedBesselK0
        | UnaryOp.ModifiedBesselK1 | UnaryOp.ScaledModifiedBesselK0 | UnaryOp.ScaledModifiedBesselK1 -> ValueNone
        | UnaryOp.SigmoidSlope -> ValueSome(Special.sigmoidSlope x)
        | UnaryOp.TanhSlope -> ValueSome(Special.tanhSlope x)

    /// The value of a binary op on two scalars; comparisons give 0 or 1.
    let binary (op: BinaryOp) (a: float) (b: float) : float =
        let mask c = if c then 1.0 else 0.0
        match op with
        | BinaryOp.Add -> a + b
        | BinaryOp.Sub -> a - b
        | BinaryOp.Mul -> a * b
        | BinaryOp.Div -> a / b
        | BinaryOp.Pow -> Special.pow a b
        | BinaryOp.Maximum -> if Double.IsNaN a || Double.IsNaN b then nan else max a b
        | BinaryOp.Minimum -> if Double.IsNaN a || Double.IsNaN b then nan else min a b
        | BinaryOp.Atan2 -> Math.Atan2(a, b)
        | BinaryOp.Less -> mask (a < b)
        | BinaryOp.LessEqual -> mask (a <= b)
        | BinaryOp.Greater -> mask (a > b)
        | BinaryOp.GreaterEqual -> mask (a >= b)
        | BinaryOp.Equal -> mask (a = b)
        | BinaryOp.NotEqual -> mask (a <> b)
        | BinaryOp.Fmod -> a % b
        | BinaryOp.Gammainc -> IncompleteGamma.lower a b
        | BinaryOp.Gammaincc -> IncompleteGamma.upper a b
        | BinaryOp.Zeta -> Special.zeta a b
