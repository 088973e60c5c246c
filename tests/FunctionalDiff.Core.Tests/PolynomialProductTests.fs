/// Products and sums of polynomials at the term cap: one that surely has more than maxTerms terms
/// is refused before any of its terms is built, and one that collects down to the cap (like terms
/// combining, or opposite terms cancelling) is still formed. The expected terms are
/// counted here by hand from the algebra, never read from our own output.
module FunctionalDiff.Core.Tests.PolynomialProductTests

open System
open Expecto
open FunctionalDiff.Core

let private f64 = DType.Float64

/// a_1 + ... + a_n over fresh scalar Vars, with the signs given (true: minus).
let private sumOf (atoms: Expr[]) (minus: int -> bool) =
    atoms
    |> Array.mapi (fun i a -> if minus i then Polynomial.scale -1.0 (Polynomial.atom a) else Polynomial.atom a)
    |> Array.reduce Polynomial.add

let private atoms (n: int) = Array.init n (fun i -> Expr.variable (sprintf "a%d" i) [||] f64)

/// The coefficient of the monomial with exactly these atoms and powers, or 0 when absent.
let private coefficientOf (p: Poly) (factors: (Expr * int) list) =
    let sorted = factors |> List.sortBy (fun (a, _) -> a.Id) |> Array.ofList
    p.Terms
    |> Array.tryFind (fun t ->
        t.Factors.Length = sorted.Length
        && Array.forall2 (fun (f: Factor) (a: Expr, k) -> obj.ReferenceEquals(f.Atom, a) && f.Power = k) t.Factors sorted)
    |> Option.map (fun t -> t.Coefficient)
    |> Option.defaultValue 0.0

[<Tests>]
let tests =
    testList "Rewrite" [
        testList "Products and sums at the cap" [
            test "a sum of 10 atoms and 10 others is refused without merging their terms" {
                let p = sumOf (atoms 10) (fun _ -> false)
                let q = sumOf (atoms 10) (fun _ -> false)
                Expect.isTrue (Polynomial.isRefused (Polynomial.add p q)) "refused (warm-up)"
                let before = GC.GetAllocatedBytesForCurrentThread()
                let sum = Polynomial.add p q
                let allocated = GC.GetAllocatedBytesForCurrentThread() - before
                Expect.isTrue (Polynomial.isRefused sum) "20 terms are past the cap"
                // the merged terms alone would be 20 Terms of 16 bytes
                Expect.isLessThan allocated 128L (sprintf "bytes allocated to refuse: %d" allocated)
            }
            test "a sum whose opposite terms cancel under the cap is formed: (a0..a9) - (a0..a4) + (b0..b9)" {
                let a, b = atoms 10, atoms 10
                let p = sumOf a (fun _ -> false)
                let q = Polynomial.add (sumOf (Array.sub a 0 5) (fun _ -> true)) (sumOf b (fun _ -> false))
                let sum = Polynomial.add p q
                Expect.isFalse (Polynomial.isRefused sum) "formed"
                // a5..a9 and b0..b9 stay; a0..a4 cancel and become the ghost
                Expect.equal sum.Terms.Length 15 "terms"
                for i in 0 .. 9 do
                    Expect.equal (coefficientOf sum [ a.[i], 1 ]) (if i < 5 then 0.0 else 1.0) (sprintf "a%d" i)
                    Expect.equal (coefficientOf sum [ b.[i], 1 ]) 1.0 (sprintf "b%d" i)
                Expect.equal sum.Ghost.Length 5 "the cancelled atoms are the ghost"
            }
            test "the square of a 16-term sum is refused without building its 256 products" {
                // (a_1 + ... + a_16)² has 16 squares and 120 cross terms 2 a_i a_j: 136 > 16.
                let p = sumOf (atoms Polynomial.maxTerms) (fun _ -> false)
                Expect.isTrue (Polynomial.isRefused (Polynomial.multiply p p)) "refused (warm-up)"
                let before = GC.GetAllocatedBytesForCurrentThread()
                let product = Polynomial.multiply p p
                let allocated = GC.GetAllocatedBytesForCurrentThread() - before
                Expect.isTrue (Polynomial.isRefused product) "the product is past the cap"
                // One Term is 16 bytes: the 256 products alone would be 4 KB, their monomials more.
                Expect.isLessThan allocated 256L (sprintf "bytes allocated to refuse: %d" allocated)
            }
            test "a product whose like terms combine under the cap is expanded: (a+b+c+d+e)² has 15 terms" {
                let a = atoms 5
                let p = sumOf a (fun _ -> false)
                let product = Polynomial.multiply p p
                Expect.isFalse (Polynomial.isRefused product) "expanded"
                // 5 squares and C(5,2) = 10 cross terms
                Expect.equal product.Terms.Length 15 "terms"
                for i in 0 .. 4 do
                    Expect.equal (coefficientOf product [ a.[i], 2 ]) 1.0 (sprintf "a%d²" i)
                    for j in i + 1 .. 4 do
                        Expect.equal (coefficientOf product [ a.[i], 1; a.[j], 1 ]) 2.0 (sprintf "a%d a%d" i j)
            }
            test "a product whose opposite terms cancel under the cap is expanded: (A + B)(A - B) = A² - B²" {
                // A = a0 + a2 + a4, B = a1 + a3 + a5: 36 products, 21 distinct monomials, of which the
                // 9 mixed ones a_even·a_odd cancel, leaving 6 + 6 = 12 terms (and a ghost).
                let a = atoms 6
                let p = sumOf a (fun _ -> false)
                let q = sumOf a (fun i -> i % 2 = 1)
                let product = Polynomial.multiply p q
                Expect.isFalse (Polynomial.isRefused product) "expanded"
                Expect.equal product.Terms.Length 12 "terms"
                for i in 0 .. 5 do
                    let sign = if i % 2 = 0 then 1.0 else -1.0
                    Expect.equal (coefficientOf product [ a.[i], 2 ]) sign (sprintf "a%d²" i)
                    for j in i + 1 .. 5 do
                        let expected = if i % 2 <> j % 2 then 0.0 else 2.0 * sign
                        Expect.equal (coefficientOf product [ a.[i], 1; a.[j], 1 ]) expected (sprintf "a%d a%d" i j)
                Expect.equal product.Ghost.Length 6 "the cancelled monomials' atoms are the ghost"
            }
        ]
    ]
