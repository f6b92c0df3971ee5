using Google.Protobuf;
using Google.Protobuf.Collections;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Resource.V1;

namespace OtelAi.Exporters.FileOutput;

/// <summary>
/// group_by: each resource goes to the file whose path is <c>path</c> with its <c>*</c> replaced by the resource's
/// <c>resource_attribute</c> (a string). As in otelcol, resources without that attribute are dropped (counted as
/// send failures and logged), and at most <c>max_open_files</c> files stay open (least recently used closed first).
/// </summary>
internal sealed class GroupingFileExporter<T> : IExporter<T> where T : class, IMessage<T>, new()
{
    private readonly ComponentCreateSettings _settings;
    private readonly FileExporterConfig _config;
    private readonly ExporterMetrics _metrics;
    private readonly string _prefix;
    private readonly string _suffix;
    private readonly LinkedList<(string Path, RotatingFileWriter Writer)> _recentlyUsed = new();
    private readonly Dictionary<string, LinkedListNode<(string Path, RotatingFileWriter Writer)>> _writers = new(StringComparer.Ordinal);
    private readonly HashSet<string> _opened = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();
    private bool _started;

    public GroupingFileExporter(ComponentCreateSettings settings, FileExporterConfig config)
    {
        _settings = settings;
        _config = config;
        _metrics = new ExporterMetrics(settings.Metrics, settings.Id, OtlpSignal<T>.Instance.Signal);
        var star = config.Path.IndexOf('*');
        _prefix = Path.GetFullPath(config.Path[..star]);
        if (config.Path[..star].EndsWith('/') && !_prefix.EndsWith('/')) _prefix += "/";
        _suffix = config.Path[(star + 1)..];
    }

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        _started = true;
        return Task.CompletedTask;
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        List<RotatingFileWriter> open;
        lock (_lock)
        {
            _started = false;
            open = _recentlyUsed.Select(entry => entry.Writer).ToList();
            _recentlyUsed.Clear();
            _writers.Clear();
        }
        foreach (var writer in open) await writer.ReleaseAsync();
    }

    /// <summary>Writes the data out during the call and keeps none of it.</summary>
    public ConsumerCapabilities Capabilities => ConsumerCapabilities.ReadOnly;

    public async ValueTask ConsumeAsync(Payload<T> payload, CancellationToken cancellationToken)
    {
        var ops = OtlpSignal<T>.Instance;
        var data = payload.Message;
        var total = ops.CountItems(data);
        var groups = ResourceGroups.Split(data, _config.GroupBy.ResourceAttribute);
        var grouped = groups.Sum(g => ops.CountItems(g.Value));
        if (grouped < total)
        {
            _metrics.SendFailed(total - grouped);
            _settings.Logger.LogWarning("dropped {Items} {ItemName} whose resource has no string attribute {Attribute} (group_by)",
                total - grouped, ops.Signal.ItemName(), _config.GroupBy.ResourceAttribute);
        }

        foreach (var (segment, request) in groups)
        {
            var items = ops.CountItems(request);
            // One client's unusable value costs only its own items: the other groups are still written.
            if (UnusablePath(segment) is { } problem)
            {
                _metrics.SendFailed(items);
                _settings.Logger.LogWarning("dropped {Items} {ItemName} whose {Attribute} cannot name a file: {Problem} (group_by)",
                    items, ops.Signal.ItemName(), _config.GroupBy.ResourceAttribute, problem);
                continue;
            }
            var evicted = Writer(FullPath(segment), out var writer);
            if (evicted is not null) await evicted.ReleaseAsync();
            try
            {
                FileRecordEncoder.Write<T>(request, _config.Format, writer);
            }
            catch (IOException e)
            {
                _metrics.SendFailed(items);
                throw new RetryableDataException($"writing {writer.FullPath} failed: {e.Message}", TimeSpan.FromSeconds(1), inner: e);
            }
            _metrics.Sent(items);
        }
    }

    /// <summary>The writer of a path, opening it (and returning the least recently used writer to close) when needed.</summary>
    private RotatingFileWriter? Writer(string path, out RotatingFileWriter writer)
    {
        lock (_lock)
        {
            if (!_started) throw new RetryableDataException($"exporter {_settings.Id} is not running (not started, or shut down)");
            if (_writers.TryGetValue(path, out var node))
            {
                _recentlyUsed.Remove(node);
                _recentlyUsed.AddFirst(node);
                writer = node.Value.Writer;
                return null;
            }
            var directory = Path.GetDirectoryName(path)!;
            if (!Directory.Exists(directory))
            {
                if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
                else Directory.CreateDirectory(directory, _config.DirectoryMode);
            }
            // A file reopened after eviction is appended to: truncating it would destroy what we wrote before.
            var reopening = !_opened.Add(path);
            writer = RotatingFileWriter.Acquire(_config with { Path = path, Append = _config.Append || reopening }, _settings.Logger);
            _writers[path] = _recentlyUsed.AddFirst((path, writer));
            if (_recentlyUsed.Count <= _config.GroupBy.MaxOpenFiles) return null;
            var oldest = _recentlyUsed.Last!;
            _recentlyUsed.RemoveLast();
            _writers.Remove(oldest.Value.Path);
            return oldest.Value.Writer;
        }
    }

    /// <summary>Why a segment cannot name a file (a NUL byte, a path part over 255 bytes, a path over 4096), or null.</summary>
    private string? UnusablePath(string segment)
    {
        if (segment.Contains('\0')) return "it holds a NUL character";
        var path = FullPath(segment);
        if (System.Text.Encoding.UTF8.GetByteCount(path) > 4096) return "the path would be longer than 4096 bytes";
        foreach (var part in path.Split('/'))
            if (System.Text.Encoding.UTF8.GetByteCount(part) > 255)
                return $"a part of the path would be longer than 255 bytes (\"{part[..40]}...\")";
        return null;
    }

    // The attribute value must not lead outside the configured directory ("../../etc/x" stays under the prefix).
    private string FullPath(string segment)
    {
        var candidate = Path.GetFullPath(_prefix + segment + _suffix);
        if (candidate.StartsWith(_prefix, StringComparison.Ordinal)) return candidate;
        return Path.GetFullPath(Path.Join(_prefix, Path.GetFullPath(Path.Join("/", segment + _suffix))));
    }
}

