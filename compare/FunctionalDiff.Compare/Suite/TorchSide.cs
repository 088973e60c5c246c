using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

/// <summary>
/// libtorch's answers for every check of a case. A failing <c>torch.autograd.grad</c> aborts the
/// process natively, so every call is guarded: an output without a graph (no <c>requires_grad</c>)
/// has a zero derivative, which is what the mathematics says for a function that is constant in x.
/// </summary>
public static class TorchSide
{
    /// <summary>Evaluates the value and every derivative check with TorchSharp.</summary>
    public static Dictionary<Check, double[]> Run(Case c, Probe probe, DType dtype, bool withHessian)
    {
        using var scope = torch.NewDisposeScope();
        var type = dtype == DType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        TT Make(double[] values, long[] shape, bool grad = false) =>
            torch.tensor(values, dtype: type).reshape(shape).requires_grad_(grad);

        var shapes = c.Inputs.Select(i => i.Shape.Select(d => (long)d).ToArray()).ToArray();
        var xs = probe.Inputs.Select((v, i) => Make(v, shapes[i], grad: true)).ToArray();
        var y = c.Torch(xs);
        var results = new Dictionary<Check, double[]> { [Check.Value] = Flat(y) };

        var u = Make(probe.Cotangent, y.shape);
        // ∇⟨y, u⟩ with a graph, so it can be differentiated again
        var g = Grad(y, xs, u, createGraph: true);
        results[Check.Vjp] = Concat(g, xs);

        if (c.TorchFirstOrderOnly)
        {
            results[Check.Jvp] = JvpByRows(y, xs, probe, shapes, Make);
            results[Check.Compiled] = results[Check.Value].Concat(results[Check.Vjp]).ToArray();
            return results;
        }

        // d/dx ⟨∇⟨y,u⟩, v⟩: the HVP for scalar outputs, the VJP of ⟨pullback(u), v⟩ otherwise
        TT? s = null;
        for (int i = 0; i < xs.Length; i++)
        {
            if (g[i] is null || !g[i]!.requires_grad) continue;
            var term = (g[i]! * Make(probe.Direction[i], shapes[i])).sum();
            s = s is null ? term : s + term;
        }
        results[Check.SecondOrder] = Concat(s is null ? new TT?[xs.Length] : Grad(s, xs, null, createGraph: false), xs);

        // forward mode by the double-backward trick: J·t = d/du ⟨Jᵀu, t⟩, with u a dummy that requires grad
        if (!y.requires_grad)
        {
            results[Check.Jvp] = new double[y.numel()];
        }
        else
        {
            var dummy = torch.zeros_like(y).requires_grad_(true);
            var gu = Grad(y, xs, dummy, createGraph: true);
            TT? q = null;
            for (int i = 0; i < xs.Length; i++)
            {
                if (gu[i] is null || !gu[i]!.requires_grad) continue;
                var term = (gu[i]! * Make(probe.Tangent[i], shapes[i])).sum();
                q = q is null ? term : q + term;
            }
            results[Check.Jvp] = q is null ? new double[y.numel()] : Flat(Grad(q, new[] { dummy }, null, createGraph: false)[0] ?? torch.zeros_like(y), y.numel());
        }

        if (withHessian)
        {
            // row j of the Hessian of ⟨y, u⟩ is ∇ of the j-th entry of its gradient
            int n = c.InputSize;
            var flatGrad = xs.Select((x, i) => g[i] is null ? torch.zeros_like(x).flatten() : g[i]!.flatten()).ToArray();
            var gradient = torch.cat(flatGrad, 0);
            var hessian = new double[n * n];
            for (int j = 0; j < n; j++)
            {
                var entry = gradient[j];
                if (!entry.requires_grad) continue;
                var row = Concat(Grad(entry, xs, null, createGraph: false), xs);
                Array.Copy(row, 0, hessian, j * n, n);
            }
            results[Check.Hessian] = hessian;
        }
        // the compiled check computes the value and the VJP in one call
        results[Check.Compiled] = results[Check.Value].Concat(results[Check.Vjp]).ToArray();
        return results;
    }

    /// <summary>
    /// J·t without differentiating a backward: entry k is ⟨∇yₖ, t⟩, one reverse pass per output entry (a case whose
    /// backward libtorch cannot differentiate, <see cref="Case.TorchFirstOrderOnly"/>).
    /// </summary>
    static double[] JvpByRows(TT y, TT[] xs, Probe probe, long[][] shapes, Func<double[], long[], bool, TT> make)
    {
        var jvp = new double[y.numel()];
        if (!y.requires_grad) return jvp;
        var flat = y.flatten();
        var tangents = xs.Select((_, i) => make(probe.Tangent[i], shapes[i], false)).ToArray();
        for (int k = 0; k < jvp.Length; k++)
        {
            var row = Grad(flat[k], xs, null, createGraph: false);
            jvp[k] = row.Select((r, i) => r is null ? 0.0 : (r * tangents[i]).sum().to_type(ScalarType.Float64).item<double>()).Sum();
        }
        return jvp;
    }

    /// <summary>
    /// torch.autograd.grad with the guards this runner needs: no call when the output has no graph,
    /// unused inputs as null. The graph is always retained: later checks reuse it.
    /// </summary>
    internal static TT?[] Grad(TT output, TT[] inputs, TT? cotangent, bool createGraph)
    {
        if (!output.requires_grad) return new TT?[inputs.Length];
        var result = torch.autograd.grad(
            new[] { output }, inputs, cotangent is null ? null : new[] { cotangent },
            retain_graph: true, create_graph: createGraph, allow_unused: true);
        return result.Select(t => t is null || t.IsInvalid ? null : t).ToArray();
    }

    static double[] Concat(TT?[] parts, TT[] like) =>
        parts.Select((p, i) => p is null ? new double[like[i].numel()] : Flat(p, like[i].numel())).SelectMany(a => a).ToArray();

    static double[] Flat(TT t, long expected = -1)
    {
        // clone: some derivatives (abs's second) come back as libtorch's storage-less "efficient zero"
        // tensors, whose data accessor fails; a clone materialises them
        // an empty tensor has no storage to read
        var values = t.numel() == 0 ? Array.Empty<double>() : t.detach().to_type(ScalarType.Float64).contiguous().clone().data<double>().ToArray();
        if (expected >= 0 && values.Length != expected)
            throw new InvalidOperationException($"torch returned {values.Length} values where {expected} were expected");
        return values;
    }
}
