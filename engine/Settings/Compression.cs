using OtelAi.Engine.Config;

namespace OtelAi.Engine.Settings;

/// <summary>otelcol's configcompression types that otelai's clients speak; which ones a client accepts is its own rule.</summary>
public enum Compression
{
    // The first key is the canonical one; "" is otelcol's way of writing "no compression" too.
    [ConfigKey("none")] [ConfigKey("")] None,
    [ConfigKey("gzip")] Gzip,
    [ConfigKey("deflate")] Deflate,
}
