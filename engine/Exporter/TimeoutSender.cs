using OtelAi.Otlp;

namespace OtelAi.Engine.Exporter;

/// <summary>
/// The innermost link of the exporter helper: gives each attempt its own deadline (otelcol's <c>timeout</c>); an
/// attempt that runs out becomes a retryable failure. A zero timeout means attempts only end with the caller's token.
/// </summary>
internal sealed class TimeoutSender<T>(TimeSpan timeout, IExportSender<T> next) : IExportSender<T> where T : class, Google.Protobuf.IMessage<T>, new()
{
    public async ValueTask<SendResult> SendAsync(Payload<T> request, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero) return await next.SendAsync(request, cancellationToken);
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(timeout);
        try
        {
            return await next.SendAsync(request, attempt.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new RetryableDataException($"request timed out after {timeout.TotalSeconds:0.###}s");
        }
    }
}
