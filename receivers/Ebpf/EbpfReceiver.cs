using System.Threading.Channels;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Receiver;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;

namespace OtelAi.Receivers.Ebpf;

/// <summary>
/// Reads an eBPF event stream and pushes the decoded telemetry into the pipelines. One dedicated poller thread waits
/// on epoll and drains the rings (it never blocks the kernel: a full ring makes the kernel drop and report); one
/// converter task turns record batches into OTLP requests and hands them to the next consumers.
/// </summary>
internal sealed class EbpfReceiver : IComponent
{
    private readonly ComponentCreateSettings _settings;
    private readonly EbpfReceiverConfig _config;
    private readonly ReceiverConsumers _consumers;
    private readonly ReceiverHelper _helper;
    private readonly Counter _lostEvents;
    private readonly Counter _shortRecords;
    private readonly Counter _records;
    private readonly Channel<RecordBatch> _batches = Channel.CreateBounded<RecordBatch>(new BoundedChannelOptions(16) { SingleReader = true, SingleWriter = true });
    private readonly CancellationTokenSource _stopping = new();
    private EbpfStream? _stream;
    private Thread? _poller;
    private Task? _converter;
    private Task? _processScanner;

    public EbpfReceiver(ComponentCreateSettings settings, EbpfReceiverConfig config, ReceiverConsumers consumers)
    {
        _settings = settings;
        _config = config;
        _consumers = consumers;
        _helper = new ReceiverHelper(settings, "ebpf");
        var receiver = ("receiver", settings.Id.ToString());
        _lostEvents = settings.Metrics.Counter(LostEvents, receiver);
        _shortRecords = settings.Metrics.Counter(ShortRecords, receiver);
        _records = settings.Metrics.Counter(Records, receiver);
    }

    internal static readonly SelfMetric LostEvents = SelfMetric.Counter("otelai_receiver_ebpf_lost_events", "Records the kernel could not write to a full perf ring (PERF_RECORD_LOST).", "receiver");
    internal static readonly SelfMetric ShortRecords = SelfMetric.Counter("otelai_receiver_ebpf_short_records", "Records shorter than the event layout, skipped.", "receiver");
    internal static readonly SelfMetric Records = SelfMetric.Counter("otelai_receiver_ebpf_records", "Records read from the kernel or a recording.", "receiver");
    internal static readonly SelfMetric OutputFailures = SelfMetric.Gauge("otelai_receiver_ebpf_output_failures", "Events the BPF program failed to output (ring full), from its output_failures map.", "receiver");

