namespace FunctionalDiff.Tests;

/// <summary>
/// The README's U-Net example (section "PPO, a U-Net, metric learning, mixup and batch norm, ported from PyTorch"),
/// verbatim between the markers. <see cref="ClientElevenUNetReadmeTests"/> checks that README.md shows exactly this code
/// and replays it over doubles.
/// </summary>
public static class UNetReadme
{
    /// <summary>What the example computes.</summary>
    public sealed record Outcome(Parameters Initial, (Tensor Image, Tensor Mask)[] Data, List<double> Losses, Parameters Final);

    /// <summary>Runs the example on the given parameters and (image, mask) pairs.</summary>
    public static Outcome Run(Parameters model, (Tensor Image, Tensor Mask)[] data)
    {
        // BEGIN README
        // A small U-Net on 8×8 images: padding="same", max pooling, a stride-2 transposed conv back up, a skip connection
        // by torch.cat on the channel axis, one logit per pixel against a mask, and SGD on a compiled step.
        Expr Forward(IReadOnlyDictionary<string, Expr> p, Expr x)
        {
            var e1 = Nn.Conv2d(x, p["enc1.weight"], p["enc1.bias"], padding: "same").Relu();                     // [N, 2, 8, 8]
            var e2 = Nn.Conv2d(Nn.MaxPool2d(e1, 2), p["enc2.weight"], p["enc2.bias"], padding: "same").Relu();  // [N, 3, 4, 4]
            var up = Nn.ConvTranspose2d(e2, p["up.weight"], p["up.bias"], stride: 2);                            // [N, 2, 8, 8]
            return Nn.Conv2d(Expr.Cat([up, e1], 1), p["head.weight"], p["head.bias"]);                           // [N, 1, 8, 8]
        }

        var step = Diff.CompileValueAndGrad((p, batch) => Loss.BinaryCrossEntropyWithLogits(Forward(p, batch[0]), batch[1]));
        var sgd = new Sgd(model, lr: 0.5);
        var losses = new List<double>();
        foreach (var (image, mask) in data)                     // a new image every call, through one plan
        {
            var (loss, gradients) = step.Invoke(sgd.Parameters, image, mask);
            losses.Add(loss.Item());
            sgd.Step(gradients);
        }
        // END README
        return new(model, data, losses, sgd.Parameters);
    }
}
