using OtelAi.Engine.Config;

namespace OtelAi.Receivers.Ebpf;

/// <summary>
/// Config of the <c>ebpf</c> receiver. The stream comes from exactly one source: <c>program</c> (our bundled probe,
/// loaded and attached at start), <c>pinned_map</c> (a perf event array or ring buffer pinned by another agent) or
/// <c>replay</c> (a file written by <c>otelai ebpf record</c>). Records are decoded by the bundled program's built-in
/// layout (<c>program</c> set) or by <c>event_layout</c>.
/// </summary>
public sealed record EbpfReceiverConfig : ComponentConfig
{
    public const string HttpRequestsProgram = "http_requests";

    [ConfigDescription("Bundled BPF program to load and attach: http_requests. With replay, only selects the built-in event layout.")]
    public string? Program { get; init; }

    [ConfigDescription("Path of a pinned BPF_MAP_TYPE_PERF_EVENT_ARRAY or BPF_MAP_TYPE_RINGBUF under /sys/fs/bpf; the map type is detected.")]
    public string? PinnedMap { get; init; }

    [ConfigDescription("File recorded by `otelai ebpf record` to read instead of the kernel (no privileges needed).")]
    public string? Replay { get; init; }

    [ConfigDescription("Process ids traced by the bundled program.")]
    public List<int> Pids { get; init; } = [];

    [ConfigDescription("Process names (/proc/<pid>/comm) traced by the bundled program; matching processes are rescanned every process_scan_interval.")]
    public List<string> Comm { get; init; } = [];

    [ConfigDescription("cgroup v2 directory whose processes the bundled program traces (e.g. /sys/fs/cgroup/system.slice/vllm.service).")]
    public string? Cgroup { get; init; }

    [ConfigDescription("How often comm names are resolved to new processes.")]
    public TimeSpan ProcessScanInterval { get; init; } = TimeSpan.FromSeconds(2);

    [ConfigDescription("Route templates (e.g. /v1/models/{model}/infer) matched against url.path to set http.route and the span name.")]
    public List<string> RouteTemplates { get; init; } = [];

    [ConfigDescription("Also emit the http.server.request.duration histogram (bundled program, metrics pipelines).")]
    public bool RequestDurationMetric { get; init; } = true;

    [ConfigDescription("Interval at which the http.server.request.duration histogram is exported (cumulative).")]
    public TimeSpan MetricsInterval { get; init; } = TimeSpan.FromSeconds(10);

    [ConfigDescription("Data pages per CPU for perf event arrays (a power of two).")]
    [ConfigRange(1, 65536)]
    public int PerfBufferPages { get; init; } = 64;

    // Not libbpf's one wakeup per record: that wakeup is paid by the traced process (measured: its event rate fell
    // from 250k/s to 84k/s), while records below the watermark still leave within poll_interval.
    [ConfigDescription("Perf buffer wakeup after this many bytes are waiting in a CPU's ring (0: after every record, which costs the traced process a wakeup per event); capped at half a CPU's ring.")]
    [ConfigRange(0, 1 << 30)]
    public int WakeupWatermark { get; init; } = 16 * 1024;

    [ConfigDescription("Longest wait for kernel readiness before the rings are drained anyway; also the longest a record waits in a partial batch.")]
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    [ConfigDescription("Most records sent to the pipeline in one request.")]
    [ConfigRange(1, 1 << 20)]
    public int MaxBatchSize { get; init; } = 1024;

    [ConfigDescription("Processes whose /proc details are cached for enrichment.")]
    [ConfigRange(1, 1 << 20)]
    public int ProcessCacheSize { get; init; } = 1024;

    [ConfigDescription("Layout of the records of a pinned map or recording, and what each field becomes.")]
    public EventLayoutConfig? EventLayout { get; init; }

