using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

/// <summary>How a case's input values are drawn: each kind keeps the inputs inside a function's smooth domain.</summary>
public enum InputKind
{
    /// <summary>Standard normal.</summary>
    Normal,
    /// <summary>0.5 + |normal|: for log, sqrt, pow bases, division.</summary>
    Positive,
    /// <summary>Inside (-0.8, 0.8): for functions with poles or kinks at ±1.</summary>
    Unit,
    /// <summary>Normal values pushed at least 0.3 away from 0: for abs, relu, sign-like kinks.</summary>
    AwayFromZero,
    /// <summary>Distinct values spaced at least 0.2 apart: for max, min and sorting-like ops, so no tie is hit by chance.</summary>
    Distinct,
}

/// <summary>One differentiable input of a case.</summary>
public sealed record InputSpec(int[] Shape, InputKind Kind = InputKind.Normal);

/// <summary>
/// A comparison passes when every element satisfies |ours − torch| ≤ Relative·|torch| + AbsoluteFloor·scale,
/// where scale is the largest |torch| value of that check (1 when all are zero).
/// </summary>
public sealed record Tolerance(double Relative, double AbsoluteFloor)
{
    /// <summary>float64: both engines evaluate the same formulas in double; differences are rounding only.</summary>
    public static readonly Tolerance Float64 = new(1e-10, 1e-12);

    /// <summary>float32: single-precision rounding (eps ≈ 6e-8) amplified by a few dozen operations.</summary>
    public static readonly Tolerance Float32 = new(1e-4, 1e-5);

    /// <summary>
    /// A lower bound on the scale of the absolute floor (default 0: the largest |torch| value alone). The fuzzer
    /// sets 1: its programs compute with values of order 1, so a result that cancels to about 0 carries the
    /// rounding of order-1 terms.
    /// </summary>
    public double ScaleAtLeast { get; init; }

    /// <summary>
    /// When true, a NaN on one side of the full Hessian passes where the other engine has its NaN at the
    /// transposed position (j, i). The Hessian is symmetric, but where a second derivative meets 0·∞ the
    /// NaN lands in the rows of the engine that differentiates the gradient's entries one at a time (torch)
    /// and in the columns of one that pushes a tangent per input through the gradient (ours). Every other
    /// NaN must be matched by a NaN at the same position. The fuzzer sets it.
    /// </summary>
    public bool HessianNaNMayTranspose { get; init; }

    /// <summary>
    /// When true, an infinity on one side of the full Hessian passes where the two engines hold the same pair transposed:
    /// ours (r, c) is the other's (c, r) and ours (c, r) the other's (r, c), one of them ±∞ and the other within the
    /// tolerance. As with <see cref="HessianNaNMayTranspose"/>, the two engines form the mixed partial ∂²f/∂xᵣ∂x꜀ in opposite
    /// orders, and an intermediate that overflows in one order does not in the other, so the overflow lands in torch's row
    /// and in our column (program `fuzz wide adversarial 112/49`: solve(x₀, x₁)·x₂ at x₂ = −1e160, where one engine's H₀₁
    /// and the other's H₁₀ are −∞ and the other entry is −7.7e160 in both). Any other infinity must match at its own
    /// position. The fuzzer sets it.
    /// </summary>
    public bool HessianOverflowMayTranspose { get; init; }

    /// <summary>
    /// When true, a NaN of ours in the full Hessian at (r, c) passes where torch's row r holds a non-finite
    /// entry at another column k ≠ c. Ours builds column c by pushing the one-hot tangent e_c through the
    /// gradient, so its entry is Σₖ H_rk·[e_c]ₖ in IEEE arithmetic, and the zero tangent of input k meets
    /// H_rk = ±∞ as 0·∞ = NaN; torch differentiates each gradient entry alone and keeps H_rc (program
    /// `fuzz adversarial 1/295`: x1·expm1(x0) at x0 = ∞, x1 = 0, where H_01 = e^x0 = ∞ and ours is NaN beside
    /// H_00 = 0·∞). Only ours NaN, and only beside a non-finite entry of the same row. The fuzzer sets it.
    /// </summary>
    public bool HessianNaNFromZeroTangent { get; init; }

    /// <summary>
    /// The mirror of <see cref="HessianNaNFromZeroTangent"/> for torch: a NaN of torch's in the full Hessian at (r, c)
    /// passes where our column c holds a non-finite entry at another row k ≠ r. Torch builds row r by a reverse pass with
    /// the one-hot cotangent e_r on the gradient, so the zero cotangent of gradient entry k meets ∂grad_k/∂x_c = H_kc = ±∞
    /// as 0·∞ = NaN (program `fuzz 9/828`: the dot product of x₁/x₀ with itself at x₁ = −∞, x₀ = 0.5, whose H₀₀ = 6u·x₁²/x₀⁴
    /// is +∞ in ours and the closed form, NaN in torch's beside H₁₀ = ∞). Only torch NaN, and only beside a non-finite
    /// entry of our same column. The fuzzer sets it.
    /// </summary>
    public bool HessianTorchNaNFromZeroCotangent { get; init; }

