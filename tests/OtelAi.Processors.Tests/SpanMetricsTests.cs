using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Processors.SpanMetrics;
using OtelAi.TestSupport;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Processors.Tests;

/// <summary>spanmetrics with otelcol's semantics: dimensions, temporality, histograms, events, cardinality limit, and sampled-span weights.</summary>
public sealed class SpanMetricsTests
{
    private readonly ManualTime _time = new();
    private readonly Sink<ExportMetricsServiceRequest> _metrics = new();

    private SpanMetricsConnector Connector(string yaml = "") =>
        new(TestSettings.For(new ComponentId("spanmetrics"), ComponentKind.Connector), ConfigText.Bind<SpanMetricsConfig>(yaml), _metrics, _time);

    private static Span TestSpan(string name, double durationMs, Status.Types.StatusCode status = Status.Types.StatusCode.Unset, string model = "llama-3", string traceState = "", params Span.Types.Event[] events)
    {
        var span = new Span
        {
            TraceId = ByteString.CopyFrom(Enumerable.Repeat((byte)1, 16).ToArray()),
            SpanId = ByteString.CopyFrom(Enumerable.Repeat((byte)2, 8).ToArray()),
            Name = name,
            Kind = Span.Types.SpanKind.Server,
            StartTimeUnixNano = 1_000_000_000,
            EndTimeUnixNano = 1_000_000_000 + (ulong)(durationMs * 1_000_000),
            TraceState = traceState,
            Status = new Status { Code = status },
            Attributes = { Attr("model_id", model) },
        };
        span.Events.Add(events);
        return span;
    }

    private static ExportTraceServiceRequest Request(params Span[] spans) =>
        new() { ResourceSpans = { new ResourceSpans { Resource = Resource("chat-api"), ScopeSpans = { new ScopeSpans { Scope = new InstrumentationScope { Name = "app" }, Spans = { spans } } } } } };

    private async Task<List<Metric>> FlushAsync(SpanMetricsConnector connector)
    {
        var before = _metrics.Payloads.Count;
        await connector.FlushAsync(CancellationToken.None);
        return _metrics.Payloads.Skip(before).SelectMany(r => r.ResourceMetrics).SelectMany(rm => rm.ScopeMetrics).SelectMany(sm => sm.Metrics).ToList();
    }

    private static string Label(NumberDataPoint point, string key) => point.Attributes.Get(key).AsString();

    [Fact]
    public async Task Calls_and_durations_per_service_span_kind_status_and_dimension()
    {
        var connector = Connector("dimensions: [{name: model_id}, {name: gpu, default: none}]");
        await connector.ConsumeAsync(Request(
            TestSpan("chat", 3), TestSpan("chat", 120), TestSpan("chat", 900, Status.Types.StatusCode.Error), TestSpan("chat", 5, model: "mistral")), CancellationToken.None);
        var metrics = await FlushAsync(connector);

        var calls = metrics.Single(m => m.Name == "traces.span.metrics.calls");
        Assert.Equal(AggregationTemporality.Cumulative, calls.Sum.AggregationTemporality);
        Assert.True(calls.Sum.IsMonotonic);
        var ok = calls.Sum.DataPoints.Single(p => Label(p, "model_id") == "llama-3" && Label(p, "status.code") == "STATUS_CODE_UNSET");
        Assert.Equal(2, ok.AsInt);
        Assert.Equal(["service.name", "span.name", "span.kind", "status.code", "model_id", "gpu"], ok.Attributes.Select(a => a.Key));
        Assert.Equal(("chat-api", "chat", "SPAN_KIND_SERVER", "none"), (Label(ok, "service.name"), Label(ok, "span.name"), Label(ok, "span.kind"), Label(ok, "gpu")));
        Assert.Equal(1, calls.Sum.DataPoints.Single(p => Label(p, "status.code") == "STATUS_CODE_ERROR").AsInt);
        Assert.Equal(3, calls.Sum.DataPoints.Count);

        var duration = metrics.Single(m => m.Name == "traces.span.metrics.duration");
        Assert.Equal("ms", duration.Unit);
        var llama = duration.Histogram.DataPoints.Single(p => p.Attributes.Get("model_id").AsString() == "llama-3" && p.Attributes.Get("status.code").AsString() == "STATUS_CODE_UNSET");
        Assert.Equal([2.0, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10_000, 15_000], llama.ExplicitBounds);
        Assert.Equal(2UL, llama.Count);
        Assert.Equal(123, llama.Sum, 6);
        Assert.Equal(1UL, llama.BucketCounts[1]); // 3 ms in (2, 4]
        Assert.Equal(1UL, llama.BucketCounts[7]); // 120 ms in (100, 200]
        Assert.Equal((3, 120), (llama.Min, llama.Max));

        // Cumulative: the next flush carries the totals since the series began, same start time.
        await connector.ConsumeAsync(Request(TestSpan("chat", 3)), CancellationToken.None);
        var again = (await FlushAsync(connector)).Single(m => m.Name == "traces.span.metrics.calls").Sum.DataPoints
            .Single(p => Label(p, "model_id") == "llama-3" && Label(p, "status.code") == "STATUS_CODE_UNSET");
        Assert.Equal(3, again.AsInt);
        Assert.Equal(ok.StartTimeUnixNano, again.StartTimeUnixNano);
    }

