using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;

namespace OtelAi.Engine.Service;

/// <summary>
/// otelcol's pipeline component telemetry (feature gate <c>telemetry.newPipelineTelemetry</c>): every edge of the
/// graph is counted twice, as items one component produced and as items the next consumed, labelled with the
/// component, its pipeline (processors) and signal, and the outcome: success, failure (this component's error) or
/// refused (an error from further downstream, passed on).
/// </summary>
internal static class PipelineTelemetry
{
    private const string Kind = "otelcol_component_kind", Id = "otelcol_component_id", Pipeline = "otelcol_pipeline_id",
        SignalLabel = "otelcol_signal", Output = "otelcol_signal_output", Outcome = "otelcol_component_outcome";

    public static readonly SelfMetric ReceiverProduced = SelfMetric.Counter("otelcol_receiver_produced_items", "Number of items emitted from the receiver.", Kind, Id, SignalLabel, Outcome);
    public static readonly SelfMetric ProcessorConsumed = SelfMetric.Counter("otelcol_processor_consumed_items", "Number of items passed to the processor.", Kind, Id, Pipeline, SignalLabel, Outcome);
    public static readonly SelfMetric ProcessorProduced = SelfMetric.Counter("otelcol_processor_produced_items", "Number of items emitted from the processor.", Kind, Id, Pipeline, SignalLabel, Outcome);
    public static readonly SelfMetric ConnectorConsumed = SelfMetric.Counter("otelcol_connector_consumed_items", "Number of items passed to the connector.", Kind, Id, SignalLabel, Output, Outcome);
    public static readonly SelfMetric ConnectorProduced = SelfMetric.Counter("otelcol_connector_produced_items", "Number of items emitted from the connector.", Kind, Id, SignalLabel, Output, Outcome);
    public static readonly SelfMetric ExporterConsumed = SelfMetric.Counter("otelcol_exporter_consumed_items", "Number of items passed to the exporter.", Kind, Id, SignalLabel, Outcome);

    /// <summary>Marks an error as already counted as some component's failure: layers above it count a refusal.</summary>
    private const string DownstreamKey = "otelai.pipeline_telemetry.downstream";

    public static bool IsDownstream(Exception error) => error.Data.Contains(DownstreamKey);

    public static void MarkDownstream(Exception error) => error.Data[DownstreamKey] = true;

    /// <summary><paramref name="consumer"/> counted under <paramref name="metric"/>, ascribed to the component the labels name.</summary>
    /// <param name="tap">Where the live page's taps see this edge's data (null: not tapped here).</param>
    public static ITelemetryConsumer<T> Observe<T>(ITelemetryConsumer<T> consumer, MetricRegistry metrics, SelfMetric metric,
        ComponentKind kind, ComponentId id, Signal signal, PipelineId? pipeline = null, Signal? output = null, TapPoint? tap = null)
        where T : class, IMessage<T>, new()
    {
        Counter For(string outcome) => metrics.Counter(metric, [.. new (string Key, string Value)[]
        {
            (Kind, kind.ToString().ToLowerInvariant()), (Id, id.ToString()), (Pipeline, pipeline?.ToString() ?? ""),
            (SignalLabel, signal.ToConfigName()), (Output, output?.ToConfigName() ?? ""), (Outcome, outcome),
        }.Where(label => metric.Labels.Contains(label.Key))]);
        return new ObservedConsumer<T>(consumer, For("success"), For("failure"), For("refused"), tap);
    }
}

/// <summary>
/// One counting layer of <see cref="PipelineTelemetry"/>; it counts, and shows the data to open taps, before passing
/// on (downstream may change the data).
/// </summary>
internal sealed class ObservedConsumer<T>(ITelemetryConsumer<T> inner, Counter success, Counter failure, Counter refused, TapPoint? tap) : ITelemetryConsumer<T>
    where T : class, IMessage<T>, new()
{
    public ConsumerCapabilities Capabilities => inner.Capabilities;

    public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        var items = data.ItemCount;
        tap?.Offer(data);
        ValueTask consumed;
        try
        {
            consumed = inner.ConsumeAsync(data, cancellationToken);
        }
        catch (Exception ex)
        {
            Failed(ex, items);
            throw;
        }
        if (consumed.IsCompletedSuccessfully)
        {
            success.Add(items);
            return ValueTask.CompletedTask;
        }
        return AwaitAsync(consumed, items);
    }

    private async ValueTask AwaitAsync(ValueTask consumed, int items)
    {
        try
        {
            await consumed;
        }
        catch (Exception ex)
        {
            Failed(ex, items);
            throw;
        }
        success.Add(items);
    }

    private void Failed(Exception error, int items)
    {
        if (PipelineTelemetry.IsDownstream(error)) refused.Add(items);
        else
        {
            failure.Add(items);
            PipelineTelemetry.MarkDownstream(error);
        }
    }
}
