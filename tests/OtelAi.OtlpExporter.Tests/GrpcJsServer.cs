using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text.Json;
using Google.Protobuf;
using OtelAi.TestSupport;

namespace OtelAi.OtlpExporter.Tests;

/// <summary>
/// tests/interop/grpc-js-server.js in a child process: a grpc-js OTLP server loading opentelemetry-proto's own
/// .proto files. Every call it receives arrives here as a parsed JSON line.
/// </summary>
internal sealed class GrpcJsServer : IAsyncDisposable
{
    private static readonly JsonParser ProtoJson = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));
    private readonly Process _process;
    private readonly TaskCompletionSource _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ConcurrentQueue<string> _stderr = new();

    public sealed record Call(string Service, int Status, IReadOnlyDictionary<string, string> Metadata, string RequestJson)
    {
        public T Request<T>() where T : class, IMessage<T>, new() => ProtoJson.Parse<T>(RequestJson);
    }

    public ConcurrentQueue<Call> Calls { get; } = new();

    public int Port { get; }

    private GrpcJsServer(int port, string[] options)
    {
        Port = port;
        var interop = RepositoryPaths.Interop;
        if (!Directory.Exists(Path.Combine(interop, "node_modules", "@grpc", "grpc-js")))
            throw new InvalidOperationException($"run `npm ci` in {interop} first (grpc-js is missing)");
        var start = new ProcessStartInfo("node") { WorkingDirectory = interop, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        start.ArgumentList.Add("grpc-js-server.js");
        start.ArgumentList.Add(port.ToString());
        foreach (var option in options) start.ArgumentList.Add(option);
        _process = Process.Start(start)!;
        _process.OutputDataReceived += (_, e) => OnLine(e.Data);
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) _stderr.Enqueue(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>Starts the server on a free port (or <paramref name="port"/>) and waits until it listens.</summary>
    public static async Task<GrpcJsServer> StartAsync(int? port = null, params string[] options)
    {
        var server = new GrpcJsServer(port ?? TestPorts.GetFree(), options);
        var exited = server._process.WaitForExitAsync();
        var first = await Task.WhenAny(server._listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(30)));
        if (first != server._listening.Task)
            throw new InvalidOperationException($"grpc-js server did not start: {string.Join('\n', server._stderr)}");
        return server;
    }

    public IEnumerable<T> Requests<T>(string service) where T : class, IMessage<T>, new() =>
        Calls.Where(c => c.Service == service && c.Status == 0).Select(c => c.Request<T>());

    private void OnLine(string? line)
    {
        if (line is null) return;
        if (line.StartsWith("LISTENING", StringComparison.Ordinal))
        {
            _listening.TrySetResult();
            return;
        }
        using var document = JsonDocument.Parse(line);
        var root = document.RootElement;
        var metadata = root.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
        Calls.Enqueue(new Call(root.GetProperty("service").GetString()!, root.GetProperty("status").GetInt32(), metadata, root.GetProperty("request").GetRawText()));
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(5000)) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        finally
        {
            _process.Dispose();
        }
    }
}
