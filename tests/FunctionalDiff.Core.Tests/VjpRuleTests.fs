/// Every primitive's rule (and the composites) against central finite differences in float64,
/// at first and second order, including broadcasting shapes. One table of cases.
module FunctionalDiff.Core.Tests.VjpRuleTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// A case: a name, the inputs' shapes, the domain they are drawn from, and the function.
type Case = RuleCase

let private case name shapes domain f = { Name = name; Shapes = shapes; Domain = domain; F = f }
let private one f = fun (xs: Expr list) -> f xs.[0]
let private two f = fun (xs: Expr list) -> f xs.[0] xs.[1]

let private mask = tensor [| 2; 3 |] [| 1.0; 0.0; 1.0; 0.0; 0.0; 1.0 |]
let private gatherIndex = tensor [| 2; 3 |] [| 2.0; 0.0; 1.0; 1.0; 1.0; 3.0 |]
let private targets = tensor [| 3 |] [| 2.0; 0.0; 3.0 |]
let private probabilities = tensor [| 2; 3 |] [| 0.2; 0.9; 0.5; 0.0; 1.0; 0.3 |]

/// The table. Shapes mix ranks so that each binary op is checked through broadcasting.
let cases : Case list =
    let s23, s3, s21, s13 = [| 2; 3 |], [| 3 |], [| 2; 1 |], [| 1; 3 |]
    [ case "neg" [ s23 ] Normal (one (fun x -> -x))
      case "exp" [ s23 ] Normal (one exp)
      case "log" [ s23 ] Positive (one log)
      case "log1p" [ s23 ] Positive (one Expr.log1p)
      case "expm1" [ s23 ] Normal (one Expr.expm1)
      case "sin" [ s23 ] Normal (one sin)
      case "cos" [ s23 ] Normal (one cos)
      case "tan" [ s23 ] Unit (one tan)
      case "tanh" [ s23 ] Normal (one tanh)
      case "sigmoid" [ s23 ] Normal (one Expr.sigmoid)
      case "relu" [ s23 ] Normal (one Expr.relu)
      case "abs" [ s23 ] Normal (one abs)
      case "sign" [ s23 ] Normal (one (fun x -> Expr.sign x * x))
      case "sqrt" [ s23 ] Positive (one sqrt)
      case "rsqrt" [ s23 ] Positive (one Expr.rsqrt)
      case "square" [ s23 ] Normal (one Expr.square)
      case "reciprocal" [ s23 ] Positive (one Expr.reciprocal)
      case "erf" [ s23 ] Normal (one Expr.erf)
      case "floor, ceil, round" [ s23 ] Normal (one (fun x -> x * (floor (3.0 * x) + ceil x + round (2.0 * x))))
      case "add [2,3]+[3]" [ s23; s3 ] Normal (two (+))
      case "sub [2,1]-[1,3]" [ s21; s13 ] Normal (two (-))
      case "mul [2,3]*[2,1]" [ s23; s21 ] Normal (two (*))
      case "div [3]/[2,3]" [ s3; s23 ] Positive (two (/))
      case "pow [2,3]**[3]" [ s23; s3 ] Positive (two (fun a b -> a ** (b - 1.25)))
      case "pow by a constant" [ s23 ] Normal (one (fun x -> x ** 3.0))
      case "maximum [2,3],[3]" [ s23; s3 ] Normal (two Expr.maximum)
      case "minimum [2,1],[1,3]" [ s21; s13 ] Normal (two Expr.minimum)
      case "atan2 [2,3],[3]" [ s23; s3 ] Normal (two Expr.atan2)
      case "comparisons" [ s23; s3 ] Normal (two (fun a b -> a * (Expr.lt a b + Expr.le a b + Expr.gt a b + Expr.ge a b + Expr.eq a b + Expr.ne a b)))
      case "where [2,3] mask, [2,3], [3]" [ s23; s3 ] Normal (two (fun a b -> Expr.where (constant mask) (sin a) (b * b)))
      case "sum axis 1" [ s23 ] Normal (one (Expr.sumAxes [| 1 |] false))
      case "sum all" [ [| 2; 3; 2 |] ] Normal (one (fun x -> Expr.sum x * x))
      case "mean primitive axis 0 kept" [ s23 ] Normal (one (Expr.reduce ReduceOp.Mean [| 0 |] true))
      case "mean composite" [ s23 ] Normal (one (Expr.meanAxes [| -1 |] false))
      case "max axis 0" [ [| 4; 3 |] ] Normal (one (Expr.maxAxes [| 0 |] false))
      case "min axes 0,2 kept" [ [| 2; 3; 2 |] ] Normal (one (Expr.minAxes [| 0; 2 |] true))
      case "max all" [ s23 ] Normal (one Expr.max)
      case "prod axis 1" [ s23 ] Positive (one (Expr.prodAxes [| 1 |] false))
      case "argmax" [ s23 ] Normal (one (fun x -> x * Expr.argmax 1 true x))
      case "matmul [2,3]@[3,4]" [ s23; [| 3; 4 |] ] Normal (two Expr.matmul)
      case "matmul [3]@[3,4]" [ s3; [| 3; 4 |] ] Normal (two Expr.matmul)
      case "matmul [2,3]@[3]" [ s23; s3 ] Normal (two Expr.matmul)
      case "matmul [3]@[3]" [ s3; s3 ] Normal (two Expr.matmul)
      case "matmul batch [2,1,2,3]@[3,3,2]" [ [| 2; 1; 2; 3 |]; [| 3; 3; 2 |] ] Normal (two Expr.matmul)
      case "permute" [ [| 2; 3; 4 |] ] Normal (one (Expr.permute [| 2; 0; 1 |]))
      case "transpose" [ s23 ] Normal (one Expr.transpose)
      case "reshape" [ s23 ] Normal (one (Expr.reshape [| 3; -1 |]))
      case "broadcastTo" [ s21 ] Normal (one (Expr.broadcastTo [| 4; 2; 3 |]))
      case "slice with steps" [ [| 5; 7 |] ] Normal (one (Expr.slice [| 1; -6 |] [| 5; 7 |] [| 2; 3 |]))
      case "slice with step beyond the end" [ [| 6 |] ] Normal (one (Expr.slice [| 1 |] [| 6 |] [| 4 |]))
      case "sliceAxis" [ s23 ] Normal (one (Expr.sliceAxis 1 1 3))
      case "pad" [ s23 ] Normal (one (fun x -> sin (Expr.pad [| 1; 0 |] [| 0; 2 |] x)))
      case "concat" [ s23; [| 2; 1 |]; s23 ] Normal (fun xs -> Expr.concat 1 xs)
      case "stack" [ s3; s3 ] Normal (fun xs -> Expr.stack 0 xs)
      case "flip" [ s23 ] Normal (one (Expr.flip [| 0; 1 |]))
      case "gather" [ [| 2; 4 |] ] Normal (one (Expr.gather 1 (constant gatherIndex)))
      case "scatterAdd" [ s23 ] Normal (one (fun x -> Expr.scatterAdd 1 (constant gatherIndex) x [| 2; 5 |]))
      case "softmax" [ s23 ] Normal (one (Nn.softmax 1))
      case "logSoftmax" [ s23 ] Normal (one (Nn.logSoftmax 0))
      case "logSumExp" [ s23 ] Normal (one (Nn.logSumExp [| 1 |] false))
      case "softplus" [ s23 ] Normal (one Nn.softplus)
      case "mse" [ s23; s23 ] Normal (two Nn.mse)
      case "crossEntropy" [ [| 3; 4 |] ] Normal (one (fun x -> Nn.crossEntropy x (constant targets)))
      case "binaryCrossEntropyWithLogits" [ s23 ] Normal (one (fun x -> Nn.binaryCrossEntropyWithLogits x (constant probabilities)))
      case "linear" [ [| 4; 3 |]; [| 2; 3 |]; [| 2 |] ] Normal (fun xs -> Nn.linear xs.[1] xs.[2] xs.[0])
      case "layerNorm" [ [| 2; 4 |]; [| 4 |]; [| 4 |] ] Normal (fun xs -> Nn.layerNorm 1e-5 xs.[1] xs.[2] xs.[0])
      // a loop (h0, xs, captured W): the final carry and the stacked ys, forwards and backwards with remat
      let loop reverse remat (xs: Expr list) =
          let step (c: Expr[]) (x: Expr[]) = [| Expr.tanh (Expr.matmul xs.[2] c.[0] + x.[0]) |], [| Expr.sin c.[0] * x.[0] |]
          let carries, ys = Scan.scanWith reverse remat None step [| xs.[0] |] [| xs.[1] |]
          Expr.concat 0 [ carries.[0]; Expr.reshape [| ys.[0].Numel |] ys.[0] ]
      case "scan" [ s3; [| 4; 3 |]; [| 3; 3 |] ] Normal (loop false false)
      case "scan reversed with remat" [ s3; [| 4; 3 |]; [| 3; 3 |] ] Normal (loop true true) ]

// First order: ours vs finite differences of <f(x), w>. The FD error is ~1e-9 (see numericGradient);
[<Tests>]
let tests =
    testList "Graph" [
        testList "Rules first order vs finite differences" (cases |> List.mapi (fun i c -> firstOrderTest (1000 + i) c))
        testList "Rules second order vs finite differences of the first" (cases |> List.mapi (fun i c -> secondOrderTest (1000 + i) c))
    ]
