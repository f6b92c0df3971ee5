using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Processors.Common;
using OtelAi.Processors.Ottl;

namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>
/// otelai's <c>route</c> policy: ordered rules on a trace's path, status, model, duration and an optional OTTL
/// condition; the first rule that matches decides (keep, drop, a percentage consistent by trace id, or a span rate
/// per route and status class). A trace no rule matches gets no vote from this policy.
/// </summary>
internal sealed class RoutePolicy : IPolicyEvaluator
{
    /// <summary>Most (rule, route, status class) keys a rate rule tracks; more share one overflow budget.</summary>
    internal const int MaxRateKeys = 10_000;

    private readonly RouteRule[] _rules;
    private readonly bool _anySpan;
    private readonly byte[] _salt;
    private readonly OttlContext _context = new();
    private readonly Dictionary<string, RateBudget> _budgets = new(StringComparer.Ordinal);
    private readonly ILogger _logger;

    public RoutePolicy(PolicyConfig.RouteConfig config, ILogger logger)
    {
        _rules = config.Rules.Select((rule, i) => RouteRule.Compile(rule, i)).ToArray();
        _anySpan = config.MatchOn == "any";
        _salt = System.Text.Encoding.UTF8.GetBytes(config.HashSalt.Length == 0 ? "default-hash-seed" : config.HashSalt);
        _logger = logger;
    }

    /// <summary>The rule that decided the last trace this policy sampled or dropped (for explain and recordpolicy).</summary>
    public string? LastRule { get; private set; }

    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now)
    {
        BufferedSpan? subject = _anySpan ? null : Subject(trace);
        foreach (var rule in _rules)
        {
            var matched = subject is { } one ? Matches(rule, one, trace) : trace.Spans.Any(span => Matches(rule, span, trace));
            if (!matched) continue;
            var decision = rule.Action switch
            {
                RouteAction.Keep => SamplingDecision.Sampled,
                RouteAction.Drop => SamplingDecision.Dropped,
                RouteAction.Percentage => ProbabilisticPolicy.Hash(_salt, traceId) <= rule.Threshold ? SamplingDecision.Sampled : SamplingDecision.NotSampled,
                _ => Rate(rule, subject ?? trace.Spans[0], trace.Spans.Count, now),
            };
            if (decision != SamplingDecision.NotSampled) LastRule = rule.Name;
            return decision;
        }
        return SamplingDecision.NotSampled;
    }

    /// <summary>The span rules look at: the root span, else the first server span, else the first span.</summary>
    private static BufferedSpan Subject(BufferedTrace trace)
    {
        BufferedSpan? server = null;
        foreach (var buffered in trace.Spans)
        {
            if (buffered.Span.ParentSpanId.IsEmpty) return buffered;
            if (server is null && buffered.Span.Kind == Span.Types.SpanKind.Server) server = buffered;
        }
        return server ?? trace.Spans[0];
    }

    private bool Matches(RouteRule rule, BufferedSpan buffered, BufferedTrace trace)
    {
        var span = buffered.Span;
        if (rule.Paths.Length > 0 && !rule.MatchesPath(span.Attributes)) return false;
        if (rule.Statuses.Length > 0 && !rule.Statuses.Any(status => status.Matches(span))) return false;
        if (rule.Models.Length > 0 && !rule.MatchesModel(span.Attributes)) return false;
        if (rule.MinDurationNanos > 0 && (span.EndTimeUnixNano < span.StartTimeUnixNano || span.EndTimeUnixNano - span.StartTimeUnixNano < rule.MinDurationNanos)) return false;
        if (rule.Condition is { } condition)
        {
            // The condition may hold on any span of the trace (an error deep in the call tree).
            foreach (var candidate in trace.Spans)
            {
                _context.Resource = candidate.Resource;
                _context.Scope = candidate.Scope;
                _context.Span = candidate.Span;
                try
                {
                    if (condition.Evaluate(_context)) return true;
                }
                catch (OttlRuntimeException ex)
                {
                    _logger.LogWarning("tail_sampling route rule {Rule}: condition failed: {Error}", rule.Name, ex.Message);
                }
            }
            return false;
        }
        return true;
    }

    /// <summary>A token bucket of spans per second per (rule, route, status class), refilled by the decision clock.</summary>
    private SamplingDecision Rate(RouteRule rule, BufferedSpan subject, int spans, DateTimeOffset now)
    {
        var key = $"{rule.Name}\u0000{RouteRule.PathOf(subject.Span.Attributes) ?? ""}\u0000{RouteStatus.ClassOf(subject.Span)}";
        if (!_budgets.TryGetValue(key, out var budget))
        {
            if (_budgets.Count >= MaxRateKeys) key = $"{rule.Name}\u0000overflow";
            if (!_budgets.TryGetValue(key, out budget)) _budgets[key] = budget = new RateBudget(rule.SpansPerSecond, now);
        }
        return budget.TryTake(spans, now) ? SamplingDecision.Sampled : SamplingDecision.NotSampled;
    }

    private sealed class RateBudget(double perSecond, DateTimeOffset start)
    {
        private double _tokens = perSecond;
        private DateTimeOffset _last = start;

        public bool TryTake(int spans, DateTimeOffset now)
        {
            _tokens = Math.Min(perSecond, _tokens + (now - _last).TotalSeconds * perSecond);
            _last = now;
            if (_tokens < spans) return false;
            _tokens -= spans;
            return true;
        }
    }
}

