/// torch.optim.lr_scheduler's schedules as pure functions. Each gives the learning rate of epoch e ≥ 1 from the rate
/// of epoch e − 1 and the base rate by torch's own recurrence (its chainable get_lr, not the closed form), so the rates
/// round as torch's do step after step; epoch 0 is the rate the scheduler's constructor sets. ReduceLROnPlateau, which
/// reads a metric instead of the epoch, is a state and a step over it.
namespace FunctionalDiff.Core

open System

/// A learning-rate schedule: `Rate baseRate epoch previous` is the rate of `epoch` (0 for the constructor's), given the
/// rate of the epoch before (the base rate at epoch 0), as torch's get_lr computes it.
type Schedule =
    { /// The scheduler's name, used in error messages.
      Name: string
      Rate: float -> int -> float -> float }

/// What ReduceLROnPlateau carries from one metric to the next.
type PlateauState =
    { Best: float
      BadEpochs: int
      Cooldown: int
      Epoch: int }

/// The schedules of torch.optim.lr_scheduler with its defaults and its recurrences.
[<RequireQualifiedAccess>]
module Schedules =

    /// An argument error naming the scheduler in the message and the parameter as the argument.
    let private fail (scheduler: string) (parameter: string) (message: string) =
        invalidArg parameter (sprintf "%s: %s" scheduler message)

    /// StepLR: the rate times gamma every stepSize epochs.
    let stepLR (stepSize: int) (gamma: float) : Schedule =
        if stepSize < 1 then fail "StepLR" "stepSize" (sprintf "stepSize %d must be at least 1" stepSize)
        { Name = "StepLR"
          Rate = fun _ epoch previous -> if epoch = 0 || epoch % stepSize <> 0 then previous else previous * gamma }

    /// MultiStepLR: the rate times gamma at each milestone (times gamma^k at a milestone listed k times).
    let multiStepLR (milestones: int[]) (gamma: float) : Schedule =
        if isNull milestones then nullArg "milestones"
        { Name = "MultiStepLR"
          Rate = fun _ epoch previous ->
            let count = milestones |> Array.filter ((=) epoch) |> Array.length
            if count = 0 then previous else previous * Math.Pow(gamma, float count) }

    /// ExponentialLR: the rate times gamma every epoch.
    let exponentialLR (gamma: float) : Schedule =
        { Name = "ExponentialLR"; Rate = fun _ epoch previous -> if epoch = 0 then previous else previous * gamma }

    /// ConstantLR: the rate times factor until epoch totalIters, where it is divided by factor again.
    let constantLR (factor: float) (totalIters: int) : Schedule =
        if not (factor >= 0.0 && factor <= 1.0) then fail "ConstantLR" "factor" (sprintf "factor %g must be between 0 and 1" factor)
        { Name = "ConstantLR"
          Rate = fun _ epoch previous ->
            if epoch = 0 then previous * factor elif epoch <> totalIters then previous else previous * (1.0 / factor) }

    /// LinearLR: the factor goes linearly from startFactor to endFactor over totalIters epochs, by torch's ratio of
    /// consecutive factors.
    let linearLR (startFactor: float) (endFactor: float) (totalIters: int) : Schedule =
        if not (startFactor > 0.0 && startFactor <= 1.0) then
            fail "LinearLR" "startFactor" (sprintf "startFactor %g must be above 0 and at most 1" startFactor)
        if not (endFactor >= 0.0 && endFactor <= 1.0) then fail "LinearLR" "endFactor" (sprintf "endFactor %g must be between 0 and 1" endFactor)
        { Name = "LinearLR"
          Rate = fun _ epoch previous ->
            if epoch = 0 then previous * startFactor
            elif epoch > totalIters then previous
            else
                previous * (1.0 + (endFactor - startFactor)
                                  / (float totalIters * startFactor + float (epoch - 1) * (endFactor - startFactor))) }

    /// PolynomialLR: the rate decays as (1 − epoch/totalIters)^power until totalIters, by torch's ratio of consecutive factors.
    let polynomialLR (totalIters: int) (power: float) : Schedule =
        if totalIters < 1 then fail "PolynomialLR" "totalIters" (sprintf "totalIters %d must be at least 1" totalIters)
        { Name = "PolynomialLR"
          Rate = fun _ epoch previous ->
            if epoch = 0 || epoch > totalIters then previous
            else
                let ratio = (1.0 - float epoch / float totalIters) / (1.0 - float (epoch - 1) / float totalIters)
                previous * Math.Pow(ratio, power) }

    /// CosineAnnealingLR: half a cosine from the base rate down to etaMin over tMax epochs (and back up after, as torch's
    /// recurrence continues), by torch's recurrence.
    let cosineAnnealingLR (tMax: float) (etaMin: float) : Schedule =
        if not (tMax > 0.0) then fail "CosineAnnealingLR" "tMax" (sprintf "tMax %g must be positive" tMax)
        { Name = "CosineAnnealingLR"
          Rate = fun baseRate epoch previous ->
            let e = float epoch
            if epoch = 0 then previous
            // torch's test for the epoch just after a trough, written with Python's %; a multiple of 2·tMax is one in either sign
            elif (e - 1.0 - tMax) % (2.0 * tMax) = 0.0 then
                previous + (baseRate - etaMin) * (1.0 - Math.Cos(Math.PI / tMax)) / 2.0
            else
                (1.0 + Math.Cos(Math.PI * e / tMax)) / (1.0 + Math.Cos(Math.PI * (e - 1.0) / tMax)) * (previous - etaMin) + etaMin }

    /// CosineAnnealingWarmRestarts (SGDR): half a cosine from the base rate to etaMin over t0 epochs, then again from the
    /// base rate over t0·tMult, t0·tMult², ... epochs. torch steps the epoch within the cycle (T_cur) and the cycle's
    /// length (T_i) by one epoch at a time; replaying those steps for the epoch gives the same integers, and the rate is
    /// torch's closed form of them.
    let cosineAnnealingWarmRestarts (t0: int) (tMult: int) (etaMin: float) : Schedule =
        if t0 < 1 then fail "CosineAnnealingWarmRestarts" "t0" (sprintf "t0 %d must be at least 1" t0)
        if tMult < 1 then fail "CosineAnnealingWarmRestarts" "tMult" (sprintf "tMult %d must be at least 1" tMult)
        { Name = "CosineAnnealingWarmRestarts"
          Rate = fun baseRate epoch _ ->
            let mutable current, length = epoch, t0
            while current >= length do
                current <- current - length
                length <- length * tMult
            etaMin + (baseRate - etaMin) * (1.0 + Math.Cos(Math.PI * float current / float length)) / 2.0 }

    /// OneCycleLR's settings: the steps in all, the share of them spent rising, cosine (else linear) annealing, the
    /// first rate as maxRate / divFactor and the last as that / finalDivFactor, and torch's three-phase variant.
    type OneCycle =
        { TotalSteps: int
          PctStart: float
          Cosine: bool
          DivFactor: float
          FinalDivFactor: float
          ThreePhase: bool }

    /// OneCycleLR's rate and momentum at a step (torch's get_lr): each phase anneals from its start to its end value over
    /// its steps; the momentum moves against the rate, between maxMomentum and baseMomentum.
    let oneCycleAt (settings: OneCycle) (maxRate: float) (baseMomentum: float) (maxMomentum: float) (step: int) : float * float =
        if step > settings.TotalSteps then
            invalidArg "step" (sprintf "OneCycleLR: tried to step %d times; the schedule has %d steps" step settings.TotalSteps)
        let initial = maxRate / settings.DivFactor
        let minimum = initial / settings.FinalDivFactor
        let total = float settings.TotalSteps
        // (end step, start rate, end rate, start momentum, end momentum) of each phase, as torch lists them
        let phases =
            if settings.ThreePhase then
                [ settings.PctStart * total - 1.0, initial, maxRate, maxMomentum, baseMomentum
                  2.0 * settings.PctStart * total - 2.0, maxRate, initial, baseMomentum, maxMomentum
                  total - 1.0, initial, minimum, maxMomentum, maxMomentum ]
            else
                [ settings.PctStart * total - 1.0, initial, maxRate, maxMomentum, baseMomentum
                  total - 1.0, maxRate, minimum, baseMomentum, maxMomentum ]
        let anneal (start: float) (finish: float) (pct: float) =
            if settings.Cosine then finish + (start - finish) / 2.0 * (Math.Cos(Math.PI * pct) + 1.0)
            else (finish - start) * pct + start
        let rec walk (startStep: float) (remaining: (float * float * float * float * float) list) =
            match remaining with
            | [] -> invalidOp "OneCycleLR: no phase"
            | (endStep, r0, r1, m0, m1) :: rest ->
                if float step <= endStep || List.isEmpty rest then
                    let pct = (float step - startStep) / (endStep - startStep)
                    anneal r0 r1 pct, anneal m0 m1 pct
                else walk endStep rest
        walk 0.0 phases

    /// OneCycleLR's rates as a schedule (the momentum is oneCycleAt's second value).
    let oneCycleLR (settings: OneCycle) (maxRate: float) : Schedule =
        if settings.TotalSteps < 1 then fail "OneCycleLR" "totalSteps" (sprintf "totalSteps %d must be at least 1" settings.TotalSteps)
        if not (settings.PctStart >= 0.0 && settings.PctStart <= 1.0) then
            fail "OneCycleLR" "pctStart" (sprintf "pctStart %g must be in [0, 1]" settings.PctStart)
        { Name = "OneCycleLR"; Rate = fun _ epoch _ -> fst (oneCycleAt settings maxRate 0.0 0.0 epoch) }

    /// How CyclicLR scales each cycle's height: torch's 'triangular' (1), 'triangular2' (halved every cycle) and
    /// 'exp_range' (gamma^step, by step rather than by cycle).
    [<RequireQualifiedAccess>]
    type CyclicMode =
        | Triangular
        | Triangular2
        | ExpRange

    /// CyclicLR's rate and momentum at a step (torch's get_lr): a triangle between baseRate and maxRate, stepSizeUp
    /// steps up and stepSizeDown down, its height scaled by the mode; the momentum moves from maxMomentum down by the same
    /// fraction of its range.
    let cyclicAt (mode: CyclicMode) (gamma: float) (stepSizeUp: int) (stepSizeDown: int) (baseRate: float) (maxRate: float)
                 (baseMomentum: float) (maxMomentum: float) (step: int) : float * float =
        let total = float (stepSizeUp + stepSizeDown)
        let ratio = float stepSizeUp / total
        let cycle = Math.Floor(1.0 + float step / total)
        let x = 1.0 + float step / total - cycle
        let fraction = if x <= ratio then x / ratio else (x - 1.0) / (ratio - 1.0)
        let scale =
            match mode with
            | CyclicMode.Triangular -> 1.0
            | CyclicMode.Triangular2 -> 1.0 / Math.Pow(2.0, cycle - 1.0)
            | CyclicMode.ExpRange -> Math.Pow(gamma, float step)
        baseRate + (maxRate - baseRate) * fraction * scale, maxMomentum - (maxMomentum - baseMomentum) * fraction * scale

    /// CyclicLR's rates as a schedule (the momentum is cyclicAt's second value).
    let cyclicLR (mode: CyclicMode) (gamma: float) (stepSizeUp: int) (stepSizeDown: int) (baseRate: float) (maxRate: float) : Schedule =
        if stepSizeUp < 1 then fail "CyclicLR" "stepSizeUp" (sprintf "stepSizeUp %d must be at least 1" stepSizeUp)
        if stepSizeDown < 1 then fail "CyclicLR" "stepSizeDown" (sprintf "stepSizeDown %d must be at least 1" stepSizeDown)
        { Name = "CyclicLR"; Rate = fun _ epoch _ -> fst (cyclicAt mode gamma stepSizeUp stepSizeDown baseRate maxRate 0.0 0.0 epoch) }

    /// LambdaLR: the base rate times factor(epoch).
    let lambdaLR (factor: Func<int, float>) : Schedule =
        if isNull factor then nullArg "factor"
        { Name = "LambdaLR"; Rate = fun baseRate epoch _ -> baseRate * factor.Invoke epoch }

    /// MultiplicativeLR: the rate times factor(epoch) every epoch after the first.
    let multiplicativeLR (factor: Func<int, float>) : Schedule =
        if isNull factor then nullArg "factor"
        { Name = "MultiplicativeLR"; Rate = fun _ epoch previous -> if epoch > 0 then previous * factor.Invoke epoch else previous }

    /// ChainedScheduler: every schedule's recurrence applied in turn to the rate the one before it gave, so their factors
    /// multiply; epoch 0 runs them from the base rate, as making them one after another on an optimizer does.
    let chained (schedules: Schedule[]) : Schedule =
        if isNull schedules then nullArg "schedules"
        if schedules.Length = 0 then fail "ChainedScheduler" "schedules" "no schedules"
        let schedules = Array.copy schedules
        { Name = "ChainedScheduler"
          Rate = fun baseRate epoch previous ->
              let start = if epoch = 0 then baseRate else previous
              schedules |> Array.fold (fun rate s -> s.Rate baseRate epoch rate) start }

    /// The schedule that runs after `epoch` in a SequentialLR with these milestones, and the epoch it started at.
    let sequentialPhase (milestones: int[]) (epoch: int) =
        let mutable index = 0
        while index < milestones.Length && milestones.[index] <= epoch do
            index <- index + 1
        index, (if index = 0 then 0 else milestones.[index - 1])

    /// SequentialLR: schedule i runs from milestone i − 1 (epoch 0 for the first), each from its own epoch 0, where it
    /// starts from its closed form at the base rate (torch's step(0)); MultiplicativeLR, which torch gives no closed form,
    /// starts from the rate it finds. Milestones: one fewer than the schedules, increasing from 1.
    let sequential (schedules: Schedule[]) (milestones: int[]) : Schedule =
        if isNull schedules then nullArg "schedules"
        if isNull milestones then nullArg "milestones"
        if schedules.Length = 0 then fail "SequentialLR" "schedules" "no schedules"
        if milestones.Length <> schedules.Length - 1 then
            fail "SequentialLR" "milestones" (sprintf "%d schedulers need %d milestones, not %d" schedules.Length (schedules.Length - 1) milestones.Length)
        milestones |> Array.iteri (fun i m ->
            if m < 1 || (i > 0 && m <= milestones.[i - 1]) then
                fail "SequentialLR" "milestones" (sprintf "the milestones [%s] must increase from 1" (String.Join(", ", milestones))))
        let schedules, milestones = Array.copy schedules, Array.copy milestones
        { Name = "SequentialLR"
          Rate = fun baseRate epoch previous ->
              let index, start = sequentialPhase milestones epoch
              let schedule = schedules.[index]
              if epoch = start then
                  // a (re)start: torch sets the base rate back before the first, and steps a later one to its epoch 0
                  let closedForm = schedule.Name <> "MultiplicativeLR"
                  schedule.Rate baseRate 0 (if epoch = 0 || closedForm then baseRate else previous)
              else schedule.Rate baseRate (epoch - start) previous }

    /// The first `count` rates of a schedule from a base rate (epochs 0 to count − 1).
    let rates (schedule: Schedule) (baseRate: float) (count: int) : float[] =
        let result = Array.zeroCreate (max 0 count)
        let mutable previous = baseRate
        for epoch in 0 .. count - 1 do
            previous <- schedule.Rate baseRate epoch previous
            result.[epoch] <- previous
        result

    /// ReduceLROnPlateau's settings: torch's mode ("min" or "max" as minimise), factor, patience, threshold and its mode
    /// (relative or absolute), cooldown, the smallest rate and eps (a change smaller than eps is not made).
    type Plateau =
        { Minimise: bool
          Factor: float
          Patience: int
          Threshold: float
          RelativeThreshold: bool
          Cooldown: int
          MinRate: float
          Eps: float }

    /// torch's defaults: minimise, factor 0.1, patience 10, threshold 1e-4 relative, no cooldown, no floor, eps 1e-8.
    let plateauDefaults =
        { Minimise = true; Factor = 0.1; Patience = 10; Threshold = 1e-4; RelativeThreshold = true; Cooldown = 0; MinRate = 0.0; Eps = 1e-8 }

    /// The state before the first metric.
    let plateauStart (settings: Plateau) : PlateauState =
        if not (settings.Factor < 1.0) then invalidArg "factor" (sprintf "ReduceLROnPlateau: factor %g must be below 1" settings.Factor)
        { Best = (if settings.Minimise then infinity else -infinity); BadEpochs = 0; Cooldown = 0; Epoch = 0 }

    /// One epoch's metric: the new state and the rate after it (the rate times factor, not below MinRate, once the
    /// metric has not improved for more than Patience epochs outside a cooldown), as torch's step(metrics).
    let plateauStep (settings: Plateau) (state: PlateauState) (rate: float) (metric: float) : PlateauState * float =
        let better =
            match settings.Minimise, settings.RelativeThreshold with
            | true, true -> metric < state.Best * (1.0 - settings.Threshold)
            | true, false -> metric < state.Best - settings.Threshold
            | false, true -> metric > state.Best * (settings.Threshold + 1.0)
            | false, false -> metric > state.Best + settings.Threshold
        let best, bad = if better then metric, 0 else state.Best, state.BadEpochs + 1
        let cooldown, bad = if state.Cooldown > 0 then state.Cooldown - 1, 0 else state.Cooldown, bad
        if bad > settings.Patience then
            let reduced = max (rate * settings.Factor) settings.MinRate
            let next = if rate - reduced > settings.Eps then reduced else rate
            { Best = best; BadEpochs = 0; Cooldown = settings.Cooldown; Epoch = state.Epoch + 1 }, next
        else { Best = best; BadEpochs = bad; Cooldown = cooldown; Epoch = state.Epoch + 1 }, rate
