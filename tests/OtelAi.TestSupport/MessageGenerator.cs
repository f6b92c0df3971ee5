using System.Collections;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace OtelAi.TestSupport;

/// <summary>
/// Fills messages through their descriptors with values that are written on the wire: non-default scalars
/// (multi-byte UTF-8, long strings, negative and ten-byte varints, open enum values), present proto3 optionals
/// (sometimes holding 0), one case of each oneof in rotation, and repeated fields with zero to three elements.
/// </summary>
public sealed class MessageGenerator(int seed)
{
    private const int MaxDepth = 12;

    private static readonly string[] Strings =
    [
        "a", "service.name", "héllo wörld", "日本語のテキスト", "emoji 🚀 and 𝄞", new string('x', 130), "многобайтовый " + new string('ж', 70),
    ];

    private readonly Random _random = new(seed);
    private readonly Dictionary<OneofDescriptor, int> _oneofRotation = [];

    /// <summary>Fields (as "Message.field") that received a value the wire format carries.</summary>
    public HashSet<string> FilledFields { get; } = new(StringComparer.Ordinal);

    public static string FieldKey(FieldDescriptor field) => $"{field.ContainingType.FullName}.{field.Name}";

    public IMessage Generate(MessageDescriptor descriptor) => Fill(descriptor, depth: 0);

    private IMessage Fill(MessageDescriptor descriptor, int depth)
    {
        var message = (IMessage)Activator.CreateInstance(descriptor.ClrType)!;
        foreach (var field in descriptor.Fields.InFieldNumberOrder())
        {
            if (field.RealContainingOneof is not null) continue;
            if (field.IsRepeated)
            {
                var list = (IList)field.Accessor.GetValue(message);
                // Near the top lists are never empty, so every request has data in each layer; deep in recursive
                // values (AnyValue arrays) they stay empty so the tree stays finite.
                var count = depth switch { < 3 => _random.Next(1, 4), >= MaxDepth - 2 => 0, _ => _random.Next(0, 4) };
                for (var i = 0; i < count; i++) list.Add(Value(field, depth));
                if (count > 0) FilledFields.Add(FieldKey(field));
            }
            else if (field.FieldType == FieldType.Message)
            {
                // Optional sub-messages are sometimes left out, as senders do.
                if (depth >= MaxDepth || _random.Next(5) == 0) continue;
                field.Accessor.SetValue(message, Fill(field.MessageType, depth + 1));
                FilledFields.Add(FieldKey(field));
            }
            else if (field.HasPresence)
            {
                // proto3 optional: present, and every third time present with the default value.
                field.Accessor.SetValue(message, _random.Next(3) == 0 ? Default(field) : Value(field, depth));
                FilledFields.Add(FieldKey(field));
            }
            else
            {
                field.Accessor.SetValue(message, Value(field, depth));
                FilledFields.Add(FieldKey(field));
            }
        }
        foreach (var oneof in descriptor.Oneofs.Where(o => !o.IsSynthetic))
        {
            // Each oneof cycles through its cases; near the depth limit only cases without sub-messages.
            var cases = oneof.Fields.Where(f => depth < MaxDepth - 2 || f.FieldType != FieldType.Message).ToList();
            var turn = _oneofRotation.GetValueOrDefault(oneof);
            _oneofRotation[oneof] = turn + 1;
            var chosen = cases[(turn + seed) % cases.Count];
            // A oneof member is written even with its default value: set that case every fourth time.
            var value = chosen.FieldType != FieldType.Message && _random.Next(4) == 0 ? Default(chosen) : Value(chosen, depth);
            chosen.Accessor.SetValue(message, value);
            FilledFields.Add(FieldKey(chosen));
        }
        return message;
    }

    private object Value(FieldDescriptor field, int depth) => field.FieldType switch
    {
        FieldType.Message => Fill(field.MessageType, depth + 1),
        FieldType.String => Strings[_random.Next(Strings.Length)],
        FieldType.Bytes => ByteString.CopyFrom(Bytes(_random.Next(1, 4) switch { 1 => 8, 2 => 16, _ => 200 })),
        FieldType.Bool => true,
        FieldType.Double => _random.Next(4) switch { 0 => -1.5e300, 1 => double.Epsilon, 2 => double.NaN, _ => _random.NextDouble() * 1e6 },
        FieldType.Int64 => _random.Next(3) switch { 0 => long.MinValue, 1 => -1L, _ => _random.NextInt64(1, long.MaxValue) },
        FieldType.SFixed64 => _random.Next(2) == 0 ? -_random.NextInt64(1, long.MaxValue) : _random.NextInt64(1, long.MaxValue),
        FieldType.UInt64 or FieldType.Fixed64 => _random.Next(3) switch { 0 => ulong.MaxValue, 1 => 1UL, _ => (ulong)_random.NextInt64(1, long.MaxValue) << 1 },
        FieldType.UInt32 => _random.Next(3) switch { 0 => uint.MaxValue, 1 => 1U, _ => (uint)_random.Next(128, int.MaxValue) },
        FieldType.Fixed32 => _random.Next(2) == 0 ? uint.MaxValue : (uint)_random.Next(1, 0x3FF),
        FieldType.SInt32 => _random.Next(3) switch { 0 => int.MinValue, 1 => -_random.Next(1, 1000), _ => _random.Next(1, int.MaxValue) },
        FieldType.Enum => Enum.ToObject(field.EnumType.ClrType, _random.Next(4) switch
        {
            // Open proto3 enums: values outside the declared set, negatives included, must survive.
            0 => -3,
            1 => 1000,
            _ => field.EnumType.Values[_random.Next(1, field.EnumType.Values.Count)].Number,
        }),
        _ => throw new NotSupportedException($"{FieldKey(field)}: the generator has no values for {field.FieldType}; add them"),
    };

    private static object Default(FieldDescriptor field) => field.FieldType switch
    {
        FieldType.String => "",
        FieldType.Bytes => ByteString.Empty,
        FieldType.Bool => false,
        FieldType.Double => 0d,
        FieldType.Int64 or FieldType.SFixed64 => 0L,
        FieldType.UInt64 or FieldType.Fixed64 => 0UL,
        FieldType.UInt32 or FieldType.Fixed32 => 0U,
        FieldType.SInt32 => 0,
        FieldType.Enum => Enum.ToObject(field.EnumType.ClrType, 0),
        _ => throw new NotSupportedException($"{FieldKey(field)}: no default for {field.FieldType}"),
    };

    private byte[] Bytes(int length)
    {
        var bytes = new byte[length];
        _random.NextBytes(bytes);
        return bytes;
    }
}
