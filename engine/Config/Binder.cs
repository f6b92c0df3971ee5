using System.Globalization;
using System.Numerics;
using OtelAi.Engine.Components;

namespace OtelAi.Engine.Config;

/// <summary>
/// Binds <see cref="ConfigNode"/> trees onto config records by reflection (<see cref="ConfigTypeModel"/>): keys are
/// matched exactly, values converted to the property's type. Keys that are absent, or null, keep the current value
/// (the record's default); a null value for a record-typed property that is null by default creates that record
/// with its defaults, as otelcol does for <c>protocols: {grpc: }</c>. Every problem is reported; the property
/// keeps its value and binding goes on, so one pass finds all errors.
/// </summary>
internal sealed class Binder(ConfigIssues issues)
{
    /// <summary>The value for <paramref name="node"/> as <paramref name="type"/>, starting from <paramref name="current"/>.</summary>
    public object? Bind(ConfigNode node, Type type, object? current, string path, ConfigRangeAttribute? range = null)
    {
        var model = ConfigTypeModel.Of(type);
        if (node is ScalarNode { IsNull: true })
            return model.Kind == ConfigTypeKind.Object && current is null ? model.CreateDefault() : current;
        return model.Kind switch
        {
            ConfigTypeKind.Object => BindObject(node, model, current, path),
            ConfigTypeKind.List => BindList(node, model, current, path),
            ConfigTypeKind.Map => BindMap(node, model, current, path),
            ConfigTypeKind.FreeForm => ToConfigValue(node),
            _ => node is ScalarNode scalar ? BindScalar(scalar, model, current, path, range) : Mismatch(node, model, current, path),
        };
    }

    private object? BindObject(ConfigNode node, ConfigTypeModel model, object? current, string path)
    {
        if (node is not MappingNode mapping) return Mismatch(node, model, current, path);
        var instance = current is null ? model.CreateDefault() : model.Clone(current);
        foreach (var entry in mapping.Entries)
        {
            var entryPath = KeyPath.Child(path, entry.Key);
            var property = model.FindProperty(entry.Key);
            if (property is null)
            {
                issues.Error(entryPath, UnknownKey(entry.Key, model.Properties.Select(p => p.Key)), entry.KeyLocation);
                continue;
            }
            var value = Bind(entry.Value, property.Info.PropertyType, property.GetValue(instance), entryPath, property.Range);
            property.SetValue(instance, value);
        }
        return instance;
    }

    public static string UnknownKey(string key, IEnumerable<string> validKeys)
    {
        var keys = validKeys.ToList();
        return keys.Count == 0
            ? $"unknown key \"{key}\"; this section takes no keys"
            : $"unknown key \"{key}\"; valid keys: {string.Join(", ", keys)}{Suggestions.DidYouMean(key, keys)}";
    }

    private object? BindList(ConfigNode node, ConfigTypeModel model, object? current, string path)
    {
        var elementType = model.ElementType!;
        IReadOnlyList<ConfigNode> items = node switch
        {
            SequenceNode sequence => sequence.Items,
            // otelcol splits a string on commas where a list is expected ("a,b" → [a, b]).
            ScalarNode scalar when ConfigTypeModel.Of(elementType).IsScalar =>
                scalar.Value!.Split(',').Select(part => (ConfigNode)new ScalarNode(part.Trim(), scalar.Quoted, scalar.Location)).ToList(),
            _ => [],
        };
        if (node is not SequenceNode && items.Count == 0) return Mismatch(node, model, current, path);
        var list = (System.Collections.IList)Activator.CreateInstance(typeof(List<>).MakeGenericType(elementType))!;
        for (var i = 0; i < items.Count; i++)
            list.Add(Bind(items[i], elementType, null, KeyPath.Item(path, i)) ?? DefaultOf(elementType));
        if (model.IsSet) return Activator.CreateInstance(typeof(HashSet<>).MakeGenericType(elementType), list);
        if (!model.ValueType.IsArray) return list;
        var array = Array.CreateInstance(elementType, list.Count);
        list.CopyTo(array, 0);
        return array;
    }

