namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>and: sampled when every sub-policy samples (an inverted sample counts as a sample, an inverted not-sample as not).</summary>
internal sealed class AndPolicy(IReadOnlyList<IPolicyEvaluator> subPolicies) : IPolicyEvaluator
{
    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now)
    {
        foreach (var policy in subPolicies)
            if (policy.Evaluate(traceId, trace, now) is not (SamplingDecision.Sampled or SamplingDecision.InvertSampled)) return SamplingDecision.NotSampled;
        return SamplingDecision.Sampled;
    }
}
