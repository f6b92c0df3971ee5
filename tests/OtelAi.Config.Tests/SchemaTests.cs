using System.Globalization;
using System.Text.Json.Nodes;
using NJsonSchema;
using OtelAi.Engine.Config;

namespace OtelAi.Config.Tests;

public class SchemaTests
{
    private const string GoodConfig = """
        receivers:
          otlp:
            protocols:
              grpc:
                endpoint: 0.0.0.0:4317
                max_recv_msg_size_mib: ${env:MAX_MIB}
              http:
        processors:
          batch:
            send_batch_size: 1000
            timeout: 1s
          memory_limiter:
            check_interval: 1s
            limit_percentage: 80
        exporters:
          debug:
            verbosity: detailed
          otlphttp/backend:
            endpoint: http://backend:4318
            headers:
              x-api-key: secret
            retry_on_failure:
              enabled: false
        connectors:
          forward:
        extensions:
          health_check:
        service:
          extensions: [health_check]
          pipelines:
            traces:
              receivers: [otlp]
              processors: [memory_limiter, batch]
              exporters: [debug, otlphttp/backend, forward]
            traces/second:
              receivers: [forward]
              exporters: [debug]
          telemetry:
            logs:
              level: debug
            metrics:
              level: detailed
              readers:
                - pull:
                    exporter:
                      prometheus:
                        host: 0.0.0.0
                        port: 8888
        """;

    private static readonly Lazy<JsonSchema> Schema = new(() => ConfigSchema.Generate(TestRegistry.Create()));

    /// <summary>What a YAML editor does: the YAML document as JSON, checked against the schema.</summary>
    private static ICollection<NJsonSchema.Validation.ValidationError> Validate(string yaml, JsonSchema? schema = null) =>
        (schema ?? Schema.Value).Validate(YamlToJson(yaml));

    [Fact]
    public void AcceptsAGoodConfig()
    {
        Assert.Empty(Validate(GoodConfig));
        // The loader agrees.
        TestLoad.Yaml(GoodConfig, new Dictionary<string, string> { ["MAX_MIB"] = "8" });
    }

    [Fact]
    public void PrintedSchemaReadsBackAndValidatesTheSame()
    {
        var json = ConfigSchema.GenerateJson(TestRegistry.Create());
        var reread = JsonSchema.FromJsonAsync(json).GetAwaiter().GetResult();
        Assert.Empty(Validate(GoodConfig, reread));
        Assert.NotEmpty(Validate("processors:\n  batch:\n    timout: 1s\n", reread));
        Assert.Equal("  \"$schema\": \"http://json-schema.org/draft-07/schema#\",", json.ReplaceLineEndings("\n").Split("\n")[1]);
    }

    [Theory]
    [InlineData("recievers:\n  otlp:\n", "recievers")]
    [InlineData("processors:\n  batch:\n    timout: 1s\n", "timout")]
    [InlineData("receivers:\n  otlpp:\n", "otlpp")]
    [InlineData("receivers:\n  otlp:\n    protocols:\n      grpc:\n        max_recv_msg_size_mib: abc\n", "max_recv_msg_size_mib")]
    [InlineData("receivers:\n  otlp:\n    protocols:\n      grpc:\n        max_recv_msg_size_mib: 4096\n", "max_recv_msg_size_mib")]
    [InlineData("processors:\n  batch:\n    timeout: 5 seconds\n", "timeout")]
    [InlineData("exporters:\n  debug:\n    verbosity: loud\n", "verbosity")]
    [InlineData("service:\n  pipelines:\n    spans:\n      receivers: [otlp]\n", "spans")]
    [InlineData("service:\n  pipelines:\n    traces:\n      receivers: [9lives]\n", "receivers")]
    [InlineData("service:\n  telemetry:\n    logs:\n      level: verbose\n", "level")]
    public void RejectsBadConfigs(string yaml, string offendingKey)
    {
        var errors = Validate(yaml);
        Assert.NotEmpty(errors);
        Assert.Contains(errors, e => Flatten(e).Any(x => x.Path?.Contains(offendingKey) == true || x.Property == offendingKey));
    }

    [Fact]
    public void DescribesOptionsWithTypesDefaultsAndRanges()
    {
        var batch = Schema.Value.Properties["processors"].PatternProperties["^batch(/.+)?$"];
        Assert.Equal(8192, Convert.ToInt32(batch.Properties["send_batch_size"].Default, CultureInfo.InvariantCulture));
        Assert.Equal("Items that trigger a send.", batch.Properties["send_batch_size"].Description);
        Assert.Equal("200ms", batch.Properties["timeout"].Default);
        Assert.False(batch.AllowAdditionalProperties);

        var grpc = Schema.Value.Properties["receivers"].PatternProperties["^otlp(/.+)?$"].Properties["protocols"].Properties["grpc"];
        Assert.Equal("host:port to listen on.", grpc.Properties["endpoint"].Description);
        var size = grpc.Properties["max_recv_msg_size_mib"].AnyOf.First();
        Assert.Equal(JsonObjectType.Integer, size.Type);
        Assert.Equal(1m, size.Minimum);
        Assert.Equal(1024m, size.Maximum);

        var verbosity = Schema.Value.Properties["exporters"].PatternProperties["^debug(/.+)?$"].Properties["verbosity"];
        Assert.Equal("basic", verbosity.Default);
        Assert.Equal(["basic", "normal", "detailed"], verbosity.AnyOf.First().Enumeration.Cast<string>());
    }

    [Fact]
    public void AliasesGetTheirOwnPattern()
    {
        var exporters = Schema.Value.Properties["exporters"].PatternProperties;
        Assert.Contains("^otlp_http(/.+)?$", exporters.Keys);
        Assert.Contains("^otlphttp(/.+)?$", exporters.Keys);
    }

    private static IEnumerable<NJsonSchema.Validation.ValidationError> Flatten(NJsonSchema.Validation.ValidationError error) =>
        error is NJsonSchema.Validation.ChildSchemaValidationError child
            ? child.Errors.Values.SelectMany(e => e).SelectMany(Flatten).Prepend(error)
            : [error];

    /// <summary>YAML → JSON with YAML 1.2 core typing of plain scalars (null, booleans, integers, floats).</summary>
    internal static string YamlToJson(string yaml)
    {
        var issues = new ConfigIssues();
        var node = YamlReader.Read(yaml, "test.yaml", issues)!;
        Assert.False(issues.HasErrors);
        return (ToJson(node)?.ToJsonString() ?? "null");
    }

    private static JsonNode? ToJson(ConfigNode node) => node switch
    {
        ScalarNode { IsNull: true } => null,
        ScalarNode { Quoted: true } s => JsonValue.Create(s.Value),
        ScalarNode s when s.Value is "true" or "false" => JsonValue.Create(s.Value == "true"),
        ScalarNode s when long.TryParse(s.Value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) => JsonValue.Create(l),
        ScalarNode s when double.TryParse(s.Value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
        ScalarNode s => JsonValue.Create(s.Value),
        SequenceNode sequence => new JsonArray(sequence.Items.Select(ToJson).ToArray()),
        MappingNode mapping => new JsonObject(mapping.Entries.Select(e => KeyValuePair.Create(e.Key, ToJson(e.Value)))),
        _ => throw new InvalidOperationException(),
    };
}
