namespace OtelAi.Receivers.Otlp;

/// <summary>The otlp receiver's <c>protocols</c> block.</summary>
public sealed record OtlpProtocolsConfig
{
    public OtlpGrpcConfig? Grpc { get; init; }

    public OtlpHttpConfig? Http { get; init; }
}
