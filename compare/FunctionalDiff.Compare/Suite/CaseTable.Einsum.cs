using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Suite;

// einsum with an ellipsis: batch axes spelled "...", of different ranks in the two operands,
// broadcast (a length 1 against a longer one), in the explicit and the implicit output.
public static partial class CaseTable
{
    static IEnumerable<Case> EinsumEllipsis()
    {
        foreach (var (equation, left, right) in new (string, int[], int[])[]
                 {
                     ("...ij,...jk->...ik", new[] { 2, 3, 4 }, new[] { 2, 4, 2 }),
                     ("...ij,...jk->...ik", new[] { 2, 1, 3, 4 }, new[] { 5, 4, 2 }),
                     ("...ij,jk", new[] { 2, 3, 4 }, new[] { 4, 5 }),
                     ("bi...,bj...->bij...", new[] { 2, 3, 4 }, new[] { 2, 2, 4 }),
                     ("...i,...i->...", new[] { 3, 4 }, new[] { 4 }),
                 })
            yield return C($"einsum {equation} {Shape(left)}·{Shape(right)}", new[] { I(left), I(right) },
                x => Expr.Einsum(equation, x[0], x[1]).Sin(), x => torch.einsum(equation, x[0], x[1]).sin());
        foreach (var (equation, shape) in new (string, int[])[] { ("...ii->...i", new[] { 2, 3, 3 }), ("i...->...", new[] { 3, 2, 4 }), ("...ij->...ji", new[] { 2, 3, 4 }) })
            yield return C($"einsum {equation} {Shape(shape)}", new[] { I(shape) }, x => Expr.Einsum(equation, x[0]).Sin(), x => torch.einsum(equation, x[0]).sin());
    }
}
