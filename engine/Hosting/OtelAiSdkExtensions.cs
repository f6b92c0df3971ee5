using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Logs;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using OtelAi.Engine;
using OtelAi.Engine.Components;
using OtelAi.Hosting.Bridge;

namespace OtelAi.Hosting;

/// <summary>How the SDK's exporters reach the embedded collector.</summary>
public sealed record OtelAiExporterOptions
{
    /// <summary>Id of the collector's <c>inprocess</c> receiver.</summary>
    public string Receiver { get; init; } = InProcessReceiverFactory.TypeName;

    /// <summary>Longest wait for the pipelines to take a batch (backpressure); past it the export fails, as a network exporter's would.</summary>
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Metrics: how often the periodic reader collects and exports (the SDK's default, 60 s).</summary>
    public int MetricExportIntervalMilliseconds { get; init; } = 60_000;

    /// <summary>Metrics: cumulative (the SDK's default) or delta.</summary>
    public MetricReaderTemporalityPreference Temporality { get; init; } = MetricReaderTemporalityPreference.Cumulative;

    internal InProcessTarget Target(Func<Collector> collector) => new(collector, ComponentId.Parse(Receiver), Timeout);
}

/// <summary>
/// The OpenTelemetry .NET SDK's traces, metrics and logs handed to an embedded collector's <c>inprocess</c> receiver:
/// converted as the SDK's OTLP exporter converts them, with no socket and no serialisation. Traces and logs go
/// through the SDK's batch processors, metrics through a periodic reader.
/// </summary>
public static class OtelAiSdkExtensions
{
    public static TracerProviderBuilder AddOtelAiExporter(this TracerProviderBuilder builder, Collector collector, OtelAiExporterOptions? options = null) =>
        builder.AddProcessor(new BatchActivityExportProcessor(new OtelAiTraceExporter((options ?? new()).Target(() => collector))));

    /// <summary>To the collector registered by <see cref="OtelAiServiceCollectionExtensions.AddOtelAiCollector(IServiceCollection, string, Action{ComponentRegistry}?)"/>.</summary>
    public static TracerProviderBuilder AddOtelAiExporter(this TracerProviderBuilder builder, OtelAiExporterOptions? options = null) =>
        builder.AddProcessor(services => new BatchActivityExportProcessor(
            new OtelAiTraceExporter((options ?? new()).Target(() => services.GetRequiredService<Collector>()))));

    public static MeterProviderBuilder AddOtelAiExporter(this MeterProviderBuilder builder, Collector collector, OtelAiExporterOptions? options = null) =>
        builder.AddReader(Reader(() => collector, options ?? new()));

    /// <summary>To the collector registered by <c>AddOtelAiCollector</c>.</summary>
    public static MeterProviderBuilder AddOtelAiExporter(this MeterProviderBuilder builder, OtelAiExporterOptions? options = null) =>
        builder.AddReader(services => Reader(() => services.GetRequiredService<Collector>(), options ?? new()));

    public static OpenTelemetryLoggerOptions AddOtelAiExporter(this OpenTelemetryLoggerOptions logging, Collector collector, OtelAiExporterOptions? options = null) =>
        logging.AddProcessor(new BatchLogRecordExportProcessor(new OtelAiLogExporter((options ?? new()).Target(() => collector))));

    /// <summary>To the collector registered by <c>AddOtelAiCollector</c>.</summary>
    public static OpenTelemetryLoggerOptions AddOtelAiExporter(this OpenTelemetryLoggerOptions logging, OtelAiExporterOptions? options = null) =>
        logging.AddProcessor(services => new BatchLogRecordExportProcessor(
            new OtelAiLogExporter((options ?? new()).Target(() => services.GetRequiredService<Collector>()))));

    /// <summary>For <c>services.AddOpenTelemetry().WithLogging(...)</c>: to the collector registered by <c>AddOtelAiCollector</c>.</summary>
    public static LoggerProviderBuilder AddOtelAiExporter(this LoggerProviderBuilder builder, OtelAiExporterOptions? options = null) =>
        builder.AddProcessor(services => new BatchLogRecordExportProcessor(
            new OtelAiLogExporter((options ?? new()).Target(() => services.GetRequiredService<Collector>()))));

    private static PeriodicExportingMetricReader Reader(Func<Collector> collector, OtelAiExporterOptions options) =>
        new(new OtelAiMetricExporter(options.Target(collector)), options.MetricExportIntervalMilliseconds)
        {
            TemporalityPreference = options.Temporality,
        };
}
