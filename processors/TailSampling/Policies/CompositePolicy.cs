namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>
/// composite: sub-policies in policy_order, each with a share of max_total_spans_per_second (rate_allocation percent;
/// sub-policies without an allocation split what is left equally). The first sub-policy that samples the trace
/// decides, as in otelcol-contrib: within its share this second the trace is sampled, over it not (later
/// sub-policies are not asked).
/// </summary>
internal sealed class CompositePolicy : IPolicyEvaluator
{
    private readonly (IPolicyEvaluator Policy, long MaxSpansPerSecond)[] _subPolicies;
    private readonly long[] _spansThisSecond;
    private readonly long _maxTotal;
    private long _second = long.MinValue;
    private long _totalThisSecond;
    private readonly string[] _names;

    /// <summary>The sub-policy that sampled the last trace this policy sampled (for the recordpolicy gate).</summary>
    public string? LastSampledBy { get; private set; }

    public CompositePolicy(long maxTotalSpansPerSecond, IReadOnlyList<(string Name, IPolicyEvaluator Policy)> ordered, IReadOnlyDictionary<string, long> percentByName)
    {
        _maxTotal = maxTotalSpansPerSecond;
        var unallocated = ordered.Count(p => !percentByName.ContainsKey(p.Name));
        var leftPercent = Math.Max(0, 100 - percentByName.Values.Sum());
        _subPolicies = ordered.Select(p => (p.Policy, maxTotalSpansPerSecond * (percentByName.TryGetValue(p.Name, out var percent)
            ? percent
            : unallocated == 0 ? 0 : leftPercent / unallocated) / 100)).ToArray();
        _spansThisSecond = new long[_subPolicies.Length];
        _names = ordered.Select(p => p.Name).ToArray();
    }

    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now)
    {
        var second = now.ToUnixTimeSeconds();
        if (second != _second)
        {
            _second = second;
            _totalThisSecond = 0;
            Array.Clear(_spansThisSecond);
        }
        var spans = trace.Spans.Count;
        for (var i = 0; i < _subPolicies.Length; i++)
        {
            var (policy, max) = _subPolicies[i];
            if (policy.Evaluate(traceId, trace, now) is not (SamplingDecision.Sampled or SamplingDecision.InvertSampled)) continue;
            if (_spansThisSecond[i] + spans > max || _totalThisSecond + spans > _maxTotal) return SamplingDecision.NotSampled;
            _spansThisSecond[i] += spans;
            _totalThisSecond += spans;
            LastSampledBy = _names[i];
            return SamplingDecision.Sampled;
        }
        return SamplingDecision.NotSampled;
    }
}
