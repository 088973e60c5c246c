using CoreFanMode = FunctionalDiff.Core.FanMode;
using CoreInit = FunctionalDiff.Core.Initialisers;

namespace FunctionalDiff;

/// <summary>Which fan Kaiming initialisation preserves.</summary>
public enum FanMode
{
    /// <summary>The forward pass's: the variance of the outputs (torch's default).</summary>
    FanIn,
    /// <summary>The backward pass's: the variance of the gradients.</summary>
    FanOut,
}

/// <summary>
/// Parameter initialisers with torch.nn.init's formulas. Fans follow torch's weight layout
/// [out, in, kernel...]: fan in = shape[1]·kernel, fan out = shape[0]·kernel. A weight used as
/// <c>x.MatMul(W)</c> with W of shape [in, out] therefore has its fans swapped: pass
/// <c>[out, in]</c> and transpose, or pick the other <see cref="FanMode"/>. Samples come from the
/// library's seeded generator: the distribution is torch's, the draws are not.
/// </summary>
public static class Init
{
    /// <summary>torch.nn.init.calculate_gain: linear/conv/sigmoid 1, tanh 5/3, relu √2, leaky_relu √(2/(1+slope²)) (slope 0.01 by default), selu 3/4.</summary>
    /// <exception cref="ArgumentException">The nonlinearity is not one of torch's names.</exception>
    public static double Gain(string nonlinearity, double param = double.NaN)
    {
        ArgumentNullException.ThrowIfNull(nonlinearity);
        return CoreInit.gain(nonlinearity, param);
    }

    /// <summary>Uniform samples in [low, high).</summary>
    public static Tensor Uniform(int[] shape, int seed, double low = 0, double high = 1, DType dtype = DType.Float64) =>
        Build(shape, () => CoreInit.uniform(Interop.ToCore(dtype), seed, low, high, shape));

    /// <summary>Normal samples with the given mean and standard deviation.</summary>
    public static Tensor Normal(int[] shape, int seed, double mean = 0, double std = 1, DType dtype = DType.Float64) =>
        Build(shape, () => CoreInit.normal(Interop.ToCore(dtype), seed, mean, std, shape));

    /// <summary>
    /// Normal samples with the given mean and standard deviation kept inside [<paramref name="low"/>,
    /// <paramref name="high"/>] (torch.nn.init.trunc_normal_, whose a and b are these absolute bounds, −2 and 2 by
    /// default): drawn by inverting the normal's CDF between the bounds, as torch, so a window far in a tail is as cheap.
    /// </summary>
    /// <exception cref="ArgumentException">std is not positive and finite, or low is not below high.</exception>
    public static Tensor TruncatedNormal(int[] shape, int seed, double mean = 0, double std = 1, double low = -2, double high = 2, DType dtype = DType.Float64) =>
        Build(shape, () => CoreInit.truncatedNormal(Interop.ToCore(dtype), seed, mean, std, low, high, shape));

    /// <summary>Xavier/Glorot uniform: U(−a, a), a = gain·√(6/(fan in + fan out)).</summary>
    public static Tensor XavierUniform(int[] shape, int seed, double gain = 1, DType dtype = DType.Float64) =>
        Build(shape, () => CoreInit.xavierUniform(Interop.ToCore(dtype), seed, gain, shape));

    /// <summary>Xavier/Glorot normal: N(0, std²), std = gain·√(2/(fan in + fan out)).</summary>
    public static Tensor XavierNormal(int[] shape, int seed, double gain = 1, DType dtype = DType.Float64) =>
        Build(shape, () => CoreInit.xavierNormal(Interop.ToCore(dtype), seed, gain, shape));

    /// <summary>Kaiming/He uniform: U(−b, b), b = gain·√(3/fan), with torch's defaults a = 0, fan in, leaky_relu.</summary>
    public static Tensor KaimingUniform(int[] shape, int seed, double a = 0, FanMode mode = FanMode.FanIn, string nonlinearity = "leaky_relu", DType dtype = DType.Float64) =>
        Build(shape, nonlinearity, () => CoreInit.kaimingUniform(Interop.ToCore(dtype), seed, a, ToCore(mode), nonlinearity, shape));

    /// <summary>Kaiming/He normal: N(0, std²), std = gain/√fan, with torch's defaults.</summary>
    public static Tensor KaimingNormal(int[] shape, int seed, double a = 0, FanMode mode = FanMode.FanIn, string nonlinearity = "leaky_relu", DType dtype = DType.Float64) =>
        Build(shape, nonlinearity, () => CoreInit.kaimingNormal(Interop.ToCore(dtype), seed, a, ToCore(mode), nonlinearity, shape));

