namespace OtelAi.Engine.Components;

/// <summary>Registers the component types that live in the engine assembly (extensions, connectors).</summary>
public static class EngineComponents
{
    public static ComponentRegistry AddEngineComponents(this ComponentRegistry registry)
    {
        return registry;
    }
}
