namespace OtelAi.Processors.TailSampling.Policies;

internal sealed class AlwaysSample : IPolicyEvaluator
{
    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now) => SamplingDecision.Sampled;
}