internal enum RouteAction { Keep, Drop, Percentage, Rate }

/// <summary>One compiled rule.</summary>
internal sealed class RouteRule
{
    private static readonly string[] PathAttributes = ["http.route", "url.path", "http.target"];
    private static readonly string[] ModelAttributes = ["gen_ai.request.model", "model_id", "gen_ai.response.model"];

    public required string Name { get; init; }
    public required Regex[] Paths { get; init; }
    public required RouteStatus[] Statuses { get; init; }
    public required Regex[] Models { get; init; }
    public required ulong MinDurationNanos { get; init; }
    public required OttlCondition? Condition { get; init; }
    public required RouteAction Action { get; init; }
    public required ulong Threshold { get; init; }
    public required double SpansPerSecond { get; init; }

    public static RouteRule Compile(PolicyConfig.RouteRuleConfig config, int index) => new()
    {
        Name = config.Name.Length > 0 ? config.Name : $"rule{index}",
        Paths = [.. config.Path.Select(Pattern)],
        Statuses = [.. config.Status.Select(s => RouteStatus.Parse(s) ?? throw new ArgumentException($"unknown status \"{s}\""))],
        Models = [.. config.Model.Select(Pattern)],
        MinDurationNanos = (ulong)(config.MinDuration.Ticks * 100),
        Condition = config.Condition.Length > 0 ? OttlLanguage.CompileCondition(config.Condition, OttlContextKind.Span) : null,
        Action = config.EffectiveAction,
        Threshold = ProbabilisticPolicy.Threshold(config.Percentage / 100),
        SpansPerSecond = config.SpansPerSecond,
    };

    /// <summary>A glob (<c>*</c> any run of characters, <c>?</c> one) or, after <c>regex:</c>, a regular expression (RE2 syntax).</summary>
    internal static Regex Pattern(string pattern) => pattern.StartsWith("regex:", StringComparison.Ordinal)
        ? GoRegex.Compile(pattern["regex:".Length..])
        : new Regex("^" + Regex.Escape(pattern).Replace(@"\*", ".*").Replace(@"\?", ".") + "$", RegexOptions.CultureInvariant);

