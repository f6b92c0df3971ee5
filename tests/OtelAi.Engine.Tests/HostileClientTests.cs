using System.Net;
using System.Net.Sockets;
using System.Text;
using Google.Protobuf;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

/// <summary>
/// Clients that try to deny service to others, against the otelai executable in the shape the README recommends
/// (memory_limiter in front of the pipeline): the other clients keep being served.
/// </summary>
public sealed class HostileClientTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("otelai-hostile-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public async Task Headers_that_claim_huge_bodies_hold_no_memory_and_refuse_no_one()
    {
        var port = TestPorts.GetFree();
        var config = Path.Combine(_dir, "config.yaml");
        await File.WriteAllTextAsync(config, $"""
            receivers:
              otlp:
                protocols:
                  http:
                    endpoint: 127.0.0.1:{port}
            processors:
              memory_limiter:
                check_interval: 100ms
                limit_mib: 200
                spike_limit_mib: 40
            exporters:
              file:
                path: {Path.Combine(_dir, "out.jsonl")}
            service:
              telemetry:
                metrics:
                  level: none
              pipelines:
                traces:
                  receivers: [otlp]
                  processors: [memory_limiter]
                  exporters: [file]
            """);
        using var otelai = OtelaiProcess.Start("--config", config);
        otelai.WaitUntilListening(port);

        // Ten connections announce 20 MB bodies (the default max_request_body_size), send 1 KiB and stall.
        var stalled = new List<TcpClient>();
        try
        {
            for (var i = 0; i < 10; i++)
            {
                var connection = new TcpClient();
                await connection.ConnectAsync(IPAddress.Loopback, port);
                var headers = $"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: 20000000\r\n\r\n";
                await connection.GetStream().WriteAsync(Encoding.ASCII.GetBytes(headers).Concat(new byte[1024]).ToArray());
                stalled.Add(connection);
            }
            await Task.Delay(TimeSpan.FromSeconds(1.5)); // several memory_limiter checks

            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            for (var i = 0; i < 5; i++)
            {
                using var body = new ByteArrayContent(SampleData.Traces(10, seed: i).ToByteArray());
                body.Headers.ContentType = new("application/x-protobuf");
                using var response = await http.PostAsync($"http://127.0.0.1:{port}/v1/traces", body);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"request {i}: {(int)response.StatusCode}; engine output:\n{otelai.Output}");
            }
        }
        finally
        {
            foreach (var connection in stalled) connection.Dispose();
        }
    }
}
