using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Text.Unicode;

namespace OtelAi.Otlp.Wire;

/// <summary>What one walk counted in a request.</summary>
internal readonly record struct WireCounts(int Resources, int Items, int Metrics)
{
    public static WireCounts operator +(WireCounts a, WireCounts b) =>
        new(a.Resources + b.Resources, a.Items + b.Items, a.Metrics + b.Metrics);

    public static WireCounts operator -(WireCounts a, WireCounts b) =>
        new(a.Resources - b.Resources, a.Items - b.Items, a.Metrics - b.Metrics);
}

/// <summary>
/// Checks, without building objects, that an encoded export request is <em>canonical</em>: exactly the bytes that
/// parsing it with Google.Protobuf and serializing the result would give (fields in number order, each singular field
/// once, proto3 defaults left out, minimal varints, packed repeated scalars, no unknown fields, valid UTF-8), and that
/// every item passes the signal's id rules. Such bytes can travel a pipeline as they are. Anything else (malformed,
/// merely unusual, or with an invalid item) answers false, and the caller decodes the request the ordinary way, which
/// gives its usual answers: the walker never decides that input is bad, only that it needs no decoding.
/// </summary>
internal static class WireWalker
{
    // Google.Protobuf's recursion limit is 100; deeper requests take the decoding path and its error.
    private const int MaxDepth = 64;

    /// <summary>True when <paramref name="request"/> can travel as it is; <paramref name="counts"/> then describes it.</summary>
    public static bool IsCanonical(ReadOnlySpan<byte> request, WireMessage schema, out WireCounts counts)
    {
        var walk = new Counter();
        var ok = Walk(request, schema, 0, ref walk);
        counts = ok ? new WireCounts(walk.Resources, walk.Items, walk.Metrics) : default;
        return ok;
    }

    /// <summary>
    /// How many objects decoding <paramref name="request"/> would allocate (messages, strings and byte strings at any
    /// depth), counting no further than just past <paramref name="limit"/>. Bytes are not checked: a malformed request
    /// is counted as far as it can be read, and its parse gives the error. Costs one pass over the bytes, no allocation.
    /// </summary>
    public static long CountObjects(ReadOnlySpan<byte> request, WireMessage schema, long limit)
    {
        long count = 0;
        CountObjects(request, schema, 0, limit, ref count);
        return count;
    }

    private static void CountObjects(ReadOnlySpan<byte> data, WireMessage message, int depth, long limit, ref long count)
    {
        var pos = 0;
        while (pos < data.Length && count <= limit)
        {
            if (!TryReadLooseVarint(data, ref pos, out var tag)) return;
            var number = tag >> 3;
            var field = number < (ulong)message.Fields.Length ? message.Fields[number] : null;
            switch (tag & 7)
            {
                case 0:
                    if (!TryReadLooseVarint(data, ref pos, out _)) return;
                    break;
                case 1:
                    pos += 8;
                    break;
                case 5:
                    pos += 4;
                    break;
                case 2:
                    if (!TryReadLooseVarint(data, ref pos, out var length) || length > (ulong)(data.Length - pos)) return;
                    var content = data.Slice(pos, (int)length);
                    pos += (int)length;
                    if (field is null) break;
                    if (field.Kind == WireKind.Message)
                    {
                        count++;
                        if (depth < 100) CountObjects(content, field.Message!, depth + 1, limit, ref count);
                    }
                    else if (field.Kind is WireKind.String or WireKind.Bytes) count++;
                    break;
                default:
                    return;
            }
        }
    }

    /// <summary>Any well-formed varint, minimal or not (what a parser accepts).</summary>
    private static bool TryReadLooseVarint(ReadOnlySpan<byte> data, ref int pos, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= data.Length) return false;
            var b = data[pos++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }

    private struct Counter
    {
        public int Resources;
        public int Items;
        public int Metrics;
    }

