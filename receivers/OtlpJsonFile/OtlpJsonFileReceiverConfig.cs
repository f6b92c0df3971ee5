using OtelAi.Engine.Components;
using OtelAi.Engine.Config;

namespace OtelAi.Receivers.OtlpJsonFile;

[ConfigDescription("Reads OTLP/JSON files, one export request ({\"resourceSpans\":...}, {\"resourceMetrics\":...} or {\"resourceLogs\":...}) per line, and follows them as lines are appended.")]
public sealed record OtlpJsonFileReceiverConfig : ComponentConfig
{
    [ConfigDescription("Glob patterns of the files to read (required). * and ? match within a path segment, ** across directories, [abc] and {a,b} as usual. Relative patterns are resolved against the working directory.")]
    public List<string> Include { get; init; } = [];

    [ConfigDescription("Glob patterns of files to leave out, matched against the full path.")]
    public List<string> Exclude { get; init; } = [];

    [ConfigDescription("Where to start in files that exist when the receiver starts: `end` reads only lines appended afterwards, `beginning` reads them whole. Files that appear later are always read from the beginning.")]
    public OtlpJsonFileStartAt StartAt { get; init; } = OtlpJsonFileStartAt.End;

    [ConfigDescription("How often to look for new files and appended lines.")]
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromMilliseconds(200);

    [ConfigDescription("How long a last line without a newline must stay unchanged before it is read anyway (files written without a trailing newline).")]
    public TimeSpan ForceFlushPeriod { get; init; } = TimeSpan.FromMilliseconds(500);

    [ConfigDescription("Id of a storage extension (e.g. file_storage) in which read offsets are kept, so a restart resumes where reading stopped instead of applying start_at again.")]
    public ComponentId? Storage { get; init; }

    [ConfigDescription("Read a file again in its entirety each time it changes, instead of only the lines appended to it.")]
    public bool ReplayFile { get; init; }

    public override IEnumerable<ConfigError> Validate()
    {
        if (Include.Count == 0) yield return new ConfigError("include", "at least one glob pattern is required");
        foreach (var (pattern, i) in Include.Select((p, i) => (p, i)))
            if (string.IsNullOrWhiteSpace(pattern)) yield return new ConfigError($"include[{i}]", "pattern must not be empty");
        if (PollInterval <= TimeSpan.Zero) yield return new ConfigError("poll_interval", "must be greater than 0");
        if (ForceFlushPeriod < TimeSpan.Zero) yield return new ConfigError("force_flush_period", "must not be negative");
    }
}

public enum OtlpJsonFileStartAt
{
    [ConfigKey("beginning")] Beginning,
    [ConfigKey("end")] End,
}
