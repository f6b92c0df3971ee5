using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Receiver;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;

namespace OtelAi.Receivers.Prometheus;

/// <summary>
/// One target of one job, scraped every interval for as long as the receiver runs. A scrape has scrape_timeout to
/// answer; a target that is down, slow or sends text that does not parse gives up=0 and a logged reason (logged
/// again only when the reason changes), never an exception out of the loop. Every scrape also reports up,
/// scrape_duration_seconds, scrape_samples_scraped, scrape_samples_post_metric_relabeling and scrape_series_added.
/// </summary>
internal sealed class ScrapeTarget
{
    private const string Accept = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
    internal const string ScopeName = "github.com/open-telemetry/opentelemetry-collector-contrib/receiver/prometheusreceiver";

    private readonly ComponentCreateSettings _settings;
    private readonly ScrapeConfig _scrape;
    private readonly HttpClient _client;
    private readonly Uri _url;
    private readonly Dictionary<string, string> _targetLabels;
    private readonly Relabeler _metricRelabel;
    private readonly TimeSpan _interval;
    private readonly TimeSpan _timeout;
    private readonly ITelemetryConsumer<ExportMetricsServiceRequest> _consumer;
    private readonly ReceiverHelper _helper;
    private readonly ScrapeConverter _converter;
    private readonly Resource _resource;
    private readonly bool _extraMetrics;
    private readonly Dictionary<string, string> _externalLabels;
    private HashSet<string> _previousSeries = [];
    private string? _lastError;

    public ScrapeTarget(ComponentCreateSettings settings, PrometheusReceiverConfig config, ScrapeConfig scrape, HttpClient client, Uri url,
        Dictionary<string, string> targetLabels, ITelemetryConsumer<ExportMetricsServiceRequest> consumer, ReceiverHelper helper)
    {
        _settings = settings;
        _scrape = scrape;
        _client = client;
        _url = url;
        _targetLabels = targetLabels;
        _metricRelabel = new Relabeler(scrape.MetricRelabelConfigs);
        _interval = scrape.ScrapeInterval ?? config.Config.Global.ScrapeInterval;
        var timeout = scrape.ScrapeTimeout ?? config.Config.Global.ScrapeTimeout;
        _timeout = timeout > _interval ? _interval : timeout;
        _consumer = consumer;
        _helper = helper;
        _converter = new ScrapeConverter(config.TrimMetricSuffixes);
        _extraMetrics = config.ReportExtraScrapeMetrics;
        _externalLabels = config.Config.Global.ExternalLabels;
        _resource = TargetResource(targetLabels, url);
    }

    public string Job => _targetLabels.GetValueOrDefault("job", "");

    public string Instance => _targetLabels.GetValueOrDefault("instance", "");

    /// <summary>service.name = job, service.instance.id = instance, server.address/port and url.scheme, as otelcol sets them.</summary>
    private static Resource TargetResource(Dictionary<string, string> labels, Uri url)
    {
        var resource = new Resource();
        void Add(string key, string value) => resource.Attributes.Add(new KeyValue { Key = key, Value = new AnyValue { StringValue = value } });
        Add("service.name", labels.GetValueOrDefault("job", ""));
        if (labels.TryGetValue("instance", out var instance)) Add("service.instance.id", instance);
        Add("server.address", url.Host);
        Add("server.port", url.Port.ToString(System.Globalization.CultureInfo.InvariantCulture));
        Add("url.scheme", url.Scheme);
        return resource;
    }

