using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A neural ODE ported from PyTorch as a user writes it first: dx/dt = tanh(W x + b) integrated by classic RK4 over
/// 20 steps, unrolled in a C# loop, and the same step as <c>Expr.Repeat</c> (a fori loop) and as <c>Expr.Scan</c> over
/// the time grid returning the trajectory (torchdiffeq's odeint). The loss on the final state and its gradient in W
/// and b are compared with the integrator written over doubles in this file and its central differences, and the
/// three formulations with each other.
/// </summary>
public class ClientNineNeuralOdeTests
{
    const int Batch = 2, D = 3, Steps = 20;
    const double Dt = 0.05;

    static readonly Tensor W = 0.9 * Tensor.RandomNormal([D, D], seed: 31), B = 0.3 * Tensor.RandomNormal([D], seed: 32);
    static readonly Tensor X0 = Tensor.RandomNormal([Batch, D], seed: 33), Target = Tensor.RandomNormal([Batch, D], seed: 34);

    // ---- what a torch user writes ----

    static Expr Rk4(Expr x, Expr w, Expr b)
    {
        Expr F(Expr y) => Nn.Linear(y, w, b).Tanh();
        var k1 = F(x);
        var k2 = F(x + Dt / 2 * k1);
        var k3 = F(x + Dt / 2 * k2);
        var k4 = F(x + Dt * k3);
        return x + Dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
    }

    static Expr Unrolled(Expr w, Expr b)
    {
        Expr x = X0;
        for (int i = 0; i < Steps; i++) x = Rk4(x, w, b);
        return Loss.Mse(x, Target);
    }

    static Expr Repeated(Expr w, Expr b) => Loss.Mse(Expr.Repeat(Steps, x => Rk4(x, w, b), X0), Target);

    static (Expr Loss, Expr Trajectory) Scanned(Expr w, Expr b)
    {
        var times = Tensor.Arange(Steps) * Dt;   // odeint's grid; the field is autonomous, so t is unused
        var (final, trajectory) = Expr.Scan((x, t) => { var next = Rk4(x, w, b); return (next, next); }, X0, times);
        return (Loss.Mse(final, Target), trajectory);
    }

    // ---- the same over doubles ----

    static double[] Field(double[] w, double[] b, double[] x)
    {
        var y = new double[Batch * D];
        for (int r = 0; r < Batch; r++)
            for (int o = 0; o < D; o++)
            {
                double s = b[o];
                for (int i = 0; i < D; i++) s += w[o * D + i] * x[r * D + i];
                y[r * D + o] = Math.Tanh(s);
            }
        return y;
    }

    static double[] Axpy(double[] x, double a, double[] k) => x.Select((v, i) => v + a * k[i]).ToArray();

