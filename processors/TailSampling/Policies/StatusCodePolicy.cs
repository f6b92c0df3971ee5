using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Processors.TailSampling.Policies;

internal sealed class StatusCodePolicy(IEnumerable<string> codes) : IPolicyEvaluator
{
    private readonly HashSet<Status.Types.StatusCode> _codes = codes.Select(code => code switch
    {
        "OK" => Status.Types.StatusCode.Ok,
        "ERROR" => Status.Types.StatusCode.Error,
        _ => Status.Types.StatusCode.Unset,
    }).ToHashSet();

    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now)
    {
        foreach (var buffered in trace.Spans)
            if (_codes.Contains(buffered.Span.Status?.Code ?? Status.Types.StatusCode.Unset)) return SamplingDecision.Sampled;
        return SamplingDecision.NotSampled;
    }
}
