/// Products over disjoint atoms (the chain rule's products) are deferred: the caps decide from their
/// outlines, and the terms are formed only when asked for. The expected terms are the pairs of the
/// factors' monomials, written out here; the byte bounds are the sizes of the terms an eager product
/// would have formed.
module FunctionalDiff.Core.Tests.PolynomialDeferredTests

open System
open Expecto
open FunctionalDiff.Core

let private f64 = DType.Float64

let private atoms (n: int) = Array.init n (fun i -> Expr.variable (sprintf "d%d" i) [||] f64)

/// c_1 a_1 + ... + c_n a_n, plus a constant term c_0 when it is nonzero.
let private linear (constant: float) (terms: (float * Expr) list) =
    terms
    |> List.map (fun (c, a) -> Polynomial.scale c (Polynomial.atom a))
    |> List.fold Polynomial.add (Polynomial.constant constant)

/// 1 - t²: a tanh rule's factor.
let private oneMinusSquare (t: Expr) =
    Polynomial.add (Polynomial.constant 1.0) (Polynomial.scale -1.0 (Polynomial.multiply (Polynomial.atom t) (Polynomial.atom t)))

/// The coefficient of the monomial with exactly these atoms (power 1 each), 0 when absent.
let private coefficientOf (p: Poly) (monomial: Expr list) =
    let ids = monomial |> List.map (fun a -> a.Id) |> List.sort
    (Polynomial.expand p).Terms
    |> Array.tryFind (fun t -> t.Factors |> Array.forall (fun f -> f.Power = 1) && (t.Factors |> Array.map (fun f -> f.Atom.Id) |> List.ofArray) = ids)
    |> Option.map (fun t -> t.Coefficient)
    |> Option.defaultValue 0.0

[<Tests>]
let tests =
    testList "Rewrite" [
        testList "Deferred products" [
            test "(3 + 2a + b)(c - 5d) has the six products of its monomials as terms" {
                let x = atoms 4
                let a, b, c, d = x.[0], x.[1], x.[2], x.[3]
                let p = linear 3.0 [ 2.0, a; 1.0, b ]
                let q = linear 0.0 [ 1.0, c; -5.0, d ]
                let product = Polynomial.multiply p q
                Expect.isFalse (Polynomial.isRefused product) "formed"
                Expect.equal (Polynomial.termCount product) 6 "terms before expanding"
                Expect.equal (Polynomial.expand product).Terms.Length 6 "terms after expanding"
                Expect.equal (Polynomial.expand product).Ghost.Length 0 "nothing cancels"
                for (cp, mp) in [ 3.0, []; 2.0, [ a ]; 1.0, [ b ] ] do
                    for (cq, mq) in [ 1.0, c; -5.0, d ] do
                        Expect.equal (coefficientOf product (mq :: mp)) (cp * cq) (sprintf "%g·%A times %g·%O" cp mp cq mq)
                // the bound the rewrite uses to keep a node is no more than the exact lower cost
                Expect.isLessThanOrEqual (Polynomial.lowerCost product) (Polynomial.lowerCost (Polynomial.expand product)) "lower cost"
            }
            test "a chain of tanh factors g·(1-t1²)…(1-t5²) is refused at 32 terms without forming the 16" {
                let g = Expr.variable "g" [||] f64
                let t = atoms 5
                let factors = t |> Array.map oneMinusSquare
                let mutable product = Polynomial.atom g
                for k in 0 .. 3 do
                    product <- Polynomial.multiply product factors.[k]
                Expect.equal (Polynomial.termCount product) 16 "2^4 terms"
                Expect.isTrue (Polynomial.isRefused (Polynomial.multiply product factors.[4])) "2^5 terms pass the cap"
                // Again, counted: 16 terms are a Term array of 16 x 16 bytes and 16 monomials of 5 or
                // more factors; the deferred product and the refusal build neither.
                let mutable again = Polynomial.atom g
                for k in 0 .. 2 do
                    again <- Polynomial.multiply again factors.[k]
                let before = GC.GetAllocatedBytesForCurrentThread()
                let sixteen = Polynomial.multiply again factors.[3]
                let refusedProduct = Polynomial.multiply sixteen factors.[4]
                let allocated = GC.GetAllocatedBytesForCurrentThread() - before
                Expect.isTrue (Polynomial.isRefused refusedProduct) "refused"
                Expect.isLessThan allocated 256L (sprintf "bytes allocated: %d" allocated)
                // and expanded on demand, its terms are the products of one monomial of each factor:
                // g·Π(1 or -t_k²), the sign (-1)^(number of squares)
                let terms = (Polynomial.expand sixteen).Terms
                Expect.equal terms.Length 16 "terms"
                for term in terms do
                    let squares = term.Factors |> Array.filter (fun f -> f.Power = 2) |> Array.length
                    Expect.equal term.Coefficient (if squares % 2 = 0 then 1.0 else -1.0) "sign"
                    Expect.equal term.Factors.Length (1 + squares) "g and the squares"
            }
            test "a product of factors sharing an atom is formed at once: (a + b)(a - b) = a² - b²" {
                let x = atoms 2
                let product = Polynomial.multiply (linear 0.0 [ 1.0, x.[0]; 1.0, x.[1] ]) (linear 0.0 [ 1.0, x.[0]; -1.0, x.[1] ])
                Expect.isNull (box product.Later) "formed"
                Expect.equal product.Terms.Length 2 "a² and b²"
            }
        ]
    ]