    public override IEnumerable<ConfigError> Validate()
    {
        var live = (PinnedMap is null ? 0 : 1) + (Replay is null ? 0 : 1);
        if (live > 1) yield return new ConfigError("", "set only one of pinned_map and replay");
        if (Program is not null && Program != HttpRequestsProgram)
            yield return new ConfigError("program", $"unknown bundled program \"{Program}\" (available: {HttpRequestsProgram})");
        if (Program is null && PinnedMap is null && Replay is null)
            yield return new ConfigError("", "set a source: program, pinned_map or replay");
        if (Program is not null && PinnedMap is not null)
            yield return new ConfigError("pinned_map", "program and pinned_map are exclusive: the bundled program creates its own map");
        if (Program is not null && EventLayout is not null)
            yield return new ConfigError("event_layout", $"the {HttpRequestsProgram} program has a built-in layout; remove event_layout");
        if (Program is null && EventLayout is null && (PinnedMap is not null || Replay is not null))
            yield return new ConfigError("event_layout", "pinned_map and replay need an event_layout (or program: http_requests for its layout)");
        if (Program is not null && Replay is null && Pids.Count == 0 && Comm.Count == 0 && Cgroup is null)
            yield return new ConfigError("", "select the processes to trace: pids, comm or cgroup");
        if ((PerfBufferPages & (PerfBufferPages - 1)) != 0)
            yield return new ConfigError("perf_buffer_pages", $"must be a power of two, got {PerfBufferPages}");
        if (PollInterval <= TimeSpan.Zero) yield return new ConfigError("poll_interval", "must be positive");
        if (MetricsInterval <= TimeSpan.Zero) yield return new ConfigError("metrics_interval", "must be positive");
        for (var i = 0; i < RouteTemplates.Count; i++)
            if (!RouteTemplates[i].StartsWith('/'))
                yield return new ConfigError($"route_templates[{i}]", "a route template starts with '/'");
    }
}

/// <summary>What decoded records become.</summary>
public enum EventSignal
{
    [ConfigKey("traces")] Traces,
    [ConfigKey("metrics")] Metrics,
    [ConfigKey("logs")] Logs,
}

/// <summary>A user-described event struct (little-endian, C alignment) and its mapping to telemetry.</summary>
public sealed record EventLayoutConfig : ComponentConfig
{
    [ConfigDescription("Fields in struct order. Types: u8, u16, u32, u64, s8, s16, s32, s64, char[N], bytes[N].")]
    public List<EventFieldConfig> Fields { get; init; } = [];

    [ConfigDescription("Record size in bytes (sizeof the struct); when set, every field must fit inside it.")]
    public int? Size { get; init; }

    [ConfigDescription("What a record becomes: traces (one span), metrics (one gauge point) or logs (one record).")]
    public EventSignal Signal { get; init; } = EventSignal.Traces;

    [ConfigDescription("Span name, metric name or log event name when no field maps to `name`.")]
    public string Name { get; init; } = "ebpf.event";

    public override IEnumerable<ConfigError> Validate()
    {
        EventLayout? layout = null;
        string? error = null;
        try
        {
            layout = EventLayout.From(this);
        }
        catch (EventLayoutException e)
        {
            error = e.Message;
        }
        if (error is not null)
        {
            yield return new ConfigError("fields", error);
            yield break;
        }
        if (Size is { } size && layout!.MinimumRecordSize > size)
            yield return new ConfigError("size", $"fields need {layout.MinimumRecordSize} bytes but the record size is {size}");
        foreach (var field in layout!.Fields)
            if (field.Target is { } target && !EventLayout.TargetAllowed(target, Signal))
                yield return new ConfigError($"fields.{field.Name}.map_to", $"\"{target}\" is not a {Signal.ToString().ToLowerInvariant()} target ({EventLayout.TargetsText(Signal)})");
    }
}

public sealed record EventFieldConfig
{
    public string Name { get; init; } = "";

    [ConfigDescription("u8|u16|u32|u64|s8|s16|s32|s64|char[N]|bytes[N]")]
    public string Type { get; init; } = "";

    [ConfigDescription("Byte offset; default: after the previous field, aligned to the field's natural alignment.")]
    public int? Offset { get; init; }

    [ConfigDescription("start_time, end_time, time (CLOCK_MONOTONIC ns), duration (ns), name, value, body, severity_number, pid, attributes.<key>, resource.<key>; unmapped fields are ignored.")]
    public string? MapTo { get; init; }
}
