namespace FunctionalDiff.Tests;

/// <summary>
/// The README's vision transformer (section "A vision transformer, NeRF and a weight-tied language model, ported from
/// PyTorch"), verbatim between the markers: <see cref="ClientSeventeenVitTests"/> checks that README.md shows exactly this
/// code and that its losses and parameters follow the same program written over doubles.
/// </summary>
public static class ClientSeventeenVitReadme
{
    /// <summary>Runs the fragment: <paramref name="steps"/> AdamW steps on the compiled loss and gradients.</summary>
    public static (List<double> Losses, Parameters Final) Train(Parameters model, Tensor images, Tensor labels,
        int patch, int dim, int heads, double peak, int warmup, int steps)
    {
        // BEGIN README
        // A one-block ViT on images [N, C, H, W]: p×p patches by torch's x.unfold(2, p, p).unfold(3, p, p), a learned class
        // token in front, learned positions, a pre-norm block (nn.MultiheadAttention and a GELU MLP), logits from the class
        // token, F.cross_entropy(..., label_smoothing=0.1); AdamW under a linear warmup then a cosine decay.
        Expr Logits(IReadOnlyDictionary<string, Expr> p, Expr images)
        {
            int n = images.Shape[0], c = images.Shape[1], count = images.Shape[2] / patch * (images.Shape[3] / patch);
            var x = images.Unfold(2, patch, patch).Unfold(3, patch, patch)               // [N, C, H/p, W/p, p, p]
                .Permute(0, 2, 3, 1, 4, 5).Reshape(n, count, c * patch * patch);          // [N, L, C·p·p]
            x = Nn.Linear(x, p["patch.weight"], p["patch.bias"]);                         // [N, L, D]
            x = Expr.Cat([p["cls"].Expand(n, -1, -1), x], 1) + p["pos"];                  // [N, L + 1, D]
            var y = Nn.LayerNorm(x, [dim], p["ln1.weight"], p["ln1.bias"]);
            x = x + Nn.MultiheadAttention(y, y, y, heads, p["attn.in_proj_weight"], p["attn.in_proj_bias"],
                p["attn.out_proj.weight"], p["attn.out_proj.bias"], batchFirst: true).Output;
            var h = Nn.Linear(Nn.LayerNorm(x, [dim], p["ln2.weight"], p["ln2.bias"]), p["fc1.weight"], p["fc1.bias"]).Gelu();
            x = x + Nn.Linear(h, p["fc2.weight"], p["fc2.bias"]);
            var first = Nn.LayerNorm(x, [dim], p["norm.weight"], p["norm.bias"]).Select(1, 0);   // x[:, 0]
            return Nn.Linear(first, p["head.weight"], p["head.bias"]);
        }

        // Diff.Compile of a loss over named parameters and a batch: one plan gives the loss and the gradients by name
        var step = Diff.Compile((p, batch) => Loss.CrossEntropy(Logits(p, batch[0]), batch[1], labelSmoothing: 0.1));
        var adamW = new AdamW(model, lr: peak, weightDecay: 0.05);
        var losses = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            adamW.LearningRate = i < warmup ? peak * (i + 1) / warmup                   // LinearLR, then CosineAnnealingLR
                : 0.5 * peak * (1 + Math.Cos(Math.PI * (i - warmup) / (steps - warmup)));
            var (loss, gradients) = step.Invoke(adamW.Parameters, images, labels);
            losses.Add(loss.Item());
            adamW.Step(gradients);
        }
        // END README
        return (losses, adamW.Parameters);
    }
}
