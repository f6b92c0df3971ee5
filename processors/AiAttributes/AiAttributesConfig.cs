using OtelAi.Engine.Config;
using OtelAi.Processors.Common;

namespace OtelAi.Processors.AiAttributes;

[ConfigDescription("Enriches inference spans with model_id, model_version, inference_time, gpu_mem_used and token counts, read from GenAI attributes, client headers, captured request bodies, inference URL paths and process command lines; in a metrics pipeline it records GPU memory gauges that trace pipelines with the same processor id join onto spans. See processors/AiAttributes/README.md.")]
public sealed record AiAttributesConfig : ComponentConfig
{
    [ConfigDescription("Replace a target attribute that the span already has (default: keep it and skip that field).")]
    public bool Overwrite { get; init; }

    [ConfigDescription("Fields also copied onto the span's resource when the resource lacks them: model_id, model_version, inference_time, gpu_mem_used, input_tokens, output_tokens. The first enriched span of a resource decides.")]
    public List<string> MirrorToResource { get; init; } = [];

    [ConfigDescription("Where the request_body source finds the captured request body (a JSON string attribute).")]
    public RequestBodyConfig RequestBody { get; init; } = new();

    [ConfigDescription("Where the path source looks for inference URLs and which URL patterns it knows.")]
    public PathConfig Path { get; init; } = new();

    [ConfigDescription("Resource attributes holding the process command line, read by the command_line source.")]
    public CommandLineConfig CommandLine { get; init; } = new();

    [ConfigDescription("The model id: sources tried in order, first value found wins.")]
    public ModelFieldConfig ModelId { get; init; } = new();

    [ConfigDescription("The model version, found like the model id.")]
    public ModelFieldConfig ModelVersion { get; init; } = new()
    {
        Target = "model_version",
        Attributes = [],
        Header = "x-model-version",
        BodyField = "",
        PathPlaceholder = "version",
        CommandLineFlags = ["--model-version", "--model_version"],
    };

    [ConfigDescription("Which spans are inference spans: they get inference_time and a joined gpu_mem_used.")]
    public InferenceSpanRule InferenceSpans { get; init; } = new();

    [ConfigDescription("Inference time in milliseconds (double).")]
    public InferenceTimeConfig InferenceTime { get; init; } = new();

    [ConfigDescription("GPU memory used in MiB (int).")]
    public GpuMemoryConfig GpuMemUsed { get; init; } = new();

    [ConfigDescription("Input token count copied (as int) from the first attribute present.")]
    public TokenCountConfig InputTokens { get; init; } = new();

    [ConfigDescription("Output token count copied (as int) from the first attribute present.")]
    public TokenCountConfig OutputTokens { get; init; } = new()
    {
        Target = "output_tokens",
        Attributes = ["gen_ai.usage.output_tokens", "gen_ai.usage.completion_tokens"],
    };

    public static readonly string[] SourceNames = ["attributes", "header", "request_body", "path", "command_line"];

    public static readonly string[] FieldNames = ["model_id", "model_version", "inference_time", "gpu_mem_used", "input_tokens", "output_tokens"];

    public override IEnumerable<ConfigError> Validate()
    {
        for (var i = 0; i < MirrorToResource.Count; i++)
            if (!FieldNames.Contains(MirrorToResource[i]))
                yield return new ConfigError($"mirror_to_resource[{i}]", $"unknown field \"{MirrorToResource[i]}\" ({string.Join(", ", FieldNames)})");
        for (var i = 0; i < Path.Patterns.Count; i++)
            if (PathPatterns.Check(Path.Patterns[i]) is { } why)
                yield return new ConfigError($"path.patterns[{i}]", why);
        if (InferenceSpans.Route.Length > 0 && !GoRegex.TryCompile(InferenceSpans.Route, out _, out var routeError))
            yield return new ConfigError("inference_spans.route", $"invalid regexp: {routeError}");
        for (var i = 0; i < InferenceSpans.SpanKinds.Count; i++)
            if (SpanKinds.Parse(InferenceSpans.SpanKinds[i]) is null)
                yield return new ConfigError($"inference_spans.span_kinds[{i}]", $"unknown span kind \"{InferenceSpans.SpanKinds[i]}\" (server, client, internal, producer, consumer)");
        if (LatencyUnits.ToMilliseconds(InferenceTime.LatencyUnit) is null)
            yield return new ConfigError("inference_time.latency_unit", $"unknown unit \"{InferenceTime.LatencyUnit}\" (ns, us, ms, s)");
        for (var i = 0; i < GpuMemUsed.Metrics.Count; i++)
        {
            var metric = GpuMemUsed.Metrics[i];
            if (metric.Name.Length == 0) yield return new ConfigError($"gpu_mem_used.metrics[{i}].name", "metric name is required");
            if (MemoryUnits.BytesPer(metric.Unit) is null)
                yield return new ConfigError($"gpu_mem_used.metrics[{i}].unit", $"unknown unit \"{metric.Unit}\" (By, KiBy, MiBy, GiBy)");
        }
        if (GpuMemUsed.MaxAge <= TimeSpan.Zero) yield return new ConfigError("gpu_mem_used.max_age", "max_age must be greater than zero");
    }
}

public sealed record RequestBodyConfig
{
    [ConfigDescription("Span attribute holding the request body as a JSON string.")]
    public string Attribute { get; init; } = "http.request.body";
}

public sealed record PathConfig
{
    [ConfigDescription("Span attributes holding the request path, tried in order.")]
    public List<string> Attributes { get; init; } = ["url.path", "http.target", "http.route"];

    [ConfigDescription("Also try the span name (e.g. \"POST /v2/models/resnet/infer\").")]
    public bool SpanName { get; init; } = true;

