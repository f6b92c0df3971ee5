namespace OtelAi.Engine;

/// <summary>
/// What a shutdown did with the data in flight: items exporters delivered while draining, queue entries persistent
/// queues keep on disk for the next start, and items dropped (counted by the exporters as send or enqueue failures).
/// </summary>
public sealed record ShutdownSummary(long Delivered, long KeptQueued, long Dropped);
