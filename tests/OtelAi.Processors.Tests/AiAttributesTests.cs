using OtelAi.Engine.Components;
using OtelAi.TestSupport;
using Google.Protobuf;
using OtelAi.Engine.Config;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp;
using OtelAi.Processors.AiAttributes;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using static OtelAi.TestSupport.SampleData;

namespace OtelAi.Processors.Tests;

public sealed class AiAttributesTests
{
    private static async Task<ExportTraceServiceRequest> EnrichAsync(string yaml, ExportTraceServiceRequest data, ClientInfo? client = null,
        AiAttributesProcessorFactory? factory = null, SharedComponents? collector = null)
    {
        var sink = new Sink<ExportTraceServiceRequest>();
        var processor = (factory ?? new AiAttributesProcessorFactory()).CreateProcessor(TestHost.Settings("aiattributes", collector),
            ConfigText.Bind<AiAttributesConfig>(yaml), sink);
        await processor.StartAsync(TestHost.Instance, CancellationToken.None);
        ClientContext.Set(client);
        await processor.ConsumeAsync(data, CancellationToken.None);
        ClientContext.Set(null);
        return sink.Received.Single().Data;
    }

    /// <summary>One server span of 25 ms with only the given attributes and a name that carries no model.</summary>
    private static ExportTraceServiceRequest Span(params KeyValue[] attributes)
    {
        var data = Traces(1);
        var span = data.ResourceSpans[0].ScopeSpans[0].Spans[0];
        span.Name = "inference";
        span.Attributes.Clear();
        span.Attributes.Add(attributes);
        return data;
    }

    private static Span First(ExportTraceServiceRequest data) => data.ResourceSpans[0].ScopeSpans[0].Spans[0];

    private static ClientInfo Headers(params (string Key, string Value)[] headers) =>
        new("10.0.0.1", headers.ToDictionary(h => h.Key, h => (IReadOnlyList<string>)[h.Value]));

    private static KeyValue StringArray(string key, params string[] values) =>
        new() { Key = key, Value = new AnyValue { ArrayValue = new ArrayValue { Values = { values.Select(v => new AnyValue { StringValue = v }) } } } };

    [Fact]
    public async Task Enriched_values_are_counted_by_field_and_source_once_per_request()
    {
        var settings = TestHost.Settings("aiattributes");
        var sink = new Sink<ExportTraceServiceRequest>();
        var processor = new AiAttributesProcessorFactory().CreateProcessor(settings, ConfigText.Bind<AiAttributesConfig>(""), sink);
        await processor.StartAsync(TestHost.Instance, CancellationToken.None);
        var request = Span(Attr("gen_ai.request.model", "gpt-4o"), Attr("gen_ai.usage.input_tokens", 12L));
        var fromHeader = Span();
        request.ResourceSpans[0].ScopeSpans[0].Spans.Add(First(fromHeader));
        ClientContext.Set(Headers(("x-model-id", "llama-3")));
        await processor.ConsumeAsync(request, CancellationToken.None);
        ClientContext.Set(null);

        double? Read(string field, string source) => settings.Metrics.Read("otelai_processor_aiattributes_enriched_items",
            ("processor", "aiattributes"), ("field", field), ("source", source));
        Assert.Equal(1, Read("model_id", "attributes"));
        Assert.Equal(1, Read("model_id", "header"));
        Assert.Equal(1, Read("input_tokens", "attributes"));
        Assert.Equal(2, Read("inference_time", "span_duration")); // both spans name a model: inference spans, timed by their duration
        Assert.Null(Read("model_id", "request_body"));
    }

    [Fact]
    public async Task ModelId_FromGenAiAttributes_FirstInDefaultOrder()
    {
        var span = First(await EnrichAsync("", Span(Attr("gen_ai.response.model", "gpt-4o-2024"), Attr("gen_ai.request.model", "gpt-4o")),
            Headers(("x-model-id", "from-header"))));
        Assert.Equal("gpt-4o", span.Attributes.Get("model_id")!.StringValue);
    }

    [Fact]
    public async Task ModelId_SourceOrderIsConfigurable()
    {
        const string yaml = "model_id: { sources: [header, attributes] }";
        var span = First(await EnrichAsync(yaml, Span(Attr("gen_ai.request.model", "gpt-4o")), Headers(("x-model-id", "from-header"))));
        Assert.Equal("from-header", span.Attributes.Get("model_id")!.StringValue);
    }

