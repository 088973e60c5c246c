using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

/// <summary>A loop over the leading axis of <c>xs</c>, in the shape of <c>Expr.Scan</c>'s Expr[] overload.</summary>
public delegate (Expr[] Carry, Expr[] Ys) OurScan(Func<Expr[], Expr[], (Expr[] Carry, Expr[] Ys)> step, Expr[] init, Expr[] xs);

/// <summary>A fori loop in the shape of <c>Expr.Repeat</c>.</summary>
public delegate Expr OurRepeat(int count, Func<Expr, Expr> step, Expr init);

/// <summary>
/// The two ways our side writes a loop: <c>Expr.Scan</c>
/// (one node for the whole loop) and the same loop unrolled by C# (one copy of the body per step), which
/// is what Scan means and what users wrote before it.
/// </summary>
public static class Loops
{
    /// <summary>The loop unrolled: step t sees slice t of every xs; the ys of all steps are stacked on axis 0.</summary>
    public static (Expr[] Carry, Expr[] Ys) UnrolledScan(Func<Expr[], Expr[], (Expr[] Carry, Expr[] Ys)> step, Expr[] init, Expr[] xs)
    {
        int steps = xs[0].Shape[0];
        var carry = init;
        List<Expr>[]? ys = null;
        for (int t = 0; t < steps; t++)
        {
            var slices = xs.Select(x => x.Slice(0, t, t + 1).Reshape(x.Shape[1..])).ToArray();
            var (next, y) = step(carry, slices);
            ys ??= y.Select(_ => new List<Expr>()).ToArray();
            for (int i = 0; i < y.Length; i++) ys[i].Add(y[i]);
            carry = next;
        }
        return (carry, (ys ?? []).Select(list => Expr.Stack(0, list.ToArray())).ToArray());
    }

    /// <summary>The fori loop unrolled.</summary>
    public static Expr UnrolledRepeat(int count, Func<Expr, Expr> step, Expr init)
    {
        var carry = init;
        for (int k = 0; k < count; k++) carry = step(carry);
        return carry;
    }

    /// <summary>Expr.Scan itself.</summary>
    public static (Expr[] Carry, Expr[] Ys) Scan(Func<Expr[], Expr[], (Expr[] Carry, Expr[] Ys)> step, Expr[] init, Expr[] xs) =>
        Expr.Scan(step, init, xs);

    /// <summary>Expr.Repeat itself.</summary>
    public static Expr Repeat(int count, Func<Expr, Expr> step, Expr init) => Expr.Repeat(count, step, init);
}

/// <summary>
/// The recurrent models of issue 19, each written once per engine: ours around a loop strategy
/// (<see cref="Loops"/>), torch's as the same cell in a C# loop. The comparison table runs them small,
/// the benchmark runs the LSTM and the ODE large.
/// </summary>
public static class RecurrentModels
{
    // ---------------------------------------------------------------- LSTM

    /// <summary>Sizes of a two-layer LSTM language model over one-hot tokens.</summary>
    public sealed record LstmSize(int Vocabulary, int Hidden, int Batch, int Steps)
    {
        /// <summary>
        /// Parameter shapes, in the order the model takes them: per layer the input weight (4H × in),
        /// the recurrent weight (4H × H) and the bias (4H), torch's gate order i, f, g, o; then the
        /// read-out (V × H) and its bias (V).
        /// </summary>
        public int[][] Parameters => new[]
        {
            new[] { 4 * Hidden, Vocabulary }, new[] { 4 * Hidden, Hidden }, new[] { 4 * Hidden },
            new[] { 4 * Hidden, Hidden }, new[] { 4 * Hidden, Hidden }, new[] { 4 * Hidden },
            new[] { Vocabulary, Hidden }, new[] { Vocabulary },
        };
    }

    /// <summary>
    /// A fixed token sequence per batch row (Steps + 1 tokens: the inputs and, shifted by one, the targets),
    /// drawn from a seeded generator.
    /// </summary>
    public static int[,] Tokens(LstmSize size, int seed)
    {
        var random = new Random(seed);
        var tokens = new int[size.Batch, size.Steps + 1];
        for (int b = 0; b < size.Batch; b++)
            for (int t = 0; t <= size.Steps; t++) tokens[b, t] = random.Next(size.Vocabulary);
        return tokens;
    }

