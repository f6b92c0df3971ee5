using OtelAi.Engine.Config;

namespace OtelAi.Processors.TailSampling;

/// <summary>
/// One sampling policy, as otelcol's PolicyCfg: <c>name</c>, <c>type</c> and the block named after the type. The
/// same record serves the sub-policies of <c>and</c>, <c>not</c>, <c>drop</c> and <c>composite</c>.
/// </summary>
public sealed partial record PolicyConfig : IConfigSection
{
    private static readonly string[] Types =
    [
        "always_sample", "latency", "numeric_attribute", "probabilistic", "status_code", "string_attribute", "rate_limiting",
        "bytes_limiting", "span_count", "trace_state", "trace_flags", "boolean_attribute", "ottl_condition", "and", "not", "drop", "composite",
        "route",
    ];

    [ConfigDescription("Name of the policy in metrics and logs.")]
    public string Name { get; init; } = "";

    [ConfigDescription("Policy type: always_sample, latency, numeric_attribute, probabilistic, status_code, string_attribute, rate_limiting, bytes_limiting, span_count, trace_state, trace_flags, boolean_attribute, ottl_condition, and, not, drop, composite; otelai's route.")]
    public string Type { get; init; } = "";

    public LatencyConfig Latency { get; init; } = new();

    public NumericAttributeConfig NumericAttribute { get; init; } = new();

    public ProbabilisticConfig Probabilistic { get; init; } = new();

    public StatusCodeConfig StatusCode { get; init; } = new();

    public StringAttributeConfig StringAttribute { get; init; } = new();

    public RateLimitingConfig RateLimiting { get; init; } = new();

    public BytesLimitingConfig BytesLimiting { get; init; } = new();

    public SpanCountConfig SpanCount { get; init; } = new();

    public TraceStateConfig TraceState { get; init; } = new();

    public BooleanAttributeConfig BooleanAttribute { get; init; } = new();

    public OttlConditionConfig OttlCondition { get; init; } = new();

    public AndConfig And { get; init; } = new();

    public NotConfig Not { get; init; } = new();

    public DropConfig Drop { get; init; } = new();

    public CompositeConfig Composite { get; init; } = new();

    [ConfigDescription("otelai: rules on path, status, model, duration and OTTL conditions; the first match keeps, drops, samples a percentage or a span rate.")]
    public RouteConfig Route { get; init; } = new();

    /// <summary>Whether this policy or one of its sub-policies is of <paramref name="type"/>.</summary>
    internal bool Uses(string type) => Type == type || Type switch
    {
        "and" => And.AndSubPolicy.Any(p => p.Uses(type)),
        "drop" => Drop.DropSubPolicy.Any(p => p.Uses(type)),
        "not" => Not.NotSubPolicy?.Uses(type) == true,
        "composite" => Composite.CompositeSubPolicy.Any(p => p.Uses(type)),
        _ => false,
    };

    public IEnumerable<ConfigError> Validate()
    {
        if (!Types.Contains(Type))
        {
            yield return new("type", $"unknown sampling policy type \"{Type}\" (one of {string.Join(", ", Types)})");
            yield break;
        }
        var problems = Type switch
        {
            "numeric_attribute" when NumericAttribute.MinValue == 0 && NumericAttribute.MaxValue == 0 =>
                [new("numeric_attribute", "one of min_value or max_value must be set")],
            "numeric_attribute" when NumericAttribute.MaxValue != 0 && NumericAttribute.MinValue > NumericAttribute.MaxValue =>
                [new("numeric_attribute.min_value", "must be less than or equal to max_value")],
            "latency" when Latency.UpperThresholdMs != 0 && Latency.UpperThresholdMs < Latency.ThresholdMs =>
                [new("latency.upper_threshold_ms", "must be greater than threshold_ms")],
            "status_code" => StatusCode.StatusCodes.Count == 0
                ? [new("status_code.status_codes", "must list at least one of OK, ERROR, UNSET")]
                : StatusCode.StatusCodes.Where(c => c is not ("OK" or "ERROR" or "UNSET"))
                    .Select(c => new ConfigError("status_code.status_codes", $"unknown status code \"{c}\", supported: OK, ERROR, UNSET")),
            "span_count" when SpanCount.MaxSpans != 0 && SpanCount.MaxSpans < SpanCount.MinSpans =>
                [new("span_count.max_spans", "must be greater than or equal to min_spans")],
            "ottl_condition" when OttlCondition.Span.Count == 0 && OttlCondition.Spanevent.Count == 0 =>
                [new("ottl_condition", "at least one span or spanevent condition is required")],
            "and" when And.AndSubPolicy.Count == 0 => [new("and.and_sub_policy", "must list at least one sub-policy")],
            "drop" when Drop.DropSubPolicy.Count == 0 => [new("drop.drop_sub_policy", "must list at least one sub-policy")],
            "not" when Not.NotSubPolicy is null => [new("not.not_sub_policy", "must be set")],
            "composite" => Composite.Validate().Select(e => e with { Path = "composite." + e.Path }),
            "route" => Route.Validate().Select(e => e with { Path = "route." + e.Path }),
            _ => (IEnumerable<ConfigError>)[],
        };
        foreach (var problem in problems) yield return problem;
    }
}
