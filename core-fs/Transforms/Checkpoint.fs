/// Checkpointing (rematerialisation): trading memory for recomputation. Both forms are built from
/// Scan nodes whose `remat` flag makes their VJP save nothing but the carries and recompute the
/// step inside the backward loop (Transforms/Scan.fs):
/// - a checkpointed function is a Scan of one step with no carry, its arguments as the xs: its
///   backward pass saves only the arguments and recomputes the function's forward;
/// - a checkpointed Scan of T steps is a remat Scan over ⌊T/k⌋ segments whose step is an ordinary
///   Scan of k steps (plus a tail of T mod k steps): the backward pass saves ⌈T/k⌉ carries, and
///   within one segment at a time the k steps' residuals.
namespace FunctionalDiff.Core

open System

/// Which carries a Scan's gradient keeps (Checkpoint.scanWith).
[<RequireQualifiedAccess>]
type ScanCheckpoint =
    /// Save every step's residuals (the default): the least recomputation, memory ∝ T.
    | NoCheckpoint
    /// Save the carry every k steps; the backward pass recomputes each segment of k steps from its
    /// saved carry: memory ∝ T/k + k, about T more step evaluations.
    | Every of k: int
    /// Every ⌈√T⌉ steps: memory ∝ √T.
    | Sqrt

/// The options of a Scan (Checkpoint.scanWith).
type ScanOptions =
    { /// Run the steps from the last row to the first (each y stays at its row).
      Reverse: bool
      /// Which carries the gradient saves.
      Checkpoint: ScanCheckpoint
      /// The number of steps; needed when there are no xs, otherwise checked against them.
      Length: int option }

    /// Forward, no checkpointing, the length taken from the xs.
    static member Default = { Reverse = false; Checkpoint = ScanCheckpoint.NoCheckpoint; Length = None }

/// Checkpointed functions and Scans.
[<RequireQualifiedAccess>]
module Checkpoint =

    /// The segment length k for a policy and T steps; 0 when the loop is not segmented.
    let internal segmentLength (caller: string) (policy: ScanCheckpoint) (length: int) : int =
        match policy with
        | ScanCheckpoint.NoCheckpoint -> 0
        | ScanCheckpoint.Every k ->
            if k < 1 then Shape.fail caller (sprintf "the checkpoint interval must be >= 1, got %d" k)
            k
        | ScanCheckpoint.Sqrt -> int (ceil (sqrt (float length)))

    /// f with its forward recomputed in the backward pass: a remat Scan of one step over the
    /// arguments (each with a leading axis of 1), no carry, f's results as the ys.
    let internal apply (caller: string) (f: Expr[] -> Expr[]) (arguments: Expr[]) : Expr[] =
        if isNull (box f) then nullArg "f"
        if isNull arguments then nullArg "arguments"
        arguments |> Array.iteri (fun i a -> if isNull (box a) then Shape.fail caller (sprintf "argument %d is null" i))
        let xs = arguments |> Array.map (fun a -> Expr.reshape (Array.append [| 1 |] a.Dims) a)
        let step (_: Expr[]) (rows: Expr[]) =
            let results = f rows
            if isNull results then Shape.fail caller "f returned null"
            [||], results
        let _, ys = Scan.trace caller false true (ValueSome 1) step [||] xs
        ys |> Array.map (fun y -> Expr.reshape y.Dims.[1..] y)

    /// A Scan whose gradient saves the carry only every k steps (k from the policy): a remat Scan
    /// over ⌊T/k⌋ segments, each an ordinary Scan of k steps over k rows of the xs, then an
    /// ordinary Scan over the T mod k rows left (the first rows when reversed, which run last).
    /// Values are those of the plain Scan: the same step on the same rows in the same order.
    let internal scan (caller: string) (options: ScanOptions) (step: Expr[] -> Expr[] -> Expr[] * Expr[]) (init: Expr[]) (xs: Expr[]) : Expr[] * Expr[] =
        if isNull (box step) then nullArg "step"
        if isNull init then nullArg "init"
        if isNull xs then nullArg "xs"
        let given = match options.Length with Some t -> ValueSome t | None -> ValueNone
        let plain () = Scan.trace caller options.Reverse false given step init xs
        // The length as the plain trace will check it; a malformed call goes to the plain trace,
        // whose errors name what is wrong.
        let length =
            match options.Length with
            | Some t -> t
            | None -> if xs.Length > 0 && not (isNull (box xs.[0])) && xs.[0].Rank > 0 then xs.[0].Dims.[0] else -1
        let consistent =
            length >= 0 && xs |> Array.forall (fun x -> not (isNull (box x)) && x.Rank > 0 && x.Dims.[0] = length)
        let k = segmentLength caller options.Checkpoint (max length 0)
        if not consistent || k = 0 || k >= length then plain ()
        else
            let segments, tail = length / k, length % k
            let reverse = options.Reverse
            // The segmented rows: the first segments·k rows, or the last ones when reversed.
            let first = if reverse then tail else 0
            let rows (x: Expr) (a: int) (b: int) = Expr.sliceAxis 0 a b x
            let segmented =
                xs |> Array.map (fun x ->
                    rows x first (first + segments * k) |> Expr.reshape (Array.append [| segments; k |] x.Dims.[1..]))
            let segment (carries: Expr[]) (block: Expr[]) = Scan.trace caller reverse false (ValueSome k) step carries block
            let carries, blocks = Scan.trace caller reverse true (ValueSome segments) segment init segmented
            let ys = blocks |> Array.map (fun y -> Expr.reshape (Array.append [| segments * k |] y.Dims.[2..]) y)
            if tail = 0 then carries, ys
            else
                let rest = if reverse then 0 else segments * k
                let tailXs = xs |> Array.map (fun x -> rows x rest (rest + tail))
                let carries, tailYs = Scan.trace caller reverse false (ValueSome tail) step carries tailXs
                let joined = Array.map2 (fun (a: Expr) (b: Expr) -> if reverse then Expr.concat 0 [ b; a ] else Expr.concat 0 [ a; b ]) ys tailYs
                carries, joined

    /// A Scan with options: `reverse`, the checkpoint policy of its gradient, the length when there
    /// are no xs. With a checkpoint the values are the plain Scan's; the gradient saves a carry
    /// every k steps and recomputes the steps between them in the backward pass.
    let scanWith (options: ScanOptions) (step: Expr[] -> Expr[] -> Expr[] * Expr[]) (init: Expr[]) (xs: Expr[]) : Expr[] * Expr[] =
        scan "Checkpoint.scanWith" options step init xs
