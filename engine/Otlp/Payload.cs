using System.Buffers;
using Google.Protobuf;
using OtelAi.Otlp.Grpc;
using OtelAi.Otlp.Protobuf;
using OtelAi.Otlp.Wire;

namespace OtelAi.Otlp;

/// <summary>
/// One signal's export request as it travels a pipeline: its encoded bytes, its decoded message, or both.
/// <para>
/// A receiver that gets canonical protobuf (what Google.Protobuf itself writes, checked by a walk that builds no
/// objects) hands the bytes on undecoded. Components that only count, batch, queue or send never decode them: the
/// batch processor concatenates byte ranges (an export request is a repeated field of resource entries, so joined
/// requests are the merged request), the exporters write them out as they are. The first component that reads
/// content (<see cref="Message"/>) decodes once; one that changes content (<see cref="Edit"/>) makes the message the
/// only truth. Either way the bytes that leave the engine are exactly what parse-then-serialize would give.
/// </para>
/// <para>
/// Thread safety: any number of readers may share a payload (fan-out shares it with readers and queues); decoding
/// on first read is safe under that sharing. <see cref="Edit"/> is for a consumer that owns the payload, which
/// fan-out guarantees to consumers that declare they mutate data.
/// </para>
/// </summary>
public sealed class Payload<T> where T : class, IMessage<T>, new()
{
    private static readonly OtlpSignal<T> Signal = OtlpSignal<T>.Instance;

    private T? _message;

    // Whole canonical requests, in order; their concatenation is the payload. Null once the message is the truth.
    private ReadOnlyMemory<byte>[]? _wire;
    private WireCounts _wireCounts;

    private Payload(T message) => _message = message;

    private Payload(ReadOnlyMemory<byte>[] wire, WireCounts counts)
    {
        _wire = wire;
        _wireCounts = counts;
    }

    /// <summary>A payload holding a decoded request (it takes ownership of the message).</summary>
    public static Payload<T> FromMessage(T message) => new(message ?? throw new ArgumentNullException(nameof(message)));

    public static implicit operator Payload<T>(T message) => FromMessage(message);

    /// <summary>
    /// A payload over encoded bytes (which it keeps: they must not change), or null when they are not canonical or
    /// hold an item the signal's rules refuse: decode those with the signal's parser instead.
    /// </summary>
    internal static Payload<T>? TryFromWire(ReadOnlyMemory<byte> request) =>
        WireWalker.IsCanonical(request.Span, WireSchema.For(Signal.Signal), out var counts) ? new Payload<T>([request], counts) : null;

    /// <summary>
    /// A payload over an encoded request: undecoded when canonical, else parsed (unknown fields dropped). Throws
    /// <see cref="InvalidProtocolBufferException"/> for bytes that are no request. Applies no item rules.
    /// </summary>
    internal static Payload<T> Parse(ReadOnlyMemory<byte> request) =>
        TryFromWire(request) ?? new Payload<T>(Signal.Parser.ParseFrom(request.Span));

    /// <summary>True while the payload has not been decoded (no component has read its content).</summary>
    public bool IsEncoded => _wire is not null && Volatile.Read(ref _message) is null;

    /// <summary>True while the encoded bytes are valid: the payload can be written out without serializing.</summary>
    internal bool HasWire => _wire is not null;

    /// <summary>
    /// The decoded request, for reading. Decoded on first use. Changing it is reserved to a consumer that owns the
    /// payload and calls <see cref="Edit"/>.
    /// </summary>
    public T Message => Volatile.Read(ref _message) ?? Decode();

    /// <summary>The decoded request, to change in place: the encoded bytes are dropped, the message is now the truth.</summary>
    public T Edit()
    {
        var message = Message;
        _wire = null;
        return message;
    }

    /// <summary>Spans, metric data points or log records.</summary>
    public int ItemCount => _wire is not null ? _wireCounts.Items : Signal.CountItems(_message!);

    /// <summary>Resource entries (ResourceSpans, ResourceMetrics, ResourceLogs).</summary>
    public int ResourceCount => _wire is not null ? _wireCounts.Resources : Signal.ResourceCount(_message!);

    /// <summary>Metrics (not data points) in a metrics request; 0 for other signals.</summary>
    public int MetricCount => _wire is not null ? _wireCounts.Metrics : CountMetrics(_message!);

    /// <summary>A payload of its own with the same content: encoded bytes are shared (they never change), a message is cloned.</summary>
    public Payload<T> Clone() => _wire is { } wire ? new Payload<T>(wire, _wireCounts) : new Payload<T>(_message!.Clone());

    /// <summary>Bytes of the encoded request.</summary>
    internal int CalculateSize()
    {
        if (_wire is { } wire) return TotalLength(wire);
        return OtlpProtobuf.CalculateSize(_message!);
    }

    /// <summary>Writes the encoded request: the bytes as they came, or the message serialized.</summary>
    internal void WriteTo(IBufferWriter<byte> writer)
    {
        if (_wire is { } wire)
        {
            foreach (var part in wire) writer.Write(part.Span);
            return;
        }
        using var measured = OtlpProtobuf.Measure(_message!);
        measured.WriteTo(writer);
    }

    /// <summary>
    /// A starting capacity for a buffer that will hold the encoded request: exact for encoded bytes, 0 for a decoded
    /// message (measuring it is a walk of its tree, which writing does once anyway; the buffer grows to it then).
    /// </summary>
    internal int SizeHint => _wire is { } wire ? TotalLength(wire) : 0;

