using System.Reflection;
using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>The facade's public surface must show C# callers no F# type.</summary>
public class PublicSurfaceTests
{
    static readonly Assembly Facade = typeof(DType).Assembly;

    static IEnumerable<Type> Mentioned(Type t)
    {
        if (t.HasElementType) return Mentioned(t.GetElementType()!);
        if (!t.IsGenericType) return new[] { t };
        return new[] { t.GetGenericTypeDefinition() }.Concat(t.GetGenericArguments().SelectMany(Mentioned));
    }

    static IEnumerable<(string Member, Type Type)> PublicSignatureTypes()
    {
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        foreach (var type in Facade.GetExportedTypes())
        {
            if (type.BaseType != null) yield return ($"{type.Name} base", type.BaseType);
            foreach (var i in type.GetInterfaces()) yield return ($"{type.Name} implements", i);
            foreach (var m in type.GetMethods(flags))
            {
                yield return ($"{type.Name}.{m.Name} returns", m.ReturnType);
                foreach (var p in m.GetParameters()) yield return ($"{type.Name}.{m.Name}({p.Name})", p.ParameterType);
            }
            foreach (var c in type.GetConstructors(flags))
                foreach (var p in c.GetParameters()) yield return ($"{type.Name}..ctor({p.Name})", p.ParameterType);
            foreach (var p in type.GetProperties(flags)) yield return ($"{type.Name}.{p.Name}", p.PropertyType);
            foreach (var f in type.GetFields(flags)) yield return ($"{type.Name}.{f.Name}", f.FieldType);
        }
    }

    [Fact]
    public void NoPublicSignatureMentionsAnFSharpCoreType()
    {
        var leaks = PublicSignatureTypes()
            .SelectMany(s => Mentioned(s.Type).Select(t => (s.Member, t)))
            .Where(s => s.t.Assembly.GetName().Name == "FSharp.Core" || (s.t.Namespace ?? "").StartsWith("Microsoft.FSharp"))
            .Select(s => $"{s.Member}: {s.t.FullName}")
            .ToList();
        Assert.True(leaks.Count == 0, "F# types in the public surface:\n" + string.Join("\n", leaks));
    }

    [Fact]
    public void TheCheckRecognisesAnFSharpTypeWhenOneIsPresent()
    {
        // Guards the test above against passing vacuously: the same predicate flags FSharpFunc.
        var fsharpFunc = typeof(Microsoft.FSharp.Core.FSharpFunc<int, int>);
        Assert.Equal("FSharp.Core", Mentioned(fsharpFunc).First().Assembly.GetName().Name);
    }

    [Fact]
    public void ThePublicTypesAreTheContractsAndNothingMore()
    {
        // Internal helpers (interop, wrappers) must stay internal; a new public type is a decision, not an accident.
        var names = Facade.GetExportedTypes().Select(t => t.Name).OrderBy(n => n, StringComparer.Ordinal);
        Assert.Equal(new[] { "Adadelta", "Adagrad", "Adam", "AdamW", "Adamax", "Batches", "ChainedScheduler", "CompiledFunction", "CompiledValueAndGrad", "ConstantLR", "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "CyclicLR", "CyclicLRMode", "DType", "Diff", "Distributions",
                             "EighResult", "ExponentialLR", "Expr", "FanMode", "Generator", "GradCheckResult", "GridSampleMode", "GridSamplePadding", "Init", "InterpolationMode",
                             "JacobianMode", "LRScheduler", "LambdaLR", "Lbfgs", "LinearLR", "Loss", "MultiStepLR", "MultiheadAttentionResult", "MultiplicativeLR", "NAdam", "Nn", "Npy", "Npz", "OneCycleLR",
                             "Optimizer", "PadMode", "Parallelism", "Parameters", "PolynomialLR", "QrResult", "QuantileInterpolation", "RAdam", "ReduceLROnPlateau", "Reduction", "RmsProp", "ScanCheckpoint", "ScanOptions", "SequentialLR",
                             "Sgd", "SlogDetResult", "StepLR", "SvdResult", "Tensor", "TensorMemory", "TensorScope" }, names);
    }

    [Fact]
    public void DiffCompileAcceptsNamedParametersAndReturnsTheGradientsByName()
    {
        // Issue 14: "Diff.ValueAndGrad (and Diff.Compile) accept [the parameter collection] and return
        // gradients by name", written as a user of the README's CompileValueAndGrad would guess it.
        var parameters = Parameters.Of(("w", Tensor.FromArray(new[] { 1.0, -2.0 })), ("b", Tensor.Scalar(0.5)));
        var step = Diff.Compile((p, data) => (p["w"] * data[0]).Sum() + p["b"] * p["b"]);
        var (loss, gradients) = step.Invoke(parameters, Tensor.FromArray(new[] { 3.0, 4.0 }));
        // closed forms of L = w·x + b²: dL/dw = x, dL/db = 2b
        Assert.Equal(1.0 * 3.0 - 2.0 * 4.0 + 0.25, loss.ToScalar());
        Assert.Equal(new[] { 3.0, 4.0 }, gradients["w"].ToDoubleArray());
        Assert.Equal(1.0, gradients["b"].ToScalar());
        Assert.Equal(new[] { "w", "b" }, gradients.Names);
        // the Expr[] form still binds where both could: a null, and the issue-12 contract
        Assert.Equal("f", Assert.Throws<ArgumentNullException>(() => Diff.Compile(null!)).ParamName);
        Assert.Equal("loss", Assert.Throws<ArgumentNullException>(() => Diff.Compile((Func<IReadOnlyDictionary<string, Expr>, Expr[], Expr>)null!)).ParamName);
        CompiledFunction plain = Diff.Compile((Expr[] p) => [p[0] * 2.0]);
        Assert.Equal(new[] { 2.0 }, plain.Invoke(Tensor.FromArray(new[] { 1.0 }))[0].ToDoubleArray());
    }

