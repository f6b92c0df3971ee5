using Google.Protobuf;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;

namespace OtelAi.Exporters.DebugOutput;

/// <summary>
/// Prints each batch at the configured verbosity: through the component logger (sampled like otelcol's zap
/// sampler) or, with use_internal_logger: false, straight to a writer (stdout unless a test swaps it).
/// </summary>
internal sealed class DebugExporter<T> : IExporter<T> where T : class, IMessage<T>, new()
{
    private readonly DebugExporterConfig _config;
    private readonly ILogger _logger;
    private readonly TextWriter _directOutput;
    private readonly LogSampler _sampler;
    private readonly ExporterMetrics _metrics;
    private readonly Lock _directLock = new();
    private volatile bool _shutDown;

    public DebugExporter(ComponentCreateSettings settings, DebugExporterConfig config, TextWriter? directOutput = null, TimeProvider? time = null)
    {
        _config = config;
        _logger = settings.Logger;
        _directOutput = directOutput ?? Console.Out;
        _sampler = new LogSampler(config.SamplingInitial, config.SamplingThereafter, time ?? TimeProvider.System);
        _metrics = new ExporterMetrics(settings.Metrics, settings.Id, OtlpSignal<T>.Instance.Signal);
    }

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken) => Task.CompletedTask;

    public Task ShutdownAsync(CancellationToken cancellationToken)
    {
        _shutDown = true;
        if (!_config.UseInternalLogger) lock (_directLock) _directOutput.Flush();
        return Task.CompletedTask;
    }

    /// <summary>Writes the data out during the call and keeps none of it; basic verbosity only counts.</summary>
    public ConsumerCapabilities Capabilities => ConsumerCapabilities.ReadOnly with { ReadsContent = _config.Verbosity != DebugVerbosity.Basic };

    public ValueTask ConsumeAsync(Payload<T> data, CancellationToken cancellationToken)
    {
        if (_shutDown) throw new RetryableDataException("the debug exporter is shut down");
        var summary = DebugText.Summary(data);
        var body = _config.Verbosity switch
        {
            DebugVerbosity.Normal => DebugText.Normal(data.Message),
            DebugVerbosity.Detailed => DebugText.Detailed(data.Message),
            _ => null,
        };

        if (_config.UseInternalLogger)
        {
            if (_sampler.ShouldLog())
            {
                _logger.LogInformation("{Summary}", summary);
                if (!string.IsNullOrEmpty(body)) _logger.LogInformation("{Body}", body.TrimEnd('\n'));
            }
        }
        else
        {
            lock (_directLock)
            {
                _directOutput.WriteLine(summary);
                if (!string.IsNullOrEmpty(body)) _directOutput.Write(body);
            }
        }
        _metrics.Sent(data.ItemCount);
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// zap's sampler as otelcol configures it for the debug exporter: in each one-second window the first
/// <c>initial</c> outputs are logged, then every <c>thereafter</c>-th.
/// </summary>
internal sealed class LogSampler(int initial, int thereafter, TimeProvider time)
{
    private long _windowStart = long.MinValue;
    private long _count;
    private readonly Lock _lock = new();

    public bool ShouldLog()
    {
        var second = time.GetUtcNow().ToUnixTimeSeconds();
        long n;
        lock (_lock)
        {
            if (second != _windowStart)
            {
                _windowStart = second;
                _count = 0;
            }
            n = ++_count;
        }
        return n <= initial || (n - initial) % thereafter == 0;
    }
}
