using System.Diagnostics;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using OtelAi.Engine;
using OtelAi.Engine.Config;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Engine.Components;
using Status = OtelAi.Otlp.Proto.Trace.V1.Status;
using OtelAi.Processors.TailSampling;
using OtelAi.Processors.TailSampling.Policies;
using OtelAi.TestSupport;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Processors.Tests;

public sealed class TailSamplingTests
{
    private static readonly DateTimeOffset Start = DateTimeOffset.UtcNow.AddMinutes(-1);

    /// <summary>A trace id whose first byte is <paramref name="n"/>: the tests name traces by number.</summary>
    private static ByteString TraceId(int n) => ByteString.CopyFrom([(byte)n, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, (byte)(n >> 8)]);

    private static Span NewSpan(int trace, int index, int durationMs = 10, bool root = false, Status.Types.StatusCode status = Status.Types.StatusCode.Unset, params KeyValue[] attributes)
    {
        var start = (ulong)Start.ToUnixTimeMilliseconds() * 1_000_000;
        var span = new Span
        {
            TraceId = TraceId(trace),
            SpanId = ByteString.CopyFrom(BitConverter.GetBytes((long)(trace * 1000 + index + 1))),
            ParentSpanId = root ? ByteString.Empty : ByteString.CopyFrom(BitConverter.GetBytes((long)(trace * 1000))),
            Name = $"span {index}",
            StartTimeUnixNano = start,
            EndTimeUnixNano = start + (ulong)durationMs * 1_000_000,
            Status = new Status { Code = status },
        };
        span.Attributes.Add(attributes);
        return span;
    }

    private static ExportTraceServiceRequest Request(params Span[] spans) => new()
    {
        ResourceSpans = { new ResourceSpans { Resource = SampleData.Resource("inference-api"), ScopeSpans = { new ScopeSpans { Scope = new InstrumentationScope { Name = "test" }, Spans = { spans } } } } },
    };

    private sealed record Run(IProcessor<ExportTraceServiceRequest> Processor, Sink<ExportTraceServiceRequest> Sink, ComponentCreateSettings Settings) : IAsyncDisposable
    {
        /// <summary>First bytes of the trace ids that came out, once each.</summary>
        public IReadOnlyList<int> KeptTraces() => Sink.Payloads.SelectMany(p => p.ResourceSpans).SelectMany(r => r.ScopeSpans)
            .SelectMany(s => s.Spans).Select(s => (int)s.TraceId[0]).Distinct().Order().ToList();

        public int SpansOf(int trace) => Sink.Payloads.SelectMany(p => p.ResourceSpans).SelectMany(r => r.ScopeSpans)
            .SelectMany(s => s.Spans).Count(s => s.TraceId[0] == trace);

        public double Metric(string name, params (string, string)[] labels) =>
            Settings.Metrics.Read(name, [("processor", "tail_sampling"), .. labels]) ?? 0;

        public async ValueTask DisposeAsync() => await Processor.ShutdownAsync(CancellationToken.None);
    }

    private static async Task<Run> StartAsync(string yaml, FeatureGates? gates = null)
    {
        var config = ConfigText.Bind<TailSamplingConfig>(yaml);
        var sink = new Sink<ExportTraceServiceRequest>();
        var settings = TestHost.Settings("tail_sampling");
        if (gates is not null) settings = settings with { FeatureGates = gates };
        var processor = new TailSamplingProcessorFactory().CreateProcessor(settings, config, sink);
        await processor.StartAsync(TestHost.Instance, CancellationToken.None);
        return new Run(processor, sink, settings);
    }

    /// <summary>Sends the requests, then waits out decision_wait and the decision tick.</summary>
    private static async Task SendAndDecideAsync(Run run, params ExportTraceServiceRequest[] requests)
    {
        foreach (var request in requests) await run.Processor.ConsumeAsync(request, CancellationToken.None);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (run.Metric("otelcol_processor_tail_sampling_sampling_traces_on_memory") > 0 && DateTime.UtcNow < deadline) await Task.Delay(20);
        Assert.Equal(0, run.Metric("otelcol_processor_tail_sampling_sampling_traces_on_memory"));
    }

