/// Building a graph never changes what it computes: every canonical form the constructors apply
/// must give, bit for bit, what IEEE arithmetic on System.Double gives, for NaN, infinities and
/// signed zeros too. And the operators work in a fresh process before anything else is touched.
module FunctionalDiff.Core.Tests.GraphIeeeTests

open System
open System.Diagnostics
open System.Globalization
open System.Reflection
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private f64 = DType.Float64

/// The hidden command-line mode Main uses: `--fresh-operators` adds two Exprs with `+` as the
/// very first thing the process does with the core, then prints the sum's values.
let printFreshOperatorSum () =
    let sum = Expr.zeros DType.Float64 [| 3 |] + Expr.ones DType.Float64 [| 3 |]
    for v in (Eval.eval sum).ToDoubleArray() do
        Console.Out.WriteLine(v.ToString("R", CultureInfo.InvariantCulture))

/// Runs this test assembly again in a child process in the hidden mode; its exit code and output.
let private freshOperatorSumInAnotherProcess () =
    let assembly = Assembly.GetEntryAssembly().Location
    let start = ProcessStartInfo(Environment.ProcessPath, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false)
    // a framework-dependent app runs as `dotnet app.dll`; an apphost runs itself
    if IO.Path.GetFileNameWithoutExtension(Environment.ProcessPath) = "dotnet" then start.ArgumentList.Add assembly
    start.ArgumentList.Add "--fresh-operators"
    use child = Process.Start start
    let errors = child.StandardError.ReadToEndAsync()
    let output = child.StandardOutput.ReadToEnd()
    child.WaitForExit()
    child.ExitCode, output, errors.Result

/// Equal as IEEE values with the sign of zero: same bits, or both NaN (payloads may differ).
let private expectSameDoubles (actual: float[]) (expected: float[]) (message: string) =
    Expect.equal actual.Length expected.Length (message + ": length")
    for i in 0 .. expected.Length - 1 do
        let a, e = actual.[i], expected.[i]
        let same = (Double.IsNaN a && Double.IsNaN e) || BitConverter.DoubleToInt64Bits a = BitConverter.DoubleToInt64Bits e
        Expect.isTrue same (sprintf "%s: entry %d is %s, IEEE gives %s" message i (a.ToString("R")) (e.ToString("R")))

/// The awkward values: NaN, both infinities, both zeros, and ordinary numbers of both signs.
let private awkward = [| nan; infinity; -infinity; 0.0; -0.0; 1.0; -2.5 |]

