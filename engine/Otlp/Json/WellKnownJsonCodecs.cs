using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Google.Protobuf.WellKnownTypes;

namespace OtelAi.Otlp.Json;

/// <summary>
/// google.protobuf.Any as proto3 JSON writes it: <c>{"@type": url, ...fields of the packed message}</c>. Only
/// the types carried in google.rpc.Status details of OTLP errors are known; other payloads round-trip as
/// <c>{"@type": url, "value": base64}</c> so nothing is lost.
/// </summary>
internal sealed class AnyJsonCodec : JsonValueCodec<Any>
{
    public static readonly AnyJsonCodec Instance = new();

    private static readonly Dictionary<string, MessageDescriptor> KnownTypes = new[]
    {
        OtelAi.Otlp.Proto.Rpc.RetryInfo.Descriptor,
        OtelAi.Otlp.Proto.Rpc.Status.Descriptor,
    }.ToDictionary(d => d.FullName);

    public override void Write(Utf8JsonWriter writer, Any value)
    {
        writer.WriteStartObject();
        writer.WriteString("@type"u8, value.TypeUrl);
        if (KnownTypes.TryGetValue(Any.GetTypeName(value.TypeUrl), out var descriptor))
        {
            var payload = descriptor.Parser.ParseFrom(value.Value);
            JsonCodecs.For(descriptor.ClrType).WriteFields(writer, payload);
        }
        else if (!value.Value.IsEmpty)
        {
            writer.WriteBase64String("value"u8, value.Value.Span);
        }
        writer.WriteEndObject();
    }

    public override Any Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw JsonTokens.Expected(ref reader, "an object (google.protobuf.Any)");
        // "@type" may come after the payload's fields: find it first, then read the object again as that type.
        var start = reader;
        string? typeUrl = null;
        ByteString? raw = null;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            if (reader.ValueTextEquals("@type"u8))
            {
                reader.Read();
                typeUrl = StringJsonCodec.Instance.Read(ref reader);
            }
            else if (reader.ValueTextEquals("value"u8))
            {
                reader.Read();
                raw = reader.TokenType == JsonTokenType.String ? Base64JsonCodec.Instance.Read(ref reader) : null;
                reader.Skip();
            }
            else
            {
                reader.Read();
                reader.Skip();
            }
        }
        if (typeUrl is null) throw JsonTokens.Invalid(ref start, "google.protobuf.Any without \"@type\"");
        if (!KnownTypes.TryGetValue(Any.GetTypeName(typeUrl), out var descriptor))
            return new Any { TypeUrl = typeUrl, Value = raw ?? ByteString.Empty };

        var end = reader;
        reader = start;
        var payload = JsonCodecs.For(descriptor.ClrType).ReadMessage(ref reader);
        reader = end;
        return new Any { TypeUrl = typeUrl, Value = payload.ToByteString() };
    }

    public override bool IsDefault(Any value) => value is null;
}

/// <summary>google.protobuf.Duration as proto3 JSON writes it: decimal seconds with an "s" suffix ("1.500s").</summary>
internal sealed class DurationJsonCodec : JsonValueCodec<Duration>
{
    public static readonly DurationJsonCodec Instance = new();

    public override void Write(Utf8JsonWriter writer, Duration value)
    {
        var negative = value.Seconds < 0 || value.Nanos < 0;
        var seconds = Math.Abs(value.Seconds);
        var nanos = Math.Abs(value.Nanos);
        var text = (negative ? "-" : "") + seconds.ToString(CultureInfo.InvariantCulture);
        if (nanos != 0)
        {
            // 3, 6 or 9 fractional digits, as protobuf's JSON writers do.
            var fraction = nanos.ToString("D9", CultureInfo.InvariantCulture);
            text += "." + (nanos % 1_000_000 == 0 ? fraction[..3] : nanos % 1_000 == 0 ? fraction[..6] : fraction);
        }
        writer.WriteStringValue(text + "s");
    }

    public override Duration Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.String) throw JsonTokens.Expected(ref reader, "a duration string such as \"1.5s\"");
        var text = reader.GetString()!;
        if (!text.EndsWith('s') || !decimal.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var seconds))
            throw JsonTokens.Invalid(ref reader, $"\"{text}\" is not a duration such as \"1.5s\"");
        var whole = decimal.Truncate(seconds);
        return new Duration { Seconds = (long)whole, Nanos = (int)((seconds - whole) * 1_000_000_000m) };
    }

    public override bool IsDefault(Duration value) => value is null;
}