    [Theory]
    [InlineData(0.01, 1844674407370955UL)]
    [InlineData(1, 184467440737095519UL)]
    [InlineData(10, 1844674407370955263UL)]
    [InlineData(33.3, 6142765776545279999UL)]
    [InlineData(50, 9223372036854775807UL)]
    [InlineData(99.9, 18428297329635844095UL)]
    [InlineData(100, 18446744073709551615UL)]
    public void Probabilistic_threshold_equals_otelcols(double percentage, ulong expected) =>
        // Expected values printed by Go's big.Float arithmetic, as otelcol's calculateThreshold does it.
        Assert.Equal(expected, ProbabilisticPolicy.Threshold(percentage / 100));

    [Fact]
    public void Probabilistic_hash_is_fnv1a_over_salt_and_trace_id_as_in_otelcol()
    {
        byte[] id = [0x4b, 0xf9, 0x2f, 0x35, 0x77, 0xb3, 0x4d, 0xa6, 0xa3, 0xce, 0x92, 0x9d, 0x0e, 0x0e, 0x47, 0x36];
        // Values printed by Go's hash/fnv New64a over the same bytes.
        Assert.Equal(11908981664384643253UL, ProbabilisticPolicy.Hash("default-hash-seed"u8, id));
        Assert.Equal(15019696169235946662UL, ProbabilisticPolicy.Hash("tier-2"u8, id));
    }

    [Fact]
    public async Task Keeps_whole_error_and_slow_traces_and_drops_the_rest()
    {
        await using var run = await StartAsync("""
            decision_wait: 200ms
            policies:
              - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
              - { name: slow, type: latency, latency: { threshold_ms: 500 } }
            """);
        await SendAndDecideAsync(run,
            Request(NewSpan(1, 0, root: true), NewSpan(2, 0, root: true)),
            Request(NewSpan(1, 1, status: Status.Types.StatusCode.Error), NewSpan(2, 1), NewSpan(3, 0, durationMs: 900, root: true)),
            Request(NewSpan(1, 2), NewSpan(3, 1)));
        Assert.Equal([1, 3], run.KeptTraces());
        Assert.Equal(3, run.SpansOf(1));
        Assert.Equal(2, run.SpansOf(3));
        Assert.Equal(2, run.Metric("otelcol_processor_tail_sampling_global_count_traces_sampled", ("sampled", "true")));
        Assert.Equal(1, run.Metric("otelcol_processor_tail_sampling_global_count_traces_sampled", ("sampled", "false")));
        Assert.Equal(1, run.Metric("otelcol_processor_tail_sampling_count_traces_sampled", ("policy", "errors"), ("sampled", "true")));
    }

    [Fact]
    public async Task Invert_match_not_sampled_overrides_other_policies_and_drop_overrides_everything()
    {
        await using var run = await StartAsync("""
            decision_wait: 200ms
            policies:
              - { name: all, type: always_sample }
              - { name: not-acme, type: string_attribute, string_attribute: { key: tenant, values: [acme], invert_match: true } }
              - name: no-health
                type: drop
                drop: { drop_sub_policy: [ { name: health, type: string_attribute, string_attribute: { key: http.route, values: ["/health.*"], enabled_regex_matching: true } } ] }
            """);
        await SendAndDecideAsync(run, Request(
            NewSpan(1, 0, attributes: SampleData.Attr("tenant", "acme")),
            NewSpan(2, 0, attributes: SampleData.Attr("tenant", "other")),
            NewSpan(3, 0, attributes: SampleData.Attr("http.route", "/healthz")),
            NewSpan(4, 0)));
        Assert.Equal([2, 4], run.KeptTraces());
    }

