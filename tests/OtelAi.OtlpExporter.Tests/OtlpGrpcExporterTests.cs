using OtelAi.Engine.Config;
using OtelAi.Otlp;
using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Settings;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Exporters.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.OtlpExporter.Tests;

/// <summary>The otlp (gRPC) exporter against grpc-js, a gRPC server we did not write.</summary>
public sealed class OtlpGrpcExporterTests
{
    private const string TraceService = "TraceService";
    private static readonly (string, string) Label = ("exporter", "otlp/backend");

    private static readonly RetryConfig FastRetry = new() { InitialInterval = TimeSpan.FromMilliseconds(50), MaxInterval = TimeSpan.FromMilliseconds(200), MaxElapsedTime = TimeSpan.FromSeconds(60) };

    private static OtlpExporterConfig Config(int port, Func<OtlpExporterConfig, OtlpExporterConfig>? change = null)
    {
        var config = new OtlpExporterConfig
        {
            Client = new GrpcClientSettings { Endpoint = $"127.0.0.1:{port}", Tls = new TlsClientSettings { Insecure = true } },
            RetryOnFailure = FastRetry,
            SendingQueue = new QueueConfig { Enabled = false },
        };
        config = change?.Invoke(config) ?? config;
        Assert.Empty(ConfigValidation.Validate(config));
        return config;
    }

    private static async Task<(IExporter<T> Exporter, MetricRegistry Metrics, CapturingLogger Log)> StartAsync<T>(OtlpExporterConfig config)
        where T : class, IMessage<T>, new()
    {
        var log = new CapturingLogger();
        var metrics = new MetricRegistry();
        var exporter = new OtlpExporterFactory().CreateExporter<T>(Settings.For("otlp/backend", ComponentKind.Exporter, log, metrics), config);
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        return (exporter, metrics, log);
    }

