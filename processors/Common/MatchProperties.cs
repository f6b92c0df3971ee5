using System.Globalization;
using System.Text.RegularExpressions;
using OtelAi.Engine.Config;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Processors.Common;

/// <summary>
/// otelcol's <c>include</c>/<c>exclude</c> match properties (filterconfig.MatchProperties). Every property given
/// must match; within a list of names one match is enough; every listed attribute must be present (and equal when
/// a value is given).
/// </summary>
public sealed record MatchProperties
{
    [ConfigDescription("strict (exact equality) or regexp (RE2 patterns, matched anywhere in the text). Required.")]
    public string MatchType { get; init; } = "";

    [ConfigDescription("Regexp cache settings (cacheenabled, cachemaxnumentries); accepted for otelcol compatibility. .NET matching needs no result cache.")]
    public RegexpCacheConfig? Regexp { get; init; }

    [ConfigDescription("Spans: service.name of the resource must match one of these.")]
    public List<string> Services { get; init; } = [];

    [ConfigDescription("Spans: the span name must match one of these.")]
    public List<string> SpanNames { get; init; } = [];

    [ConfigDescription("Spans: the kind (SPAN_KIND_SERVER, SPAN_KIND_CLIENT, ...) must match one of these.")]
    public List<string> SpanKinds { get; init; } = [];

    [ConfigDescription("Logs: the body (as text) must match one of these.")]
    public List<string> LogBodies { get; init; } = [];

    [ConfigDescription("Logs: the severity text must match one of these.")]
    public List<string> LogSeverityTexts { get; init; } = [];

    [ConfigDescription("Logs: minimum severity number (e.g. INFO or 9), and whether records without one match.")]
    public LogSeverityNumberMatch? LogSeverityNumber { get; init; }

    [ConfigDescription("Metrics: the metric name must match one of these.")]
    public List<string> MetricNames { get; init; } = [];

    [ConfigDescription("Item attributes that must all be present; with a value they must also equal (strict) or match (regexp) it.")]
    public List<AttributeMatch> Attributes { get; init; } = [];

    [ConfigDescription("Resource attributes that must all be present (and equal/match when a value is given).")]
    public List<AttributeMatch> Resources { get; init; } = [];

    [ConfigDescription("Instrumentation scopes (name and optional version) that must match.")]
    public List<LibraryMatch> Libraries { get; init; } = [];
}

public sealed record RegexpCacheConfig
{
    [ConfigKey("cacheenabled")]
    public bool CacheEnabled { get; init; }

    [ConfigKey("cachemaxnumentries")]
    public int CacheMaxNumEntries { get; init; }
}

public sealed record AttributeMatch
{
    public string Key { get; init; } = "";

    [ConfigDescription("Value to compare with; absent means any value matches.")]
    public ConfigValue? Value { get; init; }
}

public sealed record LibraryMatch
{
    public string Name { get; init; } = "";

    [ConfigDescription("Absent matches any version; empty matches only an empty version.")]
    public string? Version { get; init; }
}

public sealed record LogSeverityNumberMatch
{
    [ConfigDescription("Lowest severity that matches: a name (TRACE, DEBUG2, INFO, WARN, ERROR, FATAL4 ...) or a number 1-24.")]
    public string Min { get; init; } = "";

    [ConfigDescription("Whether records with an unspecified severity match.")]
    public bool MatchUndefined { get; init; }
}

/// <summary>Which kind of item a match config is checked against (decides which properties are allowed).</summary>
public enum MatchTarget { Spans, Logs, Metrics }

/// <summary>Compiled include/exclude pair: an item is processed when it matches include (if any) and not exclude.</summary>
public sealed class IncludeExclude
{
    private readonly PropertiesMatcher? _include;
    private readonly PropertiesMatcher? _exclude;

    private IncludeExclude(PropertiesMatcher? include, PropertiesMatcher? exclude)
    {
        _include = include;
        _exclude = exclude;
    }

    public bool IsEmpty => _include is null && _exclude is null;

    public static IEnumerable<ConfigError> Validate(MatchProperties? include, MatchProperties? exclude, MatchTarget target)
    {
        foreach (var (properties, path) in new[] { (include, "include"), (exclude, "exclude") })
        {
            if (properties is null) continue;
            if (PropertiesMatcher.TryCompile(properties, target, out _, out var error)) continue;
            yield return new ConfigError(path, error!);
        }
    }

