/// jvp for every primitive and composite (the graph helper's table in VjpRuleTests), in both
/// dtypes: against the VJP through the dot-product identity <u, J t> = <Jᵀ u, t>, against float64
/// finite differences, and with the transposition's cotangent variable gone from the result.
module FunctionalDiff.Core.Tests.ForwardPrimitiveTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport
open FunctionalDiff.Core.Tests.ForwardSupport
open FunctionalDiff.Core.Tests.VjpRuleTests

/// A case's point, tangents and output cotangent, drawn from a seeded generator.
let private draw (index: int) (c: Case) =
    let random = Random(5000 + index)
    let points = c.Shapes |> List.map (sample random c.Domain)
    let tangents = c.Shapes |> List.map (sample random Normal)
    let outputShape = (c.F (c.Shapes |> List.map (fun s -> Expr.variable "probe" s DType.Float64))).Shape
    let u = sample random Normal outputShape
    points, tangents, u

// Tolerances, as |actual - expected| <= tol * (1 + |expected|):
// float64 against differences: the difference error is ~1e-9 (see ForwardSupport); 1e-6 leaves
// room for values ~100 without hiding a wrong tangent.
let private differenceTolerance64 = 1e-6
// float32 against float64 differences: float32 keeps ~7 digits; a case chains a few ops and sums
// up to ~20 terms, each losing a few ulps (6e-8), so 1e-4 is generous yet far below any mistake.
let private differenceTolerance32 = 1e-4
// The dot-product identity compares two of our own float64 graphs: only rounding separates them.
let private identityTolerance64 = 1e-10
let private identityTolerance32 = 1e-4

let private jvpCase (dtype: DType) (index: int) (c: Case) =
    test c.Name {
        let points, tangents, u = draw index c
        let value, tangent = Diff.jvpN c.F (points |> List.map (constantIn dtype)) (tangents |> List.map (constantIn dtype))
        let _, pullback = Diff.vjpN c.F (points |> List.map (constantIn dtype))
        let cotangents = pullback (constantIn value.DType u)
        let jt = values tangent
        // <u, J t> from forward mode, <Jᵀu, t> from reverse mode.
        let forwardSide = dot (u.ToDoubleArray()) jt
        let reverseSide = List.map2 (fun (c: Expr) (t: Tensor) -> dot (values c) (t.ToDoubleArray())) cotangents tangents |> List.sum
        let identityTolerance = if dtype = DType.Float64 then identityTolerance64 else identityTolerance32
        expectClose identityTolerance [| forwardSide |] [| reverseSide |] (sprintf "%s: <u, J t> vs <J^T u, t>" c.Name)
        let reference = directionalDifference c.F points tangents
        let differenceTolerance = if dtype = DType.Float64 then differenceTolerance64 else differenceTolerance32
        expectClose differenceTolerance jt reference (sprintf "%s: J t vs finite differences" c.Name)
        Expect.equal tangent.Shape value.Shape "the tangent has the output's shape"
    }

let private eliminationCase (index: int) (c: Case) =
    test c.Name {
        let vars = c.Shapes |> List.mapi (fun i s -> Expr.variable (sprintf "x%d" i) s DType.Float64) |> Array.ofList
        let tangentVars = c.Shapes |> List.mapi (fun i s -> Expr.variable (sprintf "t%d" i) s DType.Float64) |> Array.ofList
        let output = c.F (List.ofArray vars)
        let tangent, u = Jvp.transpose output vars tangentVars
        let free = Graph.variables [ tangent ]
        Expect.isFalse (free |> Array.exists (fun v -> obj.ReferenceEquals(v, u)))
            (sprintf "%s: the cotangent variable survives in\n%s" c.Name (Print.text tangent))
    }

[<Tests>]
let tests =
    testList "Forward" [
        testList "jvp of every primitive, float64" (cases |> List.mapi (jvpCase DType.Float64))
        testList "jvp of every primitive, float32" (cases |> List.mapi (jvpCase DType.Float32))
        testList "the cotangent variable is eliminated" (cases |> List.mapi eliminationCase)
    ]
