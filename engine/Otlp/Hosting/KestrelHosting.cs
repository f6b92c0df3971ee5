using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OtelAi.Otlp.Hosting;

/// <summary>
/// What every Kestrel server inside the engine shares (OTLP receiver, health_check, self-metrics): minimal hosting
/// that the collector, not the process, controls, and otelcol's <c>host:port</c> endpoints.
/// </summary>
public static class KestrelHosting
{
    /// <summary>
    /// An empty web application builder with Kestrel and no logging. The host's default console lifetime is replaced:
    /// it would swallow SIGINT/SIGTERM and stop the server by itself, leaving an embedding process unable to exit and
    /// the collector unable to drain in order.
    /// </summary>
    public static WebApplicationBuilder CreateBuilder()
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IHostLifetime, CollectorOwnedLifetime>();
        builder.WebHost.UseKestrelCore();
        return builder;
    }

    /// <summary>Splits <c>host:port</c>, <c>[v6]:port</c> or <c>:port</c>; the error says what was expected.</summary>
    public static bool TryParseEndpoint(string endpoint, out string host, out int port, out string? error)
    {
        host = "";
        port = 0;
        var colon = endpoint.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(endpoint.AsSpan(colon + 1), out port) || port is < 0 or > 65535)
        {
            error = $"endpoint \"{endpoint}\" must be host:port with a port between 0 and 65535";
            return false;
        }
        host = endpoint[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        error = null;
        return true;
    }

    /// <summary>
    /// Adds the listener(s) for an endpoint: localhost → loopback (v4 and v6; v4 only for port 0, since Kestrel
    /// cannot pick one dynamic port for two sockets), empty/0.0.0.0/:: → every interface, else the address (names resolved).
    /// </summary>
    public static void Listen(KestrelServerOptions options, string host, int port, Action<ListenOptions> configure)
    {
        if (host is "" or "0.0.0.0" or "::" or "*") options.ListenAnyIP(port, configure);
        else if (host.Equals("localhost", StringComparison.OrdinalIgnoreCase))
        {
            if (port == 0) options.Listen(IPAddress.Loopback, 0, configure);
            else options.ListenLocalhost(port, configure);
        }
        else if (IPAddress.TryParse(host, out var address)) options.Listen(address, port, configure);
        else
            foreach (var resolved in Dns.GetHostAddresses(host))
                options.Listen(resolved, port, configure);
    }

    private sealed class CollectorOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