    [Fact]
    public async Task ModelId_FromCapturedHeaderAttribute_WhenNoClientMetadata()
    {
        var span = First(await EnrichAsync("", Span(StringArray("http.request.header.x-model-id", "bert-base"))));
        Assert.Equal("bert-base", span.Attributes.Get("model_id")!.StringValue);
    }

    [Fact]
    public async Task ModelId_FromRequestBodyJson_NestedField()
    {
        const string yaml = "model_id: { body_field: params.model }\nrequest_body: { attribute: llm.request.body }";
        var span = First(await EnrichAsync(yaml, Span(Attr("llm.request.body", """{"params":{"model":"mixtral-8x7b","t":0.2}}"""))));
        Assert.Equal("mixtral-8x7b", span.Attributes.Get("model_id")!.StringValue);

        var plain = First(await EnrichAsync("", Span(Attr("http.request.body", """{"model":"llama-3-70b","messages":[]}"""))));
        Assert.Equal("llama-3-70b", plain.Attributes.Get("model_id")!.StringValue);

        var broken = First(await EnrichAsync("", Span(Attr("http.request.body", """{"model":"trunc"""))));
        Assert.Null(broken.Attributes.Get("model_id"));
    }

    [Theory]
    [InlineData("url.path", "/v2/models/resnet50/versions/3/infer", "resnet50", "3")]
    [InlineData("url.path", "/v2/models/densenet_onnx/infer", "densenet_onnx", null)]
    [InlineData("http.target", "/v1/models/sklearn-iris:predict?x=1", "sklearn-iris", null)]
    [InlineData("http.target", "/v1/models/iris/versions/7:predict", "iris", "7")]
    [InlineData("http.route", "/v2/models/{model}/infer", null, null)]
    [InlineData("url.path", "/healthz", null, null)]
    public async Task ModelIdAndVersion_FromInferencePaths(string attribute, string path, string? model, string? version)
    {
        var span = First(await EnrichAsync("", Span(Attr(attribute, path))));
        Assert.Equal(model, span.Attributes.Get("model_id")?.StringValue);
        Assert.Equal(version, span.Attributes.Get("model_version")?.StringValue);
    }

    [Fact]
    public async Task ModelId_FromSpanName()
    {
        var data = Traces(3);
        var spans = (await EnrichAsync("", data)).ResourceSpans[0].ScopeSpans[0].Spans;
        Assert.Equal(["llama-0", "llama-1", "llama-2"], spans.Select(s => s.Attributes.Get("model_id")!.StringValue));
    }

    [Fact]
    public async Task ModelId_FromProcessCommandLine_StringOrArgs()
    {
        var data = Span();
        data.ResourceSpans[0].Resource.Attributes.Add(Attr("process.command_line", "python -m vllm.entrypoints.api_server --model='mistral-7b' --port 8000"));
        Assert.Equal("mistral-7b", First(await EnrichAsync("", data)).Attributes.Get("model_id")!.StringValue);

        data = Span();
        data.ResourceSpans[0].Resource.Attributes.Add(StringArray("process.command_args", "tritonserver", "--model-name", "yolo", "--model-version", "2"));
        var span = First(await EnrichAsync("", data));
        Assert.Equal("yolo", span.Attributes.Get("model_id")!.StringValue);
        Assert.Equal("2", span.Attributes.Get("model_version")!.StringValue);
    }

    [Fact]
    public async Task ExistingTarget_IsKept_UnlessOverwrite()
    {
        var input = Span(Attr("model_id", "preset"), Attr("gen_ai.request.model", "gpt-4o"));
        Assert.Equal("preset", First(await EnrichAsync("", input.Clone())).Attributes.Get("model_id")!.StringValue);
        Assert.Equal("gpt-4o", First(await EnrichAsync("overwrite: true", input)).Attributes.Get("model_id")!.StringValue);
    }

    [Fact]
    public async Task InferenceTime_FromDurationOfInferenceServerSpans()
    {
        var data = new ExportTraceServiceRequest();
        var server = Span(Attr("gen_ai.request.model", "m"));
        var client = Span(Attr("gen_ai.request.model", "m"));
        First(client).Kind = OtelAi.Otlp.Proto.Trace.V1.Span.Types.SpanKind.Client;
        var noModel = Span();
        data.ResourceSpans.Add(server.ResourceSpans);
        data.ResourceSpans.Add(client.ResourceSpans);
        data.ResourceSpans.Add(noModel.ResourceSpans);

        var spans = (await EnrichAsync("", data)).ResourceSpans.Select(rs => rs.ScopeSpans[0].Spans[0]).ToList();

        Assert.Equal(25.0, spans[0].Attributes.Get("inference_time")!.DoubleValue);
        Assert.Null(spans[1].Attributes.Get("inference_time"));
        Assert.Null(spans[2].Attributes.Get("inference_time"));
    }

