using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;

namespace OtelAi.Engine.Receiver;

/// <summary>What became of one hand-over to the pipeline: the items it held, and the refusal (null when accepted).</summary>
public readonly record struct ConsumeResult(int Items, Exception? Refusal);

/// <summary>
/// otelcol's receiverhelper for one receiver and transport: hands decoded data to the pipeline with the sender's
/// client info and counts its items as accepted or refused (otelcol_receiver_accepted_* / _refused_*). What a
/// refusal means (a status code, a retry, a log line) is the receiver's business.
/// </summary>
public sealed class ReceiverHelper
{
    private readonly ReceiverMetrics _metrics;

    /// <param name="signals">The signals the receiver produces (default: all three); only theirs are registered.</param>
    public ReceiverHelper(ComponentCreateSettings settings, string transport, IEnumerable<Signal>? signals = null) =>
        _metrics = new ReceiverMetrics(settings.Metrics, settings.Id, transport, signals);

    /// <summary>Counts items refused before they reached the pipeline (invalid, undecodable, no pipeline for the signal).</summary>
    public void Refused(Signal signal, long items) => _metrics.Refused(signal, items);

    /// <param name="client">Who sent the data, seen by every component downstream on this call's flow; null leaves the current one.</param>
    /// <param name="retriesBackpressure">
    /// The receiver offers the same data again after a retryable refusal or its own cancellation (it holds the data, as
    /// a file reader keeps its offset): such a refusal is not counted, since nothing was lost; the accepted count
    /// follows when the pipeline takes it.
    /// </param>
    public async ValueTask<ConsumeResult> ConsumeAsync<T>(ITelemetryConsumer<T> consumer, Payload<T> data, ClientInfo? client, CancellationToken cancellationToken,
        bool retriesBackpressure = false)
        where T : class, IMessage<T>, new()
    {
        var signal = OtlpSignal<T>.Instance;
        var items = data.ItemCount;
        if (client is not null) ClientContext.Set(client);
        try
        {
            await consumer.ConsumeAsync(data, cancellationToken);
        }
        catch (Exception refusal)
        {
            var offeredAgain = retriesBackpressure
                && (refusal is RetryableDataException || refusal is OperationCanceledException && cancellationToken.IsCancellationRequested);
            if (!offeredAgain) _metrics.Refused(signal.Signal, items);
            return new ConsumeResult(items, refusal);
        }
        _metrics.Accepted(signal.Signal, items);
        return new ConsumeResult(items, null);
    }
}
