/// Derivatives through Scan: gradients, grad of grad, Hessian-vector products, JVPs and Hessians,
/// each against the same loop unrolled in the test (to 1e-12 relative in float64) or against
/// central finite differences; and the sizes of derivative graphs, which must not grow with T.
module FunctionalDiff.Core.Tests.ScanDerivativeTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport
open FunctionalDiff.Core.Tests.ScanTests

/// One instruction of a random step: reads two earlier values of the step, makes one more.
type Instruction =
    | Add of int * int
    | Mul of int * int
    | Sin of int
    | Tanh of int
    | Affine of int * int
    | Weight of int
    | Cos of int

/// A random step over a carry h [3], a row x [3] and the captured W [3,3] and c [3]: a few
/// instructions over the values (h, x, c, W h), the new carry tanh(last + h/2), and two ys.
let randomStep (seed: int) =
    let r = Random seed
    let count = 3 + r.Next 5
    let program =
        Array.init count (fun k ->
            let pick () = r.Next(4 + k)
            match r.Next 7 with
            | 0 -> Add(pick (), pick ())
            | 1 -> Mul(pick (), pick ())
            | 2 -> Sin(pick ())
            | 3 -> Tanh(pick ())
            | 4 -> Affine(pick (), pick ())
            | 5 -> Weight(pick ())
            | _ -> Cos(pick ()))
    let ysFrom = r.Next(4 + count)
    fun (w: Expr) (c: Expr) (carries: Expr[]) (xs: Expr[]) ->
        let h, x = carries.[0], xs.[0]
        let values = Collections.Generic.List<Expr>([ h; x; c; Expr.matmul w h ])
        for instruction in program do
            let v (i: int) = values.[i]
            values.Add(
                match instruction with
                | Add(a, b) -> v a + v b
                | Mul(a, b) -> v a * v b
                | Sin a -> Expr.sin (v a)
                | Tanh a -> Expr.tanh (v a)
                | Affine(a, b) -> v a * 0.5 - v b
                | Weight a -> Expr.matmul w (v a)
                | Cos a -> Expr.cos (v a))
        let last = values.[values.Count - 1]
        [| Expr.tanh (last + h * 0.5) |], [| last; Expr.sum values.[ysFrom] |]

/// A scalar objective of a loop's results (weights fixed in the test).
let objective (carries: Expr[]) (ys: Expr[]) =
    Expr.sum (carries.[0] * carries.[0]) + Expr.sum (Expr.sin ys.[0]) + Expr.sum (ys.[1] * 0.3)

/// The objective of the loop at (h0, xs, W, c), by Scan or unrolled.
let loss (useScan: bool) (remat: bool) (step: Expr -> Expr -> Expr[] -> Expr[] -> Expr[] * Expr[]) (args: Expr list) =
    match args with
    | [ h0; xs; w; c ] ->
        let carries, ys =
            if useScan then Scan.scanWith false remat None (step w c) [| h0 |] [| xs |]
            else unrolled false xs.Dims.[0] (step w c) [| h0 |] [| xs |]
        objective carries ys
    | _ -> failwith "four arguments"

let pointOf (seed: int) (length: int) =
    let r = Random seed
    [ sample r Normal [| 3 |]; sample r Normal [| length; 3 |]; Tensor.FromArray((sample r Normal [| 3; 3 |]).ToDoubleArray() |> Array.map ((*) 0.5), [| 3; 3 |]); sample r Normal [| 3 |] ]

let constants (point: Tensor list) = point |> List.map Expr.constant

