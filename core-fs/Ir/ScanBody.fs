/// The body of a Scan and the construction of Scan nodes. A body is a closed graph: its leaves are
/// its own Vars (carries, one step's slice of the xs, captured values) and constants, so every
/// traversal of the outer graph treats a Scan node as a node with inputs and never descends into
/// the body. The functions that differentiate and batch a body are written in the op language
/// after the transforms exist (Transforms/Scan.fs); they reach the node through its body, the way
/// a custom op's rule is a closure supplied by its author.
namespace FunctionalDiff.Core

open System.Threading

/// A traced step: `Outputs` are the new carries (shapes and dtypes of `CarryVars`) followed by
/// the per-step ys, all functions of `CarryVars`, `XVars` (one row of each xs) and `CapturedVars`.
[<Sealed; AllowNullLiteral>]
type internal ScanBody
    (carryVars: Expr[], xVars: Expr[], capturedVars: Expr[], outputs: Expr[],
     derive: ScanBody -> Expr -> int -> bool -> bool -> Expr -> bool[] -> (unit -> Expr) list,
     batch: ScanBody -> int -> bool -> bool -> Expr[] -> bool[] -> int -> Expr) =
    inherit LoopBody()
    static let mutable lastId = 0
    let id = Interlocked.Increment(&lastId)
    let mutable evaluations = 0L
    let ys = outputs.[carryVars.Length ..]
    // The packed output's dtype: float64 as soon as one part is.
    let packedDType =
        if outputs |> Array.exists (fun o -> o.DType = DType.Float64) then DType.Float64 else DType.Float32

    override _.Id = id
    override _.ToString() = sprintf "scan body #%d" id
    /// The carry Vars, in the order of the node's init inputs.
    member _.CarryVars = carryVars
    /// One step's slice of each xs (its shape without the first axis).
    member _.XVars = xVars
    /// The Vars standing for the node's captured inputs.
    member _.CapturedVars = capturedVars
    /// The new carries, then the per-step ys.
    member _.Outputs = outputs
    /// The per-step ys.
    member _.Ys = ys
    /// All Vars in the order of the node's inputs.
    member _.Vars = Array.concat [ carryVars; xVars; capturedVars ]
    /// The dtype of the packed output.
    member _.PackedDType = packedDType
    /// The VJP of a node over this body with the node's parameters (Rules.fs calls it): the
    /// cotangents of the node's inputs given g, the cotangent of its packed output; `wanted`
    /// marks the inputs whose cotangents will be asked for.
    member this.Derive (node: Expr, length: int, reverse: bool, remat: bool, g: Expr, wanted: bool[]) =
        derive this node length reverse remat g wanted
    /// The batched form of a node over this body with its parameters (BatchingRules.fs calls it):
    /// the inputs' values, whether each carries the batch axis first, and the batch size.
    member this.Batch (length: int, reverse: bool, remat: bool, inputs: Expr[], batched: bool[], size: int) =
        batch this length reverse remat inputs batched size
    /// The number of times this body has been evaluated (one per step), for tests that count
    /// recomputation.
    member _.Evaluations = Interlocked.Read(&evaluations)
    /// Records `n` evaluations.
    member _.Evaluated(n: int) = Interlocked.Add(&evaluations, int64 n) |> ignore
    /// A place for what the transforms derive from the body once (the backward body, forward
    /// sharing); written by Transforms/Scan.fs under its own lock.
    member val Derived: obj = null with get, set
    /// The body this one extends (its outputs first, same Vars), or null: a plan holding a node
    /// of each over the same inputs computes the other one as a view of this one's output.
    member val Extends: ScanBody = null with get, set

    /// The element offsets of each part in the packed output for `length` steps: the carries,
    /// then each ys stacked over the steps; the last entry is the total.
    member _.Offsets(length: int) : int[] =
        let offsets = Array.zeroCreate (outputs.Length + 1)
        for i in 0 .. outputs.Length - 1 do
            let size = if i < carryVars.Length then outputs.[i].Numel else length * outputs.[i].Numel
            offsets.[i + 1] <- offsets.[i] + size
        offsets

/// Scan nodes: the body behind an Op, and the checked construction of a node.
module internal ScanNode =

    /// The body of a Scan op (the one downcast of LoopBody).
    let bodyOf (body: LoopBody) : ScanBody =
        match body with
        | :? ScanBody as b -> b
        | _ -> invalidOp (sprintf "unknown loop body %O" body)

    /// The Scan node over `body` for `length` steps with the given inputs (init, xs, captured),
    /// each checked against the body's Vars. `caller` names the public method in errors.
    let make (caller: string) (body: ScanBody) (length: int) (reverse: bool) (remat: bool) (inputs: Expr[]) : Expr =
        let vars = body.Vars
        if length < 0 then Shape.fail caller (sprintf "the length must be >= 0, got %d" length)
        if inputs.Length <> vars.Length then
            Shape.fail caller (sprintf "%d inputs for a body of %d variables" inputs.Length vars.Length)
        let carries, xs = body.CarryVars.Length, body.XVars.Length
        for i in 0 .. inputs.Length - 1 do
            let v, input = vars.[i], inputs.[i]
            let expected = if i >= carries && i < carries + xs then Array.append [| length |] v.Dims else v.Dims
            if not (Ir.sameDims expected input.Dims) || v.DType <> input.DType then
                Shape.fail caller
                    (sprintf "input %d has %O%s where the body needs %O%s" i input.DType (Shape.format input.Dims) v.DType (Shape.format expected))
        let total = (body.Offsets length).[body.Outputs.Length]
        Ir.intern (Op.Scan(body, length, reverse, remat)) inputs [| total |] body.PackedDType
