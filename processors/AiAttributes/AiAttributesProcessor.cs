using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Google.Protobuf.Collections;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Processors.Common;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Processors.AiAttributes;

/// <summary>
/// The aiattributes processor: enriches spans in trace pipelines and log records in logs pipelines; records GPU
/// memory gauges in metrics pipelines into a store shared by every pipeline of the collector with the same processor id.
/// </summary>
public sealed class AiAttributesProcessorFactory : ProcessorFactory<AiAttributesConfig>
{
    public override string Type => "aiattributes";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = new Dictionary<Signal, StabilityLevel>
    {
        [Signal.Traces] = StabilityLevel.Alpha,
        [Signal.Metrics] = StabilityLevel.Alpha,
        [Signal.Logs] = StabilityLevel.Alpha,
    };

    internal static readonly SelfMetric EnrichedItems = SelfMetric.Counter("otelai_processor_aiattributes_enriched_items",
        "Values aiattributes wrote on spans and log records, by field and by the source the value came from.", "processor", "field", "source");

    protected override IEnumerable<SelfMetric> OwnSelfMetrics => [EnrichedItems];

    protected override IProcessor<T> Create<T>(ComponentCreateSettings settings, AiAttributesConfig config, ITelemetryConsumer<T> next)
    {
        var store = settings.Shared.GetOrAdd(settings.Id, () => new GpuMemoryStore());
        if (OtlpSignal<T>.Instance.Signal == Signal.Metrics)
            return (IProcessor<T>)(object)new GpuMetricsRecorder(config.GpuMemUsed, store, (ITelemetryConsumer<ExportMetricsServiceRequest>)next);
        return new InPlaceProcessor<T>((IPayloadMutator<T>)(object)new AiEnricher(config, store, new EnrichmentCounts(settings)), next);
    }
}

/// <summary>Passes metrics through unchanged, remembering the newest GPU memory reading per host/pod and GPU.</summary>
internal sealed class GpuMetricsRecorder : IProcessor<ExportMetricsServiceRequest>
{
    private const double Mib = 1024 * 1024;

    private readonly Dictionary<string, long> _bytesPerUnitByMetric;
    private readonly string[] _joinKeys;
    private readonly string[] _gpuKeys;
    private readonly GpuMemoryStore _store;
    private readonly ITelemetryConsumer<ExportMetricsServiceRequest> _next;

    public GpuMetricsRecorder(GpuMemoryConfig config, GpuMemoryStore store, ITelemetryConsumer<ExportMetricsServiceRequest> next)
    {
        _bytesPerUnitByMetric = config.Metrics.ToDictionary(m => m.Name, m => MemoryUnits.BytesPer(m.Unit) ?? (1L << 20), StringComparer.Ordinal);
        _joinKeys = config.JoinKeys.ToArray();
        _gpuKeys = config.GpuKeys.ToArray();
        _store = store;
        _next = next;
    }

    /// <summary>Reads metric names and points when GPU metrics are configured; changes nothing.</summary>
    public ConsumerCapabilities Capabilities =>
        _bytesPerUnitByMetric.Count > 0 ? _next.Capabilities with { ReadsContent = true } : _next.Capabilities;

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ShutdownAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public ValueTask ConsumeAsync(Payload<ExportMetricsServiceRequest> data, CancellationToken cancellationToken)
    {
        if (_bytesPerUnitByMetric.Count > 0) Record(data.Message);
        return _next.ConsumeAsync(data, cancellationToken);
    }

