using OtelAi.Otlp.Grpc;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Exporters.PrometheusCommon;
using OtelAi.Otlp;
using OtelAi.Otlp.Hosting;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;

namespace OtelAi.Exporters.Prometheus;

/// <summary>
/// Keeps the latest state of every series it is sent (deltas accumulated into cumulative values) and serves them
/// at <c>/metrics</c>. Points go through the exporter helper (its optional queue and the sent/failed counts);
/// storing never fails, except that points of series beyond max_series are refused as a partial success and counted.
/// A timer removes series older than metric_expiration, so memory does not depend on someone scraping.
/// </summary>
internal sealed class PrometheusExporter : IExporter<ExportMetricsServiceRequest>
{
    private readonly ComponentCreateSettings _settings;
    private readonly PrometheusExporterConfig _config;
    private readonly SeriesStore _store;
    private readonly ExporterHelper<ExportMetricsServiceRequest> _helper;
    private readonly TimeProvider _time;
    private readonly Counter _expired;
    private ServerHost? _server;
    private ITimer? _expiryTimer;
    private volatile bool _shutDown;

    public PrometheusExporter(ComponentCreateSettings settings, PrometheusExporterConfig config, TimeProvider? time = null)
    {
        _settings = settings;
        _config = config;
        _time = time ?? TimeProvider.System;
        _store = new SeriesStore(config.MaxSeries);
        var id = ("exporter", settings.Id.ToString());
        settings.Metrics.Gauge(PrometheusExporterFactory.ActiveSeries, () => _store.SeriesCount, id);
        _expired = settings.Metrics.Counter(PrometheusExporterFactory.ExpiredSeries, id);
        var sender = new StoreSender(new PromTranslator(config.Translation), _store, _time,
            settings.Metrics.Counter(PrometheusExporterFactory.RefusedPoints, id, ("reason", "max_series")),
            settings.Metrics.Counter(PrometheusExporterFactory.RefusedPoints, id, ("reason", "invalid")));
        _helper = new ExporterHelper<ExportMetricsServiceRequest>(settings,
            new ExporterHelperOptions(TimeSpan.Zero, new RetryConfig { Enabled = false }, config.SendingQueue), sender);
    }

    /// <summary>The bound port (the OS's pick when the endpoint asked for port 0).</summary>
    internal int Port => _server?.Port ?? 0;

    /// <summary>Stores what it reads (translated copies): the caller's data is neither changed nor kept.</summary>
    public ConsumerCapabilities Capabilities => _helper.Capabilities;

    public async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        await _helper.StartAsync(host, cancellationToken);
        _server = await ServerHost.StartAsync(_config.Server.Endpoint, ServeAsync, new ServerHostSetup
        {
            Tls = _config.Server.Tls?.Load(),
            MaxConnections = _config.Server.EffectiveMaxConnections,
            Logger = _settings.Logger,
        }, cancellationToken);
        var period = TimeSpan.FromTicks(Math.Clamp(_config.MetricExpiration.Ticks / 10, TimeSpan.TicksPerSecond / 10, TimeSpan.TicksPerSecond * 30));
        _expiryTimer = _time.CreateTimer(_ => Expire(), null, period, period);
        _settings.Logger.LogInformation("exporter {Exporter}: serving metrics on {Endpoint}/metrics", _settings.Id, _config.Server.Endpoint);
    }

    public ValueTask ConsumeAsync(Payload<ExportMetricsServiceRequest> data, CancellationToken cancellationToken) =>
        _shutDown ? throw new RetryableDataException($"exporter {_settings.Id} is shut down") : _helper.ConsumeAsync(data, cancellationToken);

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        _shutDown = true;
        if (_expiryTimer is not null) await _expiryTimer.DisposeAsync();
        await _helper.ShutdownAsync(cancellationToken);
        if (Interlocked.Exchange(ref _server, null) is { } server) await server.DisposeAsync();
    }

    internal void Expire()
    {
        var removed = _store.Expire(_time.GetTimestamp() - (long)(_config.MetricExpiration.TotalSeconds * _time.TimestampFrequency));
        if (removed > 0) _expired.Add(removed);
    }

    private Task ServeAsync(HttpContext context)
    {
        foreach (var (name, value) in _config.Server.ResponseHeaders) context.Response.Headers[name] = value;
        if (!ServerHost.IsReadOf(context, "/metrics")) return Task.CompletedTask;
        Expire(); // never show a series past its expiration, even between timer ticks
        var openMetrics = _config.EnableOpenMetrics && AcceptsOpenMetrics(context.Request.Headers.Accept.ToString());
        context.Response.ContentType = openMetrics ? PromExposition.OpenMetricsContentType : PromExposition.TextContentType;
        return WriteExpositionAsync(context.Response, openMetrics);
    }

    private async Task WriteExpositionAsync(HttpResponse response, bool openMetrics)
    {
        using var text = new PooledBufferWriter(64 * 1024);
        PromExposition.Write(text, _store.Snapshot(), openMetrics, _config.SendTimestamps);
        response.ContentLength = text.WrittenCount;
        await response.Body.WriteAsync(text.WrittenMemory);
    }

    private static bool AcceptsOpenMetrics(string accept) => accept.Contains("application/openmetrics-text", StringComparison.OrdinalIgnoreCase);

    /// <summary>The helper's sender: translation into the store.</summary>
    private sealed class StoreSender(PromTranslator translator, SeriesStore store, TimeProvider time, Counter overLimit, Counter invalid)
        : IExportSender<ExportMetricsServiceRequest>
    {
        public ValueTask<SendResult> SendAsync(Payload<ExportMetricsServiceRequest> request, CancellationToken cancellationToken)
        {
            long refused = 0;
            var skipped = translator.Translate(request.Message, time.GetTimestamp(), point =>
            {
                if (store.Apply(point).Outcome == StoreOutcome.RefusedOverLimit && point.Family.Type != PromType.Info) refused++;
            });
            if (refused > 0) overLimit.Add(refused);
            if (skipped > 0) invalid.Add(skipped);
            if (refused == 0 && skipped == 0) return ValueTask.FromResult(SendResult.Success);
            var message = refused > 0
                ? $"{refused} data points of new series refused: max_series ({store.SeriesCount} series) reached"
                : $"{skipped} data points of unspecified aggregation temporality skipped";
            return ValueTask.FromResult(new SendResult(refused + skipped, message));
        }
    }
}
