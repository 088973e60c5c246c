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
[<Struct; NoComparison; NoEquality>]
type internal Poly = { Terms: Term[]; Ghost: Expr[] }

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
    let isRefused (p: Poly) = isNull p.Terms

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
    let constant (c: float) : Poly = { Terms = (if c = 0.0 then [||] else [| { Coefficient = c; Factors = [||] } |]); Ghost = noAtoms }

    /// The polynomial 1·atom.
    let atom (e: Expr) : Poly = { Terms = [| { Coefficient = 1.0; Factors = [| { Atom = e; Power = 1 } |] } |]; Ghost = noAtoms }

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

    /// c·p (c finite and nonzero; the ghost is unchanged).
    let scale (c: float) (p: Poly) : Poly =
        { p with Terms = p.Terms |> Array.map (fun t -> { t with Coefficient = c * t.Coefficient }) }

    let private boundedKinds = [| UnaryOp.Tanh; UnaryOp.Sigmoid; UnaryOp.Sin; UnaryOp.Cos; UnaryOp.Erf |]

    /// Atoms that are never infinite: outputs of bounded functions (NaN only from NaN). The
    /// wildcard only says "not an elementwise function of one argument".
    let private isBounded (e: Expr) =
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
        if count > maxTerms then refused
        else
            let terms = if count = result.Length then result else Array.sub result 0 count
            let ghost = if isNull cancelled then ghost else unionGhost ghost (atomsOf (cancelled.ToArray()))
            if isNull ghost then refused else { Terms = terms; Ghost = ghost }

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

    /// p + q, or null past a cap.
    let add (p: Poly) (q: Poly) : Poly =
        if surelyPastCapInSum p.Terms q.Terms then refused
        else
        let ghost = unionGhost p.Ghost q.Ghost
        if isNull ghost then refused
        else
        let p, q = p.Terms, q.Terms
        if p.Length = 0 then { Terms = q; Ghost = ghost }
        elif q.Length = 0 then { Terms = p; Ghost = ghost }
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

    /// p · q, expanded; null when the expansion would exceed a cap. A ghost times the other factor
    /// is a ghost of both: 0 · q is NaN where an atom of q is not finite.
    let multiply (pp: Poly) (qq: Poly) : Poly =
        let ghost =
            if pp.Ghost.Length = 0 && qq.Ghost.Length = 0 then noAtoms
            else
                let g = unionGhost pp.Ghost qq.Ghost
                let g = if isNull g || pp.Ghost.Length = 0 then g else unionGhost g (atomsOf qq.Terms)
                if isNull g || qq.Ghost.Length = 0 then g else unionGhost g (atomsOf pp.Terms)
        if isNull ghost then refused
        else
        let p, q = pp.Terms, qq.Terms
        let inline plain (terms: Term[]) = { Terms = terms; Ghost = ghost }
        if p.Length = 0 || q.Length = 0 then plain [||]
        // The common cases first: a coefficient times a polynomial, and a monomial times a monomial.
        elif isConstant p then plain (scale p.[0].Coefficient { Terms = q; Ghost = noAtoms }).Terms
        elif isConstant q then plain (scale q.[0].Coefficient { Terms = p; Ghost = noAtoms }).Terms
        elif p.Length = 1 && q.Length = 1 then
            let c = p.[0].Coefficient * q.[0].Coefficient
            let factors = multiplyMonomials p.[0].Factors q.[0].Factors
            if isNull factors then refused
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
                        if isNull factors then ok <- false
                        else
                            products.[k] <- { Coefficient = a.Coefficient * b.Coefficient; Factors = factors }
                            k <- k + 1
            if not ok then refused
            else
                Array.Sort(products, termOrder)
                collect products ghost

    /// buildCost without the powers: a lower bound on it that needs no scan of the atoms.
    let lowerCost (poly: Poly) : int =
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