    private void Record(ExportMetricsServiceRequest data)
    {
        foreach (var rm in data.ResourceMetrics)
        {
            var resource = rm.Resource?.Attributes;
            foreach (var sm in rm.ScopeMetrics)
                foreach (var metric in sm.Metrics)
                {
                    if (!_bytesPerUnitByMetric.TryGetValue(metric.Name, out var bytesPerUnit)) continue;
                    if (MemoryUnits.BytesPer(metric.Unit) is { } own) bytesPerUnit = own;
                    var points = metric.DataCase switch
                    {
                        Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints,
                        Metric.DataOneofCase.Sum => metric.Sum.DataPoints,
                        _ => null,
                    };
                    if (points is null) continue;
                    foreach (var point in points)
                    {
                        var value = point.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? point.AsInt : point.AsDouble;
                        var mib = (long)Math.Round(value * bytesPerUnit / Mib);
                        var joinKey = JoinKeys.Build(_joinKeys, resource, point.Attributes);
                        var gpuId = JoinKeys.First(_gpuKeys, point.Attributes, resource) ?? "";
                        _store.Record(joinKey, gpuId, mib, point.TimeUnixNano);
                    }
                }
        }
    }
}

internal static class JoinKeys
{
    /// <summary>Values of the join keys (first found in <paramref name="primary"/>, then <paramref name="secondary"/>), joined.</summary>
    public static string Build(string[] keys, RepeatedField<KeyValue>? primary, RepeatedField<KeyValue>? secondary)
    {
        if (keys.Length == 1) return Lookup(keys[0], primary, secondary) ?? "";
        var values = new string[keys.Length];
        for (var i = 0; i < keys.Length; i++) values[i] = Lookup(keys[i], primary, secondary) ?? "";
        return string.Join('\u0000', values);
    }

    public static string? First(string[] keys, RepeatedField<KeyValue>? primary, RepeatedField<KeyValue>? secondary)
    {
        foreach (var key in keys)
            if (Lookup(key, primary, secondary) is { } value) return value;
        return null;
    }

    /// <summary>The names NVIDIA's DCGM exporter gives the same things, so its scraped gauges join without extra config.</summary>
    private static readonly Dictionary<string, string> ScrapedAliases = new(StringComparer.Ordinal) { ["host.name"] = "Hostname", ["k8s.pod.name"] = "pod" };

    private static string? Lookup(string key, RepeatedField<KeyValue>? primary, RepeatedField<KeyValue>? secondary) =>
        Values.Text(primary?.Get(key)) ?? Values.Text(secondary?.Get(key))
        ?? (ScrapedAliases.TryGetValue(key, out var alias) ? Values.Text(primary?.Get(alias)) ?? Values.Text(secondary?.Get(alias)) : null);
}

/// <summary>
/// Adds the AI attributes to each span of a trace payload and each log record of a logs payload. A log record is
/// read like a span without name, kind or duration: its attributes, and its body as the request body when that is
/// JSON text and the configured body attribute is absent (inference servers log requests that way).
/// </summary>
/// <summary>
/// otelai_processor_aiattributes_enriched_items by field and source. A request's counts are gathered on the stack
/// and added once per request, so concurrent requests do not contend on a counter per span.
/// </summary>
internal sealed class EnrichmentCounts(ComponentCreateSettings? settings)
{
    /// <summary>Where a value came from: the model fields' sources, then the measured ones.</summary>
    public static readonly string[] Sources = [.. AiAttributesConfig.SourceNames, "span_duration", "gpu_store"];

    public static readonly int Attributes = SourceIndex("attributes"), Header = SourceIndex("header"),
        SpanDuration = SourceIndex("span_duration"), GpuStore = SourceIndex("gpu_store");

    public static int SlotCount => AiAttributesConfig.FieldNames.Length * Sources.Length;

    private readonly Counter?[] _counters = new Counter?[SlotCount];

    public static int Slot(int field, int source) => field * Sources.Length + source;

    public static int SourceIndex(string source) => Array.IndexOf(Sources, source);

    public void Add(ReadOnlySpan<int> counts)
    {
        if (settings is null) return;
        for (var slot = 0; slot < counts.Length; slot++)
        {
            if (counts[slot] == 0) continue;
            var counter = _counters[slot] ??= settings.Metrics.Counter(AiAttributesProcessorFactory.EnrichedItems, ("processor", settings.Id.ToString()),
                ("field", AiAttributesConfig.FieldNames[slot / Sources.Length]), ("source", Sources[slot % Sources.Length]));
            counter.Add(counts[slot]);
        }
    }
}

