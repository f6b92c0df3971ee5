using OtelAi.TestSupport;
using System.Runtime.CompilerServices;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Exporters;
using OtelAi.Processors;
using OtelAi.Receivers;
using YamlDotNet.RepresentationModel;

namespace OtelAi.Config.Tests;

/// <summary>The loader and the schema over the components otelai really ships, with the repository's sample configs.</summary>
public class RealComponentsTests
{
    private static ComponentRegistry Registry() =>
        new ComponentRegistry().AddEngineComponents().AddReceivers().AddProcessors().AddExporters();

    /// <summary>
    /// Every config under config-samples/, subfolders included; a Kubernetes manifest contributes the otelai configs
    /// its ConfigMaps embed (named <c>file#configmap/key</c>), so a manifest's config cannot drift from what loads.
    /// </summary>
    public static TheoryData<string> Samples() => new(SampleNames());

    private static List<string> SampleNames()
    {
        var data = new List<string>();
        var root = RepositoryPaths.Combine("config-samples");
        foreach (var file in Directory.GetFiles(root, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var relative = Path.GetRelativePath(root, file);
            var text = File.ReadAllText(file);
            if (!IsManifest(text))
            {
                data.Add(relative);
                continue;
            }
            foreach (var name in EmbeddedConfigs(text).Keys) data.Add($"{relative}#{name}");
        }
        return data;
    }

    [Fact]
    public void Manifests_embed_configs_that_the_sample_theories_cover() =>
        Assert.Contains(SampleNames(), name => name.StartsWith("kubernetes/gateway/gateway.yaml#", StringComparison.Ordinal));

    /// <summary>
    /// Every signal the sidecar sample forwards to the gateway has a pipeline in the gateway's ConfigMap that
    /// receives it over OTLP (a missing pipeline answers UNIMPLEMENTED and the sidecar drops that signal).
    /// </summary>
    [Fact]
    public void The_gateway_manifest_receives_every_signal_the_sidecar_sends_it()
    {
        var sidecar = ConfigLoader.Load([new ConfigSource("sidecar.yaml", SampleYaml("sidecar.yaml"))], Registry(), environment: _ => null).Config;
        var toGateway = sidecar.Exporters.Where(e => e.Value is OtelAi.Exporters.Otlp.OtlpExporterConfig { Client.Endpoint: var endpoint } && endpoint.Contains("otelai-gateway", StringComparison.Ordinal))
            .Select(e => e.Key).ToHashSet();
        Assert.NotEmpty(toGateway);
        var sent = sidecar.Pipelines.Where(p => p.Value.Exporters.Any(toGateway.Contains)).Select(p => p.Key.Signal).ToHashSet();
        var gateway = ConfigLoader.Load([new ConfigSource("gateway", SampleYaml("kubernetes/gateway/gateway.yaml#otelai-gateway/config.yaml"))], Registry()).Config;
        var received = gateway.Pipelines.Where(p => p.Value.Receivers.Any(r => r.Type == "otlp")).Select(p => p.Key.Signal).ToHashSet();
        Assert.Empty(sent.Except(received));
    }

    private static string SampleYaml(string sample)
    {
        var hash = sample.IndexOf('#');
        var text = File.ReadAllText(RepositoryPaths.Combine("config-samples", hash < 0 ? sample : sample[..hash]));
        return hash < 0 ? text : EmbeddedConfigs(text)[sample[(hash + 1)..]];
    }

    private static bool IsManifest(string text) => LoadDocuments(text).Any(d => d.Children.ContainsKey(new YamlScalarNode("apiVersion")));

    /// <summary>ConfigMap values that are collector configs (they have a service.pipelines section), by configmap/key.</summary>
    private static Dictionary<string, string> EmbeddedConfigs(string manifest)
    {
        var configs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var document in LoadDocuments(manifest))
        {
            if (document.Children.TryGetValue(new YamlScalarNode("kind"), out var kind) && kind.ToString() == "ConfigMap"
                && document.Children.TryGetValue(new YamlScalarNode("data"), out var values) && values is YamlMappingNode data)
            {
                var name = ((YamlMappingNode)document.Children[new YamlScalarNode("metadata")]).Children[new YamlScalarNode("name")].ToString();
                foreach (var (key, value) in data.Children)
                    if (value is YamlScalarNode { Value: { } yaml } && yaml.Contains("pipelines:", StringComparison.Ordinal))
                        configs[$"{name}/{key}"] = yaml;
            }
        }
        return configs;
    }

