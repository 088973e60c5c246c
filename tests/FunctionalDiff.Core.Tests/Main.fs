module FunctionalDiff.Core.Tests.Main

open Expecto

[<EntryPoint>]
let main argv =
    match argv with
    // hidden mode for the cross-process determinism test of the random generator
    | [| "--print-random-normal"; seed; count |] ->
        TensorRandomTests.printRandomNormal (int seed) (int count)
        0
    | _ -> Tests.runTestsInAssemblyWithCLIArgs [] argv