internal sealed class AiEnricher : IPayloadMutator<ExportTraceServiceRequest>, IPayloadMutator<ExportLogsServiceRequest>
{
    // Field indexes, in AiAttributesConfig.FieldNames order.
    private const int ModelIdField = 0, ModelVersionField = 1, InferenceTimeField = 2, GpuMemUsedField = 3, InputTokensField = 4, OutputTokensField = 5;

    private readonly AiAttributesConfig _config;
    private readonly GpuMemoryStore _store;
    private readonly FieldPlan _modelId;
    private readonly FieldPlan _modelVersion;
    private readonly Regex[] _pathPatterns;
    private readonly string[] _pathAttributes;
    private readonly Span.Types.SpanKind[] _inferenceKinds;
    private readonly Regex? _inferenceRoute;
    private readonly double _latencyToMs;
    private readonly string? _gpuHeaderAttribute;
    private readonly string[] _joinKeys;
    private readonly string[] _gpuKeys;
    private readonly bool[] _mirror;
    private readonly string[] _targets;
    private readonly Dictionary<string, PathMatches> _pathMatches;
    private readonly EnrichmentCounts _counts;

    public AiEnricher(AiAttributesConfig config, GpuMemoryStore store, EnrichmentCounts? counts = null)
    {
        _config = config;
        _store = store;
        _counts = counts ?? new EnrichmentCounts(null);
        _modelId = new FieldPlan(config.ModelId, config.RequestBody);
        _modelVersion = new FieldPlan(config.ModelVersion, config.RequestBody);
        _pathPatterns = config.Path.Patterns.Select(PathPatterns.Compile).ToArray();
        _pathAttributes = config.Path.Attributes.ToArray();
        _inferenceKinds = config.InferenceSpans.SpanKinds.Select(k => SpanKinds.Parse(k)!.Value).ToArray();
        _inferenceRoute = config.InferenceSpans.Route.Length > 0 ? GoRegex.Compile(config.InferenceSpans.Route) : null;
        _latencyToMs = LatencyUnits.ToMilliseconds(config.InferenceTime.LatencyUnit)!.Value;
        _gpuHeaderAttribute = config.GpuMemUsed.Header.Length > 0 ? "http.request.header." + config.GpuMemUsed.Header.ToLowerInvariant() : null;
        _joinKeys = config.GpuMemUsed.JoinKeys.ToArray();
        _gpuKeys = config.GpuMemUsed.GpuKeys.ToArray();
        _mirror = AiAttributesConfig.FieldNames.Select(config.MirrorToResource.Contains).ToArray();
        // Same order as AiAttributesConfig.FieldNames.
        _targets = [config.ModelId.Target, config.ModelVersion.Target, config.InferenceTime.Target,
            config.GpuMemUsed.Target, config.InputTokens.Target, config.OutputTokens.Target];
        _pathMatches = new[] { _modelId.PathPlaceholder, _modelVersion.PathPlaceholder }.Distinct()
            .ToDictionary(placeholder => placeholder, _ => new PathMatches());
    }

    public void Mutate(ExportTraceServiceRequest data)
    {
        var client = ClientContext.Current;
        Span<int> counts = stackalloc int[EnrichmentCounts.SlotCount];
        foreach (var rs in data.ResourceSpans)
        {
            var resource = new ResourceView(rs.Resource?.Attributes, _config.CommandLine.Attributes);
            RepeatedField<KeyValue>? firstEnriched = null;
            foreach (var ss in rs.ScopeSpans)
                foreach (var span in ss.Spans)
                    if (Enrich(new Item(span.Attributes, span, null), resource, client, counts)) firstEnriched ??= span.Attributes;
            if (firstEnriched is not null && _mirror.Contains(true)) Mirror(firstEnriched, (rs.Resource ??= new()).Attributes);
        }
        _counts.Add(counts);
    }