[<Tests>]
let scanDerivativeTests =
    let config = PropertySupport.fixedSeed 4UL 25
    testList "Scan.derivatives" [
        testPropertyWithConfig config "random steps: value, gradients, HVP and JVP equal the unrolled loop's" <| fun (seed: int) ->
            let step = randomStep seed
            let point = constants (pointOf seed (1 + abs seed % 5))
            let scanned, reference = loss true false step, loss false false step
            expectClose 1e-12 (values (scanned point)) (values (reference point)) "value"
            let gs, gr = Diff.gradN scanned point, Diff.gradN reference point
            List.iteri2 (fun i a e -> expectClose 1e-12 (values a) (values e) (sprintf "gradient %d" i)) gs gr
            // HVP in W along a fixed direction, JVP along tangents of every argument
            let direction = Expr.constant (sample (Random(seed + 1)) Normal [| 3; 3 |])
            let hvpOf f = Diff.hvp (fun w -> f [ point.[0]; point.[1]; w; point.[3] ]) point.[2] direction
            expectClose 1e-12 (values (hvpOf scanned)) (values (hvpOf reference)) "HVP in W"
            let tangents = point |> List.mapi (fun i p -> Expr.constant (sample (Random(seed + 2 + i)) Normal p.Shape))
            expectClose 1e-12 (values (snd (Diff.jvpN scanned point tangents))) (values (snd (Diff.jvpN reference point tangents))) "JVP"
        testPropertyWithConfig config "remat gives the same gradient and HVP" <| fun (seed: int) ->
            let step = randomStep seed
            let point = constants (pointOf seed 4)
            let saved, recomputed = loss true false step, loss true true step
            List.iteri2 (fun i a e -> expectClose 1e-12 (values a) (values e) (sprintf "gradient %d" i)) (Diff.gradN recomputed point) (Diff.gradN saved point)
            let direction = Expr.constant (sample (Random(seed + 1)) Normal [| 3 |])
            let hvpOf f = Diff.hvp (fun h -> f [ h; point.[1]; point.[2]; point.[3] ]) point.[0] direction
            expectClose 1e-12 (values (hvpOf recomputed)) (values (hvpOf saved)) "HVP in h0"
        test "tanh RNN: gradients in every input equal central differences" {
            let point = pointOf 7 6
            let f = loss true false (fun w c -> fun carries xs -> [| Expr.tanh (Expr.matmul w carries.[0] + xs.[0] * c) |], [| carries.[0]; Expr.sum carries.[0] |])
            let analytic = Diff.gradN f (constants point) |> List.map values
            let numeric = numericGradient f point
            List.iteri2 (fun i a e -> expectClose 1e-6 a e (sprintf "input %d" i)) analytic numeric
        }
        test "second order: grad of grad and the Hessian equal central differences of the gradient" {
            let point = pointOf 8 5
            let step (w: Expr) (c: Expr) (carries: Expr[]) (xs: Expr[]) =
                [| Expr.tanh (Expr.matmul w carries.[0] + xs.[0]) * c |], [| Expr.sin carries.[0]; Expr.sum carries.[0] |]
            let inH0 (h: Expr) = loss true false step [ h; Expr.constant point.[1]; Expr.constant point.[2]; Expr.constant point.[3] ]
            // d/dh of <grad f(h), v> by the transforms, against central differences of <grad f(h), v>
            let v = sample (Random 3) Normal [| 3 |]
            let gradDotV (h: Expr) = Expr.sum (Diff.grad inH0 h * Expr.constant v)
            let analytic = values (Diff.grad gradDotV (Expr.constant point.[0]))
            let numeric = (numericGradient (fun args -> gradDotV args.Head) [ point.[0] ]).Head
            expectClose 1e-6 analytic numeric "grad of grad"
            let hessian = values (Diff.hessian inH0 (Expr.constant point.[0]))
            let rows =
                Array.init 3 (fun i ->
                    let e = Tensor.FromArray(Array.init 3 (fun k -> if k = i then 1.0 else 0.0), [| 3 |])
                    (numericGradient (fun args -> Expr.sum (Diff.grad inH0 args.Head * Expr.constant e)) [ point.[0] ]).Head)
            expectClose 1e-6 hessian (Array.concat rows) "Hessian"
        }
        test "second order in the captured weight equals the unrolled loop's Hessian" {
            let point = constants (pointOf 9 4)
            let step (w: Expr) (c: Expr) (carries: Expr[]) (xs: Expr[]) =
                [| Expr.tanh (Expr.matmul w carries.[0] + xs.[0]) |], [| carries.[0] * c; Expr.sum carries.[0] |]
            let inW useScan (w: Expr) = loss useScan false step [ point.[0]; point.[1]; w; point.[3] ]
            expectClose 1e-12 (values (Diff.hessian (inW true) point.[2])) (values (Diff.hessian (inW false) point.[2])) "Hessian in W"
        }
        test "reverse scans and several carries differentiate like the unrolled loop" {
            let step (carries: Expr[]) (xs: Expr[]) =
                let a = carries.[0] * Expr.sin xs.[0] + Expr.matmul xs.[1] carries.[1]
                [| Expr.tanh a; carries.[1] * 0.9 + Expr.sum a |], [| a; Expr.cos carries.[1] |]
            let r = Random 4
            let point = [ sample r Normal [| 2 |]; sample r Normal [| 2 |]; sample r Normal [| 5; 2 |]; sample r Normal [| 5; 2; 2 |] ]
            let f useScan (args: Expr list) =
                let init, xs = [| args.[0]; args.[1] |], [| args.[2]; args.[3] |]
                let carries, ys = if useScan then Scan.scanReverse step init xs else unrolled true 5 step init xs
                Expr.sum (carries.[0] * carries.[1]) + Expr.sum (ys.[0] * ys.[0]) + Expr.sum ys.[1]
            let at = constants point
            List.iteri2 (fun i a e -> expectClose 1e-12 (values a) (values e) (sprintf "gradient %d" i)) (Diff.gradN (f true) at) (Diff.gradN (f false) at)
        }
        test "a step that calls grad (a descent loop) differentiates like the unrolled loop" {
            let target = Expr.constant (sample (Random 5) Normal [| 3 |])
            let inner (p: Expr) = Expr.sum (Expr.square (Expr.sin p - target))
            let descend (rate: Expr) (p: Expr) = p - rate * Diff.grad inner p
            let outer useScan (rate: Expr) =
                let p0 = Expr.constant (sample (Random 6) Normal [| 3 |])
                let final =
                    if useScan then Scan.repeat 6 (descend rate) p0
                    else (fst (unrolled false 6 (fun c _ -> [| descend rate c.[0] |], [||]) [| p0 |] [||])).[0]
                inner final
            let rate = Expr.constant (Tensor.Scalar(0.1, DType.Float64))
            expectClose 1e-12 (values (outer true rate)) (values (outer false rate)) "value"
            expectClose 1e-12 (values (Diff.grad (outer true) rate)) (values (Diff.grad (outer false) rate)) "gradient in the rate"
            expectClose 1e-10 (values (Diff.hessian (outer true) rate)) (values (Diff.hessian (outer false) rate)) "second derivative in the rate"
        }
        test "nested scans differentiate like the unrolled loops" {
            let inner (h: Expr) (xs: Expr) = fst (Scan.scan1 (fun c x -> Expr.tanh (c * h + x), c) h xs)
            let innerUnrolled (h: Expr) (xs: Expr) =
                (fst (unrolled false xs.Dims.[0] (fun c x -> [| Expr.tanh (c.[0] * h + x.[0]) |], [| c.[0] |]) [| h |] [| xs |])).[0]
            let f useScan (args: Expr list) =
                let body = if useScan then inner else innerUnrolled
                let step (c: Expr[]) (x: Expr[]) = [| body c.[0] x.[0] |], [| Expr.sum c.[0] |]
                let carries, ys = if useScan then Scan.scan step [| args.[0] |] [| args.[1] |] else unrolled false 3 step [| args.[0] |] [| args.[1] |]
                Expr.sum carries.[0] + Expr.sum (ys.[0] * ys.[0])
            let r = Random 6
            let at = constants [ sample r Normal [| 2 |]; sample r Normal [| 3; 4; 2 |] ]
            List.iteri2 (fun i a e -> expectClose 1e-12 (values a) (values e) (sprintf "gradient %d" i)) (Diff.gradN (f true) at) (Diff.gradN (f false) at)
        }
        testPropertyWithConfig config "forward mode by transposition leaves no trace of its cotangent variable" <| fun (seed: int) ->
            let step = randomStep seed
            let point = constants (pointOf seed 4)
            let vars = point |> List.mapi (fun i p -> Ir.freshVar (sprintf "primal%d" i) p.Dims p.DType) |> Array.ofList
            let tangentVars = point |> List.mapi (fun i p -> Ir.freshVar (sprintf "tangent%d" i) p.Dims p.DType) |> Array.ofList
            for remat in [ false; true ] do
                let output = loss true remat step (List.ofArray vars)
                let tangent, u = Jvp.transpose output vars tangentVars
                let survives = Graph.topologicalOrder [ tangent ] |> Array.exists (fun e -> e.Id = u.Id)
                Expect.isFalse survives (sprintf "remat %b: the cotangent variable survives" remat)
        test "node counts of the loss, its gradient and its second derivative do not depend on T" {
            let counts (length: int) =
                let step = randomStep 11
                let args = [ Expr.zeros DType.Float64 [| 3 |]; Expr.zeros DType.Float64 [| length; 3 |]; Expr.zeros DType.Float64 [| 3; 3 |]; Expr.zeros DType.Float64 [| 3 |] ]
                let f = loss true false step
                let inW (w: Expr) = f [ args.[0]; args.[1]; w; args.[3] ]
                let gradient = Diff.grad inW args.[2]
                let second = Diff.hvp inW args.[2] (Expr.ones DType.Float64 [| 3; 3 |])
                Graph.nodeCount (f args), Graph.nodeCount gradient, Graph.nodeCount second
            Expect.equal (counts 10) (counts 100000) "node counts at T = 10 and T = 100,000"
        }
    ]
