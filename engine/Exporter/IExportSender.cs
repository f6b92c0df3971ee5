using OtelAi.Otlp;

namespace OtelAi.Engine.Exporter;

/// <summary>
/// Sends one request to the destination, once. Failure is an exception: <see cref="Consumers.PermanentDataException"/>
/// when the destination will never accept the data (not retried), <see cref="Consumers.RetryableDataException"/>
/// (with the server's Retry-After / RetryInfo as <c>RetryAfter</c>) when a later attempt may succeed. Any other
/// exception is treated as retryable. Cancellation of <paramref name="cancellationToken"/> ends the attempt
/// (the helper turns its own per-attempt timeout into a retryable error).
/// </summary>
public interface IExportSender<T> where T : class, Google.Protobuf.IMessage<T>, new()
{
    /// <summary>False when the sender writes the encoded request as it is (it never decodes the payload).</summary>
    bool ReadsContent => true;

    ValueTask<SendResult> SendAsync(Payload<T> request, CancellationToken cancellationToken);

    /// <summary>Called once before the first send, with the running extensions (e.g. to find an auth extension).</summary>
    Task StartAsync(Components.IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// The destination accepted the request; <see cref="RejectedItems"/> &gt; 0 is an OTLP partial success: those items
/// were refused for good (the helper logs <see cref="Message"/> and counts them as failed; no retry).
/// </summary>
public readonly record struct SendResult(long RejectedItems = 0, string? Message = null)
{
    public static SendResult Success => default;
}
