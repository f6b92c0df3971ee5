using System.Collections;
using System.Globalization;
using NJsonSchema;
using OtelAi.Engine.Components;

namespace OtelAi.Engine.Config;

/// <summary>
/// Builds the JSON Schema of a whole config from the registry and the same <see cref="ConfigTypeModel"/> the binder
/// uses: every component's options with types, defaults, descriptions, ranges and enums; unknown keys rejected.
/// Scalars that are not strings also accept an <c>${env:...}</c> reference, which is expanded before binding.
/// </summary>
internal sealed class SchemaBuilder(ComponentRegistry registry)
{
    private const string EnvReferencePattern = @"\$\{[^}]+\}";
    private const string ComponentIdPattern = @"^[a-zA-Z][0-9a-zA-Z_]{0,62}(/\S+)?$";

    private static readonly (string Key, ComponentKind Kind)[] Sections =
    [
        ("receivers", ComponentKind.Receiver), ("processors", ComponentKind.Processor), ("exporters", ComponentKind.Exporter),
        ("connectors", ComponentKind.Connector), ("extensions", ComponentKind.Extension),
    ];

    public JsonSchema Build()
    {
        var root = new JsonSchema { Type = JsonObjectType.Object, AllowAdditionalProperties = false };
        root.SchemaVersion = ConfigSchema.SchemaVersion;
        root.Title = "otelai configuration";
        root.Description = "An OpenTelemetry Collector configuration for the components this otelai build ships.";
        var recursive = new Dictionary<Type, JsonSchema>();
        foreach (var (key, kind) in Sections) root.Properties[key] = ComponentSection(kind, recursive);
        root.Properties["service"] = Service();
        foreach (var (type, schema) in recursive) root.Definitions[type.Name] = schema;
        return root;
    }

    private JsonSchemaProperty ComponentSection(ComponentKind kind, Dictionary<Type, JsonSchema> recursive)
    {
        var section = StrictObject();
        section.Description = $"{kind} configs by id: type or type/name.";
        foreach (var factory in registry.Factories(kind))
        {
            // One schema object per name: NJsonSchema would turn a shared instance into a $ref.
            foreach (var type in registry.AliasesOf(factory).Prepend(factory.Type))
                section.PatternProperties[$"^{type}(/.+)?$"] = ObjectSchema(ConfigTypeModel.Of(factory.ConfigType), factory.CreateDefaultConfig(), new SchemaScope(recursive));
        }
        return section;
    }

    private static JsonSchemaProperty Service()
    {
        var service = StrictObject();
        service.Properties["extensions"] = Describe(ListOf(IdSchema()), "The extensions to start, in order.");

        var pipelines = StrictObject();
        pipelines.Description = "Pipelines by id: traces, metrics or logs, optionally followed by /name.";
        pipelines.PatternProperties["^(traces|metrics|logs)(/.+)?$"] = ObjectSchema(ConfigTypeModel.Of(typeof(PipelineConfig)), null);
        service.Properties["pipelines"] = pipelines;

        var telemetry = ObjectSchema(ConfigTypeModel.Of(typeof(TelemetryConfig)), new TelemetryConfig());
        Restrict(telemetry, "logs", "level", TelemetryReader.LogLevels);
        Restrict(telemetry, "logs", "encoding", TelemetryReader.LogEncodings);
        Restrict(telemetry, "metrics", "level", TelemetryReader.MetricLevels);
        foreach (var (section, keys) in TelemetryReader.IgnoredKeys)
        {
            var target = section.Length == 0 ? telemetry : telemetry.Properties[section];
            foreach (var key in keys) target.Properties[key] = Describe(new JsonSchemaProperty(), "Accepted for otelcol compatibility; not used by otelai.");
        }
        telemetry.Properties["metrics"].Properties["readers"] = Describe(new JsonSchemaProperty { Type = JsonObjectType.Array | JsonObjectType.Null },
            "otelcol's reader list; the first pull reader with a prometheus exporter sets the address.");
        service.Properties["telemetry"] = telemetry;
        service.Properties["shutdown_timeout"] = Describe(new JsonSchemaProperty { Type = JsonObjectType.String, Pattern = Durations.Pattern },
            "otelai: how long a stop may take to drain in-flight data (default 30s; --shutdown-timeout overrides it).");
        return service;
    }

    private static void Restrict(JsonSchemaProperty telemetry, string section, string key, IEnumerable<string> values)
    {
        var property = telemetry.Properties[section].Properties[key];
        foreach (var value in values) property.Enumeration.Add(value);
    }

    /// <summary>
    /// A record's schema; <paramref name="defaults"/> supplies the default values shown to editors. A record that
    /// contains itself (tail_sampling's sub-policies) refers back to its enclosing schema with a $ref.
    /// </summary>
    private static JsonSchemaProperty ObjectSchema(ConfigTypeModel model, object? defaults, SchemaScope? scope = null)
    {
        scope ??= new SchemaScope([]);
        if (scope.Recursive.TryGetValue(model.ValueType, out var defined)) return new JsonSchemaProperty { Reference = defined };
        if (scope.Enclosing.TryGetValue(model.ValueType, out var outer))
        {
            // The record contains itself: its schema becomes a definition that the inner uses refer to.
            scope.Recursive[model.ValueType] = outer;
            return new JsonSchemaProperty { Reference = outer };
        }
        var schema = StrictObject();
        scope.Enclosing[model.ValueType] = schema;
        schema.Description = model.ValueType.GetCustomAttributes(typeof(ConfigDescriptionAttribute), false)
            .Cast<ConfigDescriptionAttribute>().FirstOrDefault()?.Text;
        defaults ??= model.CreateDefault();
        foreach (var property in model.Properties)
        {
            var value = property.GetValue(defaults);
            var propertySchema = Describe(ValueSchema(property.Type, value, property.Range, scope), property.Description);
            if (!propertySchema.HasReference) propertySchema.Default = DefaultValue(property.Type, value);
            schema.Properties[property.Key] = propertySchema;
        }
        scope.Enclosing.Remove(model.ValueType);
        // Its own uses refer to the definition; so does this one, or references would point into a property path.
        return scope.Recursive.ContainsKey(model.ValueType) ? new JsonSchemaProperty { Reference = schema } : schema;
    }

