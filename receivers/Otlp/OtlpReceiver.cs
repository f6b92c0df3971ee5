using OtelAi.Engine.Receiver;
using OtelAi.Otlp.Hosting;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;

namespace OtelAi.Receivers.Otlp;

/// <summary>The otlp receiver: an OTLP/gRPC and/or an OTLP/HTTP server feeding the pipelines that list it.</summary>
internal sealed class OtlpReceiver : IComponent
{
    private readonly ComponentCreateSettings _settings;
    private readonly OtlpReceiverConfig _config;
    private readonly ReceiverConsumers _consumers;
    private readonly List<ServerHost> _servers = [];

    public OtlpReceiver(ComponentCreateSettings settings, OtlpReceiverConfig config, ReceiverConsumers consumers)
    {
        _settings = settings;
        _config = config;
        _consumers = consumers;
    }

    public async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        if (_config.Protocols.Grpc is { } grpc)
        {
            var metrics = new ReceiverHelper(_settings, "grpc");
            var limit = grpc.Server.MaxRecvMsgSizeBytes;
            var server = new OtlpGrpcServer(grpc.Server, Handler(_consumers.Traces, metrics, limit), Handler(_consumers.Metrics, metrics, limit), Handler(_consumers.Logs, metrics, limit), _settings.Logger,
                Gate(grpc.Server.Auth, host, "grpc"),
                new RequestDurations(_settings.Metrics, OtlpReceiverFactory.RpcServerDuration, _settings.Id.ToString(), "rpc_method", "rpc_grpc_status_code", OtlpGrpcServer.StatusOf));
            await StartServer(server.StartAsync, "gRPC", grpc.Server.Endpoint, cancellationToken);
        }
        if (_config.Protocols.Http is { } http)
        {
            var metrics = new ReceiverHelper(_settings, "http");
            var limit = http.Server.EffectiveMaxRequestBodySize;
            var server = new OtlpHttpServer(http, Handler(_consumers.Traces, metrics, limit), Handler(_consumers.Metrics, metrics, limit), Handler(_consumers.Logs, metrics, limit), _settings.Logger,
                Gate(http.Server.Auth, host, "http"),
                new RequestDurations(_settings.Metrics, OtlpReceiverFactory.HttpServerDuration, _settings.Id.ToString(), "http_route", "http_status_code",
                    context => context.Response.StatusCode.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            await StartServer(server.StartAsync, "HTTP", http.Server.Endpoint, cancellationToken);
        }
    }

    private AuthGate? Gate(Engine.Extensions.Auth.AuthSettings? auth, IComponentHost host, string transport) =>
        auth is null ? null : new AuthGate(auth.ServerAuthenticator(host),
            _settings.Metrics.Counter(OtlpReceiverFactory.UnauthenticatedRequests, ("receiver", _settings.Id.ToString()), ("transport", transport)));

    private ExportHandler<T>? Handler<T>(Engine.Consumers.ITelemetryConsumer<T>? consumer, ReceiverHelper helper, long maxMessageBytes)
        where T : class, Google.Protobuf.IMessage<T>, new() =>
        consumer is null ? null : new ExportHandler<T>(consumer, helper, _settings.Logger, maxMessageBytes);

    private async Task StartServer(Func<CancellationToken, Task<ServerHost>> start, string protocol, string endpoint, CancellationToken cancellationToken)
    {
        ServerHost server;
        try
        {
            server = await start(cancellationToken);
        }
        catch (Exception ex)
        {
            await ShutdownAsync(CancellationToken.None);
            throw new InvalidOperationException($"{_settings.Id}: cannot serve OTLP/{protocol}: {ex.Message}", ex);
        }
        _servers.Add(server);
        _settings.Logger.LogInformation("{Receiver} serving OTLP/{Protocol} on {Endpoint}", _settings.Id, protocol, endpoint);
    }

    /// <summary>Stops accepting, lets in-flight requests finish until <paramref name="cancellationToken"/> fires.</summary>
    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        foreach (var server in _servers)
        {
            await server.StopAsync(cancellationToken);
            await server.DisposeAsync();
        }
        _servers.Clear();
    }
}
