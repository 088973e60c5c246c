/// Compiling a plan scales with the graph: an unrolled descent loop with a gradient inside (issue
/// 18's bilevel workload, small) compiles with work and memory proportional to its length, and
/// its fused groups share a set of programs whose size does not depend on the length (where sums
/// split the loop into many groups) or hold a bounded number of registers (where it is one group). Counted in
/// bytes and objects, never timed; the values are held to the interpreter's bits.
module FunctionalDiff.Core.Tests.PlanScaleTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.PlanCompileCostTests
open FunctionalDiff.Core.Tests.PlanTests

let private f64 = DType.Float64

/// x ← x − 0.05 ∇ₓ f(x, w) for `steps` steps with f(x, w) = Σ tanh(x·w)² + 0.1 Σ (x − w)², x in R^size,
/// then the gradient of Σ x² in w: a graph of many steps, all of them elementwise.
/// `squaredSum` makes the second term 0.1 (Σ (x − w)²)², whose gradient reads a sum at every step,
/// so the loop's elementwise nodes fall into many groups between the sums.
let private descentOf (size: int) (squaredSum: bool) (steps: int) =
    let w = Expr.variable "w" [| size |] f64
    let objective (w: Expr) =
        let f (x: Expr) =
            let distance = Expr.sum (Expr.square (x - w))
            Expr.sum (Expr.square (Expr.tanh (x * w))) + 0.1 * (if squaredSum then Expr.square distance else distance)
        let mutable x = Expr.constant (Tensor.FromArray(Array.init size (fun i -> 0.3 + 0.1 * float (i % 8)), [| size |]))
        for _ in 1 .. steps do
            x <- x - 0.05 * Diff.grad f x
        Expr.sum (Expr.square x)
    w, Diff.grad objective w

let private descent (squaredSum: bool) (steps: int) = descentOf 8 squaredSum steps

let private bilevel (steps: int) = descent false steps

/// The distinct programs (by identity) of a plan's fused groups, and the number of groups.
let private programs (plan: Plan) =
    let groups = fusedGroups plan
    let distinct = Collections.Generic.HashSet<obj>(HashIdentity.Reference)
    for g in groups do distinct.Add(box g.Program) |> ignore
    distinct.Count, groups.Length

/// The most registers a group of the plan has, and its instructions in all.
let private registersAndInstructions (plan: Plan) =
    let groups = fusedGroups plan
    (groups |> Array.map (fun g -> g.Program.Registers) |> Array.max),
    (groups |> Array.sumBy (fun g -> g.Program.Instructions.Length))

[<Tests>]
let tests =
    testList "PlanScale" [
        testCase "compiling the bilevel loop twice as long allocates at most 2.1 times the bytes" <| fun () ->
            let w1, g1 = bilevel 200
            let w2, g2 = bilevel 400
            let short, long = compileBytes w1 g1, compileBytes w2 g2
            Expect.isLessThanOrEqual (float long) (2.1 * float short) (sprintf "%d bytes at 200 steps, %d at 400" short long)

        for squaredSum in [ false; true ] do
          testCase (sprintf "the fused groups of an 8-element loop%s share a number of programs that does not grow with the loop" (if squaredSum then " with a sum per step" else "")) <| fun () ->
            let w1, g1 = descent squaredSum 100
            let w2, g2 = descent squaredSum 400
            let programs1, groups1 = programs (Planner.compile [| w1 |] [| g1 |] false)
            let programs2, groups2 = programs (Planner.compile [| w2 |] [| g2 |] false)
            Expect.isGreaterThan groups2 (3 * groups1) "four times the loop, about four times the groups"
            // the middle of the loop repeats one set of programs; its two ends may differ a little
            Expect.isLessThanOrEqual programs2 (programs1 + 2) (sprintf "%d programs at 100 steps, %d at 400" programs1 programs2)
            Expect.isLessThan programs1 (groups1 / 10) "far fewer programs than groups"

        testCase "the bilevel loop over a block of values, elementwise throughout, keeps its registers bounded and its instructions linear as the loop grows" <| fun () ->
            // every node of this loop is elementwise over 4,096 values, so its values read several
            // times share groups; the registers a group holds at once stay bounded (the rest are
            // stored members), and its instructions grow with the loop, no faster
            let w1, g1 = descentOf FusedKernel.blockSize false 25
            let w2, g2 = descentOf FusedKernel.blockSize false 100
            let registers1, instructions1 = registersAndInstructions (Planner.compile [| w1 |] [| g1 |] false)
            let registers2, instructions2 = registersAndInstructions (Planner.compile [| w2 |] [| g2 |] false)
            Expect.isLessThanOrEqual registers2 (registers1 + 2) (sprintf "%d registers at 100 steps, %d at 400" registers1 registers2)
            Expect.isLessThanOrEqual registers2 32 "registers a thread keeps per group"
            Expect.isGreaterThan instructions2 (3 * instructions1) "four times the loop, about four times the instructions"
            Expect.isLessThanOrEqual (float instructions2) (4.2 * float instructions1) "instructions linear in the loop"

        testCase "a loop with a sum per step gives the interpreter's bits, run after run" <| fun () ->
            let w, g = descent true 60
            let plan = Planner.compile [| w |] [| g |] false
            let random = Random 19
            for run in 1 .. 3 do
                let value = randomTensor random f64 [| 8 |]
                let expected = (interpreted [| w |] [| value |] [| g |]).[0]
                expectSameBits (plan.Run([| value |], null).[0]) expected (sprintf "run %d" run)

        testCase "the bilevel loop's plan gives the interpreter's bits, run after run" <| fun () ->
            let w, g = bilevel 60
            let plan = Planner.compile [| w |] [| g |] false
            let random = Random 18
            for run in 1 .. 3 do
                let value = randomTensor random f64 [| 8 |]
                let expected = (interpreted [| w |] [| value |] [| g |]).[0]
                expectSameBits (plan.Run([| value |], null).[0]) expected (sprintf "run %d" run)
    ]
