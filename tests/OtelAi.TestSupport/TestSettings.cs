using Microsoft.Extensions.Logging.Abstractions;
using OtelAi.Engine.Components;
using OtelAi.Engine.SelfTelemetry;

namespace OtelAi.TestSupport;

public static class TestSettings
{
    /// <summary>Create settings for a component under test: logs nowhere, metrics to a private registry.</summary>
    public static ComponentCreateSettings For(ComponentId id, ComponentKind kind) =>
        new(id, kind, NullLogger.Instance, new MetricRegistry(), BuildInfo.Current);
}
