using OtelAi.Engine.Components;
using OtelAi.Engine.Config;

namespace OtelAi.Engine.Exporter;

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

    public const int MaxConsumers = 1000;

    [ConfigDescription("Number of consumers sending queued requests concurrently (at most 1000).")]
    public int NumConsumers { get; init; } = 10;

    [ConfigDescription("Capacity of the queue, in units of `sizer`; as in otelcol, requests being sent count until their send is over.")]
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
        // Each consumer is a task with its own buffers: a million of them (accepted before) took 620 MB at start.
        else if (NumConsumers > MaxConsumers) yield return new("num_consumers", $"{NumConsumers} is more than {MaxConsumers} (each consumer holds memory; more than the backend's concurrency gains nothing)");
        if (QueueSize <= 0) yield return new("queue_size", "must be positive");
        if (Storage is not null && Sizer != QueueSizer.Requests)
            yield return new("sizer", "a persistent queue (storage set) counts requests only: use sizer: requests");
    }
}
