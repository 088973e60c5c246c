/// torch's connectionist temporal classification loss (F.ctc_loss) as a composite: the forward (alpha) recursion of
/// Graves et al. over the targets with blanks between and around them, one Scan over time, in log space. Its
/// derivatives are those of that recursion, at every order. It lives after Scan in the compile order because it
/// builds one; it adds no primitive.
namespace FunctionalDiff.Core

open System

/// F.ctc_loss over Expr.
[<RequireQualifiedAccess>]
module Ctc =

    let private fmt (e: Expr) = Shape.format e.Dims

    /// The per-sequence losses of torch.nn.functional.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank,
    /// reduction='none', zero_infinity): log_probs [T, N, C] (log-probabilities over C classes, class `blank` the
    /// blank), targets [N, S] (sequence n's labels in its first target_lengths[n] entries, whole numbers in log_probs'
    /// dtype, none of them the blank) or the labels of every sequence one after another, [Σ target_lengths]. Entry n is
    /// −log of the probability, summed over every alignment of its first input_lengths[n] steps that collapses (merging
    /// repeats, then dropping blanks) to its target; +∞ where none does, or 0 with zeroInfinity (and no gradient).
    let lossElements (blank: int) (zeroInfinity: bool) (logProbs: Expr) (targets: Expr) (inputLengths: int[]) (targetLengths: int[]) : Expr =
        let op = "CtcLoss"
        if isNull (box logProbs) then nullArg "logProbs"
        if isNull (box targets) then nullArg "targets"
        if isNull inputLengths then nullArg "inputLengths"
        if isNull targetLengths then nullArg "targetLengths"
        if logProbs.Rank <> 3 then
            Shape.fail op (sprintf "log_probs %s must be [T, N, C] (time, batch, classes)" (fmt logProbs))
        let time, n, classes = logProbs.Dims.[0], logProbs.Dims.[1], logProbs.Dims.[2]
        let dtype = logProbs.DType
        let constant (values: float[]) (shape: int[]) = Expr.constant (Tensor.FromArray(values, shape)) |> Expr.cast dtype
        if inputLengths.Length <> n || targetLengths.Length <> n then
            Shape.fail op
                (sprintf "inputLengths (%d) and targetLengths (%d) need one entry per sequence of log_probs %s (N = %d)"
                     inputLengths.Length targetLengths.Length (fmt logProbs) n)
        if blank < 0 || blank >= classes then
            Shape.fail op (sprintf "blank = %d must be one of the %d classes of log_probs %s" blank classes (fmt logProbs))
        inputLengths |> Array.iteri (fun b t ->
            if t < 0 || t > time then Shape.fail op (sprintf "inputLengths[%d] = %d must be from 0 to log_probs' %d steps" b t time))
        targetLengths |> Array.iteri (fun b s -> if s < 0 then Shape.fail op (sprintf "targetLengths[%d] = %d must be at least 0" b s))
        // padded targets [N, S]: given as such, or gathered from the concatenated form (padding reads the blank)
        let padded =
            match targets.Rank with
            | 2 ->
                if targets.Dims.[0] <> n then
                    Shape.fail op (sprintf "targets %s must be [N, S] with N = %d from log_probs %s" (fmt targets) n (fmt logProbs))
                targetLengths |> Array.iteri (fun b s ->
                    if s > targets.Dims.[1] then
                        Shape.fail op (sprintf "targetLengths[%d] = %d is longer than the %d columns of targets %s" b s targets.Dims.[1] (fmt targets)))
                Expr.cast dtype targets
            | 1 ->
                let total = Array.sum targetLengths
                if targets.Dims.[0] <> total then
                    Shape.fail op (sprintf "the concatenated targets %s must hold the %d labels targetLengths add up to" (fmt targets) total)
                let width = max 1 (Array.max targetLengths)
                let offsets = Array.scan (+) 0 targetLengths
                let positions = Array.init (n * width) (fun k -> let b, j = k / width, k % width in if j < targetLengths.[b] then offsets.[b] + j else -1)
                let index = constant (positions |> Array.map (fun p -> float (max p 0))) [| n * width |]
                let inside = constant (positions |> Array.map (fun p -> if p >= 0 then 1.0 else 0.0)) [| n * width |]
                let read = if total = 0 then Expr.zeros dtype [| n * width |] else Expr.gather 0 index (Expr.cast dtype targets)
                Expr.where inside read (Expr.broadcastTo [| n * width |] (Expr.scalar dtype (float blank))) |> Expr.reshape [| n; width |]
            | _ -> Shape.fail op (sprintf "targets %s must be [N, S] (padded) or the labels one after another [Σ targetLengths]" (fmt targets))
        match Ir.leafValue padded with
        | ValueSome t ->
            let s = padded.Dims.[1]
            t.ToDoubleArray() |> Array.iteri (fun k v ->
                let b, j = k / s, k % s
                if j < targetLengths.[b] && (v <> Math.Floor v || v < 0.0 || v >= float classes || v = float blank) then
                    Shape.fail op (sprintf "targets[%d, %d] = %g must be a class from 0 to %d other than the blank %d" b j v (classes - 1) blank))
        | ValueNone -> ()
        let labels = padded.Dims.[1]
        let width = 2 * labels + 1
        let minus = Expr.scalar dtype -infinity
        // the extended target: blank, label 1, blank, label 2, ..., blank [N, 2S + 1]
        let blanks = Expr.broadcastTo [| n; labels; 1 |] (Expr.scalar dtype (float blank))
        let extended =
            Expr.concat 1 [ Expr.reshape [| n; 2 * labels |] (Expr.concat 2 [ blanks; Expr.reshape [| n; labels; 1 |] padded ])
                            Expr.broadcastTo [| n; 1 |] (Expr.scalar dtype (float blank)) ]
        let extended = Expr.stopGradient extended
        // a state may also be reached from two back when it is a label other than the one two back (no blank between
        // two equal labels can be skipped)
        let skip =
            if width < 3 then Expr.zeros dtype [| n; width |]
            else
                let earlier = Expr.concat 1 [ Expr.broadcastTo [| n; 2 |] (Expr.scalar dtype (float blank)); Expr.sliceAxis 1 0 (width - 2) extended ]
                Expr.mul (Expr.ne extended (Expr.scalar dtype (float blank))) (Expr.ne extended earlier)
        // every step's log-probability of each state's class [T, N, 2S + 1]
        let emissions = Expr.gather 2 (Expr.broadcastTo [| time; n; width |] (Expr.reshape [| 1; n; width |] extended)) logProbs
        let active = constant (Array.init (time * n) (fun k -> let t, b = k / n, k % n in if t < inputLengths.[b] then 1.0 else 0.0)) [| time; n; 1 |]
        let shifted (k: int) (alpha: Expr) =
            if k >= width then Expr.broadcastTo [| n; width |] minus
            else Expr.concat 1 [ Expr.broadcastTo [| n; k |] minus; Expr.sliceAxis 1 0 (width - k) alpha ]
        let startMask = constant (Array.init (n * width) (fun k -> if k % width < 2 && inputLengths.[k / width] > 0 then 1.0 else 0.0)) [| n; width |]
        let first = Expr.reshape [| n; width |] (Expr.sliceAxis 0 0 1 emissions)
        let initial = Expr.where startMask first (Expr.broadcastTo [| n; width |] minus)
        let final =
            if time <= 1 then initial
            else
                let step (carries: Expr[]) (rows: Expr[]) =
                    let alpha = carries.[0]
                    let fromSkip = Expr.where skip (shifted 2 alpha) (Expr.broadcastTo [| n; width |] minus)
                    // torch's logaddexp, which keeps −∞ + −∞ at −∞ with finite slopes: a state no alignment reaches yet
                    let next = Elementary.logAddExp (Elementary.logAddExp alpha (shifted 1 alpha)) fromSkip + rows.[0]
                    let kept = Expr.where rows.[1] next alpha
                    [| kept |], [||]
                let rest (x: Expr) = Expr.sliceAxis 0 1 time x
                let carries, _ = Checkpoint.scan op ScanOptions.Default step [| initial |] [| rest emissions; rest active |]
                carries.[0]
        // the end: the last blank or the last label
        let at (positions: int[]) =
            let index = constant (positions |> Array.map (fun p -> float (max p 0))) [| n; 1 |]
            let read = Expr.gather 1 index final |> Expr.reshape [| n |]
            let valid = constant (positions |> Array.map (fun p -> if p >= 0 then 1.0 else 0.0)) [| n |]
            Expr.where valid read (Expr.broadcastTo [| n |] minus)
        let loss = -(Elementary.logAddExp (at (targetLengths |> Array.map (fun s -> 2 * s))) (at (targetLengths |> Array.map (fun s -> 2 * s - 1))))
        if zeroInfinity then Expr.where (Expr.eq loss (Expr.scalar dtype infinity)) (Expr.zerosLike loss) loss else loss
