using OtelAi.TestSupport;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Processors.Batch;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Processors.Tests;

public sealed class BatchProcessorTests
{
    private static (IProcessor<T> Processor, Sink<T> Sink, ComponentCreateSettings Settings) Create<T>(string yaml)
        where T : class, Google.Protobuf.IMessage<T>, new()
    {
        var sink = new Sink<T>();
        var settings = TestHost.Settings("batch/test");
        var processor = new BatchProcessorFactory().CreateProcessor(settings, ConfigText.Bind<BatchConfig>(yaml), sink);
        processor.StartAsync(TestHost.Instance, CancellationToken.None).GetAwaiter().GetResult();
        return (processor, sink, settings);
    }

    private static int Spans(ExportTraceServiceRequest data) => OtlpSignal<ExportTraceServiceRequest>.Instance.CountItems(data);

    private static ClientInfo Tenant(string tenant) =>
        new("127.0.0.1", new Dictionary<string, IReadOnlyList<string>> { ["tenant"] = [tenant], ["other"] = ["x"] });

    [Fact]
    public void Defaults_MatchOtelcol()
    {
        var config = ConfigText.Bind<BatchConfig>("");
        Assert.Equal(8192, config.SendBatchSize);
        Assert.Equal(0, config.SendBatchMaxSize);
        Assert.Equal(TimeSpan.FromMilliseconds(200), config.Timeout);
        Assert.Equal(1000, config.MetadataCardinalityLimit);
    }