    public void Mutate(ExportLogsServiceRequest data)
    {
        var client = ClientContext.Current;
        Span<int> counts = stackalloc int[EnrichmentCounts.SlotCount];
        foreach (var rl in data.ResourceLogs)
        {
            var resource = new ResourceView(rl.Resource?.Attributes, _config.CommandLine.Attributes);
            RepeatedField<KeyValue>? firstEnriched = null;
            foreach (var sl in rl.ScopeLogs)
                foreach (var record in sl.LogRecords)
                {
                    var body = record.Body is { ValueCase: AnyValue.ValueOneofCase.StringValue } text && text.StringValue.StartsWith('{') ? text.StringValue : null;
                    if (Enrich(new Item(record.Attributes, null, body), resource, client, counts)) firstEnriched ??= record.Attributes;
                }
            if (firstEnriched is not null && _mirror.Contains(true)) Mirror(firstEnriched, (rl.Resource ??= new()).Attributes);
        }
        _counts.Add(counts);
    }

    /// <summary>What enrichment reads of a span or a log record: attributes always; the span (name, kind, duration) or the log body.</summary>
    private readonly record struct Item(RepeatedField<KeyValue> Attributes, Span? Span, string? LogBody);

    /// <summary>Returns whether any target attribute is now on the item; <paramref name="counts"/> gets what was written, by field and source.</summary>
    private bool Enrich(Item item, ResourceView resource, ClientInfo client, Span<int> counts)
    {
        var attributes = item.Attributes;
        var modelId = Apply(_modelId, ModelIdField, item, resource, client, counts);
        Apply(_modelVersion, ModelVersionField, item, resource, client, counts);
        if (CopyTokens(_config.InputTokens, attributes)) counts[EnrichmentCounts.Slot(InputTokensField, EnrichmentCounts.Attributes)]++;
        if (CopyTokens(_config.OutputTokens, attributes)) counts[EnrichmentCounts.Slot(OutputTokensField, EnrichmentCounts.Attributes)]++;

        var inference = IsInference(item, modelId);
        var time = _config.InferenceTime;
        if (time.Target.Length > 0 && NeedsValue(attributes, time.Target))
        {
            var ms = LatencyAttributeMs(attributes);
            var source = EnrichmentCounts.Attributes;
            if (ms is null && inference && item.Span is { } span && span.EndTimeUnixNano >= span.StartTimeUnixNano && span.StartTimeUnixNano > 0)
            {
                ms = (span.EndTimeUnixNano - span.StartTimeUnixNano) / 1_000_000.0;
                source = EnrichmentCounts.SpanDuration;
            }
            if (ms is { } value)
            {
                attributes.Upsert(time.Target, new AnyValue { DoubleValue = value });
                counts[EnrichmentCounts.Slot(InferenceTimeField, source)]++;
            }
        }

        var gpu = _config.GpuMemUsed;
        if (gpu.Target.Length > 0 && NeedsValue(attributes, gpu.Target))
        {
            var (mib, source) = GpuFromAttributes(attributes, client);
            if (mib is null && inference)
            {
                mib = _store.Lookup(resource.JoinKey(_joinKeys, attributes), JoinKeys.First(_gpuKeys, attributes, resource.Attributes), gpu.MaxAge);
                source = EnrichmentCounts.GpuStore;
            }
            if (mib is { } value)
            {
                attributes.Upsert(gpu.Target, new AnyValue { IntValue = value });
                counts[EnrichmentCounts.Slot(GpuMemUsedField, source)]++;
            }
        }

        foreach (var target in _targets)
            if (target.Length > 0 && attributes.IndexOf(target) >= 0) return true;
        return false;
    }

    private bool NeedsValue(RepeatedField<KeyValue> attributes, string target) => _config.Overwrite || attributes.IndexOf(target) < 0;

    /// <summary>Resolves and writes one model field; returns its value (found now or already present).</summary>
    private string? Apply(FieldPlan plan, int field, Item item, ResourceView resource, ClientInfo client, Span<int> counts)
    {
        if (plan.Target.Length == 0) return null;
        var existing = Values.Text(item.Attributes.Get(plan.Target));
        if (existing is not null && !_config.Overwrite) return existing;
        var (value, source) = Resolve(plan, item, resource, client);
        if (value is null) return existing;
        item.Attributes.Upsert(plan.Target, new AnyValue { StringValue = value });
        counts[EnrichmentCounts.Slot(field, source)]++;
        return value;
    }

