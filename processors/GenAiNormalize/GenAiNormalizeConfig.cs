using OtelAi.Engine.Config;

namespace OtelAi.Processors.GenAiNormalize;

/// <summary>The attribute dialects <c>genai_normalize</c> understands.</summary>
public enum GenAiDialect
{
    /// <summary>Older OpenTelemetry GenAI names: gen_ai.system, gen_ai.usage.prompt_tokens/completion_tokens.</summary>
    [ConfigKey("semconv_legacy")] SemconvLegacy,
    /// <summary>OpenLLMetry (Traceloop): llm.request.type, llm.is_streaming.</summary>
    [ConfigKey("openllmetry")] OpenLlmetry,
    /// <summary>OpenInference (Arize): llm.model_name, llm.token_count.*, llm.provider/system, llm.invocation_parameters, openinference.span.kind.</summary>
    [ConfigKey("openinference")] OpenInference,
}

[ConfigDescription("otelai: maps GenAI attributes of older OpenTelemetry conventions, OpenLLMetry and OpenInference (and vLLM's tracing, which uses the older names) onto the current GenAI semantic conventions, on spans, span events, log records and metric data points. See processors/GenAiNormalize/README.md.")]
public sealed record GenAiNormalizeConfig : ComponentConfig
{
    [ConfigDescription("Which dialects to map.")]
    public List<GenAiDialect> Dialects { get; init; } = [GenAiDialect.SemconvLegacy, GenAiDialect.OpenLlmetry, GenAiDialect.OpenInference];

    [ConfigDescription("Keep the original attributes beside the mapped ones (false removes them once mapped).")]
    public bool KeepOriginals { get; init; } = true;

    [ConfigDescription("Replace a current-convention attribute that is already set (false leaves it, and the mapping is skipped).")]
    public bool Overwrite { get; init; }

    public override IEnumerable<ConfigError> Validate()
    {
        if (Dialects.Count == 0) yield return new("dialects", "name at least one dialect, or leave the processor out");
    }
}
