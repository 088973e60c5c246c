/// Substitution of scalar constants (a derivative taken at a number): every elementwise node above
/// the constants folds, and only the constants something needs are built. Specified against the
/// constructors themselves (building f at the constant directly folds as it goes) and against a
/// plain float64 loop; the work is counted in nodes made on this thread, never timed.
module FunctionalDiff.Core.Tests.SymbolicFoldTests

open System
open Expecto
open FunctionalDiff.Core

let private f64 = DType.Float64
let private f32 = DType.Float32

/// Issue 12's chain, x ← sin(tanh(0.9·x + 0.1)): four ops a step.
let private chain (steps: int) (x: Expr) =
    let mutable e = x
    for _ in 1 .. steps do
        e <- sin (tanh (e * 0.9 + 0.1))
    e

/// Elementwise functions whose value at a scalar constant folds completely, and some that stop
/// folding part way (erf has no scalar fold; a vector constant makes a non-scalar node).
let private cases : (string * (Expr -> Expr)) list =
    let vector = Expr.constant (Tensor.ofArray64 [| 3 |] [| 0.5; -1.5; 2.0 |])
    [ "chain", chain 20
      "polynomial", fun x -> x * x * 3.0 - x / (1.0 + x * x) + x ** 3.0
      "transcendental", fun x -> exp (-x) * log (2.0 + x) + tanh x * sin (x * x) - cos x
      "comparisons and where", fun x -> Expr.where (Expr.gt x (Expr.scalar x.DType 0.1)) (x * 2.0) (-x)
      "a float64 constant meets the argument", fun x -> x * Expr.scalar f64 0.7 + sin x
      "erf stops the fold", fun x -> Expr.erf (x * 0.5) + x * 2.0
      "a vector constant stops the fold", fun x -> Expr.sum (tanh (vector * x)) + x ]

/// f at the constant `c`, by substituting c for a Var in f's graph.
let private substituted (f: Expr -> Expr) (c: Expr) =
    let var = Expr.variable "x" c.Dims c.DType
    let graph = f var
    (Substitute.apply [ var, c ] [| graph |]).[0]

[<Tests>]
let tests =
    testList "Graph" [
        testList "ScalarFold" [
            testList "substituting a scalar gives the node the constructors give at it" [
                for name, f in cases do
                    for dtype in [ f64; f32 ] do
                        test (sprintf "%s, %O" name dtype) {
                            let c = Expr.scalar dtype 0.3
                            // Built at the constant directly, every constructor folds its scalar
                            // operands as it goes: the same node, not just the same value.
                            let direct = f c
                            let viaSubstitution = substituted f c
                            Expect.isTrue (obj.ReferenceEquals(direct, viaSubstitution))
                                (sprintf "substitution gave %O, the constructors %O" viaSubstitution direct)
                        }
            ]
            test "a gradient at a number folds to one constant without a node per folded op" {
                // The trace makes 4 nodes a step and the reverse walk 6 (see SymbolicCostTests);
                // substituting the number then folds all of them on floats and builds only the
                // result. Before, it built and interned a constant for each of the 10 per step.
                let steps = 2_000
                let x = Expr.scalar f64 0.3
                let before = Made.Count
                let gradient = Diff.grad (chain steps) x
                let made = Made.Count - before
                Expect.isLessThanOrEqual made (int64 (10 * steps + 8)) "nodes made by the gradient"
                match gradient with
                | Fold.ScalarConst _ -> ()
                | _ -> failtestf "expected a scalar constant, got %O" gradient
                // The value: the chain rule's product in a plain float64 loop, on a short chain whose
                // derivative is far from underflow.
                let short = 50
                let mutable v, d = 0.3, 1.0
                for _ in 1 .. short do
                    let t = Math.Tanh(0.9 * v + 0.1)
                    d <- d * Math.Cos t * (1.0 - t * t) * 0.9
                    v <- Math.Sin t
                let value =
                    match Diff.grad (chain short) x with
                    | Fold.ScalarConst value -> value
                    | other -> failtestf "expected a scalar constant, got %O" other
                Expect.isLessThan (abs (value / d - 1.0)) 1e-12 (sprintf "gradient %g, reference %g" value d)
            }
            test "substituting a number into a chain allocates nothing per folded node" {
                // The folds are on floats, in pooled tables; what remains per call is a few closures
                // and the result. 40,000 nodes at the 16 bytes of an input array each would be 640 KB.
                // The least of three calls: a full collection elsewhere may trim the pooled tables
                // between two of them.
                let steps = 10_000
                let var = Expr.variable "x" [||] f64
                let graph = chain steps var
                let c = Expr.scalar f64 0.3
                Substitute.apply [ var, c ] [| graph |] |> ignore // warm-up: JIT and pooled pages
                let mutable least = Int64.MaxValue
                for _ in 1 .. 3 do
                    let before = GC.GetAllocatedBytesForCurrentThread()
                    let result = Substitute.apply [ var, c ] [| graph |]
                    least <- min least (GC.GetAllocatedBytesForCurrentThread() - before)
                    Expect.isTrue (match result.[0] with Fold.ScalarConst _ -> true | _ -> false) "the chain folds to a constant"
                Expect.isLessThan least (64L <<< 10) (sprintf "%d bytes allocated for %d nodes" least (4 * steps))
            }
        ]
    ]
