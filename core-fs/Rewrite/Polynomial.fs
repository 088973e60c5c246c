/// Bounded polynomials over atoms: the algebra the Rewrite pass uses to collect like terms, fold
/// coefficients and cancel. An atom is any Expr the algebra does not look inside (tanh x, a Var, a
/// matmul, a quotient, ...). Every polynomial is kept small by caps; an operation whose result would
/// exceed one gives null, and the caller then treats that node as an atom itself, so no expansion
/// can explode and the cost per node stays bounded. This module builds no nodes.
namespace FunctionalDiff.Core

open System

/// An atom raised to a positive integer power.
[<Struct; NoComparison; NoEquality>]
type internal Factor = { Atom: Expr; Power: int }

/// A coefficient times a monomial; the monomial's factors are sorted by atom id, each atom once.
/// An empty monomial is the constant term.
[<Struct; NoComparison; NoEquality>]
type internal Term = { Coefficient: float; Factors: Factor[] }

/// A polynomial: terms in canonical order (see compareMonomials), like terms combined and zero
/// terms dropped, plus the ghost of what cancelled. Atoms stand for IEEE numbers, not reals:
/// `x - x` is 0 only where x is finite, NaN where it is infinite or NaN, and so is `0 · x` in a
/// product with a cancelled factor. So a cancellation does not forget its monomial's atoms: they
/// join Ghost (sorted by id, each once), and the polynomial's value is its terms plus `s - s`,
/// s the sum of the ghost atoms: +0 where they are all finite, NaN where one is not, as the
/// unsimplified graph. (Only overflow inside a cancelled monomial, such as x·x - x·x at 1e200,
/// is lost.) No ghost: the plain polynomial; no terms and no ghost: the zero polynomial.
/// A struct: the Rewrite pass forms one per node, and as an object it was a fifth of what
/// simplifying a long chain allocated. Its default value (null terms) is the refused polynomial
/// (see Polynomial.isRefused).
/// A product or scaling whose terms are not formed yet has null Terms and a Deferred (Later) in
/// place of a ghost (see Deferred): Polynomial.expand forms them. One field holds either, so that
/// the struct stays two references (the rewrite keeps one per node of the graph).
[<Struct; NoComparison; NoEquality>]
type internal Poly =
    { Terms: Term[]
      /// null, a GhostAtoms or a Deferred.
      Rest: PolyRest }
    /// The ghost's atoms, sorted by id (empty without a ghost).
    member p.Ghost = match p.Rest with :? GhostAtoms as g -> g.Atoms | _ -> Array.Empty<Expr>()
    /// The deferred operation, null for formed terms (and for the refused polynomial).
    member p.Later = match p.Rest with :? Deferred as d -> d | _ -> null
    /// Formed terms with their ghost.
    static member Formed(terms: Term[], ghost: Expr[]) : Poly =
        { Terms = terms; Rest = (if ghost.Length = 0 then null else GhostAtoms ghost) }

/// What a polynomial has besides its formed terms: a ghost or a deferred operation.
and [<AbstractClass; AllowNullLiteral>] internal PolyRest() = class end

/// A nonempty ghost (see Poly).
and [<Sealed>] internal GhostAtoms(atoms: Expr[]) =
    inherit PolyRest()
    member _.Atoms = atoms

/// What the caps and the cost bounds need to know of a polynomial, known without its terms: a
/// product of polynomials over disjoint atoms has every pair of their monomials as a term, so these
/// follow from the factors' outlines alone.
and [<Struct; NoComparison; NoEquality>] internal Outline =
    { /// Terms.
      Count: int
      /// Factors, over all terms.
      Factors: int
      /// Terms without factors (0 or 1).
      Constants: int
      /// Terms with factors and a coefficient other than ±1, at least (a lower bound).
      Scaled: int
      /// True when every coefficient is ±1.
      Unit: bool
      /// The largest total degree of a monomial.
      MaxDegree: int
      /// The most factors in one monomial.
      MaxAtoms: int
      /// The smallest and largest atom id (MaxValue and MinValue without atoms).
      Low: int64
      High: int64
      /// The smallest absolute value of a coefficient, NaN ignored (+inf without terms).
      Smallest: float
      /// The largest absolute value of a coefficient (0 without terms): a product or scaling whose
      /// coefficients would overflow is refused before it is deferred (see Polynomial.overflows).
      Largest: float
      /// Deferred operations below, this one included (0 for formed terms).
      Depth: int }

