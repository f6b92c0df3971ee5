using OtelAi.TestSupport;
using System.Runtime.CompilerServices;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Exporters;
using OtelAi.Processors;
using OtelAi.Receivers;

namespace OtelAi.Config.Tests;

/// <summary>The loader and the schema over the components otelai really ships, with the repository's sample configs.</summary>
public class RealComponentsTests
{
    private static ComponentRegistry Registry() =>
        new ComponentRegistry().AddEngineComponents().AddReceivers().AddProcessors().AddExporters();

    public static TheoryData<string> Samples()
    {
        var data = new TheoryData<string>();
        foreach (var file in Directory.GetFiles(RepositoryPaths.Combine("config-samples"), "*.yaml").Order()) data.Add(Path.GetFileName(file));
        return data;
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void SampleConfigLoads(string sample)
    {
        var loaded = ConfigLoader.LoadFiles([RepositoryPaths.Combine("config-samples", sample)], Registry());
        Assert.NotEmpty(loaded.Config.Pipelines);
        foreach (var pipeline in loaded.Config.Pipelines.Values) Assert.NotEmpty(pipeline.Receivers);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void SampleConfigMatchesTheSchema(string sample)
    {
        var yaml = File.ReadAllText(RepositoryPaths.Combine("config-samples", sample));
        Assert.Empty(ConfigSchema.Generate(Registry()).Validate(SchemaTests.YamlToJson(yaml)));
    }

    /// <summary>
    /// The example of opentelemetry.io's collector configuration page, minus the pprof and zpages extensions
    /// otelai does not ship, plus its environment-variable example.
    /// </summary>
    private const string OtelcolDocumentedConfig = """
        receivers:
          otlp:
            protocols:
              grpc:
                endpoint: 0.0.0.0:4317
              http:
                endpoint: 0.0.0.0:4318
          otlp/2:
            protocols:
              grpc:
                endpoint: 0.0.0.0:55690

        processors:
          batch:
          batch/test:
          attributes/example:
            actions:
              - key: ${env:DB_KEY}
                action: ${env:OPERATION}
                value: ${env:DB_NAME}

        exporters:
          otlp:
            endpoint: otelcol:4317
          otlp/2:
            endpoint: otelcol2:4317

        extensions:
          health_check:
            endpoint: 0.0.0.0:13133

        service:
          extensions: [health_check]
          pipelines:
            traces:
              receivers: [otlp]
              processors: [batch, attributes/example]
              exporters: [otlp]
            traces/2:
              receivers: [otlp/2]
              processors: [batch/test]
              exporters: [otlp/2]
            metrics:
              receivers: [otlp]
              processors: [batch]
              exporters: [otlp]
            logs:
              receivers: [otlp]
              processors: [batch]
              exporters: [otlp]
        """;

    [Fact]
    public void OtelcolDocumentedConfigLoadsUnchanged()
    {
        var env = new Dictionary<string, string> { ["DB_KEY"] = "db.system", ["OPERATION"] = "upsert", ["DB_NAME"] = "postgres" };
        var loaded = ConfigLoader.Load([new ConfigSource("otelcol.yaml", OtelcolDocumentedConfig)], Registry(), environment: name => env.GetValueOrDefault(name));
        var config = loaded.Config;
        Assert.Empty(loaded.Warnings);
        Assert.Equal(["otlp", "otlp/2"], config.Receivers.Keys.Select(k => k.ToString()).Order());
        Assert.Equal(["attributes/example", "batch", "batch/test"], config.Processors.Keys.Select(k => k.ToString()).Order());
        Assert.Equal(["otlp", "otlp/2"], config.Exporters.Keys.Select(k => k.ToString()).Order());
        Assert.Equal(4, config.Pipelines.Count);
        var action = Assert.Single(((OtelAi.Processors.AttributesProcessor.AttributesConfig)config.Processors[new ComponentId("attributes", "example")]).Actions);
        Assert.Equal(("db.system", "upsert", new ConfigValue.Scalar("postgres")), (action.Key, action.Action, action.Value));
        Assert.Empty(ConfigSchema.Generate(Registry()).Validate(SchemaTests.YamlToJson(OtelcolDocumentedConfig)));
    }

    [Fact]
    public void SchemaCoversEveryRegisteredType()
    {
        var registry = Registry();
        var schema = ConfigSchema.Generate(registry);
        foreach (var (section, kind) in new[] { ("receivers", ComponentKind.Receiver), ("processors", ComponentKind.Processor),
                     ("exporters", ComponentKind.Exporter), ("connectors", ComponentKind.Connector), ("extensions", ComponentKind.Extension) })
            foreach (var type in registry.TypeNames(kind))
                Assert.Contains($"^{type}(/.+)?$", schema.Properties[section].PatternProperties.Keys);
    }

    [Fact]
    public void EveryDefaultConfigBindsFromAnEmptyKey()
    {
        var registry = Registry();
        var sections = new[] { ("receivers", ComponentKind.Receiver), ("processors", ComponentKind.Processor),
            ("exporters", ComponentKind.Exporter), ("connectors", ComponentKind.Connector), ("extensions", ComponentKind.Extension) };
        var yaml = string.Concat(sections.Select(s => $"{s.Item1}:\n" + string.Concat(registry.Factories(s.Item2).Select(f => $"  {f.Type}:\n"))));
        // Components whose defaults need a value (e.g. an endpoint) report it through Validate; binding itself must not fail.
        try
        {
            ConfigLoader.Load([new ConfigSource("defaults.yaml", yaml)], registry);
        }
        catch (ConfigException e)
        {
            Assert.All(e.Issues, i => Assert.DoesNotContain("expected", i.Message));
            Assert.All(e.Issues, i => Assert.DoesNotContain("unknown", i.Message));
        }
    }
}