    /// <summary>
    /// The environment a manifest's containers get (values as written; downward-API fields as stand-ins, an IP for
    /// status.podIP), so an embedded config that reads ${env:MY_POD_IP} is checked as it runs. Empty for plain samples.
    /// </summary>
    private static Dictionary<string, string> ManifestEnvironment(string sample)
    {
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        var hash = sample.IndexOf('#');
        if (hash < 0) return environment;
        foreach (var document in LoadDocuments(File.ReadAllText(RepositoryPaths.Combine("config-samples", sample[..hash]))))
            foreach (var env in Descendants(document).OfType<YamlMappingNode>()
                .Where(m => m.Children.ContainsKey(new YamlScalarNode("env")))
                .SelectMany(m => m.Children[new YamlScalarNode("env")] is YamlSequenceNode list ? list.OfType<YamlMappingNode>() : []))
            {
                var name = env.Children[new YamlScalarNode("name")].ToString();
                environment[name] = env.Children.TryGetValue(new YamlScalarNode("value"), out var value)
                    ? value.ToString()
                    : env.ToString().Contains("status.podIP", StringComparison.Ordinal) ? "10.1.2.3" : $"{name.ToLowerInvariant()}-from-the-downward-api";
            }
        return environment;
    }

    private static IEnumerable<YamlNode> Descendants(YamlNode node) => node switch
    {
        YamlMappingNode mapping => mapping.Children.Values.SelectMany(Descendants).Prepend(node),
        YamlSequenceNode sequence => sequence.Children.SelectMany(Descendants).Prepend(node),
        _ => [node],
    };

