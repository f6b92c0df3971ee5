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
    private readonly long _maxDecodedObjects;

    /// <param name="maxMessageBytes">The transport's size limit; a request may decode to at most one object per <see cref="BytesPerObject"/> bytes of it.</param>
    public ExportHandler(ITelemetryConsumer<TRequest> consumer, ReceiverHelper helper, ILogger logger, long maxMessageBytes)
    {
        _maxDecodedObjects = Math.Max(1, maxMessageBytes / BytesPerObject);
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
        RefuseExpansion(message);
        if (!_keepEncoded) return Ops.Parser.ParseFrom(message);
        var owned = GC.AllocateUninitializedArray<byte>(message.Length);
        message.CopyTo(owned);
        return Payload<TRequest>.Parse(owned);
    }

    /// <inheritdoc cref="FromProtobuf(ReadOnlySpan{byte})"/>
    public Payload<TRequest> FromProtobuf(in ReadOnlySequence<byte> message)
    {
        if (message.IsSingleSegment) return FromProtobuf(message.FirstSpan);
        // Parsed in place when it needs neither keeping nor counting (the common case for large gRPC messages).
        if (!_keepEncoded && !MayExpand(message.Length)) return Ops.Parser.ParseFrom(message);
        var owned = GC.AllocateUninitializedArray<byte>(checked((int)message.Length));
        message.CopyTo(owned);
        RefuseExpansion(owned);
        return _keepEncoded ? Payload<TRequest>.Parse(owned) : Ops.Parser.ParseFrom(owned);
    }

    /// <summary>
    /// Bytes of the size limit per object a request may decode to. Real telemetry has well over 4 bytes per object;
    /// a request of empty spans (2 bytes each) would decode to a hundred times its size, past any memory_limiter.
    /// </summary>
    public const int BytesPerObject = 4;

    /// <summary>Every object takes at least 2 bytes: a shorter request cannot decode to too many.</summary>
    private bool MayExpand(long length) => length / 2 > _maxDecodedObjects;

    /// <summary>Counts on the wire, before anything is allocated, what decoding would create; too many is <see cref="RequestExpansionException"/>.</summary>
    private void RefuseExpansion(ReadOnlySpan<byte> message)
    {
        if (!MayExpand(message.Length)) return;
        var objects = global::OtelAi.Otlp.Wire.WireWalker.CountObjects(message, global::OtelAi.Otlp.Wire.WireSchema.For(Ops.Signal), _maxDecodedObjects);
        if (objects > _maxDecodedObjects) throw new RequestExpansionException(_maxDecodedObjects);
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

/// <summary>A request that would decode to more objects than its transport's size limit allows (one per <see cref="ExportHandler{TRequest}.BytesPerObject"/> bytes).</summary>
internal sealed class RequestExpansionException(long limit)
    : Exception($"the request decodes to more than {limit} objects (messages and strings); send fewer, larger items per request");
