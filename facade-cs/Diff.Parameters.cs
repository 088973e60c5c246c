using System.Collections.ObjectModel;

namespace FunctionalDiff;

public static partial class Diff
{
    /// <summary>
    /// The value of a one-element <paramref name="f"/> at named parameters and its gradient with
    /// respect to each, under the same names and in the same order.
    /// </summary>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    public static (Expr Value, IReadOnlyDictionary<string, Expr> Gradients) ValueAndGrad(
        Func<IReadOnlyDictionary<string, Expr>, Expr> f, Parameters parameters)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(parameters);
        var names = parameters.NameArray;
        var (value, gradients) = ValueAndGrad((Expr[] xs) => f(Named(names, xs)), parameters.Values.Select(t => (Expr)t).ToArray());
        return (value, Named(names, gradients));
    }

    /// <summary>
    /// JAX's <c>value_and_grad(f, has_aux=True)</c> of a function of named parameters: f returns its one-element
    /// loss and auxiliary outputs, <c>p =&gt; (loss, [accuracy])</c>; the result is the loss, the auxiliary outputs
    /// (not differentiated) and the gradient with respect to each parameter, under the same names and in the same order.
    /// </summary>
    /// <exception cref="ArgumentException">The loss has more or fewer than one element.</exception>
    public static (Expr Value, Expr[] Aux, IReadOnlyDictionary<string, Expr> Gradients) ValueAndGrad(
        Func<IReadOnlyDictionary<string, Expr>, (Expr Loss, Expr[] Aux)> f, Parameters parameters)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(parameters);
        var names = parameters.NameArray;
        var (value, aux, gradients) = ValueAndGrad((Expr[] xs) => f(Named(names, xs)), parameters.Values.Select(t => (Expr)t).ToArray());
        return (value, aux, Named(names, gradients));
    }

    /// <summary>
    /// The gradient of a one-element <paramref name="f"/> with respect to each named parameter, under the same
    /// names and in the same order (<c>jax.grad</c> of a function of a parameter dictionary).
    /// </summary>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    public static IReadOnlyDictionary<string, Expr> Grad(Func<IReadOnlyDictionary<string, Expr>, Expr> f, Parameters parameters) =>
        ValueAndGrad(f, parameters).Gradients;

    /// <summary>
    /// The value of a one-element <paramref name="f"/> at named parameters that are themselves expressions, and its
    /// gradient with respect to each, under the same names and in the same order. Inside a loss whose parameters are
    /// being differentiated (a compiled step's <c>p</c>), this is torch's <c>torch.autograd.grad(loss, params.values(),
    /// create_graph=True)</c>: the gradients are expressions of <paramref name="parameters"/>, so an update built from them
    /// (MAML's fast weights, <c>p[k] - alpha * g[k]</c>) is differentiated through by the outer transform, second-order
    /// terms included.
    /// </summary>
    /// <exception cref="ArgumentNullException">f, parameters or one of its values is null.</exception>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    public static (Expr Value, IReadOnlyDictionary<string, Expr> Gradients) ValueAndGrad(
        Func<IReadOnlyDictionary<string, Expr>, Expr> f, IReadOnlyDictionary<string, Expr> parameters)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(parameters);
        var names = parameters.Keys.ToArray();
        var values = names.Select(n => parameters[n]).ToArray();
        Interop.ThrowIfAnyNull(values, nameof(parameters));
        var (value, gradients) = ValueAndGrad((Expr[] xs) => f(Named(names, xs)), values);
        return (value, Named(names, gradients));
    }

    /// <summary>
    /// The gradient of a one-element <paramref name="f"/> with respect to named parameters that are expressions, under
    /// the same names and in the same order: see <see cref="ValueAndGrad(Func{IReadOnlyDictionary{string, Expr}, Expr}, IReadOnlyDictionary{string, Expr})"/>.
    /// </summary>
    /// <example>MAML's inner step inside a meta-loss over <c>p</c>:
    /// <code>var g = Diff.Grad(q =&gt; Loss.Mse(Net(q, xSupport), ySupport), p);
    /// var fast = p.ToDictionary(e =&gt; e.Key, e =&gt; e.Value - alpha * g[e.Key]);</code></example>
    /// <exception cref="ArgumentNullException">f, parameters or one of its values is null.</exception>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    public static IReadOnlyDictionary<string, Expr> Grad(Func<IReadOnlyDictionary<string, Expr>, Expr> f, IReadOnlyDictionary<string, Expr> parameters) =>
        ValueAndGrad(f, parameters).Gradients;

    /// <summary>
    /// Compiles a loss of named parameters and data (a batch, targets) into a training step's first
    /// half: each call returns the loss and its gradient with respect to every parameter, by name.
    /// It is traced once per signature (the parameters' names, shapes and dtypes and the data's) and
    /// then runs as a plan, as <see cref="Compile(Func{Expr[], Expr[]})"/> does.
    /// </summary>
    /// <example><code>
    /// var step = Diff.CompileValueAndGrad((p, d) => Loss.Mse(d[0].MatMul(p["w"]) + p["b"], d[1]));
    /// var (loss, grads) = step.Invoke(parameters, x, y);
    /// </code></example>
    public static CompiledValueAndGrad CompileValueAndGrad(Func<IReadOnlyDictionary<string, Expr>, Expr[], Expr> loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return new CompiledValueAndGrad(loss);
    }

    /// <summary>
    /// <see cref="CompileValueAndGrad(Func{IReadOnlyDictionary{string, Expr}, Expr[], Expr})"/> for a loss with auxiliary
    /// outputs (JAX's <c>jit(value_and_grad(f, has_aux=True))</c>): <c>(p, data) =&gt; (loss, [accuracy])</c>. Its
    /// <see cref="CompiledValueAndGrad.InvokeWithAux"/> returns the loss, the auxiliary outputs (not differentiated) and
    /// the gradients by name, from one plan.
    /// </summary>
    /// <example><code>
    /// var step = Diff.CompileValueAndGrad((p, d) => { var y = d[0].MatMul(p["w"]); return (Loss.Mse(y, d[1]), [Loss.L1(y, d[1])]); });
    /// var (loss, aux, grads) = step.InvokeWithAux(parameters, x, y);
    /// </code></example>
    public static CompiledValueAndGrad CompileValueAndGrad(Func<IReadOnlyDictionary<string, Expr>, Expr[], (Expr Loss, Expr[] Aux)> loss)
    {
        ArgumentNullException.ThrowIfNull(loss);
        return new CompiledValueAndGrad(loss);
    }

    /// <summary>
    /// The same as <see cref="CompileValueAndGrad(Func{IReadOnlyDictionary{string, Expr}, Expr[], Expr})"/>: compiles a loss of named parameters and data
    /// into a plan whose <see cref="CompiledValueAndGrad.Invoke"/> returns the loss and its gradients
    /// by name. A lambda of two arguments, <c>(p, data) =&gt; loss</c>, selects this overload; one of
    /// an <c>Expr[]</c> selects the general <see cref="Compile(Func{Expr[], Expr[]})"/>.
    /// </summary>
    /// <example><code>
    /// var step = Diff.Compile((p, d) => Loss.Mse(d[0].MatMul(p["w"]) + p["b"], d[1]));
    /// var (loss, grads) = step.Invoke(parameters, x, y);
    /// </code></example>
    public static CompiledValueAndGrad Compile(Func<IReadOnlyDictionary<string, Expr>, Expr[], Expr> loss) =>
        CompileValueAndGrad(loss);

    internal static IReadOnlyDictionary<string, Expr> Named(string[] names, Expr[] values)
    {
        var d = new Dictionary<string, Expr>(names.Length, StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++) d.Add(names[i], values[i]);
        return new NamedExprs(d, names);
    }

    /// <summary>
    /// The parameters a loss sees. A name that is not there is the commonest slip in a loss
    /// (p["weight"] for "w"), so the indexer says which names there are, as <see cref="Parameters"/>'s does.
    /// </summary>
    sealed class NamedExprs(Dictionary<string, Expr> entries, string[] names)
        : ReadOnlyDictionary<string, Expr>(entries), IReadOnlyDictionary<string, Expr>
    {
        Expr IReadOnlyDictionary<string, Expr>.this[string key] =>
            entries.TryGetValue(key ?? throw new ArgumentNullException(nameof(key)), out var value)
                ? value
                : throw new KeyNotFoundException($"Parameters: no entry named '{key}' (the names are {string.Join(", ", names)})");
    }
}

