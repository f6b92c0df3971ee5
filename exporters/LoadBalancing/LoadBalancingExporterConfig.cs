using OtelAi.Engine.Config;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.Settings;
using OtelAi.Exporters.Otlp;

namespace OtelAi.Exporters.LoadBalancing;

/// <summary>otelcol-contrib's loadbalancing exporter config: how to route, to which backends, over OTLP/gRPC.</summary>
[ConfigDescription("Routes data to a set of OTLP backends by a key (trace id by default), so related data reaches the same backend.")]
public sealed record LoadBalancingExporterConfig : ComponentConfig
{
    private static readonly string[] RoutingKeys = ["traceID", "service", "resource", "metric", "attributes"];

    [ConfigDescription("What routes an item: traceID (spans and log records of a trace together; metrics: by service), service, resource, metric (metrics) or attributes (routing_attributes).")]
    public string RoutingKey { get; init; } = "traceID";

    [ConfigDescription("With routing_key attributes: the resource, then item attributes whose values form the key, in order.")]
    public List<string> RoutingAttributes { get; init; } = [];

    [ConfigDescription("How each backend is reached: protocol.otlp takes the otlp exporter's settings (its endpoint is each resolved backend).")]
    public LoadBalancingProtocol Protocol { get; init; } = new();

    [ConfigDescription("Where the backends come from: static hostnames, a DNS name or a Kubernetes Service (exactly one).")]
    public LoadBalancingResolver Resolver { get; init; } = new();

    public override IEnumerable<ConfigError> Validate()
    {
        if (RoutingKey == "streamID")
            yield return new("routing_key", "streamID (per data point) is not supported by otelai; use metric, resource or service");
        else if (!RoutingKeys.Contains(RoutingKey))
            yield return new("routing_key", $"unsupported routing_key \"{RoutingKey}\" (one of {string.Join(", ", RoutingKeys)})");
        if (RoutingKey == "attributes" && RoutingAttributes.Count == 0)
            yield return new("routing_attributes", "must list at least one attribute with routing_key attributes");
        var resolvers = (Resolver.Static is null ? 0 : 1) + (Resolver.Dns is null ? 0 : 1) + (Resolver.K8s is null ? 0 : 1);
        if (resolvers != 1) yield return new("resolver", "set exactly one of static, dns or k8s");
        if (Resolver.K8s is { Service.Length: 0 }) yield return new("resolver.k8s.service", "must be set (name or name.namespace)");
        if (Resolver.Static is { Hostnames.Count: 0 }) yield return new("resolver.static.hostnames", "must list at least one backend");
        if (Resolver.Dns is { Hostname.Length: 0 }) yield return new("resolver.dns.hostname", "must be set");
    }
}

public sealed record LoadBalancingProtocol
{
    public OtlpBackendConfig Otlp { get; init; } = new();
}

/// <summary>The otlp exporter's settings for every backend; the endpoint of each is its resolved address.</summary>
public sealed record OtlpBackendConfig
{
    [ConfigSquash]
    public GrpcClientSettings Client { get; init; } = new();

    [ConfigSquash]
    public TimeoutSettings TimeoutSettings { get; init; } = new();

    [ConfigDescription("Each backend's own queue.")]
    public QueueConfig SendingQueue { get; init; } = new();

    [ConfigDescription("Each backend's retries.")]
    public RetryConfig RetryOnFailure { get; init; } = new();

    /// <summary>The otlp exporter config of one backend.</summary>
    internal OtlpExporterConfig For(string endpoint) => new()
    {
        Client = Client with { Endpoint = endpoint }, TimeoutSettings = TimeoutSettings, SendingQueue = SendingQueue, RetryOnFailure = RetryOnFailure,
    };
}

public sealed record LoadBalancingResolver
{
    public StaticResolverConfig? Static { get; init; }

    public DnsResolverConfig? Dns { get; init; }

    [ConfigDescription("A Kubernetes Service's ready endpoints, watched through the API server with the pod's service account.")]
    public K8sResolverConfig? K8s { get; init; }
}

public sealed record StaticResolverConfig
{
    [ConfigDescription("Backends as host:port (port 4317 when left out).")]
    public List<string> Hostnames { get; init; } = [];
}

public sealed record K8sResolverConfig
{
    [ConfigDescription("The Service as name or name.namespace (default: the pod's namespace).")]
    public string Service { get; init; } = "";

    [ConfigDescription("Ports every endpoint is reached on.")]
    public List<int> Ports { get; init; } = [4317];

    [ConfigDescription("How long one list of the endpoints may take.")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);

    [ConfigDescription("Use the endpoints' hostnames (StatefulSet pods: name.service.namespace) instead of their addresses.")]
    public bool ReturnHostnames { get; init; }
}

public sealed record DnsResolverConfig
{
    [ConfigDescription("DNS name whose A/AAAA records are the backends (a headless Service in Kubernetes).")]
    public string Hostname { get; init; } = "";

    [ConfigDescription("Port of every backend.")]
    public string Port { get; init; } = "4317";

    [ConfigDescription("How often the name is resolved again.")]
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(5);

    [ConfigDescription("How long one resolution may take.")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(1);
}
