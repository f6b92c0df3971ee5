using System.Net;
using OtelAi.Engine.Components;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Settings;
using OtelAi.Exporters.Prometheus;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.TestSupport;
using static OtelAi.Prometheus.Tests.TranslationTests;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Prometheus.Tests;

/// <summary>The prometheus exporter as a scraper sees it: the exposition text, content negotiation, expiry on a timer, the series cap.</summary>
public sealed class PrometheusExporterTests
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(10) };

    private static async Task<(PrometheusExporter Exporter, ComponentCreateSettings Settings)> StartAsync(PrometheusExporterConfig config, TimeProvider? time = null)
    {
        var settings = TestSettings.For(new ComponentId("prometheus"), ComponentKind.Exporter);
        var exporter = new PrometheusExporter(settings, config with { Server = new HttpServerSettings { Endpoint = "127.0.0.1:0" } }, time);
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        return (exporter, settings);
    }

    private static async Task<(string Body, string ContentType)> ScrapeAsync(PrometheusExporter exporter, string? accept = null, string path = "/metrics")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://127.0.0.1:{exporter.Port}{path}");
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        using var response = await Http.SendAsync(request);
        if (response.StatusCode != HttpStatusCode.OK) return ($"HTTP {(int)response.StatusCode}", "");
        return (await response.Content.ReadAsStringAsync(), response.Content.Headers.ContentType!.ToString());
    }

    private static ExportMetricsServiceRequest InferenceRequest() => Request(
    [
        new Metric
        {
            Name = "inference.requests", Unit = "{request}", Description = "Requests served\nby model",
            Sum = new Sum
            {
                IsMonotonic = true, AggregationTemporality = AggregationTemporality.Cumulative,
                DataPoints =
                {
                    new NumberDataPoint
                    {
                        StartTimeUnixNano = 1_700_000_000_000_000_000, TimeUnixNano = 1_700_000_060_000_000_000, AsInt = 42,
                        Attributes = { Attr("model_id", "llama \"3\"") },
                        Exemplars = { new Exemplar { AsInt = 1, TimeUnixNano = 1_700_000_030_000_000_000, TraceId = Google.Protobuf.ByteString.CopyFrom(Enumerable.Range(1, 16).Select(i => (byte)i).ToArray()), SpanId = Google.Protobuf.ByteString.CopyFrom(Enumerable.Range(1, 8).Select(i => (byte)i).ToArray()) } },
                    },
                },
            },
        },
        new Metric
        {
            Name = "inference.duration", Unit = "s",
            Histogram = new Histogram
            {
                AggregationTemporality = AggregationTemporality.Cumulative,
                DataPoints = { new HistogramDataPoint { StartTimeUnixNano = 1_700_000_000_000_000_000, TimeUnixNano = 1_700_000_060_000_000_000, Count = 3, Sum = 2.75, ExplicitBounds = { 0.5, 1 }, BucketCounts = { 2, 0, 1 } } },
            },
        },
    ], scopeName: "inference", scopeVersion: "1.2");

    [Fact]
    public async Task Exposition_text_is_exactly_the_classic_format()
    {
        var (exporter, _) = await StartAsync(new PrometheusExporterConfig { ConstLabels = new() { ["cluster"] = "eu-1" }, SendTimestamps = true });
        try
        {
            await exporter.ConsumeAsync(InferenceRequest(), CancellationToken.None);
            var (body, contentType) = await ScrapeAsync(exporter, accept: "application/openmetrics-text; version=1.0.0"); // not enabled: classic text
            Assert.Equal("text/plain; version=0.0.4; charset=utf-8", contentType);
            const string labels = "cluster=\"eu-1\",instance=\"pod-1\",job=\"ai/chat\",otel_scope_name=\"inference\",otel_scope_version=\"1.2\"";
            Assert.Equal($$"""
                # TYPE inference_duration_seconds histogram
                inference_duration_seconds_bucket{{{labels}},le="0.5"} 2 1700000060000
                inference_duration_seconds_bucket{{{labels}},le="1"} 2 1700000060000
                inference_duration_seconds_bucket{{{labels}},le="+Inf"} 3 1700000060000
                inference_duration_seconds_sum{{{labels}}} 2.75 1700000060000
                inference_duration_seconds_count{{{labels}}} 3 1700000060000
                # HELP inference_requests_total Requests served\nby model
                # TYPE inference_requests_total counter
                inference_requests_total{cluster="eu-1",instance="pod-1",job="ai/chat",model_id="llama \"3\"",otel_scope_name="inference",otel_scope_version="1.2"} 42 1700000060000
                # HELP target_info Target metadata
                # TYPE target_info gauge
                target_info{host_name="node-1",instance="pod-1",job="ai/chat"} 1 1700000060000

                """.Replace("\r", ""), body);
        }
        finally
        {
            await exporter.ShutdownAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task OpenMetrics_when_enabled_and_asked_for_with_exemplars_created_and_eof()
    {
        var (exporter, _) = await StartAsync(new PrometheusExporterConfig { EnableOpenMetrics = true, WithoutScopeInfo = true });
        try
        {
            await exporter.ConsumeAsync(InferenceRequest(), CancellationToken.None);
            var (plain, plainType) = await ScrapeAsync(exporter, accept: "text/plain");
            Assert.StartsWith("text/plain; version=0.0.4", plainType);
            Assert.DoesNotContain("# EOF", plain);

            var (body, contentType) = await ScrapeAsync(exporter, accept: "application/openmetrics-text;version=1.0.0,text/plain;q=0.5");
            Assert.Equal("application/openmetrics-text; version=1.0.0; charset=utf-8", contentType);
            Assert.Contains("# TYPE inference_requests counter\n", body);
            Assert.Contains("inference_requests_total{instance=\"pod-1\",job=\"ai/chat\",model_id=\"llama \\\"3\\\"\"} 42 # {trace_id=\"0102030405060708090a0b0c0d0e0f10\",span_id=\"0102030405060708\"} 1 1700000030.000\n", body);
            Assert.Contains("inference_requests_created{instance=\"pod-1\",job=\"ai/chat\",model_id=\"llama \\\"3\\\"\"} 1700000000\n", body);
            Assert.Contains("# TYPE target info\ntarget_info{host_name=\"node-1\",instance=\"pod-1\",job=\"ai/chat\"} 1\n", body);
            Assert.EndsWith("# EOF\n", body);
            Assert.Equal("HTTP 404", (await ScrapeAsync(exporter, path: "/other")).Body);
        }
        finally
        {
            await exporter.ShutdownAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Series_expire_on_the_timer_without_anyone_scraping()
    {
        var time = new ManualTime();
        var (exporter, settings) = await StartAsync(new PrometheusExporterConfig { MetricExpiration = TimeSpan.FromSeconds(1) }, time);
        try
        {
            await exporter.ConsumeAsync(InferenceRequest(), CancellationToken.None);
            Assert.Equal(3, settings.Metrics.Read("otelai_exporter_prometheus_series", ("exporter", "prometheus")));
            time.Advance(TimeSpan.FromSeconds(2));
            var deadline = DateTime.UtcNow.AddSeconds(10);
            while (settings.Metrics.Read("otelai_exporter_prometheus_series", ("exporter", "prometheus")) != 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
            Assert.Equal(0, settings.Metrics.Read("otelai_exporter_prometheus_series", ("exporter", "prometheus")));
            Assert.Equal(3, settings.Metrics.Read("otelai_exporter_prometheus_expired_series", ("exporter", "prometheus")));
            Assert.Equal("", (await ScrapeAsync(exporter)).Body);
        }
        finally
        {
            await exporter.ShutdownAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Max_series_caps_a_label_explosion_and_counts_what_it_refused()
    {
        var (exporter, settings) = await StartAsync(new PrometheusExporterConfig { MaxSeries = 10, SendingQueue = new QueueConfig { Enabled = false } });
        try
        {
            var points = Enumerable.Range(0, 25).Select(i => new NumberDataPoint { TimeUnixNano = 1, AsInt = i, Attributes = { Attr("request_id", $"r{i}") } }).ToArray();
            await exporter.ConsumeAsync(Request(Gauge("queue.depth", points)), CancellationToken.None);

            var body = (await ScrapeAsync(exporter)).Body;
            Assert.Equal(10, body.Split('\n').Count(line => line.StartsWith("queue_depth{", StringComparison.Ordinal) || line.StartsWith("target_info{", StringComparison.Ordinal)));
            // 25 points, 10 stored; target_info, last, found no room either but is not a data point of the request.
            Assert.Equal(15, settings.Metrics.Read("otelai_exporter_prometheus_refused_metric_points", ("exporter", "prometheus"), ("reason", "max_series")));
            Assert.Equal(15, settings.Metrics.Read("otelcol_exporter_send_failed_metric_points", ("exporter", "prometheus")));
        }
        finally
        {
            await exporter.ShutdownAsync(CancellationToken.None);
        }
    }
}
