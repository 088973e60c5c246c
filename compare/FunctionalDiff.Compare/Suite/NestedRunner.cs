using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Suite;

/// <summary>
/// Runs the checks of a case with a transform inside (<see cref="Case.Nested"/>): the objective's
/// value, and its meta-gradient in each of the four mode combinations (and the outer
/// Hessian-vector product when the model asks for it), each against libtorch computing the same
/// quantity in the same grouping of modes. The tolerances and the report are the suite's.
/// </summary>
public static class NestedRunner
{
    /// <summary>The results of one nested case in one dtype; exceptions become failed checks, never silence.</summary>
    public static List<CheckResult> Run(Case c, NestedModel model, DType dtype)
    {
        var names = model.CheckNames().ToList();
        try
        {
            var probe = Probe.For(c);
            var shape = c.Inputs[0].Shape;
            var ours = Ours(model, OurSide.Make(probe.Inputs[0], shape, dtype), OurSide.Make(probe.Direction[0], shape, dtype));
            var torch = Torch(model, probe.Inputs[0], probe.Direction[0], shape, dtype);
            var tolerance = c.ToleranceFor(dtype);
            return names.Select(k => CheckResult.Compare(c.Name, dtype, k, ours[k], torch[k], tolerance)).ToList();
        }
        catch (Exception e)
        {
            string note = $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");
            return names.Select(k => CheckResult.Error(c.Name, CheckResult.Name(dtype), k, note)).ToList();
        }
    }

    static Dictionary<string, double[]> Ours(NestedModel model, Expr theta, Expr v)
    {
        var results = new Dictionary<string, double[]>
        {
            [nameof(Check.Value)] = model.Ours(OurNested.Inner(Mode.Reverse), theta).Eval().ToDoubleArray(),
        };
        foreach (var modes in ModePair.All)
        {
            results["Gradient " + modes.Name] = OurNested.MetaGradient(model, modes, theta).Eval().ToDoubleArray();
            if (model.WithHvp)
                results["HVP " + modes.Name] = OurNested.Hvp(model, modes, theta, v).Eval().ToDoubleArray();
        }
        return results;
    }

    static Dictionary<string, double[]> Torch(NestedModel model, double[] thetaValues, double[] direction, int[] shape, DType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var type = dtype == DType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        var longShape = shape.Select(d => (long)d).ToArray();
        var theta = torch.tensor(thetaValues, dtype: type).reshape(longShape).requires_grad_(true);
        var v = torch.tensor(direction, dtype: type).reshape(longShape);
        var results = new Dictionary<string, double[]>
        {
            [nameof(Check.Value)] = Flat(model.Torch(TorchNested.Inner(Mode.Reverse), theta)),
        };
        foreach (var modes in ModePair.All)
        {
            results["Gradient " + modes.Name] = Flat(TorchNested.MetaGradient(model, modes, theta, createGraph: false));
            if (model.WithHvp)
                results["HVP " + modes.Name] = Flat(TorchNested.Hvp(model, modes, theta, v));
        }
        return results;
    }

    static double[] Flat(TorchSharp.torch.Tensor t) =>
        t.detach().to_type(ScalarType.Float64).contiguous().clone().data<double>().ToArray();
}
