using FunctionalDiff.Compare.Train;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// Nn.Lstm and Nn.Gru against TorchSharp's torch.nn.LSTM and torch.nn.GRU modules (torch.nn.functional has no
/// recurrent layer), the module's weights set from ours by their state-dict names: the output and final states, the
/// gradient of a loss that reads all of them in the input, the initial states and every weight, and the Hessian of that
/// loss times a vector in all of them at once (torch's double backward through its CPU kernel), in float64 and float32.
/// </summary>
public class ClientTwentyTorchTests
{
    const int Time = 5, Batch = 2, In = 3, Hidden = 4;

    public static TheoryData<bool, int, bool, bool, bool, DType> Configs => new()
    {
        // isLstm, layers, bidirectional, bias, batchFirst, dtype
        { true, 2, true, true, false, DType.Float64 },
        { true, 1, false, false, true, DType.Float64 },
        { true, 2, true, true, true, DType.Float32 },
        { false, 2, true, true, true, DType.Float64 },
        { false, 1, true, false, false, DType.Float64 },
        { false, 2, false, true, false, DType.Float32 },
    };

    static Tensor Data(int[] shape, int salt, DType dtype) =>
        Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(i => Math.Sin(0.7 * i + salt)).ToArray(), shape).To(dtype);

    /// <summary>Ours over the arguments (the weights by name, then the input, h0 and, for an LSTM, c0): output, h_n (, c_n).</summary>
    static Expr[] OurResults(bool isLstm, string[] names, Expr[] a, bool batchFirst, Expr? lengths = null, string? rnn = null)
    {
        var w = names.Select((n, k) => (n, a[k])).ToDictionary(e => e.n, e => e.Item2);
        int i = names.Length;
        if (isLstm)
        {
            var (o, (h, c)) = Nn.Lstm(a[i], w, (a[i + 1], a[i + 2]), batchFirst, lengths: lengths);
            return [o, h, c];
        }
        var (output, hN) = rnn is null ? Nn.Gru(a[i], w, a[i + 1], batchFirst, lengths: lengths)
            : Nn.Rnn(a[i], w, a[i + 1], batchFirst, lengths: lengths, nonlinearity: rnn);
        return [output, hN];
    }

    /// <summary>The loss both sides differentiate: Σ output·A + Σ h_n·S (+ Σ c_n·S²), so it reads every result.</summary>
    static Expr OurLoss(Expr[] r, Tensor outputWeight, Tensor stateWeight)
    {
        var loss = (r[0] * outputWeight).Sum() + (r[1] * stateWeight).Sum();
        return r.Length == 3 ? loss + (r[2] * stateWeight * stateWeight).Sum() : loss;
    }

    static TT TorchLoss(TT[] r, Tensor outputWeight, Tensor stateWeight)
    {
        var (a, s) = (TorchBridge.ToTorch(outputWeight), TorchBridge.ToTorch(stateWeight));
        var loss = (r[0] * a).sum() + (r[1] * s).sum();
        return r.Length == 3 ? loss + (r[2] * s * s).sum() : loss;
    }

    /// <summary>TorchSharp's nn.LSTM or nn.GRU with our weights copied in by their state-dict names, and its parameters by name.</summary>
    static (torch.nn.Module Module, Dictionary<string, TorchSharp.Modules.Parameter> Parameters) TorchModule(
        bool isLstm, int layers, bool bias, bool batchFirst, bool bidirectional, DType dtype, Parameters weights, string? rnn = null)
    {
        torch.nn.Module module = isLstm
            ? nn.LSTM(In, Hidden, layers, bias, batchFirst, 0.0, bidirectional)
            : rnn is null ? nn.GRU(In, Hidden, layers, bias, batchFirst, 0.0, bidirectional)
            : nn.RNN(In, Hidden, layers, rnn == "relu" ? nn.NonLinearities.ReLU : nn.NonLinearities.Tanh, bias, batchFirst, 0.0, bidirectional);
        module.to(dtype == DType.Float64 ? ScalarType.Float64 : ScalarType.Float32);
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(weights.Names.OrderBy(n => n, StringComparer.Ordinal), parameters.Keys.OrderBy(n => n, StringComparer.Ordinal));
        using (torch.no_grad())
            foreach (var n in weights.Names) parameters[n].copy_(TorchBridge.ToTorch(weights[n]));
        return (module, parameters);
    }

    [Theory]
    [MemberData(nameof(Configs))]
    public void ValuesGradientsAndHessianVectorProductsAreTorchsModule(bool isLstm, int layers, bool bidirectional, bool bias, bool batchFirst, DType dtype) =>
        AgreeWithTorchsModule(isLstm, null, layers, bidirectional, bias, batchFirst, dtype);

    public static TheoryData<string, int, bool, bool, bool, DType> RnnConfigs => new()
    {
        // nonlinearity, layers, bidirectional, bias, batchFirst, dtype
        { "tanh", 2, true, true, false, DType.Float64 },
        { "relu", 2, false, true, true, DType.Float64 },
        { "tanh", 1, true, false, true, DType.Float32 },
        { "relu", 1, true, true, false, DType.Float32 },
    };

    [Theory]
    [MemberData(nameof(RnnConfigs))]
    public void TheElmanRnnIsTorchsModule(string nonlinearity, int layers, bool bidirectional, bool bias, bool batchFirst, DType dtype) =>
        AgreeWithTorchsModule(false, nonlinearity, layers, bidirectional, bias, batchFirst, dtype);

    static void AgreeWithTorchsModule(bool isLstm, string? rnn, int layers, bool bidirectional, bool bias, bool batchFirst, DType dtype)
    {
        using var scope = torch.NewDisposeScope();
        int directions = bidirectional ? 2 : 1;
        var weights = isLstm
            ? Init.Lstm(In, Hidden, seed: 3, numLayers: layers, bidirectional: bidirectional, bias: bias, dtype: dtype)
            : rnn is null ? Init.Gru(In, Hidden, seed: 3, numLayers: layers, bidirectional: bidirectional, bias: bias, dtype: dtype)
            : Init.Rnn(In, Hidden, seed: 3, numLayers: layers, bidirectional: bidirectional, bias: bias, dtype: dtype);
        int[] inputShape = batchFirst ? [Batch, Time, In] : [Time, Batch, In];
        int[] stateShape = [layers * directions, Batch, Hidden];
        int[] outputShape = batchFirst ? [Batch, Time, directions * Hidden] : [Time, Batch, directions * Hidden];
        var names = weights.Names.ToArray();
        // the differentiated arguments: the weights in the state dict's order, then the input, h0 and (LSTM) c0
        var arguments = names.Select(n => weights[n])
            .Append(Data(inputShape, 1, dtype)).Append(Data(stateShape, 2, dtype) * 0.5).ToList();
        if (isLstm) arguments.Add(Data(stateShape, 3, dtype) * 0.5);
        var tangents = arguments.Select((a, k) => Data(a.Shape, 10 + k, dtype)).ToArray();
        var outputWeight = Data(outputShape, 4, dtype);
        var stateWeight = Data(stateShape, 5, dtype);

        // ours
        Expr[] Results(Expr[] a) => OurResults(isLstm, names, a, batchFirst, rnn: rnn);
        Expr Loss(Expr[] a) => OurLoss(Results(a), outputWeight, stateWeight);
        var primals = arguments.Select(t => (Expr)t).ToArray();
        var ourResults = Expr.EvalMany(Results(primals));
        var ourGradients = Expr.EvalMany(Diff.Grad((Expr[] a) => Loss(a))(primals));
        var ourHvp = Expr.EvalMany(Diff.Hvp(Loss, primals, tangents.Select(t => (Expr)t).ToArray()));

        // torch's module, its parameters copied from ours by name
        var (module, parameters) = TorchModule(isLstm, layers, bias, batchFirst, bidirectional, dtype, weights, rnn);
        var inputs = arguments.Skip(names.Length).Select(t => TorchBridge.ToTorch(t).requires_grad_(true)).ToArray();
        TT[] results;
        if (isLstm)
        {
            var (o, h, c) = ((TorchSharp.Modules.LSTM)module).forward(inputs[0], (inputs[1], inputs[2]));
            results = [o, h, c];
        }
        else if (rnn is not null)
        {
            var (o, h) = ((TorchSharp.Modules.RNN)module).forward(inputs[0], inputs[1]);
            results = [o, h];
        }
        else
        {
            var (o, h) = ((TorchSharp.Modules.GRU)module).forward(inputs[0], inputs[1]);
            results = [o, h];
        }
        var torchLoss = TorchLoss(results, outputWeight, stateWeight);
        var all = names.Select(n => (TT)parameters[n]).Concat(inputs).ToArray();
        var gradients = torch.autograd.grad([torchLoss], all, create_graph: true, retain_graph: true);
        var dot = gradients.Select((g, k) => (g * TorchBridge.ToTorch(tangents[k])).sum()).Aggregate((x, y) => x + y);
        var hvp = torch.autograd.grad([dot], all, retain_graph: true);

        double tolerance = dtype == DType.Float64 ? 1e-12 : 2e-5;
        string what = $"{(isLstm ? "LSTM" : rnn is null ? "GRU" : "RNN " + rnn)} layers {layers} bidirectional {bidirectional} bias {bias} batchFirst {batchFirst} {dtype}";
        for (int k = 0; k < results.Length; k++)
            Assert.True(TorchBridge.TensorRelative(ourResults[k].ToDoubleArray(), TorchBridge.Values(results[k])) <= tolerance, $"{what}: result {k}");
        for (int k = 0; k < all.Length; k++)
        {
            string name = k < names.Length ? names[k] : $"input {k - names.Length}";
            Assert.True(TorchBridge.TensorRelative(ourGradients[k].ToDoubleArray(), TorchBridge.Values(gradients[k])) <= tolerance,
                $"{what}: gradient in {name}: {TorchBridge.TensorRelative(ourGradients[k].ToDoubleArray(), TorchBridge.Values(gradients[k]))}");
            Assert.True(TorchBridge.TensorRelative(ourHvp[k].ToDoubleArray(), TorchBridge.Values(hvp[k])) <= 10 * tolerance,
                $"{what}: Hessian-vector product in {name}: {TorchBridge.TensorRelative(ourHvp[k].ToDoubleArray(), TorchBridge.Values(hvp[k]))}");
        }
    }

    public static TheoryData<bool, bool, bool, int[]> PackedConfigs => new()
    {
        // isLstm, bidirectional, batchFirst, lengths (unsorted: torch's enforce_sorted=False sorts and unsorts them)
        { true, true, true, [2, 5] },
        { true, false, false, [5, 3] },
        { false, true, false, [1, 4] },
        { false, false, true, [3, 5] },
    };

    /// <summary>
    /// `lengths` against torch's own path for padded batches: pack_padded_sequence(x, lengths, batch_first,
    /// enforce_sorted=False), the module over the packed batch with (h0, c0), pad_packed_sequence(total_length = T): the
    /// output (0 at the padding), the final states after each entry's last real step, and the gradient of a loss of all
    /// of them in the input, the initial states and every weight, float64.
    /// </summary>
    [Theory]
    [MemberData(nameof(PackedConfigs))]
    public void LengthsAreTorchsPackedSequences(bool isLstm, bool bidirectional, bool batchFirst, int[] lengths)
    {
        using var scope = torch.NewDisposeScope();
        const int layers = 2;
        int directions = bidirectional ? 2 : 1;
        var weights = isLstm
            ? Init.Lstm(In, Hidden, seed: 4, numLayers: layers, bidirectional: bidirectional)
            : Init.Gru(In, Hidden, seed: 4, numLayers: layers, bidirectional: bidirectional);
        int[] inputShape = batchFirst ? [Batch, Time, In] : [Time, Batch, In];
        int[] stateShape = [layers * directions, Batch, Hidden];
        int[] outputShape = batchFirst ? [Batch, Time, directions * Hidden] : [Time, Batch, directions * Hidden];
        var names = weights.Names.ToArray();
        var arguments = names.Select(n => weights[n])
            .Append(Data(inputShape, 1, DType.Float64)).Append(Data(stateShape, 2, DType.Float64) * 0.5).ToList();
        if (isLstm) arguments.Add(Data(stateShape, 3, DType.Float64) * 0.5);
        var outputWeight = Data(outputShape, 4, DType.Float64);
        var stateWeight = Data(stateShape, 5, DType.Float64);
        Expr lengthsExpr = Tensor.FromArray(lengths.Select(v => (double)v).ToArray());

        Expr[] Results(Expr[] a) => OurResults(isLstm, names, a, batchFirst, lengthsExpr);
        Expr Loss(Expr[] a) => OurLoss(Results(a), outputWeight, stateWeight);
        var primals = arguments.Select(t => (Expr)t).ToArray();
        var ourResults = Expr.EvalMany(Results(primals));
        var ourGradients = Expr.EvalMany(Diff.Grad((Expr[] a) => Loss(a))(primals));

        var (module, parameters) = TorchModule(isLstm, layers, true, batchFirst, bidirectional, DType.Float64, weights);
        var inputs = arguments.Skip(names.Length).Select(t => TorchBridge.ToTorch(t).requires_grad_(true)).ToArray();
        var packed = nn.utils.rnn.pack_padded_sequence(inputs[0], torch.tensor(lengths.Select(v => (long)v).ToArray()), batchFirst, enforce_sorted: false);
        TT[] results;
        if (isLstm)
        {
            var (o, h, c) = ((TorchSharp.Modules.LSTM)module).call(packed, (inputs[1], inputs[2]));
            results = [nn.utils.rnn.pad_packed_sequence(o, batchFirst, total_length: Time).Item1, h, c];
        }
        else
        {
            var (o, h) = ((TorchSharp.Modules.GRU)module).call(packed, inputs[1]);
            results = [nn.utils.rnn.pad_packed_sequence(o, batchFirst, total_length: Time).Item1, h];
        }
        var torchLoss = TorchLoss(results, outputWeight, stateWeight);
        var all = names.Select(n => (TT)parameters[n]).Concat(inputs).ToArray();
        var gradients = torch.autograd.grad([torchLoss], all);

        string what = $"{(isLstm ? "LSTM" : "GRU")} bidirectional {bidirectional} batchFirst {batchFirst} lengths [{string.Join(", ", lengths)}]";
        for (int k = 0; k < results.Length; k++)
            Assert.True(TorchBridge.TensorRelative(ourResults[k].ToDoubleArray(), TorchBridge.Values(results[k])) <= 1e-12, $"{what}: result {k}");
        for (int k = 0; k < all.Length; k++)
        {
            string name = k < names.Length ? names[k] : $"input {k - names.Length}";
            double relative = TorchBridge.TensorRelative(ourGradients[k].ToDoubleArray(), TorchBridge.Values(gradients[k]));
            Assert.True(relative <= 1e-12, $"{what}: gradient in {name}: {relative}");
        }
    }
}
