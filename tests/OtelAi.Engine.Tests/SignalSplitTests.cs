using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

/// <summary>SplitOff (used by batch's send_batch_max_size): every chunk within the limit, nothing lost, order kept.</summary>
public sealed class SignalSplitTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(25)]
    [InlineData(1000)]
    public void Traces_split_across_resources_and_scopes_keep_every_span_in_order(int maxItems)
    {
        var data = SampleData.Traces(10, "a", seed: 1);
        OtlpSignal<ExportTraceServiceRequest>.Instance.MoveAllTo(SampleData.Traces(13, "b", seed: 2), data);
        data.ResourceSpans[1].ScopeSpans.Add(SampleData.Traces(4, "b", seed: 3).ResourceSpans[0].ScopeSpans[0]);
        var expected = Spans(data.Clone());

        var chunks = SplitAll(OtlpSignal<ExportTraceServiceRequest>.Instance, data, maxItems);

        Assert.All(chunks, c => Assert.InRange(OtlpSignal<ExportTraceServiceRequest>.Instance.CountItems(c), 1, maxItems));
        Assert.Equal(expected, chunks.SelectMany(Spans));
        Assert.All(chunks.SelectMany(c => c.ResourceSpans), rs => Assert.NotNull(rs.Resource));
    }

    [Theory]
    [InlineData(3)]
    [InlineData(50)]
    public void Logs_split_keep_every_record_in_order(int maxItems)
    {
        var data = SampleData.Logs(17);
        var expected = data.Clone().ResourceLogs.SelectMany(r => r.ScopeLogs).SelectMany(s => s.LogRecords).ToList();

        var chunks = SplitAll(OtlpSignal<ExportLogsServiceRequest>.Instance, data, maxItems);

        Assert.All(chunks, c => Assert.InRange(OtlpSignal<ExportLogsServiceRequest>.Instance.CountItems(c), 1, maxItems));
        Assert.Equal(expected, chunks.SelectMany(c => c.ResourceLogs).SelectMany(r => r.ScopeLogs).SelectMany(s => s.LogRecords));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    public void Metrics_split_inside_a_metric_keep_every_point(int maxItems)
    {
        var data = SampleData.Metrics(30);
        var total = OtlpSignal<ExportMetricsServiceRequest>.Instance.CountItems(data);

        var chunks = SplitAll(OtlpSignal<ExportMetricsServiceRequest>.Instance, data, maxItems);

        Assert.All(chunks, c => Assert.InRange(OtlpSignal<ExportMetricsServiceRequest>.Instance.CountItems(c), 1, maxItems));
        Assert.Equal(total, chunks.Sum(OtlpSignal<ExportMetricsServiceRequest>.Instance.CountItems));
        var names = chunks.SelectMany(c => c.ResourceMetrics).SelectMany(r => r.ScopeMetrics).SelectMany(s => s.Metrics).Select(m => m.Name).Distinct();
        Assert.Equal(["gpu.memory.used", "requests", "latency"], names);
    }

    private static List<T> SplitAll<T>(OtlpSignal<T> ops, T data, int maxItems) where T : class, Google.Protobuf.IMessage<T>, new()
    {
        var chunks = new List<T>();
        while (ops.CountItems(data) > 0) chunks.Add(ops.SplitOff(data, maxItems));
        return chunks;
    }

    private static IEnumerable<OtelAi.Otlp.Proto.Trace.V1.Span> Spans(ExportTraceServiceRequest data) =>
        data.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans);
}
