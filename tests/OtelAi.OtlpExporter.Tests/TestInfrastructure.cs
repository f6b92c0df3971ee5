using OtelAi.Otlp;
using OtelAi.TestSupport;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Engine.Consumers;
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.SelfTelemetry;

namespace OtelAi.OtlpExporter.Tests;

internal static class Settings
{
    public static ComponentCreateSettings For(string id, ComponentKind kind, CapturingLogger logger, MetricRegistry? metrics = null) =>
        new(ComponentId.Parse(id), kind, logger, metrics ?? new MetricRegistry(), BuildInfo.Current);
}

/// <summary>Drives an exporter until it pushes back, as a receiver under load would.</summary>
internal static class Flood
{
    /// <summary>
    /// Sends up to <paramref name="maxRequests"/> trace requests of <paramref name="spansPerRequest"/> spans and stops at
    /// the first refusal; returns how many were accepted and the refusal (null if none came).
    /// </summary>
    public static async Task<(int Accepted, RetryableDataException? Refused)> UntilRefusedAsync(
        ITelemetryConsumer<ExportTraceServiceRequest> exporter, int maxRequests, int spansPerRequest)
    {
        var accepted = 0;
        for (var i = 0; i < maxRequests; i++)
        {
            try
            {
                await exporter.ConsumeAsync(SampleData.Traces(spansPerRequest, seed: i), CancellationToken.None);
                accepted++;
            }
            catch (RetryableDataException e)
            {
                return (accepted, e);
            }
        }
        return (accepted, null);
    }
}

internal static class Poll
{
    /// <summary>Waits up to 30 s (loaded CI machines) for <paramref name="condition"/>.</summary>
    public static async Task UntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }

    /// <inheritdoc cref="UntilAsync(Func{bool}, string, TimeSpan?)"/>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"timed out waiting for {what}");
            await Task.Delay(100);
        }
    }
}
