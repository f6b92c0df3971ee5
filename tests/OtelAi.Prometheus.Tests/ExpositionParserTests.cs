using OtelAi.Receivers.Prometheus;

namespace OtelAi.Prometheus.Tests;

/// <summary>The scrape parser on both text formats, the AI serving targets' real exposition, and malformed input.</summary>
public sealed class ExpositionParserTests
{
    [Fact]
    public void Text_0_0_4_families_types_escapes_and_timestamps()
    {
        var families = ExpositionParser.Parse("""
            # HELP http_requests_total Requests, with a \\ and a \n newline.
            # TYPE http_requests_total counter
            http_requests_total{method="post",path="/v1/chat \"quoted\""} 1027 1395066363000
            http_requests_total{method="get"} 3
            # TYPE latency_seconds histogram
            latency_seconds_bucket{le="0.1"} 2
            latency_seconds_bucket{le="+Inf"} 5
            latency_seconds_sum 1.5e+00
            latency_seconds_count 5
            # TYPE rpc_duration summary
            rpc_duration{quantile="0.99"} NaN
            rpc_duration_sum 17
            rpc_duration_count 4
            no_type_here -Inf
            """, openMetrics: false);

        Assert.Equal(["http_requests_total", "latency_seconds", "rpc_duration", "no_type_here"], families.Select(f => f.Name));
        var counter = families[0];
        Assert.Equal(ScrapedType.Counter, counter.Type);
        Assert.Equal("Requests, with a \\ and a \n newline.", counter.Help);
        Assert.Equal("/v1/chat \"quoted\"", counter.Samples[0].Labels.Single(l => l.Key == "path").Value);
        Assert.Equal(1395066363000, counter.Samples[0].TimestampMs);
        Assert.Equal(4, families[1].Samples.Count);
        Assert.Equal(1.5, families[1].Samples[2].Value);
        Assert.True(double.IsNaN(families[2].Samples[0].Value));
        Assert.Equal(ScrapedType.Unknown, families[3].Type);
        Assert.Equal(double.NegativeInfinity, families[3].Samples[0].Value);
    }

    [Fact]
    public void OpenMetrics_counters_created_exemplars_info_and_eof()
    {
        var families = ExpositionParser.Parse("""
            # TYPE tokens counter
            # UNIT tokens tokens
            # HELP tokens Generated tokens.
            tokens_total{model="llama"} 42 1700000000.5 # {trace_id="0af7651916cd43dd8448eb211c80319c",span_id="b7ad6b7169203331"} 3 1700000000.1
            tokens_created{model="llama"} 1699999000
            # TYPE build info
            build_info{version="1.2"} 1
            # EOF
            """, openMetrics: true);

        var tokens = families.Single(f => f.Name == "tokens");
        Assert.Equal((ScrapedType.Counter, "tokens"), (tokens.Type, tokens.Unit));
        Assert.Equal(["tokens_total", "tokens_created"], tokens.Samples.Select(s => s.Name));
        Assert.Equal(1700000000500, tokens.Samples[0].TimestampMs);
        var exemplar = tokens.Samples[0].Exemplar!;
        Assert.Equal((3.0, 1700000000100L), (exemplar.Value, exemplar.TimestampMs!.Value));
        Assert.Equal("0af7651916cd43dd8448eb211c80319c", exemplar.Labels.Single(l => l.Key == "trace_id").Value);
        Assert.Equal(ScrapedType.Info, families.Single(f => f.Name == "build").Type);

        var missingEof = Assert.Throws<ExpositionException>(() => ExpositionParser.Parse("# TYPE a gauge\na 1\n", openMetrics: true));
        Assert.Contains("# EOF", missingEof.Message);
    }

    [Fact]
    public void AI_serving_targets_keep_their_names_and_labels()
    {
        var families = ExpositionParser.Parse("""
            # HELP DCGM_FI_DEV_FB_USED Framebuffer memory used (in MiB).
            # TYPE DCGM_FI_DEV_FB_USED gauge
            DCGM_FI_DEV_FB_USED{gpu="0",UUID="GPU-8f6e4f2a",device="nvidia0",modelName="NVIDIA A100-SXM4-80GB",Hostname="gpu-node-1",DCGM_FI_DRIVER_VERSION="535.104.05"} 40512
            # HELP vllm:num_requests_running Number of requests currently running on GPU.
            # TYPE vllm:num_requests_running gauge
            vllm:num_requests_running{model_name="meta-llama/Llama-3-8B"} 3.0
            # TYPE vllm:time_to_first_token_seconds histogram
            vllm:time_to_first_token_seconds_bucket{le="0.001",model_name="meta-llama/Llama-3-8B"} 0.0
            vllm:time_to_first_token_seconds_bucket{le="+Inf",model_name="meta-llama/Llama-3-8B"} 12.0
            vllm:time_to_first_token_seconds_count{model_name="meta-llama/Llama-3-8B"} 12.0
            vllm:time_to_first_token_seconds_sum{model_name="meta-llama/Llama-3-8B"} 0.84
            # HELP nv_inference_request_duration_us Cumulative inference request duration in microseconds
            # TYPE nv_inference_request_duration_us counter
            nv_inference_request_duration_us{model="resnet50",version="1"} 6.1e+06
            # TYPE nv_gpu_memory_used_bytes gauge
            nv_gpu_memory_used_bytes{gpu_uuid="GPU-8f6e4f2a"} 2.5e+09
            """, openMetrics: false);

        var dcgm = families.Single(f => f.Name == "DCGM_FI_DEV_FB_USED");
        Assert.Equal("gpu-node-1", dcgm.Samples.Single().Labels.Single(l => l.Key == "Hostname").Value);
        Assert.Equal(ScrapedType.Histogram, families.Single(f => f.Name == "vllm:time_to_first_token_seconds").Type);
        Assert.Equal(4, families.Single(f => f.Name == "vllm:time_to_first_token_seconds").Samples.Count);
        Assert.Equal(ScrapedType.Counter, families.Single(f => f.Name == "nv_inference_request_duration_us").Type);
        Assert.Equal(2.5e9, families.Single(f => f.Name == "nv_gpu_memory_used_bytes").Samples.Single().Value);
    }

    [Theory]
    [InlineData("metric{a=\"1\" 1", "line 1")]
    [InlineData("ok 1\nmetric{a=1} 1", "line 2")]
    [InlineData("metric one", "not a number")]
    [InlineData("# TYPE m sometype\nm 1", "unknown metric type")]
    [InlineData("m{a=\"unterminated} 1", "unterminated")]
    [InlineData("{} 1", "expected a metric name")]
    public void Malformed_text_fails_with_the_line_and_reason(string text, string expected) =>
        Assert.Contains(expected, Assert.Throws<ExpositionException>(() => ExpositionParser.Parse(text, openMetrics: false)).Message);
}
