using Microsoft.Extensions.Logging;
using OtelAi.Engine.Config;
using OtelAi.Otlp;
using OtelAi.Processors.Ottl;

namespace OtelAi.Processors.Transform;

/// <summary>
/// otelcol's transform processor config. Each <c>*_statements</c> list holds plain statement strings (basic config:
/// the context is inferred from path prefixes such as <c>span.</c>) and/or groups
/// <c>{context, statements, conditions, error_mode}</c> (advanced config).
/// </summary>
[ConfigDescription("Modifies telemetry with OTTL statements.")]
public sealed record TransformConfig : ComponentConfig
{
    [ConfigDescription("What to do when a statement fails at run time: ignore (log, continue), silent (continue) or propagate (refuse the payload).")]
    public ErrorMode ErrorMode { get; init; } = ErrorMode.Ignore;

    [ConfigDescription("Statements for traces: strings, or groups with context (resource, scope, span, spanevent), statements, conditions, error_mode.")]
    public IReadOnlyList<ConfigValue> TraceStatements { get; init; } = [];

    [ConfigDescription("Statements for metrics: strings, or groups with context (resource, scope, metric, datapoint), statements, conditions, error_mode.")]
    public IReadOnlyList<ConfigValue> MetricStatements { get; init; } = [];

    [ConfigDescription("Statements for logs: strings, or groups with context (resource, scope, log), statements, conditions, error_mode.")]
    public IReadOnlyList<ConfigValue> LogStatements { get; init; } = [];

    public override IEnumerable<ConfigError> Validate()
    {
        var errors = new List<ConfigError>();
        foreach (var signal in Enum.GetValues<Signal>())
            Compile(signal, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance, errors);
        return errors;
    }

    public static string KeyOf(Signal signal) => signal switch
    {
        Signal.Traces => "trace_statements",
        Signal.Metrics => "metric_statements",
        _ => "log_statements",
    };

    private IReadOnlyList<ConfigValue> StatementsOf(Signal signal) => signal switch
    {
        Signal.Traces => TraceStatements,
        Signal.Metrics => MetricStatements,
        _ => LogStatements,
    };

    /// <summary>Compiles one signal's statements into groups, collecting every problem in <paramref name="errors"/>.</summary>
    internal List<OttlStatementGroup> Compile(Signal signal, ILogger logger, List<ConfigError> errors)
    {
        var key = KeyOf(signal);
        var items = StatementsOf(signal);
        var groups = new List<OttlStatementGroup>();
        for (var i = 0; i < items.Count; i++)
        {
            var path = $"{key}[{i}]";
            switch (items[i])
            {
                case ConfigValue.Scalar { Value: { } text }:
                    if (CompileGroup(signal, path, null, [text], [], ErrorMode, logger, errors, flat: true) is { } flat) groups.Add(flat);
                    break;
                case ConfigValue.Map map:
                    if (ReadGroup(map, path, errors) is { } spec
                        && CompileGroup(signal, path, spec.Context, spec.Statements, spec.Conditions, spec.ErrorMode ?? ErrorMode, logger, errors, flat: false) is { } group)
                        groups.Add(group);
                    break;
                default:
                    errors.Add(new ConfigError(path, "expected an OTTL statement string or a group with \"statements\""));
                    break;
            }
        }
        return groups;
    }

    private sealed record GroupSpec(string? Context, IReadOnlyList<string> Statements, IReadOnlyList<string> Conditions, ErrorMode? ErrorMode);

