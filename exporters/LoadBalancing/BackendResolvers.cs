using System.Net;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.SelfTelemetry;

namespace OtelAi.Exporters.LoadBalancing;

/// <summary>Finds the backends and reports every change of the set (the first before start returns).</summary>
internal interface IBackendResolver : IAsyncDisposable
{
    Task StartAsync(Func<IReadOnlyList<string>, Task> changed, CancellationToken cancellationToken);
}

/// <summary>static: the configured hostnames, once.</summary>
internal sealed class StaticResolver(StaticResolverConfig config) : IBackendResolver
{
    public Task StartAsync(Func<IReadOnlyList<string>, Task> changed, CancellationToken cancellationToken) =>
        changed([.. config.Hostnames.Select(h => HasPort(h) ? h : $"{h}:4317").Distinct().Order(StringComparer.Ordinal)]);

    private static bool HasPort(string host) => host.LastIndexOf(':') is var colon and > 0 && host[(colon + 1)..].All(char.IsAsciiDigit) && !host.EndsWith(']');

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// dns: the name's addresses, resolved every interval; a failed resolution keeps the backends known so far (a DNS
/// hiccup must not empty the ring), and is counted and logged.
/// </summary>
internal sealed class DnsResolver(DnsResolverConfig config, ILogger logger, Counter succeeded, Counter failed, Func<string, CancellationToken, Task<IPAddress[]>>? lookup = null) : IBackendResolver
{
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _lookup = lookup ?? Dns.GetHostAddressesAsync;
    private readonly CancellationTokenSource _stop = new();
    private IReadOnlyList<string> _known = [];
    private Task? _loop;

    public async Task StartAsync(Func<IReadOnlyList<string>, Task> changed, CancellationToken cancellationToken)
    {
        await ResolveAsync(changed, cancellationToken);
        _loop = LoopAsync(changed, _stop.Token);
    }

    private async Task LoopAsync(Func<IReadOnlyList<string>, Task> changed, CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(config.Interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stopping)) await ResolveAsync(changed, stopping);
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task ResolveAsync(Func<IReadOnlyList<string>, Task> changed, CancellationToken cancellationToken)
    {
        IPAddress[] addresses;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(config.Timeout);
            try
            {
                addresses = await _lookup(config.Hostname, timeout.Token);
                succeeded.Add(1);
            }
            catch (Exception ex) when (ex is System.Net.Sockets.SocketException or ArgumentException || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
            {
                failed.Add(1);
                logger.LogWarning("load_balancing: cannot resolve {Hostname}: {Error}; keeping the {Count} backends known", config.Hostname,
                    ex is OperationCanceledException ? $"no answer within {config.Timeout}" : ex.Message, _known.Count);
                return;
            }
        }
        var backends = addresses
            .Select(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{a}]:{config.Port}" : $"{a}:{config.Port}")
            .Distinct().Order(StringComparer.Ordinal).ToList();
        if (backends.SequenceEqual(_known)) return;
        _known = backends;
        await changed(backends);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_loop is not null) await _loop;
        _stop.Dispose();
    }
}
