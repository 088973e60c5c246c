using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

/// <summary>
/// The one table of comparison cases: every primitive and composite of the core at several shapes,
/// the models, and the points where conventions matter. Each row is our function, the same function in
/// TorchSharp, and its inputs.
/// </summary>
public static partial class CaseTable
{
    /// <summary>Every case, in a fixed order.</summary>
    public static IReadOnlyList<Case> All { get; } =
        Elementwise().Concat(Binary()).Concat(Reductions()).Concat(Structural())
            .Concat(Composites()).Concat(Models()).Concat(Conventions()).Concat(Nested())
            .Concat(Linalg()).Concat(Special()).Concat(Convolutions()).Concat(Vmap())
            .Concat(Recurrent()).Concat(ScanPrimitive()).Concat(EinsumEllipsis()).Concat(EdgeCases())
            .Concat(ElementaryFunctions()).Concat(StructureConveniences()).Concat(NormalisationAndViews()).Concat(TorchExtras())
            .Concat(Resampling()).Concat(Functional()).Concat(Attention()).Concat(Ported()).Concat(ClientNine()).Concat(ClientTen()).Concat(ClientEleven()).Concat(ClientThirteen()).Concat(ClientFourteen()).Concat(ClientFifteen()).Concat(ClientSixteen()).Concat(ClientSeventeen()).Concat(ClientEighteen()).Concat(ClientNineteen()).Concat(Svd()).Concat(Pooling()).Concat(NnExtras()).Concat(Numerics()).Concat(DropoutVariants()).Concat(TorchSpecial()).Concat(TorchBessel()).Concat(Manipulation()).Concat(PoolingAndConditioning()).ToList();

    // ---- helpers that keep each row on one line ----

    static InputSpec I(params int[] shape) => new(shape);
    static InputSpec P(params int[] shape) => new(shape, InputKind.Positive);
    static InputSpec U(params int[] shape) => new(shape, InputKind.Unit);
    static InputSpec Z(params int[] shape) => new(shape, InputKind.AwayFromZero);
    static InputSpec D(params int[] shape) => new(shape, InputKind.Distinct);

    static Case C(string name, InputSpec[] inputs, Func<Expr[], Expr> ours, Func<TT[], TT> torch) => new(name, inputs, ours, torch);

    /// <summary>A one-input case at several shapes: rank 0, a vector and a non-square matrix.</summary>
    static IEnumerable<Case> AtShapes(string name, Func<int[], InputSpec> input, Func<Expr, Expr> ours, Func<TT, TT> torch) =>
        new[] { new int[0], new[] { 5 }, new[] { 2, 3 } }.Select(shape =>
            C($"{name} {Shape(shape)}", new[] { input(shape) }, x => ours(x[0]), x => torch(x[0])));

    /// <summary>A two-input case at equal, broadcast and rank-0 shapes.</summary>
    static IEnumerable<Case> Broadcasting(string name, Func<int[], InputSpec> left, Func<int[], InputSpec> right,
        Func<Expr, Expr, Expr> ours, Func<TT, TT, TT> torch)
    {
        var pairs = new[]
        {
            (new[] { 2, 3 }, new[] { 2, 3 }), (new[] { 2, 3 }, new[] { 3 }), (new[] { 2, 1 }, new[] { 1, 3 }),
            (new int[0], new[] { 2, 3 }), (new[] { 3, 1, 2 }, new[] { 4, 1 }),
        };
        return pairs.Select(p => C($"{name} {Shape(p.Item1)}·{Shape(p.Item2)}", new[] { left(p.Item1), right(p.Item2) },
            x => ours(x[0], x[1]), x => torch(x[0], x[1])));
    }

    static string Shape(int[] shape) => "[" + string.Join(",", shape) + "]";

    /// <summary>A constant torch tensor in the dtype of <paramref name="like"/>.</summary>
    static TT Const(double[] values, long[] shape, TT like) => torch.tensor(values, dtype: like.dtype).reshape(shape);

    /// <summary>A constant of ours in the dtype of <paramref name="like"/>.</summary>
    static Expr Const(double[] values, int[] shape, Expr like) => OurSide.Make(values, shape, like.DType);

    static TT Mask(TT boolean, TT like) => boolean.to_type(like.dtype);
}
