using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.TailSampling.Policies;

internal sealed class BooleanAttributePolicy(string key, bool expected, bool invert) : IPolicyEvaluator
{
    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now) =>
        AttributeMatch.Decide(trace, key, value => value.ValueCase == AnyValue.ValueOneofCase.BoolValue && value.BoolValue == expected, invert);
}
