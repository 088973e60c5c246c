using System.Collections.Concurrent;

namespace FunctionalDiff;

/// <summary>
/// The tensor methods that are small graphs (softmax, statistics, tiling, ...) compiled once per op, parameters and
/// input signature, so that a call on a small tensor runs a cached plan instead of planning a fresh graph: for 16
/// elements that was 12-30 µs a call, against under 1 µs through the plan. The results are the same bits (a plan is
/// what <see cref="Expr.Eval"/> runs too).
/// </summary>
/// <remarks>
/// Only inputs of at most <see cref="MaxElements"/> elements take the cache: a plan keeps buffers of its inputs' sizes,
/// so caching large shapes would keep their memory. The cache holds at most <see cref="MaxEntries"/> plans and starts
/// over when full, so a program that meets many shapes keeps a bounded few.
/// </remarks>
internal static class EagerPlans
{
    internal const int MaxElements = 4096;
    internal const int MaxEntries = 64;

    static readonly ConcurrentDictionary<string, CompiledFunction> Plans = new();

    /// <summary>f at the inputs, evaluated: through a cached compiled plan for small inputs, as one Eval otherwise.</summary>
    /// <param name="key">The op and every parameter f closes over: two calls with one key must build the same graph.</param>
    /// <param name="f">The graph of the inputs.</param>
    /// <param name="inputs">The tensors, in the order f reads them.</param>
    internal static Tensor Run(string key, Func<Expr[], Expr> f, params Tensor[] inputs)
    {
        foreach (var t in inputs)
            if (t.Numel > MaxElements) return f(inputs.Select(i => (Expr)i).ToArray()).Eval();
        var signature = new System.Text.StringBuilder(key);
        foreach (var t in inputs)
        {
            signature.Append('|').Append(t.DType == DType.Float32 ? 'f' : 'd');
            foreach (var d in t.Shape) signature.Append(',').Append(d);
        }
        var name = signature.ToString();
        if (Plans.TryGetValue(name, out var plan)) return plan.Invoke(inputs)[0];
        // The first call of a signature evaluates the graph itself, so a shape error is the op's own (a trace inside
        // Compile would wrap it), and only a signature that built a graph gets a plan; Compile traces at its first call.
        var result = f(inputs.Select(i => (Expr)i).ToArray()).Eval();
        if (Plans.Count >= MaxEntries) Plans.Clear();
        Plans.TryAdd(name, Diff.Compile((Expr[] a) => new[] { f(a) }));
        return result;
    }

    /// <summary>The number of cached plans (for tests).</summary>
    internal static int Count => Plans.Count;
}
