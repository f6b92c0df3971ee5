namespace OtelAi.Processors.Common;

/// <summary>
/// Turns a raw URL path into a route template, so that paths seen by eBPF or logged without a framework route do not
/// explode cardinality: the query string goes, repeated slashes collapse, and a segment that is an identifier —
/// all digits, a UUID, a hex string of 16 or more digits (hashes, trace ids), or a long token mixing letters and
/// digits (24 characters or more) — becomes <c>{id}</c>. Words stay, so model names in
/// <c>/v2/models/resnet50/infer</c> remain visible.
/// </summary>
public static class RouteNormalizer
{
    public const string Placeholder = "{id}";

    public static string Normalize(string path)
    {
        if (path.Length == 0) return path;
        var query = path.AsSpan().IndexOfAny('?', '#');
        var span = query >= 0 ? path.AsSpan(0, query) : path.AsSpan();
        var builder = new System.Text.StringBuilder(span.Length);
        foreach (var range in span.Split('/'))
        {
            var segment = span[range];
            if (segment.IsEmpty) continue;
            builder.Append('/');
            if (IsIdentifier(segment)) builder.Append(Placeholder);
            else builder.Append(segment);
        }
        if (builder.Length == 0) builder.Append('/');
        return builder.ToString();
    }

    private static bool IsIdentifier(ReadOnlySpan<char> segment)
    {
        if (segment.Length == 0) return false;
        var digits = 0;
        var hex = 0;
        var letters = 0;
        foreach (var c in segment)
        {
            if (char.IsAsciiDigit(c)) digits++;
            else if (char.IsAsciiHexDigit(c)) hex++;
            if (char.IsAsciiLetter(c)) letters++;
        }
        if (digits == segment.Length) return true;
        if (IsUuid(segment)) return true;
        if (segment.Length >= 16 && digits + hex == segment.Length && digits > 0) return true;
        return segment.Length >= 24 && digits > 0 && letters > 0;
    }

    private static bool IsUuid(ReadOnlySpan<char> segment) =>
        segment.Length == 36 && segment[8] == '-' && segment[13] == '-' && segment[18] == '-' && segment[23] == '-' && Guid.TryParse(segment, out _);
}
