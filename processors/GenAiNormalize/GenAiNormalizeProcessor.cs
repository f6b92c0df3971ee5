using System.Globalization;
using System.Text.Json;
using Google.Protobuf.Collections;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Processors.Common;

namespace OtelAi.Processors.GenAiNormalize;

/// <summary>otelai's <c>genai_normalize</c> processor (traces, metrics, logs).</summary>
public sealed class GenAiNormalizeProcessorFactory : ProcessorFactory<GenAiNormalizeConfig>
{
    public override string Type => "genai_normalize";

    public override IReadOnlyDictionary<Signal, StabilityLevel> Stability { get; } = AllSignals(StabilityLevel.Development);

    protected override IProcessor<T> Create<T>(ComponentCreateSettings settings, GenAiNormalizeConfig config, ITelemetryConsumer<T> next) =>
        new InPlaceProcessor<T>((IPayloadMutator<T>)(object)new GenAiNormalizer(config), next);
}

/// <summary>
/// Rewrites GenAI attributes onto the current conventions wherever attributes live: spans and their events, log
/// records, metric data points. Each rule reads one source attribute and writes one target (a few derive values:
/// operation names, numbers written as text, the invocation-parameters JSON).
/// </summary>
internal sealed class GenAiNormalizer : IPayloadMutator<ExportTraceServiceRequest>, IPayloadMutator<ExportLogsServiceRequest>, IPayloadMutator<ExportMetricsServiceRequest>
{
    /// <summary>One mapping: source key → target key, with a value conversion (null: the value as it is).</summary>
    internal sealed record Rule(GenAiDialect Dialect, string Source, string Target, Func<AnyValue, AnyValue?>? Convert = null);

    internal static readonly Rule[] Rules =
    [
        new(GenAiDialect.SemconvLegacy, "gen_ai.system", "gen_ai.provider.name"),
        new(GenAiDialect.SemconvLegacy, "gen_ai.usage.prompt_tokens", "gen_ai.usage.input_tokens", Integer),
        new(GenAiDialect.SemconvLegacy, "gen_ai.usage.completion_tokens", "gen_ai.usage.output_tokens", Integer),
        new(GenAiDialect.SemconvLegacy, "gen_ai.openai.request.seed", "gen_ai.request.seed", Integer),
        new(GenAiDialect.OpenLlmetry, "llm.request.type", "gen_ai.operation.name", OpenLlmetryOperation),
        new(GenAiDialect.OpenLlmetry, "llm.is_streaming", "gen_ai.request.stream", Boolean),
        new(GenAiDialect.OpenInference, "llm.model_name", "gen_ai.request.model"),
        new(GenAiDialect.OpenInference, "llm.token_count.prompt", "gen_ai.usage.input_tokens", Integer),
        new(GenAiDialect.OpenInference, "llm.token_count.completion", "gen_ai.usage.output_tokens", Integer),
        new(GenAiDialect.OpenInference, "llm.provider", "gen_ai.provider.name"),
        new(GenAiDialect.OpenInference, "llm.system", "gen_ai.provider.name"),
        new(GenAiDialect.OpenInference, "openinference.span.kind", "gen_ai.operation.name", OpenInferenceOperation),
    ];

    /// <summary>llm.invocation_parameters (OpenInference): request parameters as JSON, spread into gen_ai.request.*.</summary>
    private static readonly (string Json, string Target, bool IsInteger)[] InvocationParameters =
    [
        ("temperature", "gen_ai.request.temperature", false), ("top_p", "gen_ai.request.top_p", false), ("top_k", "gen_ai.request.top_k", false),
        ("max_tokens", "gen_ai.request.max_tokens", true), ("max_completion_tokens", "gen_ai.request.max_tokens", true),
        ("frequency_penalty", "gen_ai.request.frequency_penalty", false), ("presence_penalty", "gen_ai.request.presence_penalty", false),
        ("seed", "gen_ai.request.seed", true),
    ];

    private readonly Rule[] _rules;
    private readonly bool _invocationParameters;
    private readonly bool _keepOriginals;
    private readonly bool _overwrite;

    public GenAiNormalizer(GenAiNormalizeConfig config)
    {
        _rules = [.. Rules.Where(rule => config.Dialects.Contains(rule.Dialect))];
        _invocationParameters = config.Dialects.Contains(GenAiDialect.OpenInference);
        _keepOriginals = config.KeepOriginals;
        _overwrite = config.Overwrite;
    }

