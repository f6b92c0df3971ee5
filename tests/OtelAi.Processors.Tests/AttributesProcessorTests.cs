using System.Security.Cryptography;
using System.Text;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Processors.AttributesProcessor;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.TestSupport;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Processors.Tests;

public sealed class AttributesProcessorTests
{
    private static async Task<T> RunAsync<T>(string yaml, T data, ClientInfo? client = null) where T : class, Google.Protobuf.IMessage<T>, new()
    {
        var config = ConfigText.Bind<AttributesConfig>(yaml);
        var sink = new Sink<T>();
        var processor = new AttributesProcessorFactory().CreateProcessor(TestHost.Settings("attributes/test"), config, sink);
        await processor.StartAsync(TestHost.Instance, CancellationToken.None);
        ClientContext.Set(client);
        await processor.ConsumeAsync(data, CancellationToken.None);
        await processor.ShutdownAsync(CancellationToken.None);
        return sink.Received.Single().Data;
    }

    private static ExportTraceServiceRequest OneSpan(params KeyValue[] attributes)
    {
        var data = Traces(1);
        var span = data.ResourceSpans[0].ScopeSpans[0].Spans[0];
        span.Attributes.Clear();
        span.Attributes.Add(attributes);
        return data;
    }

    private static Span FirstSpan(ExportTraceServiceRequest data) => data.ResourceSpans[0].ScopeSpans[0].Spans[0];

