/// The public gradient checker, like jax.test_util.check_grads and torch's gradcheck/gradgradcheck:
/// any function built with the library, reverse and forward modes, to any order, against central
/// differences in float64 along random directions.
///
/// Order k checks the first derivative of a level-k function. Level 1 is f. Level k+1 is the
/// level-k derivative taken in the mode under test along fixed random vectors: reverse,
/// x ↦ Σ_i ⟨pullback_i(u), w_i⟩; forward, x ↦ J(x) w. Finite differences are only ever taken of a
/// graph's values, never nested, so every order is checked at first-difference precision.
namespace FunctionalDiff.Core

open System

/// What to check and how strictly. The defaults suit float64 functions with moderate derivatives.
type GradCheckOptions =
    { /// The highest derivative order checked (1 = first derivatives).
      Order: int
      /// Check reverse mode: the dot-product test ⟨u, J v⟩ = ⟨Jᵀu, v⟩.
      Reverse: bool
      /// Check forward mode: J v from the tangent against J v from differences, elementwise.
      Forward: bool
      /// Random directions per input and order.
      Directions: int
      /// The central-difference step h. With h = 1e-6 the truncation error h²|f'''|/6 is ~1e-13
      /// and the rounding error ~1e-16|f|/h is ~1e-10|f|.
      Step: float
      /// The largest error allowed, where an error is |analytic - numeric| / (1 + |numeric|).
      Tolerance: float
      /// The seed of the random directions, so a failure can be replayed.
      Seed: int }

    /// Order 2, both modes, 3 directions, h = 1e-6, tolerance 1e-5 (100x the difference error
    /// at |f| ~ 1, yet 1000x below a 1% mistake in a rule), seed 0.
    static member Default =
        { Order = 2; Reverse = true; Forward = true; Directions = 3; Step = 1e-6; Tolerance = 1e-5; Seed = 0 }

/// The outcome of a check: on failure the first comparison over the tolerance, otherwise the
/// worst one seen.
type GradCheckResult =
    { /// True when every comparison was within the tolerance.
      Passed: bool
      /// The error of the reported comparison (the largest seen when passed).
      MaxError: float
      /// The derivative order of the reported comparison.
      Order: int
      /// "reverse" or "forward": the mode of the reported comparison.
      Mode: string
      /// What was compared and found, in words.
      Message: string
      /// The index of the argument the reported comparison perturbed (0 for one-argument functions).
      Argument: int
      /// The value of that argument.
      Input: Tensor }

/// Raised by GradCheck.assertGrad when a check fails; carries the result.
type GradCheckException(result: GradCheckResult) =
    inherit Exception(result.Message)
    /// The failed check.
    member _.Result = result

