/// The special functions, statistics, indexing composites and einsum against central finite
/// differences in float64, at first and second order: one table of cases, as VjpRuleTests.
module FunctionalDiff.Core.Tests.SpecialOpsRuleTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private case name shapes domain f : RuleCase = { Name = name; Shapes = shapes; Domain = domain; F = f }
let private one f = fun (xs: Expr list) -> f xs.[0]
let private two f = fun (xs: Expr list) -> f xs.[0] xs.[1]

let private index = tensor [| 4 |] [| 2.0; 0.0; 2.0; 1.0 |]
let private tokens = tensor [| 2; 3 |] [| 4.0; 0.0; 1.0; 1.0; 3.0; 4.0 |]

let private cases =
    let s23, s234 = [| 2; 3 |], [| 2; 3; 4 |]
    [ case "lgamma" [ s23 ] Positive (one Expr.lgamma)
      case "lgamma negative" [ s23 ] Positive (one (fun x -> Expr.lgamma (0.4 * x - 2.9)))
      case "digamma" [ s23 ] Positive (one Expr.digamma)
      case "polygamma 1" [ s23 ] Positive (one (Expr.polygamma 1))
      case "polygamma 3" [ s23 ] Positive (one (Expr.polygamma 3))
      case "erfc" [ s23 ] Normal (one Expr.erfc)
      case "logSigmoid" [ s23 ] Normal (one Activations.logSigmoid)
      case "gelu" [ s23 ] Normal (one Activations.gelu)
      case "geluTanh" [ s23 ] Normal (one Activations.geluTanh)
      case "silu" [ s23 ] Normal (one Activations.silu)
      case "elu" [ s23 ] Normal (one (Activations.elu 0.7))
      case "leakyRelu" [ s23 ] Normal (one (fun x -> Activations.leakyRelu 0.1 x * x))
      case "softsign" [ s23 ] Normal (one Activations.softsign)
      case "clamp" [ s23 ] Normal (one (fun x -> Activations.clamp (Some -0.5) (Some 0.6) x * x))
      case "clamp lower only" [ s23 ] Normal (one (fun x -> Activations.clamp (Some 0.1) None x * x))
      case "var axis 1" [ s234 ] Normal (one (Statistics.var [| 1 |] 1.0 false))
      case "var all, correction 0" [ s23 ] Normal (one (Statistics.var [| 0; 1 |] 0.0 true))
      case "std axis -1" [ s234 ] Normal (one (Statistics.std [| -1 |] 1.0 false))
      case "norm 1" [ s234 ] Normal (one (Statistics.norm 1.0 [| 2 |] false))
      case "norm 2" [ s234 ] Normal (one (Statistics.norm 2.0 [| 0; 2 |] true))
      case "norm inf" [ s234 ] Normal (one (Statistics.norm Double.PositiveInfinity [| 1 |] false))
      case "frobenius" [ s234 ] Normal (one (Statistics.frobenius false))
      case "indexSelect axis 1" [ [| 2; 3; 2 |] ] Normal (one (fun x -> Indexing.indexSelect 1 (constant index) x |> sin))
      case "embedding" [ [| 5; 3 |] ] Normal (one (fun w -> Indexing.embedding (constant tokens) w |> sin))
      case "cumsum axis 1" [ [| 2; 5 |] ] Normal (one (fun x -> Indexing.cumsum 1 x |> sin))
      case "cumprod axis 0" [ [| 5; 2 |] ] Normal (one (Indexing.cumprod 0))
      case "sort descending" [ s234 ] Normal (one (fun x -> fst (Indexing.sort 2 true x) |> sin))
      case "topk 2 smallest" [ s234 ] Normal (one (fun x -> fst (Indexing.topk 2 1 false x) |> sin))
      case "tril 0" [ [| 2; 3; 3 |] ] Normal (one (fun x -> Indexing.tril 0 x |> sin))
      case "triu -1" [ [| 3; 4 |] ] Normal (one (fun x -> Indexing.triu -1 x |> sin))
      case "diagonal offset 1" [ [| 3; 4; 2 |] ] Normal (one (fun x -> Indexing.diagonal 1 0 1 x |> sin))
      case "diagEmbed offset -1" [ [| 2; 3 |] ] Normal (one (fun x -> Indexing.diagEmbed -1 x |> sin))
      case "einsum bij,bjk->bik" [ [| 2; 2; 3 |]; [| 2; 3; 2 |] ] Normal (two (Einsum.einsum2 "bij,bjk->bik"))
      case "einsum ij,kj->ik" [ s23; [| 4; 3 |] ] Normal (two (fun a b -> Einsum.einsum2 "ij,kj->ik" a b |> sin))
      case "einsum ii,i->" [ [| 3; 3 |]; [| 3 |] ] Normal (two (Einsum.einsum2 "ii,i->"))
      case "einsum ij,ij->i" [ s23; s23 ] Normal (two (Einsum.einsum2 "ij,ij->i"))
      case "einsum1 ijk->kj" [ s234 ] Normal (one (fun x -> Einsum.einsum1 "ijk->kj" x |> sin)) ]

[<Tests>]
let tests =
    testList "Special" [
        testList "Rules first order vs finite differences" (cases |> List.mapi (fun i c -> firstOrderTest (4000 + i) c))
        testList "Rules second order vs finite differences of the first" (cases |> List.mapi (fun i c -> secondOrderTest (4000 + i) c))
    ]
