using System.Globalization;
using System.Text.Json;
using Google.Protobuf.Collections;
using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.Extensions.Storage;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Logs.V1;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Logs.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Processors.Anomaly;

/// <summary>
/// The state of one anomaly connector id, shared by its instances (one per output signal): values are put in the
/// step of their arrival, per series and group; every step the rules judge the window that just closed, move each
/// (rule, group) through pending → firing → resolved, and the outputs get alert log records (on changes), gauges
/// (every step) and Alertmanager posts (on firing, resent every resend_interval, and on resolving).
/// Values go in under one lock per request; evaluation takes the same lock once per step.
/// </summary>
internal sealed class AnomalyEngine : IAsyncDisposable
{
    private readonly ComponentCreateSettings _settings;
    private readonly AnomalyConfig _config;
    private readonly TimeProvider _time;
    private readonly Lock _lock = new();
    private readonly Dictionary<string, SeriesState> _series;
    private readonly Dictionary<(string Rule, string Group), RuleState> _states = [];
    private readonly List<ITelemetryConsumer<ExportLogsServiceRequest>> _logOutputs = [];
    private readonly List<ITelemetryConsumer<ExportMetricsServiceRequest>> _metricOutputs = [];
    private readonly HashSet<Signal> _claimedInputs = [];
    private readonly Ottl.OttlContext _ottl = new();
    private readonly int _stepsPerWindow;

    /// <summary>
    /// How many closed steps a late evaluation still judges: a window, ten steps or 30 seconds, whichever is longest.
    /// A loaded machine delays a tick by seconds (short steps must not lose their values then); a suspended process
    /// is not replayed step by step beyond that.
    /// </summary>
    private readonly long _catchUpSteps;
    private readonly double _stepSeconds;
    private readonly HttpClient? _alertmanager;
    private readonly HttpClient? _webhook;
    private readonly Counter _droppedValues;
    private readonly Counter _transitions;
    private IStorageClient? _storage;
    private CancellationTokenSource? _stopping;
    private Task? _loop;
    private int _started;
    private long _lastEvaluatedStep = long.MinValue;

    /// <summary>Values are timed in seconds from the engine's creation: least squares over raw Unix seconds would lose the slope to rounding.</summary>
    private readonly double _originSeconds;

