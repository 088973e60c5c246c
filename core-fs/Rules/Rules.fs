/// The VJP table: one arm per primitive, each giving the cotangent of every input from the
/// cotangent `g` of the node's output. Rules use only the op language, so their graphs can be
/// differentiated again; the compiler's exhaustiveness check proves every primitive has a rule.
namespace FunctionalDiff.Core

/// The arrays a reverse walk lends the rules of one and two inputs for their cotangents (see
/// Rules.cotangents), and whether the walk keeps masks outside products (the transposition of a
/// second derivative's forward pass, Jvp.fs). One per walk: a rule that runs a nested walk (a
/// custom rule's user function) gets its own in that walk.
[<Sealed>]
type internal RuleScratch(keepMasks: bool, start: int64) =
    member val One: Expr[] = Array.zeroCreate 1
    member val Two: Expr[] = Array.zeroCreate 2
    /// True in a walk that keeps masks outside products (see Rules.keepMaskOutside).
    member _.KeepMasks = keepMasks
    /// The oldest id the walk visits: the cotangents it builds are newer.
    member _.Start = start
    /// Per node of the walk's cotangents that tanh's rule has looked at, the oldest leaf its polynomial
    /// reaches (see Rules.cotangentIsBoundedPolynomial; 0 for a node not looked at), made at the first
    /// look: most walks meet no tanh. Flat pages by id, which take the nodes the walk builds after it
    /// is made: as a Dictionary it was a quarter of a tanh chain's gradient, in lookups and in the
    /// resizing of a table the size of the chain.
    member val OldestLeaf: IdMap<int64> = Unchecked.defaultof<IdMap<int64>> with get, set
    /// The pending nodes of that look (kept, so a walk allocates one stack).
    member val Pending: System.Collections.Generic.Stack<Expr> = null with get, set

/// A cotangent term two of a rule's cotangents share, built at the first one's use: a class of
/// our own rather than `lazy`, whose FSharp.Core and System.Lazy code tiered compilation starts
/// unoptimised (a rule runs for every node of every gradient). Rules run on one thread.
[<Sealed>]
type internal SharedTerm(make: unit -> Expr) =
    let mutable value = Unchecked.defaultof<Expr>
    member _.Value =
        if isNull (box value) then value <- make ()
        value