    static List<double[]> TrajectoryReference(double[] w, double[] b)
    {
        var x = X0.ToDoubleArray();
        var states = new List<double[]>();
        for (int s = 0; s < Steps; s++)
        {
            var k1 = Field(w, b, x);
            var k2 = Field(w, b, Axpy(x, Dt / 2, k1));
            var k3 = Field(w, b, Axpy(x, Dt / 2, k2));
            var k4 = Field(w, b, Axpy(x, Dt, k3));
            x = x.Select((v, i) => v + Dt / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i])).ToArray();
            states.Add(x);
        }
        return states;
    }

    static double LossReference(double[] wb)
    {
        var final = TrajectoryReference(wb[..(D * D)], wb[(D * D)..])[^1];
        var target = Target.ToDoubleArray();
        return final.Select((v, i) => (v - target[i]) * (v - target[i])).Average();
    }

    static readonly double[] Flat = [.. W.ToDoubleArray(), .. B.ToDoubleArray()];

    public static IEnumerable<object[]> Formulations => [["unrolled"], ["repeat"], ["scan"]];

    static Func<Expr, Expr, Expr> Formulation(string name) => name switch
    {
        "unrolled" => Unrolled,
        "repeat" => Repeated,
        "scan" => (w, b) => Scanned(w, b).Loss,
        _ => throw new ArgumentException(name),
    };

    [Theory]
    [MemberData(nameof(Formulations))]
    public void LossAndGradientInWAndBMatchTheReferenceIntegrator(string formulation)
    {
        var f = Formulation(formulation);
        var (loss, gradients) = Diff.ValueAndGrad((Expr[] p) => f(p[0], p[1]), W, B);
        var values = Expr.EvalMany([loss, .. gradients]);
        Close(LossReference(Flat), values[0].ToScalar(), 1e-12, "loss");
        Close(Gradient(LossReference, Flat), [.. values[1].ToDoubleArray(), .. values[2].ToDoubleArray()], 1e-7, "gradient");
    }

    [Fact]
    public void TheFormulationsAgreeAndTheScanGivesTheTrajectory()
    {
        var unrolled = Diff.Grad((Expr[] p) => Unrolled(p[0], p[1]))([W, B]);
        var repeated = Diff.Grad((Expr[] p) => Repeated(p[0], p[1]))([W, B]);
        var scanned = Diff.Grad((Expr[] p) => Scanned(p[0], p[1]).Loss)([W, B]);
        var values = Expr.EvalMany([.. unrolled, .. repeated, .. scanned]);
        for (int i = 0; i < 2; i++)
        {
            Close(values[i].ToDoubleArray(), values[2 + i].ToDoubleArray(), 1e-12, "repeat vs unrolled");
            Close(values[i].ToDoubleArray(), values[4 + i].ToDoubleArray(), 1e-12, "scan vs unrolled");
        }

        var trajectory = Scanned(W, B).Trajectory.Eval();
        Assert.Equal(new[] { Steps, Batch, D }, trajectory.Shape);
        var reference = TrajectoryReference(W.ToDoubleArray(), B.ToDoubleArray());
        Close(reference.SelectMany(s => s).ToArray(), trajectory.ToDoubleArray(), 1e-12, "trajectory");
    }

    [Fact]
    public void ACompiledSgdLoopOnTheOdeMatchesTheReferenceLoop()
    {
        // Training, as a torch user would: 5 SGD steps on W and b, compiled once.
        var step = Diff.CompileValueAndGrad((p, data) => Loss.Mse(Expr.Repeat(Steps, x => Rk4(x, p["w"], p["b"]), data[0]), data[1]));
        var sgd = new Sgd(Parameters.Of(("w", W), ("b", B)), lr: 0.5);
        var flat = (double[])Flat.Clone();
        for (int i = 0; i < 5; i++)
        {
            var (loss, gradients) = step.Invoke(sgd.Parameters, X0, Target);
            // after the first step the reference parameters carry the central differences' ~1e-10 error
            Close(LossReference(flat), loss.ToScalar(), i == 0 ? 1e-12 : 1e-8, $"loss {i}");
            var g = Gradient(LossReference, flat);
            flat = flat.Select((v, k) => v - 0.5 * g[k]).ToArray();
            sgd.Step(gradients);
            Close(flat, [.. sgd.Parameters["w"].ToDoubleArray(), .. sgd.Parameters["b"].ToDoubleArray()], 1e-8, $"parameters {i}");
        }
        Assert.Equal(1, step.TraceCount);
    }

    // ---- a time-dependent field, dx/dt = tanh(W x + t·b), the Scan reading each step's t from the grid ----

    static double TimeDependentReference(double[] wb)
    {
        double[] w = wb[..(D * D)], b = wb[(D * D)..];
        double[] Field2(double t, double[] x) => Field(w, b.Select(v => t * v).ToArray(), x);
        var x = X0.ToDoubleArray();
        for (int s = 0; s < Steps; s++)
        {
            double t = s * Dt;
            var k1 = Field2(t, x);
            var k2 = Field2(t + Dt / 2, Axpy(x, Dt / 2, k1));
            var k3 = Field2(t + Dt / 2, Axpy(x, Dt / 2, k2));
            var k4 = Field2(t + Dt, Axpy(x, Dt, k3));
            x = x.Select((v, i) => v + Dt / 6 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i])).ToArray();
        }
        var target = Target.ToDoubleArray();
        return x.Select((v, i) => (v - target[i]) * (v - target[i])).Average();
    }

    [Fact]
    public void ATimeDependentFieldScannedOverTheGridMatchesItsReference()
    {
        var grid = Tensor.Linspace(0, Dt * (Steps - 1), Steps);   // torch.linspace: the step's start times
        var (loss, gradients) = Diff.ValueAndGrad((Expr[] p) =>
        {
            Expr F(Expr t, Expr y) => Nn.Linear(y, p[0], t * p[1]).Tanh();
            var (final, _) = Expr.Scan((x, t) =>
            {
                var k1 = F(t, x);
                var k2 = F(t + Dt / 2, x + Dt / 2 * k1);
                var k3 = F(t + Dt / 2, x + Dt / 2 * k2);
                var k4 = F(t + Dt, x + Dt * k3);
                var next = x + Dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4);
                return (next, next);
            }, X0, grid);
            return Loss.Mse(final, Target);
        }, W, B);
        var values = Expr.EvalMany([loss, .. gradients]);
        Close(TimeDependentReference(Flat), values[0].ToScalar(), 1e-12, "loss");
        Close(Gradient(TimeDependentReference, Flat), [.. values[1].ToDoubleArray(), .. values[2].ToDoubleArray()], 1e-7, "gradient");
    }
}
