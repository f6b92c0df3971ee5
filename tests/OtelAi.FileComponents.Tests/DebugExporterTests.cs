using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Exporters.DebugOutput;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.FileComponents.Tests;

public sealed class DebugExporterTests
{
    private readonly CapturingLogger _logger = new();

    private ComponentCreateSettings Settings => TestSettings.For(new ComponentId("debug"), ComponentKind.Exporter) with { Logger = _logger };

    private async Task<List<string>> Export<T>(DebugVerbosity verbosity, params T[] batches) where T : class, IMessage<T>, new()
    {
        var exporter = new DebugExporterFactory().CreateExporter<T>(Settings, new DebugExporterConfig { Verbosity = verbosity });
        await exporter.StartAsync(new TestHost(), CancellationToken.None);
        foreach (var batch in batches) await exporter.ConsumeAsync(batch, CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);
        return _logger.Messages(LogLevel.Information).ToList();
    }

    [Fact]
    public async Task Basic_logs_one_line_of_counts_per_batch()
    {
        Assert.Equal(["Traces {\"resource spans\": 1, \"spans\": 3}"], await Export(DebugVerbosity.Basic, SampleData.Traces(3)));
        _logger.Entries.Clear();
        Assert.Equal(["Metrics {\"resource metrics\": 1, \"metrics\": 3, \"data points\": 7}"], await Export(DebugVerbosity.Basic, SampleData.Metrics(7)));
        _logger.Entries.Clear();
        Assert.Equal(["Logs {\"resource logs\": 1, \"log records\": 2}"], await Export(DebugVerbosity.Basic, SampleData.Logs(2)));
    }

    [Fact]
    public async Task Normal_adds_one_line_per_span_point_and_record()
    {
        var traces = SampleData.Traces(3);
        var lines = await Export(DebugVerbosity.Normal, traces);
        Assert.Equal(2, lines.Count);
        var spanLines = lines[1].Split('\n');
        Assert.Equal(3, spanLines.Length);
        var span = traces.ResourceSpans[0].ScopeSpans[0].Spans[1];
        Assert.Equal(
            $"{span.Name} {Convert.ToHexStringLower(span.TraceId.Span)} {Convert.ToHexStringLower(span.SpanId.Span)} http.request.method=POST http.response.status_code=500 ratio=0.5 ok=true",
            spanLines[1]);

        _logger.Entries.Clear();
        var metricLines = (await Export(DebugVerbosity.Normal, SampleData.Metrics(3)))[1].Split('\n');
        Assert.Equal(["gpu.memory.used{gpu=0} 1000", "requests{route=/r1} 1.5", "latency{i=2} count=6 sum=12.5 min=0.5 max=7 buckets=[1,2,3] bounds=[1,5]"], metricLines);

        _logger.Entries.Clear();
        var logLines = (await Export(DebugVerbosity.Normal, SampleData.Logs(2)))[1].Split('\n');
        Assert.Equal(["request 0 served i=0", "request 1 served i=1"], logLines);
    }

    [Fact]
    public async Task Detailed_dumps_every_field()
    {
        var traces = SampleData.Traces(2);
        var dump = (await Export(DebugVerbosity.Detailed, traces))[1];
        var span = traces.ResourceSpans[0].ScopeSpans[0].Spans[0];
        Assert.Contains("ResourceSpans #0\nResource SchemaURL: https://opentelemetry.io/schemas/1.26.0\nResource attributes:\n     -> service.name: Str(inference-api)\n", dump);
        Assert.Contains("InstrumentationScope test.scope 1.2.3\n", dump);
        Assert.Contains($"Span #0\n    Trace ID       : {Convert.ToHexStringLower(span.TraceId.Span)}\n    Parent ID      : \n", dump);
        Assert.Contains("    Kind           : Server\n", dump);
        Assert.Contains("    Start time     : 2023-11-14 22:13:20 +0000 UTC\n", dump);
        Assert.Contains("    End time       : 2023-11-14 22:13:20.025 +0000 UTC\n", dump);
        Assert.Contains("    Status code    : Error\n    Status message : boom\n", dump);
        Assert.Contains("     -> http.response.status_code: Int(200)\n     -> ratio: Double(0.5)\n     -> ok: Bool(true)\n", dump);
        Assert.Contains("SpanEvent #0\n     -> Name: token\n", dump);
        Assert.Contains("SpanLink #0\n", dump);
        Assert.Contains("Span #1\n", dump);

        _logger.Entries.Clear();
        var metrics = (await Export(DebugVerbosity.Detailed, SampleData.Metrics(3)))[1];
        Assert.Contains("Metric #1\nDescriptor:\n     -> Name: requests\n", metrics);
        Assert.Contains("     -> IsMonotonic: true\n     -> AggregationTemporality: Cumulative\nNumberDataPoints #0\n", metrics);
        Assert.Contains("HistogramDataPoints #0\n", metrics);
        Assert.Contains("ExplicitBounds #1: 5\nBuckets #0, Count: 1\n", metrics);

        _logger.Entries.Clear();
        var logs = (await Export(DebugVerbosity.Detailed, SampleData.Logs(1)))[1];
        Assert.Contains("LogRecord #0\n", logs);
        Assert.Contains("SeverityText: INFO\nSeverityNumber: Info(9)\nBody: Str(request 0 served)\n", logs);
        Assert.Contains("Trace ID: 000102030405060708090a0b0c0d0e0f\n", logs);
    }

