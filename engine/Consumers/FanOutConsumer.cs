using Google.Protobuf;
using OtelAi.Otlp;

namespace OtelAi.Engine.Consumers;

/// <summary>
/// Sends one payload to several consumers, in order, copying only where sharing could let one consumer see
/// another's changes (as otelcol's fan-out, with retaining consumers told apart from mutating ones):
/// <list type="bullet">
/// <item>consumers that neither mutate nor retain, and consumers that only retain (a memory sending queue), all share
/// the original: nobody changes it;</item>
/// <item>every mutating consumer but one gets its own clone; the last one gets the original when no retaining
/// consumer shares it (the readers are called before it, so they never see its changes), else a clone too.</item>
/// </list>
/// The first error is rethrown after every consumer was called, so one failing exporter does not starve the rest.
/// </summary>
public sealed class FanOutConsumer<T> : ITelemetryConsumer<T> where T : class, IMessage<T>, new()
{
    private readonly ITelemetryConsumer<T>[] _sharing;
    private readonly ITelemetryConsumer<T>[] _mutating;
    private readonly bool _lastMutatingGetsOriginal;

    public FanOutConsumer(IEnumerable<ITelemetryConsumer<T>> consumers)
    {
        var all = consumers.ToArray();
        if (all.Length == 0) throw new ArgumentException("fan-out needs at least one consumer", nameof(consumers));
        _sharing = all.Where(c => !c.Capabilities.MutatesData).ToArray();
        _mutating = all.Where(c => c.Capabilities.MutatesData).ToArray();
        _lastMutatingGetsOriginal = !_sharing.Any(c => c.Capabilities.RetainsData);
        Capabilities = all.Skip(1).Aggregate(all[0].Capabilities, (union, c) => union.Union(c.Capabilities));
    }

    public ConsumerCapabilities Capabilities { get; }

    /// <summary>One consumer needs no fan-out.</summary>
    public static ITelemetryConsumer<T> Of(IReadOnlyList<ITelemetryConsumer<T>> consumers) =>
        consumers.Count == 1 ? consumers[0] : new FanOutConsumer<T>(consumers);

    public async ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        List<Exception>? errors = null;
        var lastIndex = _mutating.Length - 1;
        for (var i = 0; i < lastIndex; i++)
            await Call(_mutating[i], data.Clone(), cancellationToken, ref errors);
        foreach (var consumer in _sharing)
            await Call(consumer, data, cancellationToken, ref errors);
        if (lastIndex >= 0)
            await Call(_mutating[lastIndex], _lastMutatingGetsOriginal ? data : data.Clone(), cancellationToken, ref errors);

        if (errors is null) return;
        throw errors.Count == 1 ? errors[0] : Combine(errors);
    }
    private static ValueTask Call(ITelemetryConsumer<T> consumer, Payload<T> data, CancellationToken ct, ref List<Exception>? errors)
    {
        // Synchronous completions (the common case) avoid the async state machine per consumer.
        ValueTask pending;
        try
        {
            pending = consumer.ConsumeAsync(data, ct);
            if (pending.IsCompletedSuccessfully) return ValueTask.CompletedTask;
        }
        catch (Exception ex)
        {
            (errors ??= []).Add(ex);
            return ValueTask.CompletedTask;
        }
        return AwaitCollecting(pending, errors ??= []);
    }

    private static async ValueTask AwaitCollecting(ValueTask pending, List<Exception> errors)
    {
        try { await pending; }
        catch (Exception ex) { errors.Add(ex); }
    }

    // A permanent error anywhere wins (retrying would duplicate data already accepted elsewhere);
    // otherwise the refusal stays retryable.
    private static Exception Combine(List<Exception> errors)
    {
        var message = string.Join("; ", errors.Select(e => e.Message));
        if (errors.Any(e => e is not RetryableDataException))
            return new PermanentDataException(message, new AggregateException(errors));
        var retryAfter = errors.Cast<RetryableDataException>().Max(e => e.RetryAfter);
        var exhausted = errors.Cast<RetryableDataException>().Any(e => e.ResourceExhausted);
        return new RetryableDataException(message, retryAfter, exhausted, new AggregateException(errors));
    }
}