    /// <summary>Completes when a replay has been fully delivered (never for live sources until shutdown).</summary>
    public Task Completion => _converter ?? Task.CompletedTask;

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        _stream = EbpfStream.Open(_config, _settings.Logger);
        if (_stream.OutputFailures is not null)
            _settings.Metrics.Gauge(OutputFailures, () => _stream.OutputFailures ?? 0, ("receiver", _settings.Id.ToString()));
        var converter = CreateConverter(_stream.Clock);
        var batcher = new RecordBatcher(_batches.Writer, _config.MaxBatchSize, _config.PollInterval, _lostEvents, _records);
        _poller = new Thread(() => Poll(_stream, batcher, host)) { IsBackground = true, Name = $"ebpf poller {_settings.Id}" };
        _poller.Start();
        _converter = Task.Run(() => ConvertAsync(converter));
        if (_config.Comm.Count > 0 && _config.Replay is null) _processScanner = Task.Run(ScanProcessesAsync);
        _settings.Logger.LogInformation("ebpf receiver {Id} reading {Source}", _settings.Id, _stream.Description);
        return Task.CompletedTask;
    }

    private IEventConverter CreateConverter(MonotonicClock clock) => _config.EventLayout is { } layout
        ? new LayoutEventConverter(EventLayout.From(layout), clock)
        : new HttpRequestConverter(clock, new RouteTemplates(_config.RouteTemplates), _config.RequestDurationMetric && _consumers.Metrics is not null);

    private void Poll(EbpfStream stream, RecordBatcher batcher, IComponentHost host)
    {
        var timeout = (int)Math.Max(1, _config.PollInterval.TotalMilliseconds);
        try
        {
            while (!_stopping.IsCancellationRequested && !stream.Source.Completed)
            {
                stream.Source.Poll(batcher, batcher.WaitBudgetMs(timeout));
                batcher.FlushIfDue();
            }
            stream.Source.Poll(batcher, 0); // what arrived while stopping
            batcher.Flush();
        }
        catch (Exception e)
        {
            _settings.Logger.LogError(e, "ebpf receiver {Id}: reading {Source} failed", _settings.Id, stream.Description);
            host.ReportFatalError(_settings.Id, e);
        }
        finally
        {
            _batches.Writer.Complete();
        }
    }

    private async Task ConvertAsync(IEventConverter converter)
    {
        var batch = new TelemetryBatch(new ProcessInfoCache(_config.ProcessCacheSize));
        var collectMetrics = _consumers.Metrics is not null; // aggregated metrics only when a metrics pipeline listens
        var nextCollect = DateTime.UtcNow + _config.MetricsInterval;
        var reader = _batches.Reader;
        while (true)
        {
            bool more;
            if (!collectMetrics) more = await reader.WaitToReadAsync();
            else
            {
                var wait = nextCollect - DateTime.UtcNow;
                using var timer = new CancellationTokenSource(wait > TimeSpan.Zero ? wait : TimeSpan.Zero);
                try
                {
                    more = await reader.WaitToReadAsync(timer.Token);
                }
                catch (OperationCanceledException)
                {
                    more = true; // metrics interval elapsed
                }
            }
            while (reader.TryRead(out var records))
            {
                for (var i = 0; i < records.Count; i++)
                    if (!converter.TryAdd(records[i], batch)) _shortRecords.Add(1);
                records.Release();
                await DeliverAsync(batch);
            }
            if (collectMetrics && (DateTime.UtcNow >= nextCollect || !more))
            {
                converter.Collect(batch, (ulong)(DateTime.UtcNow - DateTime.UnixEpoch).Ticks * 100);
                await DeliverAsync(batch);
                nextCollect = DateTime.UtcNow + _config.MetricsInterval;
            }
            if (!more) return;
        }
    }

    private async Task DeliverAsync(TelemetryBatch batch)
    {
        if (batch.TakeTraces() is var (traces, spans)) await SendAsync(_consumers.Traces, traces, Signal.Traces, spans);
        if (batch.TakeMetrics() is var (metrics, points)) await SendAsync(_consumers.Metrics, metrics, Signal.Metrics, points);
        if (batch.TakeLogs() is var (logs, records)) await SendAsync(_consumers.Logs, logs, Signal.Logs, records);
    }

    private async Task SendAsync<T>(Engine.Consumers.ITelemetryConsumer<T>? consumer, T data, Signal signal, int items) where T : class, Google.Protobuf.IMessage<T>, new()
    {
        if (consumer is null)
        {
            _helper.Refused(signal, items); // decoded into a signal no pipeline of this receiver carries
            return;
        }
        var result = await _helper.ConsumeAsync(consumer, data, client: null, CancellationToken.None);
        // The kernel cannot be asked to resend: a refusal is counted and logged, and reading goes on.
        if (result.Refusal is { } e)
            _settings.Logger.LogWarning(e, "ebpf receiver {Id}: the pipeline refused {Items} {Signal} items", _settings.Id, result.Items, signal);
    }

    private async Task ScanProcessesAsync()
    {
        using var timer = new PeriodicTimer(_config.ProcessScanInterval);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
            {
                try
                {
                    _stream!.RescanProcesses();
                }
                catch (Exception e) when (e is IOException or Native.NativeCallException)
                {
                    _settings.Logger.LogWarning(e, "ebpf receiver {Id}: rescanning processes failed", _settings.Id);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // stopping
        }
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        _stopping.Cancel();
        if (_converter is not null) await _converter.WaitAsync(cancellationToken);
        if (_processScanner is not null) await _processScanner.WaitAsync(cancellationToken);
        _poller?.Join();
        _stream?.Dispose();
        _stream = null;
    }
}