/// A product of two polynomials over disjoint atoms, or a scaling (Second refused), whose terms are
/// formed only when something needs them. A chain rule's product grows a term for every pair of
/// its factors' terms until the term cap refuses it, and most of those polynomials were formed
/// only to be multiplied again and refused: the caps decide from the outlines, so a refusal needs
/// no terms, and a normal form that is surely larger than the node needs none either. Expanding
/// gives the very terms the eager operation gives.
and [<Sealed; AllowNullLiteral>] internal Deferred(coefficient: float, first: Poly, second: Poly, outline: Outline) =
    inherit PolyRest()
    member _.Coefficient = coefficient
    /// The operands, dropped once expanded (so expanded chains keep no operands alive).
    member val First = first with get, set
    member val Second = second with get, set
    member _.Outline = outline
    /// The formed terms, null Terms until expanded.
    member val Expanded: Poly = Unchecked.defaultof<Poly> with get, set

/// A per-thread buffer for buildCost's scan of a polynomial's atoms: a fresh array per call was a
/// quarter of what Rewrite allocated. Cleared after each use so it keeps no node alive.
type internal PolynomialScratch private () =
    [<ThreadStatic; DefaultValue>]
    static val mutable private atoms: Factor[]

    [<ThreadStatic; DefaultValue>]
    static val mutable private codes: int64[]

    /// A buffer of at least `length` factors (contents unspecified).
    static member Atoms(length: int) =
        if isNull PolynomialScratch.atoms || PolynomialScratch.atoms.Length < length then
            PolynomialScratch.atoms <- Array.zeroCreate (max length 128)
        PolynomialScratch.atoms

    /// A buffer of at least `length` 64-bit codes (contents unspecified), for multiply's checks.
    static member Codes(length: int) =
        if isNull PolynomialScratch.codes || PolynomialScratch.codes.Length < length then
            PolynomialScratch.codes <- Array.zeroCreate (max length 128)
        PolynomialScratch.codes

