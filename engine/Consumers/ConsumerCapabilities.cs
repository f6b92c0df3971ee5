namespace OtelAi.Engine.Consumers;

/// <summary>
/// What a consumer does with data it accepts, so that fan-out copies only where a copy is needed (otelcol's
/// consumer.Capabilities, which knows only MutatesData; RetainsData and ReadsContent are ours).
/// </summary>
/// <param name="MutatesData">It changes the data (in place, or anything downstream of it does): it needs data nobody else sees.</param>
/// <param name="RetainsData">
/// It keeps the data after ConsumeAsync returns (a memory sending queue, a batch buffer) without changing it: it may
/// share the data with other readers, but not with a consumer that changes it.
/// </param>
/// <param name="ReadsContent">
/// It (or anything downstream of it) reads what the payload says (names, attributes, values), so the payload gets
/// decoded. A consumer that only counts, batches, queues or sends encoded bytes says false, and a pipeline made of
/// such consumers never builds the request's object tree.
/// </param>
public readonly record struct ConsumerCapabilities(bool MutatesData, bool RetainsData, bool ReadsContent = true)
{
    /// <summary>Reads the data during the call and keeps nothing of it afterwards (debug, a send while the caller waits).</summary>
    public static ConsumerCapabilities ReadOnly => new(MutatesData: false, RetainsData: false);

    /// <summary>
    /// Never changes the data but may keep it after the call (a memory sending queue). The default for a consumer that
    /// says nothing, as otelcol's fan-out assumes: sharing it with a mutating consumer would be unsafe.
    /// </summary>
    public static ConsumerCapabilities Retains => new(MutatesData: false, RetainsData: true);

    public static ConsumerCapabilities Mutates => new(MutatesData: true, RetainsData: false);

    /// <summary>What a consumer that hands the same data to both of these does.</summary>
    public ConsumerCapabilities Union(ConsumerCapabilities other) =>
        new(MutatesData || other.MutatesData, RetainsData || other.RetainsData, ReadsContent || other.ReadsContent);

    /// <summary>What a consumer with these capabilities of its own does when it hands data on to <paramref name="next"/>.</summary>
    public ConsumerCapabilities Then(ConsumerCapabilities next) =>
        new(MutatesData || next.MutatesData, RetainsData, ReadsContent || next.ReadsContent);
}
