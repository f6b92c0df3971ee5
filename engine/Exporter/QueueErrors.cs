using OtelAi.Otlp;

namespace OtelAi.Engine.Exporter;

/// <summary>The refusals both sending queues give.</summary>
internal static class QueueErrors
{
    public static RetryableDataException Full(long capacity) =>
        new($"sending queue is full (capacity {capacity}); the destination is not keeping up or is unavailable");

    public static RetryableDataException Closed() => new("sending queue is shut down");
}
