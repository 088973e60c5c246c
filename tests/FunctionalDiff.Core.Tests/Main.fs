module FunctionalDiff.Core.Tests.Main

open Expecto

[<EntryPoint>]
let main argv =
    match argv with
    // hidden mode for the cross-process determinism test of the random generator
    | [| "--print-random-normal"; seed; count |] ->
        TensorRandomTests.printRandomNormal (int seed) (int count)
        0
    // hidden mode for the fresh-process test of the Expr operators
    | [| "--fresh-operators" |] ->
        GraphIeeeTests.printFreshOperatorSum ()
        0
    | _ -> Tests.runTestsInAssemblyWithCLIArgs [] argv
