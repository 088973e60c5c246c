using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Suite;

// einsum with an ellipsis: batch axes spelled "...", of different ranks in the two operands,
// broadcast (a length 1 against a longer one), in the explicit and the implicit output; then three
// operands, and letters of length 1 that broadcast.
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
        // three operands, contracted left to right as torch does without a path; a letter in all three
        yield return C("einsum ij,jk,kl->il", new[] { I(2, 3), I(3, 2), I(2, 2) }, x => Expr.Einsum("ij,jk,kl->il", x[0], x[1], x[2]).Sin(),
            x => torch.einsum("ij,jk,kl->il", x[0], x[1], x[2]).sin());
        yield return C("einsum i,i,i->", new[] { I(3), I(3), I(3) }, x => Expr.Einsum("i,i,i->", x[0], x[1], x[2]).Sin(),
            x => torch.einsum("i,i,i->", x[0], x[1], x[2]).sin());
        yield return C("einsum bi,ij,bj->b", new[] { I(3, 2), I(2, 2), I(3, 2) }, x => Expr.Einsum("bi,ij,bj->b", x[0], x[1], x[2]).Sin(),
            x => torch.einsum("bi,ij,bj->b", x[0], x[1], x[2]).sin());
        yield return C("einsum ii,ij,...j implicit [3,3]·[3,2]·[2,2]", new[] { I(3, 3), I(3, 2), I(2, 2) }, x => Expr.Einsum("ii,ij,...j", x[0], x[1], x[2]).Sin(),
            x => torch.einsum("ii,ij,...j", x[0], x[1], x[2]).sin());
        // letters of length 1 broadcast, as torch's do
        yield return C("einsum ij,ij->ij [1,3]·[2,3]", new[] { I(1, 3), I(2, 3) }, x => Expr.Einsum("ij,ij->ij", x[0], x[1]).Sin(), x => torch.einsum("ij,ij->ij", x[0], x[1]).sin());
        yield return C("einsum ij,ij,j->i [1,3]·[2,3]·[1]", new[] { I(1, 3), I(2, 3), I(1) }, x => Expr.Einsum("ij,ij,j->i", x[0], x[1], x[2]).Sin(),
            x => torch.einsum("ij,ij,j->i", x[0], x[1], x[2]).sin());
    }
}