    public static IncludeExclude Compile(MatchProperties? include, MatchProperties? exclude, MatchTarget target) =>
        new(Compile(include, target, "include"), Compile(exclude, target, "exclude"));

    private static PropertiesMatcher? Compile(MatchProperties? properties, MatchTarget target, string path)
    {
        if (properties is null) return null;
        return PropertiesMatcher.TryCompile(properties, target, out var matcher, out var error)
            ? matcher
            : throw new ArgumentException($"{path}: {error}");
    }

    public bool ShouldProcess(Resource? resource, InstrumentationScope? scope, Span span) =>
        (_include?.MatchSpan(resource, scope, span) ?? true) && !(_exclude?.MatchSpan(resource, scope, span) ?? false);

    public bool ShouldProcess(Resource? resource, InstrumentationScope? scope, LogRecord log) =>
        (_include?.MatchLog(resource, scope, log) ?? true) && !(_exclude?.MatchLog(resource, scope, log) ?? false);

    public bool ShouldProcess(Resource? resource, Metric metric) =>
        (_include?.MatchMetric(resource, metric) ?? true) && !(_exclude?.MatchMetric(resource, metric) ?? false);
}

/// <summary>A list of names matched strictly (set lookup) or by RE2 patterns; one match is enough.</summary>
internal sealed class StringFilter
{
    private readonly HashSet<string>? _exact;
    private readonly Regex[]? _patterns;

    private StringFilter(HashSet<string>? exact, Regex[]? patterns)
    {
        _exact = exact;
        _patterns = patterns;
    }

    public static StringFilter? Create(IReadOnlyList<string> items, bool regexp)
    {
        if (items.Count == 0) return null;
        return regexp
            ? new StringFilter(null, items.Select(GoRegex.Compile).ToArray())
            : new StringFilter(new HashSet<string>(items, StringComparer.Ordinal), null);
    }

    public static string? CheckPatterns(IEnumerable<string> items)
    {
        foreach (var item in items)
            if (!GoRegex.TryCompile(item, out _, out var error))
                return $"invalid regexp \"{item}\": {error}";
        return null;
    }

    public bool Matches(string text)
    {
        if (_exact is not null) return _exact.Contains(text);
        foreach (var pattern in _patterns!)
            if (pattern.IsMatch(text)) return true;
        return false;
    }
}

/// <summary>Attributes that must all be present; values compared with type (strict) or as text against a pattern (regexp).</summary>
internal sealed class AttributesMatcher
{
    private readonly (string Key, AnyValue? Value, Regex? Pattern)[] _entries;

    private AttributesMatcher((string, AnyValue?, Regex?)[] entries) => _entries = entries;

    public static AttributesMatcher? Create(IReadOnlyList<AttributeMatch> items, bool regexp, out string? error)
    {
        error = null;
        if (items.Count == 0) return null;
        var entries = new (string, AnyValue?, Regex?)[items.Count];
        for (var i = 0; i < items.Count; i++)
        {
            var item = items[i];
            if (item.Key.Length == 0)
            {
                error = "can't have empty key in the list of attributes";
                return null;
            }
            var value = ConfigValues.ToAnyValue(item.Value);
            Regex? pattern = null;
            if (value is not null && regexp)
            {
                if (value.ValueCase != AnyValue.ValueOneofCase.StringValue)
                {
                    error = $"match_type=regexp for \"{item.Key}\" only supports strings, but found {value.ValueCase}";
                    return null;
                }
                if (!GoRegex.TryCompile(value.StringValue, out pattern, out var regexError))
                {
                    error = $"invalid regexp \"{value.StringValue}\" for \"{item.Key}\": {regexError}";
                    return null;
                }
                value = null;
            }
            entries[i] = (item.Key, value, pattern);
        }
        return new AttributesMatcher(entries);
    }

    public bool Matches(Google.Protobuf.Collections.RepeatedField<KeyValue>? attributes)
    {
        if (attributes is null || attributes.Count == 0) return false;
        foreach (var (key, expected, pattern) in _entries)
        {
            var actual = attributes.Get(key);
            if (actual is null) return false;
            if (pattern is not null && !(TryText(actual, out var text) && pattern.IsMatch(text))) return false;
            if (expected is not null && !expected.Equals(actual)) return false;
        }
        return true;
    }

