using System.Collections.Concurrent;
using System.Reflection;
using System.Text;
using OtelAi.Engine.Components;

namespace OtelAi.Engine.Config;

/// <summary>How the binder and the JSON schema treat a CLR type found in a config record.</summary>
internal enum ConfigTypeKind { String, Boolean, Integer, Number, Duration, Enum, ComponentId, FreeForm, List, Map, Object }

/// <summary>
/// The reflection metadata of config types, shared by <see cref="Binder"/> and <see cref="SchemaBuilder"/> so the
/// schema always describes exactly what the binder accepts. Built once per type.
/// </summary>
internal sealed class ConfigTypeModel
{
    private static readonly ConcurrentDictionary<Type, ConfigTypeModel> Cache = new();

    private ConfigTypeModel(Type clrType)
    {
        ValueType = Nullable.GetUnderlyingType(clrType) ?? clrType;
        (Kind, ElementType) = Classify(ValueType);
    }

    /// <summary>The type without <see cref="Nullable{T}"/>.</summary>
    public Type ValueType { get; }

    public ConfigTypeKind Kind { get; }

    /// <summary>Bound from one YAML scalar.</summary>
    public bool IsScalar => Kind is ConfigTypeKind.String or ConfigTypeKind.Boolean or ConfigTypeKind.Integer or ConfigTypeKind.Number
        or ConfigTypeKind.Duration or ConfigTypeKind.Enum or ConfigTypeKind.ComponentId;

    /// <summary>Item type of a list, value type of a map.</summary>
    public Type? ElementType { get; }

    public static ConfigTypeModel Of(Type type) => Cache.GetOrAdd(type, t => new ConfigTypeModel(t));

    private static (ConfigTypeKind, Type?) Classify(Type type)
    {
        if (type == typeof(string)) return (ConfigTypeKind.String, null);
        if (type == typeof(bool)) return (ConfigTypeKind.Boolean, null);
        if (type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(uint) || type == typeof(ulong) || type == typeof(ushort) || type == typeof(byte))
            return (ConfigTypeKind.Integer, null);
        if (type == typeof(double) || type == typeof(float) || type == typeof(decimal)) return (ConfigTypeKind.Number, null);
        if (type == typeof(TimeSpan)) return (ConfigTypeKind.Duration, null);
        if (type.IsEnum) return (ConfigTypeKind.Enum, null);
        if (type == typeof(ComponentId)) return (ConfigTypeKind.ComponentId, null);
        if (type == typeof(ConfigValue)) return (ConfigTypeKind.FreeForm, null);
        if (type.IsArray) return (ConfigTypeKind.List, type.GetElementType());
        if (type.IsGenericType)
        {
            var definition = type.GetGenericTypeDefinition();
            var arguments = type.GetGenericArguments();
            if (definition == typeof(List<>) || definition == typeof(IReadOnlyList<>) || definition == typeof(IList<>)
                || definition == typeof(IEnumerable<>) || definition == typeof(IReadOnlyCollection<>) || definition == typeof(ICollection<>)
                || IsSetDefinition(definition))
                return (ConfigTypeKind.List, arguments[0]);
            if ((definition == typeof(Dictionary<,>) || definition == typeof(IReadOnlyDictionary<,>) || definition == typeof(IDictionary<,>))
                && arguments[0] == typeof(string))
                return (ConfigTypeKind.Map, arguments[1]);
        }
        if (type.IsClass && !type.IsAbstract && type.GetConstructor(Type.EmptyTypes) is not null) return (ConfigTypeKind.Object, null);
        throw new NotSupportedException($"config type {type.FullName} is not supported: use string, bool, integers, double, TimeSpan, enums, "
            + "ComponentId, ConfigValue, lists, Dictionary<string, T> or a record with a parameterless constructor");
    }

    /// <summary>A list type bound as a set (duplicates collapse).</summary>
    public bool IsSet => ValueType.IsGenericType && IsSetDefinition(ValueType.GetGenericTypeDefinition());

    private static bool IsSetDefinition(Type definition) =>
        definition == typeof(HashSet<>) || definition == typeof(ISet<>) || definition == typeof(IReadOnlySet<>);

    private IReadOnlyList<ConfigProperty>? _properties;
    private IReadOnlyList<EnumMember>? _enumMembers;

    /// <summary>
    /// The keys of an <see cref="ConfigTypeKind.Object"/> type, sorted: its properties, with the keys of a
    /// <see cref="ConfigSquashAttribute"/> property's record in place of that property.
    /// </summary>
    public IReadOnlyList<ConfigProperty> Properties => _properties ??= Flatten(ValueType);

    private IReadOnlyList<ConfigProperty>? _declared;

    /// <summary>The properties as declared (a squashed record is one property, <see cref="ConfigProperty.IsSquashed"/>).</summary>
    public IReadOnlyList<ConfigProperty> DeclaredProperties => _declared ??= ReadProperties(ValueType);