    [Fact]
    public async Task InferenceTime_RouteRuleAndLatencyAttribute()
    {
        const string yaml = """
            inference_spans: { span_kinds: [SPAN_KIND_SERVER, client], route: "/infer$", require_model_id: false }
            inference_time: { latency_attributes: [llm.latency], latency_unit: s }
            """;
        var routeMatch = First(await EnrichAsync(yaml, Span(Attr("url.path", "/v2/models/a/infer"))));
        Assert.Equal(25.0, routeMatch.Attributes.Get("inference_time")!.DoubleValue);

        var routeMiss = First(await EnrichAsync(yaml, Span(Attr("url.path", "/metrics"))));
        Assert.Null(routeMiss.Attributes.Get("inference_time"));

        var measured = First(await EnrichAsync(yaml, Span(Attr("url.path", "/metrics"), Attr("llm.latency", 0.125))));
        Assert.Equal(125.0, measured.Attributes.Get("inference_time")!.DoubleValue);
    }

    [Fact]
    public async Task GpuMemUsed_FromHeaderOrAttribute()
    {
        var fromHeader = First(await EnrichAsync("", Span(), Headers(("x-gpu-mem", "2048"))));
        Assert.Equal(2048, fromHeader.Attributes.Get("gpu_mem_used")!.IntValue);

        var fromCaptured = First(await EnrichAsync("", Span(StringArray("http.request.header.x-gpu-mem", "512.4"))));
        Assert.Equal(512, fromCaptured.Attributes.Get("gpu_mem_used")!.IntValue);

        var fromAttribute = First(await EnrichAsync("gpu_mem_used: { attributes: [nv.mem_mib] }", Span(Attr("nv.mem_mib", 300L))));
        Assert.Equal(300, fromAttribute.Attributes.Get("gpu_mem_used")!.IntValue);
    }

    private static ExportMetricsServiceRequest GpuGauge(string metric, string unit, string host, params (string Gpu, double Value)[] points)
    {
        var gauge = new Metric { Name = metric, Unit = unit, Gauge = new Gauge() };
        foreach (var (gpu, value) in points)
            gauge.Gauge.DataPoints.Add(new NumberDataPoint { AsDouble = value, TimeUnixNano = 1_700_000_000_000_000_000, Attributes = { Attr("gpu", gpu) } });
        return new ExportMetricsServiceRequest
        {
            ResourceMetrics =
            {
                new ResourceMetrics
                {
                    Resource = new Resource { Attributes = { Attr("host.name", host) } },
                    ScopeMetrics = { new ScopeMetrics { Metrics = { gauge } } },
                },
            },
        };
    }

    [Fact]
    public async Task GpuMemUsed_JoinedFromMetricsPipeline_SameProcessorId()
    {
        var factory = new AiAttributesProcessorFactory();
        var collector = new SharedComponents();
        var metricsSink = new Sink<ExportMetricsServiceRequest>();
        var metrics = factory.CreateProcessor(TestHost.Settings("aiattributes", collector), ConfigText.Bind<AiAttributesConfig>(""), metricsSink);
        Assert.False(metrics.Capabilities.MutatesData);

        var dcgm = GpuGauge("DCGM_FI_DEV_FB_USED", "", "node-1", ("0", 1000), ("1", 234));
        var nvml = GpuGauge("gpu.memory.used", "By", "node-2", ("0", 3L * 1024 * 1024 * 1024));
        await metrics.ConsumeAsync(dcgm.Clone(), CancellationToken.None);
        await metrics.ConsumeAsync(nvml, CancellationToken.None);
        Assert.Equal(dcgm, metricsSink.Received[0].Data); // passed through unchanged

        // SampleData resources are on host node-1 and their span names carry a model: all GPUs of the host are summed.
        var onNode1 = First(await EnrichAsync("", Traces(1), factory: factory, collector: collector));
        Assert.Equal(1234, onNode1.Attributes.Get("gpu_mem_used")!.IntValue);

        var gpu1 = Traces(1);
        First(gpu1).Attributes.Add(Attr("gpu", "1"));
        Assert.Equal(234, First(await EnrichAsync("", gpu1, factory: factory, collector: collector)).Attributes.Get("gpu_mem_used")!.IntValue);

        var onNode2 = Traces(1);
        onNode2.ResourceSpans[0].Resource.Attributes.Upsert("host.name", Attributes.String("node-2"));
        Assert.Equal(3072, First(await EnrichAsync("", onNode2, factory: factory, collector: collector)).Attributes.Get("gpu_mem_used")!.IntValue);

        var elsewhere = Traces(1);
        elsewhere.ResourceSpans[0].Resource.Attributes.Upsert("host.name", Attributes.String("node-9"));
        Assert.Null(First(await EnrichAsync("", elsewhere, factory: factory, collector: collector)).Attributes.Get("gpu_mem_used"));

        var otherId = First(await EnrichAsync("", Traces(1)));
        Assert.Null(otherId.Attributes.Get("gpu_mem_used"));
    }