    public async Task RunAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_interval);
        do
        {
            try
            {
                await ScrapeOnceAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                _settings.Logger.LogError(ex, "receiver {Receiver}: scraping {Url} failed unexpectedly", _settings.Id, _url);
            }
        }
        while (await WaitAsync(timer, stopping));
    }

    private static async Task<bool> WaitAsync(PeriodicTimer timer, CancellationToken stopping)
    {
        try { return await timer.WaitForNextTickAsync(stopping); }
        catch (OperationCanceledException) { return false; }
    }

    internal async Task ScrapeOnceAsync(CancellationToken stopping)
    {
        var started = Stopwatch.GetTimestamp();
        var scrapeTime = (ulong)(DateTimeOffset.UtcNow - DateTimeOffset.UnixEpoch).Ticks * 100;
        List<Metric> metrics = [];
        int scraped = 0, kept = 0, added = 0;
        string? error = null;
        try
        {
            var (body, openMetrics) = await FetchAsync(stopping);
            var families = ExpositionParser.Parse(body, openMetrics);
            var relabeled = Relabel(families, scrapeTime, out scraped, out kept, out var series);
            if (_scrape.SampleLimit > 0 && kept > _scrape.SampleLimit)
                throw new ExpositionException(0, $"sample limit exceeded: {kept} samples after relabeling, limit {_scrape.SampleLimit}");
            added = series.Count(key => !_previousSeries.Contains(key));
            _previousSeries = series;
            metrics = _converter.Convert(relabeled);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is HttpRequestException or OperationCanceledException or ExpositionException or IOException or InvalidDataException)
        {
            error = ex is OperationCanceledException ? $"scrape timed out after {_timeout.TotalSeconds:0.###}s" : ex.Message;
            metrics = [];
        }
        var duration = Stopwatch.GetElapsedTime(started).TotalSeconds;
        ReportState(error);

        var scope = new ScopeMetrics { Scope = new InstrumentationScope { Name = ScopeName } };
        scope.Metrics.Add(metrics);
        scope.Metrics.Add(Gauge("up", "The scraping was successful", error is null ? 1 : 0, scrapeTime));
        scope.Metrics.Add(Gauge("scrape_duration_seconds", "Duration of the scrape", duration, scrapeTime, "s"));
        scope.Metrics.Add(Gauge("scrape_samples_scraped", "The number of samples the target exposed", scraped, scrapeTime));
        scope.Metrics.Add(Gauge("scrape_samples_post_metric_relabeling", "The number of samples remaining after metric relabeling was applied", kept, scrapeTime));
        scope.Metrics.Add(Gauge("scrape_series_added", "The approximate number of new series in this scrape", added, scrapeTime));
        if (_extraMetrics)
        {
            scope.Metrics.Add(Gauge("scrape_timeout_seconds", "The configured scrape timeout for a target", _timeout.TotalSeconds, scrapeTime, "s"));
            scope.Metrics.Add(Gauge("scrape_sample_limit", "The configured sample limit for a target (0 if there is no limit)", _scrape.SampleLimit, scrapeTime));
        }
        var request = new ExportMetricsServiceRequest { ResourceMetrics = { new ResourceMetrics { Resource = _resource.Clone(), ScopeMetrics = { scope } } } };
        var result = await _helper.ConsumeAsync(_consumer, request, client: null, stopping);
        if (result.Refusal is { } refusal && !stopping.IsCancellationRequested)
            _settings.Logger.LogWarning("receiver {Receiver}: the pipeline refused the scrape of {Url} ({Points} points): {Error}", _settings.Id, _url, result.Items, refusal.Message);
    }

    private void ReportState(string? error)
    {
        if (error == _lastError) return;
        if (error is not null)
            _settings.Logger.LogWarning("receiver {Receiver}: target {Url} (job {Job}) is down: {Error}", _settings.Id, _url, Job, error);
        else if (_lastError is not null)
            _settings.Logger.LogInformation("receiver {Receiver}: target {Url} (job {Job}) is up again", _settings.Id, _url, Job);
        _lastError = error;
    }

    private async Task<(string Body, bool OpenMetrics)> FetchAsync(CancellationToken stopping)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        attempt.CancelAfter(_timeout);
        using var request = new HttpRequestMessage(HttpMethod.Get, _url);
        request.Headers.TryAddWithoutValidation("Accept", Accept);
        request.Headers.TryAddWithoutValidation("X-Prometheus-Scrape-Timeout-Seconds", _timeout.TotalSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (_scrape.BasicAuth is { } auth)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{auth.Username}:{auth.Password}")));
        using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, attempt.Token);
        if (response.StatusCode != HttpStatusCode.OK) throw new HttpRequestException($"server returned HTTP status {(int)response.StatusCode} {response.ReasonPhrase}");
        var body = await response.Content.ReadAsStringAsync(attempt.Token);
        var openMetrics = response.Content.Headers.ContentType?.MediaType?.Equals("application/openmetrics-text", StringComparison.OrdinalIgnoreCase) == true;
        return (body, openMetrics);
    }

    /// <summary>
    /// Each sample with the target's labels (honor_labels decides who wins a collision; the loser becomes
    /// exported_*), run through metric_relabel_configs; job and instance leave the labels for the resource.
    /// </summary>
    private List<(ScrapedFamily Family, List<ScrapeConverter.Sample> Samples)> Relabel(List<ScrapedFamily> families, ulong scrapeTime, out int scraped, out int kept, out HashSet<string> series)
    {
        var result = new List<(ScrapedFamily, List<ScrapeConverter.Sample>)>(families.Count);
        var renamed = new Dictionary<string, (ScrapedFamily, List<ScrapeConverter.Sample>)>(StringComparer.Ordinal);
        scraped = 0;
        kept = 0;
        series = new HashSet<string>(StringComparer.Ordinal);
        foreach (var family in families)
        {
            var samples = new List<ScrapeConverter.Sample>(family.Samples.Count);
            foreach (var sample in family.Samples)
            {
                scraped++;
                var labels = new Dictionary<string, string>(sample.Labels.Count + _targetLabels.Count + 1, StringComparer.Ordinal);
                foreach (var (name, value) in sample.Labels) labels[name] = value;
                foreach (var (name, value) in _targetLabels)
                {
                    if (labels.TryGetValue(name, out var own))
                    {
                        if (_scrape.HonorLabels) continue;
                        labels["exported_" + name] = own;
                    }
                    labels[name] = value;
                }
                foreach (var (name, value) in _externalLabels) labels.TryAdd(name, value);
                labels["__name__"] = sample.Name;
                if (!_metricRelabel.IsEmpty && !_metricRelabel.Apply(labels)) continue;
                kept++;
                var metricName = labels.GetValueOrDefault("__name__", sample.Name);
                series.Add(metricName + string.Join(',', labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => l.Key + "=" + l.Value)));
                labels.Remove("__name__");
                labels.Remove("job");
                labels.Remove("instance");
                var time = _scrape.HonorTimestamps && sample.TimestampMs is { } ms ? (ulong)ms * 1_000_000 : scrapeTime;
                var converted = new ScrapeConverter.Sample(metricName, labels, sample.Value, time, sample.Exemplar);
                if (metricName == sample.Name) samples.Add(converted);
                else
                {
                    // metric_relabel_configs renamed it: it is a gauge of its new name now.
                    if (!renamed.TryGetValue(metricName, out var target)) renamed[metricName] = target = (new ScrapedFamily(metricName, ScrapedType.Gauge) { Help = family.Help }, []);
                    target.Item2.Add(converted);
                }
            }
            result.Add((family, samples));
        }
        result.AddRange(renamed.Values);
        return result;
    }

    private Metric Gauge(string name, string description, double value, ulong time, string unit = "")
    {
        var metric = new Metric { Name = name, Description = description, Unit = unit, Gauge = new Gauge() };
        metric.Gauge.DataPoints.Add(new NumberDataPoint { TimeUnixNano = time, AsDouble = value });
        return metric;
    }
}
