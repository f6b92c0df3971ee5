using OtelAi.Engine.Config;

namespace OtelAi.Exporters.DebugOutput;

[ConfigDescription("Prints telemetry for debugging: a summary per batch, one line per item, or a full dump.")]
public sealed record DebugExporterConfig : ComponentConfig
{
    [ConfigDescription("`basic`: one line per batch with counts. `normal`: also one line per span, data point or log record. `detailed`: also a full dump of every field.")]
    public DebugVerbosity Verbosity { get; init; } = DebugVerbosity.Basic;

    [ConfigDescription("Outputs logged in full during each second before sampling starts (internal logger only).")]
    [ConfigRange(0, int.MaxValue)]
    public int SamplingInitial { get; init; } = 2;

    [ConfigDescription("After the initial outputs of a second, log every Nth one (1 logs all).")]
    [ConfigRange(1, int.MaxValue)]
    public int SamplingThereafter { get; init; } = 1;

    [ConfigDescription("Write through the collector's own logger (stderr); when false, write straight to stdout without sampling.")]
    public bool UseInternalLogger { get; init; } = true;

    public override IEnumerable<ConfigError> Validate()
    {
        if (SamplingInitial < 0) yield return new ConfigError("sampling_initial", "must not be negative");
        if (SamplingThereafter < 1) yield return new ConfigError("sampling_thereafter", "must be at least 1");
    }
}

public enum DebugVerbosity
{
    [ConfigKey("basic")] Basic,
    [ConfigKey("normal")] Normal,
    [ConfigKey("detailed")] Detailed,
}
