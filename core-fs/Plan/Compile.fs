/// Compiled functions, JAX's jit for the CPU: a function over Exprs is traced over fresh Vars at
/// the first call with each input signature (the inputs' shapes and dtypes), its graph compiled
/// to a plan once, and the plan run on every call with that signature.
namespace FunctionalDiff.Core

open System

/// A function over Exprs compiled for Tensors (made by `Compile.compile`). Tensors the function
/// captures (rather than takes as inputs) are constants of its plans, and subgraphs that depend
/// only on them are computed once, when a signature is traced: data that changes from call to
/// call must be an input. Calls from several threads at once are safe; each runs on its own
/// buffers and gives the same bits as sequential calls.
[<Sealed>]
type CompiledFunction internal (f: Expr[] -> Expr[]) =
    let gate = obj ()
    /// Plans by signature, replaced as a whole (never mutated) so calls read it without a lock.
    [<VolatileField>]
    let mutable plans: Plan[] = [||]
    let mutable traces = 0

    static let describe (dtype: DType) (dims: int[]) = sprintf "%O%s" dtype (Shape.format dims)

    static let matches (plan: Plan) (inputs: Tensor[]) =
        let vars = plan.Inputs
        vars.Length = inputs.Length
        && (let mutable same = true
            for i in 0 .. vars.Length - 1 do
                if vars.[i].DType <> inputs.[i].DType || not (Ir.sameDims vars.[i].Dims inputs.[i].Dims) then same <- false
            same)

    let find (inputs: Tensor[]) =
        let known = plans
        let mutable found = Unchecked.defaultof<Plan>
        for p in known do
            if isNull (box found) && matches p inputs then found <- p
        found

    /// The error for a signature whose trace failed, set against the first signature traced: an ArgumentException
    /// on `inputs` where the function rejected them, an InvalidOperationException where it failed on its own.
    let explain (method: string) (inputs: Tensor[]) (inner: exn) : exn =
        // an ArgumentException's Message ends in "(Parameter 'name')", which the outer exception adds again
        let innerText =
            match inner with
            | :? ArgumentException as e when not (isNull e.ParamName) ->
                let suffix = sprintf " (Parameter '%s')" e.ParamName
                if e.Message.EndsWith(suffix, StringComparison.Ordinal) then e.Message.Substring(0, e.Message.Length - suffix.Length) else e.Message
            | _ -> inner.Message
        let given = inputs |> Array.map (fun t -> describe t.DType t.Dims) |> String.concat ", "
        let message =
            match plans with
            | [||] ->
                // the usual cause is a function that reads inputs[k] past the ones the call passed
                // (a batch left out of Invoke); .NET's own message names no array and no count
                let hint =
                    match inner with
                    | :? IndexOutOfRangeException -> sprintf " (did the function read an input beyond the %d given?)" inputs.Length
                    | _ -> ""
                sprintf "%s: tracing the function with inputs (%s) failed: %s%s" method given innerText hint
            | known ->
                let expected = known.[0].Inputs
                let traced = expected |> Array.map (fun v -> describe v.DType v.Dims) |> String.concat ", "
                if expected.Length <> inputs.Length then
                    // the first position where the counts part: a missing input, or one beyond them
                    let position =
                        if inputs.Length < expected.Length then
                            let v = expected.[inputs.Length]
                            sprintf "inputs[%d] (%s as traced) is missing" inputs.Length (describe v.DType v.Dims)
                        else
                            let t = inputs.[expected.Length]
                            sprintf "inputs[%d] (%s) is beyond the traced ones" expected.Length (describe t.DType t.Dims)
                    sprintf "%s: expected %d inputs (%s), as traced, but got %d (%s): %s; tracing with them failed: %s"
                        method expected.Length traced inputs.Length given position innerText
                else
                    let i = Array.findIndex (fun i -> expected.[i].DType <> inputs.[i].DType || not (Ir.sameDims expected.[i].Dims inputs.[i].Dims)) [| 0 .. inputs.Length - 1 |]
                    sprintf "%s: inputs[%d] is %s where the traced signature has %s; tracing with the new signature failed: %s"
                        method i (describe inputs.[i].DType inputs.[i].Dims) (describe expected.[i].DType expected.[i].Dims) innerText
        // Only a rejection of the inputs (a shape or an argument error, an index past them, a name
        // the given parameters lack) is the caller's argument; a function that fails on its own
        // (returns null, throws its own error) keeps the context but not the blame on `inputs`.
        match inner with
        | :? ArgumentException
        | :? IndexOutOfRangeException
        | :? Collections.Generic.KeyNotFoundException -> ArgumentException(message, "inputs", inner) :> exn
        | _ -> InvalidOperationException(message, inner) :> exn

    /// The error for results that depend on a variable other than this trace's inputs: JAX's
    /// leaked tracer, an input of an earlier trace (or a transform's argument) the function kept.
    static let leaked (method: string) (v: Expr) (inner: exn) : exn =
        let name = match v.Op with Op.Var(name, _) -> name | _ -> string v
        let message =
            sprintf "%s: the function's results depend on %s %s, a symbolic input that is not one of this call's inputs: an Expr kept from an earlier trace (or from inside a transform) has no value in a later one; pass it as an input, or keep Tensors rather than Exprs between calls"
                method name (describe v.DType v.Dims)
        InvalidOperationException(message, inner) :> exn

    let trace (method: string) (inputs: Tensor[]) : Plan =
        lock gate (fun () ->
            let again = find inputs
            if not (isNull (box again)) then again
            else
                let vars = inputs |> Array.mapi (fun i t -> Expr.variable (sprintf "input%d" i) t.Dims t.DType)
                let outputs =
                    try
                        let outputs = f vars
                        if isNull outputs then invalidOp "the function returned null"
                        outputs |> Array.iteri (fun i o -> if isNull (box o) then invalidOp (sprintf "output %d of the function is null" i))
                        outputs
                    with e -> raise (explain method inputs e)
                let plan =
                    try Planner.compile vars outputs true
                    with :? InvalidOperationException as e ->
                        // Only a failure is walked for the variable: a trace that compiles pays no walk.
                        match Graph.variables outputs |> Array.tryFind (fun v -> not (Array.contains v vars)) with
                        | Some v -> raise (leaked method v e)
                        | None -> reraise ()
                traces <- traces + 1
                plans <- Array.append plans [| plan |]
                plan)

    let planFor (method: string) (inputs: Tensor[]) =
        if isNull inputs then nullArg "inputs"
        for i in 0 .. inputs.Length - 1 do
            if isNull (box inputs.[i]) then raise (ArgumentNullException("inputs", sprintf "%s: inputs[%d] is null" method i))
        let known = find inputs
        if isNull (box known) then trace method inputs else known

    /// How many signatures have been traced so far.
    member _.TraceCount = lock gate (fun () -> traces)

    /// Runs the function on the inputs, tracing it first when their signature is new. The
    /// results are fresh tensors owned by the caller.
    member _.Invoke([<ParamArray>] inputs: Tensor[]) : Tensor[] =
        let plan = planFor "Invoke" inputs
        plan.RunFresh inputs

    /// Runs the function and writes its results into `outputs`: dense tensors (made by the
    /// library, not views) of the results' shapes and dtypes, which are overwritten. A loop that
    /// reuses its outputs this way allocates nothing per call once its signature is traced. An
    /// output may also be an input (an in-place update): that call computes into fresh memory
    /// first and then copies, so it allocates. An output may not be a tensor the function
    /// captured.
    member _.InvokeInto(inputs: Tensor[], outputs: Tensor[]) : unit =
        let plan = planFor "InvokeInto" inputs
        if isNull outputs then nullArg "outputs"
        let roots = plan.Roots
        if outputs.Length <> roots.Length then
            invalidArg "outputs" (sprintf "InvokeInto: the function has %d results, but %d outputs were given" roots.Length outputs.Length)
        for i in 0 .. roots.Length - 1 do
            let o = outputs.[i]
            if isNull (box o) then raise (ArgumentNullException("outputs", sprintf "InvokeInto: outputs[%d] is null" i))
            if o.DType <> roots.[i].DType || not (Ir.sameDims o.Dims roots.[i].Dims) then
                invalidArg "outputs" (sprintf "InvokeInto: outputs[%d] is %s but result %d is %s" i (describe o.DType o.Dims) i (describe roots.[i].DType roots.[i].Dims))
            if not (o.IsContiguous && o.Offset = 0 && o.Storage.Length = o.Numel) then
                invalidArg "outputs" (sprintf "InvokeInto: outputs[%d] is a view; it must be a dense tensor of its own" i)
            for j in 0 .. i - 1 do
                if obj.ReferenceEquals(outputs.[j].Storage, o.Storage) then
                    invalidArg "outputs" (sprintf "InvokeInto: outputs[%d] and outputs[%d] share their memory" j i)
            if plan.IsConstantStorage o.Storage then
                invalidArg "outputs" (sprintf "InvokeInto: outputs[%d] is a tensor the function captured (a constant of its plan); writing into it would change every later call" i)
        let mutable inPlace = false
        for o in outputs do
            for input in inputs do
                if obj.ReferenceEquals(o.Storage, input.Storage) then inPlace <- true
        if inPlace then plan.RunFreshInto(inputs, outputs)
        else plan.Run(inputs, outputs) |> ignore

    /// The plan of a signature, traced if new (for tests that inspect it).
    member internal _.PlanFor(inputs: Tensor[]) = planFor "Invoke" inputs

/// Compiling functions over Exprs.
[<RequireQualifiedAccess>]
module Compile =

    /// Compiles `f`: traced once per input signature, then run as a plan (see CompiledFunction).
    let compile (f: Expr[] -> Expr[]) : CompiledFunction =
        if isNull (box f) then nullArg "f"
        CompiledFunction(f)
