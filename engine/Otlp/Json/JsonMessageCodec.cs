using System.Reflection;
using System.Text.Json;
using Google.Protobuf;
using Google.Protobuf.Collections;
using Google.Protobuf.Reflection;

namespace OtelAi.Otlp.Json;

/// <summary>Non-generic view of a message codec, for callers that only hold an <see cref="IMessage"/>.</summary>
internal interface IJsonMessageCodec
{
    MessageDescriptor Descriptor { get; }

    /// <summary>Second construction phase, after registration, so recursive types (AnyValue ↔ ArrayValue) resolve.</summary>
    void Initialize();

    IMessage ReadMessage(ref Utf8JsonReader reader);

    void WriteMessage(Utf8JsonWriter writer, IMessage message);

    /// <summary>Writes the fields without the enclosing braces (google.protobuf.Any inlines its payload's fields).</summary>
    void WriteFields(Utf8JsonWriter writer, IMessage message);
}

/// <summary>
/// OTLP/JSON for one message type, built once from its descriptor: per field a typed getter/setter delegate and a
/// value codec, plus the camelCase and snake_case names as UTF-8 for matching keys without allocating.
/// </summary>
internal sealed class JsonMessageCodec<T> : JsonValueCodec<T>, IJsonMessageCodec where T : class, IMessage<T>, new()
{
    private JsonFieldCodec<T>[] _fields = [];
    private (byte[] Name, JsonFieldCodec<T> Field)[] _keys = [];

    public JsonMessageCodec(MessageDescriptor descriptor) => Descriptor = descriptor;

    public MessageDescriptor Descriptor { get; }

    public void Initialize()
    {
        var properties = PropertiesByFieldNumber();
        var fields = new List<JsonFieldCodec<T>>();
        var keys = new List<(byte[], JsonFieldCodec<T>)>();
        foreach (var field in Descriptor.Fields.InFieldNumberOrder())
        {
            if (!properties.TryGetValue(field.FieldNumber, out var property))
                throw new InvalidOperationException($"no generated property for {Descriptor.FullName}.{field.Name}");
            var codec = JsonFieldCodecs.Create<T>(field, property);
            fields.Add(codec);
            keys.Add((System.Text.Encoding.UTF8.GetBytes(field.JsonName), codec));
            if (field.Name != field.JsonName) keys.Add((System.Text.Encoding.UTF8.GetBytes(field.Name), codec));
        }
        _fields = fields.ToArray();
        _keys = keys.ToArray();
    }

    // Generated classes expose "public const int XxxFieldNumber" next to each property Xxx; that pairing is
    // exact where re-deriving C# property names from proto names would have to copy protoc's renaming rules.
    private static Dictionary<int, PropertyInfo> PropertiesByFieldNumber()
    {
        var result = new Dictionary<int, PropertyInfo>();
        foreach (var constant in typeof(T).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            if (!constant.IsLiteral || constant.FieldType != typeof(int) || !constant.Name.EndsWith("FieldNumber", StringComparison.Ordinal)) continue;
            var property = typeof(T).GetProperty(constant.Name[..^"FieldNumber".Length], BindingFlags.Public | BindingFlags.Instance);
            if (property is not null) result[(int)constant.GetRawConstantValue()!] = property;
        }
        return result;
    }

    public override void Write(Utf8JsonWriter writer, T value)
    {
        writer.WriteStartObject();
        WriteFieldsOf(writer, value);
        writer.WriteEndObject();
    }

    private void WriteFieldsOf(Utf8JsonWriter writer, T value)
    {
        foreach (var field in _fields) field.Write(writer, value);
    }

    public override T Read(ref Utf8JsonReader reader)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw JsonTokens.Expected(ref reader, $"an object ({Descriptor.Name})");
        var message = new T();
        try
        {
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var field = Find(ref reader);
                reader.Read();
                if (field is null)
                {
                    reader.Skip(); // unknown fields are ignored, as the OTLP spec requires of receivers
                    continue;
                }
                if (reader.TokenType == JsonTokenType.Null) continue;
                try
                {
                    field.Read(ref reader, message);
                }
                catch (OtlpJsonException e)
                {
                    e.AddProperty(field.JsonName);
                    throw;
                }
                catch (InvalidOperationException e)
                {
                    // e.g. a string that is not valid UTF-8
                    var error = new OtlpJsonException(e.Message, reader.TokenStartIndex, e);
                    error.AddProperty(field.JsonName);
                    throw error;
                }
            }
        }
        catch (JsonException e)
        {
            // A syntax error inside this object: report it with this object's path.
            throw new OtlpJsonException(e);
        }
        return message;
    }

    private JsonFieldCodec<T>? Find(ref Utf8JsonReader reader)
    {
        if (!reader.HasValueSequence && !reader.ValueIsEscaped) return Find(reader.ValueSpan);
        var length = reader.HasValueSequence ? reader.ValueSequence.Length : reader.ValueSpan.Length;
        return length > JsonTokens.ShortValueLimit ? null : Find(JsonTokens.ShortString(ref reader, "key"));
    }

    private JsonFieldCodec<T>? Find(ReadOnlySpan<byte> name)
    {
        foreach (var (key, field) in _keys)
            if (name.SequenceEqual(key)) return field;
        return null;
    }

    public override bool IsDefault(T value) => value is null;

    IMessage IJsonMessageCodec.ReadMessage(ref Utf8JsonReader reader) => Read(ref reader);

    void IJsonMessageCodec.WriteMessage(Utf8JsonWriter writer, IMessage message) => Write(writer, (T)message);

    void IJsonMessageCodec.WriteFields(Utf8JsonWriter writer, IMessage message) => WriteFieldsOf(writer, (T)message);
}

/// <summary>Builds and caches one codec per message type.</summary>
internal static class JsonCodecs
{
    private static readonly Dictionary<Type, IJsonMessageCodec> Cache = new();
    private static readonly Lock CacheLock = new();

    /// <summary>
    /// Codecs are registered before their fields are built, so a recursive type finds itself. The whole
    /// graph reachable from a type is built under one (re-entrant) lock: another thread never sees a codec
    /// whose fields are not yet set.
    /// </summary>
    public static IJsonMessageCodec For(Type messageType)
    {
        lock (CacheLock)
        {
            if (Cache.TryGetValue(messageType, out var existing)) return existing;
            var descriptor = (MessageDescriptor)messageType.GetProperty("Descriptor", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            var codec = (IJsonMessageCodec)Activator.CreateInstance(typeof(JsonMessageCodec<>).MakeGenericType(messageType), descriptor)!;
            Cache[messageType] = codec;
            try
            {
                codec.Initialize();
            }
            catch
            {
                Cache.Remove(messageType);
                throw;
            }
            return codec;
        }
    }

    public static JsonMessageCodec<T> For<T>() where T : class, IMessage<T>, new() => Typed<T>.Codec;

    private static class Typed<T> where T : class, IMessage<T>, new()
    {
        public static readonly JsonMessageCodec<T> Codec = (JsonMessageCodec<T>)For(typeof(T));
    }

}
