namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>A token bucket of bytes: refilled at bytes_per_second up to burst_capacity; a trace passes when its bytes are in the bucket.</summary>
internal sealed class BytesLimitingPolicy(long bytesPerSecond, long burstCapacity) : IPolicyEvaluator
{
    private readonly double _capacity = burstCapacity > 0 ? burstCapacity : 2.0 * bytesPerSecond;
    private double _tokens = burstCapacity > 0 ? burstCapacity : 2.0 * bytesPerSecond;
    private DateTimeOffset? _last;

    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now)
    {
        if (_last is { } last) _tokens = Math.Min(_capacity, _tokens + (now - last).TotalSeconds * bytesPerSecond);
        _last = now;
        if (trace.Bytes > _tokens) return SamplingDecision.NotSampled;
        _tokens -= trace.Bytes;
        return SamplingDecision.Sampled;
    }
}
