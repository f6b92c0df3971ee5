using Microsoft.Extensions.Logging;

namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>Builds the evaluator of a validated policy config (sub-policies included).</summary>
internal static class PolicyCompiler
{
    public static IPolicyEvaluator Compile(PolicyConfig policy, ILogger logger) => policy.Type switch
    {
        "always_sample" => new AlwaysSample(),
        "latency" => new LatencyPolicy(policy.Latency.ThresholdMs, policy.Latency.UpperThresholdMs),
        "numeric_attribute" => new NumericAttributePolicy(policy.NumericAttribute.Key, policy.NumericAttribute.MinValue, policy.NumericAttribute.MaxValue, policy.NumericAttribute.InvertMatch),
        "probabilistic" => new ProbabilisticPolicy(policy.Probabilistic.HashSalt, policy.Probabilistic.SamplingPercentage),
        "status_code" => new StatusCodePolicy(policy.StatusCode.StatusCodes),
        "string_attribute" => new StringAttributePolicy(policy.StringAttribute.Key, policy.StringAttribute.Values,
            policy.StringAttribute.EnabledRegexMatching, policy.StringAttribute.CacheMaxSize, policy.StringAttribute.InvertMatch),
        "rate_limiting" => new RateLimitingPolicy(policy.RateLimiting.SpansPerSecond),
        "bytes_limiting" => new BytesLimitingPolicy(policy.BytesLimiting.BytesPerSecond, policy.BytesLimiting.BurstCapacity),
        "span_count" => new SpanCountPolicy(policy.SpanCount.MinSpans, policy.SpanCount.MaxSpans),
        "trace_state" => new TraceStatePolicy(policy.TraceState.Key, policy.TraceState.Values),
        "trace_flags" => new TraceFlagsPolicy(),
        "boolean_attribute" => new BooleanAttributePolicy(policy.BooleanAttribute.Key, policy.BooleanAttribute.Value, policy.BooleanAttribute.InvertMatch),
        "ottl_condition" => OttlConditionPolicy.Compile(policy.OttlCondition, logger),
        "and" => new AndPolicy(policy.And.AndSubPolicy.Select(p => Compile(p, logger)).ToList()),
        "drop" => new DropPolicy(policy.Drop.DropSubPolicy.Select(p => Compile(p, logger)).ToList()),
        "not" => new NotPolicy(Compile(policy.Not.NotSubPolicy!, logger)),
        "composite" => CompileComposite(policy.Composite, logger),
        "route" => new RoutePolicy(policy.Route, logger),
        _ => throw new ArgumentException($"unknown sampling policy type \"{policy.Type}\""),
    };

    private static CompositePolicy CompileComposite(PolicyConfig.CompositeConfig composite, ILogger logger)
    {
        var byName = composite.CompositeSubPolicy.ToDictionary(p => p.Name, StringComparer.Ordinal);
        var order = composite.PolicyOrder.Count > 0 ? composite.PolicyOrder : composite.CompositeSubPolicy.Select(p => p.Name).ToList();
        return new CompositePolicy(composite.MaxTotalSpansPerSecond,
            order.Select(name => (name, Compile(byName[name], logger))).ToList(),
            composite.RateAllocation.ToDictionary(r => r.Policy, r => r.Percent, StringComparer.Ordinal));
    }
}
