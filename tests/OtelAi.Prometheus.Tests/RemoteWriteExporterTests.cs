using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http;
using OtelAi.Engine.Components;
using OtelAi.Otlp;
using OtelAi.Engine.Exporter;
using OtelAi.Exporters.PrometheusRemoteWrite;
using OtelAi.Engine.Settings;
using OtelAi.Exporters.PrometheusRemoteWrite;
using OtelAi.Exporters.PrometheusRemoteWrite.Prompb;
using OtelAi.Otlp.Hosting;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.TestSupport;
using static OtelAi.Prometheus.Tests.TranslationTests;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Prometheus.Tests;

/// <summary>The remote write exporter against a scripted receiver: the wire format, ordering, splitting, retries and refusals.</summary>
public sealed class RemoteWriteExporterTests : IAsyncLifetime
{
    private readonly ConcurrentQueue<(Dictionary<string, string> Headers, WriteRequest Request)> _received = new();
    private readonly ConcurrentQueue<int> _statuses = new(); // answers to give, in order; 204 once empty
    private ServerHost _server = null!;

    public async Task InitializeAsync() => _server = await ServerHost.StartAsync("127.0.0.1:0", ReceiveAsync, ServerHostSetup.Http1, CancellationToken.None);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task ReceiveAsync(HttpContext context)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var status = _statuses.TryDequeue(out var scripted) ? scripted : 204;
        var headers = context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase);
        _received.Enqueue((headers, status == 204 ? WriteRequest.Parser.ParseFrom(Snappier.Snappy.DecompressToArray(body.ToArray())) : new WriteRequest()));
        context.Response.StatusCode = status;
        if (status == 503) context.Response.Headers.RetryAfter = "0";
        if (status >= 400) await context.Response.WriteAsync("scripted refusal");
    }

    /// <summary>Queue off (failures reach the caller), fast retries, a tenant header and an attempt to override Content-Type.</summary>
    private IExporter<ExportMetricsServiceRequest> Exporter(string yaml = "", int parallelism = 5) =>
        new PrometheusRemoteWriteExporterFactory().CreateExporter<ExportMetricsServiceRequest>(
            TestSettings.For(new ComponentId("prometheusremotewrite"), ComponentKind.Exporter),
            OtelAi.Engine.Config.ConfigLoader.Bind<PrometheusRemoteWriteExporterConfig>(
                $"endpoint: http://127.0.0.1:{_server.Port}/api/v1/write\nremote_write_queue: {{enabled: false, num_consumers: {parallelism}}}\n"
                + "retry_on_failure: {initial_interval: 10ms, max_interval: 20ms}\nheaders: {X-Scope-OrgID: tenant-1, Content-Type: text/evil}\n" + yaml));

    private List<TimeSeries> Accepted() => _received.Where(r => r.Request.Timeseries.Count > 0).SelectMany(r => r.Request.Timeseries).ToList();

    private static string Name(TimeSeries series) => series.Labels.Single(l => l.Name == "__name__").Value;

    private static ExportMetricsServiceRequest Counter(long value, ulong time, AggregationTemporality temporality, string model = "llama") => Request(new Metric
    {
        Name = "inference.requests", Unit = "{request}",
        Sum = new Sum
        {
            IsMonotonic = true, AggregationTemporality = temporality,
            DataPoints = { new NumberDataPoint { StartTimeUnixNano = 1_000_000_000, TimeUnixNano = time, AsInt = value, Attributes = { Attr("model_id", model) } } },
        },
    });

    [Fact]
    public async Task Posts_snappy_WriteRequest_with_the_protocol_headers_sorted_labels_and_target_info()
    {
        var exporter = Exporter("external_labels: {cluster: eu-1, __replica__: a}\nexport_created_metric: {enabled: true}");
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        await exporter.ConsumeAsync(Counter(5, 2_000_000_000, AggregationTemporality.Cumulative), CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);

        var (headers, request) = Assert.Single(_received);
        Assert.Equal("snappy", headers["Content-Encoding"]);
        Assert.Equal("application/x-protobuf", headers["Content-Type"]);
        Assert.Equal("0.1.0", headers["X-Prometheus-Remote-Write-Version"]);
        Assert.Equal("tenant-1", headers["X-Scope-OrgID"]);
        Assert.StartsWith("otelai/", headers["User-Agent"]);

        var counter = request.Timeseries.Single(s => Name(s) == "inference_requests_total");
        Assert.Equal(
            [("__name__", "inference_requests_total"), ("__replica__", "a"), ("cluster", "eu-1"), ("instance", "pod-1"), ("job", "ai/chat"), ("model_id", "llama")],
            counter.Labels.Select(l => (l.Name, l.Value)));
        var sample = Assert.Single(counter.Samples);
        Assert.Equal((5.0, 2000L), (sample.Value, sample.Timestamp));

        var created = request.Timeseries.Single(s => Name(s) == "inference_requests_created");
        Assert.Equal(1.0, created.Samples.Single().Value);
        var info = request.Timeseries.Single(s => Name(s) == "target_info");
        Assert.Contains(info.Labels, l => l is { Name: "host_name", Value: "node-1" });
        foreach (var series in request.Timeseries)
            Assert.Equal(series.Labels.Select(l => l.Name).Order(StringComparer.Ordinal), series.Labels.Select(l => l.Name));
    }

    [Fact]
    public async Task Deltas_are_sent_as_cumulative_counters_and_samples_of_a_series_go_in_time_order()
    {
        var exporter = Exporter();
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        await exporter.ConsumeAsync(Counter(3, 2_000_000_000, AggregationTemporality.Delta), CancellationToken.None);
        await exporter.ConsumeAsync(Counter(4, 3_000_000_000, AggregationTemporality.Delta), CancellationToken.None);

        // One request with two points of one gauge series, the later one first.
        var late = new NumberDataPoint { TimeUnixNano = 9_000_000_000, AsDouble = 2 };
        var early = new NumberDataPoint { TimeUnixNano = 8_000_000_000, AsDouble = 1 };
        await exporter.ConsumeAsync(Request(Gauge("kv.cache.usage", late, early)), CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);

        var counters = Accepted().Where(s => Name(s) == "inference_requests_total").SelectMany(s => s.Samples).ToList();
        Assert.Equal([(3.0, 2000L), (7.0, 3000L)], counters.Select(s => (s.Value, s.Timestamp)));
        var gauge = Accepted().Where(s => Name(s) == "kv_cache_usage").SelectMany(s => s.Samples);
        Assert.Equal([8000L, 9000L], gauge.Select(s => s.Timestamp));
    }

    [Fact]
    public async Task Retryable_answers_are_retried_and_only_missing_parts_are_sent_again()
    {
        // Small parts: every series goes alone; the second post is refused once with 503.
        var exporter = Exporter("max_batch_size_bytes: 64", parallelism: 1);
        _statuses.Enqueue(204);
        _statuses.Enqueue(503);
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        var points = Enumerable.Range(0, 4).Select(i => new NumberDataPoint { TimeUnixNano = 1_000_000_000, AsInt = i, Attributes = { Attr("gpu", $"{i}") } }).ToArray();
        await exporter.ConsumeAsync(Request(Gauge("gpu.util", points)), CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);

        var accepted = Accepted();
        Assert.Equal(5, accepted.Count); // four gauges and target_info, each accepted exactly once
        Assert.Equal(accepted.Count, accepted.Select(s => string.Join(",", s.Labels)).Distinct().Count());
        Assert.Equal(6, _received.Count); // five parts, one of them twice
    }

    [Fact]
    public async Task A_point_without_recorded_value_is_sent_as_the_staleness_marker()
    {
        var exporter = Exporter();
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        var stale = new NumberDataPoint { TimeUnixNano = 5_000_000_000, Flags = (uint)DataPointFlags.NoRecordedValueMask };
        await exporter.ConsumeAsync(Request(Gauge("kv.cache.usage", stale)), CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);
        var sample = Accepted().Single(s => Name(s) == "kv_cache_usage").Samples.Single();
        Assert.Equal(0x7ff0000000000002, BitConverter.DoubleToInt64Bits(sample.Value));
        Assert.Equal(5000, sample.Timestamp);
    }

    [Fact]
    public void Bodies_are_byte_identical_to_Google_Protobuf_for_the_same_message()
    {
        var sender = new RemoteWriteSender(OtelAi.Engine.Config.ConfigLoader.Bind<PrometheusRemoteWriteExporterConfig>(
            "endpoint: http://127.0.0.1:9/api/v1/write\nsend_metadata: true\nexport_created_metric: {enabled: true}\nexternal_labels: {Zone: a, zzz: b}"),
            TestSettings.For(new ComponentId("prometheusremotewrite"), ComponentKind.Exporter));
        var histogram = new Metric
        {
            Name = "ttft", Unit = "s", Description = "Time to first token",
            Histogram = new Histogram
            {
                AggregationTemporality = AggregationTemporality.Cumulative,
                DataPoints =
                {
                    new HistogramDataPoint
                    {
                        StartTimeUnixNano = 1_000_000_000, TimeUnixNano = 2_000_000_000, Count = 3, Sum = 0, ExplicitBounds = { 0.1, 1 }, BucketCounts = { 0, 2, 1 },
                        Attributes = { Attr("Model", "ünïcode"), Attr("empty", ""), Attr("quantile_like", "x") },
                        Exemplars = { new OtelAi.Otlp.Proto.Metrics.V1.Exemplar { AsDouble = 0.5, TimeUnixNano = 1_500_000_000, TraceId = Google.Protobuf.ByteString.CopyFrom(new byte[16] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 }), SpanId = Google.Protobuf.ByteString.CopyFrom(new byte[8] { 1, 2, 3, 4, 5, 6, 7, 8 }) } },
                    },
                },
            },
        };
        var prepared = sender.Prepare(Request([histogram, Gauge("zero.value", new NumberDataPoint { TimeUnixNano = 0, AsDouble = 0 })]));
        var bytes = Snappier.Snappy.DecompressToArray(Assert.Single(prepared.Bodies));
        var parsed = WriteRequest.Parser.ParseFrom(bytes);
        Assert.Equal(bytes, Google.Protobuf.MessageExtensions.ToByteArray(parsed));
        var bucket = parsed.Timeseries.First(s => Name(s) == "ttft_seconds_bucket");
        Assert.Equal(["Model", "Zone", "__name__", "instance", "job", "le", "quantile_like", "zzz"], bucket.Labels.Select(l => l.Name));
        Assert.Contains(parsed.Timeseries, s => s.Exemplars.Count == 1 && s.Exemplars[0].Labels.Select(l => l.Name).SequenceEqual(["span_id", "trace_id"]));
        Assert.Equal(MetricMetadata.Types.MetricType.Histogram, parsed.Metadata.Single(m => m.MetricFamilyName == "ttft_seconds").Type);
        Assert.Contains(parsed.Timeseries, s => Name(s) == "ttft_seconds_created" && s.Samples[0].Value == 1);
    }

    [Fact]
    public async Task A_400_is_permanent_and_not_retried()
    {
        var exporter = Exporter();
        _statuses.Enqueue(400);
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        var error = await Assert.ThrowsAsync<PermanentDataException>(async () =>
            await exporter.ConsumeAsync(Counter(1, 2_000_000_000, AggregationTemporality.Cumulative), CancellationToken.None));
        Assert.Contains("HTTP 400", error.Message);
        Assert.Contains("scripted refusal", error.Message);
        Assert.Single(_received);
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public void Config_accepts_otelcol_keys_and_refuses_what_this_build_cannot_do()
    {
        var config = OtelAi.Engine.Config.ConfigLoader.Bind<PrometheusRemoteWriteExporterConfig>("""
            endpoint: https://mimir:9009/api/v1/push
            namespace: ai
            external_labels: {cluster: eu}
            remote_write_queue: {enabled: true, queue_size: 2000, num_consumers: 3}
            resource_to_telemetry_conversion: {enabled: true}
            target_info: {enabled: false}
            add_metric_suffixes: false
            max_batch_size_bytes: 1000000
            timeout: 10s
            """);
        Assert.Equal(2000, config.RemoteWriteQueue.QueueSize);
        Assert.False(config.TargetInfo.Enabled);

        var error = Assert.Throws<OtelAi.Engine.Config.ConfigException>(() => OtelAi.Engine.Config.ConfigLoader.Bind<PrometheusRemoteWriteExporterConfig>("""
            endpoint: http://prometheus:9090/api/v1/write
            remote_write_queue: {enabled: true, queue_size: 0}
            wal: {directory: ./prom_rw}
            """));
        Assert.Contains("a 0 size queue will drop all the data", error.Message);
        Assert.Contains("write-ahead log is not supported", error.Message);
    }
}
