using System.Reflection;
using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Errors speak the caller's language: every public method rejects a null argument with an
/// ArgumentNullException whose ParamName is that parameter's C# name, found by reflection over the
/// whole facade, so a new method is checked without being listed here.
/// </summary>
public class ArgumentNameTests
{
    static readonly Assembly Facade = typeof(Expr).Assembly;
    static readonly NullabilityInfoContext Nullability = new();

    /// <summary>A valid value of each parameter type the facade takes.</summary>
    static object? Sample(Type type, string? name = null)
    {
        Expr Square() => Tensor.Ones(new[] { 2, 2 });
        if (type == typeof(Expr)) return Square();
        if (type == typeof(Tensor)) return Tensor.Ones(new[] { 2, 2 });
        if (type == typeof(Expr[])) return new[] { Square(), Square() };
        if (type == typeof(int[])) return new[] { 0 };
        if (type == typeof(int?[])) return new int?[] { 0, null };
        if (type == typeof(double[])) return new[] { 1.0 };
        if (type == typeof(float[])) return new[] { 1.0f };
        if (type == typeof(bool[])) return new[] { true };
        if (type == typeof(double[,])) return new double[1, 1];
        if (type == typeof(float[,])) return new float[1, 1];
        if (type == typeof(int[,])) return new int[1, 1];
        if (type == typeof(long[])) return new[] { 0L };
        if (type == typeof(long[,])) return new long[1, 1];
        if (type == typeof(bool[,])) return new bool[1, 1];
        if (type == typeof(Func<Expr, Expr>)) return (Func<Expr, Expr>)(x => x.Sum());
        if (type == typeof(Func<Expr, Expr, Expr>)) return (Func<Expr, Expr, Expr>)((x, y) => (x * y).Sum());
        if (type == typeof(Func<Expr[], Expr>)) return (Func<Expr[], Expr>)(xs => xs[0].Sum());
        if (type == typeof(Func<Expr[], Expr[]>)) return (Func<Expr[], Expr[]>)(xs => [xs[0].Sum()]);
        if (type == typeof(Func<IReadOnlyDictionary<string, Expr>, Expr[], (Expr, Expr[])>))
            return (Func<IReadOnlyDictionary<string, Expr>, Expr[], (Expr, Expr[])>)((p, d) => (p["w"].Sum(), [p["w"]]));
        if (type == typeof(Func<IReadOnlyDictionary<string, Expr>, (Expr, Expr[])>))
            return (Func<IReadOnlyDictionary<string, Expr>, (Expr, Expr[])>)(p => (p["w"].Sum(), [p["w"]]));
        if (type == typeof(Func<Expr[], (Expr, Expr[])>)) return (Func<Expr[], (Expr, Expr[])>)(xs => (xs[0].Sum(), [xs[0]]));
        if (type == typeof(Func<Expr, (Expr, Expr[])>)) return (Func<Expr, (Expr, Expr[])>)(x => (x.Sum(), [x]));
        if (type == typeof(Func<Expr[], Expr, Expr?[]>)) return (Func<Expr[], Expr, Expr?[]>)((xs, g) => [g]);
        if (type == typeof(Tensor[])) return new[] { Tensor.Ones(new[] { 2, 2 }) };
        if (type == typeof(CompiledFunction)) return Diff.Compile(xs => [xs[0].Sum()]);
        Parameters Named() => Parameters.Of(("w", Tensor.Ones(new[] { 2, 2 })));
        if (type == typeof(Parameters) || type == typeof(IEnumerable<KeyValuePair<string, Tensor>>) || type == typeof(IReadOnlyDictionary<string, Tensor>))
            return Named();
        if (type == typeof((string, Tensor)[])) return new[] { ("w", Tensor.Ones(new[] { 2, 2 })) };
        // Expr.Einsum's equation is read as one; every other string (names, Init's nonlinearity) takes "relu"
        if (type == typeof(string)) return name == "equation" ? "ij,jk->ik" : "relu";
        if (type == typeof(IReadOnlyDictionary<string, Expr>)) return new Dictionary<string, Expr> { ["w"] = Tensor.Ones(new[] { 2, 2 }) };
        if (type == typeof(Func<IReadOnlyDictionary<string, Expr>, Expr>)) return (Func<IReadOnlyDictionary<string, Expr>, Expr>)(p => p["w"].Sum());
        if (type == typeof(Func<IReadOnlyDictionary<string, Expr>, Expr[], Expr>))
            return (Func<IReadOnlyDictionary<string, Expr>, Expr[], Expr>)((p, d) => p["w"].Sum());
        if (type == typeof(Func<string, Tensor, Tensor>)) return (Func<string, Tensor, Tensor>)((_, t) => t);
        if (type == typeof(CompiledValueAndGrad)) return Diff.CompileValueAndGrad((p, d) => p["w"].Sum());
        if (type == typeof(Optimizer)) return new Sgd(Named(), lr: 0.1);
        if (type == typeof(Lbfgs)) return new Lbfgs(Named());
        if (type == typeof(Func<Parameters, (Tensor, Parameters)>)) return (Func<Parameters, (Tensor, Parameters)>)(p => (Tensor.Scalar(0.0), p));
        if (type == typeof(Func<Parameters, (Expr, IReadOnlyDictionary<string, Expr>)>))
            return (Func<Parameters, (Expr, IReadOnlyDictionary<string, Expr>)>)(p => Diff.ValueAndGrad(q => q["w"].Sum(), p));
        if (type == typeof(Func<Expr, Expr, (Expr, Expr)>)) return (Func<Expr, Expr, (Expr, Expr)>)((c, x) => (c, x));
        if (type == typeof(Func<Expr[], Expr[], (Expr[], Expr[])>)) return (Func<Expr[], Expr[], (Expr[], Expr[])>)((c, x) => (c, x));
        if (type == typeof(Func<Expr[], (Expr[], Expr[])>)) return (Func<Expr[], (Expr[], Expr[])>)(c => (c, []));
        if (type == typeof(ScanOptions)) return new ScanOptions { Checkpoint = ScanCheckpoint.Every(2) };
        if (type == typeof(ScanCheckpoint)) return ScanCheckpoint.Sqrt;
        if (type == typeof(Generator)) return new Generator(1);
        if (type == typeof(TensorScope))
        {
            // closed at once: an open scope would take the tensors other tests make on this thread
            var scope = Tensor.NewDisposeScope();
            scope.Dispose();
            return scope;
        }
        if (type.IsByRef) return null; // an out parameter (TryGetValue's value)
        if (type.IsValueType) return Activator.CreateInstance(type);
        throw new InvalidOperationException($"no sample value for {type}: add one so the new method is checked");
    }

