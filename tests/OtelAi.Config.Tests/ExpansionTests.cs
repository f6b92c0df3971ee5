using OtelAi.Engine.Components;
using OtelAi.Engine.Config;

namespace OtelAi.Config.Tests;

public class ExpansionTests
{
    private static readonly Dictionary<string, string> Env = new()
    {
        ["ENV_VALUE"] = "some expanded value",
        ["HOST"] = "collector.local",
        ["PORT"] = "4317",
        ["SIZE"] = "16",
        ["LIST"] = "[alpha, beta]",
        ["NESTED"] = "${env:HOST} came from nested expansion",
        ["DOLLARS"] = "here is 1 $$",
        ["EMPTY"] = "",
    };

    /// <summary>The text of the otlpjsonfile test receiver's "text" option after loading.</summary>
    private static string ExpandedText(string value)
    {
        var loaded = TestLoad.Yaml($"receivers:\n  otlpjsonfile:\n    text: {value}\n", Env);
        return ((AllTypesConfig)loaded.Config.Receivers[new ComponentId("otlpjsonfile")]).Text;
    }

    // Cases from otelcol's confmap e2e tests of escaped env vars (with env as the default scheme).
    [Theory]
    [InlineData("\"$$ENV_VALUE\"", "$ENV_VALUE")]
    [InlineData("\"$$$$ENV_VALUE\"", "$$ENV_VALUE")]
    [InlineData("\"$$${ENV_VALUE}\"", "$some expanded value")]
    [InlineData("\"some${ENV_VALUE}text\"", "somesome expanded valuetext")]
    [InlineData("\"some$${ENV_VALUE}text\"", "some${ENV_VALUE}text")]
    [InlineData("\"$${ONE}$${TWO}\"", "${ONE}${TWO}")]
    [InlineData("\"text$$\"", "text$")]
    [InlineData("\"$$\"", "$")]
    [InlineData("\"some$${env:ENV_VALUE}text\"", "some${env:ENV_VALUE}text")]
    [InlineData("\"$${env:${ENV_VALUE}}\"", "${env:some expanded value}")]
    [InlineData("\"$${env:$${ENV_VALUE}}\"", "${env:${ENV_VALUE}}")]
    [InlineData("\"$$${env:ENV_VALUE}\"", "$some expanded value")]
    [InlineData("\"$ENV_VALUE\"", "$ENV_VALUE")]
    [InlineData("$HOME/data", "$HOME/data")]
    [InlineData("${env:NESTED}", "collector.local came from nested expansion")]
    [InlineData("${env:DOLLARS}", "here is 1 $")]
    [InlineData("http://${HOST}:${env:PORT}/v1", "http://collector.local:4317/v1")]
    [InlineData("${env:MISSING:-localhost:4317}", "localhost:4317")]
    [InlineData("${MISSING:-fallback}", "fallback")]
    [InlineData("${env:HOST:-unused}", "collector.local")]
    [InlineData("a-${env:MISSING}-b", "a--b")]
    [InlineData("\"${env:MISSING:-}\"", "")]
    public void ExpandsLikeOtelcol(string yamlValue, string expected) => Assert.Equal(expected, ExpandedText(yamlValue));

    [Fact]
    public void WholeValueReferenceTakesTheYamlTypeOfItsValue()
    {
        var loaded = TestLoad.Yaml("""
            receivers:
              otlpjsonfile:
                count: ${env:SIZE}
                ports: ${env:LIST_OF_PORTS}
                include: ${env:LIST}
                text: ${env:PORT}
            """, new Dictionary<string, string>(Env) { ["LIST_OF_PORTS"] = "[4317, 4318]" });
        var config = (AllTypesConfig)loaded.Config.Receivers[new ComponentId("otlpjsonfile")];
        Assert.Equal(16, config.Count);
        Assert.Equal([4317, 4318], config.Ports);
        Assert.Equal(["alpha", "beta"], config.Include);
        Assert.Equal("4317", config.Text);
    }

    [Fact]
    public void UnsetVariableWarnsAndLeavesTheDefault()
    {
        var loaded = TestLoad.Yaml("""
            receivers:
              otlpjsonfile:
                count: ${env:NOT_SET}
            """);
        var config = (AllTypesConfig)loaded.Config.Receivers[new ComponentId("otlpjsonfile")];
        Assert.Equal(new AllTypesConfig().Count, config.Count);
        var warning = Assert.Single(loaded.Warnings);
        Assert.Equal("receivers.otlpjsonfile.count", warning.KeyPath);
        Assert.Equal(TestLoad.At(3, 12), warning.Location);
        Assert.Equal("environment variable \"NOT_SET\" is not set: the key is empty, so its default applies (set the variable, or write ${env:NOT_SET:-value})", warning.Message);
    }

    [Fact]
    public void UnsetVariableInsideAStringWarnsWithTheString()
    {
        var loaded = TestLoad.Yaml("""
            receivers:
              otlpjsonfile:
                include: ["/logs/${env:NOT_SET}/*.json"]
            """);
        var warning = Assert.Single(loaded.Warnings);
        Assert.Equal("environment variable \"NOT_SET\" is not set: an empty string takes its place in \"/logs/${env:NOT_SET}/*.json\"", warning.Message);
    }

    [Fact]
    public void EmptyVariableIsNullForAWholeValue()
    {
        var loaded = TestLoad.Yaml("receivers:\n  otlpjsonfile:\n    count: ${env:EMPTY}\n", Env);
        Assert.Equal(new AllTypesConfig().Count, ((AllTypesConfig)loaded.Config.Receivers[new ComponentId("otlpjsonfile")]).Count);
        Assert.Empty(loaded.Warnings);
    }

    [Fact]
    public void ExpandedValueOfTheWrongTypeIsReportedAtTheReference()
    {
        var error = TestLoad.SingleError("receivers:\n  otlpjsonfile:\n    count: ${env:HOST}\n", Env);
        Assert.Equal("receivers.otlpjsonfile.count", error.KeyPath);
        Assert.Equal(TestLoad.At(3, 12), error.Location);
        Assert.Equal("expected an integer, got \"collector.local\"", error.Message);
    }

    [Fact]
    public void ListInsideALongerStringIsAnError()
    {
        var error = TestLoad.SingleError("receivers:\n  otlpjsonfile:\n    text: x${env:LIST}\n", Env);
        Assert.Equal("a reference inside a longer string must expand to a scalar, got a list", error.Message);
    }

    [Fact]
    public void SelfReferenceStopsAfterTheDepthLimit()
    {
        var error = TestLoad.SingleError("receivers:\n  otlpjsonfile:\n    text: ${env:LOOP}\n",
            new Dictionary<string, string> { ["LOOP"] = "${env:LOOP}" });
        Assert.StartsWith("too many recursive expansions", error.Message);
    }

    [Fact]
    public void KeysAreNotExpanded()
    {
        var loaded = TestLoad.Yaml("receivers:\n  otlpjsonfile:\n    labels:\n      ${env:HOST}: v\n", Env);
        var config = (AllTypesConfig)loaded.Config.Receivers[new ComponentId("otlpjsonfile")];
        Assert.Equal("v", config.Labels["${env:HOST}"]);
    }
}
