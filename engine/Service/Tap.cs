using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using System.Threading.Channels;
using Google.Protobuf;
using OtelAi.Otlp;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Engine.Service;

/// <summary>
/// Decides whether one item (a span, a metric data point with its <paramref name="metric"/>, a log record) passes a
/// tap's filter. Called on a private copy's parts; it must not change them.
/// </summary>
public delegate bool TapItemMatcher(Resource resource, InstrumentationScope scope, Metric? metric, object item);

/// <summary>Compiles a tap's <c>where</c> condition (the processors assembly registers OTTL as the language).</summary>
public interface ITapConditionCompiler
{
    /// <summary>A matcher for the signal's items; throws <see cref="FormatException"/> saying what is wrong with the condition.</summary>
    TapItemMatcher Compile(string condition, Signal signal);
}

/// <summary>How much a tap may show: items per second, bytes per item, events waiting for a slow reader.</summary>
internal sealed record TapLimits(int ItemsPerSecond, int MaxItemBytes, int Buffered, int BatchesInspectedPerSecond, IReadOnlyList<Regex> RedactValues);

/// <summary>
/// The taps of one collector: a point at each component's output (and each exporter's input), which does nothing
/// until someone taps it. Built only when the live page is configured.
/// </summary>
internal sealed class TapHub
{
    private readonly ConcurrentDictionary<(string Component, string Pipeline, Signal Signal), TapPoint> _points = new();
    private int _active;

    public TapPoint Point(string component, string pipeline, Signal signal) =>
        _points.GetOrAdd((component, pipeline, signal), key => new TapPoint(key.Component, key.Pipeline, key.Signal));

    /// <summary>The points of a component: every pipeline and signal, or the one pipeline asked for.</summary>
    public IReadOnlyList<TapPoint> PointsOf(string component, string? pipeline) =>
        [.. _points.Values.Where(p => p.Component == component && (pipeline is null || p.Pipeline == pipeline))];

    public IEnumerable<string> Components => _points.Keys.Select(k => k.Component).Distinct(StringComparer.Ordinal);

    /// <summary>Taps open now.</summary>
    public int Active => Volatile.Read(ref _active);

    /// <summary>Subscribes to <paramref name="points"/> unless <paramref name="maxTaps"/> are open; dispose the result to stop.</summary>
    public IDisposable? TryOpen(TapSubscription subscription, IReadOnlyList<TapPoint> points, int maxTaps)
    {
        if (Interlocked.Increment(ref _active) > maxTaps)
        {
            Interlocked.Decrement(ref _active);
            return null;
        }
        foreach (var point in points) point.Add(subscription);
        return new Closer(() =>
        {
            foreach (var point in points) point.Remove(subscription);
            subscription.Complete();
            Interlocked.Decrement(ref _active);
        });
    }

    private sealed class Closer(Action close) : IDisposable
    {
        private int _closed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _closed, 1) == 0) close();
        }
    }
}

/// <summary>One place data passes (a component's output in a pipeline); the data path reads one field here per batch.</summary>
internal sealed class TapPoint(string component, string pipeline, Signal signal)
{
    private readonly Lock _lock = new();
    private TapSubscription[] _subscribers = [];

    public string Component { get; } = component;

    /// <summary>The pipeline of a processor's output; empty for receivers, exporters and connectors (one instance serves every pipeline).</summary>
    public string Pipeline { get; } = pipeline;

    public Signal Signal { get; } = signal;

    public void Offer<T>(Payload<T> data) where T : class, IMessage<T>, new()
    {
        foreach (var subscriber in Volatile.Read(ref _subscribers)) subscriber.Offer(this, data);
    }

    public void Add(TapSubscription subscription)
    {
        lock (_lock) _subscribers = [.. _subscribers, subscription];
    }

    public void Remove(TapSubscription subscription)
    {
        lock (_lock) _subscribers = [.. _subscribers.Where(s => s != subscription)];
    }
}

/// <summary>
/// One open tap: a token bucket of items per second, a filter, and a bounded queue of JSON events for its reader.
/// What passes is copied (one item with its resource and scope), redacted and size-bounded before it is queued; a
/// reader that falls behind loses events, counted, never the data path's time.
/// </summary>
internal sealed partial class TapSubscription
{
    private const string RedactedValue = "[REDACTED]";
    private const int MaxStringValueChars = 256;