    /// <summary>
    /// Every (method, parameter) where the parameter is a reference type that may not be null. Property
    /// setters are left out: the only ones taking a reference are the init-only properties of the
    /// result record GradCheckResult, which the library fills and callers only read.
    /// </summary>
    static IEnumerable<(MethodInfo Method, ParameterInfo Parameter)> NonNullableParameters()
    {
        const BindingFlags flags = BindingFlags.Public | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        foreach (var type in Facade.GetExportedTypes())
            foreach (var method in type.GetMethods(flags).Where(m => !(m.IsSpecialName && m.Name.StartsWith("set_", StringComparison.Ordinal))))
                foreach (var p in method.GetParameters())
                    if (!p.ParameterType.IsValueType && !p.ParameterType.IsByRef
                        && Nullability.Create(p).WriteState != NullabilityState.Nullable)
                        yield return (method, p);
    }

    static string Describe(MethodInfo m) => $"{m.DeclaringType!.Name}.{m.Name}({string.Join(", ", m.GetParameters().Select(p => p.Name))})";

    [Fact]
    public void EveryPublicMethodNamesItsOwnParameterWhenGivenNull()
    {
        var checkedParameters = new List<string>();
        var wrong = new List<string>();
        foreach (var (method, parameter) in NonNullableParameters())
        {
            var arguments = method.GetParameters().Select(p => p.Position == parameter.Position ? null : Sample(p.ParameterType, p.Name)).ToArray();
            var receiver = method.IsStatic ? null : Sample(method.DeclaringType!);
            Exception? thrown = null;
            try { method.Invoke(receiver, arguments); }
            catch (TargetInvocationException e) { thrown = e.InnerException; }
            var where = $"{Describe(method)} with {parameter.Name} = null";
            checkedParameters.Add($"{method.DeclaringType!.Name}.{method.Name}.{parameter.Name}");
            if (thrown is not ArgumentNullException ane)
                wrong.Add($"{where}: {(thrown is null ? "no exception" : thrown.GetType().Name + ": " + thrown.Message)}");
            else if (ane.ParamName != parameter.Name)
                wrong.Add($"{where}: ParamName is '{ane.ParamName}'");
        }
        Assert.True(wrong.Count == 0, string.Join("\n", wrong));
        // Guards against a vacuous pass: the methods of the report are among those checked.
        foreach (var expected in new[] { "Expr.MatMul.other", "Expr.Pow.exponent", "Expr.Atan2.x", "Expr.Eq.other",
                                         "Expr.op_LessThan.b", "Loss.Mse.target", "Loss.BinaryCrossEntropyWithLogits.targets",
                                         // the indexer is named Element in metadata, so that Item() can be torch's t.item()
                                         "Nn.Linear.input", "Nn.Linear.weight", "Diff.Vjp.y", "Diff.Hvp.v", "Tensor.get_Element.index" })
            Assert.Contains(expected, checkedParameters);
    }

