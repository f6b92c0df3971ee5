namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>One compiled policy. Evaluated on the decision thread only, so evaluators may keep state (rate limits) without locks.</summary>
internal interface IPolicyEvaluator
{
    SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now);
}
