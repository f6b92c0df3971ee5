using OtelAi.Engine.Config;
using OtelAi.Processors.Common;
using OtelAi.Processors.TailSampling.Policies;
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

    /// <summary>otelai's <c>route</c> policy: ordered rules, the first that matches decides.</summary>
    public sealed record RouteConfig
    {
        [ConfigDescription("Which span the rules read: root (the root span, else the first server span, else the first span) or any (a rule matches when one span meets all its conditions).")]
        public string MatchOn { get; init; } = "root";

        [ConfigDescription("Salt of the trace-id hash behind percentage rules (as probabilistic's hash_salt).")]
        public string HashSalt { get; init; } = "";

        [ConfigDescription("Rules in order; the first whose conditions all hold decides. A rule without conditions matches every trace (a default that closes the list).")]
        public List<RouteRuleConfig> Rules { get; init; } = [];

        public IEnumerable<ConfigError> Validate()
        {
            if (MatchOn is not ("root" or "any")) yield return new("match_on", $"expected root or any, got \"{MatchOn}\"");
            if (Rules.Count == 0) yield return new("rules", "must list at least one rule");
            for (var i = 0; i < Rules.Count; i++)
                foreach (var error in Rules[i].Validate())
                    yield return error with { Path = $"rules[{i}].{error.Path}" };
            foreach (var name in Rules.Where(r => r.Name.Length > 0).GroupBy(r => r.Name).Where(g => g.Count() > 1).Select(g => g.Key))
                yield return new("rules", $"rule name \"{name}\" is used twice");
        }
    }

    /// <summary>One route rule: conditions (all must hold; none means every trace) and an action.</summary>
    public sealed record RouteRuleConfig
    {
        [ConfigDescription("Name in explain attributes, logs and metrics; default rule<index>.")]
        public string Name { get; init; } = "";

        [ConfigDescription("Paths (http.route, else url.path, else http.target; matched as sent and as a route template with ids as {id}): globs (* any run, ? one character) or regex:<RE2>.")]
        public List<string> Path { get; init; } = [];

        [ConfigDescription("Statuses: an HTTP class (5xx), range (500-599) or code (503); a gRPC code name (UNAVAILABLE, from rpc.grpc.status_code); or a span status (OK, ERROR, UNSET).")]
        public List<string> Status { get; init; } = [];

        [ConfigDescription("Models (gen_ai.request.model, model_id or gen_ai.response.model), as globs or regex:<RE2>.")]
        public List<string> Model { get; init; } = [];

        [ConfigDescription("The matched span lasted at least this long.")]
        public TimeSpan MinDuration { get; init; }

        [ConfigDescription("An OTTL span condition that must hold on some span of the trace.")]
        public string Condition { get; init; } = "";

        [ConfigDescription("keep or drop; or leave it out and set percentage or spans_per_second.")]
        public string Action { get; init; } = "";

        [ConfigDescription("Keep this percentage of matching traces, consistent by trace id (the same traces as probabilistic with the same hash_salt).")]
        [ConfigRange(0, 100)]
        public double Percentage { get; init; }

        [ConfigDescription("Keep matching traces up to this many spans per second per route and status class.")]
        [ConfigRange(0)]
        public double SpansPerSecond { get; init; }

        internal RouteAction EffectiveAction => Action switch
        {
            "keep" => RouteAction.Keep,
            "drop" => RouteAction.Drop,
            _ => SpansPerSecond > 0 ? RouteAction.Rate : RouteAction.Percentage,
        };

        public IEnumerable<ConfigError> Validate()
        {
            var actions = (Action.Length > 0 ? 1 : 0) + (Percentage > 0 ? 1 : 0) + (SpansPerSecond > 0 ? 1 : 0);
            if (Action.Length > 0 && Action is not ("keep" or "drop")) yield return new("action", $"expected keep or drop, got \"{Action}\"");
            else if (actions != 1) yield return new("action", "set exactly one of action (keep or drop), percentage or spans_per_second");
            foreach (var status in Status.Where(s => RouteStatus.Parse(s) is null))
                yield return new("status", $"\"{status}\" is not a status: use an HTTP class (5xx), range (500-599) or code, a gRPC code name, or OK, ERROR, UNSET");
            foreach (var pattern in Path.Concat(Model).Where(p => p.StartsWith("regex:", StringComparison.Ordinal)))
                if (!GoRegex.TryCompile(pattern["regex:".Length..], out _, out var error))
                    yield return new(Path.Contains(pattern) ? "path" : "model", $"invalid regular expression \"{pattern}\": {error}");
            if (Condition.Length > 0)
            {
                string? problem = null;
                try { OttlLanguage.CompileCondition(Condition, OttlContextKind.Span); }
                catch (OttlCompileException ex) { problem = ex.Message; }
                if (problem is not null) yield return new("condition", problem);
            }
        }
    }
}
