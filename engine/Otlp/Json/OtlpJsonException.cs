using System.Text;
using System.Text.Json;

namespace OtelAi.Otlp.Json;

/// <summary>
/// OTLP/JSON input that cannot be decoded. The message says what is wrong, the JSON path of the offending value
/// (e.g. <c>$.resourceSpans[0].scopeSpans[0].spans[3].traceId</c>) and where it is in the input.
/// </summary>
public sealed class OtlpJsonException : Exception
{
    // Path segments are collected innermost first while the exception unwinds through the nested readers.
    private readonly List<string> _reversedPath = [];

    internal OtlpJsonException(string problem, long byteOffset, Exception? inner = null) : base(problem, inner)
    {
        Problem = problem;
        ByteOffset = byteOffset;
    }

    internal OtlpJsonException(JsonException readerError)
        : base(readerError.Message, readerError)
    {
        // The reader's own message ends with its position; we report the position in our own format instead.
        var text = readerError.Message;
        var cut = text.IndexOf(" LineNumber:", StringComparison.Ordinal);
        Problem = cut > 0 ? text[..cut] : text;
        Line = readerError.LineNumber + 1;
        ByteOffset = readerError.BytePositionInLine ?? -1;
    }

    /// <summary>What is wrong, without the location.</summary>
    public string Problem { get; }

    /// <summary>Byte offset of the offending token (within <see cref="Line"/> when that is set), or -1.</summary>
    public long ByteOffset { get; }

    /// <summary>1-based line, for syntax errors reported by the JSON reader; null when <see cref="ByteOffset"/> is absolute.</summary>
    public long? Line { get; }

    /// <summary>JSON path of the offending value, <c>$</c> for the top-level object.</summary>
    public string JsonPath
    {
        get
        {
            var path = new StringBuilder("$");
            for (var i = _reversedPath.Count - 1; i >= 0; i--) path.Append(_reversedPath[i]);
            return path.ToString();
        }
    }

    public override string Message
    {
        get
        {
            var where = Line is { } line ? $"line {line}, byte {ByteOffset}" : $"byte {ByteOffset}";
            return $"invalid OTLP/JSON at {JsonPath} ({where}): {Problem}";
        }
    }

    internal void AddProperty(string name) => _reversedPath.Add("." + name);

    internal void AddIndex(int index) => _reversedPath.Add($"[{index}]");
}
