using OtelAi.Engine.Config;
using OtelAi.Engine.Settings;

namespace OtelAi.Receivers.Otlp;

/// <summary><c>protocols.grpc</c>: the shared gRPC server settings with the otlp receiver's default endpoint.</summary>
public sealed record OtlpGrpcConfig
{
    [ConfigSquash]
    public GrpcServerSettings Server { get; init; } = new() { Endpoint = "localhost:4317" };
}