    /// <summary>Writes the encoded request compressed: encoded bytes stream into the compressor, a message is serialized first.</summary>
    internal void CompressTo(ContentCoding coding, int level, IBufferWriter<byte> output)
    {
        if (_wire is { } wire)
        {
            MessageCompression.Compress(wire, coding, output, level);
            return;
        }
        using var measured = OtlpProtobuf.Measure(_message!);
        using var plain = new PooledBufferWriter(measured.Size);
        measured.WriteTo(plain);
        MessageCompression.Compress(plain.WrittenSpan, coding, output, level);
    }

    /// <summary>
    /// One payload holding all of <paramref name="parts"/> in order (the caller owns them). Encoded parts are joined
    /// without copying; if any part is decoded, all are decoded and their resource entries moved into one message.
    /// </summary>
    public static Payload<T> Concat(IReadOnlyList<Payload<T>> parts)
    {
        if (parts.Count == 1) return parts[0];
        var encoded = true;
        var partCount = 0;
        foreach (var part in parts)
        {
            encoded &= part._wire is not null;
            partCount += part._wire?.Length ?? 0;
        }
        if (encoded)
        {
            var wire = new ReadOnlyMemory<byte>[partCount];
            var counts = default(WireCounts);
            var at = 0;
            foreach (var part in parts)
            {
                part._wire!.CopyTo(wire, at);
                at += part._wire.Length;
                counts += part._wireCounts;
            }
            return new Payload<T>(wire, counts);
        }
        var merged = new T();
        foreach (var part in parts) Signal.MoveAllTo(part.Edit(), merged);
        return new Payload<T>(merged);
    }

    /// <summary>
    /// Removes up to <paramref name="maxItems"/> items from the front and returns them as a new payload, splitting a
    /// resource or scope entry where needed (as <see cref="OtlpSignal{T}.SplitOff"/> does). Encoded payloads are cut
    /// between resource entries without decoding; only an entry the cut falls inside is decoded, split and re-encoded.
    /// </summary>
    public Payload<T> SplitOff(int maxItems)
    {
        if (_wire is not { } wire) return new Payload<T>(Signal.SplitOff(_message!, maxItems));
        // The bytes are cut; a message decoded from them earlier would still hold everything.
        _message = null;
        var schema = WireSchema.For(Signal.Signal);
        var head = new List<ReadOnlyMemory<byte>>();
        var budget = maxItems;
        var part = 0;
        ReadOnlyMemory<byte> rest = default;
        for (; part < wire.Length && budget > 0; part++)
        {
            var bytes = wire[part];
            var offset = 0;
            while (offset < bytes.Length && budget > 0)
            {
                var entryLength = ResourceEntryLength(bytes.Span[offset..]);
                var entry = bytes.Slice(offset, entryLength);
                WireWalker.IsCanonical(entry.Span, schema, out var entryCounts);
                if (entryCounts.Items <= budget)
                {
                    head.Add(entry);
                    budget -= entryCounts.Items;
                }
                else
                {
                    var decoded = Signal.Parser.ParseFrom(entry.Span);
                    head.Add(OtlpProtobuf.ToByteArray(Signal.SplitOff(decoded, budget)));
                    rest = OtlpProtobuf.ToByteArray(decoded);
                    budget = 0;
                }
                offset += entryLength;
            }
            if (offset < bytes.Length)
            {
                // What is left of this part goes first in the remainder (after the re-encoded tail of a split entry).
                var tailOfPart = bytes[offset..];
                _wire = rest.IsEmpty ? [tailOfPart, .. wire[(part + 1)..]] : [rest, tailOfPart, .. wire[(part + 1)..]];
                return Rebuild(head, schema);
            }
        }
        _wire = rest.IsEmpty ? wire[part..] : [rest, .. wire[part..]];
        return Rebuild(head, schema);

        // Counts of both halves by walking them again: a split is rare (once per batch above send_batch_max_size).
        Payload<T> Rebuild(List<ReadOnlyMemory<byte>> headParts, WireMessage s)
        {
            _wireCounts = CountParts(_wire!, s);
            var headWire = headParts.ToArray();
            return new Payload<T>(headWire, CountParts(headWire, s));
        }
    }

    private static WireCounts CountParts(ReadOnlyMemory<byte>[] parts, WireMessage schema)
    {
        var total = default(WireCounts);
        foreach (var part in parts)
        {
            WireWalker.IsCanonical(part.Span, schema, out var counts);
            total += counts;
        }
        return total;
    }

    /// <summary>Length of the resource entry (tag, length and content of field 1) at the start of a canonical request.</summary>
    private static int ResourceEntryLength(ReadOnlySpan<byte> request)
    {
        var pos = 1; // field 1, wire type 2: a one-byte tag
        ulong length = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = request[pos++];
            length |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) break;
        }
        return pos + (int)length;
    }

    private T Decode()
    {
        var wire = _wire!;
        T decoded;
        if (wire.Length == 1) decoded = Signal.Parser.ParseFrom(wire[0].Span);
        else
        {
            var joined = new byte[TotalLength(wire)];
            var at = 0;
            foreach (var part in wire)
            {
                part.Span.CopyTo(joined.AsSpan(at));
                at += part.Length;
            }
            decoded = Signal.Parser.ParseFrom(joined);
        }
        // Two readers may decode at once; both get the first message stored.
        return Interlocked.CompareExchange(ref _message, decoded, null) ?? decoded;
    }

    private static int TotalLength(ReadOnlyMemory<byte>[] wire)
    {
        var total = 0;
        foreach (var part in wire) total += part.Length;
        return total;
    }

    private static int CountMetrics(T message) =>
        message is Proto.Collector.Metrics.V1.ExportMetricsServiceRequest metrics
            ? metrics.ResourceMetrics.Sum(r => r.ScopeMetrics.Sum(s => s.Metrics.Count))
            : 0;
}