/// The rules. Cotangents may come back in the output's (broadcast) shape: the reverse walk sums
/// each one down to its input's shape, so rules never repeat un-broadcasting.
[<RequireQualifiedAccess>]
module Rules =

    /// The cotangent a max/min reduction or maximum/minimum sends to the entries that won:
    /// shared evenly among ties, as torch does. `where` keeps NaN in g away from the losers.
    /// The cotangent of one operand of maximum/minimum, as torch shares it: nothing where that operand
    /// lost, half at a tie, all of g otherwise. "Otherwise" includes a NaN on either side (no comparison
    /// holds), where torch sends the whole cotangent to both operands.
    let private shareUnlessLost (lost: Expr) (tie: Expr) (g: Expr) =
        let zero = Expr.scalar g.DType 0.0
        Expr.where lost zero (Expr.where tie (g * 0.5) g)

    /// For each entry of x, the product of the other entries along the last axis: the products of the
    /// entries in front times those behind. It is a polynomial in x built from products, slices and
    /// concatenation, so every derivative of it is right where entries are exactly 0 (y / x is NaN there,
    /// and torch's special case for zeros is right at first order only). Nothing is multiplied by a
    /// constant 1 (an empty product): in forward mode its tangent is a materialised 0, which met an
    /// overflowed partial product as ∞·0 = NaN (`fuzz adversarial 3/99`: the Hessian of the product of
    /// [1e160, 1e160, 0], whose row for the 0 is 1e160·u, came out NaN).
    let private productOfOthers (x: Expr) =
        let axis = x.Rank - 1
        let n = x.Dims.[axis]
        let multiplyOthers (v: Expr) =
            let front = Indexing.cumprod axis (Expr.sliceAxis axis 0 (n - 1) v)
            let back = Expr.flip [| axis |] (Indexing.cumprod axis (Expr.flip [| axis |] (Expr.sliceAxis axis 1 n v)))
            // entry 0: everything behind it; entry n-1: everything in front; between, the two products
            let first, last = Expr.sliceAxis axis 0 1 back, Expr.sliceAxis axis (n - 2) (n - 1) front
            if n = 2 then Expr.concat axis [ first; last ]
            else Expr.concat axis [ first; Expr.sliceAxis axis 0 (n - 2) front * Expr.sliceAxis axis 1 (n - 1) back; last ]
        if n <= 1 then Expr.ones x.DType x.Dims
        else
            let products = multiplyOthers x
            // The partial products go by a tree, not left to right: where the others hold an infinity and entries
            // whose partial product underflows to 0, ∞·0 = NaN, where the product of the others is ±∞ (torch's
            // running product happens to keep the ∞: `fuzz adversarial 2/12`, the gradient at the 0 of a product of
            // ∞, subnormals and −0.63 is −∞). There the result is ±∞ with the sign of the others (their signs
            // multiply exactly; a 0 or NaN among them gives NaN, as it should). Signs have no derivative.
            // Only where the others hold no 0 and no NaN: with one, their product is NaN anyway (0·∞), and the tree's
            // product keeps its derivatives, where the signs have none (`fuzz 10/213`: the Hessian of the product of
            // [0, ∞, −0.3] had −0 at (2, 0), whose closed form ∂(x₀x₁)/∂x₀ = x₁ is ∞).
            let infinite = Expr.eq (Expr.abs x) (Expr.scalar x.DType infinity)
            let zero = Expr.scalar x.DType 0.0
            let elsewhere (mask: Expr) = Expr.sumAxes [| axis |] true mask - mask
            let infinityElsewhere = Expr.gt (elsewhere infinite) zero
            let zeros, nans = Expr.eq x zero, Expr.ne x x
            let isNaN = Expr.ne products products
            let noNaNElsewhere = Expr.eq (elsewhere nans) zero
            let lost = isNaN * infinityElsewhere * Expr.eq (elsewhere zeros) zero * noNaNElsewhere
            // Where the others are finite and hold two zeros or more, their product is 0, and so are its first
            // derivatives (each leaves out one more entry, and a 0 remains); the running products beside the zeros
            // can still overflow or underflow and meet them as 0·∞ = NaN (`fuzz all adversarial 48/290`: the gradient
            // of the product of [0, 0, 0, 1e160, −1.5, 1e160], 0 everywhere, torch's plain backward too). There the
            // product is the constant 0: exact, as are the first derivatives; a second derivative of it is exactly 0
            // only with three zeros among the others (with two, ∂²/∂x_k∂x_l at the two zeros is the rest's product).
            let zeroAmongTwo = isNaN * Expr.ge (elsewhere zeros) (Expr.scalar x.DType 2.0) * Expr.eq (elsewhere infinite) zero * noNaNElsewhere
            Expr.where zeroAmongTwo (Expr.zeros x.DType x.Dims) (Expr.where lost (multiplyOthers (Expr.sign x) * infinity) products)

    /// e^(−x²), the Gaussian factor of erf′ and erfc′, with x held at ±40 beyond ±40, where e^(−x²) is 0 in both
    /// dtypes (it underflows from |x| ≈ 27.3 in float64). Its derivative −2x·e^(−x²) must be 0 there too, the limit,
    /// but with x itself it is ∞·0 = NaN once x² or x times a tangent overflows (`fuzz adversarial 1/297`: erf'' at
    /// x = 1e190, torch 0). The held value has no derivative, so every order past the first is exactly 0 there.
    let private gaussianFactor (x: Expr) =
        let bound = Expr.scalar x.DType 40.0
        let held = Expr.where (Expr.gt x bound) bound (Expr.where (Expr.lt x -bound) -bound x)
        Expr.exp (-(held * held))

    /// φ(x) = e^(−x²/2)/√(2π), the standard normal density, from gaussianFactor (so 0, with no NaN in any derivative,
    /// where it underflows).
    let private standardNormalDensity (x: Expr) = gaussianFactor (x * (1.0 / System.Math.Sqrt 2.0)) * (1.0 / System.Math.Sqrt(2.0 * System.Math.PI))

    /// Below this |x| the rules of i1 and i1e read I₁(x)/x from its Maclaurin polynomial (see besselRatio).
    let private besselSeriesBound = 0.5

    /// The Maclaurin coefficients of I₁(x)/x in x², 1/(2·4ᵏ k! (k+1)!), or of J₁(x)/x with `alternating` signs: through
    /// k = 7 they leave out less than 1e-16 of the sum below the bound.
    let private besselRatioSeries (alternating: bool) =
        let factorial n = Array.fold (fun p j -> p * float j) 1.0 [| 1 .. n |]
        Array.init 8 (fun k ->
            let sign = if alternating && k % 2 = 1 then -1.0 else 1.0
            sign / (2.0 * System.Math.Pow(4.0, float k) * factorial k * factorial (k + 1)))

    /// The kinds of besselRatio: I₁(x)/x, e^−|x| I₁(x)/x and J₁(x)/x.
    [<RequireQualifiedAccess>]
    type private BesselRatio = Modified | ModifiedScaled | FirstKind

    /// I₁(x)/x, e^−|x| I₁(x)/x or J₁(x)/x by `kind`, with its limit 1/2 at 0: the term of i1′ = i0 − I₁/x, of
    /// i1e′ = i0e − i1e·(sign x + 1/x) and of j1′ = j0 − J₁/x. Below the bound the polynomial (times e^−|x|), which
    /// reads x only there, so no 0/0 reaches any order at 0 and the derivatives there are the true ones; the quotient,
    /// which reads x only above, elsewhere (its k-th derivative cancels terms of size 1/xᵏ⁺¹, so near 0 it would keep
    /// no digit).
    let private besselRatio (kind: BesselRatio) (x: Expr) =
        let small = Expr.lt (Expr.abs x) (Expr.scalar x.DType besselSeriesBound)
        let near = Expr.where small x (Expr.scalar x.DType 0.0)
        let far = Expr.where small (Expr.scalar x.DType 1.0) x
        let square = near * near
        let coefficients = besselRatioSeries (kind = BesselRatio.FirstKind)
        let mutable polynomial = Expr.scalar x.DType coefficients.[coefficients.Length - 1]
        for k in coefficients.Length - 2 .. -1 .. 0 do
            polynomial <- polynomial * square + coefficients.[k]
        let series, quotient =
            match kind with
            | BesselRatio.ModifiedScaled -> Expr.exp (-(Expr.abs near)) * polynomial, Expr.i1e far / far
            | BesselRatio.Modified -> polynomial, Expr.i1 far / far
            | BesselRatio.FirstKind -> polynomial, Expr.besselJ1 far / far
        Expr.where small series quotient

    /// erfcx′(x) = 2x·erfcx(x) − 2/√π, torch's rule, whose terms cancel as x grows: the difference is about −1/(x²√π), and
    /// the formula's rounding is ε relative to its terms, so it loses the difference far out, and log Φ's curvature, which
    /// reads it far left, loses its limit −1 with it. Above 100 and finite it is the asymptotic series
    /// (2/√π)·Σₙ₌₁⁶ (−1)ⁿ(2n − 1)!!/(2x²)ⁿ, whose next term is negligible there; at +∞ torch's NaN (∞·0) is kept. Each side
    /// reads x only where it is taken, so neither meets the other's range.
    let private erfcxSlope (x: Expr) (y: Expr) =
        let bound = Expr.scalar x.DType 100.0
        let far = Expr.gt x bound * Expr.lt x (Expr.scalar x.DType System.Double.PositiveInfinity)
        let w = 0.5 / Expr.square (Expr.where far x bound)
        let coefficients = [| -1.0; 3.0; -15.0; 105.0; -945.0; 10395.0 |]
        let mutable series = Expr.scalar x.DType coefficients.[coefficients.Length - 1]
        for k in coefficients.Length - 2 .. -1 .. 0 do
            series <- series * w + coefficients.[k]
        let twoOverSqrtPi = 2.0 / System.Math.Sqrt System.Math.PI
        Expr.where far (twoOverSqrtPi * series * w) (2.0 * Expr.where far bound x * y - twoOverSqrtPi)

    /// φ(x)/Φ(x), the slope of log Φ: √(2/π)/erfcx(−x/√2) below 0, where φ and Φ underflow together (it is about −x
    /// there), and φ(x)/Φ(x) from 0 on, where Φ ≥ 1/2. Each side reads x only there, so erfcx's overflow above 0
    /// reaches no derivative.
    let private logNdtrSlope (x: Expr) =
        let zero = Expr.scalar x.DType 0.0
        let lower = Expr.lt x zero
        let below = Expr.where lower x zero
        let above = Expr.where lower zero x
        let fromErfcx = System.Math.Sqrt(2.0 / System.Math.PI) / Expr.erfcx (below * (-1.0 / System.Math.Sqrt 2.0))
        Expr.where lower fromErfcx (standardNormalDensity above / Expr.ndtr above)

    /// True when the cotangent g reaching tanh's node is a polynomial (sums, products, negations and
    /// squares) over finite filled constants, outputs of bounded functions and leaves newer than the
    /// node (a transform's cotangent placeholder, which the primal cannot hold, and which every
    /// derivative is linear in). Then tanh's slope may be the polynomial 1 − y²: the Rewrite pass
    /// distributes it over g, and its terms are bounded by g's own, so where y saturates they cancel
    /// to what g·0 is. Elsewhere (g holds x, a matmul, an exponential, anything that can be huge) the
    /// slope is the primitive TanhSlope, one factor, exactly 0 there. Each cotangent node is looked at
    /// once per walk (its oldest leaf is kept in the scratch), so a chain of tanh costs O(1) per step,
    /// and nothing older than tanh's node is looked into (counted in Visits).
    let private cotangentIsBoundedPolynomial (node: Expr) (g: Expr) (scratch: RuleScratch) =
        if isNull (box scratch.OldestLeaf) then
            scratch.OldestLeaf <- IdMap<int64>(scratch.Start, true)
            scratch.Pending <- System.Collections.Generic.Stack<Expr>()
        let oldest = scratch.OldestLeaf
        let pending = scratch.Pending
        // Int64.MinValue: holds a node that can be huge; Int64.MaxValue: no leaf but constants and bounded outputs
        let leafOf (e: Expr) =
            match e.Op, e with
            | _, Fold.Filled v -> ValueSome(if System.Double.IsFinite v then System.Int64.MaxValue else System.Int64.MinValue)
            | (Op.Var _ | Op.Const _), _ -> ValueSome e.Id
            // a polynomial node older than tanh's is a leaf too: whatever it is, it is not one of the
            // cotangent's own terms, and below it lies the history of f's arguments and captured values,
            // which no transform may walk (it answers "can be huge", the primitive, always right)
            | Op.Binary(BinaryOp.Add | BinaryOp.Sub | BinaryOp.Mul), _ | Op.Unary(UnaryOp.Neg | UnaryOp.Square), _ ->
                if e.Id < node.Id then ValueSome e.Id else ValueNone
            | Op.Unary(UnaryOp.Tanh | UnaryOp.TanhSlope | UnaryOp.Sigmoid | UnaryOp.SigmoidSlope | UnaryOp.Sin | UnaryOp.Cos | UnaryOp.Erf), _ ->
                ValueSome System.Int64.MaxValue
            // every other node can be huge (this only answers "is g a bounded polynomial")
            | _ -> ValueSome System.Int64.MinValue
        // Leaves are answered by leafOf each time and never stored: the table holds only the
        // polynomial nodes of the cotangents (half of what it held with its leaves, and it lives for
        // the whole walk: a 10^6-op chain's held millions of entries).
        let inline known (e: Expr) =
            match leafOf e with
            | ValueSome leaf -> ValueSome leaf
            | ValueNone ->
                let leaf = oldest.[e.Id]
                if leaf = 0L then ValueNone else ValueSome leaf
        match known g with
        | ValueSome leaf -> leaf > node.Id
        | ValueNone ->
            pending.Push g
            // counted once at the end: a thread-static per visit was a cost of its own
            let mutable visits = 0
            while pending.Count > 0 do
                let e = pending.Peek()
                visits <- visits + 1
                if oldest.[e.Id] <> 0L then pending.Pop() |> ignore
                else
                    let mutable ready = true
                    let mutable result = System.Int64.MaxValue
                    for k in 0 .. e.ArgCount - 1 do
                        let a = e.Arg k
                        match known a with
                        | ValueSome leaf -> result <- min result leaf
                        | ValueNone ->
                            ready <- false
                            pending.Push a
                    if ready then
                        oldest.[e.Id] <- result
                        pending.Pop() |> ignore
            Visits.Add visits
            oldest.[g.Id] > node.Id

    /// g·factor (or g/factor) in a walk that transposes a second derivative's pullback, with every where of g whose branch is a
    /// symbolic zero kept outside the product: where(m, 0, h)·K becomes where(m, 0, h·K). A rule that masks its
    /// product, where(m, 0, g·K) (pow's, whose untaken factor may be ±∞ or NaN), is one elementwise linear map of
    /// g; transposed, the walk meets the where first and the product after it, so the tangent came out
    /// where(m, 0, t)·K, 0·∞ = NaN where the rule (and reverse over reverse) gives 0. Every factor the tangent
    /// later meets is multiplied in under the mask too, so what the reverse rule masked stays masked: the
    /// Hessian of (x^c)² at x = +∞, c = 1, went through 2x^c·u times the masked (c − 1)·x^(c−2) = ∞·0 (`fuzz
    /// 1/1103`). Pushing a product into a where's branches is exact in IEEE ((m ? a : b)·K = m ? a·K : b·K); only
    /// the symbolic zero branch is kept 0 rather than 0·K, as an absent tangent. Reverse walks keep torch's
    /// order, where(m, 0, g)·K, whose 0·∞ torch's reverse rules share, and so does the transposition of a
    /// first-order JVP, as torch's double-backward JVP (clamp of NaN then exp: NaN in both, `fuzz adversarial
    /// 3/197`, where keeping the mask gave 0).
    let rec private keepMaskOutside (combine: Expr -> Expr -> Expr) (g: Expr) (factor: Expr) =
        match g.Op with
        | Op.Where when Fold.isZero g.Second -> Expr.where g.First g.Second (keepMaskOutside combine (g.Arg 2) factor)
        | Op.Where when Fold.isZero (g.Arg 2) -> Expr.where g.First (keepMaskOutside combine g.Second factor) (g.Arg 2)
        | _ -> combine g factor

    /// Raised by a rule for an argument torch gives no derivative either (torch.special's gammainc, gammaincc and zeta in
    /// their first argument), when the reverse walk wants that argument's cotangent.
    let private notDifferentiable (op: string) (parameter: string) (argument: Expr) : Expr =
        raise (System.NotSupportedException(
                sprintf "%s: the derivative with respect to %s (shape %s) is not implemented, as in torch.special.%s; pass %s as data (a constant, or held with StopGradient)"
                    op parameter (Shape.format argument.Dims) (op.ToLowerInvariant()) parameter))

    /// The cotangents of `node`'s inputs, in order, given the cotangent g of its output; null for
    /// each input `wanted` refuses (the reverse walk wants only the inputs on a path to a target,
    /// never constants), so only the cotangents it needs are built. They are built in input order,
    /// straight into the result: a list of thunks per node was a quarter of what the walk allocated.
    /// Rules of one or two inputs (most nodes) write into `scratch`'s arrays, which the caller
    /// reads before the next call: a fresh array per node was a tenth of what the walk allocated.
    let internal cotangents (node: Expr) (g: Expr) (wanted: int -> bool) (scratch: RuleScratch) : Expr[] =
        let y = node
        // Inline, so each arm's cotangent is written as a thunk but compiled as a plain branch: no
        // closure per node.
        let inline pick (j: int) (cotangent: unit -> Expr) = if wanted j then cotangent () else Unchecked.defaultof<Expr>
        let inline one (c0: unit -> Expr) =
            let into = scratch.One
            into.[0] <- pick 0 c0
            into
        let inline two (c0: unit -> Expr) (c1: unit -> Expr) =
            let into = scratch.Two
            into.[0] <- pick 0 c0
            into.[1] <- pick 1 c1
            into
        let inline zeroFor (e: Expr) = fun () -> Expr.zerosLike e
        // A function, not a value: most rules never use it, and a scalar is a lookup in the node table.
        let inline zero () = Expr.scalar g.DType 0.0
        match node.Op with
        | Op.Var _ | Op.Const _ -> [||]
        | Op.Unary op ->
            let x = node.First
            one (fun () ->
                match op with
                | UnaryOp.Neg -> -g
                | UnaryOp.Exp -> g * y
                | UnaryOp.Log -> g / x
                | UnaryOp.Log1p -> g / (1.0 + x)
                | UnaryOp.Expm1 -> g * (y + 1.0)
                | UnaryOp.Sin -> g * Expr.cos x
                | UnaryOp.Cos -> g * -(Expr.sin x)
                | UnaryOp.Tan -> g * (1.0 + Expr.square y)
                // tanh's slope as one factor, the primitive (1 − y)(1 + y), exactly 0 where y is ±1, wherever g can be huge: as the
                // polynomial 1 − y², the Rewrite pass distributed it over g, so that (x² tanh x)'' summed
                // −2x·y² + 2y + 2x, which cancels only to the rounding of 2x (0 instead of 2 from x ≈ 1e16),
                // where 2x·(1 − y²) is exactly 0; GeluTanh'' at 1e30 was 1/√(2π) instead of 0 (`fuzz adversarial
                // 4/42 --ops wide`). Where g is a bounded polynomial (see cotangentIsBoundedPolynomial) the slope
                // stays 1 − y²: its distributed terms cancel exactly there, and the nested derivatives of tanh
                // stay polynomials in y alone, linear in size in the order (GraphScaleTests, ForwardSizeTests);
                // with sech² they were polynomials in two atoms, larger from the third order on.
                | UnaryOp.Tanh ->
                    if cotangentIsBoundedPolynomial node g scratch then g * (1.0 - Expr.square y) else g * Expr.tanhSlope x
                // (sech² x)' = −2·tanh x·sech² x: one product again, written in ops so it differentiates
                // to any order (the nested derivatives are polynomials in tanh x and sech² x)
                | UnaryOp.TanhSlope -> g * (-2.0 * (Expr.tanh x * y))
                // σ' as one factor, torch's fused rule: y(1 − y) is a product of two terms in y, so
                // the second derivative summed g·(1 − y)·σ' and −g·y·σ' separately, ∞ − ∞ = NaN under
                // an infinite cotangent where torch's g·(1 − 2y)·σ' is ±∞ (`fuzz 2/99`: a binary
                // cross-entropy at an infinite logit through a sigmoid target).
                | UnaryOp.Sigmoid -> g * Expr.sigmoidSlope x
                // σ'' = σ'·(1 − 2σ) = σ'·(−tanh(x/2)): again one product, so an infinite cotangent
                // gives ±∞ (NaN only where σ'' is 0, at x = 0 or where σ' underflows, as torch's)
                | UnaryOp.SigmoidSlope -> g * (y * -(Expr.tanh (x * 0.5)))
                // torch masks by the output: nothing where relu x <= 0, all of g elsewhere, NaN included
                // (relu NaN is NaN, which is not <= 0), so the slope at NaN is 1 at every order.
                | UnaryOp.Relu -> Expr.where (Expr.le y (zero ())) (zero ()) g
                | UnaryOp.Abs -> g * Expr.sign x
                | UnaryOp.Sqrt -> g / (2.0 * y)
                // g meets the factors of −½y³ one at a time, so a zero cotangent stays 0 where y³ alone overflows
                // (`fuzz adversarial 46/194`: a group norm of a constant group of 7e150, whose scaled variance is 0
                // and ε/s² about 1e-306: y = 3e152, y³ = ∞, and the variance's cotangent, exactly 0 as the centred
                // entries are, became 0·∞ = NaN; torch's fused kernel gives the closed form)
                | UnaryOp.Rsqrt -> ((g * y) * y) * (y * -0.5)
                | UnaryOp.Square -> g * (2.0 * x)
                // as rsqrt's: g meets y twice, one factor at a time, so a zero or small cotangent stays 0 or finite where
                // y² alone overflows (|x| below 1e-154: at x = 1e-160 the cotangent 0 gave 0·∞ = NaN where the derivative of
                // 0·(1/x) is 0, and 1e-200 gave ∞ where the gradient is −1e120 and the second derivative 2e280)
                | UnaryOp.Reciprocal -> -((g * y) * y)
                | UnaryOp.Erf -> g * (2.0 / sqrt System.Math.PI * gaussianFactor x)
                | UnaryOp.Sign | UnaryOp.Floor | UnaryOp.Ceil | UnaryOp.Round -> Expr.zerosLike x
                | UnaryOp.Erfc -> g * (-2.0 / sqrt System.Math.PI * gaussianFactor x)
                | UnaryOp.Lgamma -> g * Expr.digamma x
                | UnaryOp.I0 -> g * Expr.i1 x
                | UnaryOp.I1 -> g * (Expr.i0 x - besselRatio BesselRatio.Modified x)
                // sign(0) = 0, as torch's rules: the kink of e^−|x| at 0 gets the mean of its two slopes
                | UnaryOp.I0e -> g * (Expr.i1e x - Expr.sign x * y)
                | UnaryOp.I1e -> g * (Expr.i0e x - Expr.sign x * y - besselRatio BesselRatio.ModifiedScaled x)
                // torch's rule 2x·erfcx(x) − 2/√π (NaN at +∞, where 2x·erfcx(x) is ∞·0), by its series where it cancels
                | UnaryOp.Erfcx -> g * erfcxSlope x y
                | UnaryOp.Ndtr -> g * standardNormalDensity x
                | UnaryOp.LogNdtr -> g * logNdtrSlope x
                // 1/φ(Φ⁻¹(p)) = √(2π)·e^(y²/2): +∞ at p = 0 and 1
                | UnaryOp.Ndtri -> g * (System.Math.Sqrt(2.0 * System.Math.PI) * Expr.exp (0.5 * Expr.square y))
                | UnaryOp.BesselJ0 -> g * -(Expr.besselJ1 x)
                // J₁′ = J₀ − J₁/x, 1/2 at 0 through besselRatio's series
                | UnaryOp.BesselJ1 -> g * (Expr.besselJ0 x - besselRatio BesselRatio.FirstKind x)
                | UnaryOp.BesselY0 -> g * -(Expr.besselY1 x)
                // x > 0 only, so the quotient never meets 0 inside the domain
                | UnaryOp.BesselY1 -> g * (Expr.besselY0 x - y / x)
                | UnaryOp.ModifiedBesselK0 -> g * -(Expr.modifiedBesselK1 x)
                | UnaryOp.ModifiedBesselK1 -> g * (-(Expr.modifiedBesselK0 x) - y / x)
                // (eˣK₀)′ = eˣK₀ − eˣK₁ and (eˣK₁)′ = eˣK₁ − eˣK₀ − eˣK₁/x: the scaled forms throughout, so nothing underflows
                | UnaryOp.ScaledModifiedBesselK0 -> g * (y - Expr.scaledModifiedBesselK1 x)
                | UnaryOp.ScaledModifiedBesselK1 -> g * (y - Expr.scaledModifiedBesselK0 x - y / x)
                // torch's fused rule g·(Φ + x·φ), one factor, so x·φ = 0 where φ underflows, whatever
                // x: ∞ under an infinite cotangent at x = 710 (`fuzz adversarial 4/261`), 0 for the
                // tangent at x = −1e160 (`3/173`)
                | UnaryOp.Gelu -> g * Expr.geluSlope x
                // (Φ + x·φ)' = φ·(2 − x²), with x² = 2h² from erfc's held argument h = −x/√2 (±40 at
                // most), so it is 0 where φ underflows, never ∞·0; the hold's selection gives the
                // derivatives above this one their 0 outside ±40√2
                | UnaryOp.GeluSlope ->
                    let bound = Expr.scalar x.DType 40.0
                    let scaled = x * (-1.0 / sqrt 2.0)
                    let held = Expr.where (Expr.gt scaled bound) bound (Expr.where (Expr.lt scaled -bound) -bound scaled)
                    let square = Expr.square held
                    g * (Expr.exp (-square) * (1.0 / sqrt (2.0 * System.Math.PI)) * (2.0 - 2.0 * square))
                // torch's rule, g·σ(x), one term, so an infinite cotangent gives ±∞ (the composite
                // x + log1p(e^-x) gave g - g·σ(-x) = ∞ - ∞). σ is written so that its own derivative is
                // one term as well, and accurate: 1/(1 + e^-x) for |x| <= 40 (σ' = e^-x·σ², where
                // σ(1 - σ) is 1 - 1 = 0 from x ≈ 37, and e^x/(1 + e^x) is ∞ - ∞ under an infinite
                // cotangent); e^x below -40 and 1 above 40, where each is σ to rounding in both dtypes,
                // the latter as torch's rule above its threshold (slope 1, curvature 0). Each branch
                // reads x only on its own side, so another side's overflow reaches no derivative.
                | UnaryOp.Softplus ->
                    let bound = Expr.scalar x.DType 40.0
                    let low = Expr.lt x -bound
                    let high = Expr.gt x bound
                    let inside (e: Expr) = Expr.where low (zero ()) (Expr.where high (zero ()) e)
                    let middle = Expr.reciprocal (1.0 + Expr.exp (-(inside x)))
                    let logistic = Expr.where high (Expr.scalar x.DType 1.0) (Expr.where low (Expr.exp (Expr.where low x -bound)) middle)
                    g * logistic)
        | Op.Binary op ->
            let a, b = node.First, node.Second
            match op with
            | BinaryOp.Add -> two (fun () -> g) (fun () -> g)
            | BinaryOp.Sub -> two (fun () -> g) (fun () -> -g)
            | BinaryOp.Mul when scratch.KeepMasks ->
                two (fun () -> keepMaskOutside ( * ) g b) (fun () -> keepMaskOutside ( * ) g a)
            | BinaryOp.Mul -> two (fun () -> g * b) (fun () -> g * a)
            | BinaryOp.Div when scratch.KeepMasks ->
                two (fun () -> keepMaskOutside (/) g b) (fun () -> -(keepMaskOutside (fun h divisor -> h * y / divisor) g b))
            | BinaryOp.Div -> two (fun () -> g / b) (fun () -> -(g * y / b))
            | BinaryOp.Pow ->
                // torch's two masks, each where torch puts it: no cotangent through a zero exponent
                // (the product with g is masked), and none to the exponent where the base is 0 (only
                // the coefficient y·log a is masked, and g multiplies it). Where each sits decides
                // which 0 · ∞ become NaN at second order and in the transposed (JVP) rule, as in torch.
                // The factor b·a^(b-1) is masked too: forward mode transposes this rule, which puts
                // the outer mask on the tangent and multiplies the factor outside it, so at b = 1,
                // a = 0 the second derivative's (b-1)·a^(b-2) = 0·∞ would be NaN where torch's
                // double backward (and the closed form) give 0.
                // g multiplies b before the power (torch's order, grad · exponent · a^(b-1)): where g is 0 its
                // second derivative in a is (g·b)·(b-1)·a^(b-2) = 0, where g·(b·(b-1)) overflowed to 0·∞ = NaN
                // (`fuzz all adversarial 44/87`: the Hessian of a^b − a^b at a = 1, b = −1e300 is 0).
                // Where |a^(b-1)| < 1 the exponent meets the power first instead, g·(b·a^(b-1)), which cannot overflow
                // (|b·a^(b-1)| < |b|): the cotangent g reaching this power at second order already holds the outer
                // exponent, so g·b overflowed before the underflowed power met it, ∞·0 = NaN (`fuzz all adversarial
                // 58/77`: the second derivative of x^c at c = −3.3e159, x = 2.3, is 0 in the closed form and torch).
                // One chain (g·b₁)·(b₂·a^(b-1)) with b₁·b₂ = b, b₁ = 1 on one side of the mask and b₂ = 1 on the other,
                // not a where of two products: the mask reads the primal only, so the rule stays linear in g, g has one
                // path (a sum of two masked branches would hide the b = 0 mask from the forward walk's keepMaskOutside,
                // and an untaken branch's 0·∞ would reach g's own derivative), and at a = 1 (`44/87`) and where the
                // power is 1 (`1/1103`: b = 1) it is the order above.
                two (fun () ->
                        let power = Expr.where (Expr.eq b (zero ())) (zero ()) (a ** (b - 1.0))
                        let small = Expr.lt (Expr.abs power) (Expr.scalar a.DType 1.0)
                        let one = Expr.scalar a.DType 1.0
                        let product = (g * Expr.where small one b) * (Expr.where small b one * power)
                        Expr.where (Expr.eq b (zero ())) (zero ()) product)
                  (fun () -> g * Expr.where (Expr.eq a (zero ()) * Expr.ge b (zero ())) (zero ()) (y * Expr.log a))
            | BinaryOp.Maximum ->
                two (fun () -> shareUnlessLost (Expr.lt a b) (Expr.eq a b) g)
                  (fun () -> shareUnlessLost (Expr.gt a b) (Expr.eq a b) g)
            | BinaryOp.Minimum ->
                two (fun () -> shareUnlessLost (Expr.gt a b) (Expr.eq a b) g)
                  (fun () -> shareUnlessLost (Expr.lt a b) (Expr.eq a b) g)
            // atan2(x, x) is constant wherever x is finite (π/4, −3π/4, or a signed 0 or π at ±0), so its derivative is
            // 0 there, and NaN at ±∞ and NaN as the general rule's ∞/∞: g·(x − x). The two partials below cancel to that,
            // but each is ±1/(2x), which overflows for |x| below 2.8e-309, and the cancelled ∞ − ∞ was NaN (`fuzz
            // adversarial 21/232`: the gradient of atan2(x, x) at x = −5e-324, 0 in torch and the closed form)
            | BinaryOp.Atan2 when obj.ReferenceEquals(a, b) -> two (fun () -> g * (a - a)) (zeroFor b)
            | BinaryOp.Atan2 ->
                // b/(a² + b²) and −a/(a² + b²), with a and b first divided by s = 2^⌊log2 max(|a|, |b|)⌋, exactly
                // (a power of two): ((b/s)/((a/s)² + (b/s)²))/s is the same number, but nothing squares a huge
                // operand, whose a² = ∞ made the second derivative ∞·0 = NaN where it is a number (`fuzz
                // adversarial 5/203`: atan2(1e160·x, b), whose tangent 2a·ȧ overflowed). s is held (no
                // derivative): the quotient does not depend on it. The division by s comes last: 1/((a/s)² + (b/s)²)
                // is between ½ and 1, where 1/(((a/s)² + (b/s)²)·s) overflowed for s below 2^-1024 and met the 0 of
                // the other operand as ∞·0 = NaN (`fuzz all adversarial 46/216`: at a = −5e-324, b = 0 the partial in
                // a is b/(a² + b²) = 0 and the one in b is −1/a, which overflows to +∞). Where max(|a|, |b|) is 0
                // or ∞ s is 1, as before: torch's derivative at the origin is 0 in both operands, not 0/0
                // (1/(a² + b²) is taken as 0 where a² + b² is 0), and at an infinite operand b/∞ = 0 and ∞/∞ =
                // NaN, as torch's.
                let scale = SharedTerm(fun () ->
                    let largest = Expr.stopGradient (Expr.maximum (Expr.abs a) (Expr.abs b))
                    let unscaled = Expr.eq largest (zero ()) + Expr.eq largest (Expr.scalar a.DType infinity)
                    let safe = Expr.where unscaled (Expr.scalar a.DType 1.0) largest
                    Expr.stopGradient (Expr.where unscaled (Expr.scalar a.DType 1.0)
                                           (Expr.pow (Expr.scalar a.DType 2.0) (Expr.floor (Expr.log safe * (1.0 / System.Math.Log 2.0))))))
                let aScaled = SharedTerm(fun () -> a / scale.Value)
                let bScaled = SharedTerm(fun () -> b / scale.Value)
                let radius2 = SharedTerm(fun () -> aScaled.Value * aScaled.Value + bScaled.Value * bScaled.Value)
                let inverse = SharedTerm(fun () -> Expr.where (Expr.eq radius2.Value (zero ())) (zero ()) (Expr.reciprocal radius2.Value))
                two (fun () -> g * bScaled.Value * inverse.Value / scale.Value) (fun () -> -(g * aScaled.Value) * inverse.Value / scale.Value)
            | BinaryOp.Less | BinaryOp.LessEqual | BinaryOp.Greater | BinaryOp.GreaterEqual
            | BinaryOp.Equal | BinaryOp.NotEqual -> two (zeroFor a) (zeroFor b)
            // a - trunc(a/b)·b with the quotient held: torch's fmod derivatives, trunc of the rounded a/b
            | BinaryOp.Fmod -> two (fun () -> g) (fun () -> -(g * Elementary.trunc (a / b)))
            // ∂P/∂x = x^(a−1)·e^−x/Γ(a) = −∂Q/∂x, as torch's exp((a − 1)·ln x − x − lgamma a), except at x = 0, where that
            // is (a − 1)·(−∞): NaN for a = 1, whose slope is e^−0 = 1. There it is x^(a−1)·e^−x/Γ(a) itself (1 at a = 1,
            // +∞ below, 0 above), over a copy of x that is 0 everywhere and carries x's derivative where x = 0; the
            // logarithm reads 1 there, so neither branch meets a 0·∞ the other would feed a derivative. In a, torch has
            // no derivative and raises; so does this rule, when a is on the path to a target.
            | BinaryOp.Gammainc | BinaryOp.Gammaincc ->
                let name = if op = BinaryOp.Gammainc then "Gammainc" else "Gammaincc"
                let slope () =
                    let atZero = Expr.eq b (zero ())
                    let zeroCopy = Expr.where atZero b (zero ())
                    let safe = Expr.where atZero (Expr.scalar b.DType 1.0) b
                    let logGamma = Expr.lgamma a
                    let there = Expr.pow zeroCopy (a - 1.0) * Expr.exp (-zeroCopy - logGamma)
                    let elsewhere = Expr.exp ((a - 1.0) * Expr.log safe - safe - logGamma)
                    Expr.where atZero there elsewhere
                two (fun () -> notDifferentiable name "a" a) (fun () -> if op = BinaryOp.Gammainc then g * slope () else -(g * slope ()))
            // ∂ζ(s, q)/∂q = −s·ζ(s + 1, q), torch's rule; in s torch has none and raises, and so does this rule
            | BinaryOp.Zeta -> two (fun () -> notDifferentiable "Zeta" "s" a) (fun () -> -(g * a) * Expr.zeta (a + 1.0) b)
        | Op.Where ->
            let mask = node.First
            [| pick 0 (zeroFor mask); pick 1 (fun () -> Expr.where mask g (zero ())); pick 2 (fun () -> Expr.where mask (zero ()) g) |]
        | Op.Reduce(op, axes, keepDims) ->
            let x = node.First
            let kept = Shape.reduced x.Dims axes true
            let gKept = if keepDims then g else Expr.reshape kept g
            let count =
                let mutable n = 1
                for a in axes do
                    n <- n * x.Dims.[a]
                n
            let cotangent =
                match op with
                | ReduceOp.Sum -> (fun () -> Expr.broadcastTo x.Dims gKept)
                // over no entries the value is 0/0 = NaN, but a function of no numbers has the zero map
                // as its derivative: g / 0 would turn the forward mode's empty sum into 0/0 as well
                | ReduceOp.Mean when count = 0 -> zeroFor x
                | ReduceOp.Mean -> (fun () -> Expr.broadcastTo x.Dims (gKept / float count))
                | ReduceOp.Max | ReduceOp.Min ->
                    (fun () ->
                        // As torch: g shared among the entries equal to the result, by a product with the
                        // 0/1 mask, so a NaN result (no entry equals it: 0 winners) gives NaN everywhere,
                        // and so does a NaN or infinite g.
                        let winners = Expr.eq x (Expr.reshape kept y)
                        let ties = Expr.sumAxes axes true winners
                        gKept / ties * winners)
                | ReduceOp.Prod ->
                    (fun () ->
                        // the reduced axes moved last and flattened into one
                        let others = [| 0 .. x.Rank - 1 |] |> Array.filter (fun a -> not (Array.contains a axes))
                        let order = Array.append others axes
                        let moved = Expr.permute order x
                        let flat = Expr.reshape (Array.append (others |> Array.map (fun a -> x.Dims.[a])) [| count |]) moved
                        let inverse = Array.zeroCreate order.Length
                        order |> Array.iteri (fun i a -> inverse.[a] <- i)
                        let others = Expr.permute inverse (Expr.reshape moved.Dims (productOfOthers flat))
                        // torch divides, y / x, when the tensor holds no exact 0 (so an infinite or NaN
                        // entry gets NaN), and takes the product of the others when it holds one. The
                        // quotient is fed 1s where a 0 exists, so it reaches no derivative there.
                        let anyZero = Expr.gt (Expr.sum (Expr.eq x (zero ()))) (zero ())
                        let fed = Expr.where anyZero (Expr.ones x.DType x.Dims) x
                        let quotient = Expr.prodAxes axes true fed / fed
                        gKept * Expr.where anyZero others quotient)
            one cotangent
        | Op.ArgMax _ -> one (zeroFor node.First)
        | Op.MatMul ->
            // Lift vectors to matrices, take the matrix rule (g bᵀ and aᵀ g), and drop the unit axes again.
            let a, b = node.First, node.Second
            let a2 = if a.Rank = 1 then Expr.reshape [| 1; a.Dims.[0] |] a else a
            let b2 = if b.Rank = 1 then Expr.reshape [| b.Dims.[0]; 1 |] b else b
            let g2 = SharedTerm(fun () -> Expr.reshape (Expr.matmul a2 b2).Dims g)
            two (fun () -> Expr.matmul g2.Value (Expr.transpose b2) |> Expr.sumTo a2.Dims |> Expr.reshape a.Dims)
              (fun () -> Expr.matmul (Expr.transpose a2) g2.Value |> Expr.sumTo b2.Dims |> Expr.reshape b.Dims)
        | Op.Permute permutation ->
            let inverse = Array.zeroCreate permutation.Length
            permutation |> Array.iteri (fun i p -> inverse.[p] <- i)
            one (fun () -> Expr.permute inverse g)
        | Op.Reshape _ -> one (fun () -> Expr.reshape node.First.Dims g)
        | Op.BroadcastTo _ -> one (fun () -> Expr.sumTo node.First.Dims g)
        | Op.Slice(starts, _, steps) -> one (fun () -> Expr.unslice starts steps node.First.Dims g)
        | Op.Pad(before, _) ->
            let x = node.First
            one (fun () -> Expr.slice before (Array.map2 (+) before x.Dims) (Array.create x.Rank 1) g)
        | Op.Concat axis ->
            let args = node.Inputs
            let offsets = args |> Array.scan (fun o (p: Expr) -> o + p.Dims.[axis]) 0
            args |> Array.mapi (fun i _ -> pick i (fun () -> Expr.sliceAxis axis offsets.[i] offsets.[i + 1] g))
        | Op.Flip axes -> one (fun () -> Expr.flip axes g)
        | Op.Gather axis ->
            let source, index = node.First, node.Second
            two (fun () -> Expr.scatterAdd axis index g source.Dims) (zeroFor index)
        | Op.ScatterAdd(axis, _) ->
            let index = node.First
            two (zeroFor index) (fun () -> Expr.gather axis index g)
        | Op.Cast _ -> one (fun () -> Expr.cast node.First.DType g)
        | Op.StopGradient -> one (zeroFor node.First)
        // The user's rule, applied to the node's current x: after a substitution the rebuilt node
        // carries the new x, so the rule is re-applied there. The forward graph gets no cotangent.
        | Op.Custom(id, _) -> two (fun () -> CustomRules.cotangent id node.First g) (zeroFor node.Second)
        // Linear algebra (Giles, "Collected matrix derivative results"; torch's forms where a
        // rule has a choice). Every rule is written with the primitives themselves, so it nests.
        | Op.Cholesky ->
            // A = L Lᵀ: Ā = L⁻ᵀ Φ L⁻¹, with Φ the symmetric matrix whose lower triangle is tril(Lᵀ L̄)
            // with a halved diagonal (only A's lower triangle is read; torch spreads it symmetrically).
            one (fun () ->
                let lt = Expr.transpose y
                let lower = Linalg.lowerTriangle 0 (Expr.matmul lt g)
                let phi = (lower + Expr.transpose (Linalg.lowerTriangle -1 lower)) * 0.5
                LinalgNodes.triangularSolve false false false y (LinalgNodes.triangularSolve true true false lt phi))
        | Op.TriangularSolve(upper, left, unitDiagonal) ->
            // X = T⁻¹ B: B̄ = T⁻ᵀ X̄ and T̄ = -B̄ Xᵀ (X = B T⁻¹: B̄ = X̄ T⁻ᵀ, T̄ = -Xᵀ B̄), kept to the
            // triangle the solve reads.
            let t = node.First
            let gb = SharedTerm(fun () -> LinalgNodes.triangularSolve (not upper) left unitDiagonal (Expr.transpose t) g)
            let read (m: Expr) =
                let k = if unitDiagonal then 1 else 0
                if upper then Linalg.upperTriangle k m else Linalg.lowerTriangle (-k) m
            two (fun () ->
                let product = if left then Expr.matmul gb.Value (Expr.transpose y) else Expr.matmul (Expr.transpose y) gb.Value
                read (-product))
              (fun () -> gb.Value)
        | Op.Solve ->
            // X = A⁻¹ B: B̄ = A⁻ᵀ X̄, Ā = -B̄ Xᵀ.
            let gb = SharedTerm(fun () -> LinalgNodes.solve (Expr.transpose node.First) g)
            two (fun () -> -(Expr.matmul gb.Value (Expr.transpose y))) (fun () -> gb.Value)
        | Op.SlogDet ->
            // d log|det A| = tr(A⁻¹ dA): Ā = ḡ A⁻ᵀ; the sign is piecewise constant.
            one (fun () ->
                let a = node.First
                let n = a.Dims.[a.Rank - 1]
                let gLogAbs = Expr.sliceAxis (g.Rank - 1) 1 2 g
                let inverseTransposed = LinalgNodes.solve (Expr.transpose a) (Expr.broadcastTo a.Dims (Linalg.identity a.DType n))
                Expr.reshape (Array.append gLogAbs.Dims [| 1 |]) gLogAbs * inverseTransposed)
        | Op.MatrixExp ->
            // The Fréchet derivative of exp at A applied to a direction E is the upper-right block of
            // exp([[A, E], [0, A]]); the adjoint of E ↦ L(A, E) is E ↦ L(Aᵀ, E), so Ā is that block of
            // exp([[Aᵀ, g], [0, Aᵀ]]). A matrix exponential again, so it differentiates to any order (each order
            // doubles the block). Linear in g, though not syntactically: forward mode substitutes a zero
            // cotangent into the transposed rule (Jvp.tangentOf), exact for a linear map.
            // The block's scaling and squaring runs for its largest entries, so a g far larger than A (a
            // cotangent of 1e160 on a matrix of norm 1) took many squarings and lost A's digits (a quarter of
            // the gradient): g enters divided by s = max(1, max|g| / max(1, max|A|)) per matrix, the block is
            // then as small as A makes it, and the result is multiplied back (it is linear in g). s is held: it
            // picks a scale, not a value, and is 1 at a zero cotangent.
            one (fun () ->
                let a = node.First
                let rank = a.Rank
                let n = a.Dims.[rank - 1]
                let matrixAxes = [| rank - 2; rank - 1 |]
                let largest (m: Expr) = Expr.maxAxes matrixAxes true (Expr.abs m)
                let one = Expr.scalar a.DType 1.0
                let s = Expr.stopGradient (Expr.maximum one (largest g / Expr.maximum one (largest a)))
                let transposed = Expr.transpose a
                let top = Expr.concat (rank - 1) [ transposed; g / s ]
                let bottom = Expr.concat (rank - 1) [ Expr.zerosLike transposed; transposed ]
                let block = LinalgNodes.matrixExp (Expr.concat (rank - 2) [ top; bottom ])
                s * Expr.sliceAxis (rank - 1) n (2 * n) (Expr.sliceAxis (rank - 2) 0 n block))
        | Op.Qr ->
            // A = Q R (reduced, m >= n): Ā = (Q̄ + Q copyltu(M)) R⁻ᵀ with M = R R̄ᵀ - Q̄ᵀ Q and
            // copyltu(M) the symmetric matrix with M's lower triangle.
            one (fun () ->
                let m = node.First.Dims.[node.First.Rank - 2]
                let axis = y.Rank - 2
                let rows = y.Dims.[axis]
                let q, r = Expr.sliceAxis axis 0 m y, Expr.sliceAxis axis m rows y
                let gq, gr = Expr.sliceAxis axis 0 m g, Expr.sliceAxis axis m rows g
                let mm = Expr.matmul r (Expr.transpose gr) - Expr.matmul (Expr.transpose gq) q
                let copied = Linalg.lowerTriangle 0 mm + Expr.transpose (Linalg.lowerTriangle -1 mm)
                LinalgNodes.triangularSolve false false false (Expr.transpose r) (gq + Expr.matmul q copied))
        | Op.Lu ->
            // A = P L U with P piecewise constant. With X = L⁻¹ dA' U⁻¹ for dA' = Pᵀ dA, dL = L tril₋₁(X) and
            // dU = triu(X) U, so ⟨L̄, dL⟩ + ⟨Ū, dU⟩ = ⟨M, X⟩ with M = tril₋₁(Lᵀ L̄) + triu(Ū Uᵀ), and
            // Ā = P L⁻ᵀ M U⁻ᵀ. L̄ and Ū are the packed cotangent's two triangles (L's unit diagonal is
            // constant); the pivots' row passes nothing. Both solves read their triangle of the packed
            // factors themselves, so the rule's own derivative is the triangular solve's.
            one (fun () ->
                let factors, pivots = Linalg.luSplit y
                let gFactors = Expr.sliceAxis (y.Rank - 2) 0 (y.Dims.[y.Rank - 1]) g
                let lower, upper = Linalg.luTriangles factors
                let m =
                    Linalg.lowerTriangle -1 (Expr.matmul (Expr.transpose lower) (Linalg.lowerTriangle -1 gFactors))
                    + Linalg.upperTriangle 0 (Expr.matmul (Linalg.upperTriangle 0 gFactors) (Expr.transpose upper))
                let transposed = Expr.transpose factors
                let left = LinalgNodes.triangularSolve true true true transposed m
                let both = LinalgNodes.triangularSolve false false false transposed left
                Expr.matmul (LinalgNodes.luPermutation "LuFactor" pivots) both)
        | Op.LuPermutation -> one (zeroFor node.First)
        | Op.Eigh ->
            // A = V diag(w) Vᵀ: Ā = V (diag(w̄) + skew(Vᵀ V̄) / E) Vᵀ with E_ij = w_j - w_i off the
            // diagonal, skew(K) = (K - Kᵀ)/2. A V̄ that is a symbolic zero (a function of the eigenvalues
            // alone) leaves out the quotient, as torch's rule for an undefined V̄, so the eigenvalues'
            // gradient is right at repeated eigenvalues. Any other V̄ is divided by E, and where two
            // eigenvalues coincide, where the eigenvectors' derivative does not exist, that is ±∞ or
            // NaN, as torch's; so are the eigenvalues' second derivatives there, which pass through it.
            // The mask is the diagonal, never a value, so the rule stays linear in g for transposition.
            one (fun () ->
                let axis = y.Rank - 2
                let n = y.Dims.[y.Rank - 1]
                let w, v = Expr.sliceAxis axis 0 1 y, Expr.sliceAxis axis 1 (n + 1) y
                let gw, gv = Expr.sliceAxis axis 0 1 g, Expr.sliceAxis axis 1 (n + 1) g
                let gwVector = Expr.reshape (Array.append gw.Dims.[.. gw.Rank - 3] [| n |]) gw
                let middle =
                    if Fold.isZero gv then Linalg.diagonalMatrix gwVector
                    else
                        let k = Expr.matmul (Expr.transpose v) gv
                        let skew = (k - Expr.transpose k) * 0.5
                        let diagonal = Linalg.identity g.DType n
                        let gaps = Expr.where diagonal (Expr.scalar g.DType 1.0) (w - Expr.transpose w)
                        Expr.where diagonal (zero ()) (skew / gaps) + Linalg.diagonalMatrix gwVector
                Expr.matmul v (Expr.matmul middle (Expr.transpose v)))
        | Op.Svd ->
            // A = U S Vᵀ (thin, k = min(m, n)): Ā = U (diag(S̄) + (skew(UᵀŪ) S + S skew(VᵀV̄)) / E) Vᵀ
            // + (I − UUᵀ) Ū S⁻¹ Vᵀ (m > k) + U S⁻¹ V̄ᵀ (I − VVᵀ) (n > k), with skew(K) = K − Kᵀ and
            // E_ij = s_j² − s_i² off the diagonal (the quotient's diagonal is 0). As for eigh, a symbolic
            // zero Ū or V̄ leaves its terms out, as torch's rule for an undefined one: a function of S
            // alone gets U diag(S̄) Vᵀ, right at repeated and zero singular values too. Any other Ū or V̄
            // is divided by E, ±∞ or NaN where two singular values coincide (where U and V have no
            // derivative), and by S in the rectangular terms, where a zero singular value does the same.
            one (fun () ->
                let a = node.First
                let m, n = a.Dims.[a.Rank - 2], a.Dims.[a.Rank - 1]
                let k = min m n
                let axis = y.Rank - 2
                let part (t: Expr) first last = Expr.sliceAxis axis first last t
                let u, s, v = part y 0 m, part y m (m + 1), part y (m + 1) (m + 1 + n)
                let gu, gs, gv = part g 0 m, part g m (m + 1), part g (m + 1) (m + 1 + n)
                let sColumn = Expr.transpose s
                let vt = Expr.transpose v
                let diagonal = Linalg.identity g.DType k
                let gaps = SharedTerm(fun () ->
                    let squares = s * s
                    Expr.where diagonal (Expr.scalar g.DType 1.0) (squares - Expr.transpose squares))
                let skewOf (basis: Expr) (cotangent: Expr) =
                    let product = Expr.matmul (Expr.transpose basis) cotangent
                    product - Expr.transpose product
                let rotations =
                    [ if not (Fold.isZero gu) then skewOf u gu * s
                      if not (Fold.isZero gv) then sColumn * skewOf v gv ]
                let middle =
                    [ if not (Fold.isZero gs) then Linalg.diagonalMatrix (Expr.reshape (Array.append gs.Dims.[.. gs.Rank - 3] [| k |]) gs)
                      if not rotations.IsEmpty then Expr.where diagonal (zero ()) (List.reduce (+) rotations / gaps.Value) ]
                let core =
                    if middle.IsEmpty then Expr.zeros g.DType (Array.append y.Dims.[.. y.Rank - 3] [| m; n |])
                    else Expr.matmul u (Expr.matmul (List.reduce (+) middle) vt)
                let left =
                    if m > k && not (Fold.isZero gu) then
                        let scaled = gu / s
                        core + Expr.matmul (scaled - Expr.matmul u (Expr.matmul (Expr.transpose u) scaled)) vt
                    else core
                if n > k && not (Fold.isZero gv) then
                    let scaled = Expr.transpose (gv / s)
                    left + Expr.matmul u (scaled - Expr.matmul (Expr.matmul scaled v) vt)
                else left)
        | Op.Polygamma n -> one (fun () -> g * Expr.polygamma (n + 1) node.First)
        | Op.ArgSort _ -> one (zeroFor node.First)
        // unfold and fold are linear and each other's adjoint
        | Op.Unfold(kernel, stride, padding, dilation) ->
            let x = node.First
            one (fun () -> Expr.fold [| x.Dims.[2]; x.Dims.[3] |] kernel stride padding dilation g)
        | Op.Fold(_, kernel, stride, padding, dilation) -> one (fun () -> Expr.unfold kernel stride padding dilation g)
        // A reverse Scan over the body's VJP after a forward Scan that saves what it needs; built
        // in Transforms/Scan.fs (it needs the reverse walk itself) and reached through the body.
        | Op.Scan(body, length, reverse, remat) ->
            let wantedInputs = Array.init node.ArgCount wanted
            (ScanNode.bodyOf body).Derive(node, length, reverse, remat, g, wantedInputs)
            |> List.mapi (fun j cotangent -> if wantedInputs.[j] then cotangent () else Unchecked.defaultof<Expr>)
            |> Array.ofList
        // Softmax and log-softmax, torch's fused rules, written with the node's own output so they
        // nest. Each is one difference between an entry's cotangent and its run's total, so what
        // cancels cancels in one subtraction. Built from exp, divisions and sums instead, the terms
        // cancelled only after products that had already rounded away a small part: second
        // derivatives were 1e-6 off in relative terms where torch's were right (fuzz 3/934, a
        // softmax of large logits; fuzz 3/1171, a saturated log-softmax).
        | Op.Softmax axis -> one (fun () -> Expr.softmaxBackward axis g y)
        | Op.LogSoftmax axis -> one (fun () -> Expr.logSoftmaxBackward axis g y)
        // Softmax's pullback h = p·(c − Σ c·p) of a cotangent c at softmax's output p, torch's double
        // backward: c's cotangent is the same pullback of g (the map is symmetric), and p's is
        // g·(c − Σ c·p) − c·Σ g·p, one DiagonalMinusRankOne node in g. So g has two readers, and
        // forward mode, which transposes this rule, gets h's tangent as two terms, each formed
        // whole: softmaxBackward(ċ, p) and ṗ·(c − Σ c·p) − p·Σ c·ṗ, whose large parts cancel inside
        // the second. Written from products and sums, h's tangent summed ċ·p + c·ṗ in one reduction,
        // where c·ṗ (1e17 beside logits of slope 1e8) absorbed ċ·p (about 1) before the large terms
        // cancelled; with the three terms of p's cotangent as separate nodes, the walk that
        // transposes them added the small term to one large one before the other arrived. Either way
        // Hessians through softmax by forward over reverse came out a quarter short
        // (`fuzz fresh adversarial 45/125`, attention over a query of −1e30).
        | Op.SoftmaxBackward axis ->
            let c, p = node.First, node.Second
            two (fun () -> Expr.softmaxBackward axis g p)
                (fun () -> Expr.diagonalMinusRankOne axis g p (c - Expr.sumAxes [| axis |] true (c * p)) c)
        // Log-softmax's pullback h = c − p·Σ c of a cotangent c at log-softmax's output y, p = exp y,
        // torch's double backward: c's cotangent is the transposed map g − Σ g·p, one DiagonalMinusRankOne
        // node, and y's is −g·p·Σ c. Forward mode, which transposes this rule, then gets h's tangent as
        // two terms, each formed whole: ċ − p·Σ ċ (one node, where ċ's large parts cancel) and −ṗ·Σ c.
        // Written as c − exp y · Σ c, the tangent of the product, ṗ·Σ c + p·Σ ċ, was summed before it was
        // subtracted from ċ, so a term ṗ·Σ c of order 1 beside a ċ of 1e17 along p (weights whose tangent
        // is the same along the axis) was rounded away, and the Hessian entry it makes came out 0.
        | Op.LogSoftmaxBackward axis ->
            let c, p = node.First, Expr.exp node.Second
            let ones = Expr.onesLike p
            two (fun () -> Expr.diagonalMinusRankOne axis g p ones ones)
                (fun () -> -(g * p) * Expr.sumAxes [| axis |] true c)
        // h = w·a − v·Σ a·p: a's cotangent is the transposed map, the same op with p and v swapped
        // (so transposing it again is one node too); the others are products with sums.
        | Op.DiagonalMinusRankOne axis ->
            let a, p, w, v = node.Arg 0, node.Arg 1, node.Arg 2, node.Arg 3
            let total (x: Expr) = Expr.sumAxes [| axis |] true x
            [| pick 0 (fun () -> Expr.diagonalMinusRankOne axis g v w p); pick 1 (fun () -> -(a * total (g * v)))
               pick 2 (fun () -> g * a); pick 3 (fun () -> -(g * total (a * p))) |]
        // Each output is a sum of the entries up to it, so each entry's cotangent is the sum of the
        // cotangents from it on: the running sum the other way.
        | Op.CumSum(axis, reverse) -> one (fun () -> Expr.cumsumAlong axis (not reverse) g)
