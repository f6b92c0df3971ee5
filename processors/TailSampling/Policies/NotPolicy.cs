namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>not: sampled when the sub-policy does not sample.</summary>
internal sealed class NotPolicy(IPolicyEvaluator subPolicy) : IPolicyEvaluator
{
    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now) =>
        subPolicy.Evaluate(traceId, trace, now) is SamplingDecision.Sampled or SamplingDecision.InvertSampled
            ? SamplingDecision.NotSampled
            : SamplingDecision.Sampled;
}
