using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;

namespace OtelAi.Engine.SelfTelemetry;

/// <summary>
/// One periodic reader of <c>service.telemetry.metrics.readers</c>: every interval the whole registry goes to an
/// otlp or otlphttp exporter as cumulative OTLP metrics, and once more when the collector stops (so the last counts
/// arrive). The exporter counts its own sends in a registry of its own: pushing self-metrics is not pipeline data.
/// </summary>
internal sealed class MetricsPusher
{
    private readonly IExporter<ExportMetricsServiceRequest> _exporter;
    private readonly TimeSpan _interval;
    private readonly Func<ExportMetricsServiceRequest> _snapshot;
    private readonly ILogger _logger;
    private readonly string _describe;
    private CancellationTokenSource? _stop;
    private Task? _loop;

    public MetricsPusher(ComponentRegistry registry, MetricsPushReader reader, int index, ILoggerFactory loggers, Func<ExportMetricsServiceRequest> snapshot)
    {
        if (!registry.TryGet(ComponentKind.Exporter, reader.ExporterType, out var factory))
            throw new InvalidOperationException($"pushing self-metrics needs the {reader.ExporterType} exporter, which the registry does not hold");
        var id = new ComponentId(reader.ExporterType, $"self_metrics_{index}");
        _describe = $"service.telemetry.metrics.readers push to {id}";
        _logger = loggers.CreateLogger($"telemetry/{id}");
        var settings = new ComponentCreateSettings(id, ComponentKind.Exporter, _logger, new MetricRegistry(), BuildInfo.Current);
        _exporter = ((IExporterFactory)factory).CreateExporter<ExportMetricsServiceRequest>(settings, reader.ExporterConfig);
        _interval = reader.Interval;
        _snapshot = snapshot;
    }

    public async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        await _exporter.StartAsync(host, cancellationToken);
        _stop = new CancellationTokenSource();
        _loop = LoopAsync(_stop.Token);
        _logger.LogInformation("Pushing self-metrics every {Interval}", Durations.Format(_interval));
    }

    private async Task LoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping)) await PushAsync(stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task PushAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _exporter.ConsumeAsync(_snapshot(), cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // The next push carries the same cumulative values: say so and go on.
            _logger.LogWarning("{Reader}: could not push self-metrics: {Error}", _describe, ex.Message);
        }
    }

    /// <summary>Ends the loop, pushes the final counts (within <paramref name="cancellationToken"/>) and shuts the exporter down.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_stop is null) return;
        await _stop.CancelAsync();
        if (_loop is not null) await _loop;
        await PushAsync(cancellationToken);
        await _exporter.ShutdownAsync(cancellationToken);
        _stop.Dispose();
        _stop = null;
    }
}