    [Fact]
    public async Task Delta_temporality_starts_over_after_each_flush()
    {
        var connector = Connector("aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA");
        await connector.ConsumeAsync(Request(TestSpan("chat", 3), TestSpan("chat", 4)), CancellationToken.None);
        var first = (await FlushAsync(connector)).Single(m => m.Name.EndsWith(".calls")).Sum.DataPoints.Single();
        _time.Advance(TimeSpan.FromSeconds(60));
        await connector.ConsumeAsync(Request(TestSpan("chat", 3)), CancellationToken.None);
        var second = (await FlushAsync(connector)).Single(m => m.Name.EndsWith(".calls")).Sum;
        Assert.Equal(AggregationTemporality.Delta, second.AggregationTemporality);
        Assert.Equal((2L, 1L), (first.AsInt, second.DataPoints.Single().AsInt));
        Assert.Equal(first.TimeUnixNano, second.DataPoints.Single().StartTimeUnixNano);
        Assert.Empty(await FlushAsync(connector)); // nothing new, nothing sent
    }

    [Fact]
    public async Task Exponential_histogram_seconds_excluded_dimensions_and_namespace()
    {
        var connector = Connector("namespace: llm\nexclude_dimensions: [span.kind]\nhistogram: {unit: s, exponential: {max_size: 4}}");
        await connector.ConsumeAsync(Request(TestSpan("chat", 100), TestSpan("chat", 1000), TestSpan("chat", 30_000)), CancellationToken.None);
        var metrics = await FlushAsync(connector);
        var duration = metrics.Single(m => m.Name == "llm.duration");
        Assert.Equal("s", duration.Unit);
        var point = duration.ExponentialHistogram.DataPoints.Single();
        Assert.DoesNotContain(point.Attributes, a => a.Key == "span.kind");
        Assert.Equal(3UL, point.Count);
        Assert.True(point.Positive.BucketCounts.Count <= 4);
        Assert.Equal(3UL, (ulong)point.Positive.BucketCounts.Sum(c => (long)c));
        // Each value lies in its bucket (base^i, base^(i+1)].
        var scaleBase = Math.Pow(2, Math.Pow(2, -point.Scale));
        foreach (var value in new[] { 0.1, 1, 30 })
        {
            var index = (int)Math.Ceiling(Math.Log(value, scaleBase)) - 1;
            Assert.True(point.Positive.BucketCounts[index - point.Positive.Offset] > 0, $"{value} s not in bucket {index}");
        }
    }

    [Fact]
    public async Task Events_counted_with_event_dimensions()
    {
        var connector = Connector("events: {enabled: true, dimensions: [{name: exception.type}]}");
        var failure = new Span.Types.Event { Name = "exception", Attributes = { Attr("exception.type", "CudaOutOfMemory") } };
        await connector.ConsumeAsync(Request(TestSpan("chat", 1, events: [failure, failure])), CancellationToken.None);
        var events = (await FlushAsync(connector)).Single(m => m.Name == "traces.span.metrics.events").Sum.DataPoints.Single();
        Assert.Equal(2, events.AsInt);
        Assert.Equal("CudaOutOfMemory", Label(events, "exception.type"));
    }

    [Fact]
    public async Task Cardinality_limit_puts_further_series_into_the_overflow_series()
    {
        var connector = Connector("dimensions: [{name: model_id}]\naggregation_cardinality_limit: 2");
        await connector.ConsumeAsync(Request(TestSpan("a", 1, model: "m1"), TestSpan("a", 1, model: "m2"), TestSpan("a", 1, model: "m3"), TestSpan("a", 1, model: "m4")), CancellationToken.None);
        var calls = (await FlushAsync(connector)).Single(m => m.Name.EndsWith(".calls")).Sum.DataPoints;
        Assert.Equal(3, calls.Count);
        var overflow = calls.Single(p => p.Attributes.Any(a => a.Key == "otel.metric.overflow"));
        Assert.True(overflow.Attributes.Get("otel.metric.overflow")!.BoolValue);
        Assert.Equal(2, overflow.AsInt);
    }

