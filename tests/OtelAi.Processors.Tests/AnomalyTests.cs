using Google.Protobuf;
using OtelAi.Engine.Components;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Processors.Anomaly;
using OtelAi.TestSupport;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Processors.Tests;

/// <summary>The statistics under the anomaly connector, checked against exact answers.</summary>
public sealed class AnomalyStatisticsTests
{
    [Fact]
    public void Sketch_quantiles_are_within_one_percent_and_sketches_merge()
    {
        var random = new Random(7);
        var values = Enumerable.Range(0, 100_000).Select(_ => Math.Exp(random.NextDouble() * 6 - 1)).ToArray(); // 0.37 .. 148, log-uniform
        var whole = new QuantileSketch();
        var halves = new[] { new QuantileSketch(), new QuantileSketch() };
        for (var i = 0; i < values.Length; i++)
        {
            whole.Add(values[i]);
            halves[i % 2].Add(values[i]);
        }
        halves[0].Merge(halves[1]);
        var sorted = values.Order().ToArray();
        foreach (var q in new[] { 0.5, 0.95, 0.99 })
        {
            var exact = sorted[(int)(q * (sorted.Length - 1))];
            Assert.InRange(Math.Abs(whole.Quantile(q) - exact) / exact, 0, 0.0101);
            Assert.Equal(whole.Quantile(q), halves[0].Quantile(q));
        }
    }

    [Fact]
    public void Psi_and_ks_match_their_exact_values_on_the_raw_data()
    {
        var random = new Random(11);
        var reference = Enumerable.Range(0, 5000).Select(_ => 100 + random.NextDouble() * 900).ToArray();
        var same = Enumerable.Range(0, 5000).Select(_ => 100 + random.NextDouble() * 900).ToArray();
        var shifted = Enumerable.Range(0, 5000).Select(_ => 300 + random.NextDouble() * 900).ToArray();

        var (psiShifted, ksShifted) = (Drift.Psi(Sketch(reference), Sketch(shifted)), Drift.Ks(Sketch(reference), Sketch(shifted)));
        Assert.Equal(ExactPsi(reference, shifted), psiShifted, 0.05);
        Assert.Equal(ExactKs(reference, shifted), ksShifted, 0.02);
        Assert.True(psiShifted > 0.2, $"PSI {psiShifted}: a shift of 200 on a range of 900 is significant drift");
        Assert.True(Drift.Psi(Sketch(reference), Sketch(same)) < 0.1);
        Assert.True(Drift.Ks(Sketch(reference), Sketch(same)) < 0.05);
    }

    [Fact]
    public void Window_statistics_slope_peak_to_trough_rate_and_stddev()
    {
        var step = new StepAggregate();
        for (var t = 0; t < 10; t++) step.Add(2 * t + 1, t); // v = 2t + 1
        Assert.Equal(2, step.Read(Statistic.Slope, 10), 9);
        Assert.Equal(18, step.Read(Statistic.PeakToTrough, 10));
        Assert.Equal(1, step.Read(Statistic.Rate, 10));
        Assert.Equal(10, step.Read(Statistic.Mean, 10), 9);
        Assert.Equal(Math.Sqrt(33), step.Read(Statistic.StdDev, 10), 9); // population stddev of 1, 3, ..., 19
    }

    private static QuantileSketch Sketch(IEnumerable<double> values)
    {
        var sketch = new QuantileSketch();
        foreach (var value in values) sketch.Add(value);
        return sketch;
    }

    /// <summary>PSI over the reference's deciles, computed on the raw values (the hand-checkable definition).</summary>
    private static double ExactPsi(double[] reference, double[] current)
    {
        var sorted = reference.Order().ToArray();
        var edges = Enumerable.Range(1, 9).Select(d => sorted[(int)(d / 10.0 * (sorted.Length - 1))]).ToArray();
        double psi = 0;
        for (var bin = 0; bin < 10; bin++)
        {
            bool In(double v) => (bin == 0 || v > edges[bin - 1]) && (bin == 9 || v <= edges[bin]);
            var r = Math.Max(1e-4, reference.Count(In) / (double)reference.Length);
            var c = Math.Max(1e-4, current.Count(In) / (double)current.Length);
            psi += (c - r) * Math.Log(c / r);
        }
        return psi;
    }