    private readonly Func<Signal, TapItemMatcher?> _matcherFor;
    private readonly TapLimits _limits;
    private readonly TimeProvider _time;
    private readonly Channel<string> _events;
    private readonly Lock _lock = new();
    private double _tokens;
    private double _inspections;
    private long _refilledAt;
    private long _dropped;
    private long _shown;
    private bool _failed;

    /// <param name="matcherFor">The filter for a point's signal (null: every item).</param>
    public TapSubscription(Func<Signal, TapItemMatcher?> matcherFor, TapLimits limits, TimeProvider? time = null)
    {
        _matcherFor = matcherFor;
        _limits = limits;
        _time = time ?? TimeProvider.System;
        _events = Channel.CreateBounded<string>(new BoundedChannelOptions(limits.Buffered)
        {
            FullMode = BoundedChannelFullMode.DropWrite,
            SingleReader = true,
        });
        _tokens = limits.ItemsPerSecond;
        _inspections = limits.BatchesInspectedPerSecond;
        _refilledAt = _time.GetTimestamp();
    }

    public ChannelReader<string> Events => _events.Reader;

    /// <summary>Items shown so far.</summary>
    public long Shown => Interlocked.Read(ref _shown);

    /// <summary>Items selected while the reader's queue was full.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Complete() => _events.Writer.TryComplete();

    public void Offer<T>(TapPoint point, Payload<T> data) where T : class, IMessage<T>, new()
    {
        // Serial per tap: only batches passing a tapped point come here, and each takes its turn.
        lock (_lock)
        {
            Refill();
            if (_tokens < 1 || _inspections < 1) return;
            _inspections--;
            try
            {
                // An undecoded payload is decoded into a copy: the data path keeps its bytes and its behaviour.
                var message = data.IsEncoded ? data.Clone().Message : data.Message;
                foreach (var item in TapSelection.Select(message, (int)_tokens, _matcherFor(point.Signal)))
                {
                    _tokens--;
                    Redact(item);
                    if (_events.Writer.TryWrite(Event(point, item))) Interlocked.Increment(ref _shown);
                    else Interlocked.Increment(ref _dropped);
                }
            }
            catch (Exception ex)
            {
                // A tap never fails the data it watches: its reader is told once, and the tap shows nothing more.
                _events.Writer.TryWrite(Error(point, ex));
                _failed = true;
                _tokens = double.NegativeInfinity;
            }
        }
    }

