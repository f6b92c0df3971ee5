namespace OtelAi.Engine.Components;

/// <summary>
/// A component that describes its live state on the zpages live page and API (the tail sampler's buffer and
/// decisions per policy, the anomaly connector's active alerts). Called about once a second while the page is open.
/// </summary>
public interface ILiveStatus
{
    LivePanel LiveStatus();
}

/// <summary>A panel of the live page: named values, then tables.</summary>
public sealed record LivePanel(string Title, IReadOnlyList<LiveField> Fields, IReadOnlyList<LiveTable> Tables);

public sealed record LiveField(string Name, string Value);

public sealed record LiveTable(string Title, IReadOnlyList<string> Columns, IReadOnlyList<IReadOnlyList<string>> Rows);
