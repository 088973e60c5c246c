using System.Collections;

namespace FunctionalDiff;

/// <summary>
/// An immutable, ordered collection of named tensors: a model's parameters, their gradients, an
/// <c>.npz</c> file's arrays. <see cref="Diff.ValueAndGrad(Func{IReadOnlyDictionary{string, Expr}, Expr}, Parameters)"/>
/// and <see cref="Diff.CompileValueAndGrad(Func{IReadOnlyDictionary{string, Expr}, Expr[], Expr})"/> take one and return gradients under the same names;
/// the optimizers (<see cref="Adam"/>, <see cref="Sgd"/>, ...) step one.
/// </summary>
/// <example><code>
/// var p = Parameters.Of(("w", Init.XavierUniform([2, 8], seed: 1)), ("b", Tensor.Zeros([8])));
/// Tensor w = p["w"];
/// Parameters moved = p.With("b", p["b"] + 1.0);
/// </code></example>
public sealed class Parameters : IReadOnlyDictionary<string, Tensor>
{
    readonly string[] names;
    readonly Tensor[] values;
    readonly Dictionary<string, int> index;

    internal Parameters(string[] names, Tensor[] values)
    {
        this.names = names;
        this.values = values;
        index = new Dictionary<string, int>(names.Length, StringComparer.Ordinal);
        for (int i = 0; i < names.Length; i++)
        {
            if (string.IsNullOrEmpty(names[i])) throw new ArgumentException("Parameters: every entry needs a non-empty name", "entries");
            if (values[i] is null) throw new ArgumentNullException("entries", $"Parameters: the tensor named '{names[i]}' is null");
            if (!index.TryAdd(names[i], i)) throw new ArgumentException($"Parameters: the name '{names[i]}' appears twice", "entries");
        }
    }

    /// <summary>A collection of the entries, in their order.</summary>
    /// <exception cref="ArgumentException">A name is empty or appears twice.</exception>
    public static Parameters Of(params (string Name, Tensor Value)[] entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        return new(entries.Select(e => e.Name).ToArray(), entries.Select(e => e.Value).ToArray());
    }

    /// <summary>A collection of the entries, in their order.</summary>
    /// <exception cref="ArgumentException">A name is empty or appears twice.</exception>
    public static Parameters Of(IEnumerable<KeyValuePair<string, Tensor>> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        var list = entries.ToArray();
        return new(list.Select(e => e.Key).ToArray(), list.Select(e => e.Value).ToArray());
    }

    /// <summary>The names, in order.</summary>
    public IReadOnlyList<string> Names => names;

    /// <summary>The tensor with the given name.</summary>
    /// <exception cref="KeyNotFoundException">No entry has this name; the message lists the names there are.</exception>
    public Tensor this[string name] =>
        index.TryGetValue(name ?? throw new ArgumentNullException(nameof(name)), out var i)
            ? values[i]
            : throw new KeyNotFoundException($"Parameters: no entry named '{name}' (the names are {string.Join(", ", names)})");

    /// <summary>A copy with the entry <paramref name="name"/> replaced, or appended when it is new.</summary>
    public Parameters With(string name, Tensor value)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(value);
        if (index.TryGetValue(name, out var i))
        {
            var copy = (Tensor[])values.Clone();
            copy[i] = value;
            return new(names, copy);
        }
        return new([.. names, name], [.. values, value]);
    }

    /// <summary>A collection with the same names, each tensor replaced by <c>f(name, tensor)</c>.</summary>
    public Parameters Map(Func<string, Tensor, Tensor> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return new(names, names.Select((n, i) => f(n, values[i])).ToArray());
    }

    /// <summary>
    /// The tensors as constants of a graph, under the same names and in the same order, so that a model written over
    /// <c>IReadOnlyDictionary&lt;string, Expr&gt;</c> for <see cref="Diff.CompileValueAndGrad(Func{IReadOnlyDictionary{string, Expr}, Expr[], Expr})"/>
    /// or <c>Diff.ValueAndGrad(p =&gt; loss, parameters)</c> is also called outside them, as torch's <c>model(x)</c>:
    /// <c>Forward(model.AsExprs(), x).Eval()</c>. Nothing is differentiated through them; the dictionary is a new one,
    /// which the caller may copy and change (<c>new Dictionary&lt;string, Expr&gt;(model.AsExprs()) { ["b"] = b }</c>).
    /// </summary>
    public IReadOnlyDictionary<string, Expr> AsExprs()
    {
        var result = new Dictionary<string, Expr>(names.Length);
        for (int i = 0; i < names.Length; i++) result[names[i]] = values[i];
        return result;
    }

    /// <summary>The total number of elements over every tensor.</summary>
    public long ElementCount => values.Sum(v => (long)v.Value.Numel);

    /// <summary>Writes the collection as a NumPy <c>.npz</c> archive (see <see cref="Npz"/>).</summary>
    public void Save(string path) => Npz.Save(path, this);

    /// <summary>Reads a NumPy <c>.npz</c> archive (see <see cref="Npz"/>).</summary>
    public static Parameters Load(string path) => Npz.Load(path);

    /// <summary>The tensors, in the order of <see cref="Names"/> (a dictionary's <c>Values</c>, here a list).</summary>
    public IReadOnlyList<Tensor> Values => values;
    internal string[] NameArray => names;

    /// <summary>The number of entries.</summary>
    public int Count => names.Length;
    /// <summary>Whether an entry has this name.</summary>
    public bool ContainsKey(string key) => index.ContainsKey(key);
    /// <summary>The tensor with this name, if there is one.</summary>
    public bool TryGetValue(string key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor value)
    {
        var found = index.TryGetValue(key, out var i);
        value = found ? values[i] : null;
        return found;
    }
    /// <summary>The names, in order.</summary>
    public IEnumerable<string> Keys => names;
    /// <summary>The tensors, in order.</summary>
    IEnumerable<Tensor> IReadOnlyDictionary<string, Tensor>.Values => values;
    /// <summary>The entries, in order.</summary>
    public IEnumerator<KeyValuePair<string, Tensor>> GetEnumerator()
    {
        for (int i = 0; i < names.Length; i++) yield return new(names[i], values[i]);
    }
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>One line per entry: its name, shape and dtype.</summary>
    public override string ToString() =>
        string.Join("\n", names.Select((n, i) => $"{n}: [{string.Join(", ", values[i].Shape)}] {values[i].DType.ToString().ToLowerInvariant()}"));
}