    /// <summary>The span's path: http.route, else url.path, else http.target (without its query).</summary>
    public static string? PathOf(Google.Protobuf.Collections.RepeatedField<KeyValue> attributes)
    {
        foreach (var name in PathAttributes)
            if (attributes.Get(name) is { ValueCase: AnyValue.ValueOneofCase.StringValue } value && value.StringValue.Length > 0)
                return value.StringValue;
        return null;
    }

    /// <summary>A pattern matches the path as sent or as a route template (ids, UUIDs and hashes as {id}).</summary>
    public bool MatchesPath(Google.Protobuf.Collections.RepeatedField<KeyValue> attributes)
    {
        if (PathOf(attributes) is not { } path) return false;
        var query = path.IndexOfAny(['?', '#']);
        if (query >= 0) path = path[..query];
        string? route = null;
        foreach (var pattern in Paths)
            if (pattern.IsMatch(path) || pattern.IsMatch(route ??= RouteNormalizer.Normalize(path))) return true;
        return false;
    }

    public bool MatchesModel(Google.Protobuf.Collections.RepeatedField<KeyValue> attributes)
    {
        foreach (var name in ModelAttributes)
            if (attributes.Get(name) is { ValueCase: AnyValue.ValueOneofCase.StringValue } value)
                return Models.Any(model => model.IsMatch(value.StringValue));
        return false;
    }
}

/// <summary>A status a rule matches: an HTTP class (5xx), range (500-599) or code, a gRPC code name, or a span status (OK, ERROR, UNSET).</summary>
internal readonly record struct RouteStatus(int Low, int High, int GrpcCode, Status.Types.StatusCode? SpanStatus)
{
    private static readonly string[] GrpcNames =
    [
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED",
        "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    ];

    public static RouteStatus? Parse(string text)
    {
        text = text.Trim();
        switch (text.ToUpperInvariant())
        {
            case "ERROR": return new RouteStatus(0, 0, -1, Status.Types.StatusCode.Error);
            case "UNSET": return new RouteStatus(0, 0, -1, Status.Types.StatusCode.Unset);
            case "OK": return new RouteStatus(0, 0, -1, Status.Types.StatusCode.Ok);
        }
        if (text.Length == 3 && text[0] is >= '1' and <= '5' && text[1..].Equals("xx", StringComparison.OrdinalIgnoreCase))
            return new RouteStatus((text[0] - '0') * 100, (text[0] - '0') * 100 + 99, -1, null);
        var dash = text.IndexOf('-');
        if (dash > 0 && int.TryParse(text[..dash], out var low) && int.TryParse(text[(dash + 1)..], out var high) && low is >= 100 and <= 599 && high >= low && high <= 599)
            return new RouteStatus(low, high, -1, null);
        if (int.TryParse(text, out var code) && code is >= 100 and <= 599) return new RouteStatus(code, code, -1, null);
        var grpc = Array.IndexOf(GrpcNames, text.ToUpperInvariant());
        return grpc > 0 ? new RouteStatus(0, 0, grpc, null) : null;
    }

    public bool Matches(Span span)
    {
        if (SpanStatus is { } expected) return (span.Status?.Code ?? Status.Types.StatusCode.Unset) == expected;
        if (GrpcCode >= 0) return Number(span.Attributes.Get("rpc.grpc.status_code")) == GrpcCode;
        return HttpStatus(span) is { } code && code >= Low && code <= High;
    }

    /// <summary>http.response.status_code, else the older http.status_code.</summary>
    public static long? HttpStatus(Span span) => Number(span.Attributes.Get("http.response.status_code")) ?? Number(span.Attributes.Get("http.status_code"));

    /// <summary>The status class for rate keys: 2xx…5xx, else the span status.</summary>
    public static string ClassOf(Span span) => HttpStatus(span) is { } code ? $"{code / 100}xx" : (span.Status?.Code ?? Status.Types.StatusCode.Unset).ToString();

    private static long? Number(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.StringValue when long.TryParse(value.StringValue, out var parsed) => parsed,
        _ => null,
    };
}
