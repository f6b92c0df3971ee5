namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>drop: every sub-policy samples → the trace is dropped, whatever the other policies say.</summary>
internal sealed class DropPolicy(IReadOnlyList<IPolicyEvaluator> subPolicies) : IPolicyEvaluator
{
    private readonly AndPolicy _all = new(subPolicies);

    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now) =>
        _all.Evaluate(traceId, trace, now) == SamplingDecision.Sampled ? SamplingDecision.Dropped : SamplingDecision.NotSampled;
}
