using OtelAi.Engine.SelfTelemetry;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Otlp;

namespace OtelAi.Engine.Exporter;

/// <summary>
/// otelcol's <c>retry_on_failure</c>: attempts until success, a permanent error, or the retry budget is spent, with
/// exponential backoff and jitter between attempts; the server's throttle hint (Retry-After / RetryInfo) is the
/// minimum next wait. Cancellation of the caller's token surfaces as <see cref="OperationCanceledException"/>.
/// </summary>
internal sealed class RetrySender<T>(RetryConfig retry, ComponentCreateSettings settings, ExporterMetrics metrics, Func<TimeSpan, CancellationToken, Task> delay, IExportSender<T> next)
    : IExportSender<T> where T : class, Google.Protobuf.IMessage<T>, new()
{
    public async ValueTask<SendResult> SendAsync(Payload<T> request, CancellationToken cancellationToken)
    {
        var elapsed = Stopwatch.StartNew();
        var interval = retry.InitialInterval;
        for (var attempt = 1; ; attempt++)
        {
            Exception failure;
            try
            {
                return await next.SendAsync(request, cancellationToken);
            }
            catch (PermanentDataException)
            {
                throw;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            if (!retry.Enabled) throw failure;
            var wait = Jitter(interval, retry.RandomizationFactor);
            interval = TimeSpan.FromTicks(Math.Min((long)(interval.Ticks * retry.Multiplier), retry.MaxInterval.Ticks));
            var throttle = (failure as RetryableDataException)?.RetryAfter;
            if (throttle > wait) wait = throttle.Value;
            if (retry.MaxElapsedTime > TimeSpan.Zero && elapsed.Elapsed + wait > retry.MaxElapsedTime)
                throw new RetryableDataException($"no more retries left after {attempt} attempts in {elapsed.Elapsed.TotalSeconds:0.#}s: {failure.Message}",
                    throttle, inner: failure);
            settings.Logger.LogInformation("exporter {Exporter}: attempt {Attempt} failed ({Error}); retrying in {Wait:0.###}s",
                settings.Id, attempt, failure.Message, wait.TotalSeconds);
            metrics.Retried();
            await delay(wait, cancellationToken);
        }
    }

    private static TimeSpan Jitter(TimeSpan interval, double factor)
    {
        if (factor <= 0) return interval;
        var delta = factor * interval.Ticks;
        var min = interval.Ticks - delta;
        return TimeSpan.FromTicks((long)(min + Random.Shared.NextDouble() * (2 * delta)));
    }
}
