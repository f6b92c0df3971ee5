using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Exporter;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Exporters.Otlp;
using OtelAi.Exporters.PrometheusCommon;
using OtelAi.Exporters.PrometheusRemoteWrite.Prompb;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;

namespace OtelAi.Exporters.PrometheusRemoteWrite;

/// <summary>
/// Sends one OTLP metrics request as remote write 1.0: translated once into time series (labels sorted, __name__
/// included, the samples of a series in time order, deltas accumulated into cumulative values, stale points as
/// Prometheus' staleness marker), split into WriteRequests of at most max_batch_size_bytes, each snappy-compressed
/// and posted; up to num_consumers parts go out at once. A retry of the same request sends only the parts not yet
/// accepted. 2xx is success; 429 and 5xx are retryable (Retry-After honoured); any other status is permanent.
/// </summary>
internal sealed class RemoteWriteSender : IExportSender<ExportMetricsServiceRequest>, IDisposable
{
    /// <summary>Prometheus' staleness marker: a NaN the TSDB recognises as "this series ended".</summary>
    internal static readonly double StaleNaN = BitConverter.Int64BitsToDouble(0x7ff0000000000002);

    private static readonly TimeSpan DeltaSeriesExpiration = TimeSpan.FromMinutes(5);
    private static readonly MediaTypeHeaderValue ProtobufType = new("application/x-protobuf");

    private readonly HttpClient _client;
    private readonly Uri _uri;
    private readonly KeyValuePair<string, string>[] _headers;
    private readonly PromTranslator _translator;
    private readonly SeriesStore _deltas = new(maxSeries: 0);
    private readonly long _maxBatchBytes;
    private readonly int _parallelism;
    private readonly bool _createdSeries;
    private readonly bool _sendMetadata;
    private readonly ConditionalWeakTable<ExportMetricsServiceRequest, PreparedWrite> _prepared = new();
    private readonly Counter _translatedSeries;
    private readonly Counter _sentBatches;
    private long _nextExpiry;

    private readonly ClientCredentials _credentials;