    private static bool Walk(ReadOnlySpan<byte> data, WireMessage message, int depth, ref Counter counts)
    {
        var fields = message.Fields;
        var pos = 0;
        var lastNumber = 0;
        var oneofsSeen = 0u;
        var present = 0UL;
        while (pos < data.Length)
        {
            if (!TryReadVarint(data, ref pos, out var tag) || tag > int.MaxValue) return false;
            var number = (int)(tag >> 3);
            if ((uint)number >= (uint)fields.Length || fields[number] is not { } field) return false; // unknown: dropped by a parse
            if (number < lastNumber) return false;
            if (number == lastNumber && !(field.Repeated && !field.Packed)) return false;
            if (number != lastNumber && field.Oneof >= 0)
            {
                var bit = 1u << field.Oneof;
                if ((oneofsSeen & bit) != 0) return false; // a second member of one oneof: the last would win
                oneofsSeen |= bit;
            }
            lastNumber = number;
            present |= 1UL << number;
            if ((int)(tag & 7) != field.WireType) return false;

            switch (field.WireType)
            {
                case 0:
                    if (!TryReadVarint(data, ref pos, out var value) || !IsCanonicalVarint(field.Kind, value, field.HasPresence)) return false;
                    break;
                case 1:
                    if (data.Length - pos < 8) return false;
                    if (!field.HasPresence && IsDefault64(field.Kind, BinaryPrimitives.ReadUInt64LittleEndian(data[pos..]))) return false;
                    pos += 8;
                    break;
                case 5:
                    if (data.Length - pos < 4) return false;
                    if (!field.HasPresence && IsDefault32(field.Kind, BinaryPrimitives.ReadUInt32LittleEndian(data[pos..]))) return false;
                    pos += 4;
                    break;
                default:
                    if (!TryReadVarint(data, ref pos, out var length) || length > (ulong)(data.Length - pos)) return false;
                    var content = data.Slice(pos, (int)length);
                    pos += (int)length;
                    if (!IsCanonicalDelimited(field, content, message, depth, ref counts)) return false;
                    break;
            }
        }
        return (present & message.RequiredFields) == message.RequiredFields;
    }

    private static bool IsCanonicalDelimited(WireField field, ReadOnlySpan<byte> content, WireMessage parent, int depth, ref Counter counts)
    {
        switch (field.Kind)
        {
            case WireKind.Message:
                if (depth >= MaxDepth) return false;
                var child = field.Message!;
                switch (child.Role)
                {
                    case WireRole.Item: counts.Items++; break;
                    case WireRole.Metric: counts.Metrics++; break;
                }
                if (depth == 0) counts.Resources++;
                return Walk(content, child, depth + 1, ref counts);
            case WireKind.String:
                // Repeated elements are written even when empty; a singular string only when it is not.
                return (content.Length > 0 || field.HasPresence || field.Repeated) && Utf8.IsValid(content);
            case WireKind.Bytes:
                if (field.IdLength > 0)
                    return content.Length == field.IdLength && (!field.IdRequired || content.IndexOfAnyExcept((byte)0) >= 0);
                return content.Length > 0 || field.HasPresence || field.Repeated;
            default:
                return field.Packed && content.Length > 0 && IsCanonicalPacked(field.Kind, content);
        }
    }

    private static bool IsCanonicalPacked(WireKind kind, ReadOnlySpan<byte> content)
    {
        switch (kind)
        {
            case WireKind.Fixed64 or WireKind.Double: return content.Length % 8 == 0;
            case WireKind.Fixed32 or WireKind.Float: return content.Length % 4 == 0;
            default:
                var pos = 0;
                while (pos < content.Length)
                    if (!TryReadVarint(content, ref pos, out var value) || !IsCanonicalVarint(kind, value, hasPresence: true)) return false;
                return true;
        }
    }

    /// <summary>A value Google.Protobuf would write with these bytes (its varint was already checked to be minimal).</summary>
    private static bool IsCanonicalVarint(WireKind kind, ulong value, bool hasPresence)
    {
        if (value == 0) return hasPresence;
        return kind switch
        {
            WireKind.Int32 => (ulong)(long)(int)value == value, // a negative int32 is written sign-extended
            WireKind.UInt32 or WireKind.SInt32 => value <= uint.MaxValue,
            WireKind.Bool => value == 1,
            _ => true,
        };
    }

    private static bool IsDefault64(WireKind kind, ulong bits) =>
        kind == WireKind.Double ? BitConverter.UInt64BitsToDouble(bits) == 0 : bits == 0; // -0.0 is left out as 0 is

    private static bool IsDefault32(WireKind kind, uint bits) =>
        kind == WireKind.Float ? BitConverter.UInt32BitsToSingle(bits) == 0 : bits == 0;

    /// <summary>Reads a varint and fails unless it is well formed and minimal (no redundant continuation bytes).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryReadVarint(ReadOnlySpan<byte> data, ref int pos, out ulong value)
    {
        if ((uint)pos < (uint)data.Length && data[pos] < 0x80)
        {
            value = data[pos++];
            return true;
        }
        return TryReadLongVarint(data, ref pos, out value);
    }

    private static bool TryReadLongVarint(ReadOnlySpan<byte> data, ref int pos, out ulong value)
    {
        value = 0;
        for (var shift = 0; shift < 64; shift += 7)
        {
            if (pos >= data.Length) return false;
            var b = data[pos++];
            if (shift == 63 && b > 1) return false;
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80) return b != 0 || shift == 0; // a last byte of zero means the encoding was longer than needed
        }
        return false;
    }
}
