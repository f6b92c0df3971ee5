namespace OtelAi.Engine.Config;

/// <summary>Collects every error and warning of one load, so the user sees all problems at once.</summary>
internal sealed class ConfigIssues
{
    private readonly List<ConfigIssue> _issues = [];

    public bool HasErrors => _issues.Any(i => i.Severity == ConfigIssueSeverity.Error);

    public int ErrorCount => _issues.Count(i => i.Severity == ConfigIssueSeverity.Error);

    public IReadOnlyList<ConfigIssue> Warnings => _issues.Where(i => i.Severity == ConfigIssueSeverity.Warning).ToList();

    public void Error(string keyPath, string message, SourceLocation? location) =>
        _issues.Add(new ConfigIssue(ConfigIssueSeverity.Error, keyPath, message, location));

    public void Warning(string keyPath, string message, SourceLocation? location) =>
        _issues.Add(new ConfigIssue(ConfigIssueSeverity.Warning, keyPath, message, location));

    /// <summary>
    /// Adds the graph's errors found on a config whose components already have errors, except those about a
    /// component that is itself in error (its config did not bind, or its type is unknown, so the graph cannot see it):
    /// each problem is reported once, by whoever saw its cause.
    /// </summary>
    public void AddGraphErrors(IEnumerable<ConfigIssue> graphIssues)
    {
        var componentsInError = _issues.Where(i => i.Severity == ConfigIssueSeverity.Error)
            .Select(i => i.KeyPath.Split('.'))
            .Where(parts => parts.Length >= 2 && parts[0] is "receivers" or "processors" or "exporters" or "connectors" or "extensions")
            .Select(parts => parts[1])
            .ToHashSet(StringComparer.Ordinal);
        foreach (var issue in graphIssues)
        {
            if (issue.Severity != ConfigIssueSeverity.Error) continue;
            if (componentsInError.Any(id => issue.Message.Contains($"\"{id}\"", StringComparison.Ordinal) || issue.KeyPath.EndsWith("." + id, StringComparison.Ordinal))) continue;
            _issues.Add(issue);
        }
    }

    /// <summary>Throws a <see cref="ConfigException"/> listing every issue when any is an error.</summary>
    public void ThrowIfErrors()
    {
        if (HasErrors) throw new ConfigException(_issues.ToList());
    }
}