    private static double ExactKs(double[] reference, double[] current) =>
        reference.Concat(current).Max(x => Math.Abs(reference.Count(v => v <= x) / (double)reference.Length - current.Count(v => v <= x) / (double)current.Length));
}

/// <summary>The anomaly engine on synthetic traffic, step by step on a manual clock.</summary>
public sealed class AnomalyEngineTests
{
    private readonly ManualTime _time = new(DateTimeOffset.FromUnixTimeSeconds(1_700_000_000));
    private readonly Sink<ExportLogsServiceRequest> _alerts = new();
    private readonly Sink<ExportMetricsServiceRequest> _gauges = new();

    private AnomalyEngine Engine(string yaml)
    {
        var engine = new AnomalyEngine(TestSettings.For(new ComponentId("anomaly"), ComponentKind.Connector), ConfigText.Bind<AnomalyConfig>(yaml), _time);
        engine.AddOutput(_alerts);
        engine.AddOutput(_gauges);
        return engine;
    }

    private static ExportTraceServiceRequest Spans(string model, double ms, int count, string version = "v1", bool error = false)
    {
        var scope = new ScopeSpans();
        for (var i = 0; i < count; i++)
        {
            var span = new Span
            {
                TraceId = ByteString.CopyFrom(Enumerable.Repeat((byte)1, 16).ToArray()), SpanId = ByteString.CopyFrom(Enumerable.Repeat((byte)2, 8).ToArray()),
                Name = "infer", StartTimeUnixNano = 1_000_000_000, EndTimeUnixNano = 1_000_000_000 + (ulong)(ms * 1e6),
                Attributes = { Attr("model_id", model), Attr("model_version", version) },
            };
            if (error) span.Status = new Status { Code = Status.Types.StatusCode.Error };
            scope.Spans.Add(span);
        }
        return new ExportTraceServiceRequest { ResourceSpans = { new ResourceSpans { Resource = Resource("triton"), ScopeSpans = { scope } } } };
    }

    /// <summary>One step: the traffic arrives, the clock moves a step, the rules judge the window that closed.</summary>
    private async Task StepAsync(AnomalyEngine engine, params ExportTraceServiceRequest[] traffic)
    {
        foreach (var request in traffic) engine.Observe(request);
        _time.Advance(TimeSpan.FromSeconds(1));
        await engine.EvaluateAsync(CancellationToken.None);
    }

    private List<(string Rule, string State, string Model)> Transitions() =>
        _alerts.Payloads.SelectMany(r => r.ResourceLogs).SelectMany(r => r.ScopeLogs).SelectMany(s => s.LogRecords)
            .Select(l => (l.Attributes.Get("alert.rule").AsString(), l.Attributes.Get("alert.state").AsString(), l.Attributes.Get("model_id").AsString())).ToList();

    private const string LatencyRules = """
        window: 3s
        step: 1s
        series:
          - name: latency
            source: span_duration
            group_by: [model_id]
        rules:
          - name: p95_regression
            series: latency
            statistic: p95
            detector: ratio_to_previous
            above: 1.5
            for: 1s
            level: WARN
          - name: slow_request
            series: latency
            statistic: max
            detector: threshold
            above: 3000
            level: CRIT
        """;

