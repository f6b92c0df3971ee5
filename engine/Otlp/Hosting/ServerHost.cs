using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace OtelAi.Otlp.Hosting;

/// <summary>
/// Every Kestrel server inside the engine (OTLP receivers, health_check, self-metrics): one terminal request
/// handler on an otelcol <c>host:port</c> endpoint, with optional TLS, hosted so that the collector, not the
/// process, controls its lifetime. Port 0 picks a free port; <see cref="Port"/> says which.
/// </summary>
internal sealed class ServerHost : IAsyncDisposable
{
    private readonly WebApplication _app;
    private int _disposed;

    private ServerHost(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    /// <summary>The bound port (the OS's pick when the endpoint asked for 0).</summary>
    public int Port { get; }

    /// <summary>Starts listening; a failure to bind is an <see cref="IOException"/> naming the endpoint.</summary>
    public static async Task<ServerHost> StartAsync(string endpoint, RequestDelegate handler, ServerHostSetup setup, CancellationToken cancellationToken)
    {
        if (!TryParseEndpoint(endpoint, out var host, out var port, out var error)) throw new FormatException(error);
        var app = Build(host, port, handler, setup);
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
        return new ServerHost(app, boundPort);
    }

    /// <summary>
    /// Whether <paramref name="context"/> is a GET or HEAD of <paramref name="path"/>; if not, answers 404 (another
    /// path) or 405 (another method) and returns false. The engine's small read-only endpoints start with it.
    /// </summary>
    public static bool IsReadOf(HttpContext context, string path)
    {
        if (context.Request.Path != path)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return false;
        }
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)) return true;
        context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        return false;
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

    /// <summary>Stops accepting and lets in-flight requests finish until <paramref name="cancellationToken"/> fires.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        try { await _app.StopAsync(cancellationToken); }
        catch (OperationCanceledException) { }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0) return;
        using var stopTimeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { await StopAsync(stopTimeout.Token); }
        finally { await _app.DisposeAsync(); }
    }

    private static WebApplication Build(string host, int port, RequestDelegate handler, ServerHostSetup setup)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Logging.ClearProviders();
        // The default console lifetime would swallow SIGINT/SIGTERM and stop the server by itself, leaving an
        // embedding process unable to exit and the collector unable to drain in order.
        builder.Services.AddSingleton<IHostLifetime, CollectorOwnedLifetime>();
        builder.WebHost.UseKestrelCore();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxConcurrentConnections = setup.MaxConnections;
            setup.ConfigureLimits?.Invoke(kestrel);
            Listen(kestrel, host, port, listen =>
            {
                if (setup.Tls is not { } tls)
                {
                    listen.Protocols = setup.PlaintextProtocols;
                    return;
                }
                listen.Protocols = HttpProtocols.Http1AndHttp2;
                listen.UseHttps(new HttpsConnectionAdapterOptions
                {
                    ServerCertificateSelector = (_, _) => tls.Certificate,
                    SslProtocols = tls.Protocols,
                    ClientCertificateMode = tls.ClientCa is null ? ClientCertificateMode.NoCertificate : ClientCertificateMode.RequireCertificate,
                    ClientCertificateValidation = tls.ClientCa is null ? null : (certificate, _, _) => tls.IsTrustedClient(certificate),
                });
            });
        });
        var app = builder.Build();
        var logger = setup.Logger;
        ((IApplicationBuilder)app).Run(logger is null ? handler : async context =>
        {
            try
            {
                await handler(context);
            }
            catch (Exception ex) when (!context.RequestAborted.IsCancellationRequested)
            {
                // A bug or an unexpected failure: log it; Kestrel answers 500 (or resets the stream) for this request only.
                logger.LogError(ex, "unexpected failure serving {Method} {Path}", context.Request.Method, context.Request.Path.Value);
                throw;
            }
        });
        return app;
    }

    /// <summary>
    /// localhost → loopback (v4 and v6; v4 only for port 0, since Kestrel cannot pick one dynamic port for two
    /// sockets), empty/0.0.0.0/:: → every interface, else the address (names resolved).
    /// </summary>
    private static void Listen(KestrelServerOptions options, string host, int port, Action<ListenOptions> configure)
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