    /// <summary>
    /// When true, an entry of a derivative check (never the value) passes where torch is NaN and ours is a
    /// number: torch's rule meets 0/0 inside a masked branch at a point where the derivative exists (the
    /// 2-norm and std at 0). Only that direction: a NaN of ours against a number of torch still fails. A
    /// case that sets it says why.
    /// </summary>
    public bool TorchDerivativeNaNIsConvention { get; init; }
}

/// <summary>
/// One row of the comparison table: the same function written with FunctionalDiff and with TorchSharp,
/// and the inputs to evaluate both at.
/// </summary>
public sealed record Case(string Name, InputSpec[] Inputs, Func<Expr[], Expr> Ours, Func<TT[], TT> Torch)
{
    /// <summary>Seed of the inputs, cotangent, direction and tangent.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Exact input values, for the points where conventions matter (abs at 0, ties); null to draw them.</summary>
    public double[][]? Fixed { get; init; }

    /// <summary>A looser float64 bound, when a case needs one (say why in <see cref="Why"/>).</summary>
    public Tolerance? Float64 { get; init; }

    /// <summary>A looser float32 bound, when a case needs one (say why in <see cref="Why"/>).</summary>
    public Tolerance? Float32 { get; init; }

    /// <summary>Why the case has its own tolerance or its own inputs.</summary>
    public string? Why { get; init; }

    /// <summary>Skip the finite Hessian even when the inputs are small (never used to hide a failure; only for non-smooth cases).</summary>
    public bool SkipHessian { get; init; }

    /// <summary>
    /// Checks not compared because torch's own result is wrong there (its rounding, or a rule that
    /// disagrees with torch's other rules), each shown against the closed form in a test; <see cref="Why"/>
    /// names the reason. Skipping Hessian also skips nothing else; skipping SecondOrder skips Hessian too.
    /// </summary>
    public IReadOnlyCollection<Check> Skipped { get; init; } = Array.Empty<Check>();

    /// <summary>
    /// Checks not compared in the float32 run only, as <see cref="Skipped"/> for both dtypes: where float32's range, not
    /// float64's, makes a result wrong (a square that underflows in float32 only, say); <see cref="Why"/> names the reason.
    /// </summary>
    public IReadOnlyCollection<Check> SkippedFloat32 { get; init; } = Array.Empty<Check>();

    /// <summary>Whether a check is not compared in a dtype's run (<see cref="Skipped"/>, and <see cref="SkippedFloat32"/> in float32).</summary>
    public bool SkipsIn(DType dtype, Check check) => Skipped.Contains(check) || (dtype == DType.Float32 && SkippedFloat32.Contains(check));

    /// <summary>
    /// libtorch has no derivative of the case's backward (grid_sample's and ctc_loss's: a double backward aborts the
    /// process), so torch's side computes first-order checks only: the JVP by one reverse pass per output entry, J·t read
    /// row by row, instead of the double-backward trick. The second order and the Hessian must be in <see cref="Skipped"/>.
    /// </summary>
    public bool TorchFirstOrderOnly { get; init; }

    /// <summary>
    /// A model with a transform inside it, for which the case checks the meta-derivative in the four
    /// mode combinations (<see cref="NestedRunner"/>) instead of the checks of <see cref="Check"/>;
    /// <see cref="Ours"/> and <see cref="Torch"/> are then its objective with a reverse inner gradient.
    /// </summary>
    public NestedModel? Nested { get; init; }

    /// <summary>The number of scalar inputs.</summary>
    public int InputSize => Inputs.Sum(i => i.Shape.Aggregate(1, (a, b) => a * b));

    /// <summary>The tolerance for a dtype.</summary>
    public Tolerance ToleranceFor(DType dtype) =>
        dtype == DType.Float64 ? Float64 ?? Tolerance.Float64 : Float32 ?? Tolerance.Float32;
}

/// <summary>The checks every case runs, in both dtypes.</summary>
public enum Check
{
    /// <summary>The function's value.</summary>
    Value,
    /// <summary>The VJP with a random cotangent, with respect to every input.</summary>
    Vjp,
    /// <summary>d/dx ⟨pullback(u), v⟩: the Hessian-vector product for scalar outputs, vjp of vjp otherwise.</summary>
    SecondOrder,
    /// <summary>The full Hessian of ⟨f(x), u⟩ (cases with at most 10 scalar inputs).</summary>
    Hessian,
    /// <summary>Forward mode: J·t.</summary>
    Jvp,
    /// <summary>The value and the VJP again, from one compiled function (Diff.Compile) run on the inputs as Tensors.</summary>
    Compiled,
}
