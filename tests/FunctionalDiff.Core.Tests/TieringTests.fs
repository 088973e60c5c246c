/// The core skips tiered compilation's unoptimised tiers: a Release build marks every method that
/// has an IL body MethodImplOptions.AggressiveOptimization (core-fs/build/OptimizeMethods.targets),
/// which the F# compiler would drop from an attribute. Checked here on the assembly under test by
/// reflection, counting the methods without the flag.
module FunctionalDiff.Core.Tests.TieringTests

open System.Diagnostics
open System.Reflection
open Expecto
open FunctionalDiff.Core

/// Every method and constructor declared in the assembly, compiler-generated closures included.
let private methodsOf (assembly: Assembly) =
    let flags = BindingFlags.Public ||| BindingFlags.NonPublic ||| BindingFlags.Instance ||| BindingFlags.Static ||| BindingFlags.DeclaredOnly
    assembly.GetTypes() |> Array.collect (fun t ->
        Array.append (t.GetMethods flags |> Array.map (fun m -> m :> MethodBase)) (t.GetConstructors flags |> Array.map (fun c -> c :> MethodBase)))

[<Tests>]
let tests =
    testList "Tiering" [
        test "a Release build of the core marks every method with a body AggressiveOptimization" {
            let core = typeof<Expr>.Assembly
            let debuggable = core.GetCustomAttribute<DebuggableAttribute>()
            let optimised = isNull debuggable || not debuggable.IsJITOptimizerDisabled
            if optimised then
                let withBodies = methodsOf core |> Array.filter (fun m -> not (isNull (m.GetMethodBody())))
                let unmarked =
                    withBodies |> Array.filter (fun m -> m.MethodImplementationFlags &&& MethodImplAttributes.AggressiveOptimization = enum 0)
                Expect.isGreaterThan withBodies.Length 1000 "the core's methods with IL bodies were found"
                Expect.isEmpty (unmarked |> Array.truncate 5 |> Array.map (fun m -> sprintf "%s.%s" m.DeclaringType.FullName m.Name))
                    (sprintf "%d of %d methods lack AggressiveOptimization" unmarked.Length withBodies.Length)
        }
    ]