    [Fact]
    public async Task Attribute_count_state_and_ottl_policies_follow_otelcols_semantics()
    {
        await using var run = await StartAsync("""
            decision_wait: 200ms
            policies:
              - { name: status, type: numeric_attribute, numeric_attribute: { key: http.response.status_code, min_value: 500, max_value: 599 } }
              - { name: flagged, type: boolean_attribute, boolean_attribute: { key: debug, value: true } }
              - { name: big, type: span_count, span_count: { min_spans: 3 } }
              - { name: state, type: trace_state, trace_state: { key: vendor, values: [keep] } }
              - { name: chat, type: ottl_condition, ottl_condition: { span: ['attributes["gen_ai.request.model"] == "llama-3" and kind == SPAN_KIND_SERVER'] } }
              - name: both
                type: and
                and: { and_sub_policy: [ { name: a, type: string_attribute, string_attribute: { key: route, values: [/v1/embed] } }, { name: b, type: latency, latency: { threshold_ms: 100 } } ] }
            """);
        var withState = NewSpan(5, 0);
        withState.TraceState = "other=1,vendor=keep";
        var chat = NewSpan(6, 0, attributes: SampleData.Attr("gen_ai.request.model", "llama-3"));
        chat.Kind = Span.Types.SpanKind.Server;
        var chatClient = NewSpan(7, 0, attributes: SampleData.Attr("gen_ai.request.model", "llama-3"));
        await SendAndDecideAsync(run, Request(
            NewSpan(1, 0, attributes: SampleData.Attr("http.response.status_code", 503L)),
            NewSpan(2, 0, attributes: SampleData.Attr("http.response.status_code", 404L)),
            NewSpan(3, 0, attributes: SampleData.Attr("debug", true)),
            NewSpan(4, 0), NewSpan(4, 1), NewSpan(4, 2),
            withState, chat, chatClient,
            NewSpan(8, 0, durationMs: 150, attributes: SampleData.Attr("route", "/v1/embed")),
            NewSpan(9, 0, durationMs: 50, attributes: SampleData.Attr("route", "/v1/embed"))));
        Assert.Equal([1, 3, 4, 5, 6, 8], run.KeptTraces());
    }

