using OtelAi.Otlp;
using System.Net;
using System.Net.Http.Headers;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Settings;

namespace OtelAi.Exporters.Otlp;

/// <summary>The HttpClient both OTLP exporters send with: pooled HTTP/2-capable connections, TLS per configtls.</summary>
internal static class OtlpHttpClient
{
    public static readonly ProductInfoHeaderValue UserAgent = new("otelai", BuildInfo.Current.Version);

    /// <param name="connections">The HTTP exporters' confighttp connection settings (proxy, idle timeout, per-host cap); null for gRPC.</param>
    public static HttpClient Create(TlsClientSettings tls, string host, bool useTls, KeepaliveClientSettings? keepalive, HttpClientSettings? connections = null)
    {
        var handler = new SocketsHttpHandler
        {
            // Several consumers send at once; more than one HTTP/2 connection avoids one TCP stream becoming the bottleneck.
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(90),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            UseProxy = false,
        };
        if (connections is not null)
        {
            handler.PooledConnectionIdleTimeout = connections.DisableKeepAlives ? TimeSpan.Zero
                : connections.IdleConnTimeout == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : connections.IdleConnTimeout;
            if (connections.MaxConnsPerHost > 0) handler.MaxConnectionsPerServer = connections.MaxConnsPerHost;
            if (connections.ProxyUrl.Length > 0)
            {
                handler.UseProxy = true;
                handler.Proxy = new WebProxy(connections.ProxyUrl);
            }
        }
        if (keepalive is not null)
        {
            handler.KeepAlivePingDelay = keepalive.Time;
            handler.KeepAlivePingTimeout = keepalive.Timeout;
            handler.KeepAlivePingPolicy = keepalive.PermitWithoutStream ? HttpKeepAlivePingPolicy.Always : HttpKeepAlivePingPolicy.WithActiveRequests;
        }
        if (useTls) handler.SslOptions = tls.ToSslOptions(host);
        // Deadlines come from the exporter helper's per-attempt timeout, not from HttpClient.
        return new HttpClient(handler, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>
    /// Sends <paramref name="message"/> and reads the whole response body. Transport failures (refused or reset
    /// connections, TLS failures, HTTP/2 stream resets, I/O errors) become retryable refusals: the server may be back later.
    /// </summary>
    public static async Task<(HttpResponseMessage Response, byte[] Body)> SendAsync(
        HttpClient client, HttpRequestMessage message, string target, CancellationToken cancellationToken)
    {
        try
        {
            var response = await client.SendAsync(message, HttpCompletionOption.ResponseContentRead, cancellationToken);
            try
            {
                return (response, await response.Content.ReadAsByteArrayAsync(cancellationToken));
            }
            catch
            {
                response.Dispose();
                throw;
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException)
        {
            throw new RetryableDataException($"{target}: UNAVAILABLE: {Describe(ex)}", inner: ex);
        }
    }

    /// <summary>A URL as logs and errors show it: a password in it replaced by xxxxx, as otelcol shows URLs (user:xxxxx@host).</summary>
    public static string Redacted(Uri uri)
    {
        var separator = uri.UserInfo.IndexOf(':');
        return separator < 0 ? uri.ToString() : new UriBuilder(uri) { Password = "xxxxx" }.Uri.ToString();
    }

    /// <summary>The wait a Retry-After header asks for (seconds or an HTTP date), or null.</summary>
    public static TimeSpan? RetryAfter(RetryConditionHeaderValue? header)
    {
        if (header?.Delta is { } delta) return delta;
        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait > TimeSpan.Zero ? wait : TimeSpan.Zero;
        }
        return null;
    }

    private static string Describe(Exception ex) =>
        ex.InnerException is { } inner && !ex.Message.Contains(inner.Message, StringComparison.Ordinal) ? $"{ex.Message} ({inner.Message})" : ex.Message;
}
