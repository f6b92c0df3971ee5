using OtelAi.Engine.Service;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Processors.Ottl;

/// <summary>
/// OTTL as the language of the live page's tap filters: a condition on a span, a metric data point (which reaches
/// its metric) or a log record, with paths written as in the filter processor (<c>attributes["http.route"]</c>,
/// <c>resource.attributes["service.name"]</c>, <c>metric.name</c>). An item whose evaluation fails does not match.
/// </summary>
internal sealed class OttlTapConditions : ITapConditionCompiler
{
    public TapItemMatcher Compile(string condition, Signal signal)
    {
        var kind = signal switch
        {
            Signal.Traces => OttlContextKind.Span,
            Signal.Metrics => OttlContextKind.DataPoint,
            _ => OttlContextKind.Log,
        };
        OttlCondition compiled;
        try
        {
            compiled = OttlLanguage.CompileCondition(condition, kind);
        }
        catch (OttlCompileException ex)
        {
            throw new FormatException(ex.Message, ex);
        }
        // One context per matcher: a tap calls its matcher from one thread at a time.
        var context = new OttlContext();
        return (resource, scope, metric, item) =>
        {
            context.Resource = resource;
            context.Scope = scope;
            switch (item)
            {
                case Span span: context.Span = span; break;
                case LogRecord log: context.Log = log; break;
                default:
                    context.Metric = metric!;
                    context.DataPoint = item;
                    break;
            }
            try
            {
                return compiled.Evaluate(context);
            }
            catch (OttlRuntimeException)
            {
                return false;
            }
        };
    }
}
