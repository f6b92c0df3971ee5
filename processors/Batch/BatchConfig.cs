using OtelAi.Engine.Config;

namespace OtelAi.Processors.Batch;

[ConfigDescription("Groups data into batches by size or time before sending it on (otelcol's batch processor); optionally one batch stream per combination of client metadata values.")]
public sealed record BatchConfig : ComponentConfig
{
    [ConfigDescription("Time after which a batch is sent regardless of size; 0 sends data as soon as it arrives (still split by send_batch_max_size).")]
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMilliseconds(200);

    [ConfigDescription("Number of spans, metric data points or log records that triggers sending a batch.")]
    [ConfigRange(0, int.MaxValue)]
    public int SendBatchSize { get; init; } = 8192;

    [ConfigDescription("Upper bound of a batch; larger batches are split. 0 means no bound; otherwise it must be >= send_batch_size.")]
    [ConfigRange(0, int.MaxValue)]
    public int SendBatchMaxSize { get; init; }

    [ConfigDescription("Client metadata keys (case-insensitive; needs include_metadata on the receiver): each distinct combination of their values is batched separately and sent with that metadata.")]
    public List<string> MetadataKeys { get; init; } = [];

    [ConfigDescription("Maximum number of distinct metadata value combinations; data for further combinations is refused.")]
    [ConfigRange(0, int.MaxValue)]
    public int MetadataCardinalityLimit { get; init; } = 1000;

    public override IEnumerable<ConfigError> Validate()
    {
        if (SendBatchMaxSize > 0 && SendBatchMaxSize < SendBatchSize)
            yield return new ConfigError("send_batch_max_size", "send_batch_max_size must be greater or equal to send_batch_size");
        if (Timeout < TimeSpan.Zero)
            yield return new ConfigError("timeout", "timeout must be greater or equal to 0");
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var key in MetadataKeys)
            if (!seen.Add(key.ToLowerInvariant()))
                yield return new ConfigError("metadata_keys", $"duplicate entry in metadata_keys: \"{key.ToLowerInvariant()}\" (case-insensitive)");
        if (MetadataKeys.Count > 0 && MetadataCardinalityLimit == 0)
            yield return new ConfigError("metadata_cardinality_limit", "metadata_cardinality_limit must be greater than 0 when metadata_keys are set");
    }
}
