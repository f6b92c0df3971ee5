using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Service;
using OtelAi.Otlp.Hosting;

namespace OtelAi.Engine.Extensions;

/// <summary>
/// An extension that serves pages about the running collector (health_check, zpages): it reads the host's
/// <see cref="ICollectorStatus"/>, listens on its endpoint (TLS when configured) and stops listening at shutdown.
/// </summary>
internal abstract class CollectorPageServer(ComponentCreateSettings settings, string endpoint, Settings.TlsServerSettings? tls) : IComponent
{
    private ICollectorStatus? _status;
    private ServerHost? _server;
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Cancelled when shutdown begins: long-lived responses (event streams) end with it.</summary>
    protected CancellationToken Stopping => _stopping.Token;

    /// <summary>The host the extension was started with.</summary>
    protected IComponentHost? Host { get; private set; }

    protected ComponentCreateSettings Settings => settings;

    /// <summary>The collector, once started.</summary>
    protected ICollectorStatus Status => _status ?? throw new InvalidOperationException($"{settings.Id} is not started");

    /// <summary>The bound port (useful when the endpoint asked for port 0).</summary>
    public int Port => _server?.Port ?? throw new InvalidOperationException($"{settings.Id} is not started");

    /// <summary>What the start-up log line says is served there.</summary>
    protected abstract string Serves { get; }

    protected abstract Task HandleAsync(HttpContext context);

    public async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        _status = host as ICollectorStatus
            ?? throw new InvalidOperationException($"{settings.Id} needs a host that reports the collector (ICollectorStatus)");
        Host = host;
        _server = await ServerHost.StartAsync(endpoint, HandleAsync, ServerHostSetup.Http1Or(tls?.Load(), settings.Logger), cancellationToken);
        settings.Logger.LogInformation("{Extension} serving on {Endpoint} (port {Port}): {Serves}", settings.Id, endpoint, _server.Port, Serves);
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_server is not null) await _server.DisposeAsync();
        _server = null;
    }
}
