using NJsonSchema;
using OtelAi.Engine.Components;

namespace OtelAi.Engine.Config;

/// <summary>
/// The JSON Schema (draft-07) of a whole config for the components in a registry, for YAML editors
/// (e.g. <c># yaml-language-server: $schema=otelai.schema.json</c>) and for checking configs.
/// </summary>
public static class ConfigSchema
{
    public static JsonSchema Generate(ComponentRegistry registry) => new SchemaBuilder(registry).Build();

    public static string GenerateJson(ComponentRegistry registry) => Generate(registry).ToJson();
}
