namespace OtelAi.TestSupport;

/// <summary>A clock tests move by hand: the wall clock (<see cref="Now"/>) and the monotonic timestamp (<see cref="Ticks"/>, in TimeSpan ticks).</summary>
public sealed class ManualTime(DateTimeOffset? start = null) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = start ?? DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    public long Ticks { get; set; }

    public override DateTimeOffset GetUtcNow() => Now;

    public override long GetTimestamp() => Ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    /// <summary>Moves both clocks forward.</summary>
    public void Advance(TimeSpan by)
    {
        Ticks += by.Ticks;
        Now += by;
    }
}