    [Fact]
    public void TheNullableParameterAcceptsNull()
    {
        // Nn.Linear's bias is the one parameter documented as optional: the reflection test skips it.
        var y = Nn.Linear(Tensor.FromArray(new[] { 1.0, 2.0 }), Tensor.FromArray(new[] { 3.0, 4.0 }, 1, 2), null);
        Assert.Equal(new[] { 11.0 }, y.Eval().ToDoubleArray());
    }

    public static IEnumerable<object[]> ReturnedFunctions()
    {
        Expr m = Tensor.Ones(new[] { 2, 2 });
        return new (string, string, Action)[]
        {
            ("Grad(f)(x)", "x", () => Diff.Grad(x => x.Sum())(null!)),
            ("Grad(f2)(x, y)", "x", () => Diff.Grad((x, y) => (x * y).Sum())(null!, m)),
            ("Grad(f2)(x, y)", "y", () => Diff.Grad((x, y) => (x * y).Sum())(m, null!)),
            ("Grad(f)(xs)", "xs", () => Diff.Grad(xs => xs[0].Sum())(new[] { m, null! })),
            ("Jacobian(f)(x)", "x", () => Diff.Jacobian(x => x)(null!)),
            ("Hessian(f)(x)", "x", () => Diff.Hessian(x => x.Sum())(null!)),
            ("Vmap(f)(x)", "x", () => Diff.Vmap(x => x.Sin())(null!)),
            ("Vmap(f[])(xs)", "xs", () => Diff.Vmap((Expr[] xs) => xs[0])(new[] { m, null! })),
            ("Vmap(f[], inAxes, outAxes)(xs)", "xs", () => Diff.Vmap((Expr[] xs) => new[] { xs[0] }, new int?[] { 0 })(null!)),
            ("CustomVjp(..)(x)", "x", () => Diff.CustomVjp(x => x, (x, g) => g)(null!)),
            ("Vjp pullback", "cotangent", () => Diff.Vjp(x => x, m).Pullback(null!)),
            ("Vjp two-input pullback", "cotangent", () => Diff.Vjp((x, y) => x * y, m, m).Pullback(null!)),
            ("Vjp(f[]) pullback", "cotangent", () => Diff.Vjp(xs => xs[0], m).Pullback(null!)),
            ("Linearize(f, x).Jvp", "tangent", () => Diff.Linearize(x => x.Sin(), m).Jvp(null!)),
            ("Linearize(f[], primals).Jvp", "tangents", () => Diff.Linearize((Expr[] xs) => xs[0].Sin(), m).Jvp(null!)),
        }.Select(c => new object[] { c.Item1, c.Item2, c.Item3 });
    }

    [Theory]
    [MemberData(nameof(ReturnedFunctions))]
    public void TheFunctionsTheTransformsReturnNameTheirParameters(string call, string parameter, Action invoke)
    {
        var e = Assert.Throws<ArgumentNullException>(invoke);
        Assert.True(e.ParamName == parameter, $"{call}: ParamName is '{e.ParamName}', expected '{parameter}'");
    }
}
