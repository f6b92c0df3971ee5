namespace OtelAi.Otlp;

/// <summary>The three OTLP signals. Pipeline ids are named after them (<c>traces</c>, <c>metrics</c>, <c>logs</c>).</summary>
public enum Signal
{
    Traces,
    Metrics,
    Logs,
}

public static class SignalNames
{
    public static string ToConfigName(this Signal signal) => signal switch
    {
        Signal.Traces => "traces",
        Signal.Metrics => "metrics",
        Signal.Logs => "logs",
        _ => throw new ArgumentOutOfRangeException(nameof(signal)),
    };

    public static bool TryParse(string name, out Signal signal)
    {
        switch (name)
        {
            case "traces": signal = Signal.Traces; return true;
            case "metrics": signal = Signal.Metrics; return true;
            case "logs": signal = Signal.Logs; return true;
            default: signal = default; return false;
        }
    }

    /// <summary>The word otelcol uses in self-telemetry metric names: spans, metric_points, log_records.</summary>
    public static string ItemName(this Signal signal) => signal switch
    {
        Signal.Traces => "spans",
        Signal.Metrics => "metric_points",
        Signal.Logs => "log_records",
        _ => throw new ArgumentOutOfRangeException(nameof(signal)),
    };
}
