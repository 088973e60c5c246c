/// Parameter initialisers with torch.nn.init's formulas: the fans, the gain table and the
/// bounds and standard deviations of Xavier/Glorot and Kaiming/He. Samples come from the
/// library's seeded generator, so a seed gives the same tensor on every machine (torch's own
/// generator is not reproduced: the distributions match, not the draws).
namespace FunctionalDiff.Core

open System

/// Which fan Kaiming initialisation preserves: the forward pass's (fan in) or the backward pass's (fan out).
[<RequireQualifiedAccess>]
type FanMode =
    | FanIn
    | FanOut

/// torch.nn.init's formulas over the library's seeded samples.
[<RequireQualifiedAccess>]
module Initialisers =

    /// torch's fans: for a weight of shape [out, in, k...], fan in = in·k..., fan out = out·k...
    /// (rank 1 has fan in = fan out = its length, as the receptive field is empty).
    let fans (method: string) (shape: int[]) =
        if isNull shape then nullArg "shape"
        Shape.validate method shape
        if shape.Length < 2 then
            Shape.fail method (sprintf "fan in and fan out need a shape of rank 2 or more, not %s" (Shape.format shape))
        let receptive = shape.[2..] |> Array.fold (*) 1
        shape.[1] * receptive, shape.[0] * receptive

    /// torch.nn.init.calculate_gain: 1 for linear, conv and sigmoid, 5/3 for tanh, √2 for relu,
    /// √(2 / (1 + slope²)) for leaky_relu (slope 0.01 when `param` is NaN), 3/4 for selu.
    let gain (nonlinearity: string) (param: float) =
        match nonlinearity with
        | "linear" | "conv1d" | "conv2d" | "conv3d" | "conv_transpose1d" | "conv_transpose2d" | "conv_transpose3d"
        | "sigmoid" -> 1.0
        | "tanh" -> 5.0 / 3.0
        | "relu" -> Math.Sqrt 2.0
        | "leaky_relu" ->
            let slope = if Double.IsNaN param then 0.01 else param
            Math.Sqrt(2.0 / (1.0 + slope * slope))
        | "selu" -> 3.0 / 4.0
        | other -> invalidArg "nonlinearity" (sprintf "Gain: unknown nonlinearity '%s'" other)

    // The samplers check the shape and the interval or spread themselves, under the name of the
    // initialiser the caller called, so no error speaks of RandomUniform or Normal instead.
    let private uniformFor (method: string) (dtype: DType) (seed: int) (low: float) (high: float) (shape: int[]) =
        Shape.validate method shape
        if not (low <= high) then Shape.fail method (sprintf "low %g exceeds high %g" low high)
        Tensor.randomUniform dtype seed low high shape

    let private normalFor (method: string) (dtype: DType) (seed: int) (mean: float) (std: float) (shape: int[]) =
        Shape.validate method shape
        if not (std >= 0.0) then invalidArg "std" (sprintf "%s: std = %g must be ≥ 0" method std)
        let standard = Tensor.randomNormal DType.Float64 seed shape
        let values = standard.ToDoubleArray() |> Array.map (fun z -> mean + std * z)
        Tensor.ofFloats dtype (Array.copy shape) values

    /// torch's uniform_(−a, a) refuses a negative bound, so a negative gain is an error here too.
    let private checkGain (method: string) (gain: float) =
        if not (gain >= 0.0) then invalidArg "gain" (sprintf "%s: gain = %g must be ≥ 0" method gain)

    /// Uniform samples in [low, high).
    let uniform (dtype: DType) (seed: int) (low: float) (high: float) (shape: int[]) =
        uniformFor "Uniform" dtype seed low high shape

    /// Normal samples with the given mean and standard deviation.
    let normal (dtype: DType) (seed: int) (mean: float) (std: float) (shape: int[]) =
        normalFor "Normal" dtype seed mean std shape

    /// Xavier/Glorot uniform: U(−a, a) with a = gain·√(6 / (fan in + fan out)).
    let xavierUniform (dtype: DType) (seed: int) (gain: float) (shape: int[]) =
        let fanIn, fanOut = fans "XavierUniform" shape
        checkGain "XavierUniform" gain
        let a = gain * Math.Sqrt(6.0 / float (fanIn + fanOut))
        uniformFor "XavierUniform" dtype seed -a a shape

    /// Xavier/Glorot normal: N(0, std²) with std = gain·√(2 / (fan in + fan out)).
    let xavierNormal (dtype: DType) (seed: int) (gain: float) (shape: int[]) =
        let fanIn, fanOut = fans "XavierNormal" shape
        checkGain "XavierNormal" gain
        normalFor "XavierNormal" dtype seed 0.0 (gain * Math.Sqrt(2.0 / float (fanIn + fanOut))) shape

    let private kaimingStd (method: string) (mode: FanMode) (a: float) (nonlinearity: string) (shape: int[]) =
        let fanIn, fanOut = fans method shape
        let fan = match mode with FanMode.FanIn -> fanIn | FanMode.FanOut -> fanOut
        gain nonlinearity a / Math.Sqrt(float fan)

    /// Kaiming/He uniform: U(−b, b) with b = gain·√(3 / fan); torch's defaults are a = 0,
    /// FanIn and "leaky_relu" (so gain √2).
    let kaimingUniform (dtype: DType) (seed: int) (a: float) (mode: FanMode) (nonlinearity: string) (shape: int[]) =
        let bound = Math.Sqrt 3.0 * kaimingStd "KaimingUniform" mode a nonlinearity shape
        uniformFor "KaimingUniform" dtype seed -bound bound shape

    /// Kaiming/He normal: N(0, std²) with std = gain / √fan.
    let kaimingNormal (dtype: DType) (seed: int) (a: float) (mode: FanMode) (nonlinearity: string) (shape: int[]) =
        normalFor "KaimingNormal" dtype seed 0.0 (kaimingStd "KaimingNormal" mode a nonlinearity shape) shape

    /// torch.nn.init.trunc_normal_: normal samples with the given mean and standard deviation, kept
    /// inside [low, high] (absolute bounds, as torch's a and b). Drawn by inverting the normal's CDF
    /// on uniform samples between Φ((low − mean)/std) and Φ((high − mean)/std), as torch does, so a
    /// window far in a tail costs no more than one near the mean; the inverse is erfinv's graph
    /// (Elementary.erfinv), evaluated once; values are clamped to the bounds against rounding.
    let truncatedNormal (dtype: DType) (seed: int) (mean: float) (std: float) (low: float) (high: float) (shape: int[]) =
        Shape.validate "TruncatedNormal" shape
        if not (std > 0.0) || Double.IsInfinity std then invalidArg "std" (sprintf "TruncatedNormal: std = %g must be positive and finite" std)
        if not (low < high) then invalidArg "low" (sprintf "TruncatedNormal: low %g must be below high %g" low high)
        let cdf (bound: float) = 0.5 * Special.erfc (-(bound - mean) / (std * Math.Sqrt 2.0))
        let below, above = cdf low, cdf high
        let u = Tensor.randomUniform DType.Float64 seed 0.0 1.0 shape
        let p = Expr.constant u * (above - below) + below
        let standard = Eval.eval (Elementary.erfinv (2.0 * p - 1.0) * Math.Sqrt 2.0)
        let values = standard.ToDoubleArray() |> Array.map (fun z -> min high (max low (mean + std * z)))
        Tensor.ofFloats dtype (Array.copy shape) values

    /// The weights of torch.nn.LSTM (gates = 4) or torch.nn.GRU (gates = 3) as its reset_parameters draws them: every
    /// entry from U(−1/√hidden, 1/√hidden), named and shaped as its state dict (weight_ih_l{k} [gates·hidden, in] with
    /// in = directions·hidden above layer 0, weight_hh_l{k} [gates·hidden, hidden], bias_ih_l{k} and bias_hh_l{k}
    /// [gates·hidden] when `bias`, _reverse for the second direction), in torch's order. An LSTM with projSize above 0
    /// (torch's proj_size) has weight_hr_l{k} [projSize, hidden] after each direction's others, its weight_hh is
    /// [4·hidden, projSize] and in = directions·projSize above layer 0. One draw from `seed` is split among them, so no
    /// two weights share a sequence.
    let recurrent (method: string) (gates: int) (dtype: DType) (seed: int) (inputSize: int) (hiddenSize: int) (layers: int)
                  (bidirectional: bool) (bias: bool) (projSize: int) : (string * Tensor)[] =
        if inputSize < 1 then invalidArg "inputSize" (sprintf "%s: inputSize = %d must be at least 1" method inputSize)
        if hiddenSize < 1 then invalidArg "hiddenSize" (sprintf "%s: hiddenSize = %d must be at least 1" method hiddenSize)
        if layers < 1 then invalidArg "numLayers" (sprintf "%s: numLayers = %d must be at least 1" method layers)
        if projSize < 0 || (projSize > 0 && gates <> 4) then
            invalidArg "projSize" (sprintf "%s: projSize = %d must be 0 (none), or below hiddenSize = %d for an LSTM" method projSize hiddenSize)
        if projSize >= hiddenSize then
            invalidArg "projSize" (sprintf "%s: projSize = %d must be below hiddenSize = %d, as torch requires" method projSize hiddenSize)
        let directions = if bidirectional then 2 else 1
        let rows = gates * hiddenSize
        // what a step's h has: the projection's size with one, the hidden size without
        let recurrentSize = if projSize > 0 then projSize else hiddenSize
        let shapes =
            [| for l in 0 .. layers - 1 do
                   for d in 0 .. directions - 1 do
                       let tail = sprintf "_l%d%s" l (if d = 1 then "_reverse" else "")
                       yield "weight_ih" + tail, [| rows; (if l = 0 then inputSize else directions * recurrentSize) |]
                       yield "weight_hh" + tail, [| rows; recurrentSize |]
                       if bias then
                           yield "bias_ih" + tail, [| rows |]
                           yield "bias_hh" + tail, [| rows |]
                       if projSize > 0 then yield "weight_hr" + tail, [| projSize; hiddenSize |] |]
        let bound = 1.0 / Math.Sqrt(float hiddenSize)
        let total = shapes |> Array.sumBy (fun (_, shape) -> Array.fold (*) 1 shape)
        let values = (uniformFor method DType.Float64 seed -bound bound [| total |]).ToDoubleArray()
        let mutable start = 0
        shapes |> Array.map (fun (name, shape) ->
            let count = Array.fold (*) 1 shape
            let tensor = Tensor.ofFloats dtype (Array.copy shape) values.[start .. start + count - 1]
            start <- start + count
            name, tensor)
