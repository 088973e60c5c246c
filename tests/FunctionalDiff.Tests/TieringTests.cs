using System.Diagnostics;
using System.Reflection;
using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// A user's loop calls the facade every step, so a Release build of it skips tiered compilation's
/// unoptimised tiers as the core does: core-fs/build/OptimizeMethods.targets marks every method that
/// has an IL body MethodImplOptions.AggressiveOptimization. Counted here on the built assembly.
/// </summary>
public class TieringTests
{
    [Fact]
    public void ReleaseFacadeMarksEveryMethodWithABodyAggressiveOptimization()
    {
        var facade = typeof(Expr).Assembly;
        var debuggable = facade.GetCustomAttribute<DebuggableAttribute>();
        if (debuggable is not null && debuggable.IsJITOptimizerDisabled) return; // a Debug build keeps debuggable code
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var withBodies = facade.GetTypes()
            .SelectMany(t => t.GetMethods(all).Cast<MethodBase>().Concat(t.GetConstructors(all)))
            .Where(m => m.GetMethodBody() is not null)
            .ToArray();
        var unmarked = withBodies
            .Where(m => (m.MethodImplementationFlags & MethodImplAttributes.AggressiveOptimization) == 0)
            .Select(m => $"{m.DeclaringType!.FullName}.{m.Name}")
            .ToArray();
        Assert.True(withBodies.Length > 200, $"only {withBodies.Length} methods with IL bodies were found");
        Assert.True(unmarked.Length == 0, $"{unmarked.Length} of {withBodies.Length} methods lack AggressiveOptimization, e.g. {string.Join(", ", unmarked.Take(5))}");
    }
}
