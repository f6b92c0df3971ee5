using Google.Protobuf.Collections;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>
/// otelcol's attribute policy rule: a trace matches when a resource or a span carries the key with a matching value.
/// With invert_match: any match is InvertNotSampled (which overrides other policies' samples); no match, or no such
/// key, is InvertSampled.
/// </summary>
internal static class AttributeMatch
{
    public static SamplingDecision Decide(BufferedTrace trace, string key, Func<AnyValue, bool> matches, bool invert)
    {
        var found = Any(trace, key, matches);
        if (!invert) return found ? SamplingDecision.Sampled : SamplingDecision.NotSampled;
        return found ? SamplingDecision.InvertNotSampled : SamplingDecision.InvertSampled;
    }

    private static bool Any(BufferedTrace trace, string key, Func<AnyValue, bool> matches)
    {
        OtelAi.Otlp.Proto.Resource.V1.Resource? lastResource = null;
        foreach (var buffered in trace.Spans)
        {
            if (!ReferenceEquals(buffered.Resource, lastResource))
            {
                lastResource = buffered.Resource;
                if (Matches(buffered.Resource.Attributes, key, matches)) return true;
            }
            if (Matches(buffered.Span.Attributes, key, matches)) return true;
        }
        return false;
    }

    private static bool Matches(RepeatedField<KeyValue> attributes, string key, Func<AnyValue, bool> matches) =>
        attributes.Get(key) is { } value && matches(value);
}
