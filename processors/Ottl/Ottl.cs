using Microsoft.Extensions.Logging;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;

namespace OtelAi.Processors.Ottl;

/// <summary>A compiled statement: <c>editor(...) where condition</c>, ready to run on any number of items.</summary>
public sealed class OttlStatement
{
    private readonly OttlPredicate? _condition;
    private readonly OttlAction _editor;

    internal OttlStatement(string text, OttlContextKind context, OttlPredicate? condition, OttlAction editor)
    {
        Text = text;
        Context = context;
        _condition = condition;
        _editor = editor;
    }

    public string Text { get; }

    public OttlContextKind Context { get; }

    /// <summary>Runs the statement on the item in <paramref name="context"/>; returns whether the condition matched.</summary>
    public bool Execute(OttlContext context)
    {
        if (_condition is not null && !_condition(context)) return false;
        _editor(context);
        return true;
    }
}

/// <summary>A compiled boolean condition (filter processor conditions, transform group conditions).</summary>
public sealed class OttlCondition
{
    private readonly OttlPredicate _predicate;

    internal OttlCondition(string text, OttlContextKind context, OttlPredicate predicate)
    {
        Text = text;
        Context = context;
        _predicate = predicate;
    }

    public string Text { get; }

    public OttlContextKind Context { get; }

    public bool Evaluate(OttlContext context) => _predicate(context);
}

/// <summary>Entry points: compile statements and conditions, infer contexts, apply error_mode.</summary>
public static class OttlLanguage
{
    /// <summary>Compiles a statement; throws <see cref="OttlCompileException"/> with the column of the problem.</summary>
    public static OttlStatement CompileStatement(string text, OttlContextKind context, bool requireContextPrefix = false)
    {
        var node = Parser.ParseStatement(text);
        var compiler = new Compiler(text, context, requireContextPrefix);
        var editor = compiler.CompileEditor(node.Editor);
        var condition = node.Condition is null ? null : compiler.CompileCondition(node.Condition);
        return new OttlStatement(text, context, condition, editor);
    }

    public static OttlCondition CompileCondition(string text, OttlContextKind context, bool requireContextPrefix = false)
    {
        var node = Parser.ParseCondition(text);
        return new OttlCondition(text, context, new Compiler(text, context, requireContextPrefix).CompileCondition(node));
    }

    /// <summary>The contexts whose paths may appear in a signal's statements, lowest (most specific) last.</summary>
    public static IReadOnlyList<OttlContextKind> ContextsOf(Signal signal) => signal switch
    {
        Signal.Traces => [OttlContextKind.Resource, OttlContextKind.Scope, OttlContextKind.Span, OttlContextKind.SpanEvent],
        Signal.Metrics => [OttlContextKind.Resource, OttlContextKind.Scope, OttlContextKind.Metric, OttlContextKind.DataPoint],
        _ => [OttlContextKind.Resource, OttlContextKind.Scope, OttlContextKind.Log],
    };

    /// <summary>
    /// otelcol's context inference: every path must start with a context name (<c>span.name</c>,
    /// <c>resource.attributes</c>); the statements run in the most specific context named. Statements without paths
    /// run in the signal's item context (<see cref="ItemContextOf"/>).
    /// </summary>
    public static OttlContextKind InferContext(Signal signal, IEnumerable<string> statements, IEnumerable<string> conditions)
    {
        var allowed = ContextsOf(signal);
        var lowest = -1;
        void Visit(string text, Node root)
        {
            foreach (var path in Syntax.Paths(root))
            {
                var named = Paths.IsContextPrefix(path.Names[0]) ? OttlContextNames.Parse(path.Names[0]) : null;
                if (named is null)
                    throw new OttlCompileException(text, path.Pos,
                        $"missing context name for path \"{path.Dotted}\" (write e.g. {ItemContextOf(signal).Name()}.{path.Dotted}, or set the group's context)");
                var index = IndexOf(allowed, named.Value);
                if (index < 0)
                    throw new OttlCompileException(text, path.Pos,
                        $"context \"{path.Names[0]}\" is not allowed in {signal.ToConfigName()} statements (allowed: {string.Join(", ", allowed.Select(c => c.Name()))})");
                lowest = Math.Max(lowest, index);
            }
        }
        foreach (var text in statements)
        {
            var node = Parser.ParseStatement(text);
            Visit(text, node.Editor);
            if (node.Condition is not null) Visit(text, node.Condition);
        }
        foreach (var text in conditions) Visit(text, Parser.ParseCondition(text));
        // A child context can reach its parents, so the most specific one named runs everything.
        return lowest < 0 ? ItemContextOf(signal) : allowed[lowest];
    }

    /// <summary>The context of a signal's items: span, metric or log.</summary>
    public static OttlContextKind ItemContextOf(Signal signal) => signal switch
    {
        Signal.Traces => OttlContextKind.Span,
        Signal.Metrics => OttlContextKind.Metric,
        _ => OttlContextKind.Log,
    };

    private static int IndexOf(IReadOnlyList<OttlContextKind> list, OttlContextKind kind)
    {
        for (var i = 0; i < list.Count; i++)
            if (list[i] == kind) return i;
        return -1;
    }

    /// <summary>
    /// Applies error_mode to a run-time failure: propagate refuses the payload (400 / INVALID_ARGUMENT at the
    /// receiver), ignore logs and continues, silent continues.
    /// </summary>
    public static void HandleError(ErrorMode mode, ILogger logger, string what, string text, OttlRuntimeException error)
    {
        switch (mode)
        {
            case ErrorMode.Propagate:
                throw new PermanentDataException($"failed to execute {what} \"{text}\": {error.Message}", error);
            case ErrorMode.Ignore:
                logger.LogWarning("failed to execute {What} \"{Text}\": {Error}; continuing (error_mode ignore)", what, text, error.Message);
                break;
        }
    }
}

internal static class Syntax
{
    /// <summary>Every path in a tree, in source order.</summary>
    public static IEnumerable<PathNode> Paths(Node node)
    {
        switch (node)
        {
            case PathNode path:
                yield return path;
                foreach (var key in path.Keys)
                    foreach (var inner in Paths(key.Key)) yield return inner;
                break;
            case CallNode call:
                foreach (var arg in call.Args)
                    foreach (var inner in Paths(arg.Value)) yield return inner;
                foreach (var key in call.Keys)
                    foreach (var inner in Paths(key.Key)) yield return inner;
                break;
            case ListNode list:
                foreach (var item in list.Items)
                    foreach (var inner in Paths(item)) yield return inner;
                break;
            case MapNode map:
                foreach (var (_, value) in map.Entries)
                    foreach (var inner in Paths(value)) yield return inner;
                break;
            case MathNode math:
                foreach (var inner in Paths(math.Left)) yield return inner;
                foreach (var inner in Paths(math.Right)) yield return inner;
                break;
            case CompareNode compare:
                foreach (var inner in Paths(compare.Left)) yield return inner;
                foreach (var inner in Paths(compare.Right)) yield return inner;
                break;
            case AndNode and:
                foreach (var inner in Paths(and.Left)) yield return inner;
                foreach (var inner in Paths(and.Right)) yield return inner;
                break;
            case OrNode or:
                foreach (var inner in Paths(or.Left)) yield return inner;
                foreach (var inner in Paths(or.Right)) yield return inner;
                break;
            case NotNode not:
                foreach (var inner in Paths(not.Operand)) yield return inner;
                break;
        }
    }
}
