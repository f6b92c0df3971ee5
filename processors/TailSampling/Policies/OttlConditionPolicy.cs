using Microsoft.Extensions.Logging;
using OtelAi.Processors.Ottl;

namespace OtelAi.Processors.TailSampling.Policies;

/// <summary>ottl_condition: sampled when any span condition holds for a span, or any spanevent condition for an event.</summary>
internal sealed class OttlConditionPolicy(OttlCondition[] spanConditions, OttlCondition[] eventConditions, ErrorMode errorMode, ILogger logger) : IPolicyEvaluator
{
    private readonly OttlContext _context = new();

    public static OttlConditionPolicy Compile(PolicyConfig.OttlConditionConfig config, ILogger logger) => new(
        config.Span.Select(text => OttlLanguage.CompileCondition(text, OttlContextKind.Span)).ToArray(),
        config.Spanevent.Select(text => OttlLanguage.CompileCondition(text, OttlContextKind.SpanEvent)).ToArray(),
        config.ErrorMode, logger);

    public SamplingDecision Evaluate(ReadOnlySpan<byte> traceId, BufferedTrace trace, DateTimeOffset now)
    {
        foreach (var buffered in trace.Spans)
        {
            _context.Resource = buffered.Resource;
            _context.Scope = buffered.Scope;
            _context.Span = buffered.Span;
            if (Any(spanConditions)) return SamplingDecision.Sampled;
            if (eventConditions.Length == 0) continue;
            foreach (var spanEvent in buffered.Span.Events)
            {
                _context.SpanEvent = spanEvent;
                if (Any(eventConditions)) return SamplingDecision.Sampled;
            }
        }
        return SamplingDecision.NotSampled;
    }

    private bool Any(OttlCondition[] conditions)
    {
        foreach (var condition in conditions)
        {
            try
            {
                if (condition.Evaluate(_context)) return true;
            }
            catch (OttlRuntimeException e)
            {
                OttlLanguage.HandleError(errorMode, logger, "condition", condition.Text, e);
            }
        }
        return false;
    }
}
