using CoreTensor = FunctionalDiff.Core.Tensor;

namespace FunctionalDiff;

/// <summary>
/// TorchSharp's dispose scope: made by <see cref="Tensor.NewDisposeScope"/>, it takes every tensor made on its thread
/// while it is the innermost open scope, and disposes them when it is disposed (see <see cref="Tensor.Dispose"/>).
/// Scopes nest and close in the reverse order of opening, on the thread that opened them.
/// </summary>
public sealed class TensorScope : IDisposable
{
    [ThreadStatic] static TensorScope? innermost;

    readonly TensorScope? outer;
    // the serial of the last tensor made before the scope opened: later ones are the scope's
    readonly long openedAt;
    readonly HashSet<Tensor> tensors = new(ReferenceEqualityComparer.Instance);
    bool closed;

    internal TensorScope()
    {
        outer = innermost;
        openedAt = CoreTensor.CurrentSerial;
        innermost = this;
    }

    /// <summary>The number of tensors the scope will dispose.</summary>
    public int Count => tensors.Count;

    /// <summary>
    /// Hands <paramref name="tensor"/> to the enclosing scope (or to none, when this is the outermost), so that it
    /// outlives this one: TorchSharp's <c>MoveToOuter</c>. Returns the tensor.
    /// </summary>
    /// <exception cref="InvalidOperationException">The scope is already disposed.</exception>
    public Tensor MoveToOuter(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (closed) throw new InvalidOperationException("TensorScope.MoveToOuter: the scope is already disposed");
        if (tensors.Remove(tensor)) outer?.tensors.Add(tensor);
        return tensor;
    }

    /// <summary>Takes <paramref name="tensor"/> out of every scope, TorchSharp's <c>Detach</c>: no scope disposes it. Returns it.</summary>
    /// <exception cref="InvalidOperationException">The scope is already disposed.</exception>
    public Tensor Detach(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        if (closed) throw new InvalidOperationException("TensorScope.Detach: the scope is already disposed");
        tensors.Remove(tensor);
        return tensor;
    }

    /// <summary>Disposes every tensor the scope holds, and closes it. A second call does nothing.</summary>
    /// <exception cref="InvalidOperationException">A scope opened inside this one is still open, or the call is on another thread.</exception>
    public void Dispose()
    {
        if (closed) return;
        if (!ReferenceEquals(innermost, this))
            throw new InvalidOperationException(
                "TensorScope.Dispose: scopes close in the reverse order of opening, on the thread that opened them; a scope opened inside this one is still open, or this is another thread");
        closed = true;
        innermost = outer;
        foreach (var t in tensors) t.Value.Dispose();
        tensors.Clear();
    }

    // A facade tensor joins the innermost scope when its core tensor was made after the scope opened:
    // an op that hands back a tensor made before (a view's source is never handed back; a same-dtype
    // cast is a view) must not make the scope dispose it.
    internal static void Adopt(Tensor tensor)
    {
        var scope = innermost;
        if (scope is not null && tensor.Value.Serial > scope.openedAt) scope.tensors.Add(tensor);
    }

    // The open scope on this thread that holds the tensor, or null.
    internal static TensorScope? Holding(Tensor tensor)
    {
        for (var scope = innermost; scope is not null; scope = scope.outer)
            if (scope.tensors.Contains(tensor)) return scope;
        return null;
    }

    // A tensor disposed by hand leaves its scope, so the scope holds no dead references.
    internal static void Forget(Tensor tensor)
    {
        for (var scope = innermost; scope is not null; scope = scope.outer) scope.tensors.Remove(tensor);
    }
}
