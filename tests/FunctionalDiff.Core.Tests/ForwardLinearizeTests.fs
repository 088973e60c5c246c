/// Forward mode over several inputs (jvpN) and linearize: against central differences, against the
/// single-input jvp of the same function of the concatenated inputs, and, for linearize, the nodes
/// each application visits: those that depend on the tangent, never the primal's.
module FunctionalDiff.Core.Tests.ForwardLinearizeTests

open System
open System.Collections.Generic
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport
open FunctionalDiff.Core.Tests.ForwardSupport

let private f64 = DType.Float64

/// Runs `action`, expecting the ShapeException a mismatched tangent or cotangent raises, and returns it.
let private shapeError (action: unit -> unit) : exn =
    Expect.throwsC action (fun e -> Expect.isTrue (e :? ShapeException) (sprintf "a ShapeException, not %s" (e.GetType().Name)); e)

/// A function of a [3] and a [2, 3] input with a [2] output that mixes both.
let private twoInputs (inputs: Expr list) =
    match inputs with
    | [ a; b ] -> tanh (Expr.matmul b (sin a)) * Expr.sum (a * a) + exp (Expr.sumAxes [| 1 |] false b)
    | _ -> invalidArg "inputs" "two inputs"

/// The same function of z = [a; b flattened], 9 elements.
let private concatenated (z: Expr) = twoInputs [ Expr.sliceAxis 0 0 3 z; Expr.sliceAxis 0 3 9 z |> Expr.reshape [| 2; 3 |] ]

let private flat (a: Tensor) (b: Tensor) = Tensor.FromArray(Array.append (a.ToDoubleArray()) (b.ToDoubleArray()), [| 9 |])

/// A four-layer tanh network of a [4] input, so the primal is large next to one tangent.
let private network (x: Expr) =
    let random = Random(5)
    let mutable h = x
    for _ in 1 .. 4 do
        h <- tanh (Expr.matmul (constant (sample random Normal [| 4; 4 |])) h + constant (sample random Normal [| 4 |]))
    h

/// The nodes of `root`'s graph that depend on `var`, the Var itself excluded: a reference walk.
let private dependingOn (var: Expr) (root: Expr) =
    let dependent = HashSet<int64>([ var.Id ])
    let mutable count = 0
    for node in Graph.topologicalOrder [ root ] do
        if node.Id <> var.Id && node.Inputs |> Array.exists (fun i -> dependent.Contains i.Id) then
            dependent.Add node.Id |> ignore
            count <- count + 1
    count, dependent

/// The ids of `root`'s nodes outside `dependent`.
let private independentOf (dependent: HashSet<int64>) (root: Expr) =
    Graph.topologicalOrder [ root ] |> Array.map (fun e -> e.Id) |> Array.filter (dependent.Contains >> not) |> Set.ofArray

