using System.Buffers.Binary;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Receivers.Ebpf;

/// <summary>The bundled http_requests program's record (struct http_event in Bpf/http_requests.bpf.c).</summary>
internal readonly ref struct HttpRequestEvent
{
    public const int Size = 168;
    private const int MethodOffset = 80, MethodLength = 8, PathOffset = 88, PathLength = 80;

    private readonly ReadOnlySpan<byte> _r;

    public HttpRequestEvent(ReadOnlySpan<byte> record) => _r = record;

    public ulong StartNs => BinaryPrimitives.ReadUInt64LittleEndian(_r);
    public ulong EndNs => BinaryPrimitives.ReadUInt64LittleEndian(_r[8..]);
    public ulong FirstByteNs => BinaryPrimitives.ReadUInt64LittleEndian(_r[16..]);
    public ulong BytesIn => BinaryPrimitives.ReadUInt64LittleEndian(_r[24..]);
    public ulong BytesOut => BinaryPrimitives.ReadUInt64LittleEndian(_r[32..]);
    public int Pid => BinaryPrimitives.ReadInt32LittleEndian(_r[40..]);
    public int Tid => BinaryPrimitives.ReadInt32LittleEndian(_r[44..]);
    public int Fd => BinaryPrimitives.ReadInt32LittleEndian(_r[48..]);
    public int Status => BinaryPrimitives.ReadUInt16LittleEndian(_r[52..]);
    public int PeerPort => BinaryPrimitives.ReadUInt16LittleEndian(_r[54..]);
    public int PeerFamily => _r[56];
    public int EndReason => _r[57];

    /// <summary>The peer address bytes (4 for AF_INET, 16 for AF_INET6), empty when unknown.</summary>
    public ReadOnlySpan<byte> PeerAddressBytes => PeerFamily switch
    {
        2 => _r.Slice(64, 4),
        10 => _r.Slice(64, 16),
        _ => [],
    };

    // The methods the probe recognises, as shared strings: no allocation per request.
    private static readonly (byte[] Bytes, string Text)[] KnownMethods =
        new[] { "GET", "POST", "PUT", "HEAD", "PATCH", "DELETE", "OPTIONS" }.Select(m => (Encoding.ASCII.GetBytes(m), m)).ToArray();

    public string Method
    {
        get
        {
            var bytes = _r.Slice(MethodOffset, MethodLength);
            var end = bytes.IndexOf((byte)0);
            var raw = end >= 0 ? bytes[..end] : bytes;
            foreach (var (known, text) in KnownMethods)
                if (raw.SequenceEqual(known)) return text;
            return Terminated(bytes, stopAtPathEnd: false);
        }
    }

    /// <summary>The request target up to the query or the end of the captured bytes.</summary>
    public string Path => Terminated(_r.Slice(PathOffset, PathLength), stopAtPathEnd: true);

    private static string Terminated(ReadOnlySpan<byte> bytes, bool stopAtPathEnd)
    {
        var end = stopAtPathEnd ? bytes.IndexOfAny((byte)0, (byte)' ', (byte)'?') is var i and >= 0 ? i : bytes.Length
            : bytes.IndexOf((byte)0) is var j and >= 0 ? j : bytes.Length;
        var cr = bytes[..end].IndexOfAny((byte)'\r', (byte)'\n');
        return Encoding.UTF8.GetString(bytes[..(cr >= 0 ? cr : end)]);
    }
}

/// <summary>Matches url.path against configured route templates ("/v1/models/{model}/infer").</summary>
internal sealed class RouteTemplates(IEnumerable<string> templates)
{
    private readonly (string Template, Regex Pattern)[] _routes = templates
        .Select(t => (t, new Regex("^" + Regex.Replace(Regex.Escape(t), @"\\\{[^}]*}", "[^/]+") + "/?$", RegexOptions.CultureInvariant)))
        .ToArray();

    // Paths repeat (the same endpoints are called again and again): remember each answer instead of running the
    // regexes per request, up to a bound so that high-cardinality paths cannot grow it without limit.
    private const int MaxRemembered = 4096;
    private readonly Dictionary<string, string?> _matched = [];

    public string? Match(string path)
    {
        if (_routes.Length == 0) return null;
        if (_matched.TryGetValue(path, out var known)) return known;
        string? route = null;
        foreach (var (template, pattern) in _routes)
            if (pattern.IsMatch(path))
            {
                route = template;
                break;
            }
        if (_matched.Count >= MaxRemembered) _matched.Clear();
        _matched[path] = route;
        return route;
    }
}

/// <summary>
/// Bundled program records → SERVER spans with HTTP semantic-convention attributes, and (optionally) the
/// http.server.request.duration histogram, cumulative per process, method, route and status.
/// </summary>
internal sealed class HttpRequestConverter(MonotonicClock clock, RouteTemplates routes, bool durationMetric) : IEventConverter
{
    // Semantic-convention advice for http.server.request.duration (seconds).
    private static readonly double[] Bounds = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

    private sealed class Series(KeyValue[] attributes)
    {
        public readonly KeyValue[] Attributes = attributes;
        public readonly ulong[] Buckets = new ulong[Bounds.Length + 1];
        public ulong Count;
        public double Sum;
    }

