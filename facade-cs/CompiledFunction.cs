using CoreCompiled = FunctionalDiff.Core.CompiledFunction;
using CoreTensor = FunctionalDiff.Core.Tensor;

namespace FunctionalDiff;

/// <summary>
/// A function over Exprs compiled for Tensors by <see cref="Diff.Compile(Func{Expr[], Expr[]})"/>: traced over symbolic
/// inputs at the first call with each input signature (the inputs' shapes and dtypes), compiled
/// once to a plan (a schedule with fused elementwise passes and reused buffers), and run as that
/// plan on every later call with the same signature.
/// </summary>
/// <remarks>
/// Tensors the function captures from its surroundings, rather than receives as inputs, are
/// constants of the plan, and whatever depends only on them is computed once, at tracing: data
/// that changes from call to call (a new batch, new parameters) must be an input. Calls from
/// several threads at once are safe and give the same bits as calls made one after another.
/// </remarks>
public sealed class CompiledFunction
{
    readonly CoreCompiled compiled;

    internal CompiledFunction(CoreCompiled compiled) => this.compiled = compiled;

    /// <summary>How many input signatures have been traced so far.</summary>
    public int TraceCount => compiled.TraceCount;

    /// <summary>Runs the function on the inputs, tracing it first if their signature is new.</summary>
    /// <returns>The function's results, in its order, as fresh tensors owned by the caller.</returns>
    /// <exception cref="ArgumentException">
    /// The function cannot be traced with these inputs (a wrong number of inputs, a shape or dtype
    /// its operations reject); the message names the position, the shape and dtype given and those
    /// of the signature traced first.
    /// </exception>
    /// <exception cref="InvalidOperationException">
    /// The results depend on an Expr the function kept from an earlier trace (JAX's leaked tracer);
    /// the message names it. Or the function failed on its own while it was traced (it returned
    /// null, or threw an error of its own, which is the inner exception).
    /// </exception>
    public Tensor[] Invoke(params Tensor[] inputs)
    {
        var results = compiled.Invoke(Unwrap(inputs, nameof(inputs)));
        var wrapped = new Tensor[results.Length];
        for (int i = 0; i < results.Length; i++) wrapped[i] = new Tensor(results[i]);
        return wrapped;
    }

    /// <summary>
    /// Runs the function and writes its results into <paramref name="outputs"/>, which are
    /// overwritten: pass tensors of the results' shapes and dtypes that nothing else reads, such
    /// as the results of an earlier <see cref="Invoke"/>. A loop that reuses its outputs this way
    /// allocates next to nothing per call. An output may also be one of the inputs (an in-place
    /// update such as <c>step.InvokeInto(p, p)</c>); such a call computes into fresh memory and
    /// then copies, so it allocates.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// An output has the wrong shape or dtype, is a view, shares memory with another output, or is
    /// a tensor the function captured (a constant of its plan).
    /// </exception>
    public void InvokeInto(Tensor[] inputs, Tensor[] outputs)
    {
        var coreInputs = Unwrap(ref spareInputs, inputs, nameof(inputs));
        var coreOutputs = Unwrap(ref spareOutputs, outputs, nameof(outputs));
        try
        {
            compiled.InvokeInto(coreInputs, coreOutputs);
        }
        finally
        {
            GiveBack(ref spareInputs, coreInputs);
            GiveBack(ref spareOutputs, coreOutputs);
        }
    }

    // The core's tensors of a call, in arrays this thread keeps between calls, so that a loop over
    // InvokeInto allocates nothing. A slot is emptied while its array is in use: a function traced
    // during the call may call InvokeInto itself, and then gets arrays of its own.
    [ThreadStatic] static CoreTensor[]? spareInputs;
    [ThreadStatic] static CoreTensor[]? spareOutputs;

    static CoreTensor[] Unwrap(Tensor[] tensors, string name)
    {
        CoreTensor[]? none = null;
        return Unwrap(ref none, tensors, name);
    }

    static CoreTensor[] Unwrap(ref CoreTensor[]? spare, Tensor[] tensors, string name)
    {
        Interop.ThrowIfAnyNull(tensors, name);
        var core = spare is { } kept && kept.Length == tensors.Length ? kept : new CoreTensor[tensors.Length];
        spare = null;
        for (int i = 0; i < tensors.Length; i++) core[i] = tensors[i].Value;
        return core;
    }

    /// <summary>Clears the array (it must not keep the caller's tensors alive) and keeps it for the next call.</summary>
    static void GiveBack(ref CoreTensor[]? spare, CoreTensor[] core)
    {
        Array.Clear(core);
        spare = core;
    }
}