    // otelcol matches only scalar values against patterns, rendered the way Go's strconv does.
    private static bool TryText(AnyValue value, out string text)
    {
        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
            case AnyValue.ValueOneofCase.BoolValue:
            case AnyValue.ValueOneofCase.IntValue:
            case AnyValue.ValueOneofCase.DoubleValue:
                text = value.AsString();
                return true;
            default:
                text = "";
                return false;
        }
    }
}

internal sealed class PropertiesMatcher
{
    private StringFilter? _services, _spanNames, _spanKinds, _logBodies, _severityTexts, _metricNames;
    private AttributesMatcher? _attributes, _resources;
    private (StringFilter Name, StringFilter? Version)[] _libraries = [];
    private (SeverityNumber Min, bool MatchUndefined)? _severity;

    public static bool TryCompile(MatchProperties p, MatchTarget target, out PropertiesMatcher? matcher, out string? error)
    {
        matcher = null;
        error = CheckShape(p, target);
        if (error is not null) return false;
        var regexp = p.MatchType == "regexp";
        if (regexp)
        {
            error = StringFilter.CheckPatterns(p.Services.Concat(p.SpanNames).Concat(p.SpanKinds).Concat(p.LogBodies)
                .Concat(p.LogSeverityTexts).Concat(p.MetricNames).Concat(p.Libraries.Select(l => l.Name))
                .Concat(p.Libraries.Where(l => l.Version is not null).Select(l => l.Version!)));
            if (error is not null) return false;
        }
        var m = new PropertiesMatcher
        {
            _services = StringFilter.Create(p.Services, regexp),
            _spanNames = StringFilter.Create(p.SpanNames, regexp),
            _spanKinds = StringFilter.Create(p.SpanKinds, regexp),
            _logBodies = StringFilter.Create(p.LogBodies, regexp),
            _severityTexts = StringFilter.Create(p.LogSeverityTexts, regexp),
            _metricNames = StringFilter.Create(p.MetricNames, regexp),
            _attributes = AttributesMatcher.Create(p.Attributes, regexp, out error),
        };
        if (error is not null) return false;
        m._resources = AttributesMatcher.Create(p.Resources, regexp, out error);
        if (error is not null) return false;
        m._libraries = p.Libraries
            .Select(l => (StringFilter.Create([l.Name], regexp)!, l.Version is null ? null : StringFilter.Create([l.Version], regexp)))
            .ToArray();
        if (p.LogSeverityNumber is { } severity)
        {
            if (!TryParseSeverity(severity.Min, out var min))
            {
                error = $"log_severity_number.min: \"{severity.Min}\" is not a severity name (TRACE … FATAL4) or number 1-24";
                return false;
            }
            m._severity = (min, severity.MatchUndefined);
        }
        matcher = m;
        return true;
    }

    private static string? CheckShape(MatchProperties p, MatchTarget target)
    {
        if (p.MatchType is not ("strict" or "regexp"))
            return $"unrecognized match_type: '{p.MatchType}', valid types are: [regexp strict]";
        switch (target)
        {
            case MatchTarget.Spans:
                if (p.LogBodies.Count > 0) return "log_bodies should not be specified for trace spans";
                if (p.LogSeverityTexts.Count > 0) return "log_severity_texts should not be specified for trace spans";
                if (p.LogSeverityNumber is not null) return "log_severity_number should not be specified for trace spans";
                if (p.Services.Count == 0 && p.SpanNames.Count == 0 && p.Attributes.Count == 0 && p.Libraries.Count == 0
                    && p.Resources.Count == 0 && p.SpanKinds.Count == 0)
                    return "at least one of \"services\", \"span_names\", \"span_kinds\", \"attributes\", \"libraries\" or \"resources\" must be specified";
                if (p.MatchType == "strict" && p.SpanKinds.FirstOrDefault(k => !SpanKindNames.Contains(k)) is { } bad)
                    return $"span_kinds \"{bad}\" must be one of the standard span kinds when match_type=strict: {string.Join(", ", SpanKindNames.Order(StringComparer.Ordinal))}";
                return null;
            case MatchTarget.Logs:
                if (p.SpanNames.Count > 0 || p.Services.Count > 0 || p.SpanKinds.Count > 0)
                    return "services, span_names, and span_kinds are not valid for log records";
                if (p.Attributes.Count == 0 && p.Libraries.Count == 0 && p.Resources.Count == 0 && p.LogBodies.Count == 0
                    && p.LogSeverityTexts.Count == 0 && p.LogSeverityNumber is null)
                    return "at least one of \"attributes\", \"libraries\", \"resources\", \"log_bodies\", \"log_severity_texts\" or \"log_severity_number\" must be specified";
                return null;
            default:
                if (p.MetricNames.Count == 0 && p.Resources.Count == 0)
                    return "at least one of \"metric_names\" or \"resources\" must be specified for metrics";
                return null;
        }
    }