    private object? BindMap(ConfigNode node, ConfigTypeModel model, object? current, string path)
    {
        if (node is not MappingNode mapping) return Mismatch(node, model, current, path);
        var valueType = model.ElementType!;
        var map = (System.Collections.IDictionary)Activator.CreateInstance(typeof(Dictionary<,>).MakeGenericType(typeof(string), valueType))!;
        // Like otelcol's decoder, entries of a default map stay unless the YAML sets the same key.
        if (current is System.Collections.IDictionary existing)
            foreach (System.Collections.DictionaryEntry pair in existing) map[pair.Key] = pair.Value;
        foreach (var entry in mapping.Entries)
            map[entry.Key] = Bind(entry.Value, valueType, map.Contains(entry.Key) ? map[entry.Key] : null, KeyPath.Child(path, entry.Key))
                ?? DefaultOf(valueType);
        return map;
    }

    private static object? DefaultOf(Type type) => type.IsValueType ? Activator.CreateInstance(type) : null;

    private object? BindScalar(ScalarNode scalar, ConfigTypeModel model, object? current, string path, ConfigRangeAttribute? range)
    {
        var text = scalar.Value!;
        string? idError = null;
        object? value = model.Kind switch
        {
            ConfigTypeKind.String => text,
            ConfigTypeKind.Boolean => bool.TryParse(text, out var b) ? b : null,
            ConfigTypeKind.Integer => ParseInteger(text, model.ValueType),
            ConfigTypeKind.Number => ParseNumber(text, model.ValueType),
            ConfigTypeKind.Duration => ParseDuration(scalar, path),
            ConfigTypeKind.Enum => model.EnumMembers.FirstOrDefault(m => m.Key == text)?.Value,
            ConfigTypeKind.ComponentId => ComponentId.TryParse(text, out var id, out idError) ? id : null,
            _ => throw new InvalidOperationException($"{model.Kind} is not a scalar kind"),
        };
        if (value is null)
        {
            var detail = idError is null ? $", got {scalar.Describe()}{EnumHint(model, text)}" : $": {idError}";
            issues.Error(path, $"expected {Expected(model)}{detail}", scalar.Location);
            return current;
        }
        if (range is not null && value is not string && !InRange(value, range))
        {
            issues.Error(path, $"{RangeText(range)}, got {text}", scalar.Location);
            return current;
        }
        return value;
    }

    private static object? ParseInteger(string text, Type type)
    {
        var clean = text.Replace("_", "");
        var negative = clean.StartsWith('-');
        if (!TryParseUnsigned(clean.TrimStart('-', '+'), out var number)) return null;
        if (negative) number = -number;
        try
        {
            return Convert.ChangeType(number.ToString(CultureInfo.InvariantCulture), type, CultureInfo.InvariantCulture);
        }
        catch (OverflowException)
        {
            return null;
        }
    }

    /// <summary>YAML integers: decimal, <c>0x</c> hex or <c>0o</c> octal.</summary>
    private static bool TryParseUnsigned(string digits, out BigInteger number)
    {
        number = BigInteger.Zero;
        var (body, radix) = digits.StartsWith("0x", StringComparison.OrdinalIgnoreCase) ? (digits[2..], 16)
            : digits.StartsWith("0o", StringComparison.OrdinalIgnoreCase) ? (digits[2..], 8)
            : (digits, 10);
        if (body.Length == 0) return false;
        foreach (var c in body)
        {
            var digit = char.IsAsciiDigit(c) ? c - '0' : char.IsAsciiHexDigit(c) ? char.ToLowerInvariant(c) - 'a' + 10 : radix;
            if (digit >= radix) return false;
            number = number * radix + digit;
        }
        return true;
    }

