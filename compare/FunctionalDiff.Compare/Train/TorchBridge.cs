using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Train;

/// <summary>Copies between our tensors and TorchSharp's, and the relative difference the train checks report.</summary>
public static class TorchBridge
{
    /// <summary>A TorchSharp tensor with our tensor's values, shape and dtype.</summary>
    public static TT ToTorch(Tensor t) =>
        t.DType == DType.Float64
            ? torch.tensor(t.ToDoubleArray(), dtype: ScalarType.Float64).reshape(t.Shape.Select(d => (long)d).ToArray())
            : torch.tensor(t.ToSingleArray(), dtype: ScalarType.Float32).reshape(t.Shape.Select(d => (long)d).ToArray());

    /// <summary>The elements of a TorchSharp tensor as float64 (exact for float32).</summary>
    public static double[] Values(TT t) =>
        t.dtype == ScalarType.Float64 ? t.detach().contiguous().data<double>().ToArray() : t.detach().contiguous().data<float>().ToArray().Select(v => (double)v).ToArray();

    /// <summary>
    /// A tensor's relative difference: max |ours − torch| / max |torch| (0 when both are all zeros).
    /// Elementwise ratios would call a parameter near 0 far off for a difference of a few ulps of
    /// the tensor's scale.
    /// </summary>
    public static double TensorRelative(double[] ours, double[] theirs)
    {
        double difference = 0, scale = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            double d = Math.Abs(ours[i] - theirs[i]);
            if (double.IsNaN(d)) return double.PositiveInfinity;
            difference = Math.Max(difference, d);
            scale = Math.Max(scale, Math.Max(Math.Abs(ours[i]), Math.Abs(theirs[i])));
        }
        return scale == 0 ? 0 : difference / scale;
    }

    /// <summary>
    /// The largest elementwise |ours − torch| / max(|ours|, |torch|) (0 where both are 0): the
    /// relative difference, undefined only where both sides agree on exactly 0.
    /// </summary>
    public static double MaxRelative(double[] ours, double[] theirs)
    {
        double worst = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            double scale = Math.Max(Math.Abs(ours[i]), Math.Abs(theirs[i]));
            double d = scale == 0 ? 0 : Math.Abs(ours[i] - theirs[i]) / scale;
            if (double.IsNaN(d)) return double.PositiveInfinity;
            worst = Math.Max(worst, d);
        }
        return worst;
    }
}