    private static JsonSchemaProperty ValueSchema(ConfigTypeModel model, object? defaults, ConfigRangeAttribute? range = null, SchemaScope? scope = null)
    {
        switch (model.Kind)
        {
            case ConfigTypeKind.String:
                return new JsonSchemaProperty { Type = JsonObjectType.String | JsonObjectType.Null };
            case ConfigTypeKind.ComponentId:
                return IdSchema();
            case ConfigTypeKind.FreeForm:
                return new JsonSchemaProperty();
            case ConfigTypeKind.Object:
                return ObjectSchema(model, defaults, scope);
            case ConfigTypeKind.List:
                var list = ListOf(ValueSchema(ConfigTypeModel.Of(model.ElementType!), null, scope: scope), acceptsCommaText: ConfigTypeModel.Of(model.ElementType!).IsScalar);
                list.UniqueItems = model.IsSet;
                return list;
            case ConfigTypeKind.Map:
                return new JsonSchemaProperty
                {
                    Type = JsonObjectType.Object | JsonObjectType.Null,
                    AdditionalPropertiesSchema = ValueSchema(ConfigTypeModel.Of(model.ElementType!), null, scope: scope),
                };
        }
        var typed = model.Kind switch
        {
            ConfigTypeKind.Boolean => new JsonSchema { Type = JsonObjectType.Boolean },
            ConfigTypeKind.Integer => new JsonSchema { Type = JsonObjectType.Integer },
            ConfigTypeKind.Number => new JsonSchema { Type = JsonObjectType.Number },
            // A YAML integer is a duration in nanoseconds, as in otelcol.
            ConfigTypeKind.Duration => new JsonSchema { Type = JsonObjectType.String | JsonObjectType.Integer, Pattern = Durations.Pattern },
            ConfigTypeKind.Enum => EnumSchema(model),
            _ => throw new InvalidOperationException($"no schema for {model.Kind}"),
        };
        if (range is not null)
        {
            typed.Minimum = AsDecimal(range.Minimum);
            typed.Maximum = AsDecimal(range.Maximum);
        }
        // Non-string scalars may be written as an env reference, expanded before binding.
        var reference = new JsonSchema { Type = JsonObjectType.String, Pattern = EnvReferencePattern };
        var either = new JsonSchemaProperty();
        either.AnyOf.Add(typed);
        either.AnyOf.Add(reference);
        either.AnyOf.Add(new JsonSchema { Type = JsonObjectType.Null });
        return either;
    }

    /// <summary>Schema bounds are decimals; an unbounded side (±double.MaxValue) is left out.</summary>
    private static decimal? AsDecimal(double bound) =>
        Math.Abs(bound) < (double)decimal.MaxValue ? (decimal)bound : null;

    private static JsonSchemaProperty EnumSchema(ConfigTypeModel model)
    {
        var schema = new JsonSchemaProperty { Type = JsonObjectType.String };
        foreach (var member in model.EnumMembers) schema.Enumeration.Add(member.Key);
        return schema;
    }

    private static JsonSchemaProperty IdSchema() =>
        new() { Type = JsonObjectType.String, Pattern = ComponentIdPattern, Description = "A component id: type or type/name." };

    private static JsonSchemaProperty ListOf(JsonSchema item, bool acceptsCommaText = false) => new()
    {
        // otelcol splits "a,b" into a list where a list of scalars is expected.
        Type = JsonObjectType.Array | JsonObjectType.Null | (acceptsCommaText ? JsonObjectType.String : JsonObjectType.None),
        Item = item,
    };

    private static JsonSchemaProperty StrictObject() => new()
    {
        Type = JsonObjectType.Object | JsonObjectType.Null,
        AllowAdditionalProperties = false,
    };

    private static JsonSchemaProperty Describe(JsonSchemaProperty schema, string? description)
    {
        if (description is not null) schema.Description = description;
        return schema;
    }

    /// <summary>The JSON value of a default: durations as Go text, enums by their key; none for records and nulls.</summary>
    private static object? DefaultValue(ConfigTypeModel model, object? value) => value switch
    {
        null => null,
        _ when model.Kind == ConfigTypeKind.Object => null,
        TimeSpan duration => Durations.Format(duration),
        ComponentId { Type: null } => null,
        ComponentId id => id.ToString(),
        Enum => model.EnumMembers.First(m => Equals(m.Value, value)).Key,
        ConfigValue => null,
        string or bool => value,
        IConvertible number when model.Kind is ConfigTypeKind.Integer or ConfigTypeKind.Number => Convert.ToDouble(number, CultureInfo.InvariantCulture),
        IDictionary map when map.Count == 0 => null,
        IEnumerable items when model.Kind == ConfigTypeKind.List =>
            items.Cast<object?>().Select(i => DefaultValue(ConfigTypeModel.Of(model.ElementType!), i)).ToList() is var list && list.All(i => i is not null) ? list : null,
        _ => null,
    };

    /// <summary>The records being described on the current path, and those found to contain themselves (emitted as definitions).</summary>
    private sealed record SchemaScope(Dictionary<Type, JsonSchema> Recursive)
    {
        public Dictionary<Type, JsonSchema> Enclosing { get; } = [];
    }
}
