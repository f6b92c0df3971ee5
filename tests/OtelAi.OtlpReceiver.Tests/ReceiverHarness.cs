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

/// <summary>Remembers what reached the pipeline (and who sent it); can be told to refuse.</summary>
internal sealed class CollectingConsumer<T> : ITelemetryConsumer<T> where T : class, IMessage<T>, new()
{
    private readonly ConcurrentQueue<(T Data, ClientInfo Client)> _received = new();

    /// <summary>When set, called per request; an exception returned is thrown as the pipeline's refusal.</summary>
    public Func<T, Exception?>? Refuse { get; set; }

    public IReadOnlyList<T> Received => _received.Select(r => r.Data).ToList();

    public IReadOnlyList<ClientInfo> Clients => _received.Select(r => r.Client).ToList();

    public int ItemCount => _received.Sum(r => OtlpSignal<T>.Instance.CountItems(r.Data));

    /// <summary>When set, each request waits this long (honouring cancellation) before being accepted.</summary>
    public TimeSpan? Delay { get; set; }

    public async ValueTask ConsumeAsync(T data, CancellationToken cancellationToken)
    {
        if (Refuse?.Invoke(data) is { } error) throw error;
        if (Delay is { } delay) await Task.Delay(delay, cancellationToken);
        _received.Enqueue((data, ClientContext.Current));
    }

    /// <summary>All received payloads merged into one request, in arrival order.</summary>
    public T Merged()
    {
        var all = new T();
        foreach (var (data, _) in _received) OtlpSignal<T>.Instance.MoveAllTo(data.Clone(), all);
        return all;
    }

    public async Task WaitForItemsAsync(int items, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (ItemCount < items)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"expected {items} {typeof(T).Name} items, got {ItemCount}");
            await Task.Delay(20);
        }
    }
}

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

    public CollectingConsumer<ExportTraceServiceRequest> Traces { get; } = new();
    public CollectingConsumer<ExportMetricsServiceRequest> Metrics { get; } = new();
    public CollectingConsumer<ExportLogsServiceRequest> Logs { get; } = new();
    public ComponentCreateSettings Settings { get; }
    public int GrpcPort { get; }
    public int HttpPort { get; }
    public string GrpcUrl => $"http://127.0.0.1:{GrpcPort}";
    public string HttpUrl => $"http://127.0.0.1:{HttpPort}";

    public MetricRegistry Registry => Settings.Metrics;

    /// <summary>What the receiver logged; unexpected failures show up here as errors.</summary>
    public ListLogger Log { get; private init; } = null!;

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
        var log = new ListLogger();
        var settings = TestSettings.For(new ComponentId("otlp"), ComponentKind.Receiver) with { Logger = log };
        var harness = new ReceiverHarness(settings, grpcPort, httpPort) { Log = log };
        harness._receiver = new OtlpReceiverFactory().CreateReceiver(settings, config, new ReceiverConsumers(
            traces ? harness.Traces : null, metrics ? harness.Metrics : null, logs ? harness.Logs : null));
        await harness._receiver.StartAsync(new TestHost(), CancellationToken.None);
        return harness;
    }

    /// <summary>Value of otelcol_receiver_{accepted,refused}_{items} for this receiver and transport.</summary>
    public double Counter(string name, string transport) =>
        Registry.Read(name, ("receiver", "otlp"), ("transport", transport)) ?? 0;

    public async ValueTask DisposeAsync()
    {
        Assert.True(Log.Errors.Count == 0, string.Join("\n", Log.Errors));
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await _receiver.ShutdownAsync(cts.Token);
    }

    private sealed class TestHost : IComponentHost
    {
        public IComponent? GetExtension(ComponentId id) => null;

        public void ReportFatalError(ComponentId source, Exception error) => throw new InvalidOperationException($"{source} failed", error);
    }
}

internal sealed class ListLogger : Microsoft.Extensions.Logging.ILogger
{
    private readonly ConcurrentQueue<string> _errors = new();

    public IReadOnlyCollection<string> Errors => _errors;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(Microsoft.Extensions.Logging.LogLevel logLevel) => true;

    public void Log<TState>(Microsoft.Extensions.Logging.LogLevel logLevel, Microsoft.Extensions.Logging.EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (logLevel >= Microsoft.Extensions.Logging.LogLevel.Warning) _errors.Enqueue($"{logLevel}: {formatter(state, exception)} {exception}");
    }
}
