using NJsonSchema;
using OtelAi.Engine.Components;

namespace OtelAi.Engine.Config;

/// <summary>
/// The JSON Schema (draft-07) of a whole config for the components in a registry, for YAML editors
/// (e.g. <c># yaml-language-server: $schema=otelai.schema.json</c>) and for checking configs.
/// </summary>
public static class ConfigSchema
{
    public const string SchemaVersion = "http://json-schema.org/draft-07/schema#";

    public static JsonSchema Generate(ComponentRegistry registry) => new SchemaBuilder(registry).Build();

    public static string GenerateJson(ComponentRegistry registry)
    {
        // NJsonSchema always writes draft-04 as "$schema"; the keywords used here mean the same in draft-07.
        var json = Newtonsoft.Json.Linq.JObject.Parse(Generate(registry).ToJson());
        json["$schema"] = SchemaVersion;
        return json.ToString(Newtonsoft.Json.Formatting.Indented);
    }
}
