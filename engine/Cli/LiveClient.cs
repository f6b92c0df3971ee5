using System.Net.Http.Headers;
using System.Text;

namespace OtelAi.Cli;

/// <summary>
/// A client of a running collector's endpoints (the zpages live API for <c>otelai top</c> and <c>otelai tap</c>,
/// health_check for <c>otelai health</c>): the endpoint as the extension's <c>endpoint</c> key writes it (or a full
/// http(s) URL), and an optional bearer token.
/// </summary>
internal sealed class LiveClient : IDisposable
{
    public const string DefaultEndpoint = "localhost:55679";
    public const string TokenVariable = "OTELAI_ZPAGES_TOKEN";

    private readonly HttpClient _http;

    private LiveClient(Uri baseAddress, string? token, bool insecure)
    {
        var handler = new SocketsHttpHandler();
        if (insecure) handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        _http = new HttpClient(handler) { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        if (!string.IsNullOrEmpty(token)) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public Uri BaseAddress => _http.BaseAddress!;

    /// <summary>The client for <c>--endpoint</c>, <c>--token</c> (else $OTELAI_ZPAGES_TOKEN) and <c>--insecure-skip-verify</c>, or an error.</summary>
    public static LiveClient? Create(string? endpoint, string? token, bool insecure, out string? error)
    {
        endpoint ??= DefaultEndpoint;
        var text = endpoint.Contains("://", StringComparison.Ordinal) ? endpoint : "http://" + endpoint;
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            error = $"--endpoint: \"{endpoint}\" is not host:port or an http(s) URL";
            return null;
        }
        error = null;
        return new LiveClient(new Uri(uri.GetLeftPart(UriPartial.Authority) + "/"), token ?? Environment.GetEnvironmentVariable(TokenVariable), insecure);
    }

    /// <summary>GET a path; throws <see cref="LiveApiException"/> with the server's error text on a non-success status.</summary>
    public async Task<string> GetAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(path, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode) throw new LiveApiException(Describe(response, body));
        return body;
    }

    /// <summary>GET a path and return its status code and body, whatever the status.</summary>
    public async Task<(int Status, string Body)> GetStatusAsync(string path, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync(path, cancellationToken);
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken));
    }

    /// <summary>The server-sent events of a path, as (event name, data) pairs, until the stream ends.</summary>
    public async IAsyncEnumerable<(string Name, string Data)> EventsAsync(string path,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.ParseAdd("text/event-stream");
        using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode) throw new LiveApiException(Describe(response, await response.Content.ReadAsStringAsync(cancellationToken)));
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken), Encoding.UTF8);
        string name = "message";
        var data = new StringBuilder();
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                if (data.Length > 0) yield return (name, data.ToString());
                name = "message";
                data.Clear();
            }
            else if (line.StartsWith("event: ", StringComparison.Ordinal)) name = line[7..];
            else if (line.StartsWith("data: ", StringComparison.Ordinal)) data.Append(line, 6, line.Length - 6);
        }
    }

    private static string Describe(HttpResponseMessage response, string body)
    {
        var status = (int)response.StatusCode;
        if (status == 401) return $"401 Unauthorized: pass the token with --token or ${TokenVariable}";
        try
        {
            using var json = System.Text.Json.JsonDocument.Parse(body);
            if (json.RootElement.TryGetProperty("error", out var message)) return $"{status}: {message.GetString()}";
        }
        catch (System.Text.Json.JsonException)
        {
        }
        return $"{status} {response.ReasonPhrase}";
    }

    public void Dispose() => _http.Dispose();
}

internal sealed class LiveApiException(string message) : Exception(message);

/// <summary>The flags <c>top</c> and <c>tap</c> share, read from <c>--name value</c> pairs.</summary>
internal sealed class LiveArguments
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _switches = new(StringComparer.Ordinal);

    /// <summary>Parses <paramref name="args"/>; null with an error for an unknown flag or a missing value.</summary>
    public static LiveArguments? Parse(IReadOnlyList<string> args, IReadOnlySet<string> valued, IReadOnlySet<string> switches, out string? error)
    {
        var parsed = new LiveArguments();
        for (var i = 0; i < args.Count; i++)
        {
            var arg = args[i];
            var eq = arg.IndexOf('=');
            var name = eq > 0 ? arg[..eq] : arg;
            if (switches.Contains(name) && eq < 0) parsed._switches.Add(name);
            else if (valued.Contains(name))
            {
                if (eq > 0) parsed._values[name] = arg[(eq + 1)..];
                else if (i + 1 < args.Count) parsed._values[name] = args[++i];
                else
                {
                    error = $"{name} needs a value";
                    return null;
                }
            }
            else
            {
                error = $"unknown argument \"{arg}\"; flags: {string.Join(", ", valued.Concat(switches).Order(StringComparer.Ordinal))}";
                return null;
            }
        }
        error = null;
        return parsed;
    }

    public string? this[string name] => _values.GetValueOrDefault(name);

    public bool Has(string name) => _switches.Contains(name);
}
