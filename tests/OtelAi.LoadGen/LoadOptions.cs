using System.Globalization;
using OtelAi.Otlp;

namespace OtelAi.LoadGen;

public enum Transport { Grpc, Http }

public enum AttributeType { Int, String }

/// <summary>Command-line options, named like otelcol's telemetrygen where it has the same option.</summary>
public sealed record LoadOptions
{
    public Signal Signal { get; init; } = Signal.Traces;
    public string Endpoint { get; init; } = "localhost:4317";
    public Transport Transport { get; init; } = Transport.Grpc;
    /// <summary>Items (spans, points, records) per second over all workers; 0 sends as fast as the server accepts.</summary>
    public double Rate { get; init; }
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(10);
    public int Workers { get; init; } = 1;
    public int ItemsPerRequest { get; init; } = 100;
    public int Attributes { get; init; } = 2;
    public AttributeType AttributeType { get; init; } = AttributeType.Int;
    public bool Gzip { get; init; }
    /// <summary>Process whose CPU and RSS are sampled during the run (the engine under test).</summary>
    public int? WatchPid { get; init; }

    public static LoadOptions Parse(string signal, IReadOnlyList<string> args)
    {
        if (!SignalNames.TryParse(signal, out var parsedSignal)) throw new ArgumentException($"unknown signal \"{signal}\": use traces, metrics or logs");
        var options = new LoadOptions { Signal = parsedSignal };
        for (var i = 0; i < args.Count; i++)
        {
            var (name, inlineValue) = Split(args[i]);
            string Value() => inlineValue ?? (++i < args.Count ? args[i] : throw new ArgumentException($"{name} needs a value"));
            options = name switch
            {
                "--endpoint" => options with { Endpoint = Value() },
                "--protocol" or "--transport" => options with { Transport = Value() switch { "grpc" => Transport.Grpc, "http" => Transport.Http, var v => throw new ArgumentException($"--protocol {v}: use grpc or http") } },
                "--rate" => options with { Rate = double.Parse(Value(), CultureInfo.InvariantCulture) },
                "--duration" => options with { Duration = ParseDuration(Value()) },
                "--workers" => options with { Workers = Positive(name, Value()) },
                "--batch" or "--items-per-request" or "--spans-per-request" => options with { ItemsPerRequest = Positive(name, Value()) },
                "--attributes" => options with { Attributes = int.Parse(Value(), CultureInfo.InvariantCulture) },
                "--attribute-type" => options with { AttributeType = Value() switch { "int" => AttributeType.Int, "string" => AttributeType.String, var v => throw new ArgumentException($"--attribute-type {v}: use int or string") } },
                "--gzip" => options with { Gzip = true },
                "--watch-pid" => options with { WatchPid = Positive(name, Value()) },
                _ => throw new ArgumentException($"unknown option {name}"),
            };
        }
        return options;
    }

    internal static (string Name, string? Value) Split(string arg)
    {
        var eq = arg.IndexOf('=');
        return eq < 0 ? (arg, null) : (arg[..eq], arg[(eq + 1)..]);
    }

    internal static int Positive(string name, string text) =>
        int.TryParse(text, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : throw new ArgumentException($"{name} must be a positive integer, got \"{text}\"");

    public static TimeSpan ParseDuration(string text)
    {
        var unit = text.TrimStart("0123456789.".ToCharArray());
        var number = double.Parse(text[..^unit.Length], CultureInfo.InvariantCulture);
        return unit switch
        {
            "ms" => TimeSpan.FromMilliseconds(number),
            "s" or "" => TimeSpan.FromSeconds(number),
            "m" => TimeSpan.FromMinutes(number),
            _ => throw new ArgumentException($"bad duration \"{text}\": use e.g. 500ms, 30s, 2m"),
        };
    }
}
