using OtelAi.Engine.Config;

namespace OtelAi.Engine.Settings;

/// <summary>otelcol's configgrpc KeepaliveServerConfig: the server's own pings and what it demands of clients.</summary>
public sealed record KeepaliveServerSettings
{
    public ServerParametersSettings? ServerParameters { get; init; }

    public EnforcementPolicySettings? EnforcementPolicy { get; init; }

    public sealed record ServerParametersSettings
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

    public sealed record EnforcementPolicySettings
    {
        [ConfigDescription("Accepted; Kestrel does not police client ping rates.")]
        public TimeSpan MinTime { get; init; }

        [ConfigDescription("Accepted; Kestrel does not police client ping rates.")]
        public bool PermitWithoutStream { get; init; }
    }
}
