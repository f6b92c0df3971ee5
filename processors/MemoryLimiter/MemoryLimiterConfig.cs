using OtelAi.Engine.Config;

namespace OtelAi.Processors.MemoryLimiter;

[ConfigDescription("Refuses data while the process uses too much memory and forces garbage collections to recover (otelcol's memory_limiter). Put it first in each pipeline.")]
public sealed record MemoryLimiterConfig : ComponentConfig
{
    [ConfigDescription("Time between memory measurements; must be greater than zero (1s is usual).")]
    public TimeSpan CheckInterval { get; init; }

    [ConfigDescription("Hard limit in MiB of the memory measured (the managed heap). Takes precedence over limit_percentage.")]
    [ConfigRange(0, int.MaxValue)]
    public int LimitMib { get; init; }

    [ConfigDescription("Expected growth in MiB between two measurements; the soft limit is limit_mib - spike_limit_mib. Default 20% of limit_mib.")]
    [ConfigRange(0, int.MaxValue)]
    public int SpikeLimitMib { get; init; }

    [ConfigDescription("Hard limit as a percentage of total memory (the cgroup limit when there is one, else physical memory).")]
    [ConfigRange(0, 100)]
    public int LimitPercentage { get; init; }

    [ConfigDescription("Spike as a percentage of total memory; default 20% of the limit.")]
    [ConfigRange(0, 100)]
    public int SpikeLimitPercentage { get; init; }

    [ConfigDescription("Minimum time between forced collections while above the soft limit only; 0 means no minimum.")]
    public TimeSpan MinGcIntervalWhenSoftLimited { get; init; } = TimeSpan.FromSeconds(10);

    [ConfigDescription("Minimum time between forced collections while above the hard limit; 0 means no minimum.")]
    public TimeSpan MinGcIntervalWhenHardLimited { get; init; }

    public override IEnumerable<ConfigError> Validate()
    {
        if (CheckInterval <= TimeSpan.Zero)
            yield return new ConfigError("check_interval", "'check_interval' must be greater than zero");
        if (MinGcIntervalWhenSoftLimited < MinGcIntervalWhenHardLimited)
            yield return new ConfigError("min_gc_interval_when_soft_limited",
                "'min_gc_interval_when_soft_limited' should be larger than 'min_gc_interval_when_hard_limited'");
        if (LimitMib == 0 && LimitPercentage == 0)
            yield return new ConfigError("limit_mib", "'limit_mib' or 'limit_percentage' must be greater than zero");
        if (LimitPercentage > 100 || SpikeLimitPercentage > 100)
            yield return new ConfigError("limit_percentage",
                "'limit_percentage' and 'spike_limit_percentage' must be greater than zero and less than or equal to hundred");
        if (LimitMib > 0 && LimitMib <= SpikeLimitMib)
            yield return new ConfigError("spike_limit_mib", "'spike_limit_mib' must be smaller than 'limit_mib'");
        if (LimitPercentage > 0 && LimitPercentage <= SpikeLimitPercentage)
            yield return new ConfigError("spike_limit_percentage", "'spike_limit_percentage' must be smaller than 'limit_percentage'");
    }
}
