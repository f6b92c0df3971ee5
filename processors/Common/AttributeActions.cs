using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Google.Protobuf.Collections;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;

namespace OtelAi.Processors.Common;

/// <summary>One entry of otelcol's <c>actions</c> (attributes processor) / <c>attributes</c> (resource processor).</summary>
public sealed record AttributeActionConfig
{
    [ConfigDescription("Attribute to act on. Required except for delete/hash with a pattern.")]
    public string Key { get; init; } = "";

    [ConfigDescription("Value to set (insert/update/upsert); typed as written in YAML: int, double, bool, string, map or list.")]
    public ConfigValue? Value { get; init; }

    [ConfigDescription("Fallback for insert/update/upsert when value/from_attribute/from_context yields nothing (e.g. the attribute or header is absent).")]
    public ConfigValue? DefaultValue { get; init; }

    [ConfigDescription("Copy the value of this attribute (insert/update/upsert); nothing happens when it is absent.")]
    public string FromAttribute { get; init; } = "";

    [ConfigDescription("Take the value from the sender: metadata.<header> (client metadata, several values joined with ';'), client.address, auth.<name>; a bare name is read as a metadata key.")]
    public string FromContext { get; init; } = "";

    [ConfigDescription("Regular expression (RE2 syntax): for extract, named groups become attributes; for delete/hash, keys matching it are acted on as well.")]
    public string Pattern { get; init; } = "";

    [ConfigDescription("Target type for convert: int, double or string.")]
    public string ConvertedType { get; init; } = "";

    [ConfigDescription("insert, update, upsert, delete, hash, extract or convert (case-insensitive).")]
    public string Action { get; init; } = "";
}

/// <summary>
/// otelcol's attraction engine: a compiled list of attribute actions applied in order to an attribute list.
/// Built once from config; applying it allocates only the values it writes.
/// </summary>
public sealed class AttributeActions
{
    private readonly CompiledAction[] _actions;

    private AttributeActions(CompiledAction[] actions) => _actions = actions;

    public int Count => _actions.Length;

    /// <summary>Checks the actions the way otelcol does; <paramref name="path"/> prefixes each error (e.g. "actions").</summary>
    public static IEnumerable<ConfigError> Validate(IReadOnlyList<AttributeActionConfig> actions, string path)
    {
        for (var i = 0; i < actions.Count; i++)
        {
            if (TryCompile(actions[i], out _, out var error)) continue;
            yield return new ConfigError($"{path}[{i}]", error!);
        }
    }

    /// <summary>Compiles validated actions; throws <see cref="ArgumentException"/> naming the first bad action.</summary>
    public static AttributeActions Compile(IReadOnlyList<AttributeActionConfig> actions)
    {
        var compiled = new CompiledAction[actions.Count];
        for (var i = 0; i < actions.Count; i++)
        {
            if (!TryCompile(actions[i], out var action, out var error))
                throw new ArgumentException($"action {i}: {error}");
            compiled[i] = action!;
        }
        return new AttributeActions(compiled);
    }

    public void Apply(RepeatedField<KeyValue> attributes, ClientInfo client)
    {
        foreach (var action in _actions)
        {
            switch (action.Kind)
            {
                case ActionKind.Delete:
                    attributes.Remove(action.Key);
                    if (action.Regex is not null) RemoveMatching(attributes, action.Regex);
                    break;
                case ActionKind.Insert:
                    if (attributes.IndexOf(action.Key) >= 0) break;
                    if (SourceValue(action, attributes, client) is { } inserted) attributes.Add(new KeyValue { Key = action.Key, Value = inserted });
                    break;
                case ActionKind.Update:
                {
                    var i = attributes.IndexOf(action.Key);
                    if (i < 0) break;
                    if (SourceValue(action, attributes, client) is { } updated) attributes[i].Value = updated;
                    break;
                }
                case ActionKind.Upsert:
                    if (SourceValue(action, attributes, client) is { } upserted) attributes.Upsert(action.Key, upserted);
                    break;
                case ActionKind.Hash:
                    for (var i = 0; i < attributes.Count; i++)
                    {
                        var kv = attributes[i];
                        if (kv.Key == action.Key || (action.Regex?.IsMatch(kv.Key) ?? false)) kv.Value = Sha256Hex(kv.Value);
                    }
                    break;
                case ActionKind.Extract:
                    Extract(action, attributes);
                    break;
                case ActionKind.Convert:
                    if (attributes.Get(action.Key) is { } value && ConvertValue(value, action.ConvertedType) is { } converted)
                        attributes[attributes.IndexOf(action.Key)].Value = converted;
                    break;
            }
        }
    }

