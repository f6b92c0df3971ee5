using Google.Protobuf.Collections;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Processors.Ottl;

/// <summary>otelcol's OTTL contexts, lowest (most specific) last within each signal.</summary>
public enum OttlContextKind
{
    Resource,
    Scope,
    Span,
    SpanEvent,
    Metric,
    DataPoint,
    Log,
}

public static class OttlContextNames
{
    public static string Name(this OttlContextKind kind) => kind switch
    {
        OttlContextKind.Resource => "resource",
        OttlContextKind.Scope => "scope",
        OttlContextKind.Span => "span",
        OttlContextKind.SpanEvent => "spanevent",
        OttlContextKind.Metric => "metric",
        OttlContextKind.DataPoint => "datapoint",
        _ => "log",
    };

    /// <summary>Parses a config <c>context</c> value (otelcol accepts these names).</summary>
    public static OttlContextKind? Parse(string name) => name switch
    {
        "resource" => OttlContextKind.Resource,
        "scope" or "instrumentation_scope" => OttlContextKind.Scope,
        "span" => OttlContextKind.Span,
        "spanevent" => OttlContextKind.SpanEvent,
        "metric" => OttlContextKind.Metric,
        "datapoint" => OttlContextKind.DataPoint,
        "log" or "log_record" => OttlContextKind.Log,
        _ => null,
    };

    /// <summary>The contexts whose paths a statement in <paramref name="kind"/> can reach (itself and its parents).</summary>
    public static bool CanReach(this OttlContextKind kind, OttlContextKind target) => target == kind || target switch
    {
        OttlContextKind.Resource => true,
        OttlContextKind.Scope => kind != OttlContextKind.Resource,
        OttlContextKind.Span => kind == OttlContextKind.SpanEvent,
        OttlContextKind.Metric => kind == OttlContextKind.DataPoint,
        _ => false,
    };
}

/// <summary>
/// The item a compiled statement runs on, plus its parents. One instance per processing call is reused for every
/// item (the traversal sets the fields), so evaluation itself allocates nothing.
/// </summary>
public sealed class OttlContext
{
    private readonly RepeatedField<KeyValue>?[] _caches = new RepeatedField<KeyValue>?[7];

    public Resource Resource = null!;
    public InstrumentationScope Scope = null!;
    public Span Span = null!;
    public Span.Types.Event SpanEvent = null!;
    public Metric Metric = null!;

    /// <summary>NumberDataPoint, HistogramDataPoint, ExponentialHistogramDataPoint or SummaryDataPoint.</summary>
    public object DataPoint = null!;

    public LogRecord Log = null!;

    /// <summary>The <c>cache</c> map of a context: scratch space that lives while one item is processed.</summary>
    public RepeatedField<KeyValue> Cache(OttlContextKind kind) => _caches[(int)kind] ??= [];

    /// <summary>Empties the cache of <paramref name="kind"/> before the next item of that context.</summary>
    public void ResetCache(OttlContextKind kind) => _caches[(int)kind]?.Clear();
}

public delegate OttlValue OttlGetter(OttlContext context);

public delegate void OttlSetter(OttlContext context, in OttlValue value);

public delegate bool OttlPredicate(OttlContext context);

public delegate void OttlAction(OttlContext context);