    /// <summary>The value and the index of its source in <see cref="EnrichmentCounts.Sources"/>.</summary>
    private (string? Value, int Source) Resolve(FieldPlan plan, Item item, ResourceView resource, ClientInfo client)
    {
        var attributes = item.Attributes;
        for (var i = 0; i < plan.Sources.Length; i++)
        {
            var source = plan.Sources[i];
            var value = source switch
            {
                "attributes" => FirstText(attributes, plan.Attributes),
                "header" => plan.Header is null ? null : client.GetFirst(plan.Header) ?? Values.Text(attributes.Get(plan.HeaderAttribute!)),
                "request_body" => plan.BodyPath is null || (Values.Text(attributes.Get(plan.BodyAttribute)) ?? item.LogBody) is not { } body
                    ? null
                    : JsonField.Read(body, plan.BodyPath),
                "path" => FromPath(item, plan.PathPlaceholder),
                "command_line" => resource.CommandLineFlag(plan.CommandLineFlags),
                _ => null,
            };
            if (value is not null) return (value, plan.SourceIndexes[i]);
        }
        return (null, -1);
    }

    private string? FromPath(Item item, string placeholder)
    {
        foreach (var attribute in _pathAttributes)
            if (Values.Text(item.Attributes.Get(attribute)) is { } path && MatchPath(path, placeholder) is { } found)
                return found;
        return _config.Path.SpanName && item.Span is { } span ? MatchPath(span.Name, placeholder) : null;
    }

    /// <summary>
    /// The placeholder's value in the first pattern that matches <paramref name="text"/>. Paths and span names repeat
    /// (a service has few routes), so answers are remembered: the patterns' regexes ran twice per span before.
    /// </summary>
    private string? MatchPath(string text, string placeholder)
    {
        var memo = _pathMatches[placeholder];
        if (memo.TryGet(text, out var known)) return known;
        var found = MatchPathUncached(text, placeholder);
        memo.Remember(text, found);
        return found;
    }

    private string? MatchPathUncached(string text, string placeholder)
    {
        foreach (var pattern in _pathPatterns)
        {
            var match = pattern.Match(text);
            if (match.Success && match.Groups[placeholder] is { Success: true } group) return group.Value;
        }
        return null;
    }

    /// <summary>The inference_spans rule; span_kinds apply to spans only (a log record has no kind).</summary>
    private bool IsInference(Item item, string? modelId)
    {
        var rule = _config.InferenceSpans;
        if (rule.RequireModelId && modelId is null) return false;
        if (item.Span is { } kindOf && _inferenceKinds.Length > 0 && Array.IndexOf(_inferenceKinds, kindOf.Kind) < 0) return false;
        if (_inferenceRoute is null) return true;
        foreach (var attribute in _pathAttributes)
            if (Values.Text(item.Attributes.Get(attribute)) is { } path && _inferenceRoute.IsMatch(path)) return true;
        return item.Span is { } span && _inferenceRoute.IsMatch(span.Name);
    }

    private double? LatencyAttributeMs(RepeatedField<KeyValue> attributes)
    {
        foreach (var name in _config.InferenceTime.LatencyAttributes)
            if (Values.Number(attributes.Get(name)) is { } latency) return latency * _latencyToMs;
        return null;
    }

    private (long? Mib, int Source) GpuFromAttributes(RepeatedField<KeyValue> attributes, ClientInfo client)
    {
        foreach (var name in _config.GpuMemUsed.Attributes)
            if (Values.Number(attributes.Get(name)) is { } mib) return ((long)Math.Round(mib), EnrichmentCounts.Attributes);
        if (_gpuHeaderAttribute is null) return (null, -1);
        var header = client.GetFirst(_config.GpuMemUsed.Header) ?? Values.Text(attributes.Get(_gpuHeaderAttribute));
        return header is not null && double.TryParse(header, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var parsed)
            ? ((long)Math.Round(parsed), EnrichmentCounts.Header)
            : (null, -1);
    }

