using System.Buffers.Binary;
using System.Text;
using System.Text.RegularExpressions;

namespace OtelAi.Receivers.Ebpf;

public sealed class EventLayoutException(string message) : Exception(message);

internal enum FieldKind { Unsigned, Signed, Chars, Bytes }

/// <summary>One field of a parsed layout: where it is, how to read it, what it becomes.</summary>
internal sealed record EventField(string Name, FieldKind Kind, int Offset, int Size, string? Target)
{
    public ulong ReadUnsigned(ReadOnlySpan<byte> record)
    {
        var bytes = record.Slice(Offset, Size);
        return Kind switch
        {
            FieldKind.Unsigned or FieldKind.Signed => Size switch
            {
                1 => bytes[0],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(bytes),
                4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(bytes),
            },
            _ => throw new InvalidOperationException($"field {Name} is not an integer"),
        };
    }

    public long ReadSigned(ReadOnlySpan<byte> record)
    {
        var value = ReadUnsigned(record);
        return Kind == FieldKind.Unsigned ? (long)value : Size switch
        {
            1 => (sbyte)value,
            2 => (short)value,
            4 => (int)value,
            _ => (long)value,
        };
    }

    /// <summary>A char[N] field as text: up to the first NUL, invalid UTF-8 replaced.</summary>
    public string ReadString(ReadOnlySpan<byte> record)
    {
        var bytes = record.Slice(Offset, Size);
        var end = bytes.IndexOf((byte)0);
        return Encoding.UTF8.GetString(end < 0 ? bytes : bytes[..end]);
    }

    public bool IsInteger => Kind is FieldKind.Unsigned or FieldKind.Signed;
}

/// <summary>
/// A record layout (C struct rules: little-endian, fields at their natural alignment unless an offset is given) and
/// the telemetry target of each field. Records shorter than <see cref="MinimumRecordSize"/> cannot be decoded;
/// longer ones are fine (perf pads raw samples to 8 bytes).
/// </summary>
internal sealed partial class EventLayout
{
    private static readonly string[] SpanTargets = ["start_time", "end_time", "duration", "name", "pid"];
    private static readonly string[] MetricTargets = ["time", "value", "name", "pid"];
    private static readonly string[] LogTargets = ["time", "body", "severity_number", "name", "pid"];

    private EventLayout(IReadOnlyList<EventField> fields, EventSignal signal, string name)
    {
        Fields = fields;
        Signal = signal;
        Name = name;
        MinimumRecordSize = fields.Count == 0 ? 0 : fields.Max(f => f.Offset + f.Size);
    }

    public IReadOnlyList<EventField> Fields { get; }

    public EventSignal Signal { get; }

    public string Name { get; }

    public int MinimumRecordSize { get; }

    public EventField? FieldFor(string target) => Fields.FirstOrDefault(f => f.Target == target);

    [GeneratedRegex(@"^(u8|u16|u32|u64|s8|s16|s32|s64)$|^(char|bytes)\[(\d+)\]$")]
    private static partial Regex TypePattern();

    public static EventLayout From(EventLayoutConfig config)
    {
        if (config.Fields.Count == 0) throw new EventLayoutException("the layout has no fields");
        var fields = new List<EventField>();
        var next = 0;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in config.Fields)
        {
            if (string.IsNullOrWhiteSpace(f.Name)) throw new EventLayoutException("every field needs a name");
            if (!names.Add(f.Name)) throw new EventLayoutException($"field \"{f.Name}\" appears twice");
            var match = TypePattern().Match(f.Type.Trim());
            if (!match.Success) throw new EventLayoutException($"field \"{f.Name}\": unknown type \"{f.Type}\" (u8|u16|u32|u64|s8|s16|s32|s64|char[N]|bytes[N])");
            FieldKind kind;
            int size, alignment;
            if (match.Groups[1].Success)
            {
                kind = match.Groups[1].Value[0] == 's' ? FieldKind.Signed : FieldKind.Unsigned;
                size = alignment = int.Parse(match.Groups[1].Value[1..]) / 8;
            }
            else
            {
                kind = match.Groups[2].Value == "char" ? FieldKind.Chars : FieldKind.Bytes;
                size = int.Parse(match.Groups[3].Value);
                alignment = 1;
                if (size is < 1 or > 65536) throw new EventLayoutException($"field \"{f.Name}\": array length {size} is outside 1..65536");
            }
            var offset = f.Offset ?? (next + alignment - 1) / alignment * alignment;
            if (offset < 0) throw new EventLayoutException($"field \"{f.Name}\": offset {offset} is negative");
            foreach (var other in fields)
                if (offset < other.Offset + other.Size && other.Offset < offset + size)
                    throw new EventLayoutException($"field \"{f.Name}\" (bytes {offset}..{offset + size - 1}) overlaps \"{other.Name}\"");
            var target = string.IsNullOrWhiteSpace(f.MapTo) ? null : f.MapTo.Trim();
            if (target is "start_time" or "end_time" or "time" or "duration" or "value" or "severity_number" or "pid" && kind is FieldKind.Chars or FieldKind.Bytes)
                throw new EventLayoutException($"field \"{f.Name}\": {target} needs an integer field, not {f.Type}");
            if (target is not null && !target.StartsWith("attributes.", StringComparison.Ordinal) && !target.StartsWith("resource.", StringComparison.Ordinal)
                && fields.Any(o => o.Target == target))
                throw new EventLayoutException($"two fields map to {target}");
            fields.Add(new EventField(f.Name, kind, offset, size, target));
            next = offset + size;
        }
        return new EventLayout(fields, config.Signal, config.Name);
    }

    public static bool TargetAllowed(string target, EventSignal signal) =>
        target.StartsWith("attributes.", StringComparison.Ordinal) && target.Length > "attributes.".Length
        || target.StartsWith("resource.", StringComparison.Ordinal) && target.Length > "resource.".Length
        || Targets(signal).Contains(target);

    public static string TargetsText(EventSignal signal) => string.Join(", ", Targets(signal)) + ", attributes.<key>, resource.<key>";

    private static string[] Targets(EventSignal signal) => signal switch
    {
        EventSignal.Traces => SpanTargets,
        EventSignal.Metrics => MetricTargets,
        _ => LogTargets,
    };
}
