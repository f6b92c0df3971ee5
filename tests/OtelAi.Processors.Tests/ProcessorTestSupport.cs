using OtelAi.TestSupport;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Config;

namespace OtelAi.Processors.Tests;

internal static class TestHost
{
    public static IComponentHost Instance { get; } = new OtelAi.TestSupport.TestHost();

    /// <param name="collector">The shared state of the collector the processor belongs to (its own when null).</param>
    public static ComponentCreateSettings Settings(string id, SharedComponents? collector = null) =>
        TestSettings.For(ComponentId.Parse(id), ComponentKind.Processor) with { Shared = collector ?? new SharedComponents() };
}

internal static class ConfigText
{
    /// <summary>Binds YAML for a config record the way the service does (env expansion, binding, Validate).</summary>
    public static T Bind<T>(string yaml) where T : ComponentConfig => ConfigLoader.Bind<T>(yaml);
}