    public bool MatchSpan(Resource? resource, InstrumentationScope? scope, Span span)
    {
        if (_services is not null && !_services.Matches(ServiceName(resource))) return false;
        if (_spanNames is not null && !_spanNames.Matches(span.Name)) return false;
        if (_spanKinds is not null && !_spanKinds.Matches(SpanKindName(span.Kind))) return false;
        return MatchCommon(resource, scope) && (_attributes?.Matches(span.Attributes) ?? true);
    }

    public bool MatchLog(Resource? resource, InstrumentationScope? scope, LogRecord log)
    {
        if (_logBodies is not null && (log.Body is null || !_logBodies.Matches(log.Body.AsString()))) return false;
        if (_severityTexts is not null && !_severityTexts.Matches(log.SeverityText)) return false;
        if (_severity is { } s)
        {
            var matches = log.SeverityNumber == SeverityNumber.Unspecified ? s.MatchUndefined : log.SeverityNumber >= s.Min;
            if (!matches) return false;
        }
        return MatchCommon(resource, scope) && (_attributes?.Matches(log.Attributes) ?? true);
    }

    public bool MatchMetric(Resource? resource, Metric metric)
    {
        if (_metricNames is not null && !_metricNames.Matches(metric.Name)) return false;
        return _resources?.Matches(resource?.Attributes) ?? true;
    }

    private bool MatchCommon(Resource? resource, InstrumentationScope? scope)
    {
        foreach (var (name, version) in _libraries)
        {
            if (!name.Matches(scope?.Name ?? "")) return false;
            if (version is not null && !version.Matches(scope?.Version ?? "")) return false;
        }
        return _resources?.Matches(resource?.Attributes) ?? true;
    }

    private static string ServiceName(Resource? resource) =>
        resource?.Attributes.Get("service.name") is { } name ? name.AsString() : "<nil-service-name>";

    private static readonly HashSet<string> SpanKindNames =
        ["SPAN_KIND_INTERNAL", "SPAN_KIND_CLIENT", "SPAN_KIND_SERVER", "SPAN_KIND_CONSUMER", "SPAN_KIND_PRODUCER"];

    /// <summary>The kind as otelcol's traceutil.SpanKindStr writes it.</summary>
    public static string SpanKindName(Span.Types.SpanKind kind) => kind switch
    {
        Span.Types.SpanKind.Internal => "SPAN_KIND_INTERNAL",
        Span.Types.SpanKind.Server => "SPAN_KIND_SERVER",
        Span.Types.SpanKind.Client => "SPAN_KIND_CLIENT",
        Span.Types.SpanKind.Producer => "SPAN_KIND_PRODUCER",
        Span.Types.SpanKind.Consumer => "SPAN_KIND_CONSUMER",
        _ => "SPAN_KIND_UNSPECIFIED",
    };

    private static readonly string[] SeverityBases = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];

    /// <summary>Accepts OTLP severity names (INFO, info, INFO3, WARN2 ...) or their numbers 1-24.</summary>
    public static bool TryParseSeverity(string text, out SeverityNumber severity)
    {
        severity = SeverityNumber.Unspecified;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            if (number is < 1 or > 24) return false;
            severity = (SeverityNumber)number;
            return true;
        }
        var upper = text.ToUpperInvariant();
        for (var i = 0; i < SeverityBases.Length; i++)
        {
            if (!upper.StartsWith(SeverityBases[i], StringComparison.Ordinal)) continue;
            var suffix = upper[SeverityBases[i].Length..];
            var step = suffix.Length == 0 ? 1 : suffix is "2" or "3" or "4" ? suffix[0] - '0' : 0;
            if (step == 0) return false;
            severity = (SeverityNumber)(i * 4 + step);
            return true;
        }
        return false;
    }
}
