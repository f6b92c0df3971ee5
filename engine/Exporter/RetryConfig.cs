using OtelAi.Engine.Config;

namespace OtelAi.Engine.Exporter;

/// <summary>otelcol's <c>retry_on_failure</c>: exponential backoff with jitter between attempts of one request.</summary>
public sealed record RetryConfig : IConfigSection
{
    [ConfigDescription("Retry failed requests that are not permanent errors.")]
    public bool Enabled { get; init; } = true;

    [ConfigDescription("Wait after the first failure before retrying.")]
    public TimeSpan InitialInterval { get; init; } = TimeSpan.FromSeconds(5);

    [ConfigDescription("Upper bound of the wait between two attempts.")]
    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromSeconds(30);

    [ConfigDescription("Give up on a request after retrying for this long (0 = retry forever).")]
    public TimeSpan MaxElapsedTime { get; init; } = TimeSpan.FromSeconds(300);

    [ConfigDescription("Factor the wait grows by after each failed attempt.")]
    public double Multiplier { get; init; } = 1.5;

    [ConfigDescription("Jitter: each wait is picked at random within interval × (1 ± randomization_factor).")]
    [ConfigRange(0, 1)]
    public double RandomizationFactor { get; init; } = 0.5;

    public IEnumerable<ConfigError> Validate()
    {
        if (!Enabled) yield break;
        if (InitialInterval <= TimeSpan.Zero) yield return new("initial_interval", "must be positive");
        if (MaxInterval <= TimeSpan.Zero) yield return new("max_interval", "must be positive");
        if (MaxInterval < InitialInterval) yield return new("max_interval", "must not be smaller than initial_interval");
        if (MaxElapsedTime < TimeSpan.Zero) yield return new("max_elapsed_time", "must not be negative");
        if (Multiplier < 1) yield return new("multiplier", "must be at least 1");
        if (RandomizationFactor is < 0 or > 1) yield return new("randomization_factor", "must be between 0 and 1");
    }
}
