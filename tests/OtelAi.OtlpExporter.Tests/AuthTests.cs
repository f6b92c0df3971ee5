using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Trace;
using OtelAi.Engine;
using OtelAi.Otlp.Hosting;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.OtlpExporter.Tests;

/// <summary>
/// The auth extensions end to end: bearertokenauth and basicauth guarding the otlp receiver over gRPC and HTTP
/// (no, wrong and right credentials, a rotated token file, the .NET SDK as the client), and the otlphttp exporter
/// authenticating with basicauth and headers_setter.
/// </summary>
public sealed class AuthTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("otelai-auth-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly CollectorOptions Quiet = new() { LoggerFactory = NullLoggerFactory.Instance };

    private static async Task<HttpStatusCode> PostAsync(HttpClient http, int port, string? authorization)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/v1/traces") { Content = new ByteArrayContent(SampleData.Traces(2).ToByteArray()) };
        request.Content.Headers.ContentType = new("application/x-protobuf");
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await http.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>One unary gRPC Export over h2c; returns the grpc-status.</summary>
    private static async Task<int> CallGrpcAsync(HttpClient http, int port, string? authorization)
    {
        var message = SampleData.Traces(2).ToByteArray();
        var frame = new byte[5 + message.Length];
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), message.Length);
        message.CopyTo(frame, 5);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{port}/opentelemetry.proto.collector.trace.v1.TraceService/Export")
        {
            Content = new ByteArrayContent(frame), Version = HttpVersion.Version20, VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new("application/grpc");
        request.Headers.TryAddWithoutValidation("te", "trailers");
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        var headers = response.Headers.Contains("grpc-status") ? response.Headers : response.TrailingHeaders;
        return int.Parse(headers.GetValues("grpc-status").First());
    }

    [Fact]
    public async Task Bearer_tokens_guard_grpc_and_http_and_a_rotated_token_file_takes_effect()
    {
        var tokenFile = Path.Combine(_dir, "token");
        await File.WriteAllTextAsync(tokenFile, "first-secret\n");
        var (grpcPort, httpPort) = (TestPorts.GetFree(), TestPorts.GetFree());
        var capture = new CaptureExporterFactory();
        await using var collector = Collector.FromYaml($$"""
            extensions:
              bearertokenauth:
                filename: {{tokenFile}}
            receivers:
              otlp:
                protocols:
                  grpc:
                    endpoint: 127.0.0.1:{{grpcPort}}
                    auth:
                      authenticator: bearertokenauth
                  http:
                    endpoint: 127.0.0.1:{{httpPort}}
                    auth:
                      authenticator: bearertokenauth
            exporters:
              capture:
            service:
              telemetry:
                metrics:
                  address: 127.0.0.1:0
              extensions: [bearertokenauth]
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [capture]
            """, capture.WithBuiltins(), Quiet);
        await collector.StartAsync();
        using var http = new HttpClient();

        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(http, httpPort, null));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(http, httpPort, "Bearer wrong-secret"));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(http, httpPort, "first-secret")); // the scheme is part of it
        Assert.Equal(HttpStatusCode.OK, await PostAsync(http, httpPort, "Bearer first-secret"));
        Assert.Equal(16, await CallGrpcAsync(http, grpcPort, null)); // UNAUTHENTICATED
        Assert.Equal(16, await CallGrpcAsync(http, grpcPort, "Bearer wrong-secret"));
        Assert.Equal(0, await CallGrpcAsync(http, grpcPort, "Bearer first-secret"));
        Assert.Equal(4, capture.Traces.Items);
        Assert.Equal(3, collector.Metrics.Read("otelai_receiver_unauthenticated_requests", ("receiver", "otlp"), ("transport", "http")));
        Assert.Equal(2, collector.Metrics.Read("otelai_receiver_unauthenticated_requests", ("receiver", "otlp"), ("transport", "grpc")));

        // The .NET SDK's exporter with the header, as an application would send.
        using var source = new ActivitySource("otelai.tests.auth-bearer");
        using (var tracing = Sdk.CreateTracerProviderBuilder().AddSource(source.Name)
            .AddOtlpExporter(o =>
            {
                o.Endpoint = new Uri($"http://127.0.0.1:{grpcPort}");
                o.Protocol = OtlpExportProtocol.Grpc;
                o.Headers = "Authorization=Bearer first-secret";
            }).Build())
        {
            source.StartActivity("inference")?.Dispose();
        }
        Assert.Equal(5, capture.Traces.Items);

        // Rotation: the file now holds another token; within a second or two only it is accepted.
        await File.WriteAllTextAsync(tokenFile, "second-secret\n");
        File.SetLastWriteTimeUtc(tokenFile, DateTime.UtcNow.AddSeconds(5));
        await Poll.UntilAsync(async () => await PostAsync(http, httpPort, "Bearer second-secret") == HttpStatusCode.OK, "the rotated token to be accepted");
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(http, httpPort, "Bearer first-secret"));
        await collector.StopAsync();
    }

    [Fact]
    public async Task The_otlphttp_exporter_authenticates_with_basicauth_against_a_receiver_checking_bcrypt_htpasswd()
    {
        var hash = BCrypt.Net.BCrypt.HashPassword("s3cret", workFactor: 4);
        var (gatewayPort, agentPort) = (TestPorts.GetFree(), TestPorts.GetFree());
        var capture = new CaptureExporterFactory();
        await using var gateway = Collector.FromYaml($$"""
            extensions:
              basicauth/server:
                htpasswd:
                  inline: |
                    agent:{{hash}}
                    legacy:{SHA}{{Convert.ToBase64String(System.Security.Cryptography.SHA1.HashData("old"u8))}}
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{{gatewayPort}}
                    auth:
                      authenticator: basicauth/server
            exporters:
              capture:
            service:
              telemetry:
                metrics:
                  level: none
              extensions: [basicauth/server]
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [capture]
            """, capture.WithBuiltins(), Quiet);
        await gateway.StartAsync();
        await using var agent = Collector.FromYaml($$"""
            extensions:
              basicauth/client:
                client_auth:
                  username: agent
                  password: s3cret
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{{agentPort}}
            exporters:
              otlphttp:
                endpoint: http://127.0.0.1:{{gatewayPort}}
                auth:
                  authenticator: basicauth/client
            service:
              telemetry:
                metrics:
                  level: none
              extensions: [basicauth/client]
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [otlphttp]
            """, new CaptureExporterFactory().WithBuiltins(), Quiet);
        await agent.StartAsync();
        using var http = new HttpClient();

        Assert.Equal(HttpStatusCode.OK, await PostAsync(http, agentPort, null));
        await Poll.UntilAsync(() => capture.Traces.Items == 2, "the agent's spans to reach the gateway");
        string Basic(string user, string password) => "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}"));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(http, gatewayPort, Basic("agent", "wrong")));
        Assert.Equal(HttpStatusCode.Unauthorized, await PostAsync(http, gatewayPort, Basic("nobody", "s3cret")));
        Assert.Equal(HttpStatusCode.OK, await PostAsync(http, gatewayPort, Basic("legacy", "old")));
        await agent.StopAsync();
        await gateway.StopAsync();
    }

    [Fact]
    public async Task Headers_setter_sends_the_tenant_from_the_client_metadata_or_its_default()
    {
        var received = new ConcurrentQueue<string>();
        await using var backend = await ServerHost.StartAsync("127.0.0.1:0", async context =>
        {
            received.Enqueue(context.Request.Headers["X-Scope-OrgID"].ToString());
            context.Response.ContentType = "application/x-protobuf";
            await context.Response.Body.WriteAsync(new ExportTraceServiceResponse().ToByteArray());
        }, ServerHostSetup.Http1, CancellationToken.None);
        var agentPort = TestPorts.GetFree();
        await using var agent = Collector.FromYaml($$"""
            extensions:
              headers_setter:
                headers:
                  - key: X-Scope-OrgID
                    from_context: x-tenant
                    default_value: anonymous
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{{agentPort}}
                    include_metadata: true
            exporters:
              otlphttp:
                endpoint: http://127.0.0.1:{{backend.Port}}
                sending_queue:
                  enabled: false
                auth:
                  authenticator: headers_setter
            service:
              telemetry:
                metrics:
                  level: none
              extensions: [headers_setter]
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [otlphttp]
            """, new CaptureExporterFactory().WithBuiltins(), Quiet);
        await agent.StartAsync();
        using var http = new HttpClient();
        using (var request = new HttpRequestMessage(HttpMethod.Post, $"http://127.0.0.1:{agentPort}/v1/traces") { Content = new ByteArrayContent(SampleData.Traces(1).ToByteArray()) })
        {
            request.Content.Headers.ContentType = new("application/x-protobuf");
            request.Headers.Add("x-tenant", "team-a");
            Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(request)).StatusCode);
        }
        Assert.Equal(HttpStatusCode.OK, await PostAsync(http, agentPort, null));
        await agent.StopAsync();
        Assert.Equal(["team-a", "anonymous"], received);
    }

    [Fact]
    public async Task An_auth_block_naming_no_running_authenticator_stops_the_start_with_the_fix()
    {
        await using var collector = Collector.FromYaml("""
            extensions:
              headers_setter:
                headers:
                  - key: X-Scope-OrgID
                    value: team-a
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:0
                    auth:
                      authenticator: headers_setter
            exporters:
              capture:
            service:
              telemetry:
                metrics:
                  level: none
              extensions: [headers_setter]
              pipelines:
                traces:
                  receivers: [otlp]
                  exporters: [capture]
            """, new CaptureExporterFactory().WithBuiltins(), Quiet);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => collector.StartAsync());
        Assert.Contains("auth.authenticator: \"headers_setter\" is no extension that authenticates servers", error.ToString());
    }
}
