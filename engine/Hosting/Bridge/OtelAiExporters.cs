using System.Diagnostics;
using Google.Protobuf;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OtelAi.Engine;
using OtelAi.Engine.Components;

namespace OtelAi.Hosting.Bridge;

/// <summary>
/// Where an SDK exporter hands its batches: the <c>inprocess</c> receiver of an embedded collector, found when the
/// first batch is exported (the collector may be built or started after the SDK's providers).
/// </summary>
internal sealed class InProcessTarget(Func<Collector> collector, ComponentId receiver, TimeSpan timeout)
{
    private InProcessReceiver? _receiver;

    public string? Send<T>(T request) where T : class, IMessage<T>, new()
    {
        var target = _receiver ??= collector().FindComponent(ComponentKind.Receiver, receiver) as InProcessReceiver;
        return target is null
            ? $"the collector has no receiver \"{receiver}\" of type {InProcessReceiverFactory.TypeName}"
            : target.Consume(request, timeout);
    }
}

/// <summary>Activities to the embedded collector, converted as the SDK's OTLP exporter converts them.</summary>
internal sealed class OtelAiTraceExporter(InProcessTarget target) : BaseExporter<Activity>
{
    public override ExportResult Export(in Batch<Activity> batch) =>
        Outcome(target.Send(SdkTraces.Convert(batch, ParentProvider?.GetResource())));

    internal static ExportResult Outcome(string? refusal)
    {
        if (refusal is null) return ExportResult.Success;
        ExporterEvents.Log.Refused(refusal);
        return ExportResult.Failure;
    }
}

/// <summary>Metric points to the embedded collector, converted as the SDK's OTLP exporter converts them.</summary>
internal sealed class OtelAiMetricExporter(InProcessTarget target) : BaseExporter<Metric>
{
    public override ExportResult Export(in Batch<Metric> batch) =>
        OtelAiTraceExporter.Outcome(target.Send(SdkMetrics.Convert(batch, ParentProvider?.GetResource())));
}

/// <summary>Log records to the embedded collector, converted as the SDK's OTLP exporter converts them.</summary>
internal sealed class OtelAiLogExporter(InProcessTarget target) : BaseExporter<LogRecord>
{
    public override ExportResult Export(in Batch<LogRecord> batch) =>
        OtelAiTraceExporter.Outcome(target.Send(SdkLogs.Convert(batch, ParentProvider?.GetResource())));
}

/// <summary>The exporters' diagnostics, as the SDK's own exporters report theirs: an EventSource (dotnet-trace, EventListener).</summary>
[System.Diagnostics.Tracing.EventSource(Name = "OtelAi-Hosting-Exporter")]
internal sealed class ExporterEvents : System.Diagnostics.Tracing.EventSource
{
    public static readonly ExporterEvents Log = new();

    [System.Diagnostics.Tracing.Event(1, Level = System.Diagnostics.Tracing.EventLevel.Warning, Message = "export to the embedded collector refused: {0}")]
    public void Refused(string reason) => WriteEvent(1, reason);
}
