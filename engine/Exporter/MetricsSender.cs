using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;

namespace OtelAi.Engine.Exporter;

/// <summary>
/// otelcol's exporter obsreport around the retries: counts each request's items as sent or send_failed once its
/// retries are over, and logs what a partial success refused. A send ended by the caller's cancellation is not
/// counted here: the queue decides whether it is dropped (memory) or kept for the next start (persistent). Each
/// failed request is reported as a recoverable error (health_check's check_collector_pipeline counts them).
/// </summary>
internal sealed class MetricsSender<T>(ExporterMetrics metrics, ComponentCreateSettings settings, ComponentStatusReporter status, IExportSender<T> next)
    : IExportSender<T> where T : class, Google.Protobuf.IMessage<T>, new()
{
    public async ValueTask<SendResult> SendAsync(Payload<T> request, CancellationToken cancellationToken)
    {
        var items = request.ItemCount;
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        SendResult result;
        try
        {
            result = await next.SendAsync(request, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            metrics.RequestDone(System.Diagnostics.Stopwatch.GetElapsedTime(started));
            metrics.SendFailed(items);
            status.Report(ComponentStatus.RecoverableError, ex.Message);
            throw;
        }
        metrics.RequestDone(System.Diagnostics.Stopwatch.GetElapsedTime(started));
        status.Report(ComponentStatus.Ok);
        Record(items, result);
        return result;
    }

    private void Record(long items, SendResult result)
    {
        if (result.RejectedItems <= 0)
        {
            metrics.Sent(items);
            // OTLP: a partial_success with nothing rejected but a message is a warning from the destination.
            if (!string.IsNullOrEmpty(result.Message))
                settings.Logger.LogWarning("exporter {Exporter}: the destination accepted {Items} items with a warning: {Message}", settings.Id, items, result.Message);
            return;
        }
        var rejected = Math.Min(result.RejectedItems, items);
        metrics.Sent(items - rejected);
        metrics.SendFailed(rejected);
        settings.Logger.LogWarning("exporter {Exporter}: partial success, the destination rejected {Rejected} of {Items} items: {Message}",
            settings.Id, rejected, items, result.Message ?? "");
    }
}