    [Fact]
    public async Task A_latency_spike_on_one_model_fires_within_two_steps_and_resolves_when_it_stops()
    {
        var engine = Engine(LatencyRules);
        for (var i = 0; i < 6; i++) await StepAsync(engine, Spans("llama", 100, 20), Spans("mistral", 80, 20));
        Assert.Empty(Transitions());

        for (var i = 0; i < 2; i++) await StepAsync(engine, Spans("llama", 400, 20), Spans("mistral", 80, 20));
        Assert.Contains(("p95_regression", "pending", "llama"), Transitions());
        await StepAsync(engine, Spans("llama", 400, 20), Spans("mistral", 80, 20));
        Assert.Contains(("p95_regression", "firing", "llama"), Transitions());
        Assert.DoesNotContain(Transitions(), t => t.Model == "mistral");

        await StepAsync(engine, Spans("llama", 100, 19), Spans("llama", 3500, 1), Spans("mistral", 80, 20));
        Assert.Contains(("slow_request", "firing", "llama"), Transitions());
        var critical = _alerts.Payloads.SelectMany(r => r.ResourceLogs[0].ScopeLogs[0].LogRecords).Last(l => l.Attributes.Get("alert.rule").AsString() == "slow_request");
        Assert.Equal((SeverityNumber.Fatal, "CRIT"), (critical.SeverityNumber, critical.SeverityText));
        Assert.Equal(3500, critical.Attributes.Get("alert.value")!.DoubleValue, 0);

        for (var i = 0; i < 8; i++) await StepAsync(engine, Spans("llama", 100, 20), Spans("mistral", 80, 20));
        Assert.Contains(("p95_regression", "resolved", "llama"), Transitions());
        Assert.Contains(("slow_request", "resolved", "llama"), Transitions());
        Assert.DoesNotContain(Transitions(), t => t.Model == "mistral");

        var active = _gauges.Payloads.Last().ResourceMetrics[0].ScopeMetrics[0].Metrics.Single(m => m.Name == "otelai.alert.active");
        Assert.All(active.Gauge.DataPoints, p => Assert.Equal(0, p.AsInt));
    }

    [Fact]
    public async Task Canary_is_compared_with_stable_and_error_ratios_work_through_the_mean()
    {
        var engine = Engine("""
            window: 2s
            step: 1s
            series:
              - name: errors
                source: span_error
                group_by: [model_id, model_version]
            rules:
              - name: canary_errors
                series: errors
                statistic: mean
                detector: compare
                compare: {label: model_version, canary: v2, baseline: v1}
                above: 2
                min_count: 10
            """);
        await StepAsync(engine, Spans("llama", 10, 95, "v1"), Spans("llama", 10, 5, "v1", error: true),
            Spans("llama", 10, 18, "v2"), Spans("llama", 10, 2, "v2", error: true)); // 5 % vs 10 %: 2x, not above 2
        Assert.Empty(Transitions());
        await StepAsync(engine, Spans("llama", 10, 95, "v1"), Spans("llama", 10, 5, "v1", error: true),
            Spans("llama", 10, 14, "v2"), Spans("llama", 10, 6, "v2", error: true)); // the window: 5 % vs 20 %
        Assert.Equal([("canary_errors", "firing", "llama")], Transitions());
    }

    [Fact]
    public async Task Drift_fires_on_a_shifted_distribution_and_not_on_an_unshifted_one()
    {
        var engine = Engine("""
            window: 2s
            step: 1s
            series:
              - name: tokens
                source: span_attribute
                attribute: gen_ai.usage.output_tokens
                group_by: [model_id]
            rules:
              - name: output_drift
                series: tokens
                statistic: p50
                detector: psi
                reference: first
                min_count: 100
            """);
        var random = new Random(3);
        ExportTraceServiceRequest Tokens(string model, int offset)
        {
            var request = Spans(model, 10, 200);
            foreach (var span in request.ResourceSpans[0].ScopeSpans[0].Spans) span.Attributes.Add(Attr("gen_ai.usage.output_tokens", (long)(offset + random.Next(100, 400))));
            return request;
        }
        for (var i = 0; i < 4; i++) await StepAsync(engine, Tokens("llama", 0), Tokens("mistral", 0));
        Assert.Empty(Transitions());
        for (var i = 0; i < 2; i++) await StepAsync(engine, Tokens("llama", 150), Tokens("mistral", 0));
        Assert.Equal([("output_drift", "firing", "llama")], Transitions());
        var psi = _gauges.Payloads.Last().ResourceMetrics[0].ScopeMetrics[0].Metrics.Single(m => m.Name == "otelai.anomaly.value").Gauge.DataPoints
            .Single(p => p.Attributes.Get("model_id").AsString() == "llama").AsDouble;
        Assert.True(psi > 0.2, $"PSI {psi}");
    }