    [Fact]
    public async Task Rate_limiting_and_composite_share_a_span_budget_per_second()
    {
        await using var run = await StartAsync("""
            decision_wait: 200ms
            policies:
              - { name: limit, type: rate_limiting, rate_limiting: { spans_per_second: 4 } }
            """);
        await SendAndDecideAsync(run, Request(NewSpan(1, 0), NewSpan(1, 1), NewSpan(2, 0), NewSpan(2, 1), NewSpan(3, 0), NewSpan(3, 1)));
        Assert.Equal(2, run.KeptTraces().Count);

        await using var composite = await StartAsync("""
            decision_wait: 200ms
            policies:
              - name: budget
                type: composite
                composite:
                  max_total_spans_per_second: 10
                  policy_order: [errors, rest]
                  composite_sub_policy:
                    - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
                    - { name: rest, type: always_sample }
                  rate_allocation:
                    - { policy: errors, percent: 50 }
                    - { policy: rest, percent: 20 }
            """);
        var spans = Enumerable.Range(1, 8).Select(t => NewSpan(t, 0, status: t <= 7 ? Status.Types.StatusCode.Error : Status.Types.StatusCode.Unset)).ToArray();
        await SendAndDecideAsync(composite, Request(spans));
        // errors may take 5 spans per second, the rest 2. As in otelcol-contrib, the first sub-policy that samples a
        // trace decides: error traces over the errors share are not handed to "rest", which keeps the one other trace.
        var kept = composite.KeptTraces();
        Assert.Equal(6, kept.Count);
        Assert.Contains(8, kept);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task The_recordpolicy_gate_names_the_deciding_policy_on_a_copy_of_the_scope(bool gateOn)
    {
        var gates = new FeatureGates(new TailSamplingProcessorFactory().FeatureGates);
        if (gateOn) gates.Apply("processor.tailsamplingprocessor.recordpolicy");
        await using var run = await StartAsync("""
            decision_wait: 200ms
            policies:
              - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
              - name: budget
                type: composite
                composite:
                  max_total_spans_per_second: 100
                  policy_order: [slow, rest]
                  composite_sub_policy:
                    - { name: slow, type: latency, latency: { threshold_ms: 1000 } }
                    - { name: rest, type: always_sample }
            """, gates);
        var request = Request(NewSpan(1, 0, status: Status.Types.StatusCode.Error), NewSpan(2, 0));
        await SendAndDecideAsync(run, request);
        Assert.Equal([1, 2], run.KeptTraces());
        var scopes = run.Sink.Payloads.SelectMany(p => p.ResourceSpans).SelectMany(r => r.ScopeSpans)
            .ToDictionary(s => (int)s.Spans[0].TraceId[0], s => s.Scope);
        if (gateOn)
        {
            Assert.Equal("errors", scopes[1].Attributes.Get("tailsampling.policy").AsString());
            Assert.Null(scopes[1].Attributes.Get("tailsampling.composite_policy"));
            Assert.Equal("budget", scopes[2].Attributes.Get("tailsampling.policy").AsString());
            Assert.Equal("rest", scopes[2].Attributes.Get("tailsampling.composite_policy").AsString());
            Assert.All(scopes.Values, scope => Assert.Equal("test", scope.Name));
        }
        else Assert.All(scopes.Values, scope => Assert.Empty(scope.Attributes));
        Assert.Empty(request.ResourceSpans[0].ScopeSpans[0].Scope.Attributes); // the two traces shared this scope: it is copied, not changed
    }

    [Fact]
    public async Task Route_rules_match_path_globs_templates_and_regexes_and_statuses_by_class_range_grpc_and_span_status()
    {
        await using var run = await StartAsync("""
            decision_wait: 200ms
            policies:
              - name: routes
                type: route
                route:
                  rules:
                    - { name: model-faults, path: ["/v2/models/{id}/infer"], status: [500-599], action: keep }
                    - { name: grpc-unavailable, status: [UNAVAILABLE], action: keep }
                    - { name: errors, path: ["regex:^/v1/(chat|embeddings)"], status: [ERROR], action: keep }
                    - { name: slow-llama, model: ["llama-*"], min_duration: 2s, action: keep }
                    - { name: client-errors, status: [4xx], action: drop }
                    - { name: rest, path: ["/v1/*"], percentage: 0.0001 }
            """);
        await SendAndDecideAsync(run, Request(
            NewSpan(1, 0, root: true, attributes: [Attr("url.path", "/v2/models/42/infer?x=1"), Attr("http.response.status_code", 503L)]), // template match
            NewSpan(2, 0, root: true, attributes: [Attr("url.path", "/v2/models/42/infer"), Attr("http.response.status_code", 200L)]),
            NewSpan(3, 0, root: true, attributes: [Attr("rpc.grpc.status_code", 14L)]), // UNAVAILABLE
            NewSpan(4, 0, root: true, status: Status.Types.StatusCode.Error, attributes: [Attr("http.route", "/v1/chat/completions")]),
            NewSpan(5, 0, root: true, status: Status.Types.StatusCode.Error, attributes: [Attr("http.route", "/v2/chat")]),
            NewSpan(6, 0, durationMs: 2500, root: true, attributes: [Attr("gen_ai.request.model", "llama-3-70b")]),
            NewSpan(7, 0, durationMs: 2500, root: true, attributes: [Attr("gen_ai.request.model", "mistral")]),
            NewSpan(8, 0, root: true, attributes: [Attr("http.route", "/v1/chat"), Attr("http.status_code", "404")]), // the older attribute, as a string
            NewSpan(9, 0, root: true, attributes: [Attr("http.route", "/v1/chat"), Attr("http.response.status_code", 200L)])));
        Assert.Equal([1, 3, 4, 6], run.KeptTraces());
    }

    [Fact]
    public async Task Route_rules_read_the_root_span_first_match_wins_and_no_match_leaves_the_vote_to_other_policies()
    {
        await using var run = await StartAsync("""
            decision_wait: 200ms
            policies:
              - name: routes
                type: route
                route:
                  rules:
                    - { name: probes, path: [/health], action: drop }
                    - { name: faults, status: [5xx], action: keep }
              - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
            """);
        await SendAndDecideAsync(run, Request(
            // Trace 1: a 5xx child under a 200 root: rules read the root, so no fault; the error child samples it through status_code.
            NewSpan(1, 0, root: true, attributes: [Attr("url.path", "/v1/chat"), Attr("http.response.status_code", 200L)]),
            NewSpan(1, 1, status: Status.Types.StatusCode.Error, attributes: [Attr("http.response.status_code", 502L)]),
            // Trace 2: a 5xx probe: the first rule (drop) wins, and a drop wins over the error policy too.
            NewSpan(2, 0, root: true, status: Status.Types.StatusCode.Error, attributes: [Attr("url.path", "/health"), Attr("http.response.status_code", 500L)]),
            // Trace 3: no root yet, a server span with 500 is read instead.
            new Span(NewSpan(3, 1, attributes: [Attr("url.path", "/v1/chat"), Attr("http.response.status_code", 500L)])) { Kind = Span.Types.SpanKind.Server },
            // Trace 4: nothing matches and nothing else samples it.
            NewSpan(4, 0, root: true, attributes: [Attr("url.path", "/v1/chat"), Attr("http.response.status_code", 200L)])));
        Assert.Equal([1, 3], run.KeptTraces());
    }

    [Fact]
    public async Task Route_percentage_keeps_the_traces_probabilistic_keeps_and_rates_are_per_route_and_status_class()
    {
        await using var probabilistic = await StartAsync("""
            decision_wait: 200ms
            policies: [ { name: p, type: probabilistic, probabilistic: { sampling_percentage: 30, hash_salt: s } } ]
            """);
        await using var route = await StartAsync("""
            decision_wait: 200ms
            policies: [ { name: r, type: route, route: { hash_salt: s, rules: [ { percentage: 30 } ] } } ]
            """);
        var traces = Enumerable.Range(1, 60).Select(t => NewSpan(t, 0, root: true)).ToArray();
        await SendAndDecideAsync(probabilistic, Request([.. traces.Select(s => s.Clone())]));
        await SendAndDecideAsync(route, Request(traces));
        Assert.NotEmpty(route.KeptTraces());
        Assert.Equal(probabilistic.KeptTraces(), route.KeptTraces());

        await using var rated = await StartAsync("""
            decision_wait: 200ms
            policies: [ { name: r, type: route, route: { rules: [ { path: ["/v1/*"], spans_per_second: 2 } ] } } ]
            """);
        // Three single-span traces per key: two per second pass for /v1/chat 2xx, /v1/chat 5xx and /v1/embed 2xx each.
        var spans = new List<Span>();
        var t = 1;
        foreach (var (path, status) in new[] { ("/v1/chat", 200L), ("/v1/chat", 503L), ("/v1/embed", 200L) })
            for (var i = 0; i < 3; i++) spans.Add(NewSpan(t++, 0, root: true, attributes: [Attr("http.route", path), Attr("http.response.status_code", status)]));
        await SendAndDecideAsync(rated, Request([.. spans]));
        Assert.Equal(6, rated.KeptTraces().Count);
    }

    [Fact]
    public async Task Route_explain_names_the_policy_and_rule_and_match_on_any_reads_every_span()
    {
        await using var run = await StartAsync("""
            decision_wait: 200ms
            explain: true
            policies:
              - name: playbook
                type: route
                route:
                  match_on: any
                  rules:
                    - { name: deep-faults, status: [5xx], condition: 'attributes["db.system"] == "postgresql"', action: keep }
            """);
        await SendAndDecideAsync(run, Request(
            NewSpan(1, 0, root: true, attributes: [Attr("http.response.status_code", 200L)]),
            NewSpan(1, 1, attributes: [Attr("http.response.status_code", 500L), Attr("db.system", "postgresql")]),
            NewSpan(2, 0, root: true, attributes: [Attr("http.response.status_code", 500L)])));
        Assert.Equal([1], run.KeptTraces());
        Assert.All(run.Sink.Payloads.SelectMany(p => p.ResourceSpans).SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans),
            span => Assert.Equal("playbook/deep-faults", span.Attributes.Get("otelai.sampling.rule").AsString()));
    }

