using System.Collections.Concurrent;
using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Engine.Settings;
using OtelAi.Receivers.Otlp;
using OtelAi.TestSupport;

namespace OtelAi.OtlpReceiver.Tests;

/// <summary>A started otlp receiver on free ports with collecting consumers for all three signals.</summary>
internal sealed class ReceiverHarness : IAsyncDisposable
{
    private IComponent _receiver = null!;

    private ReceiverHarness(ComponentCreateSettings settings, int grpcPort, int httpPort)
    {
        Settings = settings;
        GrpcPort = grpcPort;
        HttpPort = httpPort;
    }

    public Sink<ExportTraceServiceRequest> Traces { get; } = new();
    public Sink<ExportMetricsServiceRequest> Metrics { get; } = new();
    public Sink<ExportLogsServiceRequest> Logs { get; } = new();
    public ComponentCreateSettings Settings { get; }
    public int GrpcPort { get; }
    public int HttpPort { get; }
    public string GrpcUrl => $"http://127.0.0.1:{GrpcPort}";
    public string HttpUrl => $"http://127.0.0.1:{HttpPort}";

    public MetricRegistry Registry => Settings.Metrics;

    /// <summary>What the receiver logged; unexpected failures show up here as errors.</summary>
    public CapturingLogger Log { get; private init; } = null!;

    /// <summary>Starts a receiver; <paramref name="grpc"/>/<paramref name="http"/> adjust the protocol configs (endpoint already set to a free port).</summary>
    public static async Task<ReceiverHarness> StartAsync(
        Func<GrpcServerSettings, GrpcServerSettings?>? grpc = null,
        Func<OtlpHttpConfig, OtlpHttpConfig?>? http = null,
        bool traces = true, bool metrics = true, bool logs = true)
    {
        var grpcPort = TestPorts.GetFree();
        var httpPort = TestPorts.GetFree();
        var grpcConfig = new GrpcServerSettings { Endpoint = $"127.0.0.1:{grpcPort}" };
        var httpConfig = new OtlpHttpConfig { Server = new() { Endpoint = $"127.0.0.1:{httpPort}" } };
        var config = new OtlpReceiverConfig
        {
            Protocols = new OtlpProtocolsConfig
            {
                Grpc = (grpc is null ? grpcConfig : grpc(grpcConfig)) is { } server ? new OtlpGrpcConfig { Server = server } : null,
                Http = http is null ? httpConfig : http(httpConfig),
            },
        };
        Assert.Empty(config.Validate());
        var log = new CapturingLogger();
        var settings = TestSettings.For(new ComponentId("otlp"), ComponentKind.Receiver) with { Logger = log };
        var harness = new ReceiverHarness(settings, grpcPort, httpPort) { Log = log };
        harness._receiver = new OtlpReceiverFactory().CreateReceiver(settings, config, new ReceiverConsumers(
            traces ? harness.Traces : null, metrics ? harness.Metrics : null, logs ? harness.Logs : null));
        await harness._receiver.StartAsync(harness._host, CancellationToken.None);
        return harness;
    }

    /// <summary>Value of otelcol_receiver_{accepted,refused}_{items} for this receiver and transport.</summary>
    public double Counter(string name, string transport) =>
        Registry.Read(name, ("receiver", "otlp"), ("transport", transport)) ?? 0;

    private readonly TestHost _host = new();

    public async ValueTask DisposeAsync()
    {
        Assert.True(Log.Problems.Count == 0, string.Join("\n", Log.Problems));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _receiver.ShutdownAsync(cts.Token);
        Assert.Empty(_host.FatalErrors);
    }
}
