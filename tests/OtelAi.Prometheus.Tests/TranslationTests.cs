using OtelAi.Exporters.PrometheusCommon;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Prometheus.Tests;

/// <summary>Golden cases of the OTLP → Prometheus translation, rule by rule (the OpenTelemetry compatibility specification, otelcol's translator).</summary>
public sealed class TranslationTests
{
    [Theory]
    [InlineData("http.server.duration", "s", "Histogram", "http_server_duration_seconds")]
    [InlineData("system.network.io", "By", "Counter", "system_network_io_bytes_total")]
    [InlineData("inference.requests", "{request}", "Counter", "inference_requests_total")]
    [InlineData("requests_total", "1", "Counter", "requests_total")]
    [InlineData("total.requests", "", "Counter", "requests_total")]
    [InlineData("cpu.utilization", "1", "Gauge", "cpu_utilization_ratio")]
    [InlineData("cache.hit.ratio", "1", "Gauge", "cache_hit_ratio")]
    [InlineData("throughput", "By/s", "Gauge", "throughput_bytes_per_second")]
    [InlineData("tokens", "{token}/s", "Gauge", "tokens_per_second")]
    [InlineData("latency_seconds", "s", "Histogram", "latency_seconds")]
    [InlineData("2xx.responses", "", "Counter", "_2xx_responses_total")]
    [InlineData("vllm:num_requests_running", "", "Gauge", "vllm:num_requests_running")]
    [InlineData("foo__bar..baz", "", "Gauge", "foo_bar_baz")]
    [InlineData("gpu.temperature", "Cel", "Gauge", "gpu_temperature_celsius")]
    [InlineData("gpu.memory.used", "MiBy", "Gauge", "gpu_memory_used_mebibytes")]
    [InlineData("disk.usage", "%", "Gauge", "disk_usage_percent")]
    [InlineData("queue.wait", "ms", "Summary", "queue_wait_milliseconds")]
    [InlineData("odd.unit", "m/s²", "Gauge", "odd_unit_meters_per_s")]
    public void Metric_names_with_suffixes(string name, string unit, string type, string expected) =>
        Assert.Equal(expected, new PrometheusNaming("", TranslationStrategy.UnderscoreEscapingWithSuffixes).MetricName(new Metric { Name = name, Unit = unit }, Enum.Parse<PromType>(type)));

    [Theory]
    [InlineData(TranslationStrategy.UnderscoreEscapingWithSuffixes, "ai_http_server_duration_seconds")]
    [InlineData(TranslationStrategy.UnderscoreEscapingWithoutSuffixes, "ai_http_server_duration")]
    [InlineData(TranslationStrategy.NoUtf8EscapingWithSuffixes, "ai_http.server.duration_seconds")]
    [InlineData(TranslationStrategy.NoTranslation, "ai_http.server.duration")]
    public void Strategies_and_namespace(TranslationStrategy strategy, string expected) =>
        Assert.Equal(expected, new PrometheusNaming("ai", strategy).MetricName(new Metric { Name = "http.server.duration", Unit = "s" }, PromType.Histogram));

    [Fact]
    public void Add_metric_suffixes_false_means_escaping_without_suffixes_unless_a_strategy_is_set()
    {
        var counter = new Metric { Name = "inference.requests", Unit = "{request}" };
        Assert.Equal("inference_requests", PrometheusNaming.For("", null, addMetricSuffixes: false).MetricName(counter, PromType.Counter));
        Assert.Equal("inference_requests_total", PrometheusNaming.For("", TranslationStrategy.UnderscoreEscapingWithSuffixes, addMetricSuffixes: false).MetricName(counter, PromType.Counter));
    }

    [Theory]
    [InlineData("http.method", "http_method")]
    [InlineData("model-id", "model_id")]
    [InlineData("2xx", "key_2xx")]
    [InlineData("_private", "key_private")]
    [InlineData("__reserved", "__reserved")]
    [InlineData("gen_ai.request.model", "gen_ai_request_model")]
    [InlineData("ünïcode", "key_n_code")]
    public void Label_names(string key, string expected) => Assert.Equal(expected, PrometheusNaming.EscapeLabel(key));

    [Fact]
    public void Point_labels_job_instance_scope_collisions_and_extra_labels()
    {
        var point = new NumberDataPoint
        {
            TimeUnixNano = 2_000_000_000, AsInt = 3,
            Attributes = { Attr("model_id", "b"), Attr("model.id", "a"), Attr("job", "ignored"), Attr("cluster", "mine") },
        };
        var request = Request(Gauge("queue.depth", point), scopeName: "vllm", scopeVersion: "0.6");
        var series = Translate(request, new PromTranslation
        {
            Naming = new PrometheusNaming("", TranslationStrategy.UnderscoreEscapingWithSuffixes),
            ExtraLabels = new Dictionary<string, string> { ["cluster"] = "theirs", ["region"] = "eu" },
        });

        var gauge = Assert.Single(series, s => s.Family.Name == "queue_depth");
        Assert.Equal(
            [("cluster", "mine"), ("instance", "pod-1"), ("job", "ai/chat"), ("model_id", "a;b"), ("otel_scope_name", "vllm"), ("otel_scope_version", "0.6"), ("region", "eu")],
            gauge.Labels.Select(l => (l.Name, l.Value)));
        Assert.Equal(3, gauge.Value);

        // target_info: job/instance plus the other resource attributes, escaped; no scope labels, no extra labels.
        var info = Assert.Single(series, s => s.Family.Name == "target_info");
        Assert.Equal([("host_name", "node-1"), ("instance", "pod-1"), ("job", "ai/chat")], info.Labels.Select(l => (l.Name, l.Value)));
        Assert.Equal(1, info.Value);
        Assert.Equal(2_000_000_000, info.TimeUnixNano);
    }