    private static AnyValue? SourceValue(CompiledAction action, RepeatedField<KeyValue> attributes, ClientInfo client)
    {
        if (action.Value is not null) return action.Value.Clone();
        var found = action.FromContext.Length > 0 ? FromContext(action.FromContext, client)
            : action.FromAttribute.Length > 0 ? attributes.Get(action.FromAttribute)?.Clone()
            : null;
        return found ?? action.DefaultValue?.Clone();
    }

    /// <summary>otelcol's from_context lookup in client.Info; null when the sender did not supply it.</summary>
    public static AnyValue? FromContext(string key, ClientInfo client)
    {
        if (key == "client.address")
            return client.Address is { Length: > 0 } address ? new AnyValue { StringValue = address } : null;
        // Our receivers do not run authenticators, so auth.* has nothing to read, as in otelcol without an auth extension.
        if (key.StartsWith("auth.", StringComparison.Ordinal)) return null;
        var metadataKey = key.StartsWith("metadata.", StringComparison.Ordinal) ? key["metadata.".Length..] : key;
        if (!client.Metadata.TryGetValue(metadataKey.ToLowerInvariant(), out var values) || values.Count == 0) return null;
        return new AnyValue { StringValue = values.Count == 1 ? values[0] : string.Join(';', values) };
    }

    private static void RemoveMatching(RepeatedField<KeyValue> attributes, Regex regex)
    {
        for (var i = attributes.Count - 1; i >= 0; i--)
            if (regex.IsMatch(attributes[i].Key)) attributes.RemoveAt(i);
    }

    private static void Extract(CompiledAction action, RepeatedField<KeyValue> attributes)
    {
        var value = attributes.Get(action.Key);
        if (value is null || value.ValueCase != AnyValue.ValueOneofCase.StringValue) return;
        var match = action.Regex!.Match(value.StringValue);
        if (!match.Success) return;
        foreach (var name in action.GroupNames!)
            attributes.Upsert(name, new AnyValue { StringValue = match.Groups[name].Value });
    }

    /// <summary>otelcol's hash action: SHA-256 of the value's bytes, lower-case hex; types without bytes hash to "".</summary>
    public static AnyValue Sha256Hex(AnyValue value)
    {
        Span<byte> scalar = stackalloc byte[8];
        scoped ReadOnlySpan<byte> bytes;
        switch (value.ValueCase)
        {
            case AnyValue.ValueOneofCase.StringValue:
                bytes = Encoding.UTF8.GetBytes(value.StringValue);
                break;
            case AnyValue.ValueOneofCase.BoolValue:
                scalar[0] = value.BoolValue ? (byte)1 : (byte)0;
                bytes = scalar[..1];
                break;
            case AnyValue.ValueOneofCase.IntValue:
                BinaryPrimitives.WriteInt64LittleEndian(scalar, value.IntValue);
                bytes = scalar;
                break;
            case AnyValue.ValueOneofCase.DoubleValue:
                BinaryPrimitives.WriteDoubleLittleEndian(scalar, value.DoubleValue);
                bytes = scalar;
                break;
            default:
                return new AnyValue { StringValue = "" };
        }
        if (bytes.IsEmpty) return new AnyValue { StringValue = "" };
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        return new AnyValue { StringValue = System.Convert.ToHexStringLower(hash) };
    }

    /// <summary>otelcol's convert action; null leaves the value as it is (unconvertible).</summary>
    public static AnyValue? ConvertValue(AnyValue value, string targetType) => (targetType, value.ValueCase) switch
    {
        ("string", AnyValue.ValueOneofCase.StringValue) => null,
        ("string", _) => new AnyValue { StringValue = value.AsString() },
        ("int", AnyValue.ValueOneofCase.DoubleValue) => new AnyValue { IntValue = DoubleToInt(value.DoubleValue) },
        ("int", AnyValue.ValueOneofCase.BoolValue) => new AnyValue { IntValue = value.BoolValue ? 1 : 0 },
        ("int", AnyValue.ValueOneofCase.StringValue) =>
            long.TryParse(value.StringValue, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var i) ? new AnyValue { IntValue = i } : null,
        ("double", AnyValue.ValueOneofCase.IntValue) => new AnyValue { DoubleValue = value.IntValue },
        ("double", AnyValue.ValueOneofCase.BoolValue) => new AnyValue { DoubleValue = value.BoolValue ? 1 : 0 },
        ("double", AnyValue.ValueOneofCase.StringValue) =>
            double.TryParse(value.StringValue, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) ? new AnyValue { DoubleValue = d } : null,
        _ => null,
    };

    // Go's int64(float64) truncates toward zero; out-of-range values saturate here rather than being undefined.
    private static long DoubleToInt(double d) => double.IsNaN(d) ? 0 : (long)Math.Clamp(Math.Truncate(d), long.MinValue, long.MaxValue);