    /// <summary>The inputs one-hot, [Steps, Batch, Vocabulary] row-major.</summary>
    public static double[] OneHot(LstmSize size, int[,] tokens)
    {
        var values = new double[size.Steps * size.Batch * size.Vocabulary];
        for (int t = 0; t < size.Steps; t++)
            for (int b = 0; b < size.Batch; b++) values[(t * size.Batch + b) * size.Vocabulary + tokens[b, t]] = 1;
        return values;
    }

    /// <summary>The targets: the next token, flattened in the order of the logits [Steps·Batch].</summary>
    public static int[] Targets(LstmSize size, int[,] tokens)
    {
        var targets = new int[size.Steps * size.Batch];
        for (int t = 0; t < size.Steps; t++)
            for (int b = 0; b < size.Batch; b++) targets[t * size.Batch + b] = tokens[b, t + 1];
        return targets;
    }

    /// <summary>One LSTM cell on a batch: gates = x Wxᵀ + h Whᵀ + b, split i, f, g, o as torch does.</summary>
    public static (Expr H, Expr C) LstmCell(Expr x, Expr h, Expr c, Expr wx, Expr wh, Expr b)
    {
        int hidden = h.Shape[^1];
        var gates = x.MatMul(wx.Transpose()) + h.MatMul(wh.Transpose()) + b;
        Expr Gate(int k) => gates.Slice(1, k * hidden, (k + 1) * hidden);
        var c2 = Gate(1).Sigmoid() * c + Gate(0).Sigmoid() * Gate(2).Tanh();
        return (Gate(3).Sigmoid() * c2.Tanh(), c2);
    }

    /// <summary>The same cell in TorchSharp.</summary>
    public static (TT H, TT C) LstmCell(TT x, TT h, TT c, TT wx, TT wh, TT b)
    {
        long hidden = h.shape[^1];
        var gates = x.matmul(wx.t()) + h.matmul(wh.t()) + b;
        TT Gate(int k) => gates.narrow(1, k * hidden, hidden);
        var c2 = Gate(1).sigmoid() * c + Gate(0).sigmoid() * Gate(2).tanh();
        return (Gate(3).sigmoid() * c2.tanh(), c2);
    }

    /// <summary>
    /// The language-model objective: two stacked LSTM layers over the one-hot inputs [Steps, Batch, V],
    /// a linear read-out of the top layer at every step, and the mean cross-entropy against the next
    /// tokens. One step of <paramref name="loop"/> runs both layers and the read-out.
    /// </summary>
    public static Expr LstmObjective(OurScan loop, LstmSize size, Expr oneHot, int[] targets, Expr[] p)
    {
        var zero = (Expr)Tensor.Zeros(new[] { size.Batch, size.Hidden }, p[0].DType);
        var (_, ys) = loop((carry, x) =>
        {
            var (h1, c1) = LstmCell(x[0], carry[0], carry[1], p[0], p[1], p[2]);
            var (h2, c2) = LstmCell(h1, carry[2], carry[3], p[3], p[4], p[5]);
            return (new[] { h1, c1, h2, c2 }, new[] { h2.MatMul(p[6].Transpose()) + p[7] });
        }, new[] { zero, zero, zero, zero }, new[] { oneHot });
        return Loss.CrossEntropy(ys[0].Reshape(size.Steps * size.Batch, size.Vocabulary), targets);
    }

    /// <summary>The same objective in TorchSharp, the cell in a C# loop.</summary>
    public static TT LstmObjective(LstmSize size, TT oneHot, TT targets, TT[] p)
    {
        var h1 = torch.zeros(new long[] { size.Batch, size.Hidden }, dtype: p[0].dtype);
        TT c1 = h1, h2 = h1, c2 = h1;
        var logits = new TT[size.Steps];
        for (int t = 0; t < size.Steps; t++)
        {
            (h1, c1) = LstmCell(oneHot[t], h1, c1, p[0], p[1], p[2]);
            (h2, c2) = LstmCell(h1, h2, c2, p[3], p[4], p[5]);
            logits[t] = h2.matmul(p[6].t()) + p[7];
        }
        return nn.functional.cross_entropy(torch.stack(logits, 0).reshape(size.Steps * size.Batch, size.Vocabulary), targets);
    }

