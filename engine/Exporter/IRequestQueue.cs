using OtelAi.Engine.Consumers;
using OtelAi.Otlp;

namespace OtelAi.Engine.Exporter;

/// <summary>
/// The sending queue between ConsumeAsync and the consumers. Size drops when a consumer takes a request (as in
/// otelcol); <see cref="CompleteAsync"/> retires a taken request for good.
/// </summary>
internal interface IRequestQueue<T> where T : class, Google.Protobuf.IMessage<T>, new()
{
    long Size { get; }

    long Capacity { get; }

    /// <summary>Adds a request, or throws <see cref="RetryableDataException"/> when full (waits for room when blocking).</summary>
    ValueTask OfferAsync(Payload<T> request, ClientInfo client, CancellationToken cancellationToken);

    /// <summary>The next request, or null once the queue is closed and (for a memory queue) empty.</summary>
    ValueTask<QueuedRequest<T>?> TakeAsync(CancellationToken cancellationToken);

    ValueTask CompleteAsync(QueuedRequest<T> request);

    /// <summary>No more offers; takers get what is left (memory) or stop (persistent: the rest stays on disk).</summary>
    void Close();
}