    [Fact]
    public async Task SizeTrigger_SendsOnceEnoughItemsArrived()
    {
        var (processor, sink, settings) = Create<ExportTraceServiceRequest>("send_batch_size: 10\ntimeout: 1h");
        for (var i = 0; i < 3; i++) await processor.ConsumeAsync(Traces(4, seed: i), CancellationToken.None);

        await sink.WaitForAsync(1);

        Assert.Equal(12, Spans(sink.Received[0].Data));
        Assert.Equal(3, sink.Received[0].Data.ResourceSpans.Count);
        Assert.Equal(1, settings.Metrics.Read("otelcol_processor_batch_batch_size_trigger_send", ("processor", "batch/test")));
        Assert.Equal(1, settings.Metrics.Read("otelcol_processor_batch_batch_send_size", ("processor", "batch/test"))); // one batch recorded
        var exposition = new StringWriter();
        settings.Metrics.WritePrometheusText(exposition);
        Assert.Contains("otelcol_processor_batch_batch_send_size_bucket{processor=\"batch/test\",le=\"10\"} 0\n", exposition.ToString());
        Assert.Contains("otelcol_processor_batch_batch_send_size_bucket{processor=\"batch/test\",le=\"25\"} 1\n", exposition.ToString());
        Assert.Contains("otelcol_processor_batch_batch_send_size_sum{processor=\"batch/test\"} 12\n", exposition.ToString());
        await processor.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task TimeoutTrigger_SendsASmallBatch()
    {
        var (processor, sink, settings) = Create<ExportTraceServiceRequest>("send_batch_size: 1000\ntimeout: 50ms");
        await processor.ConsumeAsync(Traces(5), CancellationToken.None);
        await processor.ConsumeAsync(Traces(2, seed: 9), CancellationToken.None);

        await sink.WaitForAsync(1);

        Assert.Equal(7, sink.Received.Sum(r => Spans(r.Data)));
        Assert.True(settings.Metrics.Read("otelcol_processor_batch_timeout_trigger_send", ("processor", "batch/test")) >= 1);
        await processor.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task MaxSize_SplitsLargeRequests_RestFlushedOnShutdown()
    {
        var (processor, sink, _) = Create<ExportTraceServiceRequest>("send_batch_size: 10\nsend_batch_max_size: 10\ntimeout: 1h");
        var input = Traces(35);
        var expectedNames = input.ResourceSpans[0].ScopeSpans[0].Spans.Select(s => s.SpanId).ToList();
        await processor.ConsumeAsync(input, CancellationToken.None);
        await sink.WaitForAsync(3);

        await processor.ShutdownAsync(CancellationToken.None);

        Assert.Equal([10, 10, 10, 5], sink.Received.Select(r => Spans(r.Data)));
        var outputIds = sink.Received.SelectMany(r => r.Data.ResourceSpans).SelectMany(rs => rs.ScopeSpans).SelectMany(ss => ss.Spans).Select(s => s.SpanId);
        Assert.Equal(expectedNames, outputIds);
        Assert.All(sink.Received, r => Assert.Equal("inference-api", r.Data.ResourceSpans[0].Resource.Attributes.Get("service.name")!.StringValue));
    }

    [Fact]
    public async Task ZeroTimeout_SendsEachRequestAtOnce()
    {
        var (processor, sink, _) = Create<ExportTraceServiceRequest>("send_batch_size: 1000\ntimeout: 0s");
        await processor.ConsumeAsync(Traces(3), CancellationToken.None);
        await sink.WaitForAsync(1);
        await processor.ConsumeAsync(Traces(2), CancellationToken.None);
        await sink.WaitForAsync(2);
        Assert.Equal(5, sink.Received.Sum(r => Spans(r.Data)));
        await processor.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task MetadataKeys_BatchPerTenant_AndCarryTheMetadataDownstream()
    {
        var (processor, sink, _) = Create<ExportTraceServiceRequest>("send_batch_size: 4\ntimeout: 1h\nmetadata_keys: [Tenant]");
        async Task Send(string tenant, int spans)
        {
            ClientContext.Set(Tenant(tenant));
            await processor.ConsumeAsync(Traces(spans), CancellationToken.None);
        }
        await Send("a", 2);
        await Send("b", 2);
        await Send("a", 2);
        await sink.WaitForAsync(1);

        var first = sink.Received[0];
        Assert.Equal(4, Spans(first.Data));
        Assert.Equal("a", first.Client.GetFirst("tenant"));
        Assert.Null(first.Client.GetFirst("other"));

        await processor.ShutdownAsync(CancellationToken.None);
        var second = Assert.Single(sink.Received.Skip(1));
        Assert.Equal(2, Spans(second.Data));
        Assert.Equal("b", second.Client.GetFirst("tenant"));
    }

    [Fact]
    public async Task MetadataCardinalityLimit_RefusesNewCombinations()
    {
        var (processor, _, _) = Create<ExportTraceServiceRequest>("metadata_keys: [tenant]\nmetadata_cardinality_limit: 1");
        ClientContext.Set(Tenant("a"));
        await processor.ConsumeAsync(Traces(1), CancellationToken.None);
        ClientContext.Set(Tenant("b"));
        var error = await Assert.ThrowsAsync<PermanentDataException>(() => processor.ConsumeAsync(Traces(1), CancellationToken.None).AsTask());
        Assert.Contains("too many batcher metadata-value combinations", error.Message);
        await processor.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Shutdown_FlushesEverything_AndLaterDataIsRefused()
    {
        var (processor, sink, _) = Create<ExportLogsServiceRequest>("send_batch_size: 1000\ntimeout: 1h");
        await processor.ConsumeAsync(Logs(7), CancellationToken.None);
        await processor.ConsumeAsync(Logs(3), CancellationToken.None);

        await processor.ShutdownAsync(CancellationToken.None);

        Assert.Equal(10, sink.Received.Sum(r => OtlpSignal<ExportLogsServiceRequest>.Instance.CountItems(r.Data)));
        await Assert.ThrowsAsync<RetryableDataException>(() => processor.ConsumeAsync(Logs(1), CancellationToken.None).AsTask());
    }

    [Fact]
    public async Task Metrics_CountDataPoints_AndSplitInsideAMetric()
    {
        var (processor, sink, _) = Create<ExportMetricsServiceRequest>("send_batch_size: 4\nsend_batch_max_size: 4\ntimeout: 1h");
        await processor.ConsumeAsync(Metrics(9), CancellationToken.None);
        await processor.ShutdownAsync(CancellationToken.None);

        Assert.Equal([4, 4, 1], sink.Received.Select(r => OtlpSignal<ExportMetricsServiceRequest>.Instance.CountItems(r.Data)));
    }

    [Fact]
    public async Task DownstreamFailure_IsCountedAsDropped_SenderAlreadySucceeded()
    {
        var (processor, sink, settings) = Create<ExportTraceServiceRequest>("send_batch_size: 5\ntimeout: 1h");
        sink.Fail = _ => new RetryableDataException("backend down");
        await processor.ConsumeAsync(Traces(5), CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (settings.Metrics.Read("otelcol_processor_dropped_spans", ("processor", "batch/test")) != 5 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.Equal(5, settings.Metrics.Read("otelcol_processor_dropped_spans", ("processor", "batch/test")));
        await processor.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task ConcurrentProducers_LoseNothing()
    {
        var (processor, sink, _) = Create<ExportTraceServiceRequest>("send_batch_size: 100\nsend_batch_max_size: 150\ntimeout: 20ms");
        await Parallel.ForEachAsync(Enumerable.Range(0, 200), async (i, ct) => await processor.ConsumeAsync(Traces(7, seed: i), ct));
        await processor.ShutdownAsync(CancellationToken.None);
        Assert.Equal(1400, sink.Received.Sum(r => Spans(r.Data)));
        Assert.All(sink.Received, r => Assert.InRange(Spans(r.Data), 1, 150));
    }

    [Theory]
    [InlineData("send_batch_size: 100\nsend_batch_max_size: 50", "send_batch_max_size must be greater or equal to send_batch_size")]
    [InlineData("metadata_keys: [Tenant, tenant]", "duplicate entry in metadata_keys")]
    [InlineData("timeout: -1s", "timeout")]
    public void InvalidConfig_IsRejected(string yaml, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigText.Bind<BatchConfig>(yaml));
        Assert.Contains(expected, error.Message);
    }
}
