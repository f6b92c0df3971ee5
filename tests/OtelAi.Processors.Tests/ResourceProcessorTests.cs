using OtelAi.TestSupport;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Processors.ResourceProcessor;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Processors.Tests;

public sealed class ResourceProcessorTests
{
    // otelcol-contrib's resource processor README example.
    private const string ReadmeExample = """
        attributes:
        - key: cloud.availability_zone
          value: "zone-1"
          action: upsert
        - key: k8s.cluster.name
          from_attribute: k8s-cluster
          action: insert
        - key: redundant-attribute
          action: delete
        """;

    private static async Task<T> RunAsync<T>(string yaml, T data) where T : class, Google.Protobuf.IMessage<T>, new()
    {
        var sink = new Sink<T>();
        var processor = new ResourceProcessorFactory().CreateProcessor(TestHost.Settings("resource"), ConfigText.Bind<ResourceConfig>(yaml), sink);
        await processor.StartAsync(TestHost.Instance, CancellationToken.None);
        await processor.ConsumeAsync(data, CancellationToken.None);
        return sink.Received.Single().Data;
    }

    [Fact]
    public async Task ReadmeExample_OnTraces()
    {
        var data = Traces(2);
        var resource = data.ResourceSpans[0].Resource.Attributes;
        resource.Add(Attr("k8s-cluster", "prod-eu"));
        resource.Add(Attr("redundant-attribute", "x"));

        var result = (await RunAsync(ReadmeExample, data)).ResourceSpans[0].Resource.Attributes;

        Assert.Equal("zone-1", result.Get("cloud.availability_zone")!.StringValue);
        Assert.Equal("prod-eu", result.Get("k8s.cluster.name")!.StringValue);
        Assert.Null(result.Get("redundant-attribute"));
        Assert.Equal("inference-api", result.Get("service.name")!.StringValue);
    }

    [Fact]
    public async Task ReadmeExample_OnMetricsAndLogs()
    {
        var metrics = (await RunAsync(ReadmeExample, Metrics(3))).ResourceMetrics[0].Resource.Attributes;
        Assert.Equal("zone-1", metrics.Get("cloud.availability_zone")!.StringValue);
        Assert.Null(metrics.Get("k8s.cluster.name"));

        var logs = (await RunAsync(ReadmeExample, Logs(3))).ResourceLogs[0].Resource.Attributes;
        Assert.Equal("zone-1", logs.Get("cloud.availability_zone")!.StringValue);
    }

    [Fact]
    public async Task FromContext_AndHash_OnResource()
    {
        const string yaml = """
            attributes:
            - { key: tenant, from_context: metadata.x-tenant, action: upsert }
            - { key: host.name, action: hash }
            """;
        ClientContext.Set(new ClientInfo(null, new Dictionary<string, IReadOnlyList<string>> { ["x-tenant"] = ["acme"] }));
        var result = (await RunAsync(yaml, Traces(1))).ResourceSpans[0].Resource.Attributes;
        Assert.Equal("acme", result.Get("tenant")!.StringValue);
        Assert.Equal(64, result.Get("host.name")!.StringValue.Length);
    }

    [Fact]
    public void MissingAttributes_IsAConfigError()
    {
        var error = Assert.Throws<ConfigException>(() => ConfigText.Bind<ResourceConfig>(""));
        Assert.Contains("missing required field \"attributes\"", error.Message);
    }
}
