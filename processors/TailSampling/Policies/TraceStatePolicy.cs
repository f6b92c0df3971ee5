namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>A W3C tracestate entry <c>key=value</c> on any span, with value one of the listed.</summary>
internal sealed class TraceStatePolicy(string key, IEnumerable<string> values) : IPolicyEvaluator
{
    private readonly HashSet<string> _values = values.ToHashSet(StringComparer.Ordinal);

    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now)
    {
        foreach (var buffered in trace.Spans)
            foreach (var member in buffered.Span.TraceState.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            {
                var equals = member.IndexOf('=');
                if (equals > 0 && member.AsSpan(0, equals).SequenceEqual(key) && _values.Contains(member[(equals + 1)..])) return SamplingDecision.Sampled;
            }
        return SamplingDecision.NotSampled;
    }
}