/// <summary>
/// A loss of named parameters and data compiled with its gradient by <see cref="Diff.CompileValueAndGrad(Func{IReadOnlyDictionary{string, Expr}, Expr[], Expr})"/>.
/// Calls from several threads at once are safe.
/// </summary>
public sealed class CompiledValueAndGrad
{
    // a loss without auxiliary outputs is held as one with none, so both kinds compile the same way
    readonly Func<IReadOnlyDictionary<string, Expr>, Expr[], (Expr Loss, Expr[] Aux)> loss;
    readonly Dictionary<string, CompiledFunction> byNames = new(StringComparer.Ordinal);

    internal CompiledValueAndGrad(Func<IReadOnlyDictionary<string, Expr>, Expr[], Expr> loss) => this.loss = (p, data) => (loss(p, data), []);

    internal CompiledValueAndGrad(Func<IReadOnlyDictionary<string, Expr>, Expr[], (Expr Loss, Expr[] Aux)> loss) => this.loss = loss;

    /// <summary>How many signatures have been traced so far.</summary>
    public int TraceCount
    {
        get { lock (byNames) return byNames.Values.Sum(c => c.TraceCount); }
    }

    /// <summary>The loss at the parameters and data, and its gradient for every parameter by name.</summary>
    /// <exception cref="ArgumentException">The loss cannot be traced with these inputs, or returns more than one element.</exception>
    public (Tensor Loss, Parameters Gradients) Invoke(Parameters parameters, params Tensor[] data)
    {
        var (value, _, gradients) = InvokeWithAux(parameters, data);
        return (value, gradients);
    }

