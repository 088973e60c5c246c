using System.CommandLine;
using Xunit;

namespace FunctionalDiff.Compare.Tests;

/// <summary>The command line (System.CommandLine): --help on every command, and invalid input rejected before any work starts.</summary>
public class CliTests
{
    static (int Code, string Output) Invoke(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Cli.Build(output, error).Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output + error.ToString());
    }

    [Theory]
    [InlineData(new string[0], new[] { "--filter", "--dtype", "--results", "--in-process", "--quiet", "bench", "fuzz", "train", "loops" })]
    [InlineData(new[] { "bench" }, new[] { "--quick", "--nested", "--steps", "--linalg", "--conv", "--vmap", "--thread-time", "--max-steps", "--filter", "--scan" })]
    [InlineData(new[] { "fuzz" }, new[] { "--programs", "--seed", "--start", "--dtype", "--in-process", "--quiet" })]
    [InlineData(new[] { "train" }, new[] { "--steps", "--optimizer-steps", "--out" })]
    [InlineData(new[] { "loops" }, new[] { "adds", "gemm" })]
    public void EveryCommandHasHelpListingItsOptions(string[] command, string[] expected)
    {
        var (code, text) = Invoke([.. command, "--help"]);
        Assert.Equal(0, code);
        Assert.Contains("Usage:", text);
        foreach (var word in expected) Assert.Contains(word, text);
        Assert.DoesNotContain("--abort-at", text);
    }

    [Fact]
    public void ThreadTimeNamesTheTablesItTimes()
    {
        var (code, text) = Invoke("bench", "--help");
        Assert.Equal(0, code);
        Assert.Contains("with --steps, --linalg, --conv, --vmap, --scan, --ops, --adbench or --nested: CPU time of the calling thread", text);
        Assert.Contains("--ops", text);
        Assert.Contains("--adbench", text);
    }

    [Theory]
    [InlineData("--dtype", "float16")]
    [InlineData("--no-such-option")]
    [InlineData("fuzz", "--programs", "0")]
    [InlineData("train", "--optimizer-steps", "-3")]
    [InlineData("loops", "spin", "1")]
    public void InvalidInputIsRejected(params string[] args) => Assert.NotEqual(0, Invoke(args).Code);

    [Fact]
    public void AFilterMatchingNoCaseStopsBeforeStartingAWorker()
    {
        var (code, text) = Invoke("--filter", "no_case_has_this_name", "--dtype", "float64", "--quiet");
        Assert.Equal(2, code);
        Assert.Contains("no case matches the filter", text);
    }
}
