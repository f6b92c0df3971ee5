using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Receiver;
using OtelAi.Otlp;

namespace OtelAi.Hosting;

/// <summary>Config of the <c>inprocess</c> receiver: nothing to set; its id names it to the SDK exporters.</summary>
public sealed record InProcessReceiverConfig : ComponentConfig;

/// <summary>
/// The <c>inprocess</c> receiver: what the OpenTelemetry SDK of the same process hands over through
/// <c>AddOtelAiExporter</c> enters the pipelines that list it, as OTLP messages, without a socket or serialisation.
/// </summary>
public sealed class InProcessReceiverFactory : ReceiverFactory<InProcessReceiverConfig>
{
    public const string TypeName = "inprocess";

    public override string Type => TypeName;

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = AllSignals(StabilityLevel.Beta);

    protected override IComponent Create(ComponentCreateSettings settings, InProcessReceiverConfig config, ReceiverConsumers consumers) =>
        new InProcessReceiver(settings, consumers);
}

/// <summary>Hands SDK batches to the pipelines; counted as otelcol counts a receiver's items (transport <c>inprocess</c>).</summary>
public sealed class InProcessReceiver : IComponent
{
    private readonly ComponentCreateSettings _settings;
    private readonly ReceiverConsumers _consumers;
    private readonly ReceiverHelper _helper;
    private volatile bool _running;

    internal InProcessReceiver(ComponentCreateSettings settings, ReceiverConsumers consumers)
    {
        _settings = settings;
        _consumers = consumers;
        _helper = new ReceiverHelper(settings, "inprocess");
    }

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        _running = true;
        return Task.CompletedTask;
    }

    public Task ShutdownAsync(CancellationToken cancellationToken)
    {
        _running = false;
        return Task.CompletedTask;
    }

    /// <summary>
    /// Passes one request to the pipelines and waits for them to take it (the SDK's export thread waits, as it would
    /// for a network exporter). Returns null when taken, else why not: not running, no pipeline for the signal, or
    /// the pipeline's refusal (backpressure, a full queue), which the SDK counts as a failed export.
    /// </summary>
    internal string? Consume<T>(T request, TimeSpan timeout) where T : class, IMessage<T>, new()
    {
        var signal = OtlpSignal<T>.Instance.Signal;
        var consumer = signal switch
        {
            Signal.Traces => _consumers.Traces as ITelemetryConsumer<T>,
            Signal.Metrics => _consumers.Metrics as ITelemetryConsumer<T>,
            _ => _consumers.Logs as ITelemetryConsumer<T>,
        };
        var items = OtlpSignal<T>.Instance.CountItems(request);
        if (!_running)
        {
            _helper.Refused(signal, items);
            return $"receiver {_settings.Id} is not running";
        }
        if (consumer is null)
        {
            _helper.Refused(signal, items);
            return $"no pipeline takes {signal.ToConfigName()} from receiver {_settings.Id}";
        }
        using var deadline = new CancellationTokenSource(timeout);
        var result = _helper.ConsumeAsync(consumer, Payload<T>.FromMessage(request), client: null, deadline.Token).AsTask().GetAwaiter().GetResult();
        return result.Refusal?.Message;
    }
}