    private static GroupSpec? ReadGroup(ConfigValue.Map map, string path, List<ConfigError> errors)
    {
        string? context = null;
        ErrorMode? errorMode = null;
        IReadOnlyList<string> statements = [], conditions = [];
        var ok = true;
        foreach (var (name, value) in map.Entries)
        {
            switch (name)
            {
                case "context":
                    context = (value as ConfigValue.Scalar)?.Value;
                    break;
                case "error_mode":
                    var mode = (value as ConfigValue.Scalar)?.Value;
                    errorMode = mode switch
                    {
                        "ignore" => Ottl.ErrorMode.Ignore,
                        "silent" => Ottl.ErrorMode.Silent,
                        "propagate" => Ottl.ErrorMode.Propagate,
                        _ => null,
                    };
                    if (errorMode is null)
                    {
                        errors.Add(new ConfigError($"{path}.error_mode", $"invalid error_mode \"{mode}\": use ignore, silent or propagate"));
                        ok = false;
                    }
                    break;
                case "statements":
                case "conditions":
                    if (StringList(value) is { } list)
                    {
                        if (name == "statements") statements = list; else conditions = list;
                    }
                    else
                    {
                        errors.Add(new ConfigError($"{path}.{name}", "expected a list of strings"));
                        ok = false;
                    }
                    break;
                default:
                    errors.Add(new ConfigError($"{path}.{name}", $"unknown key \"{name}\" (valid: context, statements, conditions, error_mode)"));
                    ok = false;
                    break;
            }
        }
        if (ok && statements.Count == 0)
        {
            errors.Add(new ConfigError($"{path}.statements", "a statement group needs at least one statement"));
            ok = false;
        }
        return ok ? new GroupSpec(context, statements, conditions, errorMode) : null;
    }

    private static IReadOnlyList<string>? StringList(ConfigValue value) => value switch
    {
        ConfigValue.Sequence sequence when sequence.Items.All(i => i is ConfigValue.Scalar { Value: not null }) =>
            sequence.Items.Select(i => ((ConfigValue.Scalar)i).Value!).ToList(),
        ConfigValue.Scalar { Value: null } => [],
        _ => null,
    };

    private static OttlStatementGroup? CompileGroup(Signal signal, string path, string? contextName, IReadOnlyList<string> statements,
        IReadOnlyList<string> conditions, ErrorMode errorMode, ILogger logger, List<ConfigError> errors, bool flat)
    {
        var allowed = OttlLanguage.ContextsOf(signal);
        OttlContextKind context;
        var inferred = contextName is null;
        if (contextName is not null)
        {
            if (OttlContextNames.Parse(contextName) is not { } named || !allowed.Contains(named))
            {
                errors.Add(new ConfigError($"{path}.context",
                    $"invalid context \"{contextName}\" for {KeyOf(signal)} (valid: {string.Join(", ", allowed.Select(c => c.Name()))})"));
                return null;
            }
            context = named;
        }
        else
        {
            try
            {
                context = OttlLanguage.InferContext(signal, statements, conditions);
            }
            catch (OttlCompileException e)
            {
                errors.Add(new ConfigError(ItemPath(path, flat, statements, conditions, e.Text), e.Message));
                return null;
            }
        }

        var compiledStatements = new List<OttlStatement>();
        var compiledConditions = new List<OttlCondition>();
        var failed = false;
        for (var i = 0; i < statements.Count; i++)
        {
            try
            {
                compiledStatements.Add(OttlLanguage.CompileStatement(statements[i], context, inferred));
            }
            catch (OttlCompileException e)
            {
                errors.Add(new ConfigError(flat ? path : $"{path}.statements[{i}]", e.Message));
                failed = true;
            }
        }
        for (var i = 0; i < conditions.Count; i++)
        {
            try
            {
                compiledConditions.Add(OttlLanguage.CompileCondition(conditions[i], context, inferred));
            }
            catch (OttlCompileException e)
            {
                errors.Add(new ConfigError($"{path}.conditions[{i}]", e.Message));
                failed = true;
            }
        }
        return failed ? null : new OttlStatementGroup(context, compiledStatements, compiledConditions, errorMode, logger);
    }

    private static string ItemPath(string path, bool flat, IReadOnlyList<string> statements, IReadOnlyList<string> conditions, string text)
    {
        if (flat) return path;
        var index = IndexOf(statements, text);
        if (index >= 0) return $"{path}.statements[{index}]";
        index = IndexOf(conditions, text);
        return index >= 0 ? $"{path}.conditions[{index}]" : path;
    }

    private static int IndexOf(IReadOnlyList<string> list, string text)
    {
        for (var i = 0; i < list.Count; i++)
            if (list[i] == text) return i;
        return -1;
    }
}