    [Fact]
    public async Task Late_spans_follow_the_decision_of_their_trace()
    {
        await using var run = await StartAsync("""
            decision_wait: 150ms
            decision_cache: { sampled_cache_size: 100, non_sampled_cache_size: 100 }
            policies:
              - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
            """);
        await SendAndDecideAsync(run, Request(NewSpan(1, 0, status: Status.Types.StatusCode.Error), NewSpan(2, 0)));
        await run.Processor.ConsumeAsync(Request(NewSpan(1, 1), NewSpan(2, 1)), CancellationToken.None);
        Assert.Equal(2, run.SpansOf(1)); // forwarded at once, no second decision
        Assert.Equal(0, run.SpansOf(2));
        Assert.Equal(2, run.Metric("otelai_processor_tail_sampling_late_spans"));
        Assert.Equal(2, run.Metric("otelcol_processor_tail_sampling_new_trace_id_received"));
    }

    [Fact]
    public async Task Root_span_shortens_the_wait_and_full_buffers_decide_the_oldest_trace_early()
    {
        await using var run = await StartAsync("""
            decision_wait: 30s
            decision_wait_after_root_received: 100ms
            num_traces: 2
            policies: [ { name: all, type: always_sample } ]
            """);
        await run.Processor.ConsumeAsync(Request(NewSpan(1, 1), NewSpan(1, 0, root: true)), CancellationToken.None);
        await run.Sink.WaitForAsync(1); // decided 100 ms after its root, not after 30 s
        Assert.Equal(2, run.SpansOf(1));

        await run.Processor.ConsumeAsync(Request(NewSpan(2, 0), NewSpan(3, 0), NewSpan(4, 0)), CancellationToken.None);
        await run.Sink.WaitForAsync(2);
        Assert.Equal([1, 2], run.KeptTraces()); // trace 2 made room for trace 4: decided on what it had, not dropped
        Assert.Equal(1, run.Metric("otelai_processor_tail_sampling_traces_decided_early", ("reason", "num_traces")));
        // Trace 2 leaves the buffer once its spans are forwarded; 3 and 4 wait for their decision_wait.
        for (var i = 0; i < 100 && run.Metric("otelcol_processor_tail_sampling_sampling_traces_on_memory") != 2; i++) await Task.Delay(20);
        Assert.Equal(2, run.Metric("otelcol_processor_tail_sampling_sampling_traces_on_memory"));
    }

