namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>Samples a trace when any span carries the W3C sampled flag (bit 0 of the span's flags).</summary>
internal sealed class TraceFlagsPolicy : IPolicyEvaluator
{
    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now)
    {
        foreach (var buffered in trace.Spans)
            if ((buffered.Span.Flags & 1) != 0) return SamplingDecision.Sampled;
        return SamplingDecision.NotSampled;
    }
}