    private static string Sha256(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    [Fact]
    public async Task ReadmeExample_AppliesEveryActionInOrder()
    {
        const string yaml = """
            actions:
              - key: db.table
                action: delete
              - key: redacted_span
                value: true
                action: upsert
              - key: copy_key
                from_attribute: key_original
                action: update
              - key: account_id
                value: 2245
                action: insert
              - key: account_password
                action: delete
              - key: account_email
                action: hash
              - key: http.status_code
                action: convert
                converted_type: int
              - key: region
                from_attribute: cloud.region
                default_value: "us-east-1"
                action: insert
              - key: tenant_id
                from_context: "metadata.tenant"
                default_value: "default-tenant"
                action: upsert
            """;
        var data = OneSpan(Attr("db.table", "users"), Attr("copy_key", "old"), Attr("key_original", "orig"),
            Attr("account_password", "hunter2"), Attr("account_email", "a@b.c"), Attr("http.status_code", "503"));

        var span = FirstSpan(await RunAsync(yaml, data));

        Assert.Null(span.Attributes.Get("db.table"));
        Assert.True(span.Attributes.Get("redacted_span")!.BoolValue);
        Assert.Equal("orig", span.Attributes.Get("copy_key")!.StringValue);
        Assert.Equal(2245, span.Attributes.Get("account_id")!.IntValue);
        Assert.Null(span.Attributes.Get("account_password"));
        Assert.Equal(Sha256("a@b.c"), span.Attributes.Get("account_email")!.StringValue);
        Assert.Equal(503, span.Attributes.Get("http.status_code")!.IntValue);
        Assert.Equal("us-east-1", span.Attributes.Get("region")!.StringValue);
        Assert.Equal("default-tenant", span.Attributes.Get("tenant_id")!.StringValue);
    }

    [Fact]
    public async Task InsertUpdateUpsert_RespectExistingKeys()
    {
        const string yaml = """
            actions:
              - { key: present, value: new, action: insert }
              - { key: absent_insert, value: 1.5, action: insert }
              - { key: absent_update, value: x, action: update }
              - { key: present2, value: "42", action: update }
              - { key: absent_upsert, value: false, action: upsert }
            """;
        var span = FirstSpan(await RunAsync(yaml, OneSpan(Attr("present", "old"), Attr("present2", "before"))));

        Assert.Equal("old", span.Attributes.Get("present")!.StringValue);
        Assert.Equal(1.5, span.Attributes.Get("absent_insert")!.DoubleValue);
        Assert.Null(span.Attributes.Get("absent_update"));
        Assert.Equal("42", span.Attributes.Get("present2")!.StringValue); // quoted in YAML: stays a string
        Assert.False(span.Attributes.Get("absent_upsert")!.BoolValue);
    }

    [Fact]
    public async Task FromContext_ReadsMetadataClientAddressAndJoinsMultipleValues()
    {
        const string yaml = """
            actions:
              - { key: model_id, from_context: metadata.x-model-id, action: insert }
              - { key: tenants, from_context: metadata.x-tenant, action: insert }
              - { key: peer, from_context: client.address, action: insert }
              - { key: bare, from_context: x-model-id, action: insert }
              - { key: missing, from_context: metadata.nope, action: insert }
              - { key: auth, from_context: auth.subject, action: insert }
            """;
        var client = new ClientInfo("10.1.2.3", new Dictionary<string, IReadOnlyList<string>>
        {
            ["x-model-id"] = ["llama-3-8b"],
            ["x-tenant"] = ["a", "b"],
        });
        var span = FirstSpan(await RunAsync(yaml, OneSpan(), client));

        Assert.Equal("llama-3-8b", span.Attributes.Get("model_id")!.StringValue);
        Assert.Equal("a;b", span.Attributes.Get("tenants")!.StringValue);
        Assert.Equal("10.1.2.3", span.Attributes.Get("peer")!.StringValue);
        Assert.Equal("llama-3-8b", span.Attributes.Get("bare")!.StringValue);
        Assert.Null(span.Attributes.Get("missing"));
        Assert.Null(span.Attributes.Get("auth"));
    }

    [Fact]
    public async Task Extract_WithGoNamedGroups_SetsEachGroup()
    {
        const string yaml = """
            actions:
              - key: http.url
                pattern: ^(?P<http_protocol>.*):\/\/(?P<http_domain>.*)\/(?P<http_path>.*)$
                action: extract
            """;
        var span = FirstSpan(await RunAsync(yaml, OneSpan(Attr("http.url", "https://api.example.com/v1/models/x"))));

        Assert.Equal("https", span.Attributes.Get("http_protocol")!.StringValue);
        Assert.Equal("api.example.com/v1/models", span.Attributes.Get("http_domain")!.StringValue);
        Assert.Equal("x", span.Attributes.Get("http_path")!.StringValue);
        Assert.Equal("https://api.example.com/v1/models/x", span.Attributes.Get("http.url")!.StringValue);
    }

    [Fact]
    public async Task DeleteAndHash_WithPattern_ActOnMatchingKeys()
    {
        const string yaml = """
            actions:
              - { pattern: ^secret\., action: delete }
              - { key: user.id, pattern: ^pii\., action: hash }
            """;
        var span = FirstSpan(await RunAsync(yaml, OneSpan(Attr("secret.a", "1"), Attr("secret.b", "2"), Attr("keep", "k"),
            Attr("user.id", 7L), Attr("pii.mail", "m@x"), Attr("pii.flag", true), Attr("pii.score", 0.5))));

        Assert.Equal(["keep", "user.id", "pii.mail", "pii.flag", "pii.score"], span.Attributes.Select(a => a.Key));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(7L))), span.Attributes.Get("user.id")!.StringValue);
        Assert.Equal(Sha256("m@x"), span.Attributes.Get("pii.mail")!.StringValue);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData([1])), span.Attributes.Get("pii.flag")!.StringValue);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(BitConverter.GetBytes(0.5))), span.Attributes.Get("pii.score")!.StringValue);
    }

    [Fact]
    public async Task Convert_FollowsOtelcolRules()
    {
        const string yaml = """
            actions:
              - { key: a, action: convert, converted_type: int }
              - { key: b, action: convert, converted_type: int }
              - { key: c, action: convert, converted_type: double }
              - { key: d, action: convert, converted_type: string }
              - { key: e, action: convert, converted_type: int }
              - { key: f, action: convert, converted_type: double }
            """;
        var span = FirstSpan(await RunAsync(yaml, OneSpan(Attr("a", 3.9), Attr("b", true), Attr("c", "2.5"), Attr("d", 12L),
            Attr("e", "not a number"), Attr("f", 4L))));

        Assert.Equal(3, span.Attributes.Get("a")!.IntValue);
        Assert.Equal(1, span.Attributes.Get("b")!.IntValue);
        Assert.Equal(2.5, span.Attributes.Get("c")!.DoubleValue);
        Assert.Equal("12", span.Attributes.Get("d")!.StringValue);
        Assert.Equal("not a number", span.Attributes.Get("e")!.StringValue);
        Assert.Equal(4.0, span.Attributes.Get("f")!.DoubleValue);
    }

    [Fact]
    public async Task IncludeRegexpServices_ExcludeRegexpSpanNames_ReadmeExample()
    {
        const string yaml = """
            include:
              match_type: regexp
              services: ["auth.*"]
            exclude:
              match_type: regexp
              span_names: ["login.*"]
            actions:
              - key: password
                action: update
                value: "obfuscated"
              - key: token
                action: delete
            """;
        var data = new ExportTraceServiceRequest();
        foreach (var (service, name) in new[] { ("auth-svc", "checkout"), ("auth-svc", "login-form"), ("billing", "checkout") })
        {
            var part = Traces(1, service);
            var span = FirstSpan(part);
            span.Name = name;
            span.Attributes.Add(Attr("password", "p"));
            span.Attributes.Add(Attr("token", "t"));
            data.ResourceSpans.Add(part.ResourceSpans);
        }

        var result = await RunAsync(yaml, data);

        var spans = result.ResourceSpans.Select(rs => rs.ScopeSpans[0].Spans[0]).ToList();
        Assert.Equal("obfuscated", spans[0].Attributes.Get("password")!.StringValue);
        Assert.Null(spans[0].Attributes.Get("token"));
        Assert.Equal("p", spans[1].Attributes.Get("password")!.StringValue);
        Assert.Equal("p", spans[2].Attributes.Get("password")!.StringValue);
        Assert.NotNull(spans[2].Attributes.Get("token"));
    }

    [Fact]
    public async Task IncludeStrict_AttributesResourcesLibrariesAndSpanKinds_AllMustMatch()
    {
        const string yaml = """
            include:
              match_type: strict
              span_kinds: [SPAN_KIND_SERVER]
              attributes:
                - { key: http.request.method, value: POST }
                - { key: ok }
              resources:
                - { key: host.name, value: node-1 }
              libraries:
                - { name: test.scope, version: 1.2.3 }
            actions:
              - { key: matched, value: 1, action: insert }
            """;
        var data = Traces(4);
        var spans = data.ResourceSpans[0].ScopeSpans[0].Spans;
        spans[1].Kind = Span.Types.SpanKind.Client;
        spans[2].Attributes.Remove("ok");
        spans[3].Attributes.Upsert("http.request.method", Attributes.String("GET"));

        var result = await RunAsync(yaml, data);

        var flags = result.ResourceSpans[0].ScopeSpans[0].Spans.Select(s => s.Attributes.Get("matched") is not null).ToArray();
        Assert.Equal([true, false, false, false], flags);
    }

    [Fact]
    public async Task Include_ResourceAndLibraryMismatch_SkipsSpans()
    {
        const string yaml = """
            include:
              match_type: strict
              resources: [{ key: host.name, value: other-node }]
            actions:
              - { key: matched, value: 1, action: insert }
            """;
        var result = await RunAsync(yaml, Traces(2));
        Assert.All(result.ResourceSpans[0].ScopeSpans[0].Spans, s => Assert.Null(s.Attributes.Get("matched")));

        const string libraries = """
            exclude:
              match_type: regexp
              libraries: [{ name: "^test\\." }]
            actions:
              - { key: matched, value: 1, action: insert }
            """;
        result = await RunAsync(libraries, Traces(2));
        Assert.All(result.ResourceSpans[0].ScopeSpans[0].Spans, s => Assert.Null(s.Attributes.Get("matched")));
    }

    [Fact]
    public async Task Regexp_AttributeValues_MatchNumbersAsText()
    {
        const string yaml = """
            include:
              match_type: regexp
              attributes: [{ key: http.response.status_code, value: "^5\\d\\d$" }]
            actions:
              - { key: server_error, value: true, action: insert }
            """;
        var result = await RunAsync(yaml, Traces(2));
        var spans = result.ResourceSpans[0].ScopeSpans[0].Spans;
        Assert.Null(spans[0].Attributes.Get("server_error")); // 200
        Assert.True(spans[1].Attributes.Get("server_error")!.BoolValue); // 500
    }

    [Fact]
    public async Task Logs_MatchBodiesSeverityAndActOnRecordAttributes()
    {
        const string yaml = """
            include:
              match_type: regexp
              log_bodies: ["request [02] served"]
              log_severity_number: { min: INFO, match_undefined: false }
            actions:
              - { key: env, value: prod, action: upsert }
            """;
        var data = Logs(3);
        data.ResourceLogs[0].ScopeLogs[0].LogRecords[2].SeverityNumber = SeverityNumber.Debug;

        var result = await RunAsync(yaml, data);

        var flags = result.ResourceLogs[0].ScopeLogs[0].LogRecords.Select(l => l.Attributes.Get("env") is not null).ToArray();
        Assert.Equal([true, false, false], flags);
    }

    [Fact]
    public async Task Metrics_ActionsApplyToDataPointsOfMatchingMetrics()
    {
        const string yaml = """
            include:
              match_type: strict
              metric_names: [requests]
            actions:
              - { key: route, action: delete }
              - { key: cluster, value: eu-1, action: insert }
            """;
        var result = await RunAsync(yaml, Metrics(6));
        var metrics = result.ResourceMetrics[0].ScopeMetrics[0].Metrics.ToDictionary(m => m.Name);
        Assert.All(metrics["requests"].Sum.DataPoints, p =>
        {
            Assert.Null(p.Attributes.Get("route"));
            Assert.Equal("eu-1", p.Attributes.Get("cluster")!.StringValue);
        });
        Assert.All(metrics["gpu.memory.used"].Gauge.DataPoints, p => Assert.Null(p.Attributes.Get("cluster")));
    }

    [Theory]
    [InlineData("actions: []", "missing required field \"actions\"")]
    [InlineData("actions: [{ key: a, action: insert }]", "\"default_value\" must be specified")]
    [InlineData("actions: [{ key: a, action: upsert, value: 1, from_attribute: b }]", "multiple value sources")]
    [InlineData("actions: [{ action: delete }]", "at least one of \"key\" and \"pattern\"")]
    [InlineData("actions: [{ key: a, action: extract, pattern: \"x+\" }]", "no named matcher groups")]
    [InlineData("actions: [{ key: a, action: extract, pattern: \"(?P<n>x)(y)\" }]", "unnamed matcher group")]
    [InlineData("actions: [{ key: a, action: convert, converted_type: bool }]", "invalid value \"bool\"")]
    [InlineData("actions: [{ key: a, action: rename }]", "unsupported action \"rename\"")]
    [InlineData("actions: [{ key: a, action: delete, pattern: \"(\" }]", "invalid pattern")]
    [InlineData("include: { match_type: exact, services: [a] }\nactions: [{ key: a, action: delete }]", "unrecognized match_type")]
    public void InvalidConfig_IsRejectedWithTheReason(string yaml, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigText.Bind<AttributesConfig>(yaml));
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void MatchPropertiesInvalidForSignal_FailsAtCreation()
    {
        var config = ConfigText.Bind<AttributesConfig>("""
            include: { match_type: strict, log_bodies: [x] }
            actions: [{ key: a, action: delete }]
            """);
        var error = Assert.Throws<ArgumentException>(() =>
            new AttributesProcessorFactory().CreateProcessor(TestHost.Settings("attributes"), config, new Sink<ExportTraceServiceRequest>()));
        Assert.Contains("log_bodies should not be specified for trace spans", error.Message);
        // The same config is fine for logs.
        new AttributesProcessorFactory().CreateProcessor(TestHost.Settings("attributes"), config, new Sink<ExportLogsServiceRequest>());
        Assert.Throws<ArgumentException>(() =>
            new AttributesProcessorFactory().CreateProcessor(TestHost.Settings("attributes"), config, new Sink<ExportMetricsServiceRequest>()));
    }
}
