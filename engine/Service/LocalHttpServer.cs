using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OtelAi.Engine.Service;

/// <summary>
/// A small Kestrel HTTP/1.1 server for the engine's own endpoints (self-metrics, health_check), bound to an otelcol
/// style <c>host:port</c> endpoint. Port 0 picks a free port; <see cref="Port"/> says which.
/// </summary>
public sealed class LocalHttpServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private LocalHttpServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The bound port (the OS's pick when the endpoint asked for 0).</summary>
    public int Port { get; }

    public static async Task<LocalHttpServer> StartAsync(string endpoint, RequestDelegate handler, CancellationToken cancellationToken)
    {
        var (host, port) = ParseEndpoint(endpoint);
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        // The default console lifetime would stop this server on SIGTERM by itself; the collector decides when it stops.
        builder.Services.AddSingleton<IHostLifetime, CollectorOwnedLifetime>();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            switch (host)
            {
                // Kestrel cannot pick a dynamic port for "localhost" (two sockets); loopback IPv4 is what tests want.
                case "localhost" when port == 0: kestrel.Listen(IPAddress.Loopback, 0); break;
                case "localhost": kestrel.ListenLocalhost(port); break;
                case "" or "0.0.0.0" or "::" or "*": kestrel.ListenAnyIP(port); break;
                default: kestrel.Listen(ResolveAddress(host), port); break;
            }
        });
        var app = builder.Build();
        ((IApplicationBuilder)app).Run(handler);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (Exception ex)
        {
            await app.DisposeAsync();
            throw new IOException($"cannot listen on {endpoint}: {ex.Message}", ex);
        }
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        var boundPort = addresses.Select(a => new Uri(a.Replace("*", "localhost").Replace("+", "localhost")).Port).First();
        return new LocalHttpServer(app, boundPort);
    }

    /// <summary>Splits <c>host:port</c>, <c>[v6]:port</c> or <c>:port</c>; the error says what was expected.</summary>
    public static (string Host, int Port) ParseEndpoint(string endpoint)
    {
        var colon = endpoint.LastIndexOf(':');
        if (colon < 0 || !int.TryParse(endpoint.AsSpan(colon + 1), out var port) || port is < 0 or > 65535)
            throw new FormatException($"endpoint \"{endpoint}\" must be host:port with a port between 0 and 65535");
        var host = endpoint[..colon];
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        return (host, port);
    }

    private static IPAddress ResolveAddress(string host) =>
        IPAddress.TryParse(host, out var address)
            ? address
            : Dns.GetHostAddresses(host).FirstOrDefault() ?? throw new IOException($"cannot resolve host \"{host}\"");

    private sealed class CollectorOwnedLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _app.StopAsync(stopTimeout.Token); }
        finally { await _app.DisposeAsync(); }
    }
}
