using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's RealNVP on 2-D points: two affine coupling layers with alternating masks [1, 0] and [0, 1]
/// (y = x·m + (1 − m)·(x·exp(s(x·m)) + t(x·m)), s and t small MLPs, s through tanh), the log-determinant of the Jacobian
/// summed per sample (Σ s), and the negative log-likelihood under a standard normal base, trained with Adam through
/// <c>Diff.CompileValueAndGrad</c>. The loss is held to the flow written over doubles with its log-determinant taken
/// from the Jacobian of the map by central differences (not from Σ s), the gradient to central differences, and the
/// training to torch's Adam written out.
/// </summary>
public class ClientSixteenFlowTests
{
    const int Samples = 6, Hidden = 4, Couplings = 2;
    const double Lr = 0.01;

    static readonly double[] Points = Values(Samples * 2, 3).Select((v, i) => i % 2 == 0 ? 2 * v : 0.5 * v + 0.3 * v * v).ToArray();

    // the parameters in this order, each flat: fc1.weight [H, 2], fc1.bias [H], s.weight [2, H], s.bias [2], t.weight [2, H], t.bias [2]
    static readonly (string Name, int[] Shape)[] Layout = Enumerable.Range(0, Couplings).SelectMany(c => new (string, int[])[]
    {
        ($"c{c}.fc1.weight", [Hidden, 2]), ($"c{c}.fc1.bias", [Hidden]), ($"c{c}.s.weight", [2, Hidden]), ($"c{c}.s.bias", [2]),
        ($"c{c}.t.weight", [2, Hidden]), ($"c{c}.t.bias", [2]),
    }).ToArray();

    static Parameters Model() => Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), 10 + k).Select(v => 0.4 * v).ToArray(), e.Shape))).ToArray());

    static Tensor Mask(int c) => Tensor.FromArray(c % 2 == 0 ? new double[] { 1, 0 } : new double[] { 0, 1 });

    /// <summary>The program as the user wrote it: the mean negative log-likelihood of the points.</summary>
    static Expr Nll(IReadOnlyDictionary<string, Expr> p, Expr x)
    {
        Expr logDet = Expr.Zeros(x.Shape[0]);
        for (int c = 0; c < Couplings; c++)
        {
            Expr mask = Mask(c);
            var xm = x * mask;
            var h = Nn.Linear(xm, p[$"c{c}.fc1.weight"], p[$"c{c}.fc1.bias"]).Relu();
            var s = Nn.Linear(h, p[$"c{c}.s.weight"], p[$"c{c}.s.bias"]).Tanh() * (1 - mask);
            var t = Nn.Linear(h, p[$"c{c}.t.weight"], p[$"c{c}.t.bias"]) * (1 - mask);
            x = xm + (1 - mask) * (x * s.Exp() + t);
            logDet = logDet + s.Sum(1);
        }
        return -(Distributions.NormalLogProb(0.0, 1.0, x).Sum(1) + logDet).Mean();
    }

    /// <summary>The flow over doubles for one point: the image and Σ s.</summary>
    static (double[] Y, double SumS) Forward(Dictionary<string, double[]> w, double[] point)
    {
        var x = (double[])point.Clone();
        double sumS = 0;
        for (int c = 0; c < Couplings; c++)
        {
            int kept = c % 2 == 0 ? 0 : 1, moved = 1 - kept;
            var h = new double[Hidden];
            for (int j = 0; j < Hidden; j++)
                h[j] = Math.Max(0, w[$"c{c}.fc1.weight"][j * 2 + kept] * x[kept] + w[$"c{c}.fc1.bias"][j]);
            double sPre = w[$"c{c}.s.bias"][moved], t = w[$"c{c}.t.bias"][moved];
            for (int j = 0; j < Hidden; j++)
            {
                sPre += w[$"c{c}.s.weight"][moved * Hidden + j] * h[j];
                t += w[$"c{c}.t.weight"][moved * Hidden + j] * h[j];
            }
            double s = Math.Tanh(sPre);
            x[moved] = x[moved] * Math.Exp(s) + t;
            sumS += s;
        }
        return (x, sumS);
    }

    /// <summary>log|det ∂y/∂x| of the flow at a point, from its 2×2 Jacobian by central differences.</summary>
    static double LogDetByDifferences(Dictionary<string, double[]> w, double[] point)
    {
        var rows = Directional(q => Forward(w, q).Y, point);   // rows[i][k] = ∂y_k/∂x_i
        return Math.Log(Math.Abs(rows[0][0] * rows[1][1] - rows[0][1] * rows[1][0]));
    }

    static double ReferenceNll(double[] flat, bool logDetByDifferences)
    {
        var w = Unflatten(Layout, flat);
        double total = 0;
        for (int n = 0; n < Samples; n++)
        {
            var point = Points[(2 * n)..(2 * n + 2)];
            var (y, sumS) = Forward(w, point);
            double logDet = logDetByDifferences ? LogDetByDifferences(w, point) : sumS;
            total -= y.Sum(v => -0.5 * v * v - 0.5 * Math.Log(2 * Math.PI)) + logDet;
        }
        return total / Samples;
    }

    [Fact]
    public void TheNllIsTheFlowsDensityWithTheJacobianTakenByDifferences()
    {
        var model = Model();
        var value = Nll(model.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value), Tensor.FromArray(Points, Samples, 2)).Eval().Item();
        Close(ReferenceNll(Flatten(Layout, model), logDetByDifferences: true), value, 1e-8, "nll");
    }

    [Fact]
    public void TheGradientIsCentralDifferencesAndAdamIsTorchsWrittenOut()
    {
        var step = Diff.CompileValueAndGrad((p, d) => Nll(p, d[0]));
        // torch.optim.Adam, fed the gradient just checked (a structurally zero entry, such as s.bias of the kept
        // coordinate, stays exactly zero there)
        CheckAdamSteps(step, new Adam(Model(), lr: Lr), Layout, x => ReferenceNll(x, logDetByDifferences: false),
            [Tensor.FromArray(Points, Samples, 2)], steps: 3, lossTolerance: 1e-9);
    }
}
