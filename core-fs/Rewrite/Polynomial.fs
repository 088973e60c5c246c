/// Bounded polynomials over atoms: the algebra the Rewrite pass uses to collect like terms, fold
/// coefficients and cancel. An atom is any Expr the algebra does not look inside (tanh x, a Var, a
/// matmul, a quotient, ...). Every polynomial is kept small by caps; an operation whose result would
/// exceed one gives None, and the caller then treats that node as an atom itself, so no expansion
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

/// A per-thread buffer for buildCost's scan of a polynomial's atoms: a fresh array per call was a
/// quarter of what Rewrite allocates. Cleared after each use so it keeps no node alive.
type internal PolynomialScratch private () =
    [<ThreadStatic; DefaultValue>]
    static val mutable private atoms: Factor[]

    /// A buffer of at least `length` factors (contents unspecified).
    static member Atoms(length: int) =
        if isNull PolynomialScratch.atoms || PolynomialScratch.atoms.Length < length then
            PolynomialScratch.atoms <- Array.zeroCreate (max length 128)
        PolynomialScratch.atoms

/// Polynomials as arrays of terms in canonical order (see compareMonomials), like terms combined
/// and zero terms dropped: the empty array is the zero polynomial.
module internal Polynomial =

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

    /// The constant polynomial c.
    let constant (c: float) : Term[] = if c = 0.0 then [||] else [| { Coefficient = c; Factors = [||] } |]

    /// The polynomial 1·atom.
    let atom (e: Expr) : Term[] = [| { Coefficient = 1.0; Factors = [| { Atom = e; Power = 1 } |] } |]

    /// c·p.
    let scale (c: float) (p: Term[]) : Term[] =
        if c = 0.0 then [||]
        else p |> Array.map (fun t -> { t with Coefficient = c * t.Coefficient })

    let private compareTerms (x: Term) (y: Term) = compareMonomials x.Factors y.Factors

    /// Combines adjacent like terms of a sorted array and drops zero coefficients; None when more
    /// than maxTerms remain.
    let private collect (sorted: Term[]) : Term[] option =
        // In place: `sorted` is always a fresh array of the caller's, and the write position never
        // passes the read position.
        let result = sorted
        let mutable count = 0
        let mutable i = 0
        while i < sorted.Length do
            let mutable c = sorted.[i].Coefficient
            let mutable j = i + 1
            while j < sorted.Length && compareMonomials sorted.[i].Factors sorted.[j].Factors = 0 do
                c <- c + sorted.[j].Coefficient
                j <- j + 1
            if c <> 0.0 then
                result.[count] <- { Coefficient = c; Factors = sorted.[i].Factors }
                count <- count + 1
            i <- j
        if count > maxTerms then None
        elif count = result.Length then Some result
        else Some(Array.sub result 0 count)

    /// p + q.
    let add (p: Term[]) (q: Term[]) : Term[] option =
        if p.Length = 0 then Some q
        elif q.Length = 0 then Some p
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
            collect merged

    /// The product of two monomials, None when it would exceed maxAtoms or maxDegree.
    let private multiplyMonomials (a: Factor[]) (b: Factor[]) : Factor[] option =
        if degree a + degree b > maxDegree then None
        else
            // The distinct atoms are counted first, so the product is allocated once at its size.
            let mutable i, j, distinct = 0, 0, 0
            while i < a.Length || j < b.Length do
                if j >= b.Length || (i < a.Length && a.[i].Atom.Id < b.[j].Atom.Id) then i <- i + 1
                elif i >= a.Length || b.[j].Atom.Id < a.[i].Atom.Id then j <- j + 1
                else
                    i <- i + 1
                    j <- j + 1
                distinct <- distinct + 1
            if distinct > maxAtoms then None
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
                Some merged

    let private isConstant (p: Term[]) = p.Length = 1 && p.[0].Factors.Length = 0

    /// p · q, expanded; None when the expansion would exceed a cap.
    let multiply (p: Term[]) (q: Term[]) : Term[] option =
        if p.Length = 0 || q.Length = 0 then Some [||]
        // The common cases first: a coefficient times a polynomial, and a monomial times a monomial.
        elif isConstant p then Some(scale p.[0].Coefficient q)
        elif isConstant q then Some(scale q.[0].Coefficient p)
        elif p.Length = 1 && q.Length = 1 then
            let c = p.[0].Coefficient * q.[0].Coefficient
            match multiplyMonomials p.[0].Factors q.[0].Factors with
            | Some factors -> Some(if c = 0.0 then [||] else [| { Coefficient = c; Factors = factors } |])
            | None -> None
        // A product with more raw terms than this cannot collect down under maxTerms in practice;
        // refusing early keeps the work per node bounded.
        elif p.Length * q.Length > maxTerms * maxTerms then None
        else
            let products = Array.zeroCreate (p.Length * q.Length)
            let mutable ok = true
            let mutable k = 0
            for a in p do
                for b in q do
                    if ok then
                        match multiplyMonomials a.Factors b.Factors with
                        | Some factors ->
                            products.[k] <- { Coefficient = a.Coefficient * b.Coefficient; Factors = factors }
                            k <- k + 1
                        | None -> ok <- false
            if not ok then None
            else
                Array.sortInPlaceWith compareTerms products
                collect products

    /// The number of nodes a rebuild of p makes, counting each power a², a³, ... once per atom,
    /// one product per extra factor, one coefficient product, one sum per extra term, and a
    /// negation when the leading coefficient is -1. Leaves (scalars) are not counted: the
    /// constructors share them.
    let buildCost (p: Term[]) : int =
        if p.Length = 0 then 0
        else
            let mutable cost = p.Length - 1
            // The highest power of each atom, by a scan: a polynomial has at most maxTerms *
            // maxAtoms factors, and a dictionary per call costs more than the scan.
            let mutable factors = 0
            for t in p do
                factors <- factors + t.Factors.Length
            let atoms = PolynomialScratch.Atoms factors
            let mutable distinct = 0
            for t in p do
                if t.Factors.Length > 0 then
                    cost <- cost + t.Factors.Length - 1
                    if abs t.Coefficient <> 1.0 then cost <- cost + 1
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
            if p.[0].Coefficient = -1.0 && p.[0].Factors.Length > 0 then cost <- cost + 1
            cost
