namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>otelcol's rate_limiting: traces are sampled while the spans sampled in the current second stay within the limit.</summary>
internal sealed class RateLimitingPolicy(long spansPerSecond) : IPolicyEvaluator
{
    private long _second = long.MinValue;
    private long _spansThisSecond;

    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now)
    {
        var second = now.ToUnixTimeSeconds();
        if (second != _second)
        {
            _second = second;
            _spansThisSecond = 0;
        }
        var total = _spansThisSecond + trace.Spans.Count;
        if (total > spansPerSecond) return SamplingDecision.NotSampled;
        _spansThisSecond = total;
        return SamplingDecision.Sampled;
    }
}
