using FunctionalDiff.Compare;
using Xunit;

namespace FunctionalDiff.Compare.Tests;

public class TorchLoadTests
{
    static readonly double[] Points = { 1.0, 2.0, 3.0 };

    [Fact]
    public void TorchSharpLoadsAndComputesFirstAndSecondDerivatives()
    {
        var (first, second) = TorchSmoke.XSinXDerivatives(Points);
        for (int i = 0; i < Points.Length; i++)
        {
            double x = Points[i];
            Assert.Equal(Math.Sin(x) + x * Math.Cos(x), first[i], 12);
            Assert.Equal(2 * Math.Cos(x) - x * Math.Sin(x), second[i], 12);
        }
    }

}
