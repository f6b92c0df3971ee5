namespace OtelAi.Processors.TailSampling.Policies;

internal sealed class SpanCountPolicy(int min, int max) : IPolicyEvaluator
{
    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now)
    {
        var count = trace.Spans.Count;
        return count >= min && (max == 0 || count <= max) ? SamplingDecision.Sampled : SamplingDecision.NotSampled;
    }
}
