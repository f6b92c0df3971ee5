namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>Duration from the earliest span start to the latest span end, against [threshold, upper) in ms.</summary>
internal sealed class LatencyPolicy(long thresholdMs, long upperThresholdMs) : IPolicyEvaluator
{
    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now)
    {
        ulong start = ulong.MaxValue, end = 0;
        foreach (var buffered in trace.Spans)
        {
            start = Math.Min(start, buffered.Span.StartTimeUnixNano);
            end = Math.Max(end, buffered.Span.EndTimeUnixNano);
        }
        if (end < start) return SamplingDecision.NotSampled;
        var durationMs = (end - start) / 1_000_000.0;
        var matched = upperThresholdMs == 0 ? durationMs >= thresholdMs : durationMs >= thresholdMs && durationMs < upperThresholdMs;
        return matched ? SamplingDecision.Sampled : SamplingDecision.NotSampled;
    }
}
