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
        Assert.Equal(new[] { "Adagrad", "Adam", "AdamW", "Batches", "CompiledFunction", "CompiledValueAndGrad", "DType", "Diff", "EighResult", "Expr", "FanMode", "GradCheckResult",
                             "Init", "Loss", "Nn", "Npy", "Npz", "Optimizer", "Parallelism", "Parameters", "QrResult", "Reduction", "RmsProp", "ScanCheckpoint", "ScanOptions", "Sgd", "SlogDetResult", "Tensor", "TensorMemory" }, names);
    }
}