    /// <summary>The accepted names of an <see cref="ConfigTypeKind.Enum"/> type.</summary>
    public IReadOnlyList<EnumMember> EnumMembers => _enumMembers ??= ValueType.GetFields(BindingFlags.Public | BindingFlags.Static)
        .SelectMany(f => f.GetCustomAttributes<ConfigKeyAttribute>().Select(k => k.Key).DefaultIfEmpty(SnakeCase(f.Name))
            .Select(key => new EnumMember(key, f.GetValue(null)!)))
        .ToList();

    public ConfigProperty? FindProperty(string key) => Properties.FirstOrDefault(p => p.Key == key);

    /// <summary>A new instance with every default from the type's initialisers.</summary>
    public object CreateDefault() => Activator.CreateInstance(ValueType)!;

    private MethodInfo? _clone;

    /// <summary>A shallow copy to bind onto, leaving the original (e.g. a factory's default config) untouched.</summary>
    public object Clone(object instance)
    {
        // Records have a compiler-generated "<Clone>$" method that runs the copy constructor.
        _clone ??= ValueType.GetMethod("<Clone>$", BindingFlags.Public | BindingFlags.Instance, Type.EmptyTypes) ?? MemberwiseCloneMethod;
        return _clone.Invoke(instance, null)!;
    }

    private static readonly MethodInfo MemberwiseCloneMethod =
        typeof(object).GetMethod("MemberwiseClone", BindingFlags.NonPublic | BindingFlags.Instance)!;

    private static List<ConfigProperty> ReadProperties(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p.GetIndexParameters().Length == 0 && p.SetMethod is { IsPublic: true } && p.GetMethod is { IsPublic: true })
        .Select(p => new ConfigProperty(
            p.GetCustomAttribute<ConfigKeyAttribute>()?.Key ?? SnakeCase(p.Name),
            p,
            p.GetCustomAttribute<ConfigDescriptionAttribute>()?.Text,
            p.GetCustomAttribute<ConfigRangeAttribute>(),
            IsSquashed: p.GetCustomAttribute<ConfigSquashAttribute>() is not null))
        .OrderBy(p => p.Key, StringComparer.Ordinal)
        .ToList();

    private static List<ConfigProperty> Flatten(Type type)
    {
        var properties = new List<ConfigProperty>();
        foreach (var property in ReadProperties(type))
        {
            if (!property.IsSquashed)
            {
                properties.Add(property);
                continue;
            }
            if (property.Type.Kind != ConfigTypeKind.Object)
                throw new NotSupportedException($"config property {type.Name}.{property.Info.Name} is squashed but is not a record");
            properties.AddRange(property.Type.Properties.Select(inner => inner with { Via = [property.Info, .. inner.Via] }));
        }
        properties.Sort((a, b) => string.CompareOrdinal(a.Key, b.Key));
        var duplicate = properties.GroupBy(p => p.Key).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new NotSupportedException($"config type {type.FullName} has two properties with the key \"{duplicate.Key}\"");
        return properties;
    }

    /// <summary><c>SendBatchSize</c> → <c>send_batch_size</c>, <c>HTTPServer</c> → <c>http_server</c>.</summary>
    public static string SnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c) && i > 0)
            {
                var previous = name[i - 1];
                var nextIsLower = i + 1 < name.Length && char.IsLower(name[i + 1]);
                if (char.IsLower(previous) || char.IsDigit(previous) || (char.IsUpper(previous) && nextIsLower)) builder.Append('_');
            }
            builder.Append(char.ToLowerInvariant(c));
        }
        return builder.ToString();
    }
}

/// <summary>
/// A bindable property of a config record. <see cref="Via"/> is the chain of squashed record properties that lead
/// from the record whose key this is to the property that holds the value (empty for a property of its own).
/// </summary>
internal sealed record ConfigProperty(string Key, PropertyInfo Info, string? Description, ConfigRangeAttribute? Range, bool IsSquashed = false)
{
    public IReadOnlyList<PropertyInfo> Via { get; init; } = [];

    public ConfigTypeModel Type => ConfigTypeModel.Of(Info.PropertyType);

    public object? GetValue(object instance)
    {
        var holder = instance;
        foreach (var step in Via)
        {
            holder = step.GetValue(holder);
            if (holder is null) return null;
        }
        return Info.GetValue(holder);
    }

    /// <summary>
    /// Sets the value on <paramref name="instance"/> (which the binder owns). A squashed record on the way is copied
    /// first: it may be shared with a factory's default config, which binding must never change.
    /// </summary>
    public void SetValue(object instance, object? value) => SetValue(instance, value, 0);

    private void SetValue(object holder, object? value, int depth)
    {
        if (depth == Via.Count)
        {
            Info.SetValue(holder, value);
            return;
        }
        var step = Via[depth];
        var model = ConfigTypeModel.Of(step.PropertyType);
        var current = step.GetValue(holder);
        var copy = current is null ? model.CreateDefault() : model.Clone(current);
        SetValue(copy, value, depth + 1);
        step.SetValue(holder, copy);
    }
}

internal sealed record EnumMember(string Key, object Value);