    [Fact]
    public async Task Sampling_logs_the_first_outputs_of_each_second_then_every_nth()
    {
        var time = new ManualTime(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
        var exporter = new DebugExporter<ExportLogsServiceRequest>(Settings, new DebugExporterConfig { SamplingInitial = 2, SamplingThereafter = 3 }, time: time);
        for (var i = 0; i < 8; i++) await exporter.ConsumeAsync(SampleData.Logs(i + 1), CancellationToken.None);
        time.Now = time.Now.AddSeconds(1);
        await exporter.ConsumeAsync(SampleData.Logs(20), CancellationToken.None);

        // Outputs 1 and 2, then 5 and 8 (every 3rd after the initial two), then the first of the next second.
        Assert.Equal([1, 2, 5, 8, 20], _logger.Messages(LogLevel.Information)
            .Select(m => int.Parse(m.Split("\"log records\": ")[1].TrimEnd('}'))));
    }

    [Fact]
    public async Task Without_the_internal_logger_output_goes_to_the_writer_unsampled()
    {
        var output = new StringWriter { NewLine = "\n" };
        var exporter = new DebugExporter<ExportTraceServiceRequest>(Settings, new DebugExporterConfig { UseInternalLogger = false, Verbosity = DebugVerbosity.Normal, SamplingInitial = 0, SamplingThereafter = 100 }, output);
        for (var i = 0; i < 3; i++) await exporter.ConsumeAsync(SampleData.Traces(1), CancellationToken.None);
        await exporter.ShutdownAsync(CancellationToken.None);
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(6, lines.Length);
        Assert.Equal("Traces {\"resource spans\": 1, \"spans\": 1}", lines[0]);
        Assert.StartsWith("POST /v1/models/llama-0/infer ", lines[1]);
        Assert.Empty(_logger.Entries);
    }

    [Fact]
    public async Task Normal_through_the_collectors_logger_reads_as_lines_and_a_body_with_a_line_break_stays_on_its_own_line()
    {
        var output = new StringWriter();
        using (var loggers = LoggerFactory.Create(b => b.AddProvider(new OtelAi.Engine.Logging.LineLoggerProvider(output, LogLevel.Information, OtelAi.Engine.Logging.LogEncoding.Console))))
        {
            var settings = Settings with { Logger = loggers.CreateLogger("exporter/debug") };
            var exporter = new DebugExporterFactory().CreateExporter<ExportLogsServiceRequest>(settings, new DebugExporterConfig { Verbosity = DebugVerbosity.Normal });
            await exporter.StartAsync(new TestHost(), CancellationToken.None);
            var logs = SampleData.Logs(2);
            logs.ResourceLogs[0].ScopeLogs[0].LogRecords[0].Body = new OtelAi.Otlp.Proto.Common.V1.AnyValue { StringValue = "first line\nsecond line" };
            await exporter.ConsumeAsync(logs, CancellationToken.None);
            await exporter.ShutdownAsync(CancellationToken.None);
        }
        var lines = output.ToString().TrimEnd('\n').Split('\n');
        // The summary event, then the body event: its first line after the header, each further item on its own
        // indented line; the record's own line break is shown as \n, so it cannot pass for another record.
        Assert.Equal(3, lines.Length);
        Assert.EndsWith("Logs {\"resource logs\": 1, \"log records\": 2}", lines[0]);
        Assert.Contains("\texporter/debug\tfirst line\\nsecond line", lines[1]);
        Assert.StartsWith("\t", lines[2]);
        Assert.DoesNotContain("\\n", lines[2]);
    }

    [Fact]
    public async Task Normal_shows_histogram_min_and_max_only_when_the_point_has_them()
    {
        var metrics = new ExportMetricsServiceRequest { ResourceMetrics = { new OtelAi.Otlp.Proto.Metrics.V1.ResourceMetrics { ScopeMetrics = { new OtelAi.Otlp.Proto.Metrics.V1.ScopeMetrics { Metrics =
        {
            new OtelAi.Otlp.Proto.Metrics.V1.Metric { Name = "without", Histogram = new() { DataPoints = { new OtelAi.Otlp.Proto.Metrics.V1.HistogramDataPoint { Count = 2, Sum = 3 } } } },
            new OtelAi.Otlp.Proto.Metrics.V1.Metric { Name = "with", Histogram = new() { DataPoints = { new OtelAi.Otlp.Proto.Metrics.V1.HistogramDataPoint { Count = 2, Sum = 3, Min = 1, Max = 2 } } } },
        } } } } } };
        var body = (await Export(DebugVerbosity.Normal, metrics))[1].Split('\n');
        Assert.Equal("without{} count=2 sum=3 buckets=[] bounds=[]", body[0]);
        Assert.Equal("with{} count=2 sum=3 min=1 max=2 buckets=[] bounds=[]", body[1]);
    }

    [Fact]
    public void Config_defaults_match_otelcol()
    {
        var config = new DebugExporterConfig();
        Assert.Equal(DebugVerbosity.Basic, config.Verbosity);
        Assert.Equal(2, config.SamplingInitial);
        Assert.Equal(1, config.SamplingThereafter);
        Assert.True(config.UseInternalLogger);
        Assert.Contains(new DebugExporterConfig { SamplingThereafter = 0 }.Validate(), e => e.Path == "sampling_thereafter");
    }
}
