/// torch.optim.LBFGS without a line search (torch's default, line_search_fn=None), as a pure
/// function over flat float64 vectors: one `step` runs up to maxIter quasi-Newton iterations from
/// the closure's value and gradient, with torch's two-loop recursion over the last historySize
/// curvature pairs, torch's first step length min(1, 1/‖g‖₁)·lr, and torch's stopping tests in
/// torch's order. The history, the last direction and step length, and the counters go into the
/// state, so the next step continues where this one stopped, as torch's optimizer state does.
namespace FunctionalDiff.Core

open System

/// torch.optim.LBFGS's settings (lr, max_iter, max_eval, tolerance_grad, tolerance_change, history_size).
type LbfgsSettings =
    { LearningRate: float
      MaxIterations: int
      MaxEvaluations: int
      ToleranceGrad: float
      ToleranceChange: float
      HistorySize: int }

/// What L-BFGS carries between steps: the curvature pairs (s, y) with 1/(yᵀs), oldest first, the
/// diagonal scale yᵀs/yᵀy of the initial inverse Hessian, the last direction and step length, the
/// gradient and loss at the last point the direction was computed from, and the counters.
type LbfgsState =
    { Steps: float[] list
      Differences: float[] list
      Rho: float list
      HessianDiagonal: float
      Direction: float[]
      StepLength: float
      PreviousGradient: float[]
      PreviousLoss: float
      Iterations: int
      Evaluations: int }

/// L-BFGS over flat vectors.
[<RequireQualifiedAccess>]
module Lbfgs =

    /// torch's defaults: lr 1, max_iter 20, max_eval max_iter·5/4, tolerance_grad 1e-7,
    /// tolerance_change 1e-9, history_size 100.
    let defaults =
        { LearningRate = 1.0; MaxIterations = 20; MaxEvaluations = 25; ToleranceGrad = 1e-7; ToleranceChange = 1e-9; HistorySize = 100 }

    /// The state before the first step.
    let init =
        { Steps = []; Differences = []; Rho = []; HessianDiagonal = 1.0; Direction = [||]; StepLength = 0.0
          PreviousGradient = [||]; PreviousLoss = nan; Iterations = 0; Evaluations = 0 }

    let private dot (a: float[]) (b: float[]) =
        let mutable s = 0.0
        for i in 0 .. a.Length - 1 do s <- s + a.[i] * b.[i]
        s

    let private maxAbs (a: float[]) = Array.fold (fun m v -> max m (abs v)) 0.0 a

    /// The direction −H·g by the two-loop recursion over the pairs (oldest first).
    let private direction (steps: float[][]) (differences: float[][]) (rho: float[]) (hessianDiagonal: float) (g: float[]) =
        let n = steps.Length
        let alpha = Array.zeroCreate n
        let q = Array.map (fun v -> -v) g
        for i in n - 1 .. -1 .. 0 do
            alpha.[i] <- dot steps.[i] q * rho.[i]
            let y = differences.[i]
            for k in 0 .. q.Length - 1 do q.[k] <- q.[k] - alpha.[i] * y.[k]
        let r = Array.map (fun v -> v * hessianDiagonal) q
        for i in 0 .. n - 1 do
            let beta = dot differences.[i] r * rho.[i]
            let s = steps.[i]
            for k in 0 .. r.Length - 1 do r.[k] <- r.[k] + (alpha.[i] - beta) * s.[k]
        r

    /// One torch.optim.LBFGS step from x: `closure` gives the loss and the gradient at a point.
    /// Returns the loss at x (torch's step returns the closure's first value), the new point and
    /// the new state. Nothing passed in is mutated.
    let step (settings: LbfgsSettings) (closure: float[] -> float * float[]) (x: float[]) (state: LbfgsState) =
        if settings.HistorySize < 1 || settings.MaxIterations < 1 || settings.MaxEvaluations < 1 then
            invalidArg "settings" (sprintf "Lbfgs: history size, iterations and evaluations must be at least 1 (got %d, %d, %d)"
                                       settings.HistorySize settings.MaxIterations settings.MaxEvaluations)
        let x = Array.copy x
        let evaluate (point: float[]) =
            let loss, gradient = closure point
            if gradient.Length <> point.Length then
                invalidArg "closure" (sprintf "Lbfgs: the closure gave %d gradient entries for %d parameters" gradient.Length point.Length)
            loss, Array.copy gradient
        let firstLoss, firstGradient = evaluate x
        let mutable loss = firstLoss
        let mutable g = firstGradient
        let mutable evaluations = 1
        let mutable optimal = maxAbs g <= settings.ToleranceGrad
        let steps = ResizeArray(state.Steps)
        let differences = ResizeArray(state.Differences)
        let rho = ResizeArray(state.Rho)
        let mutable hessianDiagonal = state.HessianDiagonal
        let mutable d = state.Direction
        let mutable t = state.StepLength
        let mutable previousGradient = state.PreviousGradient
        let mutable previousLoss = state.PreviousLoss
        let mutable iterations = state.Iterations
        let mutable taken = 0
        let mutable stop = optimal
        while not stop && taken < settings.MaxIterations do
            taken <- taken + 1
            iterations <- iterations + 1
            if iterations = 1 then
                d <- Array.map (fun v -> -v) g
                steps.Clear()
                differences.Clear()
                rho.Clear()
                hessianDiagonal <- 1.0
            else
                let y = Array.map2 (-) g previousGradient
                let s = Array.map (fun v -> v * t) d
                let ys = dot y s
                // a pair is kept only where the curvature is positive, so H stays positive definite
                if ys > 1e-10 then
                    if steps.Count = settings.HistorySize then
                        steps.RemoveAt 0
                        differences.RemoveAt 0
                        rho.RemoveAt 0
                    steps.Add s
                    differences.Add y
                    rho.Add(1.0 / ys)
                    hessianDiagonal <- ys / dot y y
                d <- direction (steps.ToArray()) (differences.ToArray()) (rho.ToArray()) hessianDiagonal g
            previousGradient <- Array.copy g
            previousLoss <- loss
            t <- if iterations = 1 then min 1.0 (1.0 / Array.sumBy abs g) * settings.LearningRate else settings.LearningRate
            if dot g d > -settings.ToleranceChange then stop <- true     // not a descent direction
            else
                for k in 0 .. x.Length - 1 do x.[k] <- x.[k] + t * d.[k]
                if taken <> settings.MaxIterations then
                    let l, gradient = evaluate x
                    loss <- l
                    g <- gradient
                    optimal <- maxAbs g <= settings.ToleranceGrad
                    evaluations <- evaluations + 1
                if taken = settings.MaxIterations || evaluations >= settings.MaxEvaluations || optimal
                   || maxAbs d * abs t <= settings.ToleranceChange || abs (loss - previousLoss) < settings.ToleranceChange then
                    stop <- true
        let next =
            { Steps = List.ofSeq steps; Differences = List.ofSeq differences; Rho = List.ofSeq rho
              HessianDiagonal = hessianDiagonal; Direction = d; StepLength = t
              PreviousGradient = previousGradient; PreviousLoss = previousLoss
              Iterations = iterations; Evaluations = state.Evaluations + evaluations }
        firstLoss, x, next