    [Fact]
    public async Task Oversized_traces_are_dropped_early_and_shutdown_decides_or_drops_the_rest()
    {
        await using (var run = await StartAsync("""
            decision_wait: 30s
            maximum_trace_size_bytes: 300
            policies: [ { name: all, type: always_sample } ]
            """))
        {
            var big = Enumerable.Range(0, 10).Select(i => NewSpan(1, i, attributes: SampleData.Attr("payload", new string('x', 40)))).ToArray();
            await run.Processor.ConsumeAsync(Request([.. big, NewSpan(2, 0)]), CancellationToken.None);
            Assert.Equal(1, run.Metric("otelcol_processor_tail_sampling_sampling_trace_dropped_too_early"));
            await run.Processor.ShutdownAsync(CancellationToken.None);
            Assert.Equal([2], run.KeptTraces()); // the pending trace is decided at shutdown, not lost
            await Assert.ThrowsAsync<OtelAi.Otlp.RetryableDataException>(() => run.Processor.ConsumeAsync(Request(NewSpan(3, 0)), CancellationToken.None).AsTask());
        }

        await using var dropping = await StartAsync("""
            decision_wait: 30s
            drop_pending_traces_on_shutdown: true
            policies: [ { name: all, type: always_sample } ]
            """);
        await dropping.Processor.ConsumeAsync(Request(NewSpan(1, 0)), CancellationToken.None);
        await dropping.Processor.ShutdownAsync(CancellationToken.None);
        Assert.Empty(dropping.Sink.Payloads);
    }

    [Fact]
    public async Task A_byte_budget_decides_the_oldest_traces_early_instead_of_growing()
    {
        await using var run = await StartAsync("""
            decision_wait: 30s
            max_buffered_bytes: 3000
            policies: [ { name: all, type: always_sample } ]
            """);
        var payload = SampleData.Attr("payload", new string('x', 200));
        for (var trace = 1; trace <= 10; trace++)
            await run.Processor.ConsumeAsync(Request(NewSpan(trace, 0, attributes: payload), NewSpan(trace, 1, attributes: payload)), CancellationToken.None);
        // Each trace is about 600 bytes: about five fit, the oldest five were decided (and kept, whole) to make room.
        var early = run.Metric("otelai_processor_tail_sampling_traces_decided_early", ("reason", "max_buffered_bytes"));
        Assert.InRange(early, 4, 6);
        await run.Sink.WaitForAsync((int)early);
        Assert.Equal(Enumerable.Range(1, (int)early), run.KeptTraces());
        Assert.All(run.KeptTraces(), trace => Assert.Equal(2, run.SpansOf(trace)));
        await run.Processor.ShutdownAsync(CancellationToken.None);
        Assert.Equal(Enumerable.Range(1, 10), run.KeptTraces()); // nothing lost: the rest is decided at shutdown
    }

