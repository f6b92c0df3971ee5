using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>A string attribute equal to one of the values, or matching one of them as a regex (with a bounded result cache).</summary>
internal sealed class StringAttributePolicy : IPolicyEvaluator
{
    private readonly string _key;
    private readonly bool _invert;
    private readonly Func<string, bool> _matches;

    public StringAttributePolicy(string key, IReadOnlyList<string> values, bool regex, int cacheMaxSize, bool invert)
    {
        _key = key;
        _invert = invert;
        if (!regex)
        {
            var set = values.ToHashSet(StringComparer.Ordinal);
            _matches = set.Contains;
            return;
        }
        var patterns = values.Select(v => new Regex(v, RegexOptions.CultureInvariant)).ToArray();
        bool Evaluate(string text) => patterns.Any(p => p.IsMatch(text));
        if (cacheMaxSize <= 0)
        {
            _matches = Evaluate;
            return;
        }
        var cache = new ConcurrentDictionary<string, bool>(StringComparer.Ordinal);
        _matches = text =>
        {
            if (cache.TryGetValue(text, out var hit)) return hit;
            var result = Evaluate(text);
            if (cache.Count >= cacheMaxSize) cache.Clear(); // bounded: start over rather than grow
            cache[text] = result;
            return result;
        };
    }

    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now) =>
        AttributeMatch.Decide(trace, _key, value => value.ValueCase == AnyValue.ValueOneofCase.StringValue && _matches(value.StringValue), _invert);
}
