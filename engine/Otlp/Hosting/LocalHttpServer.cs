using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OtelAi.Otlp.Hosting;

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
        var builder = KestrelHosting.CreateBuilder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            KestrelHosting.Listen(kestrel, host, port, _ => { });
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
    public static (string Host, int Port) ParseEndpoint(string endpoint) =>
        KestrelHosting.TryParseEndpoint(endpoint, out var host, out var port, out var error) ? (host, port) : throw new FormatException(error);

    public async ValueTask DisposeAsync()
    {
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await _app.StopAsync(stopTimeout.Token); }
        finally { await _app.DisposeAsync(); }
    }
}