    [Fact]
    public async Task Explain_marks_kept_spans_with_the_rule_and_the_trigger()
    {
        await using var run = await StartAsync("""
            decision_wait: 30s
            decision_wait_after_root_received: 100ms
            explain: true
            policies:
              - { name: errors, type: status_code, status_code: { status_codes: [ERROR] } }
              - { name: slow, type: latency, latency: { threshold_ms: 500 } }
            """);
        Assert.True(run.Processor.Capabilities.MutatesData); // explain writes attributes: fan-out must give it its own copy
        await run.Processor.ConsumeAsync(Request(NewSpan(1, 1, status: Status.Types.StatusCode.Error), NewSpan(1, 0, root: true),
            NewSpan(2, 0, durationMs: 900)), CancellationToken.None);
        await run.Sink.WaitForAsync(1);
        await run.Processor.ShutdownAsync(CancellationToken.None);
        string Attribute(Span span, string key) => span.Attributes.Single(a => a.Key == key).Value.StringValue;
        var spans = run.Sink.Payloads.SelectMany(p => p.ResourceSpans).SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans).ToList();
        Assert.Equal(3, spans.Count);
        Assert.All(spans.Where(s => s.TraceId[0] == 1), s => Assert.Equal(("errors", "root_received"), (Attribute(s, "otelai.sampling.rule"), Attribute(s, "otelai.sampling.trigger"))));
        Assert.Equal(("slow", "shutdown"), (Attribute(spans.Single(s => s.TraceId[0] == 2), "otelai.sampling.rule"), Attribute(spans.Single(s => s.TraceId[0] == 2), "otelai.sampling.trigger")));
    }

    [Fact]
    public async Task Block_on_overflow_holds_the_sender_until_a_decision_makes_room()
    {
        await using var run = await StartAsync("""
            decision_wait: 300ms
            num_traces: 1
            block_on_overflow: true
            policies: [ { name: all, type: always_sample } ]
            """);
        await run.Processor.ConsumeAsync(Request(NewSpan(1, 0)), CancellationToken.None);
        var clock = Stopwatch.StartNew();
        await run.Processor.ConsumeAsync(Request(NewSpan(2, 0)), CancellationToken.None);
        Assert.True(clock.ElapsedMilliseconds >= 150, $"the second trace was buffered after {clock.ElapsedMilliseconds} ms, before trace 1 was decided");
        Assert.Equal([1], run.KeptTraces());
        Assert.Equal(0, run.Metric("otelai_processor_tail_sampling_traces_decided_early", ("reason", "num_traces")));
    }

    [Theory]
    [InlineData("policies: [ { name: x, type: nope } ]", "policies[0].type", "unknown sampling policy type \"nope\"")]
    [InlineData("policies: [ { name: x, type: status_code, status_code: { status_codes: [FAILED] } } ]", "policies[0].status_code.status_codes", "unknown status code \"FAILED\"")]
    [InlineData("policies: [ { name: x, type: numeric_attribute, numeric_attribute: { key: k, min_value: 10, max_value: 5 } } ]", "policies[0].numeric_attribute.min_value", "less than or equal")]
    [InlineData("policies: [ { name: x, type: composite, composite: { policy_order: [y], composite_sub_policy: [ { name: z, type: always_sample } ] } } ]", "policies[0].composite.policy_order", "names no composite_sub_policy")]
    [InlineData("decision_wait: 1s", "policies", "no policies configured")]
    [InlineData("policies: [ { name: r, type: route, route: { rules: [ { status: [6xx], action: keep } ] } } ]", "policies[0].route.rules[0].status", "\"6xx\" is not a status")]
    [InlineData("policies: [ { name: r, type: route, route: { rules: [ { action: keep, percentage: 5 } ] } } ]", "policies[0].route.rules[0].action", "exactly one of")]
    [InlineData("policies: [ { name: r, type: route, route: { rules: [ { path: [\"regex:(\"], action: drop } ] } } ]", "policies[0].route.rules[0].path", "invalid regular expression")]
    [InlineData("policies: [ { name: r, type: route, route: { rules: [ { condition: 'nope(', action: keep } ] } } ]", "policies[0].route.rules[0].condition", "")]
    [InlineData("policies: [ { name: r, type: route, route: { match_on: leaf, rules: [ { action: keep } ] } } ]", "policies[0].route.match_on", "expected root or any")]
    public void Invalid_configs_are_rejected_with_their_key_path(string yaml, string path, string message)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigText.Bind<TailSamplingConfig>(yaml));
        Assert.True(error.Issues.Any(e => e.KeyPath.EndsWith(path, StringComparison.Ordinal) && e.Message.Contains(message, StringComparison.Ordinal)), string.Join("\n", error.Issues));
    }

    /// <summary>The playbook table in otelcol's policies.</summary>
    private const string OtelcolPlaybook = """
                  - name: inference-faults
                    type: and
                    and:
                      and_sub_policy:
                        - { name: v1, type: string_attribute, string_attribute: { key: url.path, values: ["/v1/.*"], enabled_regex_matching: true } }
                        - { name: 5xx, type: numeric_attribute, numeric_attribute: { key: http.response.status_code, min_value: 500, max_value: 599 } }
                  - name: no-probes
                    type: drop
                    drop: { drop_sub_policy: [ { name: probes, type: string_attribute, string_attribute: { key: url.path, values: [/health, /metrics] } } ] }
                  - { name: one-percent, type: probabilistic, probabilistic: { sampling_percentage: 1 } }
        """;

    /// <summary>The same table as otelai's route policy: three lines.</summary>
    private const string RoutePlaybook = """
                  - name: playbook
                    type: route
                    route:
                      rules:
                        - { name: inference-faults, path: ["/v1/*"], status: [5xx], action: keep }
                        - { name: probes, path: [/health, /metrics], action: drop }
                        - { name: baseline, percentage: 1 }
        """;

    [Theory]
    [InlineData("otelcol")]
    [InlineData("route")]
    public async Task Sdk_traces_through_the_otlp_receiver_are_kept_whole_by_route_and_status(string policies)
    {
        var port = TestPorts.GetFree();
        var capture = new CaptureExporterFactory();
        var yaml = $$"""
            receivers:
              otlp:
                protocols:
                  grpc: { endpoint: "127.0.0.1:{{port}}" }
            processors:
              tail_sampling:
                decision_wait: 500ms
                policies:
            {{(policies == "route" ? RoutePlaybook : OtelcolPlaybook)}}
            exporters:
              capture: {}
            service:
              telemetry: { metrics: { level: none } }
              pipelines:
                traces:
                  receivers: [otlp]
                  processors: [tail_sampling]
                  exporters: [capture]
            """;
        await using var collector = Collector.FromYaml(yaml, capture.WithBuiltins(),
            new CollectorOptions { LoggerFactory = NullLoggerFactory.Instance });
        await collector.StartAsync();

        using var source = new ActivitySource("inference.test");
        var faultTraces = new HashSet<string>();
        using (var tracer = Sdk.CreateTracerProviderBuilder().SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("llm-gateway")).AddSource("inference.test")
                   .AddOtlpExporter(o => { o.Endpoint = new Uri($"http://127.0.0.1:{port}"); o.Protocol = OtlpExportProtocol.Grpc; })
                   .Build())
        {
            var requests = new (string Path, int Status)[] { ("/v1/chat/completions", 200), ("/v1/chat/completions", 503), ("/v1/embeddings", 500), ("/v1/embeddings", 200), ("/health", 500), ("/metrics", 200), ("/v1/chat/completions", 429) };
            foreach (var (path, status) in requests)
            {
                using var server = source.StartActivity($"POST {path}", ActivityKind.Server)!;
                server.SetTag("url.path", path);
                server.SetTag("http.response.status_code", (long)status);
                using (source.StartActivity("model.generate", ActivityKind.Internal)) { }
                using (source.StartActivity("tokenizer", ActivityKind.Internal)) { }
                if (status >= 500 && path.StartsWith("/v1/", StringComparison.Ordinal)) faultTraces.Add(server.TraceId.ToHexString());
            }
            Assert.True(tracer.ForceFlush(30_000));
        }
        await Task.Delay(1500); // decision_wait plus a tick
        var spans = capture.Traces.Payloads.SelectMany(p => p.ResourceSpans).SelectMany(r => r.ScopeSpans).SelectMany(s => s.Spans).ToList();
        var kept = spans.GroupBy(s => Convert.ToHexString(s.TraceId.ToByteArray()).ToLowerInvariant()).ToDictionary(g => g.Key, g => g.Count());
        // Every inference fault kept with all three spans; probes never (the drop wins even over a 5xx /health);
        // the others only if the 1 % hash happens to keep them.
        foreach (var trace in faultTraces) Assert.Equal(3, kept.GetValueOrDefault(trace));
        Assert.DoesNotContain(spans, s => s.Attributes.Any(a => a.Key == "url.path" && a.Value.StringValue is "/health" or "/metrics"));
        Assert.All(kept.Values, count => Assert.Equal(3, count));
    }
}
