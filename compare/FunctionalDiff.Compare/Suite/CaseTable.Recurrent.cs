using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using static FunctionalDiff.Compare.Suite.CaseTable.RecurrentData;

namespace FunctionalDiff.Compare.Suite;

public static partial class CaseTable
{
    // The recurrent models of issue 19 (RecurrentModels), small enough for CI. Ours is written with the
    // loop primitive and, for the LSTM, also unrolled; torch runs the same cell in a C# loop.
    // The data lives in a nested class: static fields of this partial class initialise in file order,
    // after the table that would read them.
    internal static class RecurrentData
    {
        internal static readonly RecurrentModels.LstmSize LstmCase = new(Vocabulary: 6, Hidden: 5, Batch: 2, Steps: 64);
        internal static readonly int[,] LstmTokens = RecurrentModels.Tokens(LstmCase, 701);
        internal static readonly double[] LstmOneHot = RecurrentModels.OneHot(LstmCase, LstmTokens);
        internal static readonly int[] LstmTargets = RecurrentModels.Targets(LstmCase, LstmTokens);

        internal static readonly RecurrentModels.GruSize GruCase = new(Input: 3, Hidden: 4, Lengths: new[] { 7, 4, 2 });
        internal static readonly double[] GruInputs = Data(GruCase.Steps * GruCase.Batch * GruCase.Input, 711);

        internal static readonly RecurrentModels.OdeSize OdeCase = new(State: 3, Hidden: 6, Steps: 20, Dt: 0.1);
        internal static readonly double[] OdeTarget = { 1.0, -0.5, 0.25 };

        internal static readonly double[] BilevelStart = Data(8, 721);
        internal static readonly double[] BilevelRates = Enumerable.Range(0, 20).Select(k => 0.05 * (1 + 0.5 * Math.Sin(k))).ToArray();
    }

    static IEnumerable<Case> Recurrent()
    {
        yield return LstmLanguageModel("recurrent LSTM language model T=64, Scan", Loops.Scan);
        yield return LstmLanguageModel("recurrent LSTM language model T=64, unrolled", Loops.UnrolledScan);

        yield return C("recurrent GRU with a mask, lengths 7,4,2, Scan", GruCase.Parameters.Select(s => I(s)).ToArray(),
            p => RecurrentModels.MaskedGru(Loops.Scan, GruCase,
                Const(GruInputs, new[] { GruCase.Steps, GruCase.Batch, GruCase.Input }, p[0]),
                Const(GruCase.Mask(), new[] { GruCase.Steps, GruCase.Batch, 1 }, p[0]), p),
            p => RecurrentModels.MaskedGru(GruCase,
                Const(GruInputs, new long[] { GruCase.Steps, GruCase.Batch, GruCase.Input }, p[0]),
                Const(GruCase.Mask(), new long[] { GruCase.Steps, GruCase.Batch, 1 }, p[0]), p));

        yield return C("recurrent RK4 ODE 20 steps, Repeat", OdeCase.Inputs.Select(s => I(s)).ToArray(),
            p => 0.5 * (RecurrentModels.OdeFinal(Loops.Repeat, OdeCase, p) - Const(OdeTarget, new[] { 3 }, p[0])).Square().Sum(),
            p => 0.5 * (RecurrentModels.OdeFinal(OdeCase, p) - Const(OdeTarget, new long[] { 3 }, p[0])).square().sum());

        yield return C("recurrent bilevel descent, Scan of 20 steps with an inner gradient", new[] { I(8) },
            p => RecurrentModels.Bilevel(Loops.Scan, BilevelStart, BilevelRates, p[0]),
            p => RecurrentModels.Bilevel(BilevelStart, BilevelRates, p[0]));
    }

    static Case LstmLanguageModel(string name, OurScan loop) =>
        C(name, LstmCase.Parameters.Select(s => I(s)).ToArray(),
            p => RecurrentModels.LstmObjective(loop, LstmCase,
                Const(LstmOneHot, new[] { LstmCase.Steps, LstmCase.Batch, LstmCase.Vocabulary }, p[0]), LstmTargets, p),
            p => RecurrentModels.LstmObjective(LstmCase,
                Const(LstmOneHot, new long[] { LstmCase.Steps, LstmCase.Batch, LstmCase.Vocabulary }, p[0]),
                torch.tensor(LstmTargets.Select(t => (long)t).ToArray()), p));
}
