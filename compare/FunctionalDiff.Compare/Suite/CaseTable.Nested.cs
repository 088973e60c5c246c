namespace FunctionalDiff.Compare.Suite;

public static partial class CaseTable
{
    // Models with a gradient inside a loop (issue 18), checked in the four mode combinations
    // (NestedRunner). Sizes stay small so the table runs in CI; the benchmark runs them large.
    static IEnumerable<Case> Nested()
    {
        yield return NestedCase("nested bilevel descent N=50", NestedModels.BilevelSize, NestedModels.Bilevel(50));
        yield return NestedCase("nested particle rollout 100 steps", NestedModels.ParticleSize, NestedModels.Particle(100));
        yield return NestedCase("nested MAML step k=5", NestedModels.MamlSize, NestedModels.Maml(5));
    }

    static Case NestedCase(string name, int size, NestedModel model) =>
        new Case(name, new[] { I(size) }, p => model.Ours(OurNested.Inner(Mode.Reverse), p[0]), p => model.Torch(TorchNested.Inner(Mode.Reverse), p[0]))
            { Nested = model };
}
