/// Specifications of the seeded generator: the same seed gives the same numbers in another
/// process, the samples have the right moments, and creation functions lay values out correctly.
module FunctionalDiff.Core.Tests.TensorRandomTests

open System
open System.Diagnostics
open System.Globalization
open System.Reflection
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.TensorTestSupport

/// The hidden command-line mode Main uses: `--print-random-normal <seed> <n>` prints n float64
/// normals, one per line in round-trip format, and exits before Expecto runs.
let printRandomNormal (seed: int) (count: int) =
    for x in (Tensor.randomNormal DType.Float64 seed [| count |]).ToDoubleArray() do
        Console.Out.WriteLine(x.ToString("R", CultureInfo.InvariantCulture))

/// Runs this test assembly again in a child process in the hidden mode and parses its output.
let normalsFromAnotherProcess (seed: int) (count: int) =
    let assembly = Assembly.GetEntryAssembly().Location
    let start = ProcessStartInfo(Environment.ProcessPath, RedirectStandardOutput = true, UseShellExecute = false)
    // a framework-dependent app runs as `dotnet app.dll`; an apphost runs itself
    if IO.Path.GetFileNameWithoutExtension(Environment.ProcessPath) = "dotnet" then start.ArgumentList.Add assembly
    for argument in [ "--print-random-normal"; string seed; string count ] do
        start.ArgumentList.Add argument
    use child = Process.Start start
    let output = child.StandardOutput.ReadToEnd()
    child.WaitForExit()
    Expect.equal child.ExitCode 0 "child exit code"
    output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
    |> Array.map (fun line -> Double.Parse(line.Trim(), CultureInfo.InvariantCulture))

let tests =
    testList "Random" [
        test "the same seed gives bit-identical normals in another process" {
            for seed in [ 0; 42; -7 ] do
                let here = (Tensor.randomNormal DType.Float64 seed [| 257 |]).ToDoubleArray()
                let there = normalsFromAnotherProcess seed 257
                Expect.equal (there |> Array.map BitConverter.DoubleToInt64Bits) (here |> Array.map BitConverter.DoubleToInt64Bits) (sprintf "seed %d" seed)
            let a = (Tensor.randomNormal DType.Float64 1 [| 8 |]).ToDoubleArray()
            let b = (Tensor.randomNormal DType.Float64 2 [| 8 |]).ToDoubleArray()
            Expect.notEqual a b "different seeds differ"
            Expect.equal ((Tensor.randomNormal DType.Float32 1 [| 8 |]).ToSingleArray()) (a |> Array.map float32) "float32 rounds the float64 stream"
        }
        test "10^5 normals and uniforms have the right mean and variance within 5 standard errors" {
            let n = 100000
            let x = (Tensor.randomNormal DType.Float64 123 [| n |]).ToDoubleArray()
            let mean = Array.average x
            let variance = (x |> Array.sumBy (fun v -> (v - mean) ** 2.0)) / float (n - 1)
            // standard errors: 1/√n for the mean, √(2/n) for the variance of a normal
            Expect.isLessThan (abs mean) (5.0 / sqrt (float n)) "normal mean"
            Expect.isLessThan (abs (variance - 1.0)) (5.0 * sqrt (2.0 / float n)) "normal variance"
            let u = (Tensor.randomUniform DType.Float64 9 -1.0 3.0 [| n |]).ToDoubleArray()
            Expect.isTrue (u |> Array.forall (fun v -> v >= -1.0 && v < 3.0)) "uniform range"
            // float32 rounding must not reach the excluded upper end: on [1, 1+2⁻²³) half the
            // samples would round up to the next float32, 1+2⁻²³, which is high itself
            let high = 1.0 + Math.Pow(2.0, -23.0)
            let u32 = (Tensor.randomUniform DType.Float32 10 1.0 high [| 1000 |]).ToDoubleArray()
            Expect.isTrue (u32 |> Array.forall (fun v -> v >= 1.0 && v < high)) "float32 uniform range"
            // uniform on [a,b): variance (b-a)²/12, so the mean's standard error is 4/√(12n)
            Expect.isLessThan (abs (Array.average u - 1.0)) (5.0 * 4.0 / sqrt (12.0 * float n)) "uniform mean"
        }
        test "the deterministic log agrees with Math.Log to 4e-16 relative" {
            // the series and the final sum round a few times: a couple of ulps
            for x in [ 1e-300; 5e-324; 0.001; 0.5; 0.7071; 1.0; 1.4142; 2.0; 10.0; 12345.678; 1e300 ] do
                let expected = Math.Log x
                Expect.isTrue (close 4e-16 1e-300 expected (RandomSampling.deterministicLog x)) (sprintf "log %g" x)
        }
        test "creation functions lay out their values" {
            for dtype in dtypes do
                Expect.equal (read (Tensor.arange dtype 1.0 2.0 0.25)) [| 1.0; 1.25; 1.5; 1.75 |] "arange"
                Expect.equal (read (Tensor.arange dtype 3.0 0.0 -1.0)) [| 3.0; 2.0; 1.0 |] "arange down"
                Expect.equal (read (Tensor.linspace dtype 0.0 1.0 5)) [| 0.0; 0.25; 0.5; 0.75; 1.0 |] "linspace"
                Expect.equal (read (Tensor.linspace dtype 2.0 3.0 1)) [| 2.0 |] "linspace one"
                Expect.equal (read (Tensor.full dtype [| 2; 2 |] 1.5)) [| 1.5; 1.5; 1.5; 1.5 |] "full"
                Expect.equal (Tensor.scalar dtype 2.0).Shape [||] "scalar"
                Expect.equal (Tensor.zeros dtype [| 0; 3 |]).Numel 0 "empty"
                Expect.equal (read (Tensor.ones dtype [| 3 |])) [| 1.0; 1.0; 1.0 |] "ones"
            Expect.equal (read (Tensor.ofArray32 [| 2 |] [| 1.0f; 2.0f |])) [| 1.0; 2.0 |] "ofArray32"
            expectShapeError [ "Arange"; "step" ] (fun () -> Tensor.arange DType.Float64 0.0 1.0 0.0)
            expectShapeError [ "FromArray"; "[2,2]" ] (fun () -> Tensor.ofArray64 [| 2; 2 |] [| 1.0 |])
        }
    ]
