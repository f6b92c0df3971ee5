using OtelAi.Engine.Settings;
using OtelAi.Otlp;
using System.Collections.Concurrent;
using System.Diagnostics;
using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Exporters.Otlp;
using OtelAi.Exporters.OtlpHttp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Receivers.Otlp;
using OtelAi.TestSupport;

namespace OtelAi.OtlpExporter.Tests;

/// <summary>Our exporters against our own otlp receiver: the gateway hop (otlp in → otlp out) end to end.</summary>
public sealed class OwnReceiverTests
{
    private sealed record Receiver(IComponent Component, int GrpcPort, int HttpPort,
        Sink<ExportTraceServiceRequest> Traces, Sink<ExportMetricsServiceRequest> Metrics, Sink<ExportLogsServiceRequest> Logs) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await Component.ShutdownAsync(CancellationToken.None);
    }

    private static async Task<Receiver> StartReceiverAsync(params Exception?[] traceRefusals)
    {
        var grpcPort = TestPorts.GetFree();
        var httpPort = TestPorts.GetFree();
        var config = new OtlpReceiverConfig
        {
            Protocols = new OtlpProtocolsConfig
            {
                Grpc = new OtlpGrpcConfig { Server = new() { Endpoint = $"127.0.0.1:{grpcPort}", IncludeMetadata = true } },
                Http = new OtlpHttpConfig { Server = new() { Endpoint = $"127.0.0.1:{httpPort}", IncludeMetadata = true } },
            },
        };
        var traces = new Sink<ExportTraceServiceRequest>().RefuseInTurn(traceRefusals);
        var metrics = new Sink<ExportMetricsServiceRequest>();
        var logs = new Sink<ExportLogsServiceRequest>();
        var receiver = new OtlpReceiverFactory().CreateReceiver(Settings.For("otlp", ComponentKind.Receiver, ReceiverLog), config,
            new ReceiverConsumers(traces, metrics, logs));
        await receiver.StartAsync(new TestHost(), CancellationToken.None);
        return new Receiver(receiver, grpcPort, httpPort, traces, metrics, logs);
    }

    private static async Task<(IExporter<T> Exporter, MetricRegistry Metrics)> StartAsync<T>(IExporterFactory factory, ComponentConfig config, string id)
        where T : class, IMessage<T>, new()
    {
        Assert.Empty(ConfigValidation.Validate(config));
        var metrics = new MetricRegistry();
        var exporter = factory.CreateExporter<T>(Settings.For(id, ComponentKind.Exporter, new CapturingLogger(), metrics), config);
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        return (exporter, metrics);
    }

    private static readonly CapturingLogger ReceiverLog = new();

    private static readonly RetryConfig FastRetry = new() { InitialInterval = TimeSpan.FromMilliseconds(50), MaxInterval = TimeSpan.FromMilliseconds(200) };

    [Fact]
    public async Task Grpc_exporter_to_our_receiver_delivers_every_field_of_every_signal()
    {
        await using var receiver = await StartReceiverAsync();
        var config = new OtlpExporterConfig
        {
            Client = new GrpcClientSettings { Endpoint = $"http://127.0.0.1:{receiver.GrpcPort}", Headers = new() { ["X-Scope-OrgID"] = "tenant-c" } },
            SendingQueue = new QueueConfig { Enabled = false },
        };
        var traces = SampleData.Traces(40);
        var metrics = SampleData.Metrics(30);
        var logs = SampleData.Logs(25);
        var (te, _) = await StartAsync<ExportTraceServiceRequest>(new OtlpExporterFactory(), config, "otlp/gw");
        var (me, _) = await StartAsync<ExportMetricsServiceRequest>(new OtlpExporterFactory(), config, "otlp/gw");
        var (le, _) = await StartAsync<ExportLogsServiceRequest>(new OtlpExporterFactory(), config, "otlp/gw");

        await te.ConsumeAsync(traces.Clone(), CancellationToken.None);
        await me.ConsumeAsync(metrics.Clone(), CancellationToken.None);
        await le.ConsumeAsync(logs.Clone(), CancellationToken.None);

        var (gotTraces, client) = Assert.Single(receiver.Traces.Received);
        var orgId = client.GetFirst("x-scope-orgid");
        Assert.Equal(traces, gotTraces); // our protos: span and link flags included
        Assert.Equal("tenant-c", orgId);
        Assert.Equal(metrics, Assert.Single(receiver.Metrics.Payloads));
        Assert.Equal(logs, Assert.Single(receiver.Logs.Payloads));
        foreach (var exporter in new IComponent[] { te, me, le }) await exporter.ShutdownAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData(OtlpHttpEncoding.Proto)]
    [InlineData(OtlpHttpEncoding.Json)]
    public async Task Http_exporter_to_our_receiver_delivers_every_field(OtlpHttpEncoding encoding)
    {
        await using var receiver = await StartReceiverAsync();
        var config = new OtlpHttpExporterConfig
        {
            Client = new HttpClientSettings { Endpoint = $"http://127.0.0.1:{receiver.HttpPort}", Headers = new() { ["X-Scope-OrgID"] = "tenant-d" } },
            Encoding = encoding,
            SendingQueue = new QueueConfig { Enabled = false },
        };
        var traces = SampleData.Traces(15);
        var logs = SampleData.Logs(9);
        var (te, _) = await StartAsync<ExportTraceServiceRequest>(new OtlpHttpExporterFactory(), config, "otlphttp/gw");
        var (le, _) = await StartAsync<ExportLogsServiceRequest>(new OtlpHttpExporterFactory(), config, "otlphttp/gw");

        await te.ConsumeAsync(traces.Clone(), CancellationToken.None);
        await le.ConsumeAsync(logs.Clone(), CancellationToken.None);

        var (gotTraces, client) = Assert.Single(receiver.Traces.Received);
        var orgId = client.GetFirst("x-scope-orgid");
        Assert.Equal(traces, gotTraces);
        Assert.Equal("tenant-d", orgId);
        Assert.Equal(logs, Assert.Single(receiver.Logs.Payloads));
        await te.ShutdownAsync(CancellationToken.None);
        await le.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Receiver_backpressure_with_a_retry_delay_is_honoured_by_both_exporters()
    {
        var refusal = new RetryableDataException("memory limit reached", TimeSpan.FromSeconds(1));
        await using var receiver = await StartReceiverAsync(refusal, null, refusal); // each exporter is refused once
        var (grpc, grpcMetrics) = await StartAsync<ExportTraceServiceRequest>(new OtlpExporterFactory(),
            new OtlpExporterConfig { Client = new GrpcClientSettings { Endpoint = $"http://127.0.0.1:{receiver.GrpcPort}" }, RetryOnFailure = FastRetry, SendingQueue = new QueueConfig { Enabled = false } }, "otlp/gw");
        var (http, httpMetrics) = await StartAsync<ExportTraceServiceRequest>(new OtlpHttpExporterFactory(),
            new OtlpHttpExporterConfig { Client = new HttpClientSettings { Endpoint = $"http://127.0.0.1:{receiver.HttpPort}" }, RetryOnFailure = FastRetry, SendingQueue = new QueueConfig { Enabled = false } }, "otlphttp/gw");

        var clock = Stopwatch.StartNew();
        await grpc.ConsumeAsync(SampleData.Traces(3), CancellationToken.None); // refused once (UNAVAILABLE + RetryInfo 1s), then accepted
        var grpcTook = clock.Elapsed;
        clock.Restart();
        await http.ConsumeAsync(SampleData.Traces(3), CancellationToken.None); // refused once (503 + Retry-After: 1), then accepted
        var httpTook = clock.Elapsed;

        Assert.Equal(2, receiver.Traces.Refusals);
        Assert.Equal(2, receiver.Traces.Received.Count);
        Assert.True(grpcTook >= TimeSpan.FromMilliseconds(950), $"gRPC retry came after {grpcTook}");
        Assert.True(httpTook >= TimeSpan.FromMilliseconds(950), $"HTTP retry came after {httpTook}");
        Assert.Equal(3, grpcMetrics.Read("otelcol_exporter_sent_spans", ("exporter", "otlp/gw")));
        Assert.Equal(3, httpMetrics.Read("otelcol_exporter_sent_spans", ("exporter", "otlphttp/gw")));
        await grpc.ShutdownAsync(CancellationToken.None);
        await http.ShutdownAsync(CancellationToken.None);
    }

    [Fact]
    public async Task Receiver_permanent_refusal_is_not_retried()
    {
        await using var receiver = await StartReceiverAsync(new PermanentDataException("tenant over quota"), new PermanentDataException("tenant over quota"));
        var (grpc, _) = await StartAsync<ExportTraceServiceRequest>(new OtlpExporterFactory(),
            new OtlpExporterConfig { Client = new GrpcClientSettings { Endpoint = $"http://127.0.0.1:{receiver.GrpcPort}" }, RetryOnFailure = FastRetry, SendingQueue = new QueueConfig { Enabled = false } }, "otlp/gw");
        var (http, _) = await StartAsync<ExportTraceServiceRequest>(new OtlpHttpExporterFactory(),
            new OtlpHttpExporterConfig { Client = new HttpClientSettings { Endpoint = $"http://127.0.0.1:{receiver.HttpPort}" }, RetryOnFailure = FastRetry, SendingQueue = new QueueConfig { Enabled = false } }, "otlphttp/gw");

        var grpcError = await Assert.ThrowsAsync<PermanentDataException>(() => grpc.ConsumeAsync(SampleData.Traces(1), CancellationToken.None).AsTask());
        var httpError = await Assert.ThrowsAsync<PermanentDataException>(() => http.ConsumeAsync(SampleData.Traces(1), CancellationToken.None).AsTask());

        Assert.Contains("tenant over quota", grpcError.Message);
        Assert.True(httpError.Message.Contains("HTTP 400"), httpError.Message + string.Join("\n", ReceiverLog.Entries));
        Assert.Contains("tenant over quota", httpError.Message);
        Assert.Equal(2, receiver.Traces.Refusals);
        await grpc.ShutdownAsync(CancellationToken.None);
        await http.ShutdownAsync(CancellationToken.None);
    }
}
