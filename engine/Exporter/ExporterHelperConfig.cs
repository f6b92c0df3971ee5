using OtelAi.Engine.Components;
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

/// <summary>How the sending queue measures its size against <see cref="QueueConfig.QueueSize"/>.</summary>
public enum QueueSizer
{
    [ConfigKey("requests")] Requests,
    [ConfigKey("items")] Items,
    [ConfigKey("bytes")] Bytes,
}

/// <summary>otelcol's <c>sending_queue</c>: requests wait here for one of the consumers that send them.</summary>
public sealed record QueueConfig : IConfigSection
{
    [ConfigDescription("Queue requests and send them in the background; when false each request is sent while the caller waits.")]
    public bool Enabled { get; init; } = true;

    [ConfigDescription("Number of consumers sending queued requests concurrently.")]
    public int NumConsumers { get; init; } = 10;

    [ConfigDescription("Capacity of the queue, in units of `sizer`.")]
    public long QueueSize { get; init; } = 1000;

    [ConfigDescription("What queue_size counts: requests, items (spans, data points, log records) or bytes (serialized size).")]
    public QueueSizer Sizer { get; init; } = QueueSizer.Requests;

    [ConfigDescription("When the queue is full, wait for room instead of refusing the data.")]
    public bool Blocking { get; init; }

    [ConfigDescription("Id of a storage extension (e.g. file_storage) that makes the queue persistent across restarts.")]
    public ComponentId? Storage { get; init; }

    public IEnumerable<ConfigError> Validate()
    {
        if (!Enabled) yield break;
        if (NumConsumers <= 0) yield return new("num_consumers", "must be positive");
        if (QueueSize <= 0) yield return new("queue_size", "must be positive");
        if (Storage is not null && Sizer != QueueSizer.Requests)
            yield return new("sizer", "a persistent queue (storage set) counts requests only: use sizer: requests");
    }
}

/// <summary>What the exporter helper needs from an exporter's config (each part is validated as its own config section).</summary>
public sealed record ExporterHelperOptions(TimeSpan Timeout, RetryConfig Retry, QueueConfig Queue);
