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

    /// <summary>Throws a <see cref="ConfigException"/> listing every issue when any is an error.</summary>
    public void ThrowIfErrors()
    {
        if (HasErrors) throw new ConfigException(_issues.ToList());
    }
}