    /// <summary>
    /// The weights of torch.nn.LSTM(inputSize, hiddenSize, numLayers, bias, bidirectional) as its reset_parameters draws
    /// them, every entry from U(−1/√hiddenSize, 1/√hiddenSize), named and shaped as its state dict (after
    /// <paramref name="prefix"/>) in torch's order: what <see cref="Nn.Lstm(Expr, IReadOnlyDictionary{string, Expr}, ValueTuple{Expr, Expr}?, bool, string, ScanCheckpoint?, Expr?, double, Expr?)"/>
    /// reads. One draw from <paramref name="seed"/> is split among the weights. With <paramref name="projSize"/> above 0
    /// (torch's proj_size) each layer and direction also has <c>weight_hr_l{k}</c> [projSize, hiddenSize], its
    /// <c>weight_hh</c> is [4·hiddenSize, projSize], and the layers above the first read directions·projSize features.
    /// F#: <c>Initialisers.recurrent</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A size or the number of layers is less than 1, or projSize is negative or not
    /// below hiddenSize.</exception>
    public static Parameters Lstm(int inputSize, int hiddenSize, int seed, int numLayers = 1, bool bidirectional = false, bool bias = true,
        string prefix = "", DType dtype = DType.Float64, int projSize = 0) =>
        Recurrent("Init.Lstm", 4, inputSize, hiddenSize, seed, numLayers, bidirectional, bias, prefix, dtype, projSize);

    /// <summary>
    /// The weights of torch.nn.GRU(inputSize, hiddenSize, numLayers, bias, bidirectional), as <see cref="Lstm"/> draws an
    /// LSTM's, with 3·hiddenSize rows per weight: what <see cref="Nn.Gru(Expr, IReadOnlyDictionary{string, Expr}, Expr?, bool, string, ScanCheckpoint?, Expr?, double, Expr?)"/>
    /// reads. F#: <c>Initialisers.recurrent</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A size or the number of layers is less than 1.</exception>
    public static Parameters Gru(int inputSize, int hiddenSize, int seed, int numLayers = 1, bool bidirectional = false, bool bias = true,
        string prefix = "", DType dtype = DType.Float64) =>
        Recurrent("Init.Gru", 3, inputSize, hiddenSize, seed, numLayers, bidirectional, bias, prefix, dtype, 0);

    /// <summary>
    /// The weights of torch.nn.RNN(inputSize, hiddenSize, numLayers, nonlinearity, bias, bidirectional), as <see cref="Lstm"/>
    /// draws an LSTM's, with hiddenSize rows per weight: what <see cref="Nn.Rnn(Expr, IReadOnlyDictionary{string, Expr}, Expr?, bool, string, ScanCheckpoint?, Expr?, double, Expr?, string)"/>
    /// reads. F#: <c>Initialisers.recurrent</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A size or the number of layers is less than 1.</exception>
    public static Parameters Rnn(int inputSize, int hiddenSize, int seed, int numLayers = 1, bool bidirectional = false, bool bias = true,
        string prefix = "", DType dtype = DType.Float64) =>
        Recurrent("Init.Rnn", 1, inputSize, hiddenSize, seed, numLayers, bidirectional, bias, prefix, dtype, 0);

    static Parameters Recurrent(string method, int gates, int inputSize, int hiddenSize, int seed, int numLayers, bool bidirectional,
        bool bias, string prefix, DType dtype, int projSize)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        var weights = CoreInit.recurrent(method, gates, Interop.ToCore(dtype), seed, inputSize, hiddenSize, numLayers, bidirectional, bias, projSize);
        return Parameters.Of(weights.Select(w => (prefix + w.Item1, new Tensor(w.Item2))).ToArray());
    }

    static CoreFanMode ToCore(FanMode mode) => mode switch
    {
        FanMode.FanIn => CoreFanMode.FanIn,
        FanMode.FanOut => CoreFanMode.FanOut,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "unknown fan mode"),
    };

    static Tensor Build(int[] shape, Func<FunctionalDiff.Core.Tensor> make)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return new Tensor(make());
    }

    static Tensor Build(int[] shape, string nonlinearity, Func<FunctionalDiff.Core.Tensor> make)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(nonlinearity);
        return new Tensor(make());
    }
}