/// <summary>Splits a request into one request per value of a string resource attribute.</summary>
internal static class ResourceGroups
{
    public static Dictionary<string, T> Split<T>(T data, string attribute) where T : class, IMessage<T>, new() => data switch
    {
        ExportTraceServiceRequest t => (Dictionary<string, T>)(object)Group<ExportTraceServiceRequest, OtelAi.Otlp.Proto.Trace.V1.ResourceSpans>(t.ResourceSpans, r => r.Resource, g => g.ResourceSpans, attribute),
        ExportMetricsServiceRequest m => (Dictionary<string, T>)(object)Group<ExportMetricsServiceRequest, OtelAi.Otlp.Proto.Metrics.V1.ResourceMetrics>(m.ResourceMetrics, r => r.Resource, g => g.ResourceMetrics, attribute),
        ExportLogsServiceRequest l => (Dictionary<string, T>)(object)Group<ExportLogsServiceRequest, OtelAi.Otlp.Proto.Logs.V1.ResourceLogs>(l.ResourceLogs, r => r.Resource, g => g.ResourceLogs, attribute),
        _ => throw new NotSupportedException(typeof(T).Name),
    };

    private static Dictionary<string, TRequest> Group<TRequest, TResource>(
        RepeatedField<TResource> resources, Func<TResource, Resource?> resourceOf, Func<TRequest, RepeatedField<TResource>> listOf, string attribute)
        where TRequest : new()
    {
        var groups = new Dictionary<string, TRequest>(StringComparer.Ordinal);
        foreach (var entry in resources)
        {
            var value = resourceOf(entry)?.Attributes.Get(attribute);
            if (value?.ValueCase != OtelAi.Otlp.Proto.Common.V1.AnyValue.ValueOneofCase.StringValue) continue;
            if (!groups.TryGetValue(value.StringValue, out var request)) groups[value.StringValue] = request = new TRequest();
            listOf(request).Add(entry);
        }
        return groups;
    }
}
