namespace OtelAi.Engine.Exporter;

/// <summary>What the exporter helper needs from an exporter's config (each part is validated as its own config section).</summary>
public sealed record ExporterHelperOptions(TimeSpan Timeout, RetryConfig Retry, QueueConfig Queue);
