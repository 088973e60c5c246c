/// FsCheck settings shared by the property tests: each property replays its own fixed seed, so a
/// run of the suite draws the same cases every time and a failure in CI replays as it was seen.
module FunctionalDiff.Core.Tests.PropertySupport

open Expecto

/// FsCheck's default settings with a fixed replay seed and the given number of cases.
let fixedSeed (seed: uint64) (maxTest: int) =
    { FsCheckConfig.defaultConfig with maxTest = maxTest; replay = Some (seed, 0x9E3779B97F4A7C15UL, None) }