/// Finite-difference checks of derivatives of any order, in reverse and forward modes.
[<RequireQualifiedAccess>]
module GradCheck =

    /// A float64 tensor of standard normal entries (Box-Muller).
    let private normal (random: Random) (shape: int[]) =
        let draw () =
            let u1, u2 = 1.0 - random.NextDouble(), random.NextDouble()
            sqrt (-2.0 * log u1) * cos (2.0 * Math.PI * u2)
        Tensor.FromArray(Array.init (Shape.numel shape) (fun _ -> draw ()), shape)

    let private dot (a: float[]) (b: float[]) = Array.fold2 (fun s x y -> s + x * y) 0.0 a b

    /// |a - n| / (1 + |n|), with NaN or infinity on either side an infinite error.
    let private error (analytic: float) (numeric: float) =
        let e = abs (analytic - numeric) / (1.0 + abs numeric)
        if Double.IsNaN e || Double.IsInfinity e then Double.PositiveInfinity else e

    /// One comparison: its error, where it was made, and a description.
    type private Comparison = { Error: float; Order: int; Mode: string; Argument: int; Detail: string }

    let private validate (options: GradCheckOptions) (points: Tensor list) =
        if options.Order < 1 then invalidArg "options" (sprintf "GradCheck: Order must be at least 1, got %d" options.Order)
        if options.Directions < 1 then invalidArg "options" (sprintf "GradCheck: Directions must be at least 1, got %d" options.Directions)
        if not (options.Step > 0.0) then invalidArg "options" (sprintf "GradCheck: Step must be positive, got %g" options.Step)
        if not (options.Tolerance > 0.0) then invalidArg "options" (sprintf "GradCheck: Tolerance must be positive, got %g" options.Tolerance)
        if not options.Reverse && not options.Forward then invalidArg "options" "GradCheck: choose at least one of Reverse and Forward"
        if List.isEmpty points then invalidArg "points" "GradCheck: needs at least one input"
        if points |> List.exists (fun p -> isNull (box p)) then nullArg "points"

    /// The comparisons of the first derivative of `level` at the points, in one mode.
    let private compareFirstDerivative (options: GradCheckOptions) (random: Random) (order: int) (reverse: bool)
                                       (level: Expr list -> Expr) (points: Tensor list) =
        let vars = points |> List.mapi (fun i p -> Expr.variable (sprintf "x%d" i) p.Shape DType.Float64)
        let output = level vars
        let evaluate (at: Tensor list) (e: Expr) = (Eval.evalWith (List.zip vars at) e).ToDoubleArray()
        let h = options.Step
        [ for _ in 1 .. options.Directions do
            for i, point in List.indexed points do
                let v = normal random point.Shape
                let moved sign =
                    let data = Array.map2 (fun x d -> x + sign * h * d) (point.ToDoubleArray()) (v.ToDoubleArray())
                    points |> List.mapi (fun j p -> if j = i then Tensor.FromArray(data, point.Shape) else p)
                let plus, minus = evaluate (moved 1.0) output, evaluate (moved -1.0) output
                let differences = Array.map2 (fun a b -> (a - b) / (2.0 * h)) plus minus
                if reverse then
                    let u = normal random output.Dims
                    let _, pullback = Diff.vjpN level vars
                    let cotangent = (pullback (Expr.constant u)).[i]
                    let analytic = dot (evaluate points cotangent) (v.ToDoubleArray())
                    let numeric = dot (u.ToDoubleArray()) differences
                    yield { Error = error analytic numeric; Order = order; Mode = "reverse"; Argument = i
                            Detail = sprintf "<J^T u, v> by the pullback is %.10g, <u, J v> by finite differences is %.10g" analytic numeric }
                else
                    let tangents = vars |> List.mapi (fun j x -> if j = i then Expr.constant v else Expr.zerosLike x)
                    let _, tangent = Diff.jvpN level vars tangents
                    let analytic = evaluate points tangent
                    let errors = Array.map2 error analytic differences
                    if errors.Length > 0 then
                        let k = Array.findIndex (fun e -> e = Array.max errors) errors
                        yield { Error = errors.[k]; Order = order; Mode = "forward"; Argument = i
                                Detail = sprintf "element %d of J v is %.10g by the tangent and %.10g by finite differences" k analytic.[k] differences.[k] } ]

    /// The level-(k+1) function from the level-k one, along fixed random vectors.
    let private nextLevel (random: Random) (reverse: bool) (level: Expr list -> Expr) (points: Tensor list) =
        let outputShape = (level (points |> List.mapi (fun i p -> Expr.variable (sprintf "x%d" i) p.Shape DType.Float64))).Dims
        let weights = points |> List.map (fun p -> Expr.constant (normal random p.Shape))
        if reverse then
            let u = Expr.constant (normal random outputShape)
            fun (xs: Expr list) ->
                let _, pullback = Diff.vjpN level xs
                List.map2 (fun (c: Expr) w -> Expr.sum (c * w)) (pullback u) weights |> List.reduce (+)
        else
            fun (xs: Expr list) -> snd (Diff.jvpN level xs weights)

    /// Checks the derivatives of f, a function of several tensors, at the points, to
    /// options.Order in the chosen modes. Inputs are promoted to float64 for the check.
    let checkMany (options: GradCheckOptions) (f: Expr list -> Expr) (points: Tensor list) : GradCheckResult =
        validate options points
        let points = points |> List.map (fun p -> if p.DType = DType.Float64 then p else p.Cast DType.Float64)
        let random = Random(options.Seed)
        let modes = [ if options.Reverse then yield true
                      if options.Forward then yield false ]
        let mutable worst = None
        let mutable failure = None
        for reverse in modes do
            let mutable level = f
            let mutable order = 1
            while failure.IsNone && order <= options.Order do
                for c in compareFirstDerivative options random order reverse level points do
                    if worst |> Option.forall (fun w -> c.Error > w.Error) then worst <- Some c
                    if failure.IsNone && not (c.Error <= options.Tolerance) then failure <- Some c
                if order < options.Order then level <- nextLevel random reverse level points
                order <- order + 1
        let report passed (c: Comparison) =
            let verdict = if passed then "passed; worst comparison" else "FAILED"
            { Passed = passed; MaxError = c.Error; Order = c.Order; Mode = c.Mode; Argument = c.Argument; Input = points.[c.Argument]
              Message =
                sprintf "GradCheck %s at order %d, %s mode, input %d: %s; error %.3g (tolerance %g, step %g, seed %d)"
                    verdict c.Order c.Mode c.Argument c.Detail c.Error options.Tolerance options.Step options.Seed }
        match failure, worst with
        | Some c, _ -> report false c
        | None, Some c -> report true c
        | None, None ->
            { Passed = true; MaxError = 0.0; Order = options.Order; Mode = "none"; Argument = 0; Input = points.[0]
              Message = "GradCheck passed: the inputs or output have no elements to compare" }

    /// Checks the derivatives of a one-argument f at x (see checkMany).
    let check (options: GradCheckOptions) (f: Expr -> Expr) (x: Tensor) : GradCheckResult =
        checkMany options (fun xs -> f (List.head xs)) [ x ]

    /// check, raising GradCheckException (with the result and its message) when it fails.
    let assertGrad (options: GradCheckOptions) (f: Expr -> Expr) (x: Tensor) : unit =
        let result = check options f x
        if not result.Passed then raise (GradCheckException result)

    /// checkMany, raising GradCheckException when it fails.
    let assertGradMany (options: GradCheckOptions) (f: Expr list -> Expr) (points: Tensor list) : unit =
        let result = checkMany options f points
        if not result.Passed then raise (GradCheckException result)
