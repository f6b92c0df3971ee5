using OtelAi.Engine.Config;

namespace OtelAi.Engine.Settings;

/// <summary>otelcol's exporterhelper TimeoutConfig, squashed into exporter configs: the deadline of one attempt.</summary>
public sealed record TimeoutSettings : IConfigSection
{
    [ConfigDescription("Deadline of one export attempt (0: no deadline).")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);

    public IEnumerable<ConfigError> Validate()
    {
        if (Timeout < TimeSpan.Zero) yield return new("timeout", "must not be negative");
    }
}