    public RemoteWriteSender(PrometheusRemoteWriteExporterConfig config, ComponentCreateSettings settings)
    {
        _credentials = new ClientCredentials(config.Client.Auth);
        if (!Uri.TryCreate(config.Client.Endpoint, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"endpoint \"{config.Client.Endpoint}\" is not an http:// or https:// URL");
        _uri = uri;
        _headers = config.Client.Headers
            .Where(header => !IsFixedHeader(header.Key))
            .ToArray();
        _client = OtlpHttpClient.Create(config.Client.Tls, uri.IdnHost, uri.Scheme == "https", keepalive: null, config.Client);
        _translator = new PromTranslator(config.Translation);
        _maxBatchBytes = config.MaxBatchSizeBytes;
        _parallelism = Math.Max(1, config.RemoteWriteQueue.NumConsumers);
        _createdSeries = config.ExportCreatedMetric.Enabled;
        _sendMetadata = config.SendMetadata;
        var id = ("exporter", settings.Id.ToString());
        _translatedSeries = settings.Metrics.Counter(PrometheusRemoteWriteExporterFactory.TranslatedTimeSeries, id);
        _sentBatches = settings.Metrics.Counter(PrometheusRemoteWriteExporterFactory.SentBatches, id);
    }

    /// <summary>Content-Encoding, Content-Type, the protocol version and User-Agent are the protocol's, not the user's.</summary>
    private static bool IsFixedHeader(string name) =>
        name.Equals("Content-Encoding", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)
        || name.Equals("X-Prometheus-Remote-Write-Version", StringComparison.OrdinalIgnoreCase) || name.Equals("User-Agent", StringComparison.OrdinalIgnoreCase);

    /// <summary>The compressed parts of one request and which of them the server has accepted (kept while the request is retried).</summary>
    internal sealed class PreparedWrite(byte[][] bodies)
    {
        public readonly byte[][] Bodies = bodies;

        /// <summary>Accepted, or refused for good: either way not sent again.</summary>
        public readonly bool[] Done = new bool[bodies.Length];

        public string? PermanentError;
    }

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => _credentials.StartAsync(host);

    public async ValueTask<SendResult> SendAsync(Payload<ExportMetricsServiceRequest> request, CancellationToken cancellationToken)
    {
        var prepared = _prepared.GetValue(request.Message, Prepare);
        using var gate = new SemaphoreSlim(_parallelism);
        var sends = new List<Task>();
        for (var i = 0; i < prepared.Bodies.Length; i++)
        {
            if (prepared.Done[i]) continue;
            var part = i;
            await gate.WaitAsync(cancellationToken);
            sends.Add(SendPartAsync(prepared, part, gate, cancellationToken));
        }
        try
        {
            await Task.WhenAll(sends);
        }
        catch (Exception) when (sends.Any(send => send.IsFaulted))
        {
            // A retry sends only the parts still missing.
            var failure = sends.First(send => send.IsFaulted).Exception!.InnerException!;
            throw failure is RetryableDataException ? failure : new RetryableDataException(failure.Message, inner: failure);
        }
        _prepared.Remove(request.Message);
        if (prepared.PermanentError is { } error) throw new PermanentDataException(error);
        return SendResult.Success;
    }

    private async Task SendPartAsync(PreparedWrite prepared, int part, SemaphoreSlim gate, CancellationToken cancellationToken)
    {
        try
        {
            await PostAsync(prepared.Bodies[part], cancellationToken);
            _sentBatches.Add(1);
            prepared.Done[part] = true;
        }
        catch (PermanentDataException ex)
        {
            // Parts run side by side: the first refusal is the one reported.
            Interlocked.CompareExchange(ref prepared.PermanentError,
                prepared.Bodies.Length > 1 ? $"{ex.Message} (part {part + 1} of {prepared.Bodies.Length})" : ex.Message, null);
            prepared.Done[part] = true;
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task PostAsync(byte[] body, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Post, _uri)
        {
            Version = HttpVersion.Version11,
            VersionPolicy = HttpVersionPolicy.RequestVersionOrHigher,
            Content = new ByteArrayContent(body),
        };
        message.Content.Headers.ContentType = ProtobufType;
        message.Content.Headers.ContentEncoding.Add("snappy");
        message.Headers.Add("X-Prometheus-Remote-Write-Version", "0.1.0");
        message.Headers.UserAgent.Add(OtlpHttpClient.UserAgent);
        foreach (var (name, value) in _headers) message.Headers.TryAddWithoutValidation(name, value);
        _credentials.Apply(message.Headers);

        var (response, responseBody) = await OtlpHttpClient.SendAsync(_client, message, OtlpHttpClient.Redacted(_uri), cancellationToken);
        using (response)
        {
            var status = (int)response.StatusCode;
            if (status is >= 200 and < 300) return;
            var text = Encoding.UTF8.GetString(responseBody, 0, Math.Min(responseBody.Length, 2048)).Trim();
            var error = $"{OtlpHttpClient.Redacted(_uri)}: HTTP {status} {response.ReasonPhrase}{(text.Length > 0 ? ": " + text : "")}";
            if (status == 429 || status >= 500)
                throw new RetryableDataException(error, OtlpHttpClient.RetryAfter(response.Headers.RetryAfter), resourceExhausted: status == 429);
            throw new PermanentDataException(error);
        }
    }

    /// <summary>Translates a request once into compressed WriteRequest parts (deltas folded into the running totals).</summary>
    internal PreparedWrite Prepare(ExportMetricsServiceRequest request)
    {
        var now = Environment.TickCount64;
        if (now >= Interlocked.Read(ref _nextExpiry))
        {
            Interlocked.Exchange(ref _nextExpiry, now + 30_000);
            _deltas.Expire(System.Diagnostics.Stopwatch.GetTimestamp() - (long)(DeltaSeriesExpiration.TotalSeconds * System.Diagnostics.Stopwatch.Frequency));
        }

        // Points grouped by series, so that a series' samples go out in time order.
        var groups = new Dictionary<(string Family, SeriesKey Series), List<(PromSeries State, bool Stale)>>();
        var families = new Dictionary<string, PromFamily>(StringComparer.Ordinal);
        _translator.Translate(request, System.Diagnostics.Stopwatch.GetTimestamp(), point =>
        {
            var state = point;
            if (point.IsDelta && !point.NoRecordedValue)
            {
                state = _deltas.Apply(point).State;
                if (state is null || state.TimeUnixNano != point.TimeUnixNano) return; // older than what was sent already
            }
            families.TryAdd(point.Family.Name, point.Family);
            var key = (point.Family.Name, point.Key);
            if (!groups.TryGetValue(key, out var group)) groups[key] = group = [];
            group.Add((state, point.NoRecordedValue));
        });

        using var encoder = new RemoteWriteEncoder(_maxBatchBytes);
        if (_sendMetadata)
            foreach (var family in families.Values) encoder.AddMetadata((int)MetadataType(family.Type), family.Name, family.Help, family.Unit);
        foreach (var group in groups.Values)
        {
            if (group.Count > 1) group.Sort(static (a, b) => a.State.TimeUnixNano.CompareTo(b.State.TimeUnixNano));
            encoder.BeginSeries(group[0].State.Labels);
            foreach (var (state, stale) in group) AddSamples(encoder, state, stale);
        }
        _translatedSeries.Add(encoder.TimeSeriesCount);
        return new PreparedWrite(encoder.Finish());
    }

    private void AddSamples(RemoteWriteEncoder encoder, PromSeries state, bool stale)
    {
        var timestamp = state.TimeUnixNano / 1_000_000;
        var type = state.Family.Type;
        foreach (var sample in PromSamples.Of(state))
            encoder.AddSample(state.Family.Name + sample.Suffix, sample.Extra, stale ? StaleNaN : sample.Value, timestamp,
                !stale && sample.Exemplar is { TraceId.Length: > 0 } exemplar ? exemplar : null);
        if (_createdSeries && !stale && state.StartTimeUnixNano > 0 && type is PromType.Counter or PromType.Histogram or PromType.Summary)
        {
            var baseName = type == PromType.Counter && state.Family.Name.EndsWith("_total", StringComparison.Ordinal) ? state.Family.Name[..^"_total".Length] : state.Family.Name;
            encoder.AddSample(baseName + "_created", null, state.StartTimeUnixNano / 1e9, timestamp, null);
        }
    }

    private static MetricMetadata.Types.MetricType MetadataType(PromType type) => type switch
    {
        PromType.Counter => MetricMetadata.Types.MetricType.Counter,
        PromType.Histogram => MetricMetadata.Types.MetricType.Histogram,
        PromType.Summary => MetricMetadata.Types.MetricType.Summary,
        PromType.Info => MetricMetadata.Types.MetricType.Info,
        _ => MetricMetadata.Types.MetricType.Gauge,
    };

    public void Dispose() => _client.Dispose();
}
