using OtelAi.Engine.Config;

namespace OtelAi.Receivers.Otlp;

/// <summary>otelcol's otlp receiver config: a protocol is served when its key is present (<c>grpc:</c> alone enables defaults).</summary>
public sealed record OtlpReceiverConfig : ComponentConfig, IListenEndpoints
{
    public IEnumerable<(string KeyPath, string Endpoint)> ListenEndpoints()
    {
        if (Protocols.Grpc is { } grpc) yield return ("protocols.grpc.endpoint", grpc.Server.Endpoint);
        if (Protocols.Http is { } http) yield return ("protocols.http.endpoint", http.Server.Endpoint);
    }

    public OtlpProtocolsConfig Protocols { get; init; } = new();

    public override IEnumerable<ConfigError> Validate()
    {
        if (Protocols.Grpc is null && Protocols.Http is null)
            yield return new ConfigError("protocols", "must specify at least one protocol when using the OTLP receiver");
    }
}
