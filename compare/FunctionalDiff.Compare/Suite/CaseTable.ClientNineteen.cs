using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

// torch.clamp with tensor bounds (2026-12-07), added for PGD's projection onto the ε-ball around a batch: the value is
// min(max(x, lo), hi) and the cotangent goes to x, lo or hi as torch's clamp_backward_min_max sends it (random bounds
// cross, so lo > hi, where every entry is hi, is among the draws). nn.LSTMCell (2026-12-07), added for an LSTM language
// model: TorchSharp has it only as a module holding its own weights, so torch's side writes out its equations over
// weights laid out [i, f, g, o]. A sine after each makes the second-order checks non-trivial.
public static partial class CaseTable
{
    static (TT H, TT C) TorchLstmCell(TT x, TT h, TT c, TT wIh, TT wHh, TT bIh, TT bHh)
    {
        var gates = (x.matmul(wIh.t()) + bIh + h.matmul(wHh.t()) + bHh).chunk(4, 1);
        var cell = gates[1].sigmoid() * c + gates[0].sigmoid() * gates[2].tanh();
        return (gates[3].sigmoid() * cell.tanh(), cell);
    }

    static IEnumerable<Case> ClientNineteen()
    {
        yield return C("clamp [2,3] between tensor bounds [3]", new[] { I(2, 3), I(3), I(3) },
            x => x[0].Clamp(x[1], x[2]).Sin() * x[0],
            x => x[0].clamp(x[1], x[2]).sin() * x[0]);
        yield return C("clamp [4] between x−0.3 and a bound [4] (PGD's ε-ball)", new[] { I(4), I(4) },
            x => (x[1] * x[1]).Clamp(x[0] - 0.3, x[0] + x[1]).Sin(),
            x => (x[1] * x[1]).clamp(x[0] - 0.3, x[0] + x[1]).sin());
        yield return C("lstm_cell [2,3]·[2,4]", new[] { I(2, 3), I(2, 4), I(2, 4), I(16, 3), I(16, 4), I(16), I(16) },
            x =>
            {
                var (h, c) = Nn.LstmCell(x[0], (x[1], x[2]), x[3], x[4], x[5], x[6]);
                return h.Sin() + c * c;
            },
            x =>
            {
                var (h, c) = TorchLstmCell(x[0], x[1], x[2], x[3], x[4], x[5], x[6]);
                return h.sin() + c * c;
            });
    }
}