    private static IEnumerable<YamlMappingNode> LoadDocuments(string text)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(text));
        return stream.Documents.Select(d => d.RootNode).OfType<YamlMappingNode>();
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void SampleConfigLoads(string sample)
    {
        var environment = ManifestEnvironment(sample);
        var loaded = ConfigLoader.Load([new ConfigSource(sample, SampleYaml(sample))], Registry(),
            environment: name => environment.GetValueOrDefault(name) ?? Environment.GetEnvironmentVariable(name));
        Assert.NotEmpty(loaded.Config.Pipelines);
        foreach (var pipeline in loaded.Config.Pipelines.Values) Assert.NotEmpty(pipeline.Receivers);
    }

    [Theory]
    [MemberData(nameof(Samples))]
    public void SampleConfigMatchesTheSchema(string sample) =>
        Assert.Empty(ConfigSchema.Generate(Registry()).Validate(SchemaTests.YamlToJson(SampleYaml(sample))));

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

    /// <summary>otelcol's configcompression ValidateParams: zlib levels for gzip and deflate, nothing for no compression.</summary>
    [Theory]
    [InlineData("otlphttp", "gzip", 1)]
    [InlineData("otlphttp", "gzip", 9)]
    [InlineData("otlphttp", "deflate", -1)]
    [InlineData("otlphttp", "gzip", -2)]
    [InlineData("otlphttp", "none", 0)]
    [InlineData("otlp", "gzip", 6)]
    public void Compression_levels_otelcol_accepts_load(string exporter, string compression, int level)
    {
        var loaded = ConfigLoader.Load([new ConfigSource("config.yaml", CompressionConfig(exporter, compression, level))], Registry());
        var config = loaded.Config.Exporters[new ComponentId(exporter)];
        var client = config switch
        {
            OtelAi.Exporters.OtlpHttp.OtlpHttpExporterConfig http => (object)http.Client.CompressionParams,
            OtelAi.Exporters.Otlp.OtlpExporterConfig grpc => grpc.Client.CompressionParams,
            _ => throw new InvalidOperationException(config.GetType().Name),
        };
        Assert.Equal(level, ((OtelAi.Engine.Settings.CompressionParams)client).Level);
    }

    [Theory]
    [InlineData("otlphttp", "gzip", 10)]
    [InlineData("otlphttp", "deflate", -3)]
    [InlineData("otlphttp", "none", 1)]
    [InlineData("otlp", "gzip", 11)]
    public void Compression_levels_otelcol_refuses_are_reported_at_their_key(string exporter, string compression, int level)
    {
        var error = Assert.Single(Assert.Throws<ConfigException>(() =>
            ConfigLoader.Load([new ConfigSource("config.yaml", CompressionConfig(exporter, compression, level))], Registry())).Issues);
        Assert.Equal($"exporters.{exporter}.compression_params.level", error.KeyPath);
        Assert.Contains($"{level}", error.Message);
    }

    private static string CompressionConfig(string exporter, string compression, int level) => $$"""
        receivers:
          otlp:
            protocols: { grpc: { endpoint: "127.0.0.1:4317" } }
        exporters:
          {{exporter}}:
            endpoint: {{(exporter == "otlp" ? "backend:4317" : "http://backend:4318")}}
            compression: {{compression}}
            compression_params: { level: {{level}} }
        service:
          pipelines:
            traces: { receivers: [otlp], exporters: [{{exporter}}] }
        """;

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

    [Fact]
    public void Two_listeners_on_one_port_are_refused_at_validation_naming_both()
    {
        var issues = OtelAi.Engine.Collector.Validate(OtelAi.Engine.Collector.Load([new ConfigSource("c.yaml", """
            extensions:
              health_check:
                endpoint: 127.0.0.1:4317
            receivers:
              otlp:
                protocols:
                  grpc:
                  http:
                    endpoint: localhost:4318
              otlp/b:
                protocols:
                  http:
                    endpoint: 0.0.0.0:4318
            exporters:
              prometheus:
                endpoint: 10.1.2.3:4317
              prometheus/elsewhere:
                endpoint: localhost:9464
            service:
              extensions: [health_check]
              telemetry:
                metrics:
                  address: localhost:9464
              pipelines:
                metrics:
                  receivers: [otlp, otlp/b]
                  exporters: [prometheus, prometheus/elsewhere]
            """)], Registry()), Registry());
        var messages = issues.Where(i => i.Severity == ConfigIssueSeverity.Error).Select(i => $"{i.KeyPath}: {i.Message}").Order().ToList();
        Assert.Equal(
        [
            "exporters.prometheus/elsewhere.endpoint: port 9464 is already used by service.telemetry.metrics.address (localhost:9464); give each listener its own port",
            "receivers.otlp.protocols.grpc.endpoint: port 4317 is already used by extensions.health_check.endpoint (127.0.0.1:4317); give each listener its own port",
            "receivers.otlp/b.protocols.http.endpoint: port 4318 is already used by receivers.otlp.protocols.http.endpoint (localhost:4318); give each listener its own port",
        ], messages);
    }

    [Fact]
    public void Every_error_is_listed_at_once_duplicate_keys_included()
    {
        var error = Assert.Throws<ConfigException>(() => OtelAi.Engine.Collector.Load([new ConfigSource("c.yaml", """
            receivers:
              otlp:
                protocols:
                  grpc:
            processors:
              tail_sampling:
                policies: [{name: all, type: always_sample}]
            exporters:
              debug:
              debug:
            service:
              pipelines:
                traces:
                  receivers: [otlp, missing]
                  exporters: [debug]
                metrics:
                  receivers: [otlp]
                  processors: [tail_sampling]
                  exporters: [debug]
            """)], Registry()));
        Assert.Equal(
        [
            "exporters.debug: duplicate key \"debug\" (first set at line 9); each key may appear once per mapping",
            "service.pipelines.metrics.processors[0]: processor \"tail_sampling\" does not support metrics (it supports: traces)",
            "service.pipelines.traces.receivers[1]: references receiver \"missing\" which is not configured",
        ], error.Issues.Where(i => i.Severity == ConfigIssueSeverity.Error).Select(i => $"{i.KeyPath}: {i.Message}").Order());
    }

    [Fact]
    public void Sizes_that_would_take_the_memory_they_name_are_refused()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigLoader.Load([new ConfigSource("c.yaml", """
            receivers:
              otlp:
                protocols:
                  http:
                    max_request_body_size: 1e12
            exporters:
              otlp:
                endpoint: backend:4317
                sending_queue:
                  num_consumers: 1000000
            service:
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [otlp]
            """)], Registry()));
        Assert.Equal(["exporters.otlp.sending_queue.num_consumers", "receivers.otlp.protocols.http.max_request_body_size"],
            error.Issues.Where(i => i.Severity == ConfigIssueSeverity.Error).Select(i => i.KeyPath).Order());
    }

    [Fact]
    public void Periodic_otlp_readers_become_exporter_configs_with_the_declarative_configs_keys()
    {
        var loaded = ConfigLoader.Load([new ConfigSource("config.yaml", """
            service:
              telemetry:
                metrics:
                  readers:
                    - pull: {exporter: {prometheus: {host: 127.0.0.1, port: 9999}}}
                    - periodic:
                        interval: 5000
                        timeout: 2000
                        exporter:
                          otlp:
                            protocol: http/protobuf
                            endpoint: https://backend:4318/v1/metrics
                            headers: [{name: x-tenant, value: ai}]
                            compression: gzip
                    - periodic:
                        exporter:
                          otlp_grpc: {endpoint: http://backend:4317, insecure: true, headers_list: "a=1,b=2"}
              pipelines:
                traces: {receivers: [otlp], exporters: [debug]}
            receivers: {otlp: {protocols: {grpc: {endpoint: 127.0.0.1:0}}}}
            exporters: {debug: {}}
            """)], Registry());
        var metrics = loaded.Config.Telemetry.Metrics;
        Assert.Equal("127.0.0.1:9999", metrics.Address);
        Assert.Collection(metrics.PushReaders,
            http =>
            {
                Assert.Equal(("otlphttp", TimeSpan.FromSeconds(5)), (http.ExporterType, http.Interval));
                var config = (OtelAi.Exporters.OtlpHttp.OtlpHttpExporterConfig)http.ExporterConfig;
                Assert.Equal("https://backend:4318/v1/metrics", config.MetricsEndpoint);
                Assert.Equal("ai", config.Client.Headers["x-tenant"]);
                Assert.Equal(TimeSpan.FromSeconds(2), config.TimeoutSettings.Timeout);
                Assert.False(config.RetryOnFailure.Enabled);
            },
            grpc =>
            {
                Assert.Equal(("otlp", TimeSpan.FromMinutes(1)), (grpc.ExporterType, grpc.Interval));
                var config = (OtelAi.Exporters.Otlp.OtlpExporterConfig)grpc.ExporterConfig;
                Assert.Equal("http://backend:4317", config.Client.Endpoint);
                Assert.True(config.Client.Tls.Insecure);
                Assert.Equal("2", config.Client.Headers["b"]);
            });
        Assert.Empty(loaded.Warnings);
    }
}