    [Fact]
    public void AWrongNumberOfInputsNamesThePositionWithTheTracedAndGivenShapes()
    {
        // Issue 12: "a call with the wrong number of inputs gets a clear error that names the position,
        // the expected shape and dtype, and the given ones".
        var step = Diff.Compile((Expr[] p) => [p[0].MatMul(p[1])]);
        var a = Tensor.Ones(new[] { 2, 3 });
        step.Invoke(a, Tensor.Ones(new[] { 3, 4 }));
        var missing = Assert.Throws<ArgumentException>(() => step.Invoke(a));
        Assert.Equal("inputs", missing.ParamName);
        Assert.Contains("Invoke", missing.Message);
        Assert.Contains("inputs[1] (float64[3,4] as traced) is missing", missing.Message);
        Assert.Contains("got 1 (float64[2,3])", missing.Message);
        var into = Assert.Throws<ArgumentException>(() => step.InvokeInto([a], [Tensor.Zeros(new[] { 2, 4 })]));
        Assert.Contains("InvokeInto", into.Message);
        Assert.Contains("inputs[1] (float64[3,4] as traced) is missing", into.Message);
        Assert.Equal(1, step.TraceCount);
    }

    [Fact]
    public void VmapOfSeveralResultsBatchesEveryInputAndResultOnAxisZeroByDefault()
    {
        // Issue 16: "plus overloads for the common cases (every argument batched on axis 0)", here
        // for a function of several results.
        Func<Expr[], Expr[]> batched = Diff.Vmap((Expr[] a) => [(a[0] * a[1]).Sum(), a[0] - a[1]]);
        var x = Tensor.FromArray(new[] { 1.0, 2.0, 3.0, 4.0, 5.0, 6.0 }, 3, 2);
        var y = Tensor.FromArray(new[] { 0.5, -1.0, 2.0, 0.0, -3.0, 1.5 }, 3, 2);
        var results = batched([x, y]);
        // per example (a row of x and of y): the dot product, and the difference
        Assert.Equal(new[] { 1.0 * 0.5 - 2.0, 3.0 * 2.0, 5.0 * -3.0 + 6.0 * 1.5 }, results[0].Eval().ToDoubleArray());
        Assert.Equal(new[] { 3, 2 }, results[1].Shape);
        Assert.Equal(new[] { 0.5, 3.0, 1.0, 4.0, 8.0, 4.5 }, results[1].Eval().ToDoubleArray());
    }

    [Fact]
    public void CheckpointTakesAFunctionOfSeveralArgumentsWithOneResult()
    {
        // Issue 19: "Diff.Checkpoint(Func<Expr, Expr> f), plus an Expr[] overload", in the form of a
        // layer of its input and its weights.
        var layer = Diff.Checkpoint((Expr[] a) => a[1].MatMul(a[0]).Tanh());
        var w = Tensor.FromArray(new[] { 0.5, -0.3, 0.2, 0.4 }, 2, 2);
        var x0 = Tensor.FromArray(new[] { 0.3, -0.7 });
        var (dx, dw) = Diff.Grad((Expr x, Expr m) => layer([layer([x, m]), m]).Sum())(x0, w);
        // central differences of the same two layers written with doubles
        double[] wv = w.ToDoubleArray(), xv = x0.ToDoubleArray();
        double[] Layer(double[] m, double[] v) => new[] { Math.Tanh(m[0] * v[0] + m[1] * v[1]), Math.Tanh(m[2] * v[0] + m[3] * v[1]) };
        TestSupport.Close(TestSupport.Gradient(v => Layer(wv, Layer(wv, v)).Sum(), xv), dx.Eval().ToDoubleArray(), 1e-6, "dx");
        TestSupport.Close(TestSupport.Gradient(m => Layer(m, Layer(m, xv)).Sum(), wv), dw.Eval().ToDoubleArray(), 1e-6, "dW");
        // an untyped lambda over one Expr still means the one-Expr overload
        Func<Expr, Expr> one = Diff.Checkpoint(x => x.Max());
        Assert.Equal(2.0, one(Tensor.FromArray(new[] { 1.0, 2.0 })).Eval().ToScalar());
    }
}
