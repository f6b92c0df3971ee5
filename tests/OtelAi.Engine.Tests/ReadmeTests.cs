using OtelAi.Cli;
using OtelAi.Engine.Docs;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

/// <summary>README.md is what users read first: its commands and component reference must match the code.</summary>
public sealed class ReadmeTests
{
    private const string Begin = "<!-- BEGIN GENERATED: otelai docs -->";
    private const string End = "<!-- END GENERATED: otelai docs -->";

    private static readonly string Readme = File.ReadAllText(RepositoryPaths.Combine("README.md"));

    [Fact]
    public void Component_reference_matches_the_config_records()
    {
        var start = Readme.IndexOf(Begin, StringComparison.Ordinal);
        var end = Readme.IndexOf(End, StringComparison.Ordinal);
        Assert.True(start >= 0 && end > start, $"README.md must hold the generated reference between {Begin} and {End}");
        var embedded = Readme[(start + Begin.Length)..end].Trim();
        var generated = ConfigReference.GenerateMarkdown(BuiltinComponents.CreateRegistry()).Trim();
        Assert.True(embedded == generated,
            "README.md's component reference is out of date: replace the text between the markers with the output of `otelai docs`");
    }

    [Fact]
    public void Quick_start_runs_the_quickstart_sample_and_ci_runs_the_documented_test_command()
    {
        Assert.Contains("dotnet run -c Release --project engine/Cli -- --config config-samples/quickstart.yaml", Readme);
        Assert.Contains("./test.sh", Readme);
        Assert.True(File.Exists(RepositoryPaths.Combine("config-samples", "quickstart.yaml")));
        Assert.Contains("bash ./test.sh", File.ReadAllText(RepositoryPaths.Combine(".ci", "run")));
    }
}
