using System.Buffers;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp.Grpc;
using OtelAi.Engine.Receiver;
using OtelAi.Otlp;

namespace OtelAi.Receivers.Otlp;

/// <summary>The result of one export call, transport-neutral.</summary>
/// <param name="Status">OK (possibly with partial success) or why the pipeline refused.</param>
/// <param name="Rejected">Items removed as invalid before the pipeline saw the request (partial success).</param>
/// <param name="RejectMessage">What was wrong with the first rejected item.</param>
internal readonly record struct ExportOutcome(GrpcStatus Status, int Rejected, string? RejectMessage)
{
    public bool IsPartialSuccess => Status.Code == GrpcStatusCode.OK && Rejected > 0;
}

/// <summary>
/// Hands one request of one signal to the pipeline, for one transport: drops invalid items (partial success),
/// passes the rest through the receiver helper (client context, accepted/refused counts) and turns the consumer's
/// refusal into a status.
/// </summary>
internal sealed class ExportHandler<TRequest> where TRequest : class, IMessage<TRequest>, new()
{
    private static readonly OtlpSignal<TRequest> Ops = OtlpSignal<TRequest>.Instance;
    private readonly ITelemetryConsumer<TRequest> _consumer;
    private readonly ReceiverHelper _helper;
    private readonly ILogger _logger;
    private readonly bool _keepEncoded;

    public ExportHandler(ITelemetryConsumer<TRequest> consumer, ReceiverHelper helper, ILogger logger)
    {
        _consumer = consumer;
        _keepEncoded = !consumer.Capabilities.ReadsContent;
        _helper = helper;
        _logger = logger;
    }

    public static OtlpSignal<TRequest> Signal => OtlpSignal<TRequest>.Instance;

    /// <summary>
    /// The payload for a protobuf request whose bytes the caller lends. When no pipeline behind this receiver reads
    /// content, the bytes are copied once into memory the payload owns and kept undecoded if canonical; otherwise the
    /// request is parsed straight from the caller's bytes (decoding once here costs less than copying, keeping and
    /// decoding later). Throws <see cref="InvalidProtocolBufferException"/> for bytes that are no request.
    /// </summary>
    public Payload<TRequest> FromProtobuf(ReadOnlySpan<byte> message)
    {
        if (!_keepEncoded) return Ops.Parser.ParseFrom(message);
        var owned = GC.AllocateUninitializedArray<byte>(message.Length);
        message.CopyTo(owned);
        return Payload<TRequest>.Parse(owned);
    }

    /// <inheritdoc cref="FromProtobuf(ReadOnlySpan{byte})"/>
    public Payload<TRequest> FromProtobuf(in ReadOnlySequence<byte> message)
    {
        if (!_keepEncoded) return Ops.Parser.ParseFrom(message);
        var owned = GC.AllocateUninitializedArray<byte>(checked((int)message.Length));
        message.CopyTo(owned);
        return Payload<TRequest>.Parse(owned);
    }

    /// <param name="deadline">Fires when the client's deadline passes (a subset of <paramref name="cancellationToken"/>'s causes).</param>
    public async ValueTask<ExportOutcome> ExportAsync(Payload<TRequest> request, ClientInfo client, CancellationToken cancellationToken, CancellationToken deadline)
    {
        // An undecoded payload passed the item rules in the walk that let it stay undecoded.
        string? problem = null;
        var rejected = request.HasWire ? 0 : Signal.RemoveInvalid(request.Edit(), out problem);
        if (rejected > 0) _helper.Refused(Ops.Signal, rejected);
        if (request.ResourceCount == 0)
            return new ExportOutcome(GrpcStatus.Ok, rejected, problem);

        var result = await _helper.ConsumeAsync(_consumer, request, client, cancellationToken);
        if (result.Refusal is not { } error) return new ExportOutcome(GrpcStatus.Ok, rejected, problem);
        var status = GrpcStatus.FromException(error, deadline.IsCancellationRequested);
        if (status.Code == GrpcStatusCode.Unknown)
            _logger.LogWarning(error, "pipeline failed on {Items} {Signal} items", result.Items, Ops.Signal.ToConfigName());
        return new ExportOutcome(status, rejected, problem);
    }

    /// <summary>The OTLP response for a successful outcome: empty, or carrying partial_success.</summary>
    public static IMessage? PartialSuccessResponse(in ExportOutcome outcome) =>
        outcome.IsPartialSuccess ? Signal.CreateResponse(outcome.Rejected, outcome.RejectMessage) : null;
}
