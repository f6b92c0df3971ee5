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
    /// <summary>Inference-shaped spans (routes, statuses, gen_ai.*, token counts, a request body naming the model) instead of generic ones.</summary>
    public bool Ai { get; init; }

    public const string Usage = """
        otelai-loadgen: a telemetrygen-like OTLP load generator, and a counting sink to send to.

          otelai-loadgen traces|metrics|logs [options]     send load, then print throughput, latency and the watched process' CPU/RSS
            --endpoint HOST:PORT        where to send (default localhost:4317; the HTTP default path is added for --protocol http)
            --protocol grpc|http        OTLP/gRPC or OTLP/HTTP protobuf (default grpc)
            --rate ITEMS_PER_S          spans, points or records per second over all workers (default 0: as fast as accepted)
            --duration 10s              how long to send (ms, s, m)
            --workers N                 concurrent senders (default 1)
            --batch N                   items per request (default 100)
            --attributes N              attributes per item (default 2), --attribute-type int|string (default int)
            --ai                        traces only: inference-shaped spans (see below)
            --gzip                      compress requests
            --watch-pid PID             sample this process' CPU and RSS during the run (the engine under test)
          otelai-loadgen sink --grpc-endpoint HOST:PORT [--http-endpoint HOST:PORT]   count what arrives, print rates
          otelai-loadgen ebpf [--pin PATH] [--rate EVENTS_PER_S] [--duration 10s] [--metrics-url URL] [--engine-config FILE]
                                      (as root) feed a pinned perf buffer and read the engine's eBPF receiver metrics

        With --ai, spans look like an inference server's: routes /v1/chat/completions, /v1/embeddings and
        /v2/models/{model}/infer; models llama-3-8b, mistral-7b and resnet50; about 2 % answered 500/503 with error
        status; gen_ai.operation.name, gen_ai.request.model, token counts, and the request body as http.request.body.
        Run against config-samples/quickstart.yaml and the debug exporter shows aiattributes' model_id, model_version,
        inference_time and the token counts on every span.
        """;

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
                "--ai" => options with { Ai = true },
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
