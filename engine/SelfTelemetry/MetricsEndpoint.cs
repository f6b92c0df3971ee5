using OtelAi.Otlp.Hosting;
using Microsoft.AspNetCore.Http;
using OtelAi.Engine.Service;

namespace OtelAi.Engine.SelfTelemetry;

/// <summary>
/// Serves a <see cref="MetricRegistry"/> as Prometheus text on <c>http://address/metrics</c>, like otelcol's
/// self-telemetry pull endpoint (<c>service.telemetry.metrics.address</c>, default localhost:8888).
/// </summary>
public sealed class MetricsEndpoint : IAsyncDisposable
{
    private const string ContentType = "text/plain; version=0.0.4; charset=utf-8";
    private readonly ServerHost _server;

    private MetricsEndpoint(ServerHost server) => _server = server;

    /// <summary>The bound port (the OS's pick when the address asked for port 0).</summary>
    public int Port => _server.Port;

    /// <param name="constantLabels">Labels on every series (the service's identity, as otelcol labels its own metrics).</param>
    /// <param name="tls">Serve HTTPS with these settings (certificates reloaded as they configure).</param>
    public static async Task<MetricsEndpoint> StartAsync(MetricRegistry registry, string address, CancellationToken cancellationToken,
        IReadOnlyList<(string Key, string Value)>? constantLabels = null, Settings.TlsServerSettings? tls = null)
    {
        var server = await ServerHost.StartAsync(address, context => ServeAsync(registry, constantLabels, context), ServerHostSetup.Http1Or(tls?.Load()), cancellationToken);
        return new MetricsEndpoint(server);
    }

    private static Task ServeAsync(MetricRegistry registry, IReadOnlyList<(string Key, string Value)>? constantLabels, HttpContext context)
    {
        if (!ServerHost.IsReadOf(context, "/metrics")) return Task.CompletedTask;
        var text = new StringWriter();
        registry.WritePrometheusText(text, constantLabels);
        context.Response.ContentType = ContentType;
        return context.Response.WriteAsync(text.ToString());
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();
}