    [Theory]
    [InlineData("", 1UL)]
    [InlineData("vendor=x", 1UL)]
    [InlineData("ot=th:8", 2UL)]            // rejection 50 %: each kept span stands for 2
    [InlineData("ot=th:c", 4UL)]            // 75 %
    [InlineData("ot=th:fd70a3d70a3d7", 100UL)] // 99 % (p = 1 %)
    [InlineData("vendor=x,ot=rv:0123;th:e", 8UL)]
    [InlineData("ot=th:0", 1UL)]
    [InlineData("ot=th:zz", 1UL)]
    public void Sampling_weight_from_the_tracestate_threshold(string traceState, ulong expected) =>
        Assert.Equal(expected, OtelAi.Processors.Common.SamplingThreshold.Weight(traceState));

    [Fact]
    public async Task Sampled_spans_count_with_their_weight_in_calls_and_histograms()
    {
        var connector = Connector();
        await connector.ConsumeAsync(Request(TestSpan("chat", 3, traceState: "ot=th:c"), TestSpan("chat", 3)), CancellationToken.None);
        var metrics = await FlushAsync(connector);
        Assert.Equal(5, metrics.Single(m => m.Name.EndsWith(".calls")).Sum.DataPoints.Single().AsInt);
        Assert.Equal(5UL, metrics.Single(m => m.Name.EndsWith(".duration")).Histogram.DataPoints.Single().Count);
    }

    [Fact]
    public async Task Raw_paths_become_route_templates_when_a_dimension_asks()
    {
        var connector = Connector("dimensions: [{name: http.route, normalize_route: true, default: unknown}]");
        Span WithPath(string path)
        {
            var span = TestSpan("GET", 1);
            span.Attributes.Add(Attr("url.path", path));
            return span;
        }
        await connector.ConsumeAsync(Request(WithPath("/users/1/orders"), WithPath("/users/2/orders?x=1"), WithPath("/users/3/orders"), TestSpan("GET", 1)), CancellationToken.None);
        var calls = (await FlushAsync(connector)).Single(m => m.Name.EndsWith(".calls")).Sum.DataPoints;
        Assert.Equal(3, calls.Single(p => Label(p, "http.route") == "/users/{id}/orders").AsInt);
        Assert.Equal(1, calls.Single(p => Label(p, "http.route") == "unknown").AsInt);
    }

    [Fact]
    public void Config_keys_and_errors_as_otelcol()
    {
        var errors = Assert.Throws<OtelAi.Engine.Config.ConfigException>(() => ConfigText.Bind<SpanMetricsConfig>(
            "dimensions: [{name: span.name}]\nhistogram: {explicit: {buckets: [10ms, 5ms]}, exponential: {max_size: 10}}")).Message;
        Assert.Contains("duplicate dimension name span.name", errors);
        Assert.Contains("use either `explicit` or `exponential` buckets histogram", errors);
        Assert.Contains("increasing order", errors);

        var config = ConfigText.Bind<SpanMetricsConfig>("""
            histogram: {unit: s, explicit: {buckets: [100ms, 1s, 10s]}}
            dimensions: [{name: http.method, default: GET}, {name: http.status_code}]
            exemplars: {enabled: true, max_per_data_point: 5}
            events: {enabled: true, dimensions: [{name: exception.type}]}
            dimensions_cache_size: 1000
            resource_metrics_key_attributes: [service.name]
            aggregation_temporality: AGGREGATION_TEMPORALITY_DELTA
            metrics_flush_interval: 15s
            metrics_expiration: 5m
            """);
        Assert.Equal([0.1, 1, 10], config.Histogram.Explicit!.Buckets.Select(b => b.TotalSeconds));
    }
}

/// <summary>URL paths as route templates (shared by spanmetrics dimensions and, later, tail sampling's route rules).</summary>
public sealed class RouteNormalizerTests
{
    [Theory]
    [InlineData("/v1/chat/completions", "/v1/chat/completions")]
    [InlineData("/v2/models/resnet50/infer", "/v2/models/resnet50/infer")]
    [InlineData("/users/12345/orders/7", "/users/{id}/orders/{id}")]
    [InlineData("/jobs/3f2b8c1e-9a4d-4e7b-8c2f-1d2e3f4a5b6c/status", "/jobs/{id}/status")]
    [InlineData("/blobs/5b8efff798038103d269b633813fc60c", "/blobs/{id}")]
    [InlineData("/files/aGVsbG8gd29ybGQgMTIzNDU2Nzg5MA", "/files/{id}")]
    [InlineData("/v1/embeddings?model=bge&user=42", "/v1/embeddings")]
    [InlineData("//health//", "/health")]
    [InlineData("/", "/")]
    [InlineData("/deadbeef", "/deadbeef")]
    public void Normalize(string path, string route) => Assert.Equal(route, OtelAi.Processors.Common.RouteNormalizer.Normalize(path));
}
