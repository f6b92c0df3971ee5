using System.Diagnostics;

namespace OtelAi.Ebpf.Tests;

/// <summary>
/// A real HTTP/1.1 keep-alive server in a child process (Python's http.server on loopback): /status/N answers N,
/// /slow/MS waits MS milliseconds first, POST reads its body; every answer has a Content-Length.
/// </summary>
internal sealed class HttpServerProcess : IDisposable
{
    private const string Script = """
        import sys, time, http.server
        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def do_GET(self): self.reply()
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                self.reply()
            def reply(self):
                path = self.path.split("?")[0]
                parts = path.split("/")
                status = int(parts[2]) if parts[1] == "status" else 200
                if parts[1] == "slow": time.sleep(int(parts[2]) / 1000)
                body = ("path=" + path).encode()
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args): pass
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        """;

    private readonly Process _process;
    private readonly string _scriptPath;

    public HttpServerProcess(params string[] extraArguments)
    {
        _scriptPath = Path.Combine(Path.GetTempPath(), $"otelai-ebpf-http-{Guid.NewGuid():N}.py");
        File.WriteAllText(_scriptPath, Script);
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(_scriptPath);
        foreach (var a in extraArguments) start.ArgumentList.Add(a);
        start.Environment["OTEL_SERVICE_NAME"] = "python-model-server";
        _process = Process.Start(start)!;
        var line = _process.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)).GetAwaiter().GetResult();
        Port = int.Parse(line ?? throw new InvalidOperationException("the python HTTP server exited before listening"));
    }

    public int Pid => _process.Id;

    public int Port { get; }

    public Uri Url(string path) => new($"http://127.0.0.1:{Port}{path}");

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.WaitForExit(10_000);
        _process.Dispose();
        File.Delete(_scriptPath);
    }
}
