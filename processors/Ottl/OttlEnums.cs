namespace OtelAi.Processors.Ottl;

/// <summary>The enum symbols otelcol's OTTL contexts define, with pdata's numbering.</summary>
internal static class OttlEnums
{
    private static readonly Dictionary<string, long> Values = Build();

    public static long? Lookup(string name) => Values.TryGetValue(name, out var value) ? value : null;

    private static Dictionary<string, long> Build()
    {
        var values = new Dictionary<string, long>(StringComparer.Ordinal)
        {
            ["SPAN_KIND_UNSPECIFIED"] = 0,
            ["SPAN_KIND_INTERNAL"] = 1,
            ["SPAN_KIND_SERVER"] = 2,
            ["SPAN_KIND_CLIENT"] = 3,
            ["SPAN_KIND_PRODUCER"] = 4,
            ["SPAN_KIND_CONSUMER"] = 5,
            ["STATUS_CODE_UNSET"] = 0,
            ["STATUS_CODE_OK"] = 1,
            ["STATUS_CODE_ERROR"] = 2,
            ["AGGREGATION_TEMPORALITY_UNSPECIFIED"] = 0,
            ["AGGREGATION_TEMPORALITY_DELTA"] = 1,
            ["AGGREGATION_TEMPORALITY_CUMULATIVE"] = 2,
            ["METRIC_DATA_TYPE_NONE"] = 0,
            ["METRIC_DATA_TYPE_GAUGE"] = 1,
            ["METRIC_DATA_TYPE_SUM"] = 2,
            ["METRIC_DATA_TYPE_HISTOGRAM"] = 3,
            ["METRIC_DATA_TYPE_EXPONENTIAL_HISTOGRAM"] = 4,
            ["METRIC_DATA_TYPE_SUMMARY"] = 5,
            ["SEVERITY_NUMBER_UNSPECIFIED"] = 0,
        };
        string[] levels = ["TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"];
        for (var level = 0; level < levels.Length; level++)
        {
            values[$"SEVERITY_NUMBER_{levels[level]}"] = level * 4 + 1;
            for (var sub = 2; sub <= 4; sub++) values[$"SEVERITY_NUMBER_{levels[level]}{sub}"] = level * 4 + sub;
        }
        return values;
    }
}
