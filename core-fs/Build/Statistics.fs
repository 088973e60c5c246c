/// Statistics and norms built from primitives: variance and standard deviation with a
/// correction, and vector norms, with torch's gradients where the function has none (0).
namespace FunctionalDiff.Core

open System

/// Variance, standard deviation and norms over axes.
[<RequireQualifiedAccess>]
module Statistics =

    /// √s with the cotangent 0 where s = 0 (torch masks it so for std and the 2-norm, where
    /// the true derivative is undefined). The square root reads s only where s > 0, so no
    /// infinite derivative enters the graph, at any order.
    let private sqrtZeroGradientAtZero (s: Expr) =
        let zero = Expr.scalar s.DType 0.0
        let isZero = Expr.eq s zero
        Expr.where isZero zero (Expr.sqrt (Expr.where isZero (Expr.scalar s.DType 1.0) s))

    /// The variance over the axes: Σ(x - mean)² / (N - correction), as torch.var (correction 1
    /// is Bessel's; 0 the biased variance). Where N ≤ correction it divides by max(0, N - correction)
    /// = 0, as torch does (NaN for a constant, +inf otherwise). Over no entries the value is 0/0 = NaN
    /// and the derivative the zero map, as for the mean: a function of no numbers has every directional
    /// derivative 0, where the tangent 0 divided by that 0 was NaN (`fuzz adversarial 12/183`: the
    /// variance of an empty vector with correction 1, whose JVP is −0 in torch).
    let var (axes: int[]) (correction: float) (keepDims: bool) (x: Expr) =
        let axes = Shape.normalizeAxes "Var" x.Rank axes
        let count =
            let mutable n = 1
            for a in axes do
                n <- n * x.Dims.[a]
            n
        let centred = x - Expr.meanAxes axes true x
        let variance = Expr.sumAxes axes keepDims (Expr.square centred) / max 0.0 (float count - correction)
        if count = 0 then Expr.stopGradient variance else variance

    /// The standard deviation √var; its gradient is 0 where it is 0, as in torch.
    let std (axes: int[]) (correction: float) (keepDims: bool) (x: Expr) =
        let axes = Shape.normalizeAxes "Std" x.Rank axes
        sqrtZeroGradientAtZero (var axes correction keepDims x)

    /// The vector p-norm over the axes, as torch.linalg.vector_norm: (Σ|x|^p)^(1/p) for p > 0, max |x|
    /// for +∞, min |x| for −∞, and the count of nonzero entries for p = 0 (negative finite p is not
    /// supported). At 0 the gradient is 0 for every p, as torch has it (sign(0) = 0 for p = 1 and ∞,
    /// masked for the others).
    let norm (p: float) (axes: int[]) (keepDims: bool) (x: Expr) =
        let axes = Shape.normalizeAxes "Norm" x.Rank axes
        if p = 1.0 then Expr.sumAxes axes keepDims (Expr.abs x)
        elif p = 2.0 then sqrtZeroGradientAtZero (Expr.sumAxes axes keepDims (Expr.square x))
        elif Double.IsPositiveInfinity p then
            // over an empty axis the ∞-norm is 0, as torch (max would raise)
            if axes |> Array.exists (fun a -> x.Dims.[a] = 0) then Expr.zeros x.DType (Shape.reduced x.Dims axes keepDims)
            else Expr.reduce ReduceOp.Max axes keepDims (Expr.abs x)
        elif Double.IsNegativeInfinity p then
            if axes |> Array.exists (fun a -> x.Dims.[a] = 0) then
                Shape.fail "Norm" (sprintf "the -infinity norm of the empty axes of %s has no value (torch raises too)" (Shape.format x.Dims))
            Expr.reduce ReduceOp.Min axes keepDims (Expr.abs x)
        elif p = 0.0 then
            // the count of nonzero entries, whose derivative is 0 everywhere, as torch's
            Expr.stopGradient (Expr.sumAxes axes keepDims (Expr.cast x.DType (Expr.ne x (Expr.scalar x.DType 0.0))))
        elif p > 0.0 && not (Double.IsNaN p) then
            // (Σ|x|^p)^(1/p), reading |x|^p and the root only where their argument is positive: the
            // derivative is 0 at a zero entry (where |x|^(p-1) is infinite for p < 1; torch masks it
            // there too) and at a zero norm, as for p = 2
            let zero, one = Expr.scalar x.DType 0.0, Expr.scalar x.DType 1.0
            let power (e: Expr) (exponent: float) =
                let isZero = Expr.eq e zero
                Expr.where isZero zero (Expr.pow (Expr.where isZero one e) (Expr.scalar x.DType exponent))
            power (Expr.sumAxes axes keepDims (power (Expr.abs x) p)) (1.0 / p)
        else Shape.fail "Norm" (sprintf "p must be positive, 0 or ±infinity, got %g (input %s)" p (Shape.format x.Dims))

    /// The Frobenius norm over the last two axes: the 2-norm of the matrix's entries.
    let frobenius (keepDims: bool) (x: Expr) =
        if x.Rank < 2 then Shape.fail "FrobeniusNorm" (sprintf "input %s needs rank >= 2" (Shape.format x.Dims))
        norm 2.0 [| x.Rank - 2; x.Rank - 1 |] keepDims x
