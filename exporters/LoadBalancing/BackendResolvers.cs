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

/// <summary>
/// k8s: the ready addresses of a Service's EndpointSlices, listed then watched through the API server with the pod's
/// service account (token, CA and namespace from /var/run/secrets/kubernetes.io/serviceaccount); each address with
/// every configured port. A broken watch is listed and watched again after a second; the known backends stay meanwhile.
/// </summary>
internal sealed class K8sResolver : IBackendResolver
{
    private const string AccountDirectory = "/var/run/secrets/kubernetes.io/serviceaccount";

    private readonly K8sResolverConfig _config;
    private readonly ILogger _logger;
    private readonly Counter _succeeded;
    private readonly Counter _failed;
    private readonly Uri _apiServer;
    private readonly Func<string?> _token;
    private readonly HttpClient _http;
    private readonly string _service;
    private readonly string _namespace;
    private readonly CancellationTokenSource _stop = new();
    private readonly Dictionary<string, List<(string Address, string? Hostname)>> _slices = new(StringComparer.Ordinal);
    private IReadOnlyList<string> _known = [];
    private Task? _loop;

    /// <param name="apiServer">Null: https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with the service account's token and CA.</param>
    public K8sResolver(K8sResolverConfig config, ILogger logger, Counter succeeded, Counter failed,
        Uri? apiServer = null, Func<string?>? token = null, HttpClient? http = null, string? podNamespace = null)
    {
        _config = config;
        _logger = logger;
        _succeeded = succeeded;
        _failed = failed;
        var dot = config.Service.IndexOf('.');
        _service = dot < 0 ? config.Service : config.Service[..dot];
        _namespace = dot < 0 ? podNamespace ?? ReadAccountFile("namespace") ?? "default" : config.Service[(dot + 1)..];
        _apiServer = apiServer ?? new Uri($"https://{Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST") ?? "kubernetes.default.svc"}:{Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_PORT") ?? "443"}");
        _token = token ?? (() => ReadAccountFile("token")); // read every time: projected tokens rotate
        _http = http ?? ClusterClient();
    }

    private static string? ReadAccountFile(string name)
    {
        try { return File.ReadAllText(Path.Combine(AccountDirectory, name)).Trim(); }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }

    /// <summary>An HTTP client that trusts the cluster's CA (the service account's ca.crt) for the API server.</summary>
    private static HttpClient ClusterClient()
    {
        var caFile = Path.Combine(AccountDirectory, "ca.crt");
        var handler = new HttpClientHandler();
        if (File.Exists(caFile))
        {
            var ca = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(caFile);
            handler.ServerCertificateCustomValidationCallback = (_, certificate, chain, errors) =>
            {
                if (errors == System.Net.Security.SslPolicyErrors.None) return true;
                if (certificate is null || chain is null) return false;
                chain.ChainPolicy.TrustMode = System.Security.Cryptography.X509Certificates.X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.CustomTrustStore.Add(ca);
                chain.ChainPolicy.RevocationMode = System.Security.Cryptography.X509Certificates.X509RevocationMode.NoCheck;
                return chain.Build(certificate);
            };
        }
        return new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
    }

    private string SlicesPath => $"/apis/discovery.k8s.io/v1/namespaces/{Uri.EscapeDataString(_namespace)}/endpointslices?labelSelector=kubernetes.io%2Fservice-name%3D{Uri.EscapeDataString(_service)}";

    public async Task StartAsync(Func<IReadOnlyList<string>, Task> changed, CancellationToken cancellationToken)
    {
        var version = await ListAsync(changed, cancellationToken);
        _loop = WatchLoopAsync(changed, version, _stop.Token);
    }

    private HttpRequestMessage Request(string pathAndQuery)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, new Uri(_apiServer, pathAndQuery));
        if (_token() is { Length: > 0 } token) request.Headers.Authorization = new("Bearer", token);
        return request;
    }

    /// <summary>Lists the slices (replacing what is known); returns the list's resourceVersion, or null when the list failed.</summary>
    private async Task<string?> ListAsync(Func<IReadOnlyList<string>, Task> changed, CancellationToken cancellationToken)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_config.Timeout);
            using var response = await _http.SendAsync(Request(SlicesPath), timeout.Token);
            response.EnsureSuccessStatusCode();
            using var list = await System.Text.Json.JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(timeout.Token), default, timeout.Token);
            _slices.Clear();
            foreach (var slice in list.RootElement.GetProperty("items").EnumerateArray()) Apply("ADDED", slice);
            _succeeded.Add(1);
            await PublishAsync(changed);
            return list.RootElement.GetProperty("metadata").TryGetProperty("resourceVersion", out var version) ? version.GetString() : null;
        }
        catch (Exception ex) when (ex is HttpRequestException or System.Text.Json.JsonException or KeyNotFoundException || ex is OperationCanceledException && !cancellationToken.IsCancellationRequested)
        {
            _failed.Add(1);
            _logger.LogWarning("load_balancing: cannot list the endpoints of service {Service}.{Namespace}: {Error}; keeping the {Count} backends known",
                _service, _namespace, ex is OperationCanceledException ? $"no answer within {_config.Timeout}" : ex.Message, _known.Count);
            return null;
        }
    }

    private async Task WatchLoopAsync(Func<IReadOnlyList<string>, Task> changed, string? version, CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                if (version is not null) await WatchAsync(changed, version, stopping);
                await Task.Delay(TimeSpan.FromSeconds(1), stopping);
                version = await ListAsync(changed, stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Follows the watch stream (one JSON event per line) until it ends or breaks.</summary>
    private async Task WatchAsync(Func<IReadOnlyList<string>, Task> changed, string version, CancellationToken stopping)
    {
        try
        {
            using var response = await _http.SendAsync(Request($"{SlicesPath}&watch=true&resourceVersion={Uri.EscapeDataString(version)}&allowWatchBookmarks=true"),
                HttpCompletionOption.ResponseHeadersRead, stopping);
            response.EnsureSuccessStatusCode();
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(stopping));
            while (await reader.ReadLineAsync(stopping) is { } line)
            {
                if (line.Length == 0) continue;
                using var watchEvent = System.Text.Json.JsonDocument.Parse(line);
                var type = watchEvent.RootElement.GetProperty("type").GetString();
                if (type == "ERROR") return; // e.g. 410 Gone: the version is too old; list again
                if (type is "ADDED" or "MODIFIED" or "DELETED")
                {
                    Apply(type, watchEvent.RootElement.GetProperty("object"));
                    await PublishAsync(changed);
                }
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException or System.Text.Json.JsonException or KeyNotFoundException)
        {
            _logger.LogWarning("load_balancing: the watch of service {Service}.{Namespace} broke: {Error}; listing again", _service, _namespace, ex.Message);
        }
    }

    private void Apply(string type, System.Text.Json.JsonElement slice)
    {
        var name = slice.GetProperty("metadata").GetProperty("name").GetString()!;
        if (type == "DELETED")
        {
            _slices.Remove(name);
            return;
        }
        var addresses = new List<(string Address, string? Hostname)>();
        if (slice.TryGetProperty("endpoints", out var endpoints) && endpoints.ValueKind == System.Text.Json.JsonValueKind.Array)
            foreach (var endpoint in endpoints.EnumerateArray())
            {
                // Not ready (starting, terminating): not a backend. A missing condition means ready, as the API documents.
                if (endpoint.TryGetProperty("conditions", out var conditions) && conditions.TryGetProperty("ready", out var ready) && ready.ValueKind == System.Text.Json.JsonValueKind.False) continue;
                var hostname = endpoint.TryGetProperty("hostname", out var host) ? host.GetString() : null;
                foreach (var address in endpoint.GetProperty("addresses").EnumerateArray()) addresses.Add((address.GetString()!, hostname));
            }
        _slices[name] = addresses;
    }

    private async Task PublishAsync(Func<IReadOnlyList<string>, Task> changed)
    {
        var backends = _slices.Values.SelectMany(a => a)
            .Select(a => _config.ReturnHostnames && a.Hostname is { Length: > 0 } hostname ? $"{hostname}.{_service}.{_namespace}" : a.Address.Contains(':') ? $"[{a.Address}]" : a.Address)
            .SelectMany(host => _config.Ports.Select(port => $"{host}:{port}"))
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
        _http.Dispose();
    }
}