    /// <summary>
    /// The loss at the parameters and data, the auxiliary outputs the loss function returned beside it (none for a loss
    /// compiled without them), and its gradient for every parameter by name.
    /// </summary>
    /// <exception cref="ArgumentException">The loss cannot be traced with these inputs, or returns more than one element.</exception>
    public (Tensor Loss, Tensor[] Aux, Parameters Gradients) InvokeWithAux(Parameters parameters, params Tensor[] data)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Interop.ThrowIfAnyNull(data, nameof(data));
        var names = parameters.NameArray;
        CompiledFunction compiled;
        lock (byNames)
        {
            // each name behind its length, so no two lists of names make one key, whatever they hold
            var key = string.Concat(names.Select(n => $"{n.Length}:{n}"));
            if (!byNames.TryGetValue(key, out compiled!))
            {
                int k = names.Length;
                compiled = Diff.Compile((Expr[] inputs) =>
                {
                    var batch = inputs[k..];
                    var (value, aux, gradients) = Diff.ValueAndGrad((Expr[] p) => loss(Diff.Named(names, p), batch), inputs[..k]);
                    return [value, .. aux, .. gradients];
                });
                byNames.Add(key, compiled);
            }
        }
        Tensor[] results;
        try
        {
            results = compiled.Invoke([.. parameters.Values, .. data]);
        }
        catch (ArgumentException e) when (e.ParamName == "inputs")
        {
            throw Renamed(e, names, data.Length);
        }
        int auxCount = results.Length - 1 - names.Length;
        return (results[0], results[1..(1 + auxCount)], new Parameters(names, results[(1 + auxCount)..]));
    }

    // The compiled function numbers its inputs as one array, parameters first, then the data; the
    // caller passed them apart, so the error names them as the caller did: parameter 'w', data[0].
    static ArgumentException Renamed(ArgumentException e, string[] names, int dataCount)
    {
        var message = e.Message;
        var suffix = $" (Parameter '{e.ParamName}')";
        if (message.EndsWith(suffix, StringComparison.Ordinal)) message = message[..^suffix.Length];
        // An index past an array while tracing is, here, the loss reading data[i] past the batch the call
        // passed (the parameters are a dictionary): say so in the caller's terms rather than counting inputs.
        var hint = System.Text.RegularExpressions.Regex.Match(message, @" \(did the function read an input beyond the \d+ given\?\)$");
        if (e.InnerException is IndexOutOfRangeException && hint.Success)
            return new ArgumentException(message[..hint.Index] + $" (did the loss read data[i] beyond the {dataCount} data tensors given?)", "data", e);
        bool aboutData = false;
        message = System.Text.RegularExpressions.Regex.Replace(message, @"inputs\[(\d+)\]", m =>
        {
            int i = int.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            if (i < names.Length) return $"parameter '{names[i]}'";
            aboutData = true;
            return $"data[{i - names.Length}]";
        });
        return new ArgumentException(message, aboutData ? "data" : "parameters", e);
    }
}
