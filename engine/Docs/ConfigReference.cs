using System.Collections;
using System.Globalization;
using System.Text;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;

namespace OtelAi.Engine.Docs;

/// <summary>
/// The README's per-component config reference, generated from the config records through the same type model
/// the binder and the JSON schema use: keys, types, defaults and descriptions cannot drift from the code.
/// </summary>
public static class ConfigReference
{
    private const int MaxDepth = 6;

    public static string GenerateMarkdown(ComponentRegistry registry)
    {
        var text = new StringBuilder();
        foreach (var kind in Enum.GetValues<ComponentKind>())
        {
            var factories = registry.Factories(kind).ToList();
            if (factories.Count == 0) continue;
            text.Append("### ").Append(Plural(kind)).Append("\n\n");
            foreach (var factory in factories) AppendComponent(text, registry, factory);
        }
        AppendSelfMetrics(text, registry);
        return text.ToString();
    }

    /// <summary>Every self-metric once, with the component types that emit it (the process metrics come from the service).</summary>
    private static void AppendSelfMetrics(StringBuilder text, ComponentRegistry registry)
    {
        var emitters = Enum.GetValues<ComponentKind>().SelectMany(registry.Factories)
            .SelectMany(factory => factory.SelfMetrics.Select(metric => (metric, Emitter: $"`{factory.Type}`")))
            .Concat(ProcessMetrics.Declared.Select(metric => (metric, Emitter: "the service")))
            .GroupBy(e => e.metric.Name, StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal);
        text.Append("### Self-metrics\n\n")
            .Append("Served on `service.telemetry.metrics` (Prometheus text; counters get `_total`).\n\n")
            .Append("| metric | kind | labels | description | emitted by |\n|---|---|---|---|---|\n");
        foreach (var group in emitters)
        {
            var metric = group.First().metric;
            text.Append("| `").Append(metric.Name).Append("` | ").Append(metric.Kind.ToString().ToLowerInvariant()).Append(" | ")
                .AppendJoin(", ", metric.Labels.Select(l => $"`{l}`")).Append(" | ").Append(metric.Description.Replace("|", "\\|")).Append(" | ")
                .AppendJoin(", ", group.Select(e => e.Emitter).Distinct()).Append(" |\n");
        }
        text.Append('\n');
    }

    private static void AppendComponent(StringBuilder text, ComponentRegistry registry, IComponentFactory factory)
    {
        text.Append("#### `").Append(factory.Type).Append("`\n\n");
        var aliases = registry.AliasesOf(factory).Order(StringComparer.Ordinal).ToList();
        if (aliases.Count > 0) text.Append("Also accepted as ").AppendJoin(", ", aliases.Select(a => $"`{a}`")).Append(". ");
        text.Append("Stability: ").Append(StabilityText(factory)).Append(".");
        if (factory.SelfMetrics.Count > 0)
            text.Append(" Self-metrics: ").AppendJoin(", ", factory.SelfMetrics.Select(m => $"`{m.Name}`")).Append('.');
        text.Append("\n\n");

        var rows = new List<(string Key, string Type, string Default, string Description)>();
        var model = ConfigTypeModel.Of(factory.ConfigType);
        Collect(rows, model, factory.CreateDefaultConfig(), "", 0);
        if (rows.Count == 0)
        {
            text.Append("No options.\n\n");
            return;
        }
        text.Append("| key | type | default | description |\n|---|---|---|---|\n");
        foreach (var (key, type, value, description) in rows)
            text.Append("| `").Append(key).Append("` | ").Append(type).Append(" | ").Append(value).Append(" | ")
                .Append(description.Replace("|", "\\|").Replace("\n", " ")).Append(" |\n");
        text.Append('\n');
    }

    private static string StabilityText(IComponentFactory factory) => factory switch
    {
        IExtensionFactory extension => Level(extension.ExtensionStability),
        IConnectorFactory connector => string.Join(", ", connector.SupportedRoutes.OrderBy(r => r.Key.From).ThenBy(r => r.Key.To)
            .Select(r => $"{r.Key.From.ToConfigName()} → {r.Key.To.ToConfigName()}: {Level(r.Value)}")),
        _ => string.Join(", ", factory.Stability.OrderBy(s => s.Key).Select(s => $"{s.Key.ToConfigName()}: {Level(s.Value)}")),
    };

    private static string Level(StabilityLevel level) => level.ToString().ToLowerInvariant();