    [Fact]
    public async Task A_GPU_memory_ramp_fires_on_slope_and_peak_to_trough_of_a_gauge()
    {
        var engine = Engine("""
            window: 5s
            step: 1s
            series:
              - name: gpu_memory
                source: metric
                metric: DCGM_FI_DEV_FB_USED
                group_by: [gpu]
            rules:
              - name: memory_ramp
                series: gpu_memory
                statistic: peak_to_trough
                detector: threshold
                above: 1200
                level: CRIT
              - name: memory_rising
                series: gpu_memory
                statistic: slope
                detector: threshold
                above: 0.8
              - name: memory_jump
                series: gpu_memory
                statistic: peak_to_trough
                detector: threshold
                above: 1000
                silent: true
              - name: memory_runaway
                all: [memory_jump, memory_rising]
                level: CRIT
            """);
        ExportMetricsServiceRequest Gauge(double mib, string gpu) => new()
        {
            ResourceMetrics = { new ResourceMetrics { ScopeMetrics = { new ScopeMetrics { Metrics = { new Metric { Name = "DCGM_FI_DEV_FB_USED", Gauge = new Gauge { DataPoints = { new NumberDataPoint { AsDouble = mib, Attributes = { Attr("gpu", gpu) } } } } } } } } } },
        };
        async Task MetricStepAsync(double gpu0, double gpu1)
        {
            engine.Observe(Gauge(gpu0, "0"));
            engine.Observe(Gauge(gpu1, "1"));
            _time.Advance(TimeSpan.FromSeconds(1));
            await engine.EvaluateAsync(CancellationToken.None);
        }
        for (var i = 0; i < 6; i++) await MetricStepAsync(20_000, 30_000);
        Assert.Empty(Transitions());
        for (var i = 1; i <= 4; i++) await MetricStepAsync(20_000 + 400 * i, 30_000);
        var transitions = _alerts.Payloads.SelectMany(r => r.ResourceLogs[0].ScopeLogs[0].LogRecords)
            .Select(l => (l.Attributes.Get("alert.rule").AsString(), l.Attributes.Get("gpu").AsString(), l.Attributes.Get("alert.state").AsString())).ToList();
        Assert.Contains(("memory_ramp", "0", "firing"), transitions);
        Assert.Contains(("memory_rising", "0", "firing"), transitions);
        Assert.Contains(("memory_runaway", "0", "firing"), transitions);
        Assert.DoesNotContain(transitions, t => t.Item1 == "memory_jump"); // silent: a building block only
        Assert.DoesNotContain(transitions, t => t.Item2 == "1");
    }