    /// <summary>Copies the first token count found to the target; true when it wrote one.</summary>
    private bool CopyTokens(TokenCountConfig tokens, RepeatedField<KeyValue> attributes)
    {
        if (tokens.Target.Length == 0 || !NeedsValue(attributes, tokens.Target)) return false;
        foreach (var name in tokens.Attributes)
        {
            if (name == tokens.Target || Values.Number(attributes.Get(name)) is not { } count) continue;
            attributes.Upsert(tokens.Target, new AnyValue { IntValue = (long)count });
            return true;
        }
        return false;
    }

    private void Mirror(RepeatedField<KeyValue> enriched, RepeatedField<KeyValue> resource)
    {
        var targets = _targets;
        for (var i = 0; i < targets.Length; i++)
        {
            if (!_mirror[i] || targets[i].Length == 0 || enriched.Get(targets[i]) is not { } value) continue;
            if (_config.Overwrite) resource.Upsert(targets[i], value.Clone());
            else resource.Insert(targets[i], value.Clone());
        }
    }

    private static string? FirstText(RepeatedField<KeyValue> attributes, string[] names)
    {
        foreach (var name in names)
            if (Values.Text(attributes.Get(name)) is { } text) return text;
        return null;
    }

    /// <summary>Path-pattern answers by text, bounded: past the bound new texts are matched every time, not stored.</summary>
    private sealed class PathMatches
    {
        private const int Bound = 4096;
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string?> _answers = new(StringComparer.Ordinal);

        public bool TryGet(string text, out string? value) => _answers.TryGetValue(text, out value);

        public void Remember(string text, string? value)
        {
            if (_answers.Count < Bound) _answers.TryAdd(text, value);
        }
    }

    /// <summary>One model field's config, prepared once.</summary>
    private sealed class FieldPlan(ModelFieldConfig config, RequestBodyConfig body)
    {
        public string Target { get; } = config.Target;
        public string[] Sources { get; } = config.Sources.ToArray();
        public int[] SourceIndexes { get; } = config.Sources.Select(EnrichmentCounts.SourceIndex).ToArray();
        public string[] Attributes { get; } = config.Attributes.ToArray();
        public string? Header { get; } = config.Header.Length > 0 ? config.Header.ToLowerInvariant() : null;
        public string? HeaderAttribute { get; } = config.Header.Length > 0 ? "http.request.header." + config.Header.ToLowerInvariant() : null;
        public string BodyAttribute { get; } = body.Attribute;
        public string[]? BodyPath { get; } = config.BodyField.Length > 0 ? config.BodyField.Split('.') : null;
        public string PathPlaceholder { get; } = config.PathPlaceholder;
        public string[] CommandLineFlags { get; } = config.CommandLineFlags.ToArray();
    }

    /// <summary>Per-resource values computed at most once per payload.</summary>
    private sealed class ResourceView(RepeatedField<KeyValue>? attributes, IReadOnlyList<string> commandLineAttributes)
    {
        private List<string>? _args;
        private bool _argsRead;
        private string? _joinKey;

        public RepeatedField<KeyValue>? Attributes => attributes;

        public string? CommandLineFlag(string[] flags)
        {
            if (!_argsRead)
            {
                _argsRead = true;
                foreach (var name in commandLineAttributes)
                    if ((_args = CommandLine.Args(attributes?.Get(name))) is not null) break;
            }
            return _args is null ? null : CommandLine.FlagValue(_args, flags);
        }

        /// <summary>The join key; built from the resource once unless a key is missing there and the span may have it.</summary>
        public string JoinKey(string[] keys, RepeatedField<KeyValue> spanAttributes)
        {
            if (_joinKey is not null) return _joinKey;
            var complete = keys.All(k => attributes?.Get(k) is not null);
            var key = JoinKeys.Build(keys, attributes, spanAttributes);
            if (complete) _joinKey = key;
            return key;
        }
    }
}