    public void Mutate(ExportTraceServiceRequest data)
    {
        foreach (var span in data.ResourceSpans.SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans))
        {
            Normalize(span.Attributes);
            foreach (var spanEvent in span.Events) Normalize(spanEvent.Attributes);
        }
    }

    public void Mutate(ExportLogsServiceRequest data)
    {
        foreach (var record in data.ResourceLogs.SelectMany(r => r.ScopeLogs).SelectMany(s => s.LogRecords)) Normalize(record.Attributes);
    }

    public void Mutate(ExportMetricsServiceRequest data)
    {
        foreach (var metric in data.ResourceMetrics.SelectMany(r => r.ScopeMetrics).SelectMany(s => s.Metrics))
            foreach (var attributes in MetricPoints.PointAttributes(metric)) Normalize(attributes);
    }

    internal void Normalize(RepeatedField<KeyValue> attributes)
    {
        if (attributes.Count == 0) return;
        foreach (var rule in _rules)
        {
            var index = attributes.IndexOf(rule.Source);
            if (index < 0) continue;
            var value = rule.Convert is { } convert ? convert(attributes[index].Value) : attributes[index].Value.Clone();
            if (value is null) continue; // nothing the conventions have for it (e.g. a rerank request type): left as it is
            Write(attributes, rule.Target, value);
            if (!_keepOriginals) attributes.Remove(rule.Source);
        }
        if (_invocationParameters && attributes.Get("llm.invocation_parameters") is { StringValue: { Length: > 0 } json }) SpreadParameters(attributes, json);
    }

    /// <summary>Sets <paramref name="target"/> unless it is set already and overwrite is off.</summary>
    private void Write(RepeatedField<KeyValue> attributes, string target, AnyValue value)
    {
        if (_overwrite || attributes.IndexOf(target) < 0) attributes.Upsert(target, value);
    }

    private void SpreadParameters(RepeatedField<KeyValue> attributes, string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            if (document.RootElement.ValueKind != JsonValueKind.Object) return;
            foreach (var (name, target, isInteger) in InvocationParameters)
            {
                if (!document.RootElement.TryGetProperty(name, out var property) || property.ValueKind != JsonValueKind.Number) continue;
                var value = isInteger && property.TryGetInt64(out var whole) ? Attributes.Int(whole) : Attributes.Double(property.GetDouble());
                Write(attributes, target, value);
            }
        }
        catch (JsonException)
        {
            // Not JSON: the attribute stays as it is, nothing to spread.
        }
    }

    private static AnyValue? Integer(AnyValue value) => value.ValueCase switch
    {
        AnyValue.ValueOneofCase.IntValue => value.Clone(),
        AnyValue.ValueOneofCase.DoubleValue when value.DoubleValue == Math.Floor(value.DoubleValue) => Attributes.Int((long)value.DoubleValue),
        AnyValue.ValueOneofCase.StringValue when long.TryParse(value.StringValue, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) => Attributes.Int(parsed),
        _ => null,
    };

    private static AnyValue? Boolean(AnyValue value) => value.ValueCase switch
    {
        AnyValue.ValueOneofCase.BoolValue => value.Clone(),
        AnyValue.ValueOneofCase.StringValue when bool.TryParse(value.StringValue, out var parsed) => Attributes.Bool(parsed),
        _ => null,
    };

    /// <summary>OpenLLMetry's request types as operation names: chat, completion, embedding (rerank has none).</summary>
    private static AnyValue? OpenLlmetryOperation(AnyValue value) => value.AsString().ToLowerInvariant() switch
    {
        "chat" => Attributes.String("chat"),
        "completion" => Attributes.String("text_completion"),
        "embedding" => Attributes.String("embeddings"),
        _ => null,
    };

    /// <summary>OpenInference's span kinds as operation names (chain, retriever, reranker and guardrail have none).</summary>
    private static AnyValue? OpenInferenceOperation(AnyValue value) => value.AsString().ToUpperInvariant() switch
    {
        "LLM" => Attributes.String("chat"),
        "EMBEDDING" => Attributes.String("embeddings"),
        "TOOL" => Attributes.String("execute_tool"),
        "AGENT" => Attributes.String("invoke_agent"),
        _ => null,
    };
}
