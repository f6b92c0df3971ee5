using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Processors.Common;

namespace OtelAi.Processors.MemoryLimiter;

/// <summary>
/// One <see cref="SharedMemoryLimiter"/> per processor id in a collector, shared by every pipeline that lists it
/// (as in otelcol) and owned by that collector. <see cref="Probe"/> is what a memory_limiter created by this factory
/// measures; tests swap it.
/// </summary>
public sealed class MemoryLimiterProcessorFactory(IMemoryProbe? probe = null) : ProcessorFactory<MemoryLimiterConfig>
{
    public IMemoryProbe Probe { get; } = probe ?? GcHeapProbe.Instance;

    public override string Type => "memory_limiter";

    protected override IEnumerable<SelfMetric> OwnSelfMetrics => Stability.Keys.Select(RefusedMetric);

    internal static SelfMetric RefusedMetric(Signal signal) => SelfMetric.ForSignal(signal, SelfMetricKind.Counter,
        "otelcol_processor_refused_{items}", "Number of {items} that were rejected by the next component in the pipeline.", "processor");

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Beta,
        [Signal.Metrics] = StabilityLevel.Beta,
        [Signal.Logs] = StabilityLevel.Beta,
    };

    protected override IProcessor<T> Create<T>(ComponentCreateSettings settings, MemoryLimiterConfig config, ITelemetryConsumer<T> next)
    {
        var limiter = settings.Shared.GetOrAdd(settings.Id, () => new SharedMemoryLimiter(config, Probe, settings.Logger));
        return new MemoryLimiterProcessor<T>(settings, limiter, next);
    }
}

/// <summary>Refuses data with a retryable resource-exhausted error while the shared limiter says so.</summary>
public sealed class MemoryLimiterProcessor<T> : IProcessor<T> where T : class, IMessage<T>, new()
{
    private static readonly OtlpSignal<T> Ops = OtlpSignal<T>.Instance;

    private readonly SharedMemoryLimiter _limiter;
    private readonly ITelemetryConsumer<T> _next;
    private readonly Counter _refused;
    private readonly TimeSpan _retryAfter;
    private readonly ComponentStatusReporter _status;

    public MemoryLimiterProcessor(ComponentCreateSettings settings, SharedMemoryLimiter limiter, ITelemetryConsumer<T> next)
    {
        _limiter = limiter;
        _next = next;
        _refused = settings.Metrics.Counter(MemoryLimiterProcessorFactory.RefusedMetric(Ops.Signal), ("processor", settings.Id.ToString()));
        _retryAfter = TimeSpan.FromSeconds(1);
        _status = new ComponentStatusReporter(settings.Kind, settings.Id);
    }

    public SharedMemoryLimiter Limiter => _limiter;

    public ConsumerCapabilities Capabilities => _next.Capabilities;

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        _status.Attach(host);
        _limiter.RefusalChanged += ReportRefusal;
        _limiter.Acquire();
        return Task.CompletedTask;
    }

    public Task ShutdownAsync(CancellationToken cancellationToken)
    {
        _limiter.RefusalChanged -= ReportRefusal;
        return _limiter.ReleaseAsync().WaitAsync(cancellationToken);
    }

    private void ReportRefusal(string? reason) =>
        _status.Report(reason is null ? ComponentStatus.Ok : ComponentStatus.RecoverableError, reason);

    public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        if (!_limiter.MustRefuse) return _next.ConsumeAsync(data, cancellationToken);
        _refused.Add(data.ItemCount);
        throw new RetryableDataException("data refused due to high memory usage", _retryAfter, resourceExhausted: true);
    }
}
