using OtelAi.Engine.Connectors.Forward;
using OtelAi.Engine.Extensions.HealthCheck;

namespace OtelAi.Engine.Components;

/// <summary>Registers the component types that live in the engine assembly (extensions, connectors).</summary>
public static class EngineComponents
{
    public static ComponentRegistry AddEngineComponents(this ComponentRegistry registry)
    {
        registry.Add(new HealthCheckExtensionFactory());
        registry.Add(new Extensions.ZPages.ZPagesExtensionFactory());
        registry.Add(new ForwardConnectorFactory());
        registry.Add(new Extensions.FileStorage.FileStorageFactory());
        registry.Add(new Extensions.Auth.BearerTokenAuthFactory());
        registry.Add(new Extensions.Auth.BasicAuthFactory());
        registry.Add(new Extensions.Auth.HeadersSetterFactory());
        return registry;
    }
}
