using OtelAi.Engine.Config;

namespace OtelAi.Processors.TailSampling;

[ConfigDescription("Buffers the spans of each trace and keeps or drops the whole trace by policies evaluated after decision_wait.")]
public sealed record TailSamplingConfig : ComponentConfig
{
    [ConfigDescription("Wait from a trace's first span until its decision.")]
    public TimeSpan DecisionWait { get; init; } = TimeSpan.FromSeconds(30);

    [ConfigDescription("When set, a trace whose root span arrived is decided this long after it, if that is earlier than decision_wait.")]
    public TimeSpan DecisionWaitAfterRootReceived { get; init; }

    [ConfigDescription("Traces held in memory; a new trace beyond it evicts the oldest, which is decided early on the spans it has.")]
    [ConfigRange(1)]
    public long NumTraces { get; init; } = 50_000;

    [ConfigDescription("Expected new traces per second; sizes the buffer up front.")]
    [ConfigRange(0)]
    public long ExpectedNewTracesPerSec { get; init; }

    [ConfigDescription("Caches of decided trace ids: late spans of a decided trace get its decision.")]
    public DecisionCacheConfig DecisionCache { get; init; } = new();

    [ConfigDescription("Stop evaluating policies at the first that samples.")]
    public bool SampleOnFirstMatch { get; init; }

    [ConfigDescription("At shutdown, drop traces still waiting for their decision instead of deciding them early.")]
    public bool DropPendingTracesOnShutdown { get; init; }

    [ConfigDescription("A trace growing beyond this many bytes (protobuf size of its spans) is dropped before its decision; 0 disables.")]
    [ConfigRange(0)]
    public long MaximumTraceSizeBytes { get; init; }

    [ConfigDescription("otelai: bytes (protobuf size) of undecided spans held; beyond it the oldest traces are decided early on what they have. 0: no limit.")]
    [ConfigRange(0)]
    public long MaxBufferedBytes { get; init; }

    [ConfigDescription("otelai: mark every span of a kept trace with otelai.sampling.rule (the first policy that sampled it) and otelai.sampling.trigger (decision_wait, root_received, num_traces, max_buffered_bytes, shutdown).")]
    public bool Explain { get; init; }

    [ConfigDescription("When num_traces is reached, wait for room (backpressure) instead of evicting the oldest trace.")]
    public bool BlockOnOverflow { get; init; }

    [ConfigDescription("Accepted for otelcol compatibility; the buffer is one map.")]
    [ConfigRange(0)]
    public int NumShards { get; init; }

    [ConfigDescription("trace-complete (decide on the whole trace) or span-ingest (accepted; decided as trace-complete).")]
    public string SamplingStrategy { get; init; } = "trace-complete";

    [ConfigDescription("Sampling policies; see the policy types in the README.")]
    public List<PolicyConfig> Policies { get; init; } = [];

    public override IEnumerable<ConfigError> Validate()
    {
        if (DecisionWait <= TimeSpan.Zero) yield return new("decision_wait", "must be greater than zero");
        if (DecisionWaitAfterRootReceived < TimeSpan.Zero) yield return new("decision_wait_after_root_received", "must not be negative");
        if (SamplingStrategy is not ("trace-complete" or "span-ingest"))
            yield return new("sampling_strategy", $"unknown sampling strategy \"{SamplingStrategy}\" (trace-complete or span-ingest)");
        if (Policies.Count == 0) yield return new("policies", "no policies configured");
        foreach (var duplicate in Policies.GroupBy(p => p.Name).Where(g => g.Key.Length > 0 && g.Count() > 1))
            yield return new("policies", $"duplicate policy name \"{duplicate.Key}\"");
    }
}