/// Operations on polynomials; those that could grow past a cap return the refused polynomial (null
/// terms). (Not an option: an option per result was a tenth of what simplifying a long chain
/// allocated.)
module internal Polynomial =

    /// The result of an operation past a cap, or of a node that is an atom after all.
    let refused : Poly = Unchecked.defaultof<Poly>

    /// True for the refused polynomial.
    let isRefused (p: Poly) = isNull p.Terms && isNull p.Rest

    /// At most this many terms, else the node is an atom.
    let maxTerms = 16
    /// At most this many distinct atoms in one monomial.
    let maxAtoms = 8
    /// At most this total degree in one monomial.
    let maxDegree = 16

    /// The total degree of a monomial.
    let degree (factors: Factor[]) =
        let mutable d = 0
        for f in factors do
            d <- d + f.Power
        d

    /// The canonical order of monomials: by degree (so constants come first and `1 - t²` reads
    /// as written), then lexicographically by (atom id, power). Atom ids are stable across passes,
    /// which makes a rebuilt polynomial the same graph every time.
    let compareMonomials (a: Factor[]) (b: Factor[]) =
        let c = compare (degree a) (degree b)
        if c <> 0 then c
        else
            let mutable result = 0
            let mutable i = 0
            while result = 0 && i < a.Length && i < b.Length do
                result <- compare a.[i].Atom.Id b.[i].Atom.Id
                if result = 0 then result <- compare b.[i].Power a.[i].Power
                i <- i + 1
            if result <> 0 then result else compare a.Length b.Length

    /// At most this many ghost atoms, else the node is an atom.
    let maxGhost = 16

    let private noAtoms : Expr[] = [||]

    /// The constant polynomial c (c finite and nonzero: zero and non-finite constants are atoms).
    let constant (c: float) : Poly = { Terms = (if c = 0.0 then [||] else [| { Coefficient = c; Factors = [||] } |]); Rest = null }

    /// The polynomial 1·atom.
    let atom (e: Expr) : Poly = { Terms = [| { Coefficient = 1.0; Factors = [| { Atom = e; Power = 1 } |] } |]; Rest = null }

    /// The union of two sorted ghosts; null past maxGhost.
    let private unionGhost (a: Expr[]) (b: Expr[]) : Expr[] =
        if b.Length = 0 then a
        elif a.Length = 0 then b
        else
            // counted first, so the union is allocated once at its size (or not at all past the cap)
            let mutable i, j, count = 0, 0, 0
            while i < a.Length || j < b.Length do
                if j >= b.Length || (i < a.Length && a.[i].Id < b.[j].Id) then i <- i + 1
                elif i >= a.Length || b.[j].Id < a.[i].Id then j <- j + 1
                else
                    i <- i + 1
                    j <- j + 1
                count <- count + 1
            if count > maxGhost then null
            elif count = a.Length then a
            elif count = b.Length then b
            else
                let merged = Array.zeroCreate count
                let mutable i, j, k = 0, 0, 0
                while i < a.Length || j < b.Length do
                    if j >= b.Length || (i < a.Length && a.[i].Id < b.[j].Id) then
                        merged.[k] <- a.[i]
                        i <- i + 1
                    elif i >= a.Length || b.[j].Id < a.[i].Id then
                        merged.[k] <- b.[j]
                        j <- j + 1
                    else
                        merged.[k] <- a.[i]
                        i <- i + 1
                        j <- j + 1
                    k <- k + 1
                merged

    /// The atoms of some terms, sorted by id, each once.
    let private byId = Comparison<Expr>(fun a b -> compare a.Id b.Id)

    let private atomsOf (terms: Term[]) : Expr[] =
        let mutable count = 0
        for t in terms do
            count <- count + t.Factors.Length
        if count = 0 then noAtoms
        else
            let atoms = Array.zeroCreate count
            let mutable k = 0
            for t in terms do
                for f in t.Factors do
                    atoms.[k] <- f.Atom
                    k <- k + 1
            Array.Sort(atoms, byId)
            // each atom once: equal ids are neighbours now
            let mutable distinct = 1
            for i in 1 .. count - 1 do
                if atoms.[i].Id <> atoms.[distinct - 1].Id then
                    atoms.[distinct] <- atoms.[i]
                    distinct <- distinct + 1
            if distinct = count then atoms else Array.sub atoms 0 distinct

    /// True when a coefficient formed from finite ones is not finite. A coefficient is a product
    /// or sum of the graph's constants that the unsimplified chain never forms: the chain
    /// (g·b)·(b − 1) of pow's second derivative at b = −1e160 multiplies g by each constant in turn,
    /// and where g is 0 the result is 0, while the collected coefficient b(b − 1) = 1e320 overflows
    /// and 0·∞ = NaN (`fuzz adversarial 34/264`: the Hessian of (x₁·x₀)^(−1e160) at x₁ = [0, 1e-10],
    /// NaN where the closed form b(b − 1)·v^(b−2)·x₁ᵢ·x₁ⱼ is 0). Such an operation is refused, so its
    /// node stays an atom and keeps the chain's order.
    let private overflows (c: float) = Double.IsInfinity c

    /// c·p of formed terms (c finite and nonzero; the ghost is unchanged); refused when a
    /// coefficient overflows.
    let private scaleFormed (c: float) (p: Poly) : Poly =
        let terms = p.Terms |> Array.map (fun t -> { t with Coefficient = c * t.Coefficient })
        if terms |> Array.exists (fun t -> overflows t.Coefficient) then refused
        else { p with Terms = terms }

    let private boundedKinds = [| UnaryOp.Tanh; UnaryOp.Sigmoid; UnaryOp.Sin; UnaryOp.Cos; UnaryOp.Erf; UnaryOp.TanhSlope |]

    /// Atoms that are never infinite: outputs of bounded functions (NaN only from NaN). The
    /// wildcard only says "not an elementwise function of one argument".
    let isBounded (e: Expr) =
        match e.Op with
        | Op.Unary u -> Array.contains u boundedKinds
        | _ -> false

    let private compareTerms (x: Term) (y: Term) = compareMonomials x.Factors y.Factors

    // made once, and a Comparison rather than an IComparer: sorting with an IComparer wraps its
    // Compare in a fresh delegate on every call (same sort, same order)
    let private termOrder = Comparison<Term>(fun x y -> compareTerms x y)

    /// Combines adjacent like terms of a sorted array and drops zero coefficients; the atoms of
    /// terms that cancelled or combined with opposite signs join the ghost; null when more than maxTerms remain or the ghost grows past its cap.
    let private collect (sorted: Term[]) (ghost: Expr[]) : Poly =
        // In place: `sorted` is always a fresh array of the caller's, and the write position never
        // passes the read position (a term written at i keeps the factors read from there).
        let result = sorted
        let mutable cancelled = null
        let mutable overflowed = false
        let mutable count = 0
        let mutable i = 0
        while i < sorted.Length do
            let mutable c = sorted.[i].Coefficient
            let mutable mixed = false
            let mutable j = i + 1
            while j < sorted.Length && compareMonomials sorted.[i].Factors sorted.[j].Factors = 0 do
                if (sorted.[j].Coefficient > 0.0) <> (sorted.[i].Coefficient > 0.0) then mixed <- true
                c <- c + sorted.[j].Coefficient
                j <- j + 1
            if overflows c then overflowed <- true
            if c <> 0.0 then
                result.[count] <- { Coefficient = c; Factors = sorted.[i].Factors }
                count <- count + 1
            // Like terms of opposite signs are ∞ - ∞ = NaN where the monomial is infinite, whatever
            // their sum: their atoms that can be infinite join the ghost, as all atoms of terms that
            // cancel (a NaN atom needs no ghost in a term that stays: the term is NaN).
            if c = 0.0 then
                if isNull cancelled then cancelled <- ResizeArray<Term>()
                cancelled.Add sorted.[i]
            elif mixed then
                let unbounded = sorted.[i].Factors |> Array.filter (fun f -> not (isBounded f.Atom))
                if unbounded.Length > 0 then
                    if isNull cancelled then cancelled <- ResizeArray<Term>()
                    cancelled.Add { sorted.[i] with Factors = unbounded }
            i <- j
        // like terms whose sum overflows: refused as an overflowed product is (see overflows)
        if count > maxTerms || overflowed then refused
        else
            let terms = if count = result.Length then result else Array.sub result 0 count
            let ghost = if isNull cancelled then ghost else unionGhost ghost (atomsOf (cancelled.ToArray()))
            if isNull ghost then refused else Poly.Formed(terms, ghost)

    /// True when the sum of two collected polynomials' terms has more than maxTerms terms, counted
    /// before anything is allocated: a monomial in one of them only stays, and so does one in both
    /// with coefficients of one sign (their sum is not zero). A long chain of sums reaches the cap
    /// at every step past it, and merging the terms first was most of what it allocated.
    let private surelyPastCapInSum (p: Term[]) (q: Term[]) =
        p.Length + q.Length > maxTerms
        && (let mutable i, j, staying = 0, 0, 0
            while i < p.Length || j < q.Length do
                let c = if j >= q.Length then -1 elif i >= p.Length then 1 else compareMonomials p.[i].Factors q.[j].Factors
                if c < 0 then i <- i + 1
                elif c > 0 then j <- j + 1
                else
                    if (p.[i].Coefficient > 0.0) <> (q.[j].Coefficient > 0.0) then staying <- staying - 1
                    i <- i + 1
                    j <- j + 1
                staying <- staying + 1
            staying > maxTerms)

    /// p + q of formed terms, or refused past a cap.
    let private addFormed (p: Poly) (q: Poly) : Poly =
        if surelyPastCapInSum p.Terms q.Terms then refused
        else
        let ghost = unionGhost p.Ghost q.Ghost
        if isNull ghost then refused
        else
        let p, q = p.Terms, q.Terms
        if p.Length = 0 then Poly.Formed(q, ghost)
        elif q.Length = 0 then Poly.Formed(p, ghost)
        else
            // Both are sorted: merge them, then collect the like terms that became neighbours.
            let merged = Array.zeroCreate (p.Length + q.Length)
            let mutable i, j, k = 0, 0, 0
            while i < p.Length || j < q.Length do
                if j >= q.Length || (i < p.Length && compareMonomials p.[i].Factors q.[j].Factors <= 0) then
                    merged.[k] <- p.[i]
                    i <- i + 1
                else
                    merged.[k] <- q.[j]
                    j <- j + 1
                k <- k + 1
            collect merged ghost

    /// The number of distinct atoms in the product of two monomials.
    let private distinctAtoms (a: Factor[]) (b: Factor[]) =
        let mutable i, j, distinct = 0, 0, 0
        while i < a.Length || j < b.Length do
            if j >= b.Length || (i < a.Length && a.[i].Atom.Id < b.[j].Atom.Id) then i <- i + 1
            elif i >= a.Length || b.[j].Atom.Id < a.[i].Atom.Id then j <- j + 1
            else
                i <- i + 1
                j <- j + 1
            distinct <- distinct + 1
        distinct

    /// The product of two monomials, null when it would exceed maxAtoms or maxDegree.
    let private multiplyMonomials (a: Factor[]) (b: Factor[]) : Factor[] =
        if degree a + degree b > maxDegree then null
        // Monomials are never written after they are made, so a product with the constant
        // monomial shares the other one (each term of p · (1 - y²) would otherwise copy p's).
        elif a.Length = 0 then (if b.Length > maxAtoms then null else b)
        elif b.Length = 0 then (if a.Length > maxAtoms then null else a)
        else
            // The distinct atoms are counted first, so the product is allocated once at its size.
            let distinct = distinctAtoms a b
            if distinct > maxAtoms then null
            else
                let merged = Array.zeroCreate distinct
                let mutable i, j, k = 0, 0, 0
                while i < a.Length || j < b.Length do
                    if j >= b.Length || (i < a.Length && a.[i].Atom.Id < b.[j].Atom.Id) then
                        merged.[k] <- a.[i]
                        i <- i + 1
                    elif i >= a.Length || b.[j].Atom.Id < a.[i].Atom.Id then
                        merged.[k] <- b.[j]
                        j <- j + 1
                    else
                        merged.[k] <- { Atom = a.[i].Atom; Power = a.[i].Power + b.[j].Power }
                        i <- i + 1
                        j <- j + 1
                    k <- k + 1
                merged

    let private isConstant (p: Term[]) = p.Length = 1 && p.[0].Factors.Length = 0

    /// The smallest and largest atom id in some terms.
    let private atomRange (terms: Term[]) =
        let mutable low, high = Int64.MaxValue, Int64.MinValue
        for t in terms do
            let f = t.Factors
            if f.Length > 0 then
                low <- min low f.[0].Atom.Id
                high <- max high f.[f.Length - 1].Atom.Id
        struct (low, high)

    /// True when p · q has more than maxTerms terms for certain: when no atom is in both, the
    /// products of their monomials are all different monomials, so none combine. Checked by the
    /// atoms' id ranges (monomials keep their factors sorted by id), which a chain rule product
    /// satisfies: each factor it multiplies in is over atoms older or newer than all the others.
    let private surelyPastCap (p: Term[]) (q: Term[]) =
        p.Length * q.Length > maxTerms
        && (let struct (pLow, pHigh) = atomRange p
            let struct (qLow, qHigh) = atomRange q
            pHigh < qLow || qHigh < pLow)

    /// True when the product of some monomial of p and some monomial of q exceeds maxDegree or
    /// maxAtoms, which makes p · q null: found before any product is allocated (the expansion
    /// stopped at that pair only after allocating the products before it, most of what
    /// simplifying a long product chain allocated).
    let private somePairPastCap (p: Term[]) (q: Term[]) =
        let mutable past = false
        let mutable i = 0
        while not past && i < p.Length do
            let a = p.[i].Factors
            let degreeA = degree a
            let mutable j = 0
            while not past && j < q.Length do
                let b = q.[j].Factors
                past <- degreeA + degree b > maxDegree || distinctAtoms a b > maxAtoms
                j <- j + 1
            i <- i + 1
        past

    /// A 64-bit code of an atom for monomialCode: the atom's id, mixed (splitmix64's finaliser) so
    /// that sums of codes of different monomials collide only by chance.
    let private atomCode (atom: Expr) =
        let mutable z = uint64 atom.Id + 0x9E3779B97F4A7C15UL
        z <- (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
        z <- (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
        int64 (z ^^^ (z >>> 31))

    /// The sum of power · atomCode over a monomial's factors. It is additive, so the code of the
    /// product of two monomials is the sum of their codes, found without building the product;
    /// equal monomials have equal codes (unequal ones almost never do).
    let private monomialCode (factors: Factor[]) =
        let mutable code = 0L
        for f in factors do
            code <- code + int64 f.Power * atomCode f.Atom
        code

    /// True when p · q has more than maxTerms terms for certain, found from the monomials' codes
    /// before any product is built: the products fall into classes of equal monomials, and a class
    /// whose coefficients all have one sign cannot cancel (a sum of nonzero numbers of one sign is
    /// not zero), so it stays a term. More such classes than maxTerms make p · q null. Codes that
    /// collide by chance only merge classes, which undercounts, so the answer is never wrong; a
    /// product of coefficients that underflows to zero is excluded up front. This is what refuses
    /// the square of a long sum (16 terms give 136 distinct monomials) without sorting its 256
    /// products, which was most of what simplifying a nested derivative's outer level cost.
    let private surelyPastCapByCodes (p: Term[]) (q: Term[]) =
        p.Length * q.Length > maxTerms
        && (let smallest (terms: Term[]) =
                let mutable m = Double.PositiveInfinity
                for t in terms do
                    m <- min m (abs t.Coefficient)
                m
            smallest p * smallest q <> 0.0)
        && (let count = p.Length * q.Length
            let codes = PolynomialScratch.Codes(count + p.Length + q.Length)
            // p's codes and q's codes after the products' slots
            for i in 0 .. p.Length - 1 do
                codes.[count + i] <- monomialCode p.[i].Factors
            for j in 0 .. q.Length - 1 do
                codes.[count + p.Length + j] <- monomialCode q.[j].Factors
            // each product's code with its coefficient's sign in the lowest bit (a code's own lowest
            // bit is dropped, which can only merge classes)
            let mutable k = 0
            for i in 0 .. p.Length - 1 do
                for j in 0 .. q.Length - 1 do
                    let negative = (p.[i].Coefficient < 0.0) <> (q.[j].Coefficient < 0.0)
                    codes.[k] <- ((codes.[count + i] + codes.[count + p.Length + j]) &&& ~~~1L) ||| (if negative then 1L else 0L)
                    k <- k + 1
            Array.Sort(codes, 0, count)
            let mutable staying = 0
            let mutable start = 0
            while start < count do
                let monomial = codes.[start] &&& ~~~1L
                let mutable finish = start + 1
                while finish < count && (codes.[finish] &&& ~~~1L) = monomial do
                    finish <- finish + 1
                // sorted, so one sign throughout when the first and last agree
                if codes.[start] = codes.[finish - 1] then staying <- staying + 1
                start <- finish
            staying > maxTerms)

    /// p · q of formed terms, expanded; refused when the expansion would exceed a cap. A ghost
    /// times the other factor is a ghost of both: 0 · q is NaN where an atom of q is not finite.
    /// So is an exact zero (no terms and no ghost: constants that cancelled, `1 - 1`): its
    /// product with q keeps q's atoms as a ghost, as IEEE's 0 · NaN does.
    let private multiplyFormed (pp: Poly) (qq: Poly) : Poly =
        let zeroLike (r: Poly) = r.Ghost.Length > 0 || r.Terms.Length = 0
        let ghost =
            if not (zeroLike pp) && not (zeroLike qq) then noAtoms
            else
                let g = unionGhost pp.Ghost qq.Ghost
                let g = if isNull g || not (zeroLike pp) then g else unionGhost g (atomsOf qq.Terms)
                if isNull g || not (zeroLike qq) then g else unionGhost g (atomsOf pp.Terms)
        if isNull ghost then refused
        else
        let p, q = pp.Terms, qq.Terms
        let inline plain (terms: Term[]) = Poly.Formed(terms, ghost)
        if p.Length = 0 || q.Length = 0 then plain [||]
        // The common cases first: a coefficient times a polynomial, and a monomial times a monomial.
        elif isConstant p || isConstant q then
            let c, other = if isConstant p then p.[0].Coefficient, q else q.[0].Coefficient, p
            let scaled = scaleFormed c { Terms = other; Rest = null }
            if isRefused scaled then refused else plain scaled.Terms
        elif p.Length = 1 && q.Length = 1 then
            let c = p.[0].Coefficient * q.[0].Coefficient
            let factors = multiplyMonomials p.[0].Factors q.[0].Factors
            if isNull factors || overflows c then refused
            elif c <> 0.0 then plain [| { Coefficient = c; Factors = factors } |]
            else collect [| { Coefficient = c; Factors = factors } |] ghost
        // A product with more raw terms than this cannot collect down under maxTerms in practice;
        // refusing early keeps the work per node bounded.
        elif p.Length * q.Length > maxTerms * maxTerms || surelyPastCap p q then refused
        elif somePairPastCap p q || surelyPastCapByCodes p q then refused
        else
            let products = Array.zeroCreate (p.Length * q.Length)
            let mutable ok = true
            let mutable k = 0
            for a in p do
                for b in q do
                    if ok then
                        let factors = multiplyMonomials a.Factors b.Factors
                        let c = a.Coefficient * b.Coefficient
                        if isNull factors || overflows c then ok <- false
                        else
                            products.[k] <- { Coefficient = c; Factors = factors }
                            k <- k + 1
            if not ok then refused
            else
                Array.Sort(products, termOrder)
                collect products ghost

    // ---- deferred products: the caps decided from outlines, the terms formed on demand ----

    /// Products whose result has fewer terms than this are formed at once: their terms cost about
    /// what a Deferred costs, and the rewrite expands most small ones to weigh their normal form.
    let private deferFrom = 4

    /// At most this many deferred operations in a row: an operand that deep is expanded before
    /// another is deferred over it, so expanding never recurses deeper than this (a chain of
    /// scalings `x·0.9·0.9·…` would otherwise defer without end).
    let private maxDepth = 16

    /// The outline of formed terms, by one scan.
    let private outlineOfTerms (terms: Term[]) : Outline =
        let mutable factors, constants, scaled, maxDegree, maxAtoms = 0, 0, 0, 0, 0
        let mutable unit = true
        let mutable low, high = Int64.MaxValue, Int64.MinValue
        let mutable smallest = Double.PositiveInfinity
        let mutable largest = 0.0
        for t in terms do
            let f = t.Factors
            let magnitude = abs t.Coefficient
            if magnitude <> 1.0 then unit <- false
            if magnitude < smallest then smallest <- magnitude
            if magnitude > largest then largest <- magnitude
            if f.Length = 0 then constants <- constants + 1
            else
                factors <- factors + f.Length
                if magnitude <> 1.0 then scaled <- scaled + 1
                maxAtoms <- max maxAtoms f.Length
                maxDegree <- max maxDegree (degree f)
                low <- min low f.[0].Atom.Id
                high <- max high f.[f.Length - 1].Atom.Id
        { Count = terms.Length; Factors = factors; Constants = constants; Scaled = scaled; Unit = unit
          MaxDegree = maxDegree; MaxAtoms = maxAtoms; Low = low; High = high; Smallest = smallest; Largest = largest; Depth = 0 }

    /// A polynomial's outline (a polynomial that is not refused).
    let private outlineOf (p: Poly) = if isNull p.Later then outlineOfTerms p.Terms else p.Later.Outline

    /// The largest absolute value of a coefficient, formed or not (a polynomial that is not refused).
    let largestCoefficient (p: Poly) = (outlineOf p).Largest

    /// The number of terms, formed or not (a polynomial that is not refused).
    let termCount (p: Poly) = if isNull p.Later then p.Terms.Length else p.Later.Outline.Count

    /// The polynomial with its terms formed: the terms the eager operations give.
    let rec expand (p: Poly) : Poly =
        let d = p.Later
        if isNull d then p
        else
            if isNull d.Expanded.Terms then
                let formed =
                    if isRefused d.Second then scaleFormed d.Coefficient (expand d.First)
                    else multiplyFormed (expand d.First) (expand d.Second)
                // multiply defers only products that its eager form would form (see deferredProduct)
                if isRefused formed then invalidOp "Polynomial: a deferred product was refused when expanded"
                d.Expanded <- formed
                d.First <- refused
                d.Second <- refused
            d.Expanded

    /// An operand a deferred operation may take: formed first when it is maxDepth deep already.
    let private settled (p: Poly) =
        if not (isNull p.Later) && p.Later.Outline.Depth >= maxDepth then expand p else p

    /// c·p (c finite and nonzero; the ghost is unchanged). A deferred p stays deferred; refused
    /// when a coefficient would overflow (see overflows).
    let scale (c: float) (p: Poly) : Poly =
        let p = settled p
        if isNull p.Later then scaleFormed c p
        elif overflows (abs c * p.Later.Outline.Largest) then refused
        else
            let o = p.Later.Outline
            let magnitude = abs c
            let outline =
                { o with
                    // |c·t| = |t| when |c| = 1; when every |t| is 1, every term with factors has |c|
                    Scaled = (if magnitude = 1.0 then o.Scaled elif o.Unit then o.Count - o.Constants else 0)
                    Unit = o.Unit && magnitude = 1.0
                    Smallest = magnitude * o.Smallest
                    Largest = magnitude * o.Largest
                    Depth = o.Depth + 1 }
            { Terms = null; Rest = Deferred(c, p, refused, outline) }

    /// p · q deferred, for operands over disjoint atoms (by id range) whose eager product is
    /// formed, with every pair of monomials a term: no pair passes maxDegree or maxAtoms, and no
    /// coefficient product underflows to zero (rounding is monotonic, so the smallest product is
    /// the product of the smallest). Distinct monomials over disjoint atoms multiply to distinct
    /// monomials, so nothing combines, cancels or leaves a ghost: the outline is exact but for
    /// Scaled, a lower bound.
    let private deferredProduct (p: Poly) (q: Poly) (a: Outline) (b: Outline) : Poly =
        let m, n = a.Count, b.Count
        let outline =
            { Count = m * n
              Factors = n * a.Factors + m * b.Factors
              Constants = a.Constants * b.Constants
              Scaled = (if b.Unit then n * a.Scaled elif a.Unit then m * b.Scaled else 0)
              Unit = a.Unit && b.Unit
              MaxDegree = a.MaxDegree + b.MaxDegree
              MaxAtoms = a.MaxAtoms + b.MaxAtoms
              Low = min a.Low b.Low
              High = max a.High b.High
              Smallest = a.Smallest * b.Smallest
              Largest = a.Largest * b.Largest
              Depth = 1 + max a.Depth b.Depth }
        { Terms = null; Rest = Deferred(1.0, p, q, outline) }

    let private disjoint (a: Outline) (b: Outline) = a.High < b.Low || b.High < a.Low

    /// p · q, expanded or deferred; refused when the expansion would exceed a cap. The decisions
    /// are multiplyFormed's, in its order, taken on the outlines where they suffice.
    let multiply (pp: Poly) (qq: Poly) : Poly =
        let pp, qq = settled pp, settled qq
        let m, n = termCount pp, termCount qq
        if isNull pp.Later && isNull qq.Later && m * n < deferFrom then multiplyFormed pp qq
        // a ghost comes only with formed terms (deferred polynomials have none)
        elif (isNull pp.Later && pp.Ghost.Length > 0) || (isNull qq.Later && qq.Ghost.Length > 0)
             || m = 0 || n = 0 || (m = 1 && n = 1) then multiplyFormed (expand pp) (expand qq)
        else
            let a, b = outlineOf pp, outlineOf qq
            // a constant is formed (a deferred polynomial has several terms)
            if a.Count = 1 && a.Constants = 1 then scale pp.Terms.[0].Coefficient qq
            elif b.Count = 1 && b.Constants = 1 then scale qq.Terms.[0].Coefficient pp
            elif m * n > maxTerms * maxTerms then refused
            elif not (disjoint a b) then multiplyFormed (expand pp) (expand qq)
            // surelyPastCap
            elif m * n > maxTerms then refused
            // somePairPastCap: over disjoint atoms, a question of the largest monomials
            elif a.MaxDegree + b.MaxDegree > maxDegree || a.MaxAtoms + b.MaxAtoms > maxAtoms then refused
            // an overflowing coefficient product is refused by the eager form (see overflows)
            elif m * n < deferFrom || a.Smallest * b.Smallest = 0.0 || overflows (a.Largest * b.Largest) then
                multiplyFormed (expand pp) (expand qq)
            else deferredProduct pp qq a b

    /// p + q, or refused past a cap. A sum over disjoint atoms shares at most the constant monomial,
    /// so its count of staying terms (see surelyPastCapInSum) is known without the terms.
    let add (p: Poly) (q: Poly) : Poly =
        if isNull p.Later && isNull q.Later then addFormed p q
        else
            let a, b = outlineOf p, outlineOf q
            if disjoint a b && a.Count + b.Count - 2 * a.Constants * b.Constants > maxTerms then refused
            else addFormed (expand p) (expand q)

    /// buildCost without the powers: a lower bound on it that needs no scan of the atoms. For a
    /// deferred polynomial, a lower bound from its outline (without the leading term's negation
    /// and with Scaled's bound), so that a normal form surely larger than its node is never formed.
    let lowerCost (poly: Poly) : int =
        if not (isNull poly.Later) then
            let o = poly.Later.Outline
            // (n - 1) sums, plus (f - 1) products in each term with f factors, plus the coefficients
            o.Factors + o.Constants - 1 + o.Scaled
        else
        let p = poly.Terms
        // the ghost: a sum of its atoms, minus itself, added to the terms
        let ghostCost = if poly.Ghost.Length = 0 then 0 else poly.Ghost.Length + (if p.Length = 0 then 0 else 1)
        ghostCost +
        if p.Length = 0 then 0
        else
            let mutable cost = p.Length - 1
            for t in p do
                if t.Factors.Length > 0 then
                    cost <- cost + t.Factors.Length - 1
                    if abs t.Coefficient <> 1.0 then cost <- cost + 1
            if p.[0].Coefficient = -1.0 && p.[0].Factors.Length > 0 then cost <- cost + 1
            cost

    /// The number of nodes a rebuild of p makes, counting each power a², a³, ... once per atom,
    /// one product per extra factor, one coefficient product, one sum per extra term, and a
    /// negation when the leading coefficient is -1. Leaves (scalars) are not counted: the
    /// constructors share them.
    let buildCost (poly: Poly) : int =
        let poly = expand poly
        let p = poly.Terms
        lowerCost poly +
        if p.Length = 0 then 0
        else
            let mutable cost = 0
            // The highest power of each atom, by a scan: a polynomial has at most maxTerms *
            // maxAtoms factors, and a dictionary per call costs more than the scan.
            let mutable factors = 0
            for t in p do
                factors <- factors + t.Factors.Length
            let atoms = PolynomialScratch.Atoms factors
            let mutable distinct = 0
            for t in p do
                for f in t.Factors do
                    let mutable k = 0
                    while k < distinct && not (obj.ReferenceEquals(atoms.[k].Atom, f.Atom)) do
                        k <- k + 1
                    if k = distinct then
                        atoms.[k] <- f
                        distinct <- distinct + 1
                    elif atoms.[k].Power < f.Power then atoms.[k] <- f
            for k in 0 .. distinct - 1 do
                cost <- cost + atoms.[k].Power - 1
            Array.Clear(atoms, 0, distinct)
            cost
