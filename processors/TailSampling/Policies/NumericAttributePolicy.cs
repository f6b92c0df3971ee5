using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>An int attribute within [min_value, max_value] (an unset bound is open, as otelcol does).</summary>
internal sealed class NumericAttributePolicy(string key, long min, long max, bool invert) : IPolicyEvaluator
{
    private readonly long _min = min == 0 ? long.MinValue : min;
    private readonly long _max = max == 0 ? long.MaxValue : max;

    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now) =>
        AttributeMatch.Decide(trace, key, value => value.ValueCase == AnyValue.ValueOneofCase.IntValue && value.IntValue >= _min && value.IntValue <= _max, invert);
}
