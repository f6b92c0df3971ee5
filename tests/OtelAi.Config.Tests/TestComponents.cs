using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Otlp;

namespace OtelAi.Config.Tests;

/// <summary>A factory that only carries a config type: all the config loader needs from a registration.</summary>
internal sealed class ConfigOnlyFactory(string type, ComponentKind kind, Type configType, params string[] aliases) : IComponentFactory
{
    public string Type => type;
    public IReadOnlyList<string> Aliases => aliases;
    public ComponentKind Kind => kind;
    public Type ConfigType => configType;
    public ComponentConfig CreateDefaultConfig() => (ComponentConfig)Activator.CreateInstance(configType)!;
    public IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } =
        new Dictionary<Signal, StabilityLevel> { [Signal.Traces] = StabilityLevel.Stable, [Signal.Metrics] = StabilityLevel.Stable, [Signal.Logs] = StabilityLevel.Stable };
}

/// <summary>Test stand-ins with otelcol's keys and defaults for otlp, batch, memory_limiter, debug, file and health_check.</summary>
internal static class TestRegistry
{
    public static ComponentRegistry Create() => new ComponentRegistry()
        .Add(new ConfigOnlyFactory("otlp", ComponentKind.Receiver, typeof(OtlpReceiverTestConfig)))
        .Add(new ConfigOnlyFactory("otlpjsonfile", ComponentKind.Receiver, typeof(AllTypesConfig)))
        .Add(new ConfigOnlyFactory("batch", ComponentKind.Processor, typeof(BatchTestConfig)))
        .Add(new ConfigOnlyFactory("memory_limiter", ComponentKind.Processor, typeof(MemoryLimiterTestConfig)))
        .Add(new ConfigOnlyFactory("debug", ComponentKind.Exporter, typeof(DebugTestConfig)))
        .Add(new ConfigOnlyFactory("otlp_http", ComponentKind.Exporter, typeof(OtlpHttpExporterTestConfig), "otlphttp"))
        .Add(new ConfigOnlyFactory("file", ComponentKind.Exporter, typeof(FileTestConfig)))
        .Add(new ConfigOnlyFactory("forward", ComponentKind.Connector, typeof(EmptyConfig)))
        .Add(new ConfigOnlyFactory("health_check", ComponentKind.Extension, typeof(HealthCheckTestConfig)));
}

public sealed record OtlpReceiverTestConfig : ComponentConfig
{
    public OtlpProtocols Protocols { get; init; } = new();
}

public sealed record OtlpProtocols
{
    /// <summary>Null unless the YAML mentions it: "grpc:" alone turns it on with defaults.</summary>
    public GrpcServerSettings? Grpc { get; init; }

    public HttpServerSettings? Http { get; init; }
}

public sealed record GrpcServerSettings
{
    [ConfigDescription("host:port to listen on.")]
    public string Endpoint { get; init; } = "localhost:4317";

    [ConfigKey("max_recv_msg_size_mib"), ConfigRange(1, 1024)]
    public int MaxRecvMsgSizeMiB { get; init; } = 4;
}

public sealed record HttpServerSettings
{
    public string Endpoint { get; init; } = "localhost:4318";

    public string TracesUrlPath { get; init; } = "/v1/traces";
}

public sealed record BatchTestConfig : ComponentConfig
{
    [ConfigDescription("Items that trigger a send.")]
    public int SendBatchSize { get; init; } = 8192;

    public int SendBatchMaxSize { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(200);

    public override IEnumerable<ConfigError> Validate()
    {
        if (SendBatchMaxSize > 0 && SendBatchMaxSize < SendBatchSize)
            yield return new ConfigError("send_batch_max_size", "must be greater than or equal to send_batch_size");
    }
}

public sealed record MemoryLimiterTestConfig : ComponentConfig
{
    public TimeSpan CheckInterval { get; init; }

    public int LimitMib { get; init; }

    public int SpikeLimitMib { get; init; }

    [ConfigRange(0, 100)]
    public int LimitPercentage { get; init; }

    [ConfigRange(0, 100)]
    public int SpikeLimitPercentage { get; init; }

    public override IEnumerable<ConfigError> Validate()
    {
        if (CheckInterval <= TimeSpan.Zero) yield return new ConfigError("check_interval", "must be greater than zero");
    }
}

public enum Verbosity
{
    Basic,
    Normal,
    Detailed,
}

public sealed record DebugTestConfig : ComponentConfig
{
    public Verbosity Verbosity { get; init; } = Verbosity.Basic;

    public int SamplingInitial { get; init; } = 2;

    public int SamplingThereafter { get; init; } = 1;
}

public sealed record OtlpHttpExporterTestConfig : ComponentConfig
{
    public string Endpoint { get; init; } = "";

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(30);

    public Dictionary<string, string> Headers { get; init; } = new();

    public RetrySettings RetryOnFailure { get; init; } = new();
}

public sealed record RetrySettings
{
    public bool Enabled { get; init; } = true;

    public TimeSpan InitialInterval { get; init; } = TimeSpan.FromSeconds(5);

    public double Multiplier { get; init; } = 1.5;
}

public sealed record FileTestConfig : ComponentConfig
{
    public string Path { get; init; } = "";
}

public sealed record HealthCheckTestConfig : ComponentConfig
{
    public string Endpoint { get; init; } = "localhost:13133";
}

public enum Compression
{
    [ConfigKey("none")] None,
    [ConfigKey("gzip")] Gzip,
    [ConfigKey("zstd")] ZStandard,
}

public sealed record Limits
{
    public int MaxItems { get; init; } = 10;

    public string Name { get; init; } = "default";
}

/// <summary>One property of every type the binder supports.</summary>
public sealed record AllTypesConfig : ComponentConfig
{
    public string Text { get; init; } = "text";
    public string? OptionalText { get; init; }
    public bool Flag { get; init; }
    public int Count { get; init; } = 1;
    public long Big { get; init; }
    public double Ratio { get; init; } = 0.5;
    public int? MaybeCount { get; init; }
    [ConfigRange(0, 1)] public double Fraction { get; init; }
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan? OptionalInterval { get; init; }
    public Compression Compression { get; init; } = Compression.Gzip;
    public Verbosity Level { get; init; } = Verbosity.Normal;
    public ComponentId Storage { get; init; }
    public ComponentId? OptionalStorage { get; init; }
    public List<string> Include { get; init; } = [];
    public IReadOnlyList<int> Ports { get; init; } = [1, 2];
    public string[] Tags { get; init; } = [];
    public IReadOnlySet<string> Keys { get; init; } = new HashSet<string>();
    public IReadOnlyList<Limits> LimitList { get; init; } = [];
    public Dictionary<string, string> Labels { get; init; } = new() { ["keep"] = "me" };
    public IReadOnlyDictionary<string, Limits> LimitsByName { get; init; } = new Dictionary<string, Limits>();
    public Limits Limits { get; init; } = new() { MaxItems = 20 };
    public Limits? OptionalLimits { get; init; }
    public ConfigValue? Extra { get; init; }
    [ConfigKey("renamed-key")] public string Renamed { get; init; } = "";
}

/// <summary>A config whose Validate compiles a user pattern, which throws on a malformed one.</summary>
public sealed record PatternTestConfig : ComponentConfig
{
    public string Pattern { get; init; } = ".*";

    public override IEnumerable<ConfigError> Validate()
    {
        _ = new System.Text.RegularExpressions.Regex(Pattern);
        return [];
    }
}