    // Nested records are flattened into dotted keys; a list of records shows its item keys under key[].
    // A record that contains itself (tail_sampling's sub-policies) is described once: deeper uses point back to it.
    private static void Collect(List<(string, string, string, string)> rows, ConfigTypeModel model, object? instance, string prefix, int depth,
        Dictionary<Type, string>? ancestors = null)
    {
        ancestors ??= new Dictionary<Type, string> { [model.ValueType] = prefix.Length == 0 ? "the component's top level" : $"`{prefix.TrimEnd('.')}`" };
        foreach (var property in model.Properties)
        {
            var key = prefix + property.Key;
            var type = property.Type;
            var value = instance is null ? null : property.GetValue(instance);
            var description = property.Description ?? "";
            if (property.Range is { } range) description = (description + " " + RangeText(range)).Trim();

            if (type.Kind == ConfigTypeKind.Object && depth < MaxDepth)
            {
                if (ancestors.TryGetValue(type.ValueType, out var same))
                {
                    rows.Add((key, "object", "", (description + $" Takes the keys of {same}.").Trim()));
                    continue;
                }
                var section = value ?? type.CreateDefault();
                if (value is null) description = (description + " Off unless set.").Trim();
                if (description.Length > 0) rows.Add((key, "object", "", description));
                CollectNested(rows, type, section, key, depth, ancestors, key + ".");
                continue;
            }
            if (type.Kind == ConfigTypeKind.List && type.ElementType is { } element && ConfigTypeModel.Of(element) is { Kind: ConfigTypeKind.Object } item && depth < MaxDepth)
            {
                if (ancestors.TryGetValue(item.ValueType, out var same))
                {
                    rows.Add((key, "list", FormatValue(value), (description + $" Each item takes the keys of {same}.").Trim()));
                    continue;
                }
                rows.Add((key, "list", FormatValue(value), description));
                CollectNested(rows, item, item.CreateDefault(), key + "[]", depth, ancestors, key + "[].");
                continue;
            }
            rows.Add((key, TypeName(type), FormatValue(value), description));
        }
    }

    private static void CollectNested(List<(string, string, string, string)> rows, ConfigTypeModel type, object section, string name, int depth,
        Dictionary<Type, string> ancestors, string prefix)
    {
        ancestors[type.ValueType] = $"`{name}`";
        Collect(rows, type, section, prefix, depth + 1, ancestors);
        ancestors.Remove(type.ValueType);
    }

    private static string RangeText(ConfigRangeAttribute range) =>
        range.Maximum == double.MaxValue
            ? string.Create(CultureInfo.InvariantCulture, $"(≥ {range.Minimum})")
            : string.Create(CultureInfo.InvariantCulture, $"({range.Minimum} to {range.Maximum})");

    private static string TypeName(ConfigTypeModel type) => type.Kind switch
    {
        ConfigTypeKind.String => "string",
        ConfigTypeKind.Boolean => "bool",
        ConfigTypeKind.Integer => "int",
        ConfigTypeKind.Number => "number",
        ConfigTypeKind.Duration => "duration",
        ConfigTypeKind.Enum => string.Join(" \\| ", type.EnumMembers.Select(m => m.Key.Length == 0 ? "`\"\"`" : $"`{m.Key}`")),
        ConfigTypeKind.ComponentId => "component id",
        ConfigTypeKind.FreeForm => "any",
        ConfigTypeKind.List => $"list of {(type.ElementType is null ? "any" : TypeName(ConfigTypeModel.Of(type.ElementType)))}",
        ConfigTypeKind.Map => $"map of {(type.ElementType is null ? "any" : TypeName(ConfigTypeModel.Of(type.ElementType)))}",
        _ => "object",
    };

    private static string FormatValue(object? value) => value switch
    {
        null => "",
        string s => s.Length == 0 ? "" : $"`{s}`",
        bool b => b ? "`true`" : "`false`",
        TimeSpan t => $"`{Durations.Format(t)}`",
        Enum e => $"`{ConfigTypeModel.Of(e.GetType()).EnumMembers.FirstOrDefault(m => Equals(m.Value, e))?.Key ?? e.ToString()}`",
        ComponentId id => $"`{id}`",
        IFormattable f => $"`{f.ToString(null, CultureInfo.InvariantCulture)}`",
        ICollection { Count: 0 } => "",
        IEnumerable items and not IDictionary => $"`[{string.Join(", ", items.Cast<object?>().Select(i => i?.ToString()))}]`",
        _ => "",
    };

    private static string Plural(ComponentKind kind) => kind switch
    {
        ComponentKind.Receiver => "Receivers",
        ComponentKind.Processor => "Processors",
        ComponentKind.Exporter => "Exporters",
        ComponentKind.Connector => "Connectors",
        _ => "Extensions",
    };
}