    private static bool TryCompile(AttributeActionConfig config, out CompiledAction? action, out string? error)
    {
        action = null;
        var kind = config.Action.ToLowerInvariant() switch
        {
            "insert" => ActionKind.Insert,
            "update" => ActionKind.Update,
            "upsert" => ActionKind.Upsert,
            "delete" => ActionKind.Delete,
            "hash" => ActionKind.Hash,
            "extract" => ActionKind.Extract,
            "convert" => ActionKind.Convert,
            _ => (ActionKind?)null,
        };
        if (kind is null)
        {
            error = $"unsupported action \"{config.Action}\" (insert, update, upsert, delete, hash, extract or convert)";
            return false;
        }
        var valueSources = (config.Value is null or ConfigValue.Scalar { Value: null } ? 0 : 1)
            + (config.FromAttribute.Length > 0 ? 1 : 0) + (config.FromContext.Length > 0 ? 1 : 0);
        var hasPattern = config.Pattern.Length > 0;
        Regex? regex = null;
        if (hasPattern && !GoRegex.TryCompile(config.Pattern, out regex, out var regexError))
        {
            error = $"field \"pattern\" has an invalid pattern \"{config.Pattern}\": {regexError}";
            return false;
        }
        string[]? groupNames = null;
        var defaultValue = ConfigValues.ToAnyValue(config.DefaultValue);
        error = kind switch
        {
            ActionKind.Delete or ActionKind.Hash when config.Key.Length == 0 && !hasPattern =>
                "missing required field: at least one of \"key\" and \"pattern\" has to be used",
            ActionKind.Delete or ActionKind.Hash when config.Value is not null || config.FromAttribute.Length > 0 =>
                $"action \"{kind.Value.ToString().ToLowerInvariant()}\" does not use \"value\" or \"from_attribute\"",
            not (ActionKind.Delete or ActionKind.Hash) when config.Key.Length == 0 => "missing required field \"key\"",
            ActionKind.Insert or ActionKind.Update or ActionKind.Upsert when valueSources == 0 && defaultValue is null =>
                "one of \"value\", \"from_attribute\", \"from_context\" or \"default_value\" must be specified",
            ActionKind.Insert or ActionKind.Update or ActionKind.Upsert when valueSources > 1 => "multiple value sources are set",
            ActionKind.Insert or ActionKind.Update or ActionKind.Upsert when hasPattern =>
                $"action \"{config.Action.ToLowerInvariant()}\" does not use the \"pattern\" field",
            ActionKind.Extract when valueSources > 0 => "action \"extract\" does not use a value source field",
            ActionKind.Extract when !hasPattern => "missing required field \"pattern\" for action \"extract\"",
            ActionKind.Extract when !NamedGroupsOnly(regex!, out groupNames, out var why) => why,
            ActionKind.Convert when valueSources > 0 || hasPattern => "action \"convert\" does not use value sources or \"pattern\"",
            ActionKind.Convert when config.ConvertedType.Length == 0 => "missing required field \"converted_type\" for action \"convert\"",
            ActionKind.Convert when config.ConvertedType is not ("int" or "double" or "string") =>
                $"invalid value \"{config.ConvertedType}\" in field \"converted_type\" (int, double or string)",
            not (ActionKind.Insert or ActionKind.Update or ActionKind.Upsert) when defaultValue is not null =>
                $"action \"{config.Action.ToLowerInvariant()}\" does not use the \"default_value\" field",
            not ActionKind.Convert when config.ConvertedType.Length > 0 =>
                $"action \"{config.Action.ToLowerInvariant()}\" does not use the \"converted_type\" field",
            _ => null,
        };
        if (error is not null) return false;
        action = new CompiledAction(kind.Value, config.Key, ConfigValues.ToAnyValue(config.Value), defaultValue, config.FromAttribute,
            config.FromContext, regex, groupNames, config.ConvertedType);
        return true;
    }

    private static bool NamedGroupsOnly(Regex regex, out string[]? names, out string? why)
    {
        var numbers = regex.GetGroupNumbers().Where(n => n > 0).ToArray();
        names = numbers.Select(regex.GroupNameFromNumber).ToArray();
        why = numbers.Length == 0 ? "field \"pattern\" contains no named matcher groups"
            : names.Zip(numbers).Any(p => p.First == p.Second.ToString(CultureInfo.InvariantCulture))
                ? "field \"pattern\" contains at least one unnamed matcher group"
                : null;
        return why is null;
    }

    private enum ActionKind { Insert, Update, Upsert, Delete, Hash, Extract, Convert }

    private sealed record CompiledAction(
        ActionKind Kind, string Key, AnyValue? Value, AnyValue? DefaultValue, string FromAttribute, string FromContext,
        Regex? Regex, string[]? GroupNames, string ConvertedType);
}