    private static object? ParseNumber(string text, Type type)
    {
        double number;
        switch (text)
        {
            case ".inf" or ".Inf" or ".INF" or "+.inf": number = double.PositiveInfinity; break;
            case "-.inf" or "-.Inf" or "-.INF": number = double.NegativeInfinity; break;
            case ".nan" or ".NaN" or ".NAN": number = double.NaN; break;
            default:
                if (!double.TryParse(text.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out number)) return null;
                break;
        }
        return type == typeof(double) ? number : Convert.ChangeType(number, type, CultureInfo.InvariantCulture);
    }

    private object? ParseDuration(ScalarNode scalar, string path)
    {
        var text = scalar.Value!;
        if (Durations.TryParse(text, out var duration)) return duration;
        // A YAML integer decodes into Go's time.Duration as nanoseconds; say so, since "5" rarely means 5 ns.
        if (!scalar.Quoted && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var nanoseconds))
        {
            issues.Warning(path, $"{text} without a unit is {text} nanoseconds; write e.g. \"{text}s\" or \"{text}ms\"", scalar.Location);
            return TimeSpan.FromTicks(nanoseconds / 100);
        }
        return null;
    }

    private static bool InRange(object value, ConfigRangeAttribute range)
    {
        var number = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        return number >= range.Minimum && number <= range.Maximum;
    }

    public static string RangeText(ConfigRangeAttribute range) => range.Maximum == double.MaxValue
        ? $"must be at least {Number(range.Minimum)}"
        : $"must be between {Number(range.Minimum)} and {Number(range.Maximum)}";

    private static string Number(double value) => value.ToString(CultureInfo.InvariantCulture);

    private object? Mismatch(ConfigNode node, ConfigTypeModel model, object? current, string path)
    {
        var got = node is ScalarNode scalar ? scalar.Describe() : node.Describe();
        issues.Error(path, $"expected {Expected(model)}, got {got}", node.Location);
        return current;
    }

    /// <summary>What a value of the type looks like, for "expected ..." messages.</summary>
    private static string Expected(ConfigTypeModel model) => model.Kind switch
    {
        ConfigTypeKind.String => "a string",
        ConfigTypeKind.Boolean => "true or false",
        ConfigTypeKind.Integer => model.ValueType == typeof(long) || model.ValueType == typeof(int)
            ? "an integer"
            : $"an integer between {model.ValueType.GetField("MinValue")!.GetValue(null)} and {model.ValueType.GetField("MaxValue")!.GetValue(null)}",
        ConfigTypeKind.Number => "a number",
        ConfigTypeKind.Duration => "a duration such as \"5s\", \"200ms\" or \"1m30s\"",
        ConfigTypeKind.Enum => "one of " + string.Join(", ", model.EnumMembers.Select(m => m.Key)),
        ConfigTypeKind.ComponentId => "a component id (type or type/name)",
        ConfigTypeKind.List => "a list",
        ConfigTypeKind.Map => "a mapping",
        ConfigTypeKind.Object => "a mapping of keys " + string.Join(", ", model.Properties.Select(p => p.Key)),
        _ => "a value",
    };

    private static string EnumHint(ConfigTypeModel model, string text) =>
        model.Kind == ConfigTypeKind.Enum ? Suggestions.DidYouMean(text, model.EnumMembers.Select(m => m.Key)) : "";

    public static ConfigValue ToConfigValue(ConfigNode node) => node switch
    {
        ScalarNode scalar => new ConfigValue.Scalar(scalar.Value, scalar.Quoted),
        SequenceNode sequence => new ConfigValue.Sequence(sequence.Items.Select(ToConfigValue).ToList()),
        MappingNode mapping => new ConfigValue.Map(mapping.Entries.ToDictionary(e => e.Key, e => ToConfigValue(e.Value))),
        _ => throw new InvalidOperationException($"unexpected node {node.GetType().Name}"),
    };
}
