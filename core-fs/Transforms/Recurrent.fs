/// Recurrent layers over a whole sequence, as torch.nn.LSTM and torch.nn.GRU compute them: each layer and direction is
/// one Scan (so the graph does not grow with the sequence's length, and every derivative is a loop too) over the
/// step of Nn.lstmCell or Nn.gruCell, with the weights named and laid out as torch's state dict. It lives after Scan in
/// the compile order because it builds Scans; it adds no primitive.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic
open System.Text.RegularExpressions

/// The options of Recurrent.lstm and Recurrent.gru beside the weights.
type RecurrentOptions =
    { /// The input and output are [batch, time, features] (torch's batch_first=True); the states stay
      /// [layers·directions, batch, hidden], as torch's.
      BatchFirst: bool
      /// Prepended to every weight's name: "encoder.lstm." reads "encoder.lstm.weight_ih_l0" and so on, so a
      /// whole model's parameters can be passed.
      Prefix: string
      /// Which carries the gradient of each layer's loop keeps (Checkpoint.scanWith); the values do not change.
      Checkpoint: ScanCheckpoint
      /// Each batch entry's own length, [batch] (whole numbers in the input's dtype; constants or data of a compiled
      /// step), as torch's pack_padded_sequence(input, lengths, enforce_sorted=False) before the layer and
      /// pad_packed_sequence after it: entry b's steps from lengths[b] on are padding, which the layer neither reads nor
      /// lets change its state, so its final states are those after its last real step, its reverse direction starts at
      /// that step, and its output there is 0. The output keeps the input's time axis (pad_packed_sequence's
      /// total_length = time). None: every entry has every step.
      Lengths: Expr option
      /// torch's dropout argument: the probability that an entry of a layer's output is zeroed before the next layer
      /// reads it (every layer's but the last), the kept ones scaled by 1 / (1 − p), as Resampling.dropout. 0: none.
      Dropout: float
      /// With Dropout above 0 (torch's training mode), the noise that decides which entries are kept, uniform in
      /// [0, 1): [layers − 1, ...the output's shape] (so [layers − 1, batch, time, directions·hidden] with BatchFirst),
      /// entry kept where the noise is at least Dropout. None with Dropout above 0 is refused: torch's eval mode is
      /// Dropout 0.
      DropoutNoise: Expr option }

    /// Time first, no prefix, no checkpointing, no lengths, no dropout.
    static member Default =
        { BatchFirst = false; Prefix = ""; Checkpoint = ScanCheckpoint.NoCheckpoint; Lengths = None; Dropout = 0.0; DropoutNoise = None }

