namespace OtelAi.Engine.Config;

/// <summary>
/// Runs the rules of every <see cref="IConfigSection"/> in a bound config tree: nested records, and records in lists
/// and maps, each error at its full key path (<c>sending_queue.num_consumers</c>, <c>actions[2].key</c>).
/// </summary>
public static class ConfigValidation
{
    public static IEnumerable<ConfigError> Validate(object config) => Walk(config, "");

    private static IEnumerable<ConfigError> Walk(object section, string path)
    {
        if (section is IConfigSection rules)
            foreach (var error in rules.Validate())
                yield return error with { Path = error.Path.Length == 0 ? path : KeyPath.Child(path, error.Path) };
        foreach (var property in ConfigTypeModel.Of(section.GetType()).DeclaredProperties)
        {
            if (property.GetValue(section) is not { } value) continue;
            var childPath = property.IsSquashed ? path : KeyPath.Child(path, property.Key);
            foreach (var error in WalkValue(value, property.Type, childPath)) yield return error;
        }
    }

    private static IEnumerable<ConfigError> WalkValue(object value, ConfigTypeModel type, string path)
    {
        switch (type.Kind)
        {
            case ConfigTypeKind.Object:
                return Walk(value, path);
            case ConfigTypeKind.List when ConfigTypeModel.Of(type.ElementType!).Kind == ConfigTypeKind.Object:
                return ((System.Collections.IEnumerable)value).Cast<object?>()
                    .SelectMany((item, i) => item is null ? [] : Walk(item, KeyPath.Item(path, i)));
            case ConfigTypeKind.Map when ConfigTypeModel.Of(type.ElementType!).Kind == ConfigTypeKind.Object:
                var map = (System.Collections.IDictionary)value;
                return map.Keys.Cast<string>()
                    .Where(key => map[key] is not null)
                    .SelectMany(key => Walk(map[key]!, KeyPath.Child(path, key)));
            default:
                return [];
        }
    }
}
