using OtelAi.Engine.Components;

namespace OtelAi.Processors;

/// <summary>Registers every Processor type of this assembly.</summary>
public static class ProcessorsRegistration
{
    public static ComponentRegistry AddProcessors(this ComponentRegistry registry)
    {
        return registry;
    }
}