    private static string Error(TapPoint point, Exception error) => JsonText.Of(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("component", point.Component);
        writer.WriteString("error", $"the tap stopped: {error.Message}");
        writer.WriteEndObject();
    });

    private void Refill()
    {
        var now = _time.GetTimestamp();
        var seconds = _time.GetElapsedTime(_refilledAt, now).TotalSeconds;
        _refilledAt = now;
        if (_failed) return;
        _tokens = Math.Min(_limits.ItemsPerSecond, _tokens + seconds * _limits.ItemsPerSecond);
        _inspections = Math.Min(_limits.BatchesInspectedPerSecond, _inspections + seconds * _limits.BatchesInspectedPerSecond);
    }

    /// <summary>The event: when, where, and the item as an OTLP/JSON request holding only it.</summary>
    private string Event(TapPoint point, IMessage item)
    {
        var json = Write(point, item, withItem: true);
        return Encoding.UTF8.GetByteCount(json) <= _limits.MaxItemBytes ? json : Write(point, item, withItem: false);
    }

    private string Write(TapPoint point, IMessage item, bool withItem) => JsonText.Of(writer =>
    {
        writer.WriteStartObject();
        writer.WriteString("time", _time.GetUtcNow().ToString("O"));
        writer.WriteString("component", point.Component);
        if (point.Pipeline.Length > 0) writer.WriteString("pipeline", point.Pipeline);
        writer.WriteString("signal", point.Signal.ToConfigName());
        if (withItem)
        {
            writer.WritePropertyName("item");
            JsonCodecs.For(item.GetType()).WriteMessage(writer, item);
        }
        else
        {
            writer.WriteBoolean("truncated", true);
            writer.WriteString("summary", TapSelection.Summary(item));
        }
        writer.WriteEndObject();
    });

    /// <summary>Attribute keys whose last segment names a credential (http.request.header.authorization, db.password); token counts are not.</summary>
    [GeneratedRegex(@"(^|[._-])(authorization|proxy-authorization|cookie|set-cookie|password|passwd|secret|api[-_]?key|access[-_]?token|token|bearer)$", RegexOptions.IgnoreCase)]
    private static partial Regex SecretKey();

    private static bool IsSecretKey(string key) => SecretKey().IsMatch(key);

    /// <summary>Masks attribute values that match a configured pattern and shortens long strings (the copy is ours).</summary>
    private void Redact(IMessage item)
    {
        foreach (var attributes in TapSelection.AttributeLists(item))
            foreach (var attribute in attributes)
                RedactValue(attribute.Value, IsSecretKey(attribute.Key));
    }

    private void RedactValue(AnyValue? value, bool secretKey)
    {
        switch (value?.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                var text = value.StringValue;
                if (secretKey) text = RedactedValue;
                foreach (var pattern in _limits.RedactValues) text = pattern.Replace(text, RedactedValue);
                value.StringValue = text.Length > MaxStringValueChars ? string.Concat(text.AsSpan(0, MaxStringValueChars), "…") : text;
                break;
            case AnyValue.ValueOneofCase.ArrayValue:
                foreach (var element in value.ArrayValue.Values) RedactValue(element, secretKey);
                break;
            case AnyValue.ValueOneofCase.KvlistValue:
                foreach (var entry in value.KvlistValue.Values) RedactValue(entry.Value, secretKey || IsSecretKey(entry.Key));
                break;
            case AnyValue.ValueOneofCase.BytesValue when secretKey || value.BytesValue.Length > MaxStringValueChars:
                value.StringValue = secretKey ? RedactedValue : $"<{value.BytesValue.Length} bytes>";
                break;
            case not null when secretKey && value.ValueCase != AnyValue.ValueOneofCase.None:
                value.StringValue = RedactedValue;
                break;
        }
    }
}

/// <summary>Copies of single items out of a request: each with its resource and scope, as a request of its own.</summary>
internal static class TapSelection
{
    private static readonly Resource EmptyResource = new();
    private static readonly InstrumentationScope EmptyScope = new();

    /// <summary>Up to <paramref name="max"/> items of <paramref name="request"/> that <paramref name="matcher"/> accepts (all when null), copied.</summary>
    public static List<IMessage> Select(IMessage request, int max, TapItemMatcher? matcher)
    {
        var selected = new List<IMessage>();
        switch (request)
        {
            case ExportTraceServiceRequest traces:
                foreach (var rs in traces.ResourceSpans)
                    foreach (var ss in rs.ScopeSpans)
                        foreach (var span in ss.Spans)
                        {
                            if (selected.Count >= max) return selected;
                            if (matcher is not null && !matcher(rs.Resource ?? EmptyResource, ss.Scope ?? EmptyScope, null, span)) continue;
                            selected.Add(new ExportTraceServiceRequest
                            {
                                ResourceSpans = { new ResourceSpans { Resource = rs.Resource?.Clone(), SchemaUrl = rs.SchemaUrl,
                                    ScopeSpans = { new ScopeSpans { Scope = ss.Scope?.Clone(), SchemaUrl = ss.SchemaUrl, Spans = { span.Clone() } } } } },
                            });
                        }
                break;
            case ExportLogsServiceRequest logs:
                foreach (var rl in logs.ResourceLogs)
                    foreach (var sl in rl.ScopeLogs)
                        foreach (var log in sl.LogRecords)
                        {
                            if (selected.Count >= max) return selected;
                            if (matcher is not null && !matcher(rl.Resource ?? EmptyResource, sl.Scope ?? EmptyScope, null, log)) continue;
                            selected.Add(new ExportLogsServiceRequest
                            {
                                ResourceLogs = { new ResourceLogs { Resource = rl.Resource?.Clone(), SchemaUrl = rl.SchemaUrl,
                                    ScopeLogs = { new ScopeLogs { Scope = sl.Scope?.Clone(), SchemaUrl = sl.SchemaUrl, LogRecords = { log.Clone() } } } } },
                            });
                        }
                break;
            case ExportMetricsServiceRequest metrics:
                foreach (var rm in metrics.ResourceMetrics)
                    foreach (var sm in rm.ScopeMetrics)
                        foreach (var metric in sm.Metrics)
                            foreach (var point in MetricPoints.Of(metric))
                            {
                                if (selected.Count >= max) return selected;
                                if (matcher is not null && !matcher(rm.Resource ?? EmptyResource, sm.Scope ?? EmptyScope, metric, point)) continue;
                                selected.Add(new ExportMetricsServiceRequest
                                {
                                    ResourceMetrics = { new ResourceMetrics { Resource = rm.Resource?.Clone(), SchemaUrl = rm.SchemaUrl,
                                        ScopeMetrics = { new ScopeMetrics { Scope = sm.Scope?.Clone(), SchemaUrl = sm.SchemaUrl, Metrics = { MetricPoints.WithOnly(metric, point) } } } } },
                                });
                            }
                break;
        }
        return selected;
    }