    [Fact]
    public void Resource_attributes_become_labels_when_asked_and_point_attributes_win()
    {
        var point = new NumberDataPoint { TimeUnixNano = 1, AsDouble = 1, Attributes = { Attr("host.name", "from-point") } };
        var series = Translate(Request(Gauge("up.ness", point)), new PromTranslation
        {
            Naming = new PrometheusNaming("", TranslationStrategy.UnderscoreEscapingWithSuffixes),
            ResourceAttributes = ResourceAttributeSelector.All(excludeServiceAttributes: true),
            ScopeLabels = false,
            TargetInfo = false,
        });
        var gauge = Assert.Single(series);
        Assert.Equal([("host_name", "from-point"), ("instance", "pod-1"), ("job", "ai/chat")], gauge.Labels.Select(l => (l.Name, l.Value)));
    }

    [Fact]
    public void Types_sums_histograms_exponential_histograms_and_summaries()
    {
        var metrics = new[]
        {
            new Metric { Name = "requests", Sum = new Sum { IsMonotonic = true, AggregationTemporality = AggregationTemporality.Cumulative, DataPoints = { new NumberDataPoint { TimeUnixNano = 5, AsInt = 9 } } } },
            new Metric { Name = "in.flight", Sum = new Sum { IsMonotonic = false, AggregationTemporality = AggregationTemporality.Cumulative, DataPoints = { new NumberDataPoint { TimeUnixNano = 5, AsInt = 2 } } } },
            new Metric { Name = "bad", Sum = new Sum { IsMonotonic = true, DataPoints = { new NumberDataPoint { TimeUnixNano = 5, AsInt = 1 } } } },
            new Metric { Name = "lat", Unit = "s", ExponentialHistogram = new ExponentialHistogram
            {
                AggregationTemporality = AggregationTemporality.Cumulative,
                DataPoints = { new ExponentialHistogramDataPoint
                {
                    TimeUnixNano = 5, Scale = 0, Count = 6, Sum = 7, ZeroCount = 1,
                    Positive = new ExponentialHistogramDataPoint.Types.Buckets { Offset = -1, BucketCounts = { 2, 1 } },
                    Negative = new ExponentialHistogramDataPoint.Types.Buckets { Offset = 0, BucketCounts = { 1, 1 } },
                } },
            } },
            new Metric { Name = "ttft", Unit = "s", Summary = new Summary { DataPoints = { new SummaryDataPoint
            {
                TimeUnixNano = 5, Count = 4, Sum = 2, QuantileValues = { new SummaryDataPoint.Types.ValueAtQuantile { Quantile = 0.99, Value = 1.5 } },
            } } } },
        };
        var request = Request(metrics);
        var series = new List<PromSeries>();
        var skipped = new PromTranslator(Settings()).Translate(request, 0, series.Add);

        Assert.Equal(1, skipped); // unspecified temporality
        Assert.Equal(PromType.Counter, series.Single(s => s.Family.Name == "requests_total").Family.Type);
        Assert.Equal(PromType.Gauge, series.Single(s => s.Family.Name == "in_flight").Family.Type);

        // Buckets: negative (-2, -1], (-1, ...] as upper bounds -2, -1; zero bucket to 0; positive (0.5, 1], (1, 2].
        var lat = series.Single(s => s.Family.Name == "lat_seconds");
        Assert.Equal([-2, -1, 0, 1, 2], lat.Bounds);
        Assert.Equal([1UL, 1, 1, 2, 1, 0], lat.BucketCounts);
        Assert.Equal(["-2:1", "-1:2", "0:3", "1:5", "2:6", "+Inf:6", "_sum:7", "_count:6"],
            PromSamples.Of(lat).Select(s => s.Extra is { } le ? $"{le.Value}:{s.Value}" : $"{s.Suffix}:{s.Value}"));

        var ttft = series.Single(s => s.Family.Name == "ttft_seconds");
        Assert.Equal(["0.99=1.5", "_sum=2", "_count=4"], PromSamples.Of(ttft).Select(s => s.Extra is { } q ? $"{q.Value}={s.Value}" : $"{s.Suffix}={s.Value}"));
    }

    internal static PromTranslation Settings() => new() { Naming = new PrometheusNaming("", TranslationStrategy.UnderscoreEscapingWithSuffixes) };

    internal static List<PromSeries> Translate(ExportMetricsServiceRequest request, PromTranslation settings)
    {
        var series = new List<PromSeries>();
        new PromTranslator(settings).Translate(request, 0, series.Add);
        return series;
    }

    internal static Metric Gauge(string name, params NumberDataPoint[] points)
    {
        var metric = new Metric { Name = name, Gauge = new Gauge() };
        metric.Gauge.DataPoints.Add(points);
        return metric;
    }

    internal static ExportMetricsServiceRequest Request(Metric metric, string scopeName = "", string scopeVersion = "") => Request([metric], scopeName, scopeVersion);

    internal static ExportMetricsServiceRequest Request(IEnumerable<Metric> metrics, string scopeName = "", string scopeVersion = "")
    {
        var scope = new ScopeMetrics { Scope = new InstrumentationScope { Name = scopeName, Version = scopeVersion } };
        scope.Metrics.Add(metrics);
        return new ExportMetricsServiceRequest
        {
            ResourceMetrics =
            {
                new ResourceMetrics
                {
                    Resource = new Resource { Attributes = { Attr("service.name", "chat"), Attr("service.namespace", "ai"), Attr("service.instance.id", "pod-1"), Attr("host.name", "node-1") } },
                    ScopeMetrics = { scope },
                },
            },
        };
    }
}