    [Fact]
    public async Task LogRecords_GetTheSameFields_FromAttributesJsonBodyAndPath_AndTheGpuJoin()
    {
        var factory = new AiAttributesProcessorFactory();
        var collector = new SharedComponents();
        var metrics = factory.CreateProcessor(TestHost.Settings("aiattributes", collector), ConfigText.Bind<AiAttributesConfig>(""), new Sink<ExportMetricsServiceRequest>());
        await metrics.ConsumeAsync(GpuGauge("DCGM_FI_DEV_FB_USED", "", "node-1", ("0", 4096)), CancellationToken.None);

        var logsSink = new Sink<ExportLogsServiceRequest>();
        var logs = factory.CreateProcessor(TestHost.Settings("aiattributes", collector), ConfigText.Bind<AiAttributesConfig>("""
            mirror_to_resource: [model_id]
            inference_time: { latency_attributes: [gen_ai.latency.e2e], latency_unit: s }
            """), logsSink);
        Assert.True(logs.Capabilities.MutatesData);
        var data = Logs(3);
        data.ResourceLogs[0].Resource.Attributes.Upsert("host.name", Attributes.String("node-1"));
        var records = data.ResourceLogs[0].ScopeLogs[0].LogRecords;
        foreach (var record in records) record.Attributes.Clear();
        // A vLLM-style request log: the request as the JSON body, the latency and token counts as attributes.
        records[0].Body = new AnyValue { StringValue = """{"model": "llama-3-8b", "max_tokens": 64}""" };
        records[0].Attributes.Add([Attr("gen_ai.latency.e2e", 0.25), Attr("gen_ai.usage.output_tokens", 42L)]);
        // A Triton access log: the model and version in the path.
        records[1].Body = new AnyValue { StringValue = "POST /v2/models/resnet50/versions/3/infer 200" };
        records[1].Attributes.Add(Attr("url.path", "/v2/models/resnet50/versions/3/infer"));
        // A plain log line that names no model: left as it is (no model, so no inference join).
        records[2].Body = new AnyValue { StringValue = "{not json" };
        var before = records[2].Clone();

        await logs.ConsumeAsync(data, CancellationToken.None);
        var result = logsSink.Received.Single().Data.ResourceLogs[0];
        var (vllm, triton, plain) = (result.ScopeLogs[0].LogRecords[0], result.ScopeLogs[0].LogRecords[1], result.ScopeLogs[0].LogRecords[2]);
        Assert.Equal(("llama-3-8b", 250.0, 42L, 4096L), (vllm.Attributes.Get("model_id")!.StringValue, vllm.Attributes.Get("inference_time")!.DoubleValue,
            vllm.Attributes.Get("output_tokens")!.IntValue, vllm.Attributes.Get("gpu_mem_used")!.IntValue));
        Assert.Equal(("resnet50", "3"), (triton.Attributes.Get("model_id")!.StringValue, triton.Attributes.Get("model_version")!.StringValue));
        Assert.Null(triton.Attributes.Get("inference_time")); // a log record has no duration to fall back on
        Assert.Equal(before, plain);
        Assert.Equal("llama-3-8b", result.Resource.Attributes.Get("model_id")!.StringValue);
    }

