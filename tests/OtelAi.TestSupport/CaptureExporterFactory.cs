using Google.Protobuf;
using OtelAi.Engine;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Exporters;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Processors;
using OtelAi.Receivers;

namespace OtelAi.TestSupport;

/// <summary>An exporter type for tests: every payload of every signal lands in the sinks of its factory.</summary>
/// <param name="keep">False: the sinks count items and forget them (benchmarks).</param>
public sealed class CaptureExporterFactory(string type = "capture", bool keep = true) : IExporterFactory
{
    public Sink<ExportTraceServiceRequest> Traces { get; } = new(keep);
    public Sink<ExportMetricsServiceRequest> Metrics { get; } = new(keep);
    public Sink<ExportLogsServiceRequest> Logs { get; } = new(keep);

    /// <summary>Every built-in component plus this one.</summary>
    public ComponentRegistry WithBuiltins() => new ComponentRegistry().AddEngineComponents().AddReceivers().AddProcessors().AddExporters().Add(this);

    /// <summary>
    /// A started collector that receives OTLP/gRPC on <paramref name="port"/> (loopback) and captures the given signals
    /// (traces, metrics, logs) in this factory's sinks: the backend an exporter under test sends to.
    /// </summary>
    public async Task<Collector> StartOtlpBackendAsync(int port, params string[] signals)
    {
        var pipelines = string.Concat(signals.Select(signal => $"""

                {signal}:
                  receivers: [otlp]
                  exporters: [{type}]
            """));
        var backend = Collector.FromYaml($"""
            receivers:
              otlp:
                protocols:
                  grpc:
                    endpoint: "127.0.0.1:{port}"
            exporters:
              {type}:
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:{pipelines}
            """, WithBuiltins(), new CollectorOptions { LoggerFactory = Microsoft.Extensions.Logging.Abstractions.NullLoggerFactory.Instance });
        await backend.StartAsync();
        return backend;
    }

    public string Type => type;
    public ComponentKind Kind => ComponentKind.Exporter;
    public Type ConfigType => typeof(EmptyConfig);
    public ComponentConfig CreateDefaultConfig() => new EmptyConfig();
    public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Development,
        [Signal.Metrics] = StabilityLevel.Development,
        [Signal.Logs] = StabilityLevel.Development,
    };

    public IExporter<T> CreateExporter<T>(ComponentCreateSettings settings, ComponentConfig config) where T : class, IMessage<T>, new() =>
        (IExporter<T>)(object)(OtlpSignal<T>.Instance.Signal switch
        {
            Signal.Traces => new Exporter<ExportTraceServiceRequest>(Traces),
            Signal.Metrics => new Exporter<ExportMetricsServiceRequest>(Metrics),
            _ => new Exporter<ExportLogsServiceRequest>(Logs),
        });

    private sealed class Exporter<T>(Sink<T> sink) : IExporter<T> where T : class, Google.Protobuf.IMessage<T>, new()
    {
        public ConsumerCapabilities Capabilities => sink.Capabilities;
        public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;
        public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;
        public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken) => sink.ConsumeAsync(data, cancellationToken);
    }
}
