/// einsum with three or more operands, and letters of length 1 that broadcast against a longer
/// one as torch's do: values against reference loops, derivatives against central finite
/// differences in float64 at first and second order, and the errors that name the operand.
module FunctionalDiff.Core.Tests.EinsumOperandsTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private normal = normalSample

let private flat = rowMajor

let private valueTests =
    [ test "ij,jk,kl->il is the product of three matrices" {
        let a, b, c = normal 1 [| 2; 3 |], normal 2 [| 3; 4 |], normal 3 [| 4; 2 |]
        let ad, bd, cd = a.ToDoubleArray(), b.ToDoubleArray(), c.ToDoubleArray()
        let expected =
            [| for i in 0 .. 1 do
                 for l in 0 .. 1 ->
                   Array.sum [| for j in 0 .. 2 do for k in 0 .. 3 -> ad.[flat [| 2; 3 |] [| i; j |]] * bd.[flat [| 3; 4 |] [| j; k |]] * cd.[flat [| 4; 2 |] [| k; l |]] |] |]
        let result = Einsum.einsumN "ij,jk,kl->il" [| constant a; constant b; constant c |]
        Expect.equal result.Dims [| 2; 2 |] "shape"
        expectClose 1e-13 (values result) expected "values"
      }
      test "a letter in every operand: i,i,i-> and bi,ij,bj->b" {
        let x, y, z = normal 4 [| 5 |], normal 5 [| 5 |], normal 6 [| 5 |]
        let xd, yd, zd = x.ToDoubleArray(), y.ToDoubleArray(), z.ToDoubleArray()
        expectClose 1e-13 (values (Einsum.einsumN "i,i,i->" [| constant x; constant y; constant z |]))
            [| Array.sum (Array.init 5 (fun i -> xd.[i] * yd.[i] * zd.[i])) |] "triple dot"
        let u, m, v = normal 7 [| 3; 4 |], normal 8 [| 4; 2 |], normal 9 [| 3; 2 |]
        let ud, md, vd = u.ToDoubleArray(), m.ToDoubleArray(), v.ToDoubleArray()
        expectClose 1e-13 (values (Einsum.einsumN "bi,ij,bj->b" [| constant u; constant m; constant v |]))
            [| for b in 0 .. 2 -> Array.sum [| for i in 0 .. 3 do for j in 0 .. 1 -> ud.[flat [| 3; 4 |] [| b; i |]] * md.[flat [| 4; 2 |] [| i; j |]] * vd.[flat [| 3; 2 |] [| b; j |]] |] |] "bilinear forms"
      }
      test "four operands with an implicit output, a diagonal and an ellipsis" {
        let a, b, c, d = normal 10 [| 3; 3 |], normal 11 [| 3; 2 |], normal 12 [| 2 |], normal 13 [| 4; 2 |]
        let ad, bd, cd, dd = a.ToDoubleArray(), b.ToDoubleArray(), c.ToDoubleArray(), d.ToDoubleArray()
        // implicit: the letters that occur once, sorted: i occurs twice (a's diagonal) and once in b
        let expected =
            [| for q in 0 .. 3 ->
                 Array.sum [| for i in 0 .. 2 do for j in 0 .. 1 -> ad.[flat [| 3; 3 |] [| i; i |]] * bd.[flat [| 3; 2 |] [| i; j |]] * cd.[j] * dd.[flat [| 4; 2 |] [| q; j |]] |] |]
        let result = Einsum.einsumN "ii,ij,j,...j->..." [| constant a; constant b; constant c; constant d |]
        Expect.equal result.Dims [| 4 |] "shape"
        expectClose 1e-13 (values result) expected "values"
      }
      test "a letter of length 1 broadcasts against a longer one, as in torch" {
        let a, b = normal 14 [| 1; 3 |], normal 15 [| 2; 3 |]
        let ad, bd = a.ToDoubleArray(), b.ToDoubleArray()
        let result = Einsum.einsum2 "ij,ij->ij" (constant a) (constant b)
        Expect.equal result.Dims [| 2; 3 |] "shape"
        expectClose 1e-14 (values result) [| for i in 0 .. 1 do for j in 0 .. 2 -> ad.[j] * bd.[flat [| 2; 3 |] [| i; j |]] |] "values"
        let c = normal 16 [| 3; 1 |]
        let cd = c.ToDoubleArray()
        let contracted = Einsum.einsum2 "ij,jk->ik" (constant b) (constant c |> Expr.reshape [| 3; 1 |])
        expectClose 1e-14 (values contracted) [| for i in 0 .. 1 -> Array.sum (Array.init 3 (fun j -> bd.[flat [| 2; 3 |] [| i; j |]] * cd.[j])) |] "contraction unchanged"
        let summed = Einsum.einsumN "ij,ij,j->i" [| constant a; constant b; constant (normal 17 [| 1 |]) |]
        Expect.equal summed.Dims [| 2 |] "length 1 of the third operand stretches too"
      }
      test "a wrong operand or a length that is neither equal nor 1 raises, naming the operands" {
        let x, y = Expr.variable "x" [| 2; 3 |] DType.Float64, Expr.variable "y" [| 3; 4 |] DType.Float64
        let message (f: unit -> Expr) = try f () |> ignore; "" with :? ShapeException as e -> e.Message
        let m = message (fun () -> Einsum.einsumN "ij,jk,kl->il" [| x; y; x |])
        Expect.stringContains m "Einsum" "names the op"
        Expect.stringContains m "ij,jk,kl->il" "names the equation"
        Expect.stringContains m "operand 3" "names the operand"
        Expect.stringContains (message (fun () -> Einsum.einsumN "ij,jk,kl->il" [| x; y |])) "names 3 operands but 2 were given" "count"
      } ]

let private cases : RuleCase list =
    [ { Name = "ij,jk,kl->il"; Shapes = [ [| 2; 3 |]; [| 3; 2 |]; [| 2; 2 |] ]; Domain = Normal; F = fun xs -> Einsum.einsumN "ij,jk,kl->il" [| xs.[0]; xs.[1]; xs.[2] |] |> sin }
      { Name = "i,i,i->"; Shapes = [ [| 3 |]; [| 3 |]; [| 3 |] ]; Domain = Normal; F = fun xs -> Einsum.einsumN "i,i,i->" [| xs.[0]; xs.[1]; xs.[2] |] |> sin }
      { Name = "ij,ij->ij broadcast"; Shapes = [ [| 1; 3 |]; [| 2; 3 |] ]; Domain = Normal; F = fun xs -> Einsum.einsum2 "ij,ij->ij" xs.[0] xs.[1] |> sin } ]

[<Tests>]
let tests =
    testList "Einsum operands" [
        testList "values vs loops" valueTests
        testList "first order vs finite differences" (cases |> List.mapi (fun i c -> firstOrderTest (5100 + i) c))
        testList "second order vs finite differences of the first" (cases |> List.mapi (fun i c -> secondOrderTest (5100 + i) c))
    ]