    [Fact]
    public void GpuStore_KeepsNewestReading_AndForgetsStaleOnes()
    {
        var time = new ManualTime();
        var store = new GpuMemoryStore(time);
        store.Record("node-1", "0", 100, pointTimeUnixNano: 20);
        store.Record("node-1", "0", 50, pointTimeUnixNano: 10); // late, older point: ignored
        Assert.Equal(100, store.Lookup("node-1", "0", TimeSpan.FromSeconds(30)));
        store.Record("node-1", "0", 120, pointTimeUnixNano: 30);
        Assert.Equal(120, store.Lookup("node-1", null, TimeSpan.FromSeconds(30)));

        time.Ticks += TimeSpan.FromSeconds(31).Ticks;
        Assert.Null(store.Lookup("node-1", "0", TimeSpan.FromSeconds(30)));
        Assert.Null(store.Lookup("node-1", null, TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task GpuStore_ConcurrentWritersAndReaders()
    {
        var store = new GpuMemoryStore();
        var writers = Enumerable.Range(0, 4).Select(w => Task.Run(() =>
        {
            for (var i = 1; i <= 2000; i++) store.Record("node", $"gpu{i % 8}", i, (ulong)i);
        }));
        var reader = Task.Run(() =>
        {
            for (var i = 0; i < 2000; i++) _ = store.Lookup("node", null, TimeSpan.FromMinutes(1));
        });
        await Task.WhenAll(writers.Append(reader));
        // Every GPU ends with the newest value written for it (1993..2000).
        Assert.Equal(Enumerable.Range(1993, 8).Sum(), store.Lookup("node", null, TimeSpan.FromMinutes(1)));
    }

    [Fact]
    public async Task TokenCounts_CopiedToConfiguredTargets()
    {
        const string yaml = "input_tokens: { target: tokens.in }";
        var span = First(await EnrichAsync(yaml, Span(Attr("gen_ai.usage.input_tokens", 12L), Attr("gen_ai.usage.completion_tokens", "34"))));
        Assert.Equal(12, span.Attributes.Get("tokens.in")!.IntValue);
        Assert.Equal(34, span.Attributes.Get("output_tokens")!.IntValue);
    }

    [Fact]
    public async Task MirrorToResource_CopiesFirstSpanValues()
    {
        const string yaml = "mirror_to_resource: [model_id, gpu_mem_used]";
        var data = Traces(2);
        var result = await EnrichAsync(yaml, data, Headers(("x-gpu-mem", "640")));
        var resource = result.ResourceSpans[0].Resource.Attributes;
        Assert.Equal("llama-0", resource.Get("model_id")!.StringValue);
        Assert.Equal(640, resource.Get("gpu_mem_used")!.IntValue);
        Assert.Null(resource.Get("inference_time"));
    }

    [Fact]
    public async Task EmptyTarget_TurnsAFieldOff()
    {
        const string yaml = "model_id: { target: \"\" }\ninference_spans: { require_model_id: false }";
        var span = First(await EnrichAsync(yaml, Traces(1)));
        Assert.Null(span.Attributes.Get("model_id"));
        Assert.Equal(25.0, span.Attributes.Get("inference_time")!.DoubleValue);
    }

    [Fact]
    public void ReadmeExampleConfig_Binds()
    {
        var readme = File.ReadAllText(RepositoryPaths.Combine("processors", "AiAttributes", "README.md"));
        var yaml = readme.Split("```yaml")[1].Split("```")[0];
        var body = string.Join('\n', yaml.Split('\n').SkipWhile(l => !l.StartsWith("    ", StringComparison.Ordinal) || l.TrimStart().StartsWith('#'))
            .Select(l => l.Length >= 4 ? l[4..] : l));
        var config = ConfigText.Bind<AiAttributesConfig>(body);
        Assert.Equal(["attributes", "header", "request_body", "path", "command_line"], config.ModelId.Sources);
    }

    [Theory]
    [InlineData("model_id: { sources: [attributes, guess] }", "unknown source \"guess\"")]
    [InlineData("model_id: { sources: [path, path] }", "duplicate source")]
    [InlineData("mirror_to_resource: [everything]", "unknown field \"everything\"")]
    [InlineData("path: { patterns: [\"/v1/{name}/x\"] }", "placeholder")]
    [InlineData("inference_spans: { route: \"(\" }", "invalid regexp")]
    [InlineData("inference_spans: { span_kinds: [sideways] }", "unknown span kind")]
    [InlineData("inference_time: { latency_unit: minutes }", "unknown unit")]
    [InlineData("gpu_mem_used: { metrics: [{ name: x, unit: furlongs }] }", "unknown unit")]
    [InlineData("gpu_mem_used: { max_age: 0s }", "max_age")]
    public void InvalidConfig_IsRejected(string yaml, string expected)
    {
        var error = Assert.Throws<ConfigException>(() => ConfigText.Bind<AiAttributesConfig>(yaml));
        Assert.Contains(expected, error.Message);
    }
}
