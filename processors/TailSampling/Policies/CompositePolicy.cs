namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>
/// composite: sub-policies in policy_order, each with a share of max_total_spans_per_second (rate_allocation percent;
/// sub-policies without an allocation split what is left equally). The first sub-policy that samples the trace and
/// has room in its share this second samples it.
/// </summary>
internal sealed class CompositePolicy : IPolicyEvaluator
{
    private readonly (IPolicyEvaluator Policy, long MaxSpansPerSecond)[] _subPolicies;
    private readonly long[] _spansThisSecond;
    private readonly long _maxTotal;
    private long _second = long.MinValue;
    private long _totalThisSecond;

    public CompositePolicy(long maxTotalSpansPerSecond, IReadOnlyList<(string Name, IPolicyEvaluator Policy)> ordered, IReadOnlyDictionary<string, long> percentByName)
    {
        _maxTotal = maxTotalSpansPerSecond;
        var unallocated = ordered.Count(p => !percentByName.ContainsKey(p.Name));
        var leftPercent = Math.Max(0, 100 - percentByName.Values.Sum());
        _subPolicies = ordered.Select(p => (p.Policy, maxTotalSpansPerSecond * (percentByName.TryGetValue(p.Name, out var percent)
            ? percent
            : unallocated == 0 ? 0 : leftPercent / unallocated) / 100)).ToArray();
        _spansThisSecond = new long[_subPolicies.Length];
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
            if (_spansThisSecond[i] + spans > max || _totalThisSecond + spans > _maxTotal) continue;
            _spansThisSecond[i] += spans;
            _totalThisSecond += spans;
            return SamplingDecision.Sampled;
        }
        return SamplingDecision.NotSampled;
    }
}