    /// <summary>Every attribute list of a single-item request (resource, scope, item, span events and links).</summary>
    public static IEnumerable<IEnumerable<KeyValue>> AttributeLists(IMessage item)
    {
        switch (item)
        {
            case ExportTraceServiceRequest traces:
                foreach (var rs in traces.ResourceSpans)
                {
                    if (rs.Resource is { } resource) yield return resource.Attributes;
                    foreach (var ss in rs.ScopeSpans)
                    {
                        if (ss.Scope is { } scope) yield return scope.Attributes;
                        foreach (var span in ss.Spans)
                        {
                            yield return span.Attributes;
                            foreach (var spanEvent in span.Events) yield return spanEvent.Attributes;
                            foreach (var link in span.Links) yield return link.Attributes;
                        }
                    }
                }
                break;
            case ExportLogsServiceRequest logs:
                foreach (var rl in logs.ResourceLogs)
                {
                    if (rl.Resource is { } resource) yield return resource.Attributes;
                    foreach (var sl in rl.ScopeLogs)
                    {
                        if (sl.Scope is { } scope) yield return scope.Attributes;
                        foreach (var log in sl.LogRecords)
                        {
                            yield return log.Attributes;
                            if (log.Body is { } body) yield return [new KeyValue { Key = "body", Value = body }];
                        }
                    }
                }
                break;
            case ExportMetricsServiceRequest metrics:
                foreach (var rm in metrics.ResourceMetrics)
                {
                    if (rm.Resource is { } resource) yield return resource.Attributes;
                    foreach (var sm in rm.ScopeMetrics)
                    {
                        if (sm.Scope is { } scope) yield return scope.Attributes;
                        foreach (var metric in sm.Metrics)
                            foreach (var attributes in MetricPoints.PointAttributes(metric))
                                yield return attributes;
                    }
                }
                break;
        }
    }

    /// <summary>A one-line description of an item too large to show whole.</summary>
    public static string Summary(IMessage item) => item switch
    {
        ExportTraceServiceRequest t when t.ResourceSpans.FirstOrDefault()?.ScopeSpans.FirstOrDefault()?.Spans.FirstOrDefault() is { } span =>
            $"span \"{Shorten(span.Name)}\" trace {Convert.ToHexStringLower(span.TraceId.Span)} with {span.Attributes.Count} attributes, {span.Events.Count} events",
        ExportLogsServiceRequest l when l.ResourceLogs.FirstOrDefault()?.ScopeLogs.FirstOrDefault()?.LogRecords.FirstOrDefault() is { } log =>
            $"log record {log.SeverityText} with {log.Attributes.Count} attributes",
        ExportMetricsServiceRequest m when m.ResourceMetrics.FirstOrDefault()?.ScopeMetrics.FirstOrDefault()?.Metrics.FirstOrDefault() is { } metric =>
            $"data point of \"{Shorten(metric.Name)}\"",
        _ => "item",
    };

    private static string Shorten(string text) => text.Length <= 128 ? text : text[..128] + "…";
}