    // ---------------------------------------------------------------- GRU with a mask

    /// <summary>Sizes of the masked GRU: input width, hidden width, and the length of each sequence of the batch.</summary>
    public sealed record GruSize(int Input, int Hidden, int[] Lengths)
    {
        /// <summary>The longest sequence: the number of steps.</summary>
        public int Steps => Lengths.Max();

        /// <summary>The batch size.</summary>
        public int Batch => Lengths.Length;

        /// <summary>Input weight (3H × in), recurrent weight (3H × H), their biases (3H each); torch's gate order r, z, n.</summary>
        public int[][] Parameters => new[] { new[] { 3 * Hidden, Input }, new[] { 3 * Hidden, Hidden }, new[] { 3 * Hidden }, new[] { 3 * Hidden } };

        /// <summary>mask[t, b] = 1 while step t is inside sequence b, [Steps, Batch, 1] row-major.</summary>
        public double[] Mask() =>
            Enumerable.Range(0, Steps).SelectMany(t => Lengths.Select(length => t < length ? 1.0 : 0.0)).ToArray();
    }

    /// <summary>
    /// One GRU cell on a batch, in torch's form: r = σ(xW_rᵀ + b_r + hU_rᵀ + c_r), z likewise,
    /// n = tanh(xW_nᵀ + b_n + r ∘ (hU_nᵀ + c_n)), h' = (1 − z) ∘ n + z ∘ h.
    /// </summary>
    public static Expr GruCell(Expr x, Expr h, Expr wx, Expr wh, Expr bx, Expr bh)
    {
        int hidden = h.Shape[^1];
        var gx = x.MatMul(wx.Transpose()) + bx;
        var gh = h.MatMul(wh.Transpose()) + bh;
        Expr X(int k) => gx.Slice(1, k * hidden, (k + 1) * hidden);
        Expr H(int k) => gh.Slice(1, k * hidden, (k + 1) * hidden);
        var r = (X(0) + H(0)).Sigmoid();
        var z = (X(1) + H(1)).Sigmoid();
        var n = (X(2) + r * H(2)).Tanh();
        return (1.0 - z) * n + z * h;
    }

    /// <summary>The same cell in TorchSharp.</summary>
    public static TT GruCell(TT x, TT h, TT wx, TT wh, TT bx, TT bh)
    {
        long hidden = h.shape[^1];
        var gx = x.matmul(wx.t()) + bx;
        var gh = h.matmul(wh.t()) + bh;
        TT X(int k) => gx.narrow(1, k * hidden, hidden);
        TT H(int k) => gh.narrow(1, k * hidden, hidden);
        var r = (X(0) + H(0)).sigmoid();
        var z = (X(1) + H(1)).sigmoid();
        var n = (X(2) + r * H(2)).tanh();
        return (1.0 - z) * n + z * h;
    }

    /// <summary>
    /// The GRU over a batch of sequences of different lengths, padded to the longest: a step updates a
    /// row only where its mask is 1, so each row of the result is that sequence's state after its own
    /// last step. Returns the final states [Batch, Hidden].
    /// </summary>
    public static Expr MaskedGru(OurScan loop, GruSize size, Expr xs, Expr mask, Expr[] p)
    {
        var h0 = (Expr)Tensor.Zeros(new[] { size.Batch, size.Hidden }, p[0].DType);
        var (carry, _) = loop((h, x) =>
        {
            var next = GruCell(x[0], h[0], p[0], p[1], p[2], p[3]);
            return (new[] { x[1] * next + (1.0 - x[1]) * h[0] }, Array.Empty<Expr>());
        }, new[] { h0 }, new[] { xs, mask });
        return carry[0];
    }

    /// <summary>The same in TorchSharp.</summary>
    public static TT MaskedGru(GruSize size, TT xs, TT mask, TT[] p)
    {
        var h = torch.zeros(new long[] { size.Batch, size.Hidden }, dtype: p[0].dtype);
        for (int t = 0; t < size.Steps; t++)
            h = mask[t] * GruCell(xs[t], h, p[0], p[1], p[2], p[3]) + (1.0 - mask[t]) * h;
        return h;
    }