    [ConfigDescription("URL patterns: literal text with {model} and {version} placeholders (one path segment each); a trailing /... matches any rest of the path. Query strings are ignored.")]
    public List<string> Patterns { get; init; } =
    [
        "/v2/models/{model}/versions/{version}/...",
        "/v2/models/{model}/...",
        "/v1/models/{model}/versions/{version}:...",
        "/v1/models/{model}:...",
        "/v1/models/{model}/...",
    ];
}

public sealed record CommandLineConfig
{
    [ConfigDescription("Resource attributes with the command line: a string (process.command_line) or a list of arguments (process.command_args).")]
    public List<string> Attributes { get; init; } = ["process.command_line", "process.command_args"];
}

public sealed record ModelFieldConfig : IConfigSection
{
    [ConfigDescription("Attribute written on the span; empty turns this field off.")]
    public string Target { get; init; } = "model_id";

    [ConfigDescription("Sources tried in this order: attributes, header, request_body, path, command_line.")]
    public List<string> Sources { get; init; } = ["attributes", "header", "request_body", "path", "command_line"];

    [ConfigDescription("attributes source: span attributes tried in order.")]
    public List<string> Attributes { get; init; } = ["gen_ai.request.model", "gen_ai.response.model"];

    [ConfigDescription("header source: client metadata key (receiver include_metadata), or the captured span attribute http.request.header.<name>.")]
    public string Header { get; init; } = "x-model-id";

    [ConfigDescription("request_body source: JSON field of the body, dotted for nested objects (a.b), numeric segments index arrays; empty skips the source.")]
    public string BodyField { get; init; } = "model";

    [ConfigDescription("path source: the placeholder of path.patterns that holds this field.")]
    public string PathPlaceholder { get; init; } = "model";

    [ConfigDescription("command_line source: flags whose value is taken (--flag=value or --flag value).")]
    public List<string> CommandLineFlags { get; init; } = ["--model", "--model-id", "--model_id", "--model-name", "--model_name"];

    public IEnumerable<ConfigError> Validate()
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Sources.Count; i++)
        {
            if (!AiAttributesConfig.SourceNames.Contains(Sources[i]))
                yield return new ConfigError($"sources[{i}]", $"unknown source \"{Sources[i]}\" ({string.Join(", ", AiAttributesConfig.SourceNames)})");
            else if (!seen.Add(Sources[i]))
                yield return new ConfigError($"sources[{i}]", $"duplicate source \"{Sources[i]}\"");
        }
        if (PathPlaceholder is not ("model" or "version"))
            yield return new ConfigError("path_placeholder", "path_placeholder must be model or version");
    }
}

public sealed record InferenceSpanRule
{
    [ConfigDescription("Span kinds that count (server, client, internal, producer, consumer or SPAN_KIND_*); empty means any.")]
    public List<string> SpanKinds { get; init; } = ["server"];

    [ConfigDescription("Regular expression (RE2) one of the path attributes or the span name must match; empty means any.")]
    public string Route { get; init; } = "";

    [ConfigDescription("Only spans with a model id (found or already present) count.")]
    public bool RequireModelId { get; init; } = true;
}

public sealed record InferenceTimeConfig
{
    [ConfigDescription("Attribute written on the span; empty turns this field off.")]
    public string Target { get; init; } = "inference_time";

    [ConfigDescription("Attributes with a measured latency, tried before the span duration (any span, not only inference spans).")]
    public List<string> LatencyAttributes { get; init; } = [];

    [ConfigDescription("Unit of the latency attributes: ns, us, ms or s.")]
    public string LatencyUnit { get; init; } = "ms";
}

public sealed record GpuMemoryConfig
{
    [ConfigDescription("Attribute written on the span; empty turns this field off.")]
    public string Target { get; init; } = "gpu_mem_used";

    [ConfigDescription("Span attributes with GPU memory in MiB, tried first.")]
    public List<string> Attributes { get; init; } = [];

    [ConfigDescription("Client metadata key (or captured http.request.header.<name> attribute) with GPU memory in MiB; empty skips it.")]
    public string Header { get; init; } = "x-gpu-mem";

    [ConfigDescription("GPU memory gauges recorded in a metrics pipeline; unit applies when the metric has none (By, KiBy, MiBy, GiBy).")]
    public List<GpuMetricConfig> Metrics { get; init; } =
    [
        new() { Name = "DCGM_FI_DEV_FB_USED", Unit = "MiBy" },
        new() { Name = "gpu.memory.used", Unit = "By" },
    ];

    [ConfigDescription("Attributes identifying the same host/pod on spans and metrics (resource attributes first, then span or data point attributes); DCGM exporter's Hostname and pod labels count as host.name and k8s.pod.name.")]
    public List<string> JoinKeys { get; init; } = ["host.name", "k8s.pod.name"];

    [ConfigDescription("Attributes identifying one GPU; a span naming its GPU gets that GPU's reading, otherwise the sum over the host/pod's GPUs.")]
    public List<string> GpuKeys { get; init; } = ["gpu.uuid", "gpu.index", "gpu", "UUID"];

    [ConfigDescription("Readings older than this (since the metrics pipeline saw them) are not joined.")]
    public TimeSpan MaxAge { get; init; } = TimeSpan.FromSeconds(60);
}

public sealed record GpuMetricConfig
{
    public string Name { get; init; } = "";

    public string Unit { get; init; } = "MiBy";
}

public sealed record TokenCountConfig
{
    [ConfigDescription("Attribute written on the span; empty turns this field off.")]
    public string Target { get; init; } = "input_tokens";

    [ConfigDescription("Attributes tried in order.")]
    public List<string> Attributes { get; init; } = ["gen_ai.usage.input_tokens", "gen_ai.usage.prompt_tokens"];
}
