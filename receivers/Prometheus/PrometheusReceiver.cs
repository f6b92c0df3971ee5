using System.Net;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Receiver;
using OtelAi.Engine.Settings;

namespace OtelAi.Receivers.Prometheus;

/// <summary>
/// Scrapes every static target of every scrape config on its own loop. Targets are built as Prometheus builds
/// them: __address__, __scheme__, __metrics_path__, __param_*, job and the static labels go through
/// relabel_configs; labels starting with __ are then dropped and instance defaults to the address.
/// </summary>
internal sealed class PrometheusReceiver : IComponent
{
    private readonly ComponentCreateSettings _settings;
    private readonly PrometheusReceiverConfig _config;
    private readonly ReceiverConsumers _consumers;
    private readonly List<HttpClient> _clients = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly List<Task> _loops = [];

    public PrometheusReceiver(ComponentCreateSettings settings, PrometheusReceiverConfig config, ReceiverConsumers consumers)
    {
        _settings = settings;
        _config = config;
        _consumers = consumers;
    }

    internal List<ScrapeTarget> Targets { get; } = [];

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        if (_consumers.Metrics is not { } consumer) return Task.CompletedTask;
        var helper = new ReceiverHelper(_settings, "http", [OtelAi.Otlp.Signal.Metrics]);
        foreach (var scrape in _config.Config.ScrapeConfigs)
        {
            var client = Client(scrape);
            _clients.Add(client);
            var relabel = new Relabeler(scrape.RelabelConfigs);
            foreach (var group in scrape.StaticConfigs)
                foreach (var address in group.Targets)
                {
                    var labels = new Dictionary<string, string>(StringComparer.Ordinal)
                    {
                        ["__address__"] = address, ["__scheme__"] = scrape.Scheme, ["__metrics_path__"] = scrape.MetricsPath, ["job"] = scrape.JobName,
                    };
                    foreach (var (name, values) in scrape.Params)
                        if (values.Count > 0) labels["__param_" + name] = values[0];
                    foreach (var (name, value) in group.Labels) labels[name] = value;
                    if (!relabel.IsEmpty && !relabel.Apply(labels)) continue;
                    var url = TargetUrl(labels, scrape);
                    labels.TryAdd("instance", labels["__address__"]);
                    foreach (var name in labels.Keys.Where(n => n.StartsWith("__", StringComparison.Ordinal)).ToList()) labels.Remove(name);
                    Targets.Add(new ScrapeTarget(_settings, _config, scrape, client, url, labels, consumer, helper));
                }
        }
        foreach (var target in Targets) _loops.Add(Task.Run(() => target.RunAsync(_stopping.Token), CancellationToken.None));
        _settings.Logger.LogInformation("receiver {Receiver}: scraping {Targets} targets", _settings.Id, Targets.Count);
        return Task.CompletedTask;
    }

    private static Uri TargetUrl(Dictionary<string, string> labels, ScrapeConfig scrape)
    {
        var query = new List<string>();
        foreach (var (name, values) in scrape.Params)
        {
            var first = labels.GetValueOrDefault("__param_" + name, values.FirstOrDefault() ?? "");
            query.Add($"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(first)}");
            query.AddRange(values.Skip(1).Select(v => $"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(v)}"));
        }
        var builder = new UriBuilder($"{labels["__scheme__"]}://{labels["__address__"]}")
        {
            Path = labels["__metrics_path__"],
            Query = string.Join('&', query),
        };
        return builder.Uri;
    }

    private static HttpClient Client(ScrapeConfig scrape)
    {
        var handler = new SocketsHttpHandler
        {
            AutomaticDecompression = DecompressionMethods.GZip | DecompressionMethods.Deflate,
            UseProxy = false,
            UseCookies = false,
            ConnectTimeout = TimeSpan.FromSeconds(10),
        };
        if (scrape.Scheme == "https" && scrape.TlsConfig is { } tls)
        {
            var settings = new TlsClientSettings
            {
                CaFile = tls.CaFile.Length > 0 ? tls.CaFile : null,
                CertFile = tls.CertFile.Length > 0 ? tls.CertFile : null,
                KeyFile = tls.KeyFile.Length > 0 ? tls.KeyFile : null,
                ServerNameOverride = tls.ServerName.Length > 0 ? tls.ServerName : null,
                InsecureSkipVerify = tls.InsecureSkipVerify,
            };
            handler.SslOptions = settings.ToSslOptions("");
        }
        return new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (_stopping.IsCancellationRequested) return;
        await _stopping.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        foreach (var client in _clients) client.Dispose();
    }
}