/// torch.nn.LSTM and torch.nn.GRU's forward over weights named as their state dicts.
[<RequireQualifiedAccess>]
module Recurrent =

    /// The weights of one direction of one layer; WeightHr is an LSTM's projection (torch's proj_size), None without.
    type private DirectionWeights = { WeightIh: Expr; WeightHh: Expr; BiasIh: Expr; BiasHh: Expr; WeightHr: Expr option }

    /// What differs between the two layers: the op's name in errors, torch's module name, the number of gates
    /// stacked in each weight, and the step after the input's projection (carries and projected row to new carries).
    type private Cell =
        { Op: string
          Module: string
          Gates: int
          Step: DirectionWeights -> Expr[] -> Expr -> Expr[] }

    /// torch's names of the recurrent weights, after the prefix: weight_ih_l0, bias_hh_l2_reverse, and the
    /// projection weight_hr_l0 of an LSTM with proj_size.
    let private weightName = Regex(@"^(weight|bias)_(ih|hh|hr)_l\d+(_reverse)?$", RegexOptions.CultureInvariant)

    let private suffix (direction: int) = if direction = 1 then "_reverse" else ""

    /// Reads and checks the weights: the number of layers is that of consecutive weight_ih_l{k}, a weight_ih_l0_reverse
    /// makes the layer bidirectional, a bias_ih_l0 means every direction has both biases (torch's bias=True), and a
    /// weight_hr_l0 that every direction of an LSTM projects its h (torch's proj_size). Every weight a layer needs must
    /// be there, and no other weight of torch's names under the prefix. Returns the weights, the hidden size (c's and
    /// the gates') and the size of h (proj_size with a projection, the hidden size without).
    let private weightsOf (cell: Cell) (prefix: string) (weights: IReadOnlyDictionary<string, Expr>) (inputFeatures: int) =
        let op = cell.Op
        let ours =
            weights.Keys
            |> Seq.filter (fun k -> not (isNull k) && k.StartsWith(prefix, StringComparison.Ordinal) && weightName.IsMatch(k.Substring prefix.Length))
            |> Seq.sort
            |> Seq.toArray
        let listed () = if ours.Length = 0 then "none" else String.Join(", ", ours)
        let find (name: string) =
            match weights.TryGetValue(prefix + name) with
            | true, w when isNull (box w) -> Shape.fail op (sprintf "the weight %s%s is null" prefix name)
            | true, w -> Some w
            | _ -> None
        let projected = (find "weight_hr_l0").IsSome
        if cell.Gates <> 4 && ours |> Array.exists (fun k -> k.Contains "_hr_") then
            Shape.fail op (sprintf "%s has no proj_size (the weights weight_hr_l* belong to an LSTM); the weights under '%s' are %s" cell.Module prefix (listed ()))
        let mutable layers = 0
        while (find (sprintf "weight_ih_l%d" layers)).IsSome do
            layers <- layers + 1
        if layers = 0 then
            Shape.fail op
                (sprintf "no weight named %sweight_ih_l0: the weights are read by torch's state-dict names (weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, then _l1 and so on, and _reverse for the second direction), and those under the prefix '%s' are %s"
                     prefix prefix (listed ()))
        let directions = if (find "weight_ih_l0_reverse").IsSome then 2 else 1
        let biased = (find "bias_ih_l0").IsSome
        let kinds = [ "weight_ih"; "weight_hh" ] @ (if biased then [ "bias_ih"; "bias_hh" ] else []) @ (if projected then [ "weight_hr" ] else [])
        let expected =
            [| for l in 0 .. layers - 1 do
                   for d in 0 .. directions - 1 do
                       for kind in kinds -> sprintf "%s_l%d%s" kind l (suffix d) |]
        let describe () =
            sprintf "a %d-layer%s %s%s%s" layers (if directions = 2 then " bidirectional" else "") cell.Module (if biased then "" else " without biases")
                (if projected then " with proj_size" else "")
        match expected |> Array.tryFind (fun name -> (find name).IsNone) with
        | Some name ->
            Shape.fail op (sprintf "%s%s is missing: %s needs %s; the weights under '%s' are %s" prefix name (describe ()) (String.Join(", ", expected)) prefix (listed ()))
        | None -> ()
        let extra = ours |> Array.filter (fun k -> not (Array.contains (k.Substring prefix.Length) expected))
        if extra.Length > 0 then
            Shape.fail op
                (sprintf "%s %s not part of %s (read from weight_ih_l0 to weight_ih_l%d%s%s%s): a layer's weights run from l0 without gaps and every layer has the same directions and biases"
                     (String.Join(", ", extra)) (if extra.Length = 1 then "is" else "are") (describe ()) (layers - 1)
                     (if directions = 2 then ", weight_ih_l0_reverse" else "") (if biased then ", bias_ih_l0" else "")
                     (if projected then ", weight_hr_l0" else ""))
        let weightHh0 = (find "weight_hh_l0").Value
        // with a projection, h has proj_size entries: weight_hh is [4·hidden, proj_size], and the hidden size is read
        // from its rows (weight_hr [proj_size, hidden] is checked against it below)
        if weightHh0.Rank <> 2 || weightHh0.Dims.[0] % cell.Gates <> 0
           || (not projected && weightHh0.Dims.[0] <> cell.Gates * weightHh0.Dims.[1]) then
            Shape.fail op
                (sprintf "%sweight_hh_l0 is %s where torch's layout is [%d·hidden, %s] (the gates stacked along axis 0)"
                     prefix (Shape.format weightHh0.Dims) cell.Gates (if projected then "proj_size" else "hidden"))
        let hidden = weightHh0.Dims.[0] / cell.Gates
        let recurrentSize = weightHh0.Dims.[1]
        if projected && recurrentSize >= hidden then
            Shape.fail op
                (sprintf "%sweight_hh_l0 is %s: with a projection (weight_hr_l0) its %d columns are proj_size, which torch requires below the hidden size %d"
                     prefix (Shape.format weightHh0.Dims) recurrentSize hidden)
        let rows = cell.Gates * hidden
        let checkedWeight (name: string) (dims: int[]) (why: string) =
            let w = (find name).Value
            if not (Ir.sameDims w.Dims dims) then
                let transposed = if w.Rank = 2 && Ir.sameDims [| w.Dims.[1]; w.Dims.[0] |] dims then "; it looks transposed" else ""
                Shape.fail op (sprintf "%s%s is %s where %s is needed (%s)%s" prefix name (Shape.format w.Dims) (Shape.format dims) why transposed)
            w
        let layerWeights =
            Array.init layers (fun l ->
                Array.init directions (fun d ->
                    let name kind = sprintf "%s_l%d%s" kind l (suffix d)
                    let columns, source =
                        if l = 0 then inputFeatures, sprintf "the input's %d features" inputFeatures
                        else directions * recurrentSize, sprintf "layer %d's output of %d·%d features" (l - 1) directions recurrentSize
                    let gates = sprintf "%d gates of hidden size %d" cell.Gates hidden
                    let bias kind =
                        if biased then checkedWeight (name kind) [| rows |] gates
                        // absent biases are −0, which folds away, as Nn.linear takes them
                        else Expr.scalar weightHh0.DType -0.0
                    { WeightIh = checkedWeight (name "weight_ih") [| rows; columns |] (sprintf "%s over %s" gates source)
                      WeightHh = checkedWeight (name "weight_hh") [| rows; recurrentSize |] (if projected then gates + sprintf " over h of proj_size %d" recurrentSize else gates)
                      BiasIh = bias "bias_ih"
                      BiasHh = bias "bias_hh"
                      WeightHr =
                          if projected then Some(checkedWeight (name "weight_hr") [| recurrentSize; hidden |] (sprintf "proj_size %d by hidden size %d" recurrentSize hidden))
                          else None }))
        layerWeights, hidden, recurrentSize

    /// The layers over a time-first input, from the initial carries of each layer and direction; returns the top
    /// layer's output [time, ..., directions·hidden] and the final carries, per layer and direction.
    /// `mask` is None, or [time, batch, 1], nonzero where a step is inside its entry's length: there the step's carries
    /// and output are the cell's, elsewhere the carries pass unchanged and the output is 0.
    /// `noise` is None, or time first [layers − 1, time, ..., directions·hidden]: layer l's output goes through
    /// dropout with noise.[l] before layer l + 1 reads it.
    let private run (cell: Cell) (options: RecurrentOptions) (layers: DirectionWeights[][]) (input: Expr) (mask: Expr option)
                    (noise: Expr option) (initial: Expr[][][]) =
        let mutable x = input
        let finals =
            layers |> Array.mapi (fun l directions ->
                let results =
                    directions |> Array.mapi (fun d w ->
                        // every step's input projection at once, before the loop (torch's CPU kernel does the same): one
                        // product over all the rows, and the loop's step reads only its row of it
                        let projected = Nn.linear w.WeightIh w.BiasIh x
                        let scanOptions = { ScanOptions.Default with Reverse = (d = 1); Checkpoint = options.Checkpoint }
                        let step (carries: Expr[]) (rows: Expr[]) =
                            let next = cell.Step w carries rows.[0]
                            if rows.Length = 1 then next, [| next.[0] |]
                            else
                                // a where, not a blend m·new + (1 − m)·old: the padding's cotangent is 0 at every order,
                                // even where the cell's derivative on padding is not finite
                                let inside = rows.[1]
                                let kept = Array.map2 (fun n old -> Expr.where inside n old) next carries
                                kept, [| Expr.where inside next.[0] (Expr.scalar x.DType 0.0) |]
                        let xs = match mask with Some m -> [| projected; m |] | None -> [| projected |]
                        let carries, ys = Checkpoint.scan cell.Op scanOptions step initial.[l].[d] xs
                        ys.[0], carries)
                x <- if results.Length = 1 then fst results.[0] else Expr.concat (x.Rank - 1) (results |> Array.map fst)
                match noise with
                | Some n when l < layers.Length - 1 ->
                    let own = Expr.sliceAxis 0 l (l + 1) n |> Expr.reshape x.Dims
                    x <- Resampling.dropout options.Dropout own x
                | _ -> ()
                results |> Array.map snd)
        x, finals

    /// The shared forward: checks the shapes, lays the input out time first, splits the initial states per layer and
    /// direction (zeros when absent), runs the layers, and stacks the final states as torch's [layers·directions, ...].
    let private forward (cell: Cell) (options: RecurrentOptions) (weights: IReadOnlyDictionary<string, Expr>) (input: Expr)
                        (states: Expr option[]) (stateNames: string[]) : Expr * Expr[] =
        if isNull (box weights) then nullArg "weights"
        if isNull (box input) then nullArg "input"
        let op = cell.Op
        let prefix = if isNull options.Prefix then "" else options.Prefix
        if input.Rank <> 2 && input.Rank <> 3 then
            Shape.fail op
                (sprintf "the input is %s; it needs [time, batch, features]%s, or [time, features] unbatched" (Shape.format input.Dims)
                     (if options.BatchFirst then " ([batch, time, features] with batchFirst)" else ""))
        let batched = input.Rank = 3
        let layers, hidden, recurrentSize = weightsOf cell prefix weights input.Dims.[input.Rank - 1]
        let directions = layers.[0].Length
        let dtypeOf (name: string) (e: Expr) =
            if e.DType <> input.DType then
                Shape.fail op (sprintf "%s is %O where the input is %O; the input, the states and the weights need one dtype" name e.DType input.DType)
        for l in 0 .. layers.Length - 1 do
            for d in 0 .. directions - 1 do
                let w = layers.[l].[d]
                dtypeOf (sprintf "%sweight_ih_l%d%s" prefix l (suffix d)) w.WeightIh
                dtypeOf (sprintf "%sweight_hh_l%d%s" prefix l (suffix d)) w.WeightHh
                dtypeOf (sprintf "%sbias_ih_l%d%s" prefix l (suffix d)) w.BiasIh
                dtypeOf (sprintf "%sbias_hh_l%d%s" prefix l (suffix d)) w.BiasHh
                w.WeightHr |> Option.iter (dtypeOf (sprintf "%sweight_hr_l%d%s" prefix l (suffix d)))
        let timeFirst = if batched && options.BatchFirst then Expr.swapAxes 0 1 input else input
        let batch = if batched then [| timeFirst.Dims.[1] |] else [||]
        // h has the projection's size (the hidden size without one), c the hidden size
        let dimsOf (size: int) = Array.concat [ [| layers.Length * directions |]; batch; [| size |] ]
        let initial =
            Array.mapi2 (fun k (state: Expr option) (name: string) ->
                // h0 of an LSTM with a projection has proj_size entries
                let projectedH = k = 0 && recurrentSize <> hidden
                let stateDims = dimsOf (if projectedH then recurrentSize else hidden)
                match state with
                | Some s ->
                    if isNull (box s) then nullArg name
                    if not (Ir.sameDims s.Dims stateDims) then
                        Shape.fail op
                            (sprintf "%s is %s where the input %s needs %s ([layers·directions%s, %s]: %d layer%s, %d direction%s, %s %d)"
                                 name (Shape.format s.Dims) (Shape.format input.Dims) (Shape.format stateDims) (if batched then ", batch" else "")
                                 (if projectedH then "proj_size" else "hidden")
                                 layers.Length (if layers.Length = 1 then "" else "s") directions (if directions = 1 then "" else "s")
                                 (if projectedH then "proj_size" else "hidden size") stateDims.[stateDims.Length - 1])
                    dtypeOf name s
                    s
                | None -> Expr.zeros input.DType stateDims) states stateNames
        let perLayer =
            Array.init layers.Length (fun l ->
                Array.init directions (fun d ->
                    initial |> Array.map (fun s -> Expr.sliceAxis 0 (l * directions + d) (l * directions + d + 1) s |> Expr.reshape s.Dims.[1..])))
        let mask =
            options.Lengths |> Option.map (fun lengths ->
                if isNull (box lengths) then nullArg "lengths"
                if not batched then
                    Shape.fail op (sprintf "lengths are given for the unbatched input %s; they need a batch axis" (Shape.format input.Dims))
                if lengths.Rank <> 1 || lengths.Dims.[0] <> batch.[0] then
                    Shape.fail op (sprintf "lengths is %s where the input %s needs [%d], one length per batch entry" (Shape.format lengths.Dims) (Shape.format input.Dims) batch.[0])
                // lengths known now (a constant, or a bound Var) are checked now; others are not known until evaluation
                match Ir.leafValue lengths with
                | ValueSome t ->
                    t.ToDoubleArray() |> Array.iteri (fun b v ->
                        if not (v >= 0.0 && v <= float timeFirst.Dims.[0] && Math.Round v = v) then
                            Shape.fail op (sprintf "lengths[%d] = %g is not a whole number of steps from 0 to the input's %d" b v timeFirst.Dims.[0]))
                | ValueNone -> ()
                let time = timeFirst.Dims.[0]
                let steps = Expr.constant (Tensor.FromArray(Array.init time float, [| time; 1; 1 |])) |> Expr.cast input.DType
                Expr.lt steps (Expr.reshape [| 1; batch.[0]; 1 |] (Expr.stopGradient (Expr.cast input.DType lengths))))
        let noise =
            let p = options.Dropout
            if not (p >= 0.0 && p < 1.0) then
                Shape.fail op (sprintf "dropout = %g must be in [0, 1) (the probability of zeroing an entry between layers)" p)
            let width = directions * recurrentSize
            let outputDims =
                if not batched then [| timeFirst.Dims.[0]; width |]
                elif options.BatchFirst then [| batch.[0]; timeFirst.Dims.[0]; width |]
                else [| timeFirst.Dims.[0]; batch.[0]; width |]
            let needed = Array.append [| layers.Length - 1 |] outputDims
            match options.DropoutNoise with
            | _ when p = 0.0 || layers.Length = 1 -> None
            | None ->
                Shape.fail op
                    (sprintf "dropout = %g between the %d layers needs dropoutNoise, uniform in [0, 1) of shape %s ([layers − 1, ...the output's shape]), as Nn.Dropout; torch's eval mode is dropout 0"
                         p layers.Length (Shape.format needed))
            | Some n ->
                if isNull (box n) then nullArg "dropoutNoise"
                if not (Ir.sameDims n.Dims needed) then
                    Shape.fail op
                        (sprintf "dropoutNoise is %s where the %d layers over the input %s need %s ([layers − 1, ...the output's shape])"
                             (Shape.format n.Dims) layers.Length (Shape.format input.Dims) (Shape.format needed))
                Some(if batched && options.BatchFirst then Expr.swapAxes 1 2 n else n)
        let output, finals = run cell options layers timeFirst mask noise perLayer
        let output = if batched && options.BatchFirst then Expr.swapAxes 0 1 output else output
        let stacked =
            Array.init initial.Length (fun k -> Expr.stack 0 [ for layer in finals do for carries in layer -> carries.[k] ])
        output, stacked

    let private lstmCell =
        { Op = "Lstm"; Module = "LSTM"; Gates = 4
          Step = fun w carries row ->
              let h, c = Nn.lstmFromGates (row + Nn.linear w.WeightHh w.BiasHh carries.[0]) carries.[1]
              // torch's proj_size: h_t = W_hr (o_t ⊙ tanh c_t), and that is what the next step and layer read
              let h = match w.WeightHr with Some hr -> Nn.linear hr (Expr.scalar h.DType -0.0) h | None -> h
              [| h; c |] }

    let private gruCell =
        { Op = "Gru"; Module = "GRU"; Gates = 3
          Step = fun w carries row -> [| Nn.gruFromGates row (Nn.linear w.WeightHh w.BiasHh carries.[0]) carries.[0] |] }

    /// torch.nn.RNN's step: the nonlinearity of the projected input plus h W_hhᵀ + b_hh.
    let private rnnCell (nonlinearity: string) =
        let activation = Nn.rnnNonlinearity "Rnn" nonlinearity
        { Op = "Rnn"; Module = "RNN"; Gates = 1
          Step = fun w carries row -> [| activation (row + Nn.linear w.WeightHh w.BiasHh carries.[0]) |] }

    /// torch.nn.LSTM's forward: `output, (h_n, c_n) = lstm(input, (h_0, c_0))`. The input is [time, batch, in]
    /// ([batch, time, in] with BatchFirst) or [time, in] unbatched; the state (h_0, c_0), each [layers·directions, batch,
    /// hidden] ([layers·directions, hidden] unbatched), is zeros when None. The weights are torch's state dict after
    /// options.Prefix: weight_ih_l{k} [4·hidden, in] (in = directions·hidden above layer 0), weight_hh_l{k}
    /// [4·hidden, hidden], bias_ih_l{k} and bias_hh_l{k} [4·hidden] (both absent for bias=False), the gates [i, f, g, o],
    /// and the same with _reverse for a bidirectional layer; the number of layers and directions is read from the names.
    /// Returns the top layer's h at every step, [time, batch, directions·hidden] (the forward direction's first), and
    /// the final h and c of every layer and direction, [layers·directions, batch, hidden] in torch's order. Each layer
    /// and direction is one Scan of Nn.lstmCell's step; the reverse direction's loop runs from the last step, and its
    /// outputs stay at their steps. torch's proj_size P: weight_hr_l{k} [P, hidden] beside the others projects each
    /// step's h to P entries (h_t = W_hr (o_t ⊙ tanh c_t)); then weight_hh_l{k} is [4·hidden, P], in = directions·P above
    /// layer 0, h_0, h_n and the output have P (directions·P) entries where they had hidden ones, and c keeps hidden.
    let lstm (options: RecurrentOptions) (weights: IReadOnlyDictionary<string, Expr>) (input: Expr) (state: (Expr * Expr) option) : Expr * (Expr * Expr) =
        let states = match state with Some(h, c) -> [| Some h; Some c |] | None -> [| None; None |]
        let output, finals = forward lstmCell options weights input states [| "h0"; "c0" |]
        output, (finals.[0], finals.[1])

    /// torch.nn.GRU's forward: `output, h_n = gru(input, h_0)`, with the shapes, names and layout of `lstm` (3·hidden
    /// rows per weight, the gates [r, z, n] of Nn.gruCell) and no cell state.
    let gru (options: RecurrentOptions) (weights: IReadOnlyDictionary<string, Expr>) (input: Expr) (hidden: Expr option) : Expr * Expr =
        let output, finals = forward gruCell options weights input [| hidden |] [| "h0" |]
        output, finals.[0]

    /// torch.nn.RNN's forward (Elman's network): `output, h_n = rnn(input, h_0)`, with the shapes, names and layout of
    /// `lstm` (hidden rows per weight, no gates) and the nonlinearity "tanh" (torch's default) or "relu".
    let rnn (nonlinearity: string) (options: RecurrentOptions) (weights: IReadOnlyDictionary<string, Expr>) (input: Expr) (hidden: Expr option) : Expr * Expr =
        let output, finals = forward (rnnCell nonlinearity) options weights input [| hidden |] [| "h0" |]
        output, finals.[0]
