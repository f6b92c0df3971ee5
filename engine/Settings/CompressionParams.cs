using OtelAi.Engine.Config;

namespace OtelAi.Engine.Settings;

/// <summary>otelcol's configcompression CompressionParams: the level of the client's body or message compression.</summary>
public sealed record CompressionParams
{
    /// <summary>
    /// otelai's level when none is set: zlib level 2 compresses OTLP batches within about 0.3 % of the default level
    /// 6 at about a quarter of its CPU (GzipLevelBenchmarks: 5,000 spans, 722 KB → 102.4 KB in 0.9 ms at level 2,
    /// 102.1 KB in 3.2 ms at level 6, 120 KB in 0.5 ms at level 1).
    /// </summary>
    public const int DefaultLevel = 2;

    [ConfigDescription("zlib level for gzip and deflate: 1 (fastest) to 9 (smallest), -1 for zlib's default (6), -2 for Huffman coding only; 0 or unset uses otelai's default, level 2.")]
    public int Level { get; init; }

    /// <summary>The level to compress with.</summary>
    public int EffectiveLevel => Level == 0 ? DefaultLevel : Level;

    /// <summary>otelcol's ValidateParams: zlib levels for gzip and deflate, no parameters for no compression.</summary>
    public IEnumerable<ConfigError> Validate(Compression compression)
    {
        if (compression is Compression.Gzip or Compression.Deflate)
        {
            if (Level is < -2 or > 9)
                yield return new("compression_params.level", $"unsupported level {Level} for compression \"{compression.ToString().ToLowerInvariant()}\" (1 to 9, -1 default, -2 Huffman only)");
        }
        else if (Level != 0)
        {
            yield return new("compression_params.level", $"unsupported parameters {{Level:{Level}}} for compression type \"none\"");
        }
    }
}
