using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The README's U-Net example: the README shows exactly <see cref="UNetReadme"/>, and its run is replayed with the U-Net
/// written as loops over doubles (<see cref="ClientElevenUNetTests"/>): every loss is the loops' and every SGD update their
/// central differences.
/// </summary>
public class ClientElevenUNetReadmeTests
{
    [Fact]
    public void TheReadmeShowsExactlyTheUNetExample() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/UNetReadme.cs", "### PPO, a U-Net, metric learning");

    [Fact]
    public void EveryStepIsTheLoopsAndSgdOnTheirCentralDifferences()
    {
        var data = new[] { 3, 5, 7 }.Select(salt => (ClientElevenUNetTests.Image(salt), ClientElevenUNetTests.Mask(salt + 1))).ToArray();
        var r = UNetReadme.Run(ClientElevenUNetTests.Model(), data);
        var layout = ClientElevenUNetTests.Layout;
        var flat = Flatten(layout, r.Initial);
        for (int t = 0; t < data.Length; t++)
        {
            var (image, mask) = data[t];
            Close(ClientElevenUNetTests.LossRef(flat, image, mask, transposed: true), r.Losses[t], 1e-9, $"loss {t}");
            var g = Gradient(f => ClientElevenUNetTests.LossRef(f, image, mask, transposed: true), flat);
            flat = flat.Select((v, i) => v - 0.5 * g[i]).ToArray();
        }
        Close(flat, Flatten(layout, r.Final), 1e-7, "parameters after three steps");
    }
}