    public AnomalyEngine(ComponentCreateSettings settings, AnomalyConfig config, TimeProvider? time = null)
    {
        _settings = settings;
        _config = config;
        _time = time ?? TimeProvider.System;
        _stepsPerWindow = (int)(config.Window.Ticks / config.Step.Ticks);
        _catchUpSteps = Math.Max(Math.Max(_stepsPerWindow, 10), (long)Math.Ceiling(TimeSpan.FromSeconds(30) / config.Step));
        _stepSeconds = config.Step.TotalSeconds;
        _originSeconds = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).TotalSeconds;
        var history = config.Rules.Select(r => r.Detector == AnomalyDetector.Sigma ? r.History : 1).DefaultIfEmpty(1).Max();
        _series = config.Series.ToDictionary(s => s.Name, s => new SeriesState(s, _stepsPerWindow, history, config.MaxGroups * 4));
        if (config.Alertmanager is { } alertmanager)
            _alertmanager = new HttpClient { BaseAddress = new Uri(alertmanager.Endpoint.TrimEnd('/') + "/"), Timeout = alertmanager.Timeout };
        if (config.Webhook is { } webhook) _webhook = new HttpClient { Timeout = webhook.Timeout };
        var id = ("connector", settings.Id.ToString());
        _droppedValues = settings.Metrics.Counter(AnomalyConnectorFactory.DroppedValues, id);
        _transitions = settings.Metrics.Counter(AnomalyConnectorFactory.Transitions, id);
    }

    private sealed class SeriesState(AnomalySeriesConfig config, int stepsPerWindow, int historyWindows, int maxHistogramStreams)
    {
        public AnomalySeriesConfig Config { get; } = config;
        public HistogramIncrements Histograms { get; } = new(maxHistogramStreams);
        public Ottl.OttlCondition? Condition { get; } = config.CompiledCondition();
        public Dictionary<string, Group> Groups { get; } = new(StringComparer.Ordinal);
        public Group NewGroup(string[] values) => new(values, new SeriesWindows(stepsPerWindow, historyWindows + 1));
    }

    private sealed class Group(string[] values, SeriesWindows windows)
    {
        public string[] Values { get; } = values;
        public SeriesWindows Windows { get; } = windows;
        public QuantileSketch? FirstWindow { get; set; }
    }

    private enum AlertState { Inactive, Pending, Firing }

    private sealed class RuleState
    {
        public AlertState State;
        public double Value;
        public string Labels = "";
        public DateTimeOffset Since;
        public DateTimeOffset StartsAt;
        public DateTimeOffset LastSent;
    }

    /// <summary>One verdict of one rule on one group, as the outputs see it.</summary>
    internal sealed record Verdict(AnomalyRuleConfig Rule, AnomalySeriesConfig Series, string[] Group, double Value, double Baseline, bool Active);

    public void AddOutput(object output)
    {
        lock (_lock)
        {
            if (output is ITelemetryConsumer<ExportLogsServiceRequest> logs) _logOutputs.Add(logs);
            else if (output is ITelemetryConsumer<ExportMetricsServiceRequest> metrics) _metricOutputs.Add(metrics);
        }
    }

    /// <summary>True for the first instance of an input signal: it alone feeds values, so a span is counted once however many outputs there are.</summary>
    public bool ClaimInput(Signal signal)
    {
        lock (_lock) return _claimedInputs.Add(signal);
    }

    /// <summary>The first instance's start loads the stored state (when a storage extension is configured) and starts the step loop.</summary>
    public async Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        if (Interlocked.Increment(ref _started) != 1) return;
        if (_config.Storage is { } storageId)
        {
            if (host.GetExtension(storageId) is not IStorageExtension storage)
                throw new InvalidOperationException($"storage: \"{storageId}\" is not a configured storage extension (add it under extensions and service.extensions)");
            _storage = await storage.GetClientAsync(ComponentKind.Connector, _settings.Id, "state", cancellationToken);
            if (await _storage.GetAsync(StateKey, cancellationToken) is { } stored) Restore(stored);
        }
        // Steps are judged from the start on: a first timer tick that comes late (a loaded machine) must not skip the
        // step the first values arrived in.
        lock (_lock)
            if (_lastEvaluatedStep == long.MinValue) _lastEvaluatedStep = CurrentStep(out _) - 1;
        _stopping = new CancellationTokenSource();
        _loop = LoopAsync(_stopping.Token);
    }

    /// <summary>The last instance's stop ends the loop and saves the state.</summary>
    public async Task StopAsync()
    {
        if (Interlocked.Decrement(ref _started) != 0 || _stopping is null) return;
        await _stopping.CancelAsync();
        if (_loop is not null) await _loop;
        if (_storage is not null)
        {
            await SaveAsync(CancellationToken.None);
            await _storage.DisposeAsync();
            _storage = null;
        }
    }

    private const string StateKey = "state";

    private async Task LoopAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_config.Step, _time);
        var stepsSinceSave = 0;
        try
        {
            while (await timer.WaitForNextTickAsync(stopping))
            {
                await EvaluateAsync(stopping);
                if (_storage is not null && ++stepsSinceSave >= _stepsPerWindow)
                {
                    stepsSinceSave = 0;
                    await SaveAsync(stopping);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    private async Task SaveAsync(CancellationToken cancellationToken)
    {
        byte[] snapshot;
        lock (_lock) snapshot = Snapshot();
        try
        {
            await _storage!.SetAsync(StateKey, snapshot, cancellationToken);
        }
        catch (IOException ex)
        {
            _settings.Logger.LogWarning("connector {Connector}: could not save its state: {Error}", _settings.Id, ex.Message);
        }
    }

    /// <summary>The windows, histories and alert states, for the storage extension.</summary>
    internal byte[] Snapshot()
    {
        using var buffer = new MemoryStream();
        using (var writer = new BinaryWriter(buffer))
        {
            AnomalySnapshot.WriteHeader(writer);
            writer.Write(_series.Count);
            foreach (var (name, series) in _series)
            {
                writer.Write(name);
                writer.Write(series.Groups.Count);
                foreach (var group in series.Groups.Values)
                {
                    writer.Write(group.Values.Length);
                    foreach (var value in group.Values) writer.Write(value);
                    writer.Write(group.FirstWindow is not null);
                    group.FirstWindow?.Write(writer);
                    var steps = group.Windows.Steps().ToList();
                    writer.Write(steps.Count);
                    foreach (var (step, aggregate) in steps) AnomalySnapshot.WriteStep(writer, step, aggregate, _originSeconds);
                }
            }
            writer.Write(_states.Count);
            foreach (var ((rule, group), state) in _states)
            {
                writer.Write(rule);
                writer.Write(group);
                writer.Write((int)state.State);
                writer.Write(state.Since.UtcTicks);
                writer.Write(state.StartsAt.UtcTicks);
                writer.Write(state.LastSent.UtcTicks);
            }
        }
        return buffer.ToArray();
    }

    /// <summary>Puts a snapshot back; series and rules no longer configured, and groups of another shape, are left out.</summary>
    internal void Restore(byte[] snapshot)
    {
        try
        {
            using var reader = new BinaryReader(new MemoryStream(snapshot));
            if (!AnomalySnapshot.ReadHeader(reader)) return;
            // Everything is read before anything is applied: a damaged snapshot leaves the engine empty, not half-filled.
            var groups = new List<(SeriesState Series, Group Group)>();
            var seriesCount = reader.ReadInt32();
            for (var i = 0; i < seriesCount; i++)
            {
                _series.TryGetValue(reader.ReadString(), out var series);
                var groupCount = reader.ReadInt32();
                for (var g = 0; g < groupCount; g++)
                {
                    var values = new string[reader.ReadInt32()];
                    for (var v = 0; v < values.Length; v++) values[v] = reader.ReadString();
                    QuantileSketch? first = null;
                    if (reader.ReadBoolean())
                    {
                        first = new QuantileSketch();
                        first.Read(reader);
                    }
                    var steps = reader.ReadInt32();
                    var restored = new List<(long Step, StepAggregate Aggregate)>(steps);
                    for (var s = 0; s < steps; s++) restored.Add(AnomalySnapshot.ReadStep(reader, _originSeconds));
                    if (series is null || values.Length != series.Config.GroupBy.Count) continue;
                    var group = series.NewGroup(values);
                    group.FirstWindow = first;
                    foreach (var (step, aggregate) in restored) group.Windows.Restore(step, aggregate);
                    groups.Add((series, group));
                }
            }
            var rules = _config.Rules.Select(r => r.Name).ToHashSet();
            var states = new List<((string Rule, string Group) Key, RuleState State)>();
            var stateCount = reader.ReadInt32();
            for (var i = 0; i < stateCount; i++)
            {
                var key = (reader.ReadString(), reader.ReadString());
                var state = new RuleState
                {
                    State = (AlertState)reader.ReadInt32(),
                    Since = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero),
                    StartsAt = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero),
                    LastSent = new DateTimeOffset(reader.ReadInt64(), TimeSpan.Zero),
                };
                if (rules.Contains(key.Item1)) states.Add((key, state));
            }
            lock (_lock)
            {
                foreach (var (series, group) in groups)
                    if (series.Groups.Count < _config.MaxGroups) series.Groups[string.Join('\u0000', group.Values)] = group;
                foreach (var (key, state) in states) _states[key] = state;
            }
            _settings.Logger.LogInformation("connector {Connector}: restored {Groups} groups and {States} alert states", _settings.Id,
                _series.Values.Sum(s => s.Groups.Count), _states.Count);
        }
        catch (Exception ex) when (ex is EndOfStreamException or IOException or InvalidDataException or ArgumentException)
        {
            _settings.Logger.LogWarning("connector {Connector}: its stored state is damaged, starting afresh: {Error}", _settings.Id, ex.Message);
        }
    }

    private long CurrentStep(out double seconds)
    {
        seconds = (_time.GetUtcNow() - DateTimeOffset.UnixEpoch).TotalSeconds;
        return (long)Math.Floor(seconds / _stepSeconds);
    }

    public void Observe(ExportTraceServiceRequest request)
    {
        var step = CurrentStep(out var seconds);
        lock (_lock)
            foreach (var series in _series.Values)
            {
                if (series.Config.Source == AnomalySource.Metric) continue;
                foreach (var resourceSpans in request.ResourceSpans)
                    foreach (var scopeSpans in resourceSpans.ScopeSpans)
                    foreach (var span in scopeSpans.Spans)
                    {
                        if (!Matches(series.Config, span.Attributes, resourceSpans.Resource)) continue;
                        if (series.Condition is { } condition && !Holds(condition, resourceSpans.Resource, scopeSpans.Scope, span, null, null)) continue;
                        double? value = series.Config.Source switch
                        {
                            AnomalySource.SpanDuration => (span.EndTimeUnixNano - Math.Min(span.EndTimeUnixNano, span.StartTimeUnixNano)) / (series.Config.Unit == DurationUnit.Seconds ? 1e9 : 1e6),
                            AnomalySource.SpanError => span.Status?.Code == Status.Types.StatusCode.Error ? 1 : 0,
                            _ => Number(span.Attributes.Get(series.Config.Attribute)),
                        };
                        if (value is { } v) AggregateOf(series, span.Attributes, resourceSpans.Resource, step)?.Add(v, seconds - _originSeconds);
                    }
            }
    }

    public void Observe(ExportMetricsServiceRequest request)
    {
        var step = CurrentStep(out var seconds);
        lock (_lock)
            foreach (var series in _series.Values)
            {
                if (series.Config.Source != AnomalySource.Metric) continue;
                foreach (var resourceMetrics in request.ResourceMetrics)
                    foreach (var scopeMetrics in resourceMetrics.ScopeMetrics)
                    foreach (var metric in scopeMetrics.Metrics)
                    {
                        if (metric.Name != series.Config.Metric) continue;
                        if (metric.DataCase == Metric.DataOneofCase.Histogram)
                        {
                            foreach (var point in metric.Histogram.DataPoints)
                            {
                                if (!Matches(series.Config, point.Attributes, resourceMetrics.Resource)) continue;
                                if (series.Condition is { } histogramCondition && !Holds(histogramCondition, resourceMetrics.Resource, scopeMetrics.Scope, null, metric, point)) continue;
                                var stream = StreamKey(resourceMetrics.Resource, point.Attributes);
                                var increment = series.Histograms.Increment(stream, point, metric.Histogram.AggregationTemporality, step, out var refused);
                                if (refused) _droppedValues.Add(1);
                                if (increment is null) continue;
                                if (AggregateOf(series, point.Attributes, resourceMetrics.Resource, step) is not { } aggregate) continue;
                                foreach (var (value, weight) in HistogramIncrements.Spread(point.ExplicitBounds, increment, point.HasMin ? point.Min : null, point.HasMax ? point.Max : null))
                                    aggregate.Add(value, seconds - _originSeconds, weight);
                            }
                            continue;
                        }
                        var points = metric.DataCase switch
                        {
                            Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints,
                            Metric.DataOneofCase.Sum => metric.Sum.DataPoints,
                            _ => null,
                        };
                        foreach (var point in points ?? [])
                        {
                            if (!Matches(series.Config, point.Attributes, resourceMetrics.Resource)) continue;
                            if (series.Condition is { } condition && !Holds(condition, resourceMetrics.Resource, scopeMetrics.Scope, null, metric, point)) continue;
                            var value = point.ValueCase == NumberDataPoint.ValueOneofCase.AsInt ? point.AsInt : point.AsDouble;
                            AggregateOf(series, point.Attributes, resourceMetrics.Resource, step)?.Add(value, seconds - _originSeconds);
                        }
                    }
            }
    }

    /// <summary>A histogram stream's identity: its resource and point attributes.</summary>
    private static string StreamKey(Resource? resource, RepeatedField<KeyValue> attributes)
    {
        var key = new System.Text.StringBuilder();
        foreach (var attribute in (resource?.Attributes ?? []).Concat(attributes)) key.Append(attribute.Key).Append('\u0001').Append(attribute.Value?.AsString()).Append('\u0002');
        return key.ToString();
    }

    /// <summary>Whether the series' OTTL condition holds; an error in it (a missing path, a type clash) counts as not holding.</summary>
    private bool Holds(Ottl.OttlCondition condition, Resource? resource, InstrumentationScope? scope, Span? span, Metric? metric, object? point)
    {
        _ottl.Resource = resource ?? new Resource();
        _ottl.Scope = scope ?? new InstrumentationScope();
        if (span is not null) _ottl.Span = span;
        if (metric is not null) _ottl.Metric = metric;
        if (point is not null) _ottl.DataPoint = point;
        try
        {
            return condition.Evaluate(_ottl);
        }
        catch (Ottl.OttlRuntimeException)
        {
            return false;
        }
    }

    private static bool Matches(AnomalySeriesConfig series, RepeatedField<KeyValue> attributes, Resource? resource)
    {
        foreach (var (key, expected) in series.Match)
            if ((attributes.Get(key) ?? resource?.Attributes.Get(key))?.AsString() != expected) return false;
        return true;
    }

    /// <summary>The step aggregate of the values' group (created on first sight), or null when the group bound refuses it or the step is too old.</summary>
    private StepAggregate? AggregateOf(SeriesState series, RepeatedField<KeyValue> attributes, Resource? resource, long step)
    {
        var values = series.Config.GroupBy.Select(key => (attributes.Get(key) ?? resource?.Attributes.Get(key))?.AsString() ?? "").ToArray();
        var key = string.Join('\u0000', values);
        if (!series.Groups.TryGetValue(key, out var group))
        {
            if (series.Groups.Count >= _config.MaxGroups)
            {
                _droppedValues.Add(1);
                return null;
            }
            series.Groups[key] = group = series.NewGroup(values);
        }
        return group.Windows.At(step);
    }

    private static double? Number(AnyValue? value) => value?.ValueCase switch
    {
        AnyValue.ValueOneofCase.IntValue => value.IntValue,
        AnyValue.ValueOneofCase.DoubleValue => value.DoubleValue,
        AnyValue.ValueOneofCase.StringValue when double.TryParse(value.StringValue, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => null,
    };

    /// <summary>Judges the window that closed with the last step and hands the results to the outputs.</summary>
    internal async Task EvaluateAsync(CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var current = CurrentStep(out _);
        var verdicts = new List<Verdict>();
        var changes = new List<(Verdict Verdict, string State)>();
        var alertmanagerPosts = new List<PostedAlert>();
        var webhookAlerts = new List<PostedAlert>();
        lock (_lock)
        {
            // Every step that closed since the last evaluation is judged (a late timer tick, under load or a GC pause,
            // must not skip a window), up to _catchUpSteps back; the gauges show the last.
            var first = _lastEvaluatedStep == long.MinValue ? current - 1 : Math.Max(_lastEvaluatedStep + 1, current - _catchUpSteps);
            for (var step = first; step < current; step++)
            {
                var stepEnd = DateTimeOffset.UnixEpoch.AddSeconds((step + 1) * _stepSeconds);
                var judged = EvaluateStep(step, stepEnd > now ? now : stepEnd, changes, alertmanagerPosts, webhookAlerts);
                if (step == current - 1) verdicts = judged;
            }
            if (first < current) _lastEvaluatedStep = current - 1;
            // Groups whose values left the ring long ago, and that fire nothing, are forgotten; so are histogram streams.
            foreach (var series in _series.Values)
            {
                series.Histograms.Forget(current - _stepsPerWindow * 4);
                foreach (var (key, group) in series.Groups.ToList())
                    if (group.Windows.LastSeenStep < current - _stepsPerWindow * 4
                        && _config.Rules.All(rule => _states.GetValueOrDefault((rule.Name, key))?.State is null or AlertState.Inactive))
                        series.Groups.Remove(key);
            }
        }
        await EmitAsync(verdicts, changes, now, cancellationToken);
        if (alertmanagerPosts.Count > 0) await PostAlertsAsync(alertmanagerPosts, cancellationToken);
        if (webhookAlerts.Count > 0) await PostWebhookAsync(webhookAlerts, cancellationToken);
    }

    /// <summary>Judges the window ending with <paramref name="lastStep"/> for every rule and group, moving the alert states.</summary>
    private List<Verdict> EvaluateStep(long lastStep, DateTimeOffset now, List<(Verdict Verdict, string State)> changes,
        List<PostedAlert> alertmanagerPosts, List<PostedAlert> webhookAlerts)
    {
        var verdicts = new List<Verdict>();
        var byRuleAndGroup = new Dictionary<(string Rule, string Group), Verdict>();
        foreach (var rule in _config.Rules)
        {
            var series = _series[SeriesOf(rule)];
            foreach (var (groupKey, group) in series.Groups)
            {
                if ((rule.IsCombination ? Combine(rule, series, group, groupKey, byRuleAndGroup) : Judge(rule, series, group, lastStep)) is not { } verdict)
                {
                    // No values at all in the window: like a Prometheus expression that returns nothing, a firing alert resolves.
                    if (rule.IsCombination || group.Windows.Window(lastStep).Count > 0) continue;
                    if (_states.GetValueOrDefault((rule.Name, groupKey)) is not { State: AlertState.Firing }) continue;
                    verdict = new Verdict(rule, series.Config, group.Values, double.NaN, double.NaN, Active: false);
                }
                verdicts.Add(verdict);
                byRuleAndGroup[(rule.Name, groupKey)] = verdict;
                var state = _states.TryGetValue((rule.Name, groupKey), out var known) ? known : _states[(rule.Name, groupKey)] = new RuleState();
                var changed = Transition(state, verdict.Active, rule.For, now);
                state.Value = verdict.Value;
                state.Labels = string.Join(", ", verdict.Series.GroupBy.Zip(verdict.Group, (label, value) => $"{label}={value}"));
                if (rule.Silent) continue;
                if (changed is not null)
                {
                    changes.Add((verdict, changed));
                    _transitions.Add(1);
                }
                if (_config.Alertmanager is { } am && (changed is "firing" or "resolved" || state.State == AlertState.Firing && now - state.LastSent >= am.ResendInterval))
                {
                    alertmanagerPosts.Add(PostedAlertOf(verdict, state, now, am.Labels, am.ResendInterval));
                    state.LastSent = now;
                }
                if (_config.Webhook is not null && changed is "firing" or "resolved")
                    webhookAlerts.Add(PostedAlertOf(verdict, state, now, new Dictionary<string, string>(), _config.Step));
            }
        }
        return verdicts;
    }

    /// <summary>The live page's panel: what is tracked, and every alert pending or firing with its value.</summary>
    public LivePanel LiveStatus()
    {
        lock (_lock)
        {
            var levels = _config.Rules.ToDictionary(r => r.Name, r => r.Level.ToString().ToLowerInvariant());
            var alerts = _states.Where(s => s.Value.State != AlertState.Inactive)
                .OrderByDescending(s => s.Value.State).ThenBy(s => s.Key.Rule, StringComparer.Ordinal)
                .Select(s => (IReadOnlyList<string>)[s.Key.Rule, s.Value.Labels, levels.GetValueOrDefault(s.Key.Rule, ""),
                    s.Value.State.ToString().ToLowerInvariant(), s.Value.Since.ToString("HH:mm:ss"), s.Value.Value.ToString("G4", CultureInfo.InvariantCulture)])
                .ToList();
            return new LivePanel("Anomaly alerts",
            [
                new LiveField("series groups", _series.Values.Sum(s => s.Groups.Count).ToString(CultureInfo.InvariantCulture)),
                new LiveField("rules", _config.Rules.Count.ToString(CultureInfo.InvariantCulture)),
                new LiveField("window / step", $"{OtelAi.Engine.Config.Durations.Format(_config.Window)} / {OtelAi.Engine.Config.Durations.Format(_config.Step)}"),
                new LiveField("active alerts", alerts.Count.ToString(CultureInfo.InvariantCulture)),
            ],
            [new LiveTable("Pending and firing", ["rule", "group", "level", "state", "since", "value"], alerts)]);
        }
    }

    /// <summary>The series a rule reads (a combination reads its members').</summary>
    private string SeriesOf(AnomalyRuleConfig rule) =>
        rule.IsCombination ? _config.Rules.First(r => r.Name == rule.All.Concat(rule.Any).First()).Series : rule.Series;

    /// <summary>
    /// A combined rule's verdict for one group: its members' verdicts of this evaluation (rules are judged in
    /// order, so members come first); the value is how many members are active. No verdict while a member has none.
    /// </summary>
    private static Verdict? Combine(AnomalyRuleConfig rule, SeriesState series, Group group, string groupKey, Dictionary<(string Rule, string Group), Verdict> verdicts)
    {
        var members = rule.All.Count > 0 ? rule.All : rule.Any;
        var results = new List<bool>(members.Count);
        foreach (var member in members)
        {
            if (!verdicts.TryGetValue((member, groupKey), out var verdict)) return null;
            results.Add(verdict.Active);
        }
        var active = rule.All.Count > 0 ? results.All(r => r) : results.Any(r => r);
        return new Verdict(rule, series.Config, group.Values, results.Count(r => r), double.NaN, active);
    }

    /// <summary>The detector's value for one group, or null when the window has too little to judge.</summary>
    private Verdict? Judge(AnomalyRuleConfig rule, SeriesState series, Group group, long lastStep)
    {
        var windowSeconds = _config.Window.TotalSeconds;
        var current = group.Windows.Window(lastStep);
        if (current.Count < rule.MinCount) return null;
        if (group.FirstWindow is null && lastStep >= group.Windows.FirstStep + _stepsPerWindow - 1) group.FirstWindow = current.Sketch;
        var x = current.Read(rule.Statistic, windowSeconds);
        double value, baseline;
        switch (rule.Detector)
        {
            case AnomalyDetector.Threshold:
                (value, baseline) = (x, double.NaN);
                break;
            case AnomalyDetector.RatioToPrevious:
                {
                    var previous = group.Windows.Window(lastStep, 1);
                    if (previous.Count < rule.MinCount) return null;
                    baseline = previous.Read(rule.Statistic, windowSeconds);
                    if (!(baseline > 0)) return null;
                    value = x / baseline;
                    break;
                }
            case AnomalyDetector.Sigma:
                {
                    var history = new List<(double Value, double Weight)>(rule.History);
                    for (var back = 1; back <= rule.History; back++)
                    {
                        var earlier = group.Windows.Window(lastStep, back);
                        if (earlier.Count < rule.MinCount || earlier.Read(rule.Statistic, windowSeconds) is var v && double.IsNaN(v)) continue;
                        history.Add((v, rule.Smoothing is { } smoothing ? Math.Pow(1 - smoothing, back - 1) : 1));
                    }
                    if (history.Count < 2) return null;
                    (baseline, var sigma) = WeightedMoments.Of(history);
                    value = sigma > 0 ? Math.Abs(x - baseline) / sigma : x == baseline ? 0 : double.PositiveInfinity;
                    break;
                }
            case AnomalyDetector.Psi or AnomalyDetector.Ks:
                {
                    var reference = rule.Reference == DriftReference.First ? group.FirstWindow : group.Windows.Window(lastStep, 1) is { Count: > 0 } p ? p.Sketch : null;
                    if (reference is null || ReferenceEquals(reference, current.Sketch)) return null;
                    value = rule.Detector == AnomalyDetector.Psi ? Drift.Psi(reference, current.Sketch) : Drift.Ks(reference, current.Sketch);
                    baseline = 0;
                    break;
                }
            default:
                {
                    var compare = rule.Compare!;
                    var labelIndex = series.Config.GroupBy.IndexOf(compare.Label);
                    if (group.Values[labelIndex] != compare.Canary) return null;
                    var partner = (string[])group.Values.Clone();
                    partner[labelIndex] = compare.Baseline;
                    if (!series.Groups.TryGetValue(string.Join('\u0000', partner), out var baselineGroup)) return null;
                    var other = baselineGroup.Windows.Window(lastStep);
                    if (other.Count < rule.MinCount) return null;
                    baseline = other.Read(rule.Statistic, windowSeconds);
                    if (!(Math.Abs(baseline) > 0)) return null;
                    value = x / baseline;
                    break;
                }
        }
        if (double.IsNaN(value)) return null;
        var above = rule.Above ?? rule.Detector switch { AnomalyDetector.Sigma => 3, AnomalyDetector.Psi => 0.2, AnomalyDetector.Ks => 0.2, _ => (double?)null };
        var active = above is { } a && value > a || rule.Below is { } b && value < b;
        return new Verdict(rule, series.Config, group.Values, value, baseline, active);
    }

    /// <summary>Moves the alert state; returns the new state's name when it changed in a way that is reported.</summary>
    private static string? Transition(RuleState state, bool active, TimeSpan forDuration, DateTimeOffset now)
    {
        switch (state.State)
        {
            case AlertState.Inactive when active:
                state.Since = now;
                if (forDuration <= TimeSpan.Zero)
                {
                    state.State = AlertState.Firing;
                    state.StartsAt = now;
                    return "firing";
                }
                state.State = AlertState.Pending;
                return "pending";
            case AlertState.Pending when !active:
                state.State = AlertState.Inactive;
                return null;
            case AlertState.Pending when now - state.Since >= forDuration:
                state.State = AlertState.Firing;
                state.StartsAt = now;
                return "firing";
            case AlertState.Firing when !active:
                state.State = AlertState.Inactive;
                return "resolved";
            default:
                return null;
        }
    }

    private async Task EmitAsync(List<Verdict> verdicts, List<(Verdict Verdict, string State)> changes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var time = (ulong)(now - DateTimeOffset.UnixEpoch).Ticks * 100;
        ITelemetryConsumer<ExportLogsServiceRequest>[] logOutputs;
        ITelemetryConsumer<ExportMetricsServiceRequest>[] metricOutputs;
        lock (_lock)
        {
            logOutputs = [.. _logOutputs];
            metricOutputs = [.. _metricOutputs];
        }
        if (changes.Count > 0 && logOutputs.Length > 0)
        {
            var scope = new ScopeLogs { Scope = new InstrumentationScope { Name = "otelai/anomaly" } };
            foreach (var (verdict, state) in changes) scope.LogRecords.Add(AlertRecord(verdict, state, time));
            foreach (var output in logOutputs)
                await Deliver(output, new ExportLogsServiceRequest { ResourceLogs = { new ResourceLogs { Resource = EngineResource(), ScopeLogs = { scope.Clone() } } } }, cancellationToken);
        }
        if (verdicts.Count > 0 && metricOutputs.Length > 0)
        {
            var value = new Metric { Name = "otelai.anomaly.value", Description = "What the rule's detector saw in the last window (statistic, ratio, sigmas, PSI or KS distance).", Gauge = new Gauge() };
            var baseline = new Metric { Name = "otelai.anomaly.baseline", Description = "What the rule compared with (previous window, history mean, baseline group).", Gauge = new Gauge() };
            var active = new Metric { Name = "otelai.alert.active", Description = "1 while the rule fires for the group.", Gauge = new Gauge() };
            foreach (var verdict in verdicts)
            {
                var attributes = VerdictAttributes(verdict);
                if (!double.IsNaN(verdict.Value)) value.Gauge.DataPoints.Add(new NumberDataPoint { TimeUnixNano = time, AsDouble = verdict.Value, Attributes = { attributes } });
                if (!double.IsNaN(verdict.Baseline)) baseline.Gauge.DataPoints.Add(new NumberDataPoint { TimeUnixNano = time, AsDouble = verdict.Baseline, Attributes = { attributes } });
                var firing = _states.GetValueOrDefault((verdict.Rule.Name, string.Join('\u0000', verdict.Group)))?.State == AlertState.Firing;
                active.Gauge.DataPoints.Add(new NumberDataPoint { TimeUnixNano = time, AsInt = firing ? 1 : 0, Attributes = { attributes } });
            }
            var scope = new ScopeMetrics { Scope = new InstrumentationScope { Name = "otelai/anomaly" }, Metrics = { active } };
            if (value.Gauge.DataPoints.Count > 0) scope.Metrics.Add(value);
            if (baseline.Gauge.DataPoints.Count > 0) scope.Metrics.Add(baseline);
            foreach (var output in metricOutputs)
                await Deliver(output, new ExportMetricsServiceRequest { ResourceMetrics = { new ResourceMetrics { Resource = EngineResource(), ScopeMetrics = { scope.Clone() } } } }, cancellationToken);
        }
    }

    private async Task Deliver<T>(ITelemetryConsumer<T> output, T data, CancellationToken cancellationToken) where T : class, Google.Protobuf.IMessage<T>, new()
    {
        try
        {
            await output.ConsumeAsync(data, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            _settings.Logger.LogWarning("connector {Connector}: the pipeline refused anomaly output: {Error}", _settings.Id, ex.Message);
        }
    }

    private Resource EngineResource() => new() { Attributes = { new KeyValue { Key = "service.name", Value = new AnyValue { StringValue = "otelai" } } } };

    private static List<KeyValue> VerdictAttributes(Verdict verdict)
    {
        var attributes = new List<KeyValue>
        {
            Kv("alert.rule", verdict.Rule.Name), Kv("alert.level", verdict.Rule.Level == AlertLevel.Crit ? "CRIT" : "WARN"),
            Kv("alert.series", verdict.Series.Name), Kv("alert.statistic", verdict.Rule.Statistic.ToString().ToLowerInvariant()),
        };
        for (var i = 0; i < verdict.Series.GroupBy.Count; i++) attributes.Add(Kv(verdict.Series.GroupBy[i], verdict.Group[i]));
        return attributes;
    }

    private LogRecord AlertRecord(Verdict verdict, string state, ulong time)
    {
        var crit = verdict.Rule.Level == AlertLevel.Crit;
        var record = new LogRecord
        {
            TimeUnixNano = time,
            ObservedTimeUnixNano = time,
            SeverityNumber = crit ? SeverityNumber.Fatal : SeverityNumber.Warn,
            SeverityText = crit ? "CRIT" : "WARN",
            Body = new AnyValue { StringValue = $"{verdict.Rule.Name} {state}: {verdict.Rule.Statistic.ToString().ToLowerInvariant()} of {verdict.Series.Name} " +
                $"{Describe(verdict)} ({string.Join(", ", verdict.Series.GroupBy.Select((k, i) => $"{k}={verdict.Group[i]}"))})" },
        };
        record.Attributes.Add(VerdictAttributes(verdict));
        record.Attributes.Add(Kv("alert.state", state));
        record.Attributes.Add(new KeyValue { Key = "alert.value", Value = new AnyValue { DoubleValue = verdict.Value } });
        if (!double.IsNaN(verdict.Baseline)) record.Attributes.Add(new KeyValue { Key = "alert.baseline", Value = new AnyValue { DoubleValue = verdict.Baseline } });
        record.Attributes.Add(new KeyValue { Key = "alert.window_seconds", Value = new AnyValue { DoubleValue = _config.Window.TotalSeconds } });
        return record;
    }

    private static string Describe(Verdict verdict)
    {
        var value = verdict.Value.ToString("0.###", CultureInfo.InvariantCulture);
        return verdict.Rule.Detector switch
        {
            _ when double.IsNaN(verdict.Value) => "had no values in the window",
            _ when verdict.Rule.IsCombination => $"— {value} of {verdict.Rule.All.Count + verdict.Rule.Any.Count} combined rules active",
            AnomalyDetector.Threshold => $"is {value}",
            AnomalyDetector.RatioToPrevious => $"is {value}× the previous window ({verdict.Baseline.ToString("0.###", CultureInfo.InvariantCulture)})",
            AnomalyDetector.Sigma => $"is {value}σ from its history mean ({verdict.Baseline.ToString("0.###", CultureInfo.InvariantCulture)})",
            AnomalyDetector.Psi => $"drifted: PSI {value}",
            AnomalyDetector.Ks => $"drifted: KS distance {value}",
            _ => $"is {value}× the baseline group's ({verdict.Baseline.ToString("0.###", CultureInfo.InvariantCulture)})",
        };
    }

    private static KeyValue Kv(string key, string value) => new() { Key = key, Value = new AnyValue { StringValue = value } };

    /// <summary>One alert as Alertmanager's v2 API takes it.</summary>
    private sealed record PostedAlert(Dictionary<string, string> Labels, string Summary, DateTimeOffset StartsAt, DateTimeOffset EndsAt, string GeneratorUrl, bool Resolved);

    /// <summary>The alert as Alertmanager and webhooks take it: a firing one ends well after the next resend, a resolved one ends now.</summary>
    private PostedAlert PostedAlertOf(Verdict verdict, RuleState state, DateTimeOffset now, Dictionary<string, string> extraLabels, TimeSpan resendInterval)
    {
        var labels = new Dictionary<string, string>(extraLabels)
        {
            ["alertname"] = verdict.Rule.Name,
            ["severity"] = verdict.Rule.Level == AlertLevel.Crit ? "critical" : "warning",
            ["series"] = verdict.Series.Name,
        };
        for (var i = 0; i < verdict.Series.GroupBy.Count; i++)
            labels[LabelName(verdict.Series.GroupBy[i])] = verdict.Group[i];
        var resolved = state.State != AlertState.Firing;
        return new PostedAlert(labels, $"{verdict.Rule.Name}: {verdict.Rule.Statistic.ToString().ToLowerInvariant()} of {verdict.Series.Name} {Describe(verdict)}",
            state.StartsAt, resolved ? now : now + resendInterval * 4, $"otelai://{_settings.Id}/{verdict.Rule.Name}", resolved);
    }

    /// <summary>A group key as an Alertmanager label name: [a-zA-Z0-9_], not starting with a digit (model.id → model_id).</summary>
    private static string LabelName(string key)
    {
        var name = string.Create(key.Length, key, static (span, k) =>
        {
            for (var i = 0; i < k.Length; i++) span[i] = char.IsAsciiLetterOrDigit(k[i]) ? k[i] : '_';
        });
        return name.Length > 0 && char.IsAsciiDigit(name[0]) ? "_" + name : name;
    }

    private static void WriteAlerts(Utf8JsonWriter json, IEnumerable<PostedAlert> alerts)
    {
        json.WriteStartArray();
        foreach (var alert in alerts)
        {
            json.WriteStartObject();
            json.WriteStartObject("labels");
            foreach (var (name, value) in alert.Labels) json.WriteString(name, value);
            json.WriteEndObject();
            json.WriteStartObject("annotations");
            json.WriteString("summary", alert.Summary);
            json.WriteEndObject();
            json.WriteString("startsAt", alert.StartsAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("endsAt", alert.EndsAt.UtcDateTime.ToString("O", CultureInfo.InvariantCulture));
            json.WriteString("generatorURL", alert.GeneratorUrl);
            json.WriteEndObject();
        }
        json.WriteEndArray();
    }

    private static byte[] Json(Action<Utf8JsonWriter> write)
    {
        using var body = new MemoryStream();
        using (var json = new Utf8JsonWriter(body)) write(json);
        return body.ToArray();
    }

    private async Task PostAlertsAsync(List<PostedAlert> alerts, CancellationToken cancellationToken)
    {
        var body = Json(json => WriteAlerts(json, alerts));
        try
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            using var response = await _alertmanager!.PostAsync("api/v2/alerts", content, cancellationToken);
            if (!response.IsSuccessStatusCode)
                _settings.Logger.LogWarning("connector {Connector}: Alertmanager answered {Status} to {Count} alerts", _settings.Id, (int)response.StatusCode, alerts.Count);
        }
        catch (Exception ex) when (ex is HttpRequestException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            _settings.Logger.LogWarning("connector {Connector}: could not post {Count} alerts to Alertmanager: {Error}", _settings.Id, alerts.Count, ex.Message);
        }
    }

    /// <summary>
    /// One post per state (firing, resolved) in the JSON Alertmanager sends its webhook receivers ({version, status,
    /// alerts}); 429, 5xx and transport failures are retried with doubling waits up to max_attempts.
    /// </summary>
    private async Task PostWebhookAsync(List<PostedAlert> alerts, CancellationToken cancellationToken)
    {
        var webhook = _config.Webhook!;
        foreach (var group in alerts.GroupBy(a => a.Resolved ? "resolved" : "firing"))
        {
            var body = Json(json =>
            {
                json.WriteStartObject();
                json.WriteString("version", "4");
                json.WriteString("status", group.Key);
                json.WritePropertyName("alerts");
                WriteAlerts(json, group);
                json.WriteEndObject();
            });
            var wait = webhook.InitialInterval;
            for (var attempt = 1; ; attempt++)
            {
                string? failure;
                try
                {
                    using var request = new HttpRequestMessage(HttpMethod.Post, webhook.Endpoint) { Content = new ByteArrayContent(body) };
                    request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
                    foreach (var (name, value) in webhook.Headers) request.Headers.TryAddWithoutValidation(name, value);
                    using var response = await _webhook!.SendAsync(request, cancellationToken);
                    var status = (int)response.StatusCode;
                    if (response.IsSuccessStatusCode) break;
                    failure = $"HTTP {status}";
                    if (status != 429 && status < 500)
                    {
                        _settings.Logger.LogWarning("connector {Connector}: the alert webhook refused {Count} alerts: {Failure}", _settings.Id, group.Count(), failure);
                        break;
                    }
                }
                catch (Exception ex) when (ex is HttpRequestException || ex is TaskCanceledException && !cancellationToken.IsCancellationRequested)
                {
                    failure = ex.Message;
                }
                if (attempt >= webhook.MaxAttempts)
                {
                    _settings.Logger.LogWarning("connector {Connector}: gave up posting {Count} alerts to the webhook after {Attempts} attempts: {Failure}",
                        _settings.Id, group.Count(), attempt, failure);
                    break;
                }
                await Task.Delay(wait, cancellationToken);
                wait *= 2;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_stopping is not null) await _stopping.CancelAsync();
        _alertmanager?.Dispose();
        _webhook?.Dispose();
    }
}