    // ---------------------------------------------------------------- RK4 ODE

    /// <summary>Sizes of the neural ODE: state width, hidden width of the vector field's MLP, steps and step size.</summary>
    public sealed record OdeSize(int State, int Hidden, int Steps, double Dt)
    {
        /// <summary>The initial state (State), then W1 (Hidden × State), b1 (Hidden), W2 (State × Hidden), b2 (State).</summary>
        public int[][] Inputs => new[] { new[] { State }, new[] { Hidden, State }, new[] { Hidden }, new[] { State, Hidden }, new[] { State } };
    }

    /// <summary>One classical Runge–Kutta step of dy/dt = f(y).</summary>
    public static Expr Rk4Step(Func<Expr, Expr> f, Expr y, double dt)
    {
        var k1 = f(y);
        var k2 = f(y + dt / 2 * k1);
        var k3 = f(y + dt / 2 * k2);
        var k4 = f(y + dt * k3);
        return y + dt / 6 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }

    /// <summary>The same in TorchSharp.</summary>
    public static TT Rk4Step(Func<TT, TT> f, TT y, double dt)
    {
        var k1 = f(y);
        var k2 = f(y + dt / 2 * k1);
        var k3 = f(y + dt / 2 * k2);
        var k4 = f(y + dt * k3);
        return y + dt / 6 * (k1 + 2.0 * k2 + 2.0 * k3 + k4);
    }

    /// <summary>
    /// The state after Steps RK4 steps of dy/dt = W2 tanh(W1 y + b1) + b2 from y0 (the first input);
    /// y may carry leading batch axes (the vectors are its last axis).
    /// </summary>
    public static Expr OdeFinal(OurRepeat loop, OdeSize size, Expr[] p)
    {
        Expr F(Expr y) => (y.MatMul(p[1].Transpose()) + p[2]).Tanh().MatMul(p[3].Transpose()) + p[4];
        return loop(size.Steps, y => Rk4Step(F, y, size.Dt), p[0]);
    }

    /// <summary>The same in TorchSharp.</summary>
    public static TT OdeFinal(OdeSize size, TT[] p)
    {
        TT F(TT y) => (y.matmul(p[1].t()) + p[2]).tanh().matmul(p[3].t()) + p[4];
        var y = p[0];
        for (int k = 0; k < size.Steps; k++) y = Rk4Step(F, y, size.Dt);
        return y;
    }

    // ---------------------------------------------------------------- bilevel descent as a Scan

    /// <summary>
    /// Bilevel descent over a schedule of step sizes (the scanned xs): x ← x − η_k ∇ₓ f(x, w) with
    /// f(x, w) = Σ tanh(x·w)² + 0.1 Σ (x − w)², from a fixed x₀; each step also emits f(x, w). The
    /// objective is Σ x_N² + mean_k f(x_k, w), a function of w.
    /// </summary>
    public static Expr Bilevel(OurScan loop, double[] start, double[] rates, Expr w)
    {
        Expr F(Expr x) => (x * w).Tanh().Square().Sum() + 0.1 * (x - w).Square().Sum();
        var x0 = OurSide.Make(start, new[] { start.Length }, w.DType);
        var schedule = OurSide.Make(rates, new[] { rates.Length }, w.DType);
        var (carry, ys) = loop((x, rate) => (new[] { x[0] - rate[0] * Diff.Grad(F)(x[0]) }, new[] { F(x[0]) }),
            new[] { x0 }, new[] { schedule });
        return carry[0].Square().Sum() + ys[0].Mean();
    }

    /// <summary>The same in TorchSharp, the inner gradient by torch.autograd.grad with create_graph.</summary>
    public static TT Bilevel(double[] start, double[] rates, TT w)
    {
        TT F(TT x) => (x * w).tanh().square().sum() + 0.1 * (x - w).square().sum();
        var x = torch.tensor(start, dtype: w.dtype);
        var losses = new TT[rates.Length];
        for (int k = 0; k < rates.Length; k++)
        {
            losses[k] = F(x);
            x = x - rates[k] * TorchNested.Gradient(Mode.Reverse, F, x);
        }
        return x.square().sum() + torch.stack(losses, 0).mean();
    }
}
