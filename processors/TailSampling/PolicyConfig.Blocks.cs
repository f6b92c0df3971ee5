using OtelAi.Engine.Config;
using OtelAi.Processors.Ottl;

namespace OtelAi.Processors.TailSampling;

/// <summary>The per-type blocks of a policy, with otelcol's keys.</summary>
public sealed partial record PolicyConfig
{
    public sealed record LatencyConfig
    {
        [ConfigDescription("Sample traces lasting at least this long (first span start to last span end), in ms.")]
        public long ThresholdMs { get; init; }

        [ConfigDescription("When set, only traces shorter than this (ms) are sampled.")]
        public long UpperThresholdMs { get; init; }
    }

    public sealed record NumericAttributeConfig
    {
        public string Key { get; init; } = "";

        public long MinValue { get; init; }

        public long MaxValue { get; init; }

        [ConfigDescription("Sample traces whose value is outside the range (or that lack the attribute).")]
        public bool InvertMatch { get; init; }
    }

    public sealed record ProbabilisticConfig
    {
        [ConfigDescription("Salt of the trace id hash (default-hash-seed when empty); decisions equal otelcol's for the same id and salt.")]
        public string HashSalt { get; init; } = "";

        [ConfigDescription("Share of traces sampled, in percent; 100 or more samples all.")]
        public double SamplingPercentage { get; init; }
    }

    public sealed record StatusCodeConfig
    {
        [ConfigDescription("Span status codes that sample the trace: OK, ERROR, UNSET.")]
        public List<string> StatusCodes { get; init; } = [];
    }

    public sealed record StringAttributeConfig
    {
        public string Key { get; init; } = "";

        public List<string> Values { get; init; } = [];

        [ConfigDescription("Values are regular expressions.")]
        public bool EnabledRegexMatching { get; init; }

        [ConfigDescription("Entries of the cache of regex match results (0: no cache).")]
        [ConfigRange(0)]
        public int CacheMaxSize { get; init; }

        [ConfigDescription("Sample traces whose values do not match (or that lack the attribute).")]
        public bool InvertMatch { get; init; }
    }

    public sealed record RateLimitingConfig
    {
        [ConfigDescription("Spans per second this policy samples; traces beyond it are not sampled.")]
        public long SpansPerSecond { get; init; }
    }

    public sealed record BytesLimitingConfig
    {
        [ConfigDescription("Sustained bytes per second sampled (token bucket).")]
        public long BytesPerSecond { get; init; }

        [ConfigDescription("Bucket size in bytes (default 2 × bytes_per_second); a larger trace never passes.")]
        public long BurstCapacity { get; init; }
    }

    public sealed record SpanCountConfig
    {
        public int MinSpans { get; init; }

        [ConfigDescription("When set, traces with more spans are not sampled.")]
        public int MaxSpans { get; init; }
    }

    public sealed record TraceStateConfig
    {
        public string Key { get; init; } = "";

        public List<string> Values { get; init; } = [];
    }

    public sealed record BooleanAttributeConfig
    {
        public string Key { get; init; } = "";

        public bool Value { get; init; }

        public bool InvertMatch { get; init; }
    }

    public sealed record OttlConditionConfig
    {
        [ConfigDescription("What an evaluation error does: propagate (logged, the condition is false), ignore (logged) or silent.")]
        public ErrorMode ErrorMode { get; init; } = ErrorMode.Propagate;

        [ConfigDescription("OTTL conditions on spans; any true samples the trace.")]
        public List<string> Span { get; init; } = [];

        [ConfigDescription("OTTL conditions on span events; any true samples the trace.")]
        public List<string> Spanevent { get; init; } = [];
    }

    public sealed record AndConfig
    {
        [ConfigDescription("Sampled when every sub-policy samples.")]
        public List<PolicyConfig> AndSubPolicy { get; init; } = [];
    }

    public sealed record NotConfig
    {
        [ConfigDescription("Sampled when this sub-policy does not sample.")]
        public PolicyConfig? NotSubPolicy { get; init; }
    }

    public sealed record DropConfig
    {
        [ConfigDescription("Dropped (whatever other policies say) when every sub-policy samples.")]
        public List<PolicyConfig> DropSubPolicy { get; init; } = [];
    }

    public sealed record CompositeConfig
    {
        [ConfigDescription("Spans per second the composite samples in total.")]
        public long MaxTotalSpansPerSecond { get; init; }

        [ConfigDescription("Sub-policy names in evaluation order.")]
        public List<string> PolicyOrder { get; init; } = [];

        public List<PolicyConfig> CompositeSubPolicy { get; init; } = [];

        [ConfigDescription("Share of max_total_spans_per_second per sub-policy; the rest goes to sub-policies in order.")]
        public List<RateAllocationConfig> RateAllocation { get; init; } = [];

        public IEnumerable<ConfigError> Validate()
        {
            if (CompositeSubPolicy.Count == 0) yield return new("composite_sub_policy", "must list at least one sub-policy");
            foreach (var name in PolicyOrder.Where(n => CompositeSubPolicy.All(p => p.Name != n)))
                yield return new("policy_order", $"\"{name}\" names no composite_sub_policy");
            if (RateAllocation.Sum(r => r.Percent) > 100) yield return new("rate_allocation", "percentages add up to more than 100");
        }
    }

    public sealed record RateAllocationConfig
    {
        public string Policy { get; init; } = "";

        public long Percent { get; init; }
    }
}
