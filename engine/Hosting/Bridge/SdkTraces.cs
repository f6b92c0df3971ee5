using System.Diagnostics;
using Google.Protobuf;
using OpenTelemetry;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Hosting.Bridge;

/// <summary>
/// Activities as OTLP spans, field for field as the SDK's OTLP exporter writes them: one resource, a scope per
/// ActivitySource name (in first-seen order, with its version and tags), span flags with the has/is-remote bits,
/// kind + 1, <c>otel.status_code</c>/<c>otel.status_description</c> tags read as the status (the Activity's own status wins).
/// </summary>
internal static class SdkTraces
{
    private const uint HasIsRemote = 0x100, IsRemote = 0x200;

    public static ExportTraceServiceRequest Convert(in Batch<Activity> batch, OpenTelemetry.Resources.Resource? resource)
    {
        var resourceSpans = new ResourceSpans { Resource = SdkResources.Convert(resource) };
        var scopes = new Dictionary<string, ScopeSpans>(StringComparer.Ordinal);
        foreach (var activity in batch)
        {
            var source = activity.Source;
            if (!scopes.TryGetValue(source.Name, out var scope))
            {
                scope = new ScopeSpans { Scope = new InstrumentationScope { Name = source.Name, Version = source.Version ?? "" } };
                SdkValues.AddAll(scope.Scope.Attributes, source.Tags);
                scopes[source.Name] = scope;
                resourceSpans.ScopeSpans.Add(scope);
            }
            scope.Spans.Add(Span(activity));
        }
        return new ExportTraceServiceRequest { ResourceSpans = { resourceSpans } };
    }

    private static Span Span(Activity activity)
    {
        var span = new Span
        {
            TraceId = TraceId(activity.TraceId),
            SpanId = SpanId(activity.SpanId),
            TraceState = activity.TraceStateString ?? "",
            Flags = Flags(activity.ActivityTraceFlags, activity.HasRemoteParent),
            Name = activity.DisplayName,
            Kind = (Span.Types.SpanKind)((int)activity.Kind + 1),
            StartTimeUnixNano = Nanos(activity.StartTimeUtc),
            EndTimeUnixNano = Nanos(activity.StartTimeUtc) + (ulong)(activity.Duration.Ticks * 100),
        };
        if (activity.ParentSpanId != default) span.ParentSpanId = SpanId(activity.ParentSpanId);

        Status.Types.StatusCode? tagCode = null;
        string? tagDescription = null;
        foreach (ref readonly var tag in activity.EnumerateTagObjects())
        {
            switch (tag.Key)
            {
                case "otel.status_code":
                    tagCode = (tag.Value as string)?.ToUpperInvariant() switch
                    {
                        "UNSET" => Status.Types.StatusCode.Unset,
                        "ERROR" => Status.Types.StatusCode.Error,
                        "OK" => Status.Types.StatusCode.Ok,
                        _ => null,
                    };
                    continue;
                case "otel.status_description":
                    tagDescription = tag.Value as string;
                    continue;
            }
            SdkValues.Add(span.Attributes, tag.Key, tag.Value);
        }
        foreach (ref readonly var activityEvent in activity.EnumerateEvents())
        {
            var spanEvent = new Span.Types.Event { Name = activityEvent.Name, TimeUnixNano = Nanos(activityEvent.Timestamp.UtcDateTime) };
            foreach (ref readonly var tag in activityEvent.EnumerateTagObjects()) SdkValues.Add(spanEvent.Attributes, tag.Key, tag.Value);
            span.Events.Add(spanEvent);
        }
        foreach (ref readonly var activityLink in activity.EnumerateLinks())
        {
            var context = activityLink.Context;
            var link = new Span.Types.Link
            {
                TraceId = TraceId(context.TraceId),
                SpanId = SpanId(context.SpanId),
                TraceState = context.TraceState ?? "",
                Flags = Flags(context.TraceFlags, context.IsRemote),
            };
            foreach (ref readonly var tag in activityLink.EnumerateTagObjects()) SdkValues.Add(link.Attributes, tag.Key, tag.Value);
            span.Links.Add(link);
        }
        if (activity.Status != ActivityStatusCode.Unset || tagCode is not null)
        {
            var fromActivity = activity.Status != ActivityStatusCode.Unset;
            var code = fromActivity ? (Status.Types.StatusCode)(int)activity.Status : tagCode!.Value;
            var description = fromActivity ? activity.StatusDescription : tagDescription;
            span.Status = new Status { Code = code, Message = code == Status.Types.StatusCode.Error ? description ?? "" : "" };
        }
        return span;
    }

    private static uint Flags(ActivityTraceFlags flags, bool remote) => ((uint)flags & 0xFF) | HasIsRemote | (remote ? IsRemote : 0);

    internal static ulong Nanos(DateTime utc) => (ulong)((utc.Ticks - DateTime.UnixEpoch.Ticks) * 100);

    internal static ByteString TraceId(ActivityTraceId id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.CopyTo(bytes);
        return ByteString.CopyFrom(bytes);
    }

    internal static ByteString SpanId(ActivitySpanId id)
    {
        Span<byte> bytes = stackalloc byte[8];
        id.CopyTo(bytes);
        return ByteString.CopyFrom(bytes);
    }
}

/// <summary>The provider's resource as OTLP (every attribute, in its order).</summary>
internal static class SdkResources
{
    public static Otlp.Proto.Resource.V1.Resource Convert(OpenTelemetry.Resources.Resource? resource)
    {
        var converted = new Otlp.Proto.Resource.V1.Resource();
        if (resource is not null)
            foreach (var (key, value) in resource.Attributes) SdkValues.Add(converted.Attributes, key, value);
        return converted;
    }
}
