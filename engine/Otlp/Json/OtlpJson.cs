using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;
using Google.Protobuf;

namespace OtelAi.Otlp.Json;

/// <summary>
/// OTLP/JSON encoding of our protobuf messages, per the OTLP specification: lowerCamelCase keys (snake_case
/// accepted on input), trace/span ids as hex, other bytes as base64, enums as integers (names accepted), 64-bit
/// integers as decimal strings (numbers accepted), "NaN"/"Infinity" doubles, unknown fields ignored, null as absent.
/// Google.Protobuf's JsonFormatter differs on ids and enums, hence this codec; it is used on the OTLP/HTTP hot path.
/// </summary>
public static class OtlpJson
{
    private static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 128 };

    // Relaxed escaping keeps non-ASCII text readable in files; the output is still valid JSON.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true };
    private static readonly JsonWriterOptions IndentedWriterOptions = WriterOptions with { Indented = true };

    /// <summary>Decodes one JSON object into <typeparamref name="T"/>; throws <see cref="OtlpJsonException"/> on bad input.</summary>
    public static T Parse<T>(ReadOnlySpan<byte> utf8Json) where T : class, IMessage<T>, new()
    {
        if (utf8Json.IsEmpty) throw new OtlpJsonException("empty input, expected a JSON object", 0);
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        return Parse<T>(ref reader);
    }

    /// <inheritdoc cref="Parse{T}(ReadOnlySpan{byte})"/>
    public static T Parse<T>(ReadOnlySequence<byte> utf8Json) where T : class, IMessage<T>, new()
    {
        if (utf8Json.IsEmpty) throw new OtlpJsonException("empty input, expected a JSON object", 0);
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        return Parse<T>(ref reader);
    }

    /// <inheritdoc cref="Parse{T}(ReadOnlySpan{byte})"/>
    public static T Parse<T>(string json) where T : class, IMessage<T>, new() =>
        Parse<T>(System.Text.Encoding.UTF8.GetBytes(json));

    private static T Parse<T>(ref Utf8JsonReader reader) where T : class, IMessage<T>, new()
    {
        try
        {
            reader.Read();
            var message = JsonCodecs.For<T>().Read(ref reader);
            if (reader.Read()) throw new OtlpJsonException("unexpected content after the top-level object", reader.TokenStartIndex);
            return message;
        }
        catch (JsonException e)
        {
            throw new OtlpJsonException(e);
        }
    }

    /// <summary>Encodes <paramref name="message"/> as one line of compact OTLP/JSON (no trailing newline).</summary>
    public static void Write<T>(T message, IBufferWriter<byte> output) where T : class, IMessage<T>, new()
    {
        using var writer = new Utf8JsonWriter(output, WriterOptions);
        JsonCodecs.For<T>().Write(writer, message);
    }

    /// <summary>Encodes any of our messages into an existing writer (e.g. nested in a larger document).</summary>
    public static void Write(IMessage message, Utf8JsonWriter writer) =>
        JsonCodecs.For(message.GetType()).WriteMessage(writer, message);

    public static byte[] ToUtf8Bytes(IMessage message, bool indented = false)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, indented ? IndentedWriterOptions : WriterOptions))
            Write(message, writer);
        return buffer.WrittenSpan.ToArray();
    }

    public static string ToJson(IMessage message, bool indented = false) =>
        System.Text.Encoding.UTF8.GetString(ToUtf8Bytes(message, indented));
}
