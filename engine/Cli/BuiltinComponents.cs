using OtelAi.Engine.Components;
using OtelAi.Exporters;
using OtelAi.Processors;
using OtelAi.Receivers;

namespace OtelAi;

/// <summary>Every component type otelai ships. Library users who reference only some packages call those packages' Add* methods instead.</summary>
public static class BuiltinComponents
{
    public static ComponentRegistry CreateRegistry() =>
        new ComponentRegistry().AddEngineComponents().AddReceivers().AddProcessors().AddExporters();
}
