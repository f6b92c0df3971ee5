using OtelAi.Engine.Components;

namespace OtelAi.Exporters;

/// <summary>Registers every Exporter type of this assembly.</summary>
public static class ExportersRegistration
{
    public static ComponentRegistry AddExporters(this ComponentRegistry registry)
    {
        return registry;
    }
}
