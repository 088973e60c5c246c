using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>Named parameters: gradients by name against finite differences, compiled against uncompiled, and batches.</summary>
public class ParameterTests
{
    static Expr Loss(IReadOnlyDictionary<string, Expr> p, Expr x, Expr y) =>
        FunctionalDiff.Loss.Mse((x.MatMul(p["w"]) + p["b"]).Tanh(), y);

    static readonly Tensor X = Tensor.RandomNormal([8, 3], seed: 1);
    static readonly Tensor Y = Tensor.RandomNormal([8, 2], seed: 2);
    static readonly Parameters Start = Parameters.Of(("w", Tensor.RandomNormal([3, 2], seed: 3)), ("b", Tensor.RandomNormal([2], seed: 4)));

    static double LossAt(Parameters p) => Loss(p.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value), X, Y).Eval().ToScalar();

    [Fact]
    public void ValueAndGradReturnsGradientsByNameMatchingFiniteDifferences()
    {
        var (value, gradients) = Diff.ValueAndGrad(p => Loss(p, X, Y), Start);
        Assert.Equal(new[] { "w", "b" }, gradients.Keys);
        Assert.Equal(LossAt(Start), value.Eval().ToScalar(), 12);
        foreach (var name in Start.Names)
        {
            var shape = Start[name].Shape;
            var numeric = TestSupport.Gradient(v => LossAt(Start.With(name, Tensor.FromArray(v, shape))), Start[name].ToDoubleArray());
            var ours = gradients[name].Eval().ToDoubleArray();
            for (int i = 0; i < ours.Length; i++) Assert.Equal(numeric[i], ours[i], 7);
        }
    }

    [Fact]
    public void CompiledValueAndGradEqualsTheUncompiledOneAndTracesOnce()
    {
        var step = Diff.CompileValueAndGrad((p, d) => Loss(p, d[0], d[1]));
        var (value, gradients) = Diff.ValueAndGrad(p => Loss(p, X, Y), Start);
        for (int call = 0; call < 3; call++)
        {
            var (loss, grads) = step.Invoke(Start, X, Y);
            Assert.Equal(value.Eval().ToScalar(), loss.ToScalar(), 12);
            Assert.Equal(new[] { "w", "b" }, grads.Names);
            foreach (var name in Start.Names)
            {
                var expected = gradients[name].Eval().ToDoubleArray();
                var actual = grads[name].ToDoubleArray();
                for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 12);
            }
        }
        Assert.Equal(1, step.TraceCount);
    }

    [Fact]
    public void ParametersAreImmutableAndNamed()
    {
        var moved = Start.With("b", Start["b"] + 1.0);
        Assert.Equal(Start["b"].ToDoubleArray().Select(v => v + 1), moved["b"].ToDoubleArray());
        Assert.NotSame(Start["b"], moved["b"]);
        Assert.Same(Start["w"], moved["w"]);
        Assert.Equal(new[] { "w", "b", "c" }, Start.With("c", Tensor.Zeros([1])).Names);
        Assert.Equal(8, Start.ElementCount);
        Assert.Contains("'z'", Assert.Throws<KeyNotFoundException>(() => Start["z"]).Message);
        Assert.Throws<ArgumentException>(() => Parameters.Of(("a", X), ("a", Y)));
    }

    [Fact]
    public void BatchesCoverEveryRowOnceAndKeepInputsWithTargets()
    {
        var x = Tensor.Arange(0, 10).Reshape(10, 1);
        var y = x * 100.0;
        var batches = Batches.Shuffled(batchSize: 4, seed: 7, [x, y]);
        Assert.Equal(new[] { 4, 4, 2 }, batches.Select(b => b[0].Shape[0]));
        var rows = batches.SelectMany(b => b[0].ToDoubleArray()).ToArray();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (double)i), rows.Order());
        Assert.NotEqual(Enumerable.Range(0, 10).Select(i => (double)i), rows);
        foreach (var b in batches) Assert.Equal(b[0].ToDoubleArray().Select(v => v * 100), b[1].ToDoubleArray());
        Assert.Equal(rows, Batches.Shuffled(4, 7, [x, y]).SelectMany(b => b[0].ToDoubleArray()));
        Assert.Equal(2, Batches.InOrder(4, [x], dropLast: true).Count);
        Assert.Equal(new[] { 0.0, 1, 2, 3 }, Batches.InOrder(4, [x])[0][0].ToDoubleArray());
        Assert.ThrowsAny<ArgumentException>(() => Batches.Shuffled(4, 1, [x, Tensor.Zeros([9, 1])]));
    }

    [Fact]
    public void PermutationsAreSeededPermutations()
    {
        var p = Batches.Permutation(1000, seed: 5);
        Assert.Equal(Enumerable.Range(0, 1000), p.Order());
        Assert.Equal(p, Batches.Permutation(1000, seed: 5));
        Assert.NotEqual(p, Batches.Permutation(1000, seed: 6));
        // a fair shuffle leaves about one fixed point on average; 1000 elements leave far fewer than 20
        Assert.True(p.Where((v, i) => v == i).Count() < 20);
    }

    [Fact]
    public void ACompiledLossTellsNameListsApartWhateverCharactersTheNamesHold()
    {
        // ["a\0b"] and ["a", "b"] are different parameter lists: each must get a plan of its own.
        var step = Diff.CompileValueAndGrad((p, d) =>
        {
            Expr loss = 0.0;
            foreach (var (name, weight) in new[] { ("a", 2.0), ("b", 3.0), ("a\0b", 5.0) })
                if (p.TryGetValue(name, out var e)) loss = loss + e.Sum() * weight;
            return loss;
        });
        var (one, g1) = step.Invoke(Parameters.Of(("a\0b", Tensor.Ones([2]))));
        var (two, g2) = step.Invoke(Parameters.Of(("a", Tensor.Ones([2])), ("b", Tensor.Ones([2]))));
        Assert.Equal(5.0 * 2, one.ToScalar());
        Assert.Equal(new[] { 5.0, 5.0 }, g1["a\0b"].ToDoubleArray());
        Assert.Equal(2.0 * 2 + 3.0 * 2, two.ToScalar());
        Assert.Equal(new[] { 2.0, 2.0 }, g2["a"].ToDoubleArray());
        Assert.Equal(new[] { 3.0, 3.0 }, g2["b"].ToDoubleArray());
    }

    /// <summary>
    /// A loss that asks for a name the parameters lack hears which names there are, as
    /// <see cref="Parameters"/>'s own indexer says (it said only "The given key 'weight' was not
    /// present in the dictionary").
    /// </summary>
    [Fact]
    public void AMissingNameInALossListsTheNames()
    {
        var p = Parameters.Of(("w", Tensor.Ones([2])), ("b", Tensor.Ones([1])));
        var direct = Assert.Throws<KeyNotFoundException>(() => Diff.ValueAndGrad(q => q["weight"].Sum(), p));
        Assert.Contains("'weight'", direct.Message);
        Assert.Contains("w, b", direct.Message);
        var compiled = Assert.ThrowsAny<ArgumentException>(() => Diff.CompileValueAndGrad((q, d) => q["weight"].Sum()).Invoke(p));
        Assert.Contains("'weight'", compiled.Message);
        Assert.Contains("w, b", compiled.Message);
    }
}