    private readonly Dictionary<(int Pid, string Method, string? Route, int Status), Series> _durations = [];
    // Clients are few compared with requests: format each peer address once (bounded, like the route cache).
    private readonly Dictionary<(int Length, UInt128 Bytes), string> _peers = [];
    private ulong _metricsStart;

    public bool TryAdd(ReadOnlySpan<byte> record, TelemetryBatch batch)
    {
        if (record.Length < HttpRequestEvent.Size) return false;
        var ev = new HttpRequestEvent(record);
        var method = ev.Method;
        var path = ev.Path;
        var route = routes.Match(path);
        var start = clock.ToUnixNanoseconds(ev.StartNs);
        var end = clock.ToUnixNanoseconds(Math.Max(ev.EndNs, ev.StartNs));
        var span = new Span
        {
            TraceId = Ids.TraceId(),
            SpanId = Ids.SpanId(),
            Name = route is null ? method : method + " " + route,
            Kind = Span.Types.SpanKind.Server,
            StartTimeUnixNano = start,
            EndTimeUnixNano = end,
        };
        var a = span.Attributes;
        a.Add(Kv("http.request.method", method));
        a.Add(Kv("url.path", path));
        a.Add(Kv("url.scheme", "http"));
        if (route is not null) a.Add(Kv("http.route", route));
        if (ev.Status != 0) a.Add(Kv("http.response.status_code", ev.Status));
        a.Add(Kv("network.protocol.name", "http"));
        a.Add(Kv("network.protocol.version", "1.1"));
        if (PeerAddress(ev.PeerAddressBytes) is { } peer)
        {
            a.Add(Kv("network.peer.address", peer));
            a.Add(Kv("network.peer.port", ev.PeerPort));
        }
        a.Add(Kv("http.request.size", (long)ev.BytesIn));
        a.Add(Kv("http.response.size", (long)ev.BytesOut));
        if (ev.FirstByteNs >= ev.StartNs && ev.FirstByteNs != 0)
            a.Add(Kv("otelai.http.time_to_first_byte_ns", (long)(ev.FirstByteNs - ev.StartNs)));
        a.Add(Kv("thread.id", ev.Tid));
        if (batch.Process(ev.Pid)?.Model is { } model) a.Add(Kv("gen_ai.request.model", model));
        if (ev.Status >= 500) span.Status = new Status { Code = Status.Types.StatusCode.Error };
        batch.Add(ev.Pid, span);
        if (durationMetric) Record(ev.Pid, method, route, ev.Status, (end - start) / 1e9);
        return true;
    }

    private string? PeerAddress(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty) return null;
        Span<byte> padded = stackalloc byte[16]; // zeroed: an IPv4 address keys as its 4 bytes and 12 zeros
        bytes.CopyTo(padded);
        var id = (bytes.Length, BinaryPrimitives.ReadUInt128LittleEndian(padded));
        if (_peers.TryGetValue(id, out var text)) return text;
        var address = new IPAddress(bytes);
        text = address.IsIPv4MappedToIPv6 ? address.MapToIPv4().ToString() : address.ToString();
        if (_peers.Count >= 4096) _peers.Clear();
        _peers[id] = text;
        return text;
    }

    private void Record(int pid, string method, string? route, int status, double seconds)
    {
        if (!_durations.TryGetValue((pid, method, route, status), out var series))
        {
            var attributes = new List<KeyValue> { Kv("http.request.method", method), Kv("url.scheme", "http") };
            if (route is not null) attributes.Add(Kv("http.route", route));
            if (status != 0) attributes.Add(Kv("http.response.status_code", status));
            _durations[(pid, method, route, status)] = series = new Series(attributes.ToArray());
        }
        var bucket = Array.BinarySearch(Bounds, seconds);
        series.Buckets[bucket >= 0 ? bucket : ~bucket]++;
        series.Count++;
        series.Sum += seconds;
    }

    public void Collect(TelemetryBatch batch, ulong nowUnixNs)
    {
        if (_metricsStart == 0) _metricsStart = nowUnixNs;
        foreach (var group in _durations.GroupBy(kv => kv.Key.Pid))
        {
            var histogram = new Histogram { AggregationTemporality = AggregationTemporality.Cumulative };
            foreach (var (_, s) in group)
            {
                var point = new HistogramDataPoint { StartTimeUnixNano = _metricsStart, TimeUnixNano = nowUnixNs, Count = s.Count, Sum = s.Sum };
                point.ExplicitBounds.Add(Bounds);
                point.BucketCounts.Add(s.Buckets);
                point.Attributes.Add(s.Attributes.Select(kv => kv.Clone()));
                histogram.DataPoints.Add(point);
            }
            batch.Add(group.Key, new Metric
            {
                Name = "http.server.request.duration",
                Unit = "s",
                Description = "Duration of HTTP server requests.",
                Histogram = histogram,
            }, histogram.DataPoints.Count);
        }
    }

    private static KeyValue Kv(string key, string value) => new() { Key = key, Value = Attributes.String(value) };

    private static KeyValue Kv(string key, long value) => new() { Key = key, Value = new AnyValue { IntValue = value } };
}