    /// <summary>The 0.34 opentelemetry-proto files predate span and link flags; everything else must arrive.</summary>
    private static ExportTraceServiceRequest WithoutFieldsUnknownToOldProtos(ExportTraceServiceRequest request)
    {
        var copy = request.Clone();
        foreach (var span in copy.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans))
        {
            span.Flags = 0;
            foreach (var link in span.Links) link.Flags = 0;
        }
        return copy;
    }

    [Theory]
    [InlineData(Compression.Gzip)]
    [InlineData(Compression.None)]
    public async Task Every_signal_arrives_intact_with_the_configured_headers(Compression compression)
    {
        await using var server = await GrpcJsServer.StartAsync();
        var config = Config(server.Port, c => c with { Client = c.Client with { Compression = compression, Headers = new() { ["X-Scope-OrgID"] = "tenant-a", ["authorization"] = "Bearer t0k3n" } } });
        var traces = SampleData.Traces(25);
        var metrics = SampleData.Metrics(30);
        var logs = SampleData.Logs(20);

        var (traceExporter, traceMetrics, _) = await StartAsync<ExportTraceServiceRequest>(config);
        var (metricExporter, metricMetrics, _) = await StartAsync<ExportMetricsServiceRequest>(config);
        var (logExporter, logMetrics, _) = await StartAsync<ExportLogsServiceRequest>(config);
        await traceExporter.ConsumeAsync(traces.Clone(), CancellationToken.None);
        await metricExporter.ConsumeAsync(metrics.Clone(), CancellationToken.None);
        await logExporter.ConsumeAsync(logs.Clone(), CancellationToken.None);

        await Poll.UntilAsync(() => server.Calls.Count == 3, "three calls at the grpc-js server");
        Assert.Equal(WithoutFieldsUnknownToOldProtos(traces), Assert.Single(server.Requests<ExportTraceServiceRequest>(TraceService)));
        Assert.Equal(metrics, Assert.Single(server.Requests<ExportMetricsServiceRequest>("MetricsService")));
        Assert.Equal(logs, Assert.Single(server.Requests<ExportLogsServiceRequest>("LogsService")));
        var call = server.Calls.First();
        Assert.Equal("tenant-a", call.Metadata["x-scope-orgid"]);
        Assert.Equal("Bearer t0k3n", call.Metadata["authorization"]);
        Assert.StartsWith("otelai/", call.Metadata["user-agent"]);
        Assert.Equal(25, traceMetrics.Read("otelcol_exporter_sent_spans", Label));
        Assert.Equal(30, metricMetrics.Read("otelcol_exporter_sent_metric_points", Label));
        Assert.Equal(20, logMetrics.Read("otelcol_exporter_sent_log_records", Label));
        foreach (var exporter in new IComponent[] { traceExporter, metricExporter, logExporter }) await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Unavailable_with_RetryInfo_is_retried_after_the_servers_delay()
    {
        await using var server = await GrpcJsServer.StartAsync(null, "--fail=14:2:700");
        var (exporter, metrics, log) = await StartAsync<ExportTraceServiceRequest>(Config(server.Port));
        var clock = Stopwatch.StartNew();

        await exporter.ConsumeAsync(SampleData.Traces(5), CancellationToken.None);

        await Poll.UntilAsync(() => server.Calls.Count >= 3, "the server's report of three calls");
        Assert.Equal([14, 14, 0], server.Calls.Select(c => c.Status));
        // Two server-requested waits of 700 ms, far above our 50 ms backoff.
        Assert.True(clock.Elapsed >= TimeSpan.FromMilliseconds(1400), $"took only {clock.Elapsed}");
        Assert.Equal(5, metrics.Read("otelcol_exporter_sent_spans", Label));
        // grpc-js percent-encodes the non-ASCII dash in grpc-message; we decode it.
        Assert.True(log.Contains(LogLevel.Information, "test failure 14 – retry later"));
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Invalid_argument_is_dropped_counted_and_not_retried()
    {
        await using var server = await GrpcJsServer.StartAsync(null, "--fail=3:5");
        var (exporter, metrics, log) = await StartAsync<ExportTraceServiceRequest>(Config(server.Port));

        var error = await Assert.ThrowsAsync<PermanentDataException>(() => exporter.ConsumeAsync(SampleData.Traces(4), CancellationToken.None).AsTask());

        Assert.Contains("InvalidArgument", error.Message);
        await Poll.UntilAsync(() => !server.Calls.IsEmpty, "the server's report of the call");
        Assert.Single(server.Calls);
        Assert.Equal(4, metrics.Read("otelcol_exporter_send_failed_spans", Label));
        Assert.True(log.Contains(LogLevel.Error, "test failure 3"));
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Resource_exhausted_is_retryable_only_with_RetryInfo()
    {
        await using (var server = await GrpcJsServer.StartAsync(null, "--fail=8:5"))
        {
            var (exporter, _, _) = await StartAsync<ExportTraceServiceRequest>(Config(server.Port));
            await Assert.ThrowsAsync<PermanentDataException>(() => exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None).AsTask());
            await Poll.UntilAsync(() => !server.Calls.IsEmpty, "the server's report of the call");
            Assert.Single(server.Calls);
            await exporter.ShutdownAsync(CancellationToken.None);
        }
        await using (var server = await GrpcJsServer.StartAsync(null, "--fail=8:1:100"))
        {
            var (exporter, metrics, _) = await StartAsync<ExportTraceServiceRequest>(Config(server.Port));
            await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None);
            await Poll.UntilAsync(() => server.Calls.Count >= 2, "the server's report of two calls");
            Assert.Equal([8, 0], server.Calls.Select(c => c.Status));
            Assert.Equal(1, metrics.Read("otelcol_exporter_sent_spans", Label));
            await exporter.ShutdownAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task Partial_success_from_the_server_is_logged_and_counted()
    {
        await using var server = await GrpcJsServer.StartAsync(null, "--partial=3:3 spans lacked a trace id");
        var (exporter, metrics, log) = await StartAsync<ExportTraceServiceRequest>(Config(server.Port));

        await exporter.ConsumeAsync(SampleData.Traces(10), CancellationToken.None);

        Assert.Equal(7, metrics.Read("otelcol_exporter_sent_spans", Label));
        Assert.Equal(3, metrics.Read("otelcol_exporter_send_failed_spans", Label));
        Assert.True(log.Contains(LogLevel.Warning, "3 spans lacked a trace id"));
        await Poll.UntilAsync(() => !server.Calls.IsEmpty, "the server's report of the call");
        Assert.Single(server.Calls);
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Backend_down_then_up_loses_nothing()
    {
        var port = TestPorts.GetFree();
        var config = Config(port, c => c with { SendingQueue = new QueueConfig { NumConsumers = 4, QueueSize = 100 } });
        var (exporter, metrics, log) = await StartAsync<ExportTraceServiceRequest>(config);
        var sent = Enumerable.Range(0, 20).Select(i => SampleData.Traces(5, seed: 100 + i)).ToList();
        foreach (var request in sent) await exporter.ConsumeAsync(request.Clone(), CancellationToken.None);
        await Poll.UntilAsync(() => log.Contains(LogLevel.Information, "retrying in"), "failed attempts while the backend is down");

        await using var server = await GrpcJsServer.StartAsync(port);

        await Poll.UntilAsync(() => metrics.Read("otelcol_exporter_sent_spans", Label) == 100, "all 100 spans to be delivered");
        var received = server.Requests<ExportTraceServiceRequest>(TraceService).Select(r => r.ResourceSpans[0].ScopeSpans[0].Spans[0].SpanId).ToHashSet();
        Assert.Equal(sent.Select(r => r.ResourceSpans[0].ScopeSpans[0].Spans[0].SpanId).ToHashSet(), received);
        Assert.Equal(0, metrics.Read("otelcol_exporter_send_failed_spans", Label));
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Slow_backend_fills_the_queue_and_the_exporter_pushes_back()
    {
        await using var server = await GrpcJsServer.StartAsync(null, "--delay=2000");
        var config = Config(server.Port, c => c with { SendingQueue = new QueueConfig { NumConsumers = 1, QueueSize = 3 } });
        var (exporter, metrics, _) = await StartAsync<ExportTraceServiceRequest>(config);

        var (accepted, refused) = await Flood.UntilRefusedAsync(exporter, 10, 2);

        Assert.NotNull(refused);
        Assert.Equal(3, accepted); // a queue of 3 requests, the one being sent included (as otelcol counts it)
        Assert.Equal(2, metrics.Read("otelcol_exporter_enqueue_failed_spans", Label));
        await Poll.UntilAsync(() => metrics.Read("otelcol_exporter_sent_spans", Label) == accepted * 2, "the accepted requests to be delivered", TimeSpan.FromSeconds(60));
        await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public void Endpoint_forms_and_bad_config_are_reported()
    {
        Assert.True(GrpcEndpoint.TryParse("tempo:4317", insecure: false, out var tls, out _));
        Assert.Equal("https://tempo:4317/", tls.BaseUri.ToString());
        Assert.True(GrpcEndpoint.TryParse("http://jaeger:4317", insecure: false, out var plain, out _));
        Assert.False(plain.UseTls);
        Assert.True(GrpcEndpoint.TryParse("dns:///collector:4317", insecure: true, out var dns, out _));
        Assert.Equal("http://collector:4317/", dns.BaseUri.ToString());
        Assert.False(GrpcEndpoint.TryParse("collector", insecure: true, out _, out var error));
        Assert.Contains("no port", error);

        var errors = Assert.Throws<ConfigException>(() => ConfigLoader.Bind<OtlpExporterConfig>("compression: deflate\nbalancer_name: magic\ntls: {cert_file: /nope.pem}"))
            .Issues.Select(e => e.KeyPath).ToList();
        Assert.Contains("endpoint", errors);
        Assert.Contains("compression", errors);
        Assert.Contains("balancer_name", errors);
        Assert.Contains("tls", errors);
        Assert.Contains("tls.cert_file", errors);
    }
}
