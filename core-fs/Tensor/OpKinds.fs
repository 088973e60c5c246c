/// The kinds of elementwise and reduction computation. Kernels dispatch on them, and the
/// graph's Op union reuses them, so each kind is named once in the whole core.
namespace FunctionalDiff.Core

/// Elementwise functions of one argument.
[<RequireQualifiedAccess>]
type UnaryOp =
    | Neg | Exp | Log | Log1p | Expm1 | Sin | Cos | Tan | Tanh | Sigmoid | Relu
    | Abs | Sign | Sqrt | Rsqrt | Square | Reciprocal | Erf | Floor | Ceil | Round
    | Erfc | Lgamma | Softplus | SigmoidSlope
    /// x·Φ(x), the exact GELU, and its slope Φ(x) + x·φ(x): one kernel each (see Activations.gelu).
    | Gelu | GeluSlope
    /// tanh's slope 1 − tanh² x as one kernel, (1 − y)(1 + y) at the rounded y = tanh x, exactly 0 where tanh saturates
    /// (see Rules: as the polynomial 1 − y², the Rewrite pass distributes it, and its terms cancel only to rounding).
    | TanhSlope
    /// The modified Bessel functions of the first kind of orders 0 and 1, plain and scaled by e^−|x| (torch.special's
    /// i0, i0e, i1, i1e): kernels, since the plain forms overflow where the scaled ones are still accurate.
    | I0 | I0e | I1 | I1e
    /// erfcx(x) = e^{x²} erfc(x), accurate where erfc underflows (torch.special.erfcx).
    | Erfcx
    /// The standard normal CDF Φ, its logarithm (accurate far in the left tail) and its inverse (torch.special's
    /// ndtr, log_ndtr and ndtri).
    | Ndtr | LogNdtr | Ndtri
    /// The Bessel functions of the first and second kind of orders 0 and 1 (torch.special's bessel_j0, bessel_j1,
    /// bessel_y0, bessel_y1), and the modified ones of the second kind, plain and scaled by eˣ (modified_bessel_k0,
    /// modified_bessel_k1, scaled_modified_bessel_k0, scaled_modified_bessel_k1): kernels (BesselJY, BesselK).
    | BesselJ0 | BesselJ1 | BesselY0 | BesselY1
    | ModifiedBesselK0 | ModifiedBesselK1 | ScaledModifiedBesselK0 | ScaledModifiedBesselK1
    /// The case's position in the declaration, for tables indexed by kind (F# code cannot
    /// read a union's compiled Tag).
    member internal op.Index =
        match op with
        | UnaryOp.Neg -> 0
        | UnaryOp.Exp -> 1
        | UnaryOp.Log -> 2
        | UnaryOp.Log1p -> 3
        | UnaryOp.Expm1 -> 4
        | UnaryOp.Sin -> 5
        | UnaryOp.Cos -> 6
        | UnaryOp.Tan -> 7
        | UnaryOp.Tanh -> 8
        | UnaryOp.Sigmoid -> 9
        | UnaryOp.Relu -> 10
        | UnaryOp.Abs -> 11
        | UnaryOp.Sign -> 12
        | UnaryOp.Sqrt -> 13
        | UnaryOp.Rsqrt -> 14
        | UnaryOp.Square -> 15
        | UnaryOp.Reciprocal -> 16
        | UnaryOp.Erf -> 17
        | UnaryOp.Floor -> 18
        | UnaryOp.Ceil -> 19
        | UnaryOp.Round -> 20
        | UnaryOp.Erfc -> 21
        | UnaryOp.Lgamma -> 22
        | UnaryOp.Softplus -> 23
        | UnaryOp.SigmoidSlope -> 24
        | UnaryOp.Gelu -> 25
        | UnaryOp.GeluSlope -> 26
        | UnaryOp.TanhSlope -> 27
        | UnaryOp.I0 -> 28
        | UnaryOp.I0e -> 29
        | UnaryOp.I1 -> 30
        | UnaryOp.I1e -> 31
        | UnaryOp.Erfcx -> 32
        | UnaryOp.Ndtr -> 33
        | UnaryOp.LogNdtr -> 34
        | UnaryOp.Ndtri -> 35
        | UnaryOp.BesselJ0 -> 36
        | UnaryOp.BesselJ1 -> 37
        | UnaryOp.BesselY0 -> 38
        | UnaryOp.BesselY1 -> 39
        | UnaryOp.ModifiedBesselK0 -> 40
        | UnaryOp.ModifiedBesselK1 -> 41
        | UnaryOp.ScaledModifiedBesselK0 -> 42
        | UnaryOp.ScaledModifiedBesselK1 -> 43

/// Elementwise functions of two broadcast arguments. Comparisons return 0/1 masks in the operand dtype.
/// Fmod is C's fmod (torch.fmod): a - trunc(a/b)·b computed exactly, with a's sign.
[<RequireQualifiedAccess>]
type BinaryOp =
    | Add | Sub | Mul | Div | Pow | Maximum | Minimum | Atan2
    | Less | LessEqual | Greater | GreaterEqual | Equal | NotEqual
    | Fmod
    /// The regularized lower and upper incomplete gamma functions P(a, x) and Q(a, x) = 1 − P(a, x) (torch.special's
    /// gammainc and gammaincc), a first: kernels (IncompleteGamma).
    | Gammainc | Gammaincc
    /// The Hurwitz zeta function ζ(s, q) = Σₖ (q + k)^−s (torch.special.zeta), s first: a kernel (Special.zeta).
    | Zeta
    /// The case's position in the declaration, for tables indexed by kind (F# code cannot
    /// read a union's compiled Tag).
    member internal op.Index =
        match op with
        | BinaryOp.Add -> 0
        | BinaryOp.Sub -> 1
        | BinaryOp.Mul -> 2
        | BinaryOp.Div -> 3
        | BinaryOp.Pow -> 4
        | BinaryOp.Maximum -> 5
        | BinaryOp.Minimum -> 6
        | BinaryOp.Atan2 -> 7
        | BinaryOp.Less -> 8
        | BinaryOp.LessEqual -> 9
        | BinaryOp.Greater -> 10
        | BinaryOp.GreaterEqual -> 11
        | BinaryOp.Equal -> 12
        | BinaryOp.NotEqual -> 13
        | BinaryOp.Fmod -> 14
        | BinaryOp.Gammainc -> 15
        | BinaryOp.Gammaincc -> 16
        | BinaryOp.Zeta -> 17

/// Reductions over a set of axes.
[<RequireQualifiedAccess>]
type ReduceOp =
    | Sum | Mean | Max | Min | Prod
