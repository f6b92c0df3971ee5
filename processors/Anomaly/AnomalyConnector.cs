using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;

namespace OtelAi.Processors.Anomaly;

/// <summary>otelai's <c>anomaly</c> connector: traces and/or metrics in, alert log records and alert gauges out.</summary>
public sealed class AnomalyConnectorFactory : ConnectorFactory<AnomalyConfig>
{
    internal static readonly SelfMetric DroppedValues = SelfMetric.Counter("otelai_connector_anomaly_dropped_values",
        "Values not aggregated because their series already had max_groups groups.", "connector");

    internal static readonly SelfMetric Transitions = SelfMetric.Counter("otelai_connector_anomaly_alert_transitions",
        "Alert state changes (pending, firing, resolved).", "connector");

    public override string Type => "anomaly";

    public override IReadOnlyDictionary<(Signal From, Signal To), StabilityLevel> SupportedRoutes { get; } = new Dictionary<(Signal, Signal), StabilityLevel>
    {
        [(Signal.Traces, Signal.Logs)] = StabilityLevel.Development,
        [(Signal.Traces, Signal.Metrics)] = StabilityLevel.Development,
        [(Signal.Metrics, Signal.Logs)] = StabilityLevel.Development,
        [(Signal.Metrics, Signal.Metrics)] = StabilityLevel.Development,
    };

    protected override IEnumerable<SelfMetric> OwnSelfMetrics => [DroppedValues, Transitions];

    protected override IExporter<TIn> Create<TIn, TOut>(ComponentCreateSettings settings, AnomalyConfig config, ITelemetryConsumer<TOut> next)
    {
        // One engine per connector id: every (input, output) instance of the id shares its windows and alert states.
        var engine = settings.Shared.GetOrAdd(settings.Id, () => new AnomalyEngine(settings, config));
        engine.AddOutput(next);
        return new AnomalyConnector<TIn>(engine, settings.Id, engine.ClaimInput(OtlpSignal<TIn>.Instance.Signal));
    }
}

/// <summary>One (input, output) instance: it feeds the shared engine when it is the first of its input signal.</summary>
internal sealed class AnomalyConnector<T>(AnomalyEngine engine, ComponentId id, bool feeds) : IExporter<T>, ILiveStatus where T : class, IMessage<T>, new()
{
    public LivePanel LiveStatus() => engine.LiveStatus();

    private volatile bool _stopped;

    /// <summary>Reads values during the call and keeps aggregates only.</summary>
    public ConsumerCapabilities Capabilities => feeds ? ConsumerCapabilities.ReadOnly : ConsumerCapabilities.ReadOnly with { ReadsContent = false };

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => engine.StartAsync(host, cancellationToken);

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (_stopped) return;
        _stopped = true;
        await engine.StopAsync();
    }

    public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        if (_stopped) throw new RetryableDataException($"connector {id} is shut down");
        if (!feeds) return ValueTask.CompletedTask;
        switch (data.Message)
        {
            case ExportTraceServiceRequest traces: engine.Observe(traces); break;
            case ExportMetricsServiceRequest metrics: engine.Observe(metrics); break;
        }
        return ValueTask.CompletedTask;
    }
}