    [Fact]
    public async Task Sigma_against_an_EWMA_of_the_history_weighs_recent_windows_most()
    {
        // Windows of one step each; the history of three earlier windows holds means 10, 10, 20 (newest last).
        const string rules = """
            window: 1s
            step: 1s
            series:
              - name: tokens
                source: span_attribute
                attribute: tokens
                group_by: [model_id]
            rules:
              - name: tokens_sigma
                series: tokens
                statistic: mean
                detector: sigma
                history: 3
                {0}
                above: 1000
            """;
        async Task<(double Value, double Baseline)> JudgeAsync(string smoothing)
        {
            var engine = Engine(rules.Replace("{0}", smoothing));
            ExportTraceServiceRequest Tokens(long value)
            {
                var request = Spans("llama", 10, 1);
                request.ResourceSpans[0].ScopeSpans[0].Spans[0].Attributes.Add(Attr("tokens", value));
                return request;
            }
            foreach (var tokens in new long[] { 10, 10, 20, 26 }) await StepAsync(engine, Tokens(tokens));
            var metrics = _gauges.Payloads.Last().ResourceMetrics[0].ScopeMetrics[0].Metrics;
            return (metrics.Single(m => m.Name == "otelai.anomaly.value").Gauge.DataPoints.Single().AsDouble,
                metrics.Single(m => m.Name == "otelai.anomaly.baseline").Gauge.DataPoints.Single().AsDouble);
        }

        // Windowed: mean 40/3, sample stddev sqrt(100/3) = 5.774: |26 - 13.33| / 5.774 = 2.194.
        var (windowed, windowedBaseline) = await JudgeAsync("");
        Assert.Equal(40.0 / 3, windowedBaseline, 9);
        Assert.Equal((26 - 40.0 / 3) / Math.Sqrt(100.0 / 3), windowed, 9);

        // EWMA with smoothing 0.5: weights 1, 0.5, 0.25 for 20, 10, 10. Mean 27.5 / 1.75 = 15.714; reliability-weighted
        // variance sum(w (v - mean)^2) / (V1 - V2 / V1) = 42.857 / (1.75 - 1.3125 / 1.75) = 42.857; sigma 6.547: 1.571.
        var (ewma, ewmaBaseline) = await JudgeAsync("smoothing: 0.5");
        var mean = 27.5 / 1.75;
        var variance = (1 * (20 - mean) * (20 - mean) + 0.75 * (10 - mean) * (10 - mean)) / (1.75 - 1.3125 / 1.75);
        Assert.Equal(mean, ewmaBaseline, 9);
        Assert.Equal((26 - mean) / Math.Sqrt(variance), ewma, 9);
        Assert.True(ewmaBaseline > windowedBaseline, "the newest window (20) pulls the EWMA baseline up");
    }

    [Fact]
    public async Task Histogram_metrics_give_their_observations_cumulative_by_increase_and_delta_as_they_are()
    {
        var engine = Engine("""
            window: 2s
            step: 1s
            series:
              - name: latency
                source: metric
                metric: http.server.request.duration
                group_by: [model_id]
            rules:
              - name: p95_high
                series: latency
                statistic: p95
                detector: threshold
                above: 0.5
            """);
        double[] bounds = [0.1, 0.25, 0.5, 1, 2.5];
        ExportMetricsServiceRequest Histogram(string model, AggregationTemporality temporality, ulong start, params ulong[] counts) => new()
        {
            ResourceMetrics = { new ResourceMetrics { ScopeMetrics = { new ScopeMetrics { Metrics = { new Metric
            {
                Name = "http.server.request.duration",
                Histogram = new Histogram
                {
                    AggregationTemporality = temporality,
                    DataPoints = { new HistogramDataPoint { StartTimeUnixNano = start, Count = counts.Aggregate(0UL, (a, c) => a + c), ExplicitBounds = { bounds }, BucketCounts = { counts }, Attributes = { Attr("model_id", model) } } },
                },
            } } } } } },
        };
        async Task<double> P95Async(string model)
        {
            _time.Advance(TimeSpan.FromSeconds(1));
            await engine.EvaluateAsync(CancellationToken.None);
            return _gauges.Payloads.Last().ResourceMetrics[0].ScopeMetrics[0].Metrics.Single(m => m.Name == "otelai.anomaly.value").Gauge.DataPoints
                .Single(p => p.Attributes.Get("model_id").AsString() == model).AsDouble;
        }

        // Cumulative: the first point (a long history of slow requests) only sets the start.
        engine.Observe(Histogram("llama", AggregationTemporality.Cumulative, 1, 0, 0, 0, 0, 1000, 0));
        engine.Observe(Histogram("llama", AggregationTemporality.Cumulative, 1, 100, 0, 0, 0, 1000, 0)); // +100 fast ones
        Assert.InRange(await P95Async("llama"), 0, 0.1); // uniform over (0, 0.1]: p95 ≈ 0.095
        Assert.Empty(Transitions());
        engine.Observe(Histogram("llama", AggregationTemporality.Cumulative, 1, 100, 0, 0, 100, 1000, 0)); // +100 in (0.5, 1]
        var p95 = await P95Async("llama");
        Assert.InRange(p95, 0.9, 1.0); // half fast, half in (0.5, 1]: p95 is at 90 % of that bucket
        Assert.Equal([("p95_high", "firing", "llama")], Transitions());

        // A reset (a new start time) starts over from its own counts; a delta point is taken as it is.
        engine.Observe(Histogram("mistral", AggregationTemporality.Delta, 0, 0, 10, 0, 0, 0, 0));
        engine.Observe(Histogram("mistral", AggregationTemporality.Delta, 0, 0, 10, 0, 0, 0, 0));
        Assert.InRange(await P95Async("mistral"), 0.1, 0.25);
    }