let private counted (action: unit -> 'a) =
    let before = Graph.visitedNodes ()
    let result = action ()
    Graph.visitedNodes () - before, result

[<Tests>]
let tests =
    testList "Forward" [
        testList "Several inputs and linearize" [
            test "jvpN matches central differences along both tangents at once" {
                let random = Random(1)
                for _ in 1 .. 3 do
                    let a, b = sample random Normal [| 3 |], sample random Normal [| 2; 3 |]
                    let ta, tb = sample random Normal [| 3 |], sample random Normal [| 2; 3 |]
                    let value, tangent = Diff.jvpN twoInputs [ constant a; constant b ] [ constant ta; constant tb ]
                    expectClose 1e-14 (values value) (values (twoInputs [ constant a; constant b ])) "value"
                    // central differences: error ~1e-9 at this scale (see directionalDifference)
                    expectClose 1e-7 (values tangent) (directionalDifference twoInputs [ a; b ] [ ta; tb ]) "J_a t_a + J_b t_b"
            }
            test "jvpN equals jvp of the same function of the concatenated inputs" {
                let random = Random(2)
                for _ in 1 .. 3 do
                    let a, b = sample random Normal [| 3 |], sample random Normal [| 2; 3 |]
                    let ta, tb = sample random Normal [| 3 |], sample random Normal [| 2; 3 |]
                    let value, tangent = Diff.jvpN twoInputs [ constant a; constant b ] [ constant ta; constant tb ]
                    let value1, tangent1 = Diff.jvp concatenated (constant (flat a b)) (constant (flat ta tb))
                    // the same products, summed in another grouping: float64 rounding only
                    expectClose 1e-12 (values value) (values value1) "value"
                    expectClose 1e-12 (values tangent) (values tangent1) "tangent"
            }
            test "linearize gives f's value, and each application is jvp's tangent and matches central differences" {
                let random = Random(3)
                let x = sample random Normal [| 4 |]
                let value, apply = Diff.linearize network (constant x)
                expectClose 1e-14 (values value) (values (network (constant x))) "value"
                for _ in 1 .. 4 do
                    let t = sample random Normal [| 4 |]
                    let pushed = values (apply (constant t))
                    expectClose 1e-12 pushed (values (snd (Diff.jvp network (constant x) (constant t)))) "as jvp"
                    expectClose 1e-7 pushed (directionalDifference (fun xs -> network xs.[0]) [ x ] [ t ]) "J t"
            }
            test "linearizeN over two inputs agrees with jvpN" {
                let random = Random(4)
                let a, b = sample random Normal [| 3 |], sample random Normal [| 2; 3 |]
                let value, apply = Diff.linearizeN twoInputs [ constant a; constant b ]
                expectClose 1e-14 (values value) (values (twoInputs [ constant a; constant b ])) "value"
                for _ in 1 .. 3 do
                    let ta, tb = sample random Normal [| 3 |], sample random Normal [| 2; 3 |]
                    let expected = snd (Diff.jvpN twoInputs [ constant a; constant b ] [ constant ta; constant tb ])
                    expectClose 1e-12 (values (apply [ constant ta; constant tb ])) (values expected) "tangent"
            }
            test "an application of linearize visits only the nodes that depend on the tangent, and shares the primal" {
                let x = Expr.variable "x" [| 4 |] f64
                let value, apply = Diff.linearize network x
                let t1, t2 = Expr.variable "t1" [| 4 |] f64, Expr.variable "t2" [| 4 |] f64
                let visits1, pushed1 = counted (fun () -> apply t1)
                let visits2, pushed2 = counted (fun () -> apply t2)
                let dependent1, set1 = dependingOn t1 pushed1
                let dependent2, set2 = dependingOn t2 pushed2
                Expect.equal visits1 (int64 dependent1) "first application: its tangent's nodes only"
                Expect.equal visits2 (int64 dependent2) "second application: its tangent's nodes only"
                // The rest of both graphs is one set of nodes: the primal was built once.
                Expect.equal (independentOf set2 pushed2) (independentOf set1 pushed1) "shared primal nodes"
                let tanhs (roots: Expr list) = Graph.topologicalOrder roots |> Array.filter (fun e -> e.Op = Op.Unary UnaryOp.Tanh) |> Array.length
                Expect.equal (tanhs [ value; pushed1; pushed2 ]) (tanhs [ value ]) "one tanh per layer for the value and both tangents"
                // A whole jvp walks the primal and its transposes every time.
                let jvpVisits, _ = counted (fun () -> Diff.jvp network x t1)
                Expect.isLessThan visits1 jvpVisits "an application costs less than a jvp"
                // and the values
                let random = Random(6)
                let x0, v1, v2 = sample random Normal [| 4 |], sample random Normal [| 4 |], sample random Normal [| 4 |]
                let results = Eval.evalManyWith [ x, x0; t1, v1; t2, v2 ] [ pushed1; pushed2 ]
                expectClose 1e-7 (results.[0].ToDoubleArray()) (directionalDifference (fun xs -> network xs.[0]) [ x0 ] [ v1 ]) "J t1"
                expectClose 1e-7 (results.[1].ToDoubleArray()) (directionalDifference (fun xs -> network xs.[0]) [ x0 ] [ v2 ]) "J t2"
            }
            test "mismatched tangents are rejected with the shapes" {
                let a, b = Expr.variable "a" [| 3 |] f64, Expr.variable "b" [| 2; 3 |] f64
                let e = shapeError (fun () -> Diff.jvpN twoInputs [ a; b ] [ a ] |> ignore)
                Expect.stringContains e.Message "Jvp: 1 tangents for 2 primals" "count"
                let e = shapeError (fun () -> Diff.jvpN twoInputs [ a; b ] [ a; a ] |> ignore)
                Expect.stringContains e.Message "Jvp: tangents[1] of shape [3] does not match primals[1] of shape [2,3]" "shape"
                let _, apply = Diff.linearizeN twoInputs [ a; b ]
                let e = shapeError (fun () -> apply [ b; b ] |> ignore)
                Expect.stringContains e.Message "Linearize: tangents[0] of shape [2,3] does not match primals[0] of shape [3]" "linearize"
                // the one-argument forms name their parameters, as the C# facade names its own
                let square (x: Expr) = Expr.sum (Expr.square x)
                let e = shapeError (fun () -> Diff.jvp square a b |> ignore)
                Expect.stringContains e.Message "Jvp: t of shape [2,3] does not match x of shape [3]" "jvp"
                let e = shapeError (fun () -> Diff.hvp square a b |> ignore)
                Expect.stringContains e.Message "Hvp: v of shape [2,3] does not match x of shape [3]" "hvp"
                let _, applyOne = Diff.linearize square a
                let e = shapeError (fun () -> applyOne b |> ignore)
                Expect.stringContains e.Message "Linearize: t of shape [2,3] does not match x of shape [3]" "linearize of one argument"
                let _, pullback = Diff.vjp square a
                let e = shapeError (fun () -> pullback a |> ignore)
                Expect.stringContains e.Message "Vjp: the pullback's cotangent of shape [3] does not match the output's shape []" "pullback"
            }
        ]
    ]
