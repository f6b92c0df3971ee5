using OtelAi.Engine.Settings;
using OtelAi.Engine.Config;

namespace OtelAi.Receivers.Otlp;

/// <summary>otelcol's otlp receiver config: a protocol is served when its key is present (<c>grpc:</c> alone enables defaults).</summary>
public sealed record OtlpReceiverConfig : ComponentConfig
{
    public OtlpProtocolsConfig Protocols { get; init; } = new();

    public override IEnumerable<ConfigError> Validate()
    {
        if (Protocols.Grpc is null && Protocols.Http is null)
            yield return new ConfigError("protocols", "must specify at least one protocol when using the OTLP receiver");
    }
}

public sealed record OtlpProtocolsConfig
{
    public GrpcServerConfig? Grpc { get; init; }

    public HttpServerConfig? Http { get; init; }
}

/// <summary>configgrpc.ServerConfig, with the otlp receiver's defaults.</summary>
public sealed record GrpcServerConfig : IConfigSection
{
    [ConfigDescription("host:port to listen on; localhost binds loopback only, 0.0.0.0 or an empty host every interface.")]
    public string Endpoint { get; init; } = "localhost:4317";

    [ConfigDescription("Listener transport; only tcp is served.")]
    public string Transport { get; init; } = "tcp";

    [ConfigDescription("Largest request message accepted, in MiB (after decompression).")]
    [ConfigRange(0)]
    public int MaxRecvMsgSizeMib { get; init; } = 4;

    [ConfigDescription("Concurrent HTTP/2 streams per connection; 0 keeps the server default (100).")]
    [ConfigRange(0)]
    public int MaxConcurrentStreams { get; init; }

    [ConfigDescription("Accepted for otelcol compatibility; Kestrel sizes its socket buffers itself.")]
    [ConfigRange(0)]
    public int ReadBufferSize { get; init; } = 512 * 1024;

    [ConfigDescription("Accepted for otelcol compatibility; Kestrel sizes its socket buffers itself.")]
    [ConfigRange(0)]
    public int WriteBufferSize { get; init; }

    public GrpcKeepaliveConfig? Keepalive { get; init; }

    public TlsServerSettings? Tls { get; init; }

    [ConfigDescription("Make request headers available to processors (client metadata).")]
    public bool IncludeMetadata { get; init; }

    /// <summary>Auth extensions are not served yet: the key is accepted only when absent.</summary>
    public ConfigValue? Auth { get; init; }

    public long MaxRecvMsgSizeBytes => MaxRecvMsgSizeMib == 0 ? 4L << 20 : (long)MaxRecvMsgSizeMib << 20;

    public IEnumerable<ConfigError> Validate()
    {
        if (!ListenEndpoint.TryParse(Endpoint, out _, out var endpointError))
            yield return new ConfigError("endpoint", endpointError!);
        if (Transport != "tcp")
            yield return new ConfigError("transport", $"transport \"{Transport}\" is not supported; use tcp");
        if (MaxRecvMsgSizeBytes > int.MaxValue - 5)
            yield return new ConfigError("max_recv_msg_size_mib", "must be below 2048");
        if (Auth is not null)
            yield return new ConfigError("auth", "authenticator extensions are not supported by this build");
    }
}

public sealed record GrpcKeepaliveConfig
{
    public GrpcKeepaliveServerParameters? ServerParameters { get; init; }

    public GrpcKeepaliveEnforcementPolicy? EnforcementPolicy { get; init; }
}

public sealed record GrpcKeepaliveServerParameters
{
    [ConfigDescription("Close connections idle this long (0 = never).")]
    public TimeSpan MaxConnectionIdle { get; init; }

    [ConfigDescription("Accepted; Kestrel has no maximum connection age.")]
    public TimeSpan MaxConnectionAge { get; init; }

    [ConfigDescription("Accepted; Kestrel has no maximum connection age.")]
    public TimeSpan MaxConnectionAgeGrace { get; init; }

    [ConfigDescription("Send an HTTP/2 PING after this much inactivity (0 = never).")]
    public TimeSpan Time { get; init; }

    [ConfigDescription("Close the connection when a keepalive PING is not answered within this time.")]
    public TimeSpan Timeout { get; init; }
}

public sealed record GrpcKeepaliveEnforcementPolicy
{
    [ConfigDescription("Accepted; Kestrel does not police client ping rates.")]
    public TimeSpan MinTime { get; init; }

    [ConfigDescription("Accepted; Kestrel does not police client ping rates.")]
    public bool PermitWithoutStream { get; init; }
}

/// <summary>confighttp.ServerConfig plus the otlp receiver's URL paths.</summary>
public sealed record HttpServerConfig : IConfigSection
{
    [ConfigDescription("host:port to listen on; localhost binds loopback only, 0.0.0.0 or an empty host every interface.")]
    public string Endpoint { get; init; } = "localhost:4318";

    public string TracesUrlPath { get; init; } = "/v1/traces";

    public string MetricsUrlPath { get; init; } = "/v1/metrics";

    public string LogsUrlPath { get; init; } = "/v1/logs";

    [ConfigDescription("Largest request body accepted, in bytes, before and after decompression; larger requests get 413.")]
    [ConfigRange(0)]
    public long MaxRequestBodySize { get; init; } = 20L << 20;

    public CorsConfig? Cors { get; init; }

    public TlsServerSettings? Tls { get; init; }

    [ConfigDescription("Make request headers available to processors (client metadata).")]
    public bool IncludeMetadata { get; init; }

    [ConfigDescription("Headers added to every response.")]
    public Dictionary<string, string> ResponseHeaders { get; init; } = new();

    /// <summary>Auth extensions are not served yet: the key is accepted only when absent.</summary>
    public ConfigValue? Auth { get; init; }

    public long EffectiveMaxRequestBodySize => MaxRequestBodySize <= 0 ? 20L << 20 : MaxRequestBodySize;

    public IEnumerable<ConfigError> Validate()
    {
        if (!ListenEndpoint.TryParse(Endpoint, out _, out var endpointError))
            yield return new ConfigError("endpoint", endpointError!);
        foreach (var (key, path) in new[] { ("traces_url_path", TracesUrlPath), ("metrics_url_path", MetricsUrlPath), ("logs_url_path", LogsUrlPath) })
            if (!path.StartsWith('/'))
                yield return new ConfigError(key, $"\"{path}\" must start with /");
        if (Auth is not null)
            yield return new ConfigError("auth", "authenticator extensions are not supported by this build");
    }
}

public sealed record CorsConfig
{
    [ConfigDescription("Origins allowed to send requests; * and one-wildcard patterns such as https://*.example.com.")]
    public List<string> AllowedOrigins { get; init; } = [];

    [ConfigDescription("Request headers allowed besides the CORS-safelisted ones; * allows any.")]
    public List<string> AllowedHeaders { get; init; } = [];

    [ConfigDescription("Seconds a browser may cache a preflight answer (0 = header not sent).")]
    [ConfigRange(0)]
    public int MaxAge { get; init; }
}