    [Fact]
    public async Task An_OTTL_condition_selects_the_spans_and_a_webhook_gets_the_alerts_with_retries()
    {
        var posts = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var answers = new System.Collections.Concurrent.ConcurrentQueue<int>([503]);
        await using var webhook = await OtelAi.Otlp.Hosting.ServerHost.StartAsync("127.0.0.1:0", async context =>
        {
            using var reader = new StreamReader(context.Request.Body);
            posts.Enqueue(await reader.ReadToEndAsync());
            context.Response.StatusCode = answers.TryDequeue(out var status) ? status : 200;
        }, OtelAi.Otlp.Hosting.ServerHostSetup.Http1, CancellationToken.None);
        var engine = Engine($$"""
            window: 1s
            step: 1s
            series:
              - name: chat_latency
                source: span_duration
                condition: attributes["http.route"] == "/v1/chat/completions"
                group_by: [model_id]
            rules:
              - {name: slow_chat, series: chat_latency, statistic: max, detector: threshold, above: 1000}
            webhook:
              endpoint: http://127.0.0.1:{{webhook.Port}}/alerts
              initial_interval: 10ms
            """);
        ExportTraceServiceRequest Routed(string route, double ms)
        {
            var request = Spans("llama", ms, 1);
            request.ResourceSpans[0].ScopeSpans[0].Spans[0].Attributes.Add(Attr("http.route", route));
            return request;
        }
        await StepAsync(engine, Routed("/v1/embeddings", 5000), Routed("/v1/chat/completions", 100));
        Assert.Empty(Transitions()); // the slow span is not a chat span
        await StepAsync(engine, Routed("/v1/chat/completions", 2000));
        Assert.Equal([("slow_chat", "firing", "llama")], Transitions());

        Assert.Equal(2, posts.Count); // refused with 503 once, then accepted
        using var sent = System.Text.Json.JsonDocument.Parse(posts.Last());
        Assert.Equal("firing", sent.RootElement.GetProperty("status").GetString());
        var alert = sent.RootElement.GetProperty("alerts")[0];
        Assert.Equal(("slow_chat", "llama", "warning"), (alert.GetProperty("labels").GetProperty("alertname").GetString(),
            alert.GetProperty("labels").GetProperty("model_id").GetString(), alert.GetProperty("labels").GetProperty("severity").GetString()));
    }

