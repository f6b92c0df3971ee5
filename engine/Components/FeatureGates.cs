namespace OtelAi.Engine.Components;

/// <summary>otelcol's feature gate stages: alpha is off by default, beta on; stable cannot be turned off, deprecated not on.</summary>
public enum FeatureGateStage { Alpha, Beta, Stable, Deprecated }

/// <summary>A switch for behaviour that is new or changing, under otelcol's id where otelcol has the same gate.</summary>
public sealed record FeatureGate(string Id, FeatureGateStage Stage, string Description)
{
    public string? ReferenceUrl { get; init; }

    /// <summary>The otelai version the gate appeared in.</summary>
    public string? FromVersion { get; init; }

    public bool EnabledByDefault => Stage is FeatureGateStage.Beta or FeatureGateStage.Stable;
}

/// <summary>
/// The feature gates a build knows and which are on: the engine's, plus those the registered factories declare
/// (<see cref="IComponentFactory.FeatureGates"/>). Set from otelcol's <c>--feature-gates</c> flag before a collector is built.
/// </summary>
public sealed class FeatureGates
{
    private readonly SortedDictionary<string, FeatureGate> _known = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _enabled = new(StringComparer.Ordinal);

    public static FeatureGate AllowNoPipelines { get; } =
        new("service.AllowNoPipelines", FeatureGateStage.Alpha, "Allow starting the collector without any pipelines (extensions only).")
        {
            ReferenceUrl = "https://github.com/open-telemetry/opentelemetry-collector/pull/12613", FromVersion = "1.0.0",
        };

    /// <summary>Gates of the service itself (components declare theirs on their factories).</summary>
    public static FeatureGate NewPipelineTelemetry { get; } =
        new("telemetry.newPipelineTelemetry", FeatureGateStage.Alpha,
            "Count the items passed between pipeline components (otelcol_receiver_produced_items, otelcol_processor_consumed_items / _produced_items, otelcol_connector_*, otelcol_exporter_consumed_items) per component, pipeline, signal and outcome.")
        {
            ReferenceUrl = "https://github.com/open-telemetry/opentelemetry-collector/blob/main/docs/rfcs/component-universal-telemetry.md", FromVersion = "1.0.0",
        };

    public static IReadOnlyList<FeatureGate> EngineGates { get; } = [AllowNoPipelines, NewPipelineTelemetry];

    public FeatureGates(IEnumerable<FeatureGate> gates)
    {
        foreach (var gate in gates) Register(gate);
    }

    public void Register(FeatureGate gate)
    {
        if (!_known.TryAdd(gate.Id, gate)) throw new InvalidOperationException($"feature gate \"{gate.Id}\" is already registered");
    }

    /// <summary>Whether <paramref name="gate"/> is on (its stage's default unless a flag set it).</summary>
    public bool IsEnabled(FeatureGate gate) => _enabled.TryGetValue(gate.Id, out var enabled) ? enabled : gate.EnabledByDefault;

    /// <summary>Every known gate, by id, with whether it is on.</summary>
    public IEnumerable<(FeatureGate Gate, bool Enabled)> All => _known.Values.Select(g => (g, IsEnabled(g)));

    /// <summary>
    /// Applies one <c>--feature-gates</c> value as otelcol does: comma-separated ids, <c>-id</c> turns a gate off,
    /// <c>id</c> or <c>+id</c> on. Every error is collected and thrown together (<see cref="ArgumentException"/>);
    /// the returned notes say when a stable or deprecated gate was named to no effect.
    /// </summary>
    public IReadOnlyList<string> Apply(string flag)
    {
        var errors = new List<string>();
        var notes = new List<string>();
        if (flag.Length == 0) return notes;
        var ids = flag.Split(',');
        for (var i = 0; i < ids.Length; i++)
        {
            var id = ids[i].Trim();
            if (id.Length == 0)
            {
                errors.Add($"empty feature gate identifier at index {i}");
                continue;
            }
            var enable = id[0] != '-';
            if (id[0] is '-' or '+') id = id[1..];
            if (!_known.TryGetValue(id, out var gate))
            {
                errors.Add($"no such feature gate \"{id}\"; known gates: {string.Join(", ", _known.Keys)} (otelai featuregate lists them)");
                continue;
            }
            switch (gate.Stage)
            {
                case FeatureGateStage.Stable when !enable:
                    errors.Add($"feature gate \"{id}\" is stable, can not be disabled");
                    break;
                case FeatureGateStage.Stable:
                    notes.Add($"feature gate \"{id}\" is stable and already enabled; naming it has no effect");
                    break;
                case FeatureGateStage.Deprecated when enable:
                    errors.Add($"feature gate \"{id}\" is deprecated, can not be enabled");
                    break;
                case FeatureGateStage.Deprecated:
                    notes.Add($"feature gate \"{id}\" is deprecated and already disabled; naming it has no effect");
                    break;
                default:
                    _enabled[id] = enable;
                    break;
            }
        }
        if (errors.Count > 0) throw new ArgumentException("--feature-gates: " + string.Join("; ", errors));
        return notes;
    }
}
