using OtelAi.Engine.Config;

namespace OtelAi.Engine.Settings;

/// <summary>gRPC keepalive pings (otelcol's configgrpc keepalive client settings).</summary>
public sealed record KeepaliveClientSettings : IConfigSection
{
    [ConfigDescription("Send a ping after this long without activity.")]
    public TimeSpan Time { get; init; } = TimeSpan.FromSeconds(30);

    [ConfigDescription("Close the connection when a ping is not answered within this time.")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    [ConfigDescription("Ping even when no request is in flight.")]
    public bool PermitWithoutStream { get; init; }

    public IEnumerable<ConfigError> Validate()
    {
        if (Time <= TimeSpan.Zero || Timeout <= TimeSpan.Zero) yield return new("", "time and timeout must be positive");
    }
}