    [Fact]
    public async Task Windows_and_alert_states_survive_a_restart_through_file_storage()
    {
        var directory = Directory.CreateTempSubdirectory("otelai-anomaly-state-").FullName;
        var storageId = new ComponentId("file_storage");
        const string Config = """
            window: 2s
            step: 1s
            storage: file_storage
            series:
              - name: latency
                source: span_duration
                group_by: [model_id]
            rules:
              - {name: p95_regression, series: latency, statistic: p95, detector: ratio_to_previous, above: 1.5}
            """;
        async Task<(AnomalyEngine Engine, IComponent Storage)> StartAsync()
        {
            var storage = new OtelAi.Engine.Extensions.FileStorage.FileStorageFactory().CreateExtension(TestSettings.For(storageId, ComponentKind.Extension),
                new OtelAi.Engine.Extensions.FileStorage.FileStorageConfig { Directory = directory, CreateDirectory = true });
            var host = new OtelAi.TestSupport.TestHost((storageId, storage));
            await storage.StartAsync(host, CancellationToken.None);
            var engine = Engine(Config);
            await engine.StartAsync(host, CancellationToken.None);
            return (engine, storage);
        }
        try
        {
            var (first, firstStorage) = await StartAsync();
            for (var i = 0; i < 2; i++) await StepAsync(first, Spans("llama", 100, 20));
            for (var i = 0; i < 2; i++) await StepAsync(first, Spans("llama", 400, 20));
            Assert.Equal([("p95_regression", "firing", "llama")], Transitions());
            await first.StopAsync();
            await firstStorage.ShutdownAsync(CancellationToken.None);

            // The new engine knows the slow window (no second "firing"), and resolves against it when latency recovers.
            var (second, secondStorage) = await StartAsync();
            for (var i = 0; i < 3; i++) await StepAsync(second, Spans("llama", 100, 20));
            Assert.Equal([("p95_regression", "firing", "llama"), ("p95_regression", "resolved", "llama")], Transitions());
            var ratio = _gauges.Payloads.SelectMany(r => r.ResourceMetrics[0].ScopeMetrics[0].Metrics).Where(m => m.Name == "otelai.anomaly.value")
                .Select(m => m.Gauge.DataPoints.Single().AsDouble).ToList();
            Assert.Contains(ratio, r => r < 0.5); // 100 ms against the stored 400 ms window
            await second.StopAsync();
            await secondStorage.ShutdownAsync(CancellationToken.None);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_late_evaluation_still_judges_every_step_that_closed()
    {
        var engine = Engine("""
            window: 1s
            step: 1s
            series: [{name: latency, group_by: [model_id]}]
            rules: [{name: slow, series: latency, statistic: max, detector: threshold, above: 1000}]
            """);
        await StepAsync(engine); // the first evaluation sets the pace
        engine.Observe(Spans("llama", 2000, 1));
        _time.Advance(TimeSpan.FromSeconds(3)); // the timer fires three steps late (load, a GC pause)
        await engine.EvaluateAsync(CancellationToken.None);
        // The steps after it hold no values: the alert resolves, as a Prometheus rule whose expression returns nothing.
        Assert.Equal([("slow", "firing", "llama"), ("slow", "resolved", "llama")], Transitions());
    }

    [Fact]
    public async Task A_tick_seconds_late_does_not_lose_the_values_of_short_steps()
    {
        var engine = Engine("""
            window: 100ms
            step: 100ms
            series: [{name: latency, group_by: [model_id]}]
            rules: [{name: seen, series: latency, statistic: count, detector: threshold, above: 0}]
            """);
        _time.Advance(TimeSpan.FromMilliseconds(100));
        await engine.EvaluateAsync(CancellationToken.None);
        engine.Observe(Spans("llama", 20, 1));
        _time.Advance(TimeSpan.FromSeconds(5)); // fifty steps: a loaded CI machine delayed the timer that long
        await engine.EvaluateAsync(CancellationToken.None);
        Assert.Equal([("seen", "firing", "llama"), ("seen", "resolved", "llama")], Transitions());
    }

    [Fact]
    public void Config_errors_name_the_rule_and_key()
    {
        var error = Assert.Throws<OtelAi.Engine.Config.ConfigException>(() => ConfigText.Bind<AnomalyConfig>("""
            window: 7s
            step: 2s
            series: [{name: latency, group_by: [model_id]}]
            rules:
              - {name: r, series: nope, statistic: p95, detector: threshold, above: 1}
              - {name: c, series: latency, detector: compare, compare: {label: version, canary: b, baseline: a}, above: 2}
              - {name: both, all: [r, missing]}
            """)).Message;
        Assert.Contains("window: must be a whole number of steps", error);
        Assert.Contains("rules[0].series: no series named \"nope\"", error);
        Assert.Contains("rules[1].compare.label", error);
        Assert.Contains("rules[2].all: no rule named \"missing\"", error);
        Assert.Contains("series[0].condition", Assert.Throws<OtelAi.Engine.Config.ConfigException>(() => ConfigText.Bind<AnomalyConfig>(
            "series: [{name: s, condition: 'attributes[\"x\"] ==='}]\nrules: [{name: r, series: s, detector: threshold, above: 1}]")).Message);
    }
}