[<Tests>]
let tests =
    testList "Graph" [
        testList "Ieee" [
            test "the operators work in a fresh process before any other constructor is touched" {
                let exitCode, output, errors = freshOperatorSumInAnotherProcess ()
                Expect.equal exitCode 0 (sprintf "child exit code; stderr: %s" errors)
                let printed =
                    output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    |> Array.map (fun line -> Double.Parse(line.Trim(), CultureInfo.InvariantCulture))
                expectSameDoubles printed (Array.create 3 (0.0 + 1.0)) "zeros + ones"
            }
            test "x * 0 and 0 * x keep NaN and infinities (NaN, NaN, NaN, 0, -0, 0, -0)" {
                let x = constant (tensor [| awkward.Length |] awkward)
                let times0 = awkward |> Array.map (fun v -> v * 0.0)
                expectSameDoubles (values (x * 0.0)) times0 "x * 0.0"
                expectSameDoubles (values (0.0 * x)) (awkward |> Array.map (fun v -> 0.0 * v)) "0.0 * x"
                expectSameDoubles (values (x * Expr.zeros f64 [| awkward.Length |])) times0 "x * zeros"
                expectSameDoubles (values (x * Expr.broadcastTo [| awkward.Length |] (Expr.scalar f64 0.0))) times0 "x * BroadcastTo(0.0)"
                expectSameDoubles (values (x * -0.0)) (awkward |> Array.map (fun v -> v * -0.0)) "x * -0.0"
            }
            test "0 / y keeps NaN for y = 0 and y = NaN" {
                let y = constant (tensor [| awkward.Length |] awkward)
                expectSameDoubles (values (0.0 / y)) (awkward |> Array.map (fun v -> 0.0 / v)) "0.0 / y"
                expectSameDoubles (values (Expr.zeros f64 [| awkward.Length |] / y)) (awkward |> Array.map (fun v -> 0.0 / v)) "zeros / y"
            }
            test "x @ zeros keeps the NaN of a row that holds NaN or infinity" {
                // rows: [NaN, 1], [inf, 2], [3, 4]; the product with a 2x2 zero matrix, by the loop.
                let rows = [| [| nan; 1.0 |]; [| infinity; 2.0 |]; [| 3.0; 4.0 |] |]
                let a = constant (tensor [| 3; 2 |] (Array.concat rows))
                let expected =
                    [| for r in rows do
                         for _ in 0 .. 1 do
                             let mutable s = 0.0
                             for k in 0 .. 1 do
                                 s <- s + r.[k] * 0.0
                             yield s |]
                expectSameDoubles (values (Expr.matmul a (Expr.zeros f64 [| 2; 2 |]))) expected "A @ zeros"
                let expectedLeft = [| for _ in 0 .. 1 do for c in 0 .. 1 do yield (0.0 * rows.[0].[c] + 0.0 * rows.[1].[c]) + 0.0 * rows.[2].[c] |]
                expectSameDoubles (values (Expr.matmul (Expr.zeros f64 [| 2; 3 |]) a)) expectedLeft "zeros @ A"
            }
            test "loss + 0 * reg shows a diverged reg" {
                let losses, regs = [| 1.5; 2.0 |], [| infinity; 1.0 |]
                let loss = constant (tensor [| 2 |] losses)
                let reg = constant (tensor [| 2 |] regs)
                expectSameDoubles (values (loss + 0.0 * reg)) (Array.map2 (fun l r -> l + 0.0 * r) losses regs) "loss + 0 * reg"
            }
            test "the value a transform returns keeps IEEE too: valueAndGrad of sum(x*x + 0*reg) with an infinite reg" {
                let xs, regs = [| 1.0; 2.0 |], [| infinity; 1.0 |]
                let reg = constant (tensor [| 2 |] regs)
                let f (x: Expr) = Expr.sum (x * x + 0.0 * reg)
                let v, g = Diff.valueAndGrad f (constant (tensor [| 2 |] xs))
                let expected = Array.map2 (fun x r -> x * x + 0.0 * r) xs regs |> Array.sum
                expectSameDoubles [| value v |] [| expected |] "value"
                // d/dx (x*x) = 2x: the zero term has no path to x, so it adds nothing to the gradient.
                expectSameDoubles (values g) (xs |> Array.map (fun x -> 2.0 * x)) "gradient"
            }
            test "the value every transform returns is f as written, not its normal form: x + x*-3 and x - x at -inf, NaN, -0" {
                // Found by the fuzzer: the polynomial normal form of x + x*-3 is -2x, which gives +inf at
                // -inf where IEEE gives NaN, and -0 where IEEE gives +0.
                let xs = [| Double.NegativeInfinity; nan; -0.0; 0.0; 1.5 |]
                let x = constant (tensor [| xs.Length |] xs)
                let f (e: Expr) = e + e * -3.0
                let g (e: Expr) = e - e
                let reference (h: float -> float) = Array.map h xs
                for name, fn, expected in [ "x + x*-3", f, reference (fun v -> v + v * -3.0); "x - x", g, reference (fun v -> v - v) ] do
                    expectSameDoubles (values (fst (Diff.vjp fn x))) expected (name + ": vjp's value")
                    expectSameDoubles (values (fst (Diff.jvp fn x x))) expected (name + ": jvp's value")
                    expectSameDoubles (values (fst (Diff.linearize fn x))) expected (name + ": linearize's value")
                    let summed (e: Expr) = Expr.sum (fn e)
                    expectSameDoubles [| value (fst (Diff.valueAndGrad summed x)) |] [| Array.sum expected |] (name + ": valueAndGrad's value")
            }
            test "signed zeros: x + 0 is not x at -0, while x - 0, x + (-0) and -(-x) are" {
                let x = constant (tensor [| awkward.Length |] awkward)
                let reciprocal (f: float -> float) = awkward |> Array.map (fun v -> 1.0 / f v)
                expectSameDoubles (values (1.0 / (x + 0.0))) (reciprocal (fun v -> v + 0.0)) "1 / (x + 0)"
                expectSameDoubles (values (1.0 / (0.0 + x))) (reciprocal (fun v -> 0.0 + v)) "1 / (0 + x)"
                expectSameDoubles (values (1.0 / (x - 0.0))) (reciprocal (fun v -> v - 0.0)) "1 / (x - 0)"
                expectSameDoubles (values (1.0 / (x + -0.0))) (reciprocal (fun v -> v + -0.0)) "1 / (x + -0)"
                expectSameDoubles (values (1.0 / (0.0 - x))) (reciprocal (fun v -> 0.0 - v)) "1 / (0 - x)"
                expectSameDoubles (values (1.0 / (-0.0 - x))) (reciprocal (fun v -> -0.0 - v)) "1 / (-0 - x)"
                expectSameDoubles (values (1.0 / -(-x))) (reciprocal (fun v -> -(-v))) "1 / -(-x)"
                expectSameDoubles (values (1.0 / -(Expr.zeros f64 [| 2 |]))) [| 1.0 / -0.0; 1.0 / -0.0 |] "1 / -zeros"
                // The scalar case that started it: 1 / (x + 0.0) at x = -0.0 is +inf.
                Expect.equal (value (1.0 / (Expr.scalar f64 -0.0 + 0.0))) infinity "1 / (-0 + 0)"
            }
            test "scalar constants are interned by their bits: -0 and 0 are two nodes" {
                Expect.isFalse (obj.ReferenceEquals(Expr.scalar f64 -0.0, Expr.scalar f64 0.0)) "-0 is not 0"
                Expect.equal (value (1.0 / Expr.scalar f64 -0.0)) (1.0 / -0.0) "1 / -0"
                Expect.equal (value (1.0 / Expr.scalar f64 0.0)) (1.0 / 0.0) "1 / 0"
            }
            test "the folds that stay are exact: x*1, x/1, x**1, x*(-1), x/(-1) on every awkward value" {
                let x = constant (tensor [| awkward.Length |] awkward)
                expectSameDoubles (values (x * 1.0)) (awkward |> Array.map (fun v -> v * 1.0)) "x * 1"
                expectSameDoubles (values (x / 1.0)) (awkward |> Array.map (fun v -> v / 1.0)) "x / 1"
                expectSameDoubles (values (x ** 1.0)) (awkward |> Array.map (fun v -> Math.Pow(v, 1.0))) "x ** 1"
                expectSameDoubles (values (x * -1.0)) (awkward |> Array.map (fun v -> v * -1.0)) "x * -1"
                expectSameDoubles (values (x / -1.0)) (awkward |> Array.map (fun v -> v / -1.0)) "x / -1"
            }
            test "zero cotangents stay symbolic inside the transforms: the gradient of a constant is a broadcast zero" {
                // No path from x to the output: the transform returns zeros without building a product.
                let c = constant (tensor [| 3 |] [| 1.0; 2.0; 3.0 |])
                let g = Diff.grad (fun _ -> Expr.sum (c * c)) (Expr.variable "x" [| 3 |] f64)
                Expect.isTrue (Fold.isZero g) (sprintf "gradient %O is a symbolic zero" g)
            }
            test "a clamp of a value clamped inside its bounds is that value, and one whose bounds are narrower stays, with IEEE's values either way" {
                let awkward = [| nan; infinity; -infinity; -0.0; 0.0; 39.0; 40.0; 40.5; 45.0; -40.0; -45.0; 50.0; -60.0; 1e300 |]
                let x = constantVector awkward
                let clamp (bound: float) (y: Expr) =
                    let b = Expr.scalar f64 bound
                    Expr.where (Expr.gt y b) b (Expr.where (Expr.lt y -b) -b y)
                let reference (bound: float) (v: float) = if v > bound then bound elif v < -bound then -bound else v
                let inner = clamp 40.0 x
                // the same bounds, and wider ones, fold to the inner clamp itself
                Expect.isTrue (obj.ReferenceEquals(clamp 40.0 inner, inner)) "clamp(clamp(x, ±40), ±40) is clamp(x, ±40)"
                Expect.isTrue (obj.ReferenceEquals(clamp 50.0 inner, inner)) "clamp(clamp(x, ±40), ±50) is clamp(x, ±40)"
                // narrower bounds are a clamp of their own
                let narrower = clamp 30.0 inner
                Expect.isFalse (obj.ReferenceEquals(narrower, inner)) "clamp(clamp(x, ±40), ±30) is not clamp(x, ±40)"
                for bound, e in [ 40.0, clamp 40.0 inner; 50.0, clamp 50.0 inner; 30.0, narrower ] do
                    expectSameDoubles (values e) (awkward |> Array.map (reference 40.0 >> reference bound)) (sprintf "values of the outer clamp at ±%g" bound)
                // one side alone over a clamp, inside and outside its bound
                let b45 = Expr.scalar f64 45.0
                Expect.isTrue (obj.ReferenceEquals(Expr.where (Expr.gt inner b45) b45 inner, inner)) "min(clamp(x, ±40), 45) is clamp(x, ±40)"
                let b35 = Expr.scalar f64 35.0
                expectSameDoubles (values (Expr.where (Expr.gt inner b35) b35 inner)) (awkward |> Array.map (reference 40.0 >> fun v -> if v > 35.0 then 35.0 else v)) "min(clamp(x, ±40), 35)"
            }
        ]
    ]
