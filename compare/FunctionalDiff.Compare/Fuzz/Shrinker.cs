using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Fuzz;

/// <summary>
/// Shrinks a failing program while it keeps failing the same way: an earlier value as the output, an op
/// bypassed (replaced by its operand of the same shape), an input turned into a constant, input and
/// constant values replaced by rounder ones (0, 1, one decimal). Greedy, with a budget of runs.
/// </summary>
public static class Shrinker
{
    /// <summary>Most candidate programs checked for one failure.</summary>
    public const int Budget = 300;

    /// <summary>The smallest program found that still fails like <paramref name="signature"/>.</summary>
    public static FuzzProgram Shrink(FuzzProgram program, DType dtype, FuzzCheck.FailureSignature signature) =>
        Shrink(program, candidate => FuzzCheck.FailsLike(candidate, dtype, signature));

    /// <summary>The smallest program found for which <paramref name="fails"/> still holds.</summary>
    public static FuzzProgram Shrink(FuzzProgram program, Func<FuzzProgram, bool> fails)
    {
        int runs = 0;
        var best = program.Compact();
        bool progress = true;
        while (progress && runs < Budget)
        {
            progress = false;
            var shapes = Shapes(best);
            if (shapes is null) break;
            foreach (var candidate in Candidates(best, shapes))
            {
                if (runs >= Budget) break;
                if (Shapes(candidate) is null) continue;
                runs++;
                if (!fails(candidate)) continue;
                best = candidate.Compact();
                progress = true;
                break;
            }
        }
        return best;
    }

    /// <summary>Every value's shape, from a float64 TorchSharp run; null when the program is not valid.</summary>
    static int[][]? Shapes(FuzzProgram p) => Values(p)?.Select(v => v.Shape).ToArray();

    /// <summary>Every value's shape and numbers, from a float64 TorchSharp run; null when the program is not valid.</summary>
    static (int[] Shape, double[] Numbers)[]? Values(FuzzProgram p)
    {
        using var scope = torch.NewDisposeScope();
        try
        {
            var inputs = p.InputValues.Select((v, i) => torch.tensor(v, dtype: ScalarType.Float64).reshape(p.InputShapes[i].Select(d => (long)d).ToArray())).ToArray();
            return TorchInterpreter.RunAll(p, inputs).Select(t => (t.shape.Select(d => (int)d).ToArray(),
                t.numel() == 0 ? Array.Empty<double>() : t.contiguous().data<double>().ToArray())).ToArray();
        }
        catch (Exception)
        {
            return null;
        }
    }

    static IEnumerable<FuzzProgram> Candidates(FuzzProgram p, int[][] shapes)
    {
        int n = p.InputCount;
        // an earlier value as the output: drops every step after it
        for (int v = n; v < p.Output; v++)
            yield return p with { Output = v };
        // an intermediate becomes an input holding its numbers: drops every step that only fed it
        var computed = Values(p);
        if (computed != null)
            for (int v = p.Output - 1; v >= n; v--)
                yield return Promote(p, v, computed[v].Numbers, computed[v].Shape);
        // bypass a step: its users read one of its operands of the same shape instead
        for (int i = p.Steps.Length - 1; i >= 0; i--)
            foreach (var a in p.Steps[i].Args.Distinct())
                if (shapes[a].SequenceEqual(shapes[n + i]))
                    yield return Replace(p, n + i, a);
        // an input becomes a constant (fewer differentiated inputs)
        if (n > 1)
            for (int i = 0; i < n; i++)
                yield return InputToConstant(p, i);
        // rounder numbers
        for (int i = 0; i < n; i++)
            foreach (var values in Simpler(p.InputValues[i]))
            {
                var inputs = p.InputValues.ToArray();
                inputs[i] = values;
                yield return p with { InputValues = inputs };
            }
        for (int k = 0; k < p.Steps.Length; k++)
            if (p.Steps[k].Kind == OpKind.Const)
                foreach (var values in Simpler(p.Steps[k].Data!))
                {
                    var steps = p.Steps.ToArray();
                    steps[k] = steps[k] with { Data = values };
                    yield return p with { Steps = steps };
                }
    }

    /// <summary>Every read of value <paramref name="from"/> reads <paramref name="to"/> instead.</summary>
    static FuzzProgram Replace(FuzzProgram p, int from, int to) => p with
    {
        Steps = p.Steps.Select(s => s with { Args = s.Args.Select(a => a == from ? to : a).ToArray() }).ToArray(),
        Output = p.Output == from ? to : p.Output,
    };

    static FuzzProgram Promote(FuzzProgram p, int value, double[] numbers, int[] shape)
    {
        int n = p.InputCount;
        int Map(int v) => v == value ? n : v < n ? v : v + 1;
        return p with
        {
            InputShapes = p.InputShapes.Append(shape).ToArray(),
            InputValues = p.InputValues.Append(numbers).ToArray(),
            Steps = p.Steps.Select(s => s with { Args = s.Args.Select(Map).ToArray() }).ToArray(),
            Output = Map(p.Output),
        };
    }

    static FuzzProgram InputToConstant(FuzzProgram p, int input)
    {
        int n = p.InputCount;
        int Map(int v) => v < input ? v : v == input ? n - 1 : v < n ? v - 1 : v + 0;
        // values: inputs other than `input` keep their order, the constant is the first step, old steps follow it
        var constant = new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: p.InputValues[input], DataShape: p.InputShapes[input]);
        var steps = p.Steps.Select(s => s with { Args = s.Args.Select(Map).ToArray() }).Prepend(constant).ToArray();
        return p with
        {
            InputShapes = p.InputShapes.Where((_, i) => i != input).ToArray(),
            InputValues = p.InputValues.Where((_, i) => i != input).ToArray(),
            Steps = steps,
            Output = Map(p.Output),
        };
    }

    /// <summary>Rounder versions of a vector: all rounded to one decimal, then one element at a time set to 0.</summary>
    static IEnumerable<double[]> Simpler(double[] values)
    {
        var rounded = values.Select(v => Math.Round(v, 1)).ToArray();
        if (!rounded.SequenceEqual(values)) yield return rounded;
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] == 0.0) continue;
            var copy = values.ToArray();
            copy[i] = 0.0;
            yield return copy;
        }
    }
}
