using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Http;
using OtelAi.Engine.SelfTelemetry;

namespace OtelAi.Receivers.Otlp;

/// <summary>
/// A server's request durations by route and answer (the rpc/http server duration histograms of otelcol's
/// instrumented receivers). A series is looked up once per (route, status), not per request.
/// </summary>
internal sealed class RequestDurations(MetricRegistry metrics, SelfMetric metric, string receiver, string routeLabel, string statusLabel, Func<HttpContext, string> status)
{
    /// <summary>otelcol's bounds for these histograms, in milliseconds.</summary>
    public static readonly double[] Milliseconds = [0, 5, 10, 25, 50, 75, 100, 250, 500, 750, 1000, 2500, 5000, 7500, 10000];

    private readonly ConcurrentDictionary<(string Route, string Status), Histogram> _series = new();

    /// <summary>Records the request's duration once <paramref name="handling"/> (started at <paramref name="start"/>) ends; no allocation when it ended synchronously.</summary>
    public Task RecordWhenDone(HttpContext context, string route, long start, Task handling)
    {
        if (!handling.IsCompleted) return RecordAfterAsync(context, route, start, handling);
        Record(context, route, start);
        return handling;
    }

    private async Task RecordAfterAsync(HttpContext context, string route, long start, Task handling)
    {
        try
        {
            await handling;
        }
        finally
        {
            Record(context, route, start);
        }
    }

    private void Record(HttpContext context, string route, long start)
    {
        var histogram = _series.GetOrAdd((route, status(context)), key => metrics.Histogram(metric, ("receiver", receiver), (routeLabel, key.Route), (statusLabel, key.Status)));
        histogram.Record(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
    }
}
