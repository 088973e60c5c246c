/// einsum with an ellipsis: values against reference loops (batch axes of different ranks,
/// broadcast lengths of 1, explicit and implicit outputs), derivatives against central finite
/// differences in float64 at first and second order, and the errors of malformed ellipses.
module FunctionalDiff.Core.Tests.EinsumEllipsisTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private normal = normalSample

let private flat = rowMajor

let private valueTests =
    [ test "...ij,...jk->...ik broadcasts [2,1] against [5] and multiplies the matrices" {
        let a, b = normal 1 [| 2; 1; 3; 4 |], normal 2 [| 5; 4; 2 |]
        let ad, bd = a.ToDoubleArray(), b.ToDoubleArray()
        let expected =
            [| for p in 0 .. 1 do
                 for q in 0 .. 4 do
                   for i in 0 .. 2 do
                     for k in 0 .. 1 ->
                       Array.sum (Array.init 4 (fun j -> ad.[flat [| 2; 1; 3; 4 |] [| p; 0; i; j |]] * bd.[flat [| 5; 4; 2 |] [| q; j; k |]])) |]
        let result = Einsum.einsum2 "...ij,...jk->...ik" (constant a) (constant b)
        Expect.equal result.Dims [| 2; 5; 3; 2 |] "shape"
        expectClose 1e-14 (values result) expected "values"
      }
      test "an implicit output puts the ellipsis axes first: ...ij,jk is ...ik" {
        let a, b = normal 3 [| 2; 3; 4 |], normal 4 [| 4; 5 |]
        let result = Einsum.einsum2 "...ij,jk" (constant a) (constant b)
        Expect.equal result.Dims [| 2; 3; 5 |] "shape"
        // a loop, not Expr.matmul: einsum lowers to the same product
        let ad, bd = a.ToDoubleArray(), b.ToDoubleArray()
        let expected =
            [| for n in 0 .. 1 do
                 for i in 0 .. 2 do
                   for k in 0 .. 4 -> Array.sum (Array.init 4 (fun j -> ad.[flat [| 2; 3; 4 |] [| n; i; j |]] * bd.[flat [| 4; 5 |] [| j; k |]])) |]
        expectClose 1e-14 (values result) expected "values"
      }
      test "one operand: batched diagonals, a sum over a leading axis, a batched transpose" {
        let x = normal 5 [| 2; 3; 3 |]
        let xd = x.ToDoubleArray()
        expectClose 1e-14 (values (Einsum.einsum1 "...ii->...i" (constant x)))
            [| for b in 0 .. 1 do for i in 0 .. 2 -> xd.[flat [| 2; 3; 3 |] [| b; i; i |]] |] "diagonals"
        let y = normal 6 [| 3; 2; 4 |]
        let yd = y.ToDoubleArray()
        expectClose 1e-14 (values (Einsum.einsum1 "i...->..." (constant y)))
            [| for p in 0 .. 1 do for q in 0 .. 3 -> Array.sum (Array.init 3 (fun i -> yd.[flat [| 3; 2; 4 |] [| i; p; q |]])) |] "sum"
        expectClose 1e-14 (values (Einsum.einsum1 "...ij->...ji" (constant y)))
            [| for i in 0 .. 2 do for q in 0 .. 3 do for p in 0 .. 1 -> yd.[flat [| 3; 2; 4 |] [| i; p; q |]] |] "transpose"
      }
      test "an ellipsis in the middle, and one covering no axis" {
        let a, b = normal 7 [| 2; 3; 4 |], normal 8 [| 2; 2; 4 |]
        let ad, bd = a.ToDoubleArray(), b.ToDoubleArray()
        expectClose 1e-14 (values (Einsum.einsum2 "bi...,bj...->bij..." (constant a) (constant b)))
            [| for n in 0 .. 1 do
                 for i in 0 .. 2 do
                   for j in 0 .. 1 do
                     for t in 0 .. 3 -> ad.[flat [| 2; 3; 4 |] [| n; i; t |]] * bd.[flat [| 2; 2; 4 |] [| n; j; t |]] |] "outer per batch"
        let m = normal 9 [| 3; 4 |]
        let md = m.ToDoubleArray()
        expectClose 1e-14 (values (Einsum.einsum1 "...ij->ji" (constant m)))
            [| for j in 0 .. 3 do for i in 0 .. 2 -> md.[flat [| 3; 4 |] [| i; j |]] |] "empty ellipsis"
      }
      test "malformed ellipses raise, naming Einsum and the equation" {
        let x = Expr.variable "x" [| 3; 4 |] DType.Float64
        for equation, operand in [ "....ij->ij", x; "..ij->ij", x; "...ij...->ij", x; "...ijk->k", Expr.variable "v" [| 4 |] DType.Float64 ] do
            Expect.throwsT<ShapeException> (fun () -> Einsum.einsum1 equation operand |> ignore) equation
        let message =
            try Einsum.einsum1 "...ijk->k" (Expr.variable "v" [| 4 |] DType.Float64) |> ignore; ""
            with :? ShapeException as e -> e.Message
        Expect.stringContains message "Einsum" "names the op"
        Expect.stringContains message "...ijk->k" "names the equation"
      } ]

let private cases : RuleCase list =
    [ { Name = "...ij,...jk->...ik broadcast"; Shapes = [ [| 2; 3; 4 |]; [| 1; 4; 2 |] ]; Domain = Normal; F = fun xs -> Einsum.einsum2 "...ij,...jk->...ik" xs.[0] xs.[1] |> sin }
      { Name = "...i,...i->..."; Shapes = [ [| 3; 4 |]; [| 4 |] ]; Domain = Normal; F = fun xs -> Einsum.einsum2 "...i,...i->..." xs.[0] xs.[1] |> sin }
      { Name = "...ii->...i"; Shapes = [ [| 2; 3; 3 |] ]; Domain = Normal; F = fun xs -> Einsum.einsum1 "...ii->...i" xs.[0] |> sin } ]

[<Tests>]
let tests =
    testList "Einsum ellipsis" [
        testList "values vs loops" valueTests
        testList "first order vs finite differences" (cases |> List.mapi (fun i c -> firstOrderTest (5000 + i) c))
        testList "second order vs finite differences of the first" (cases |> List.mapi (fun i c -> secondOrderTest (5000 + i) c))
    ]
