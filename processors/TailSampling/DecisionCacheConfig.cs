using OtelAi.Engine.Config;

namespace OtelAi.Processors.TailSampling;

/// <summary>tail_sampling's <c>decision_cache</c> block.</summary>
public sealed record DecisionCacheConfig
{
    [ConfigDescription("Sampled trace ids remembered after their decision (0: none beyond num_traces).")]
    [ConfigRange(0)]
    public int SampledCacheSize { get; init; }

    [ConfigDescription("Not-sampled trace ids remembered after their decision (0: none beyond num_traces).")]
    [ConfigRange(0)]
    public int NonSampledCacheSize { get; init; }
}
