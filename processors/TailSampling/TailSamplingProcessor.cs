using Microsoft.Extensions.Logging;
using OtelAi.Engine.Components;
using OtelAi.Engine.Consumers;
using OtelAi.Engine.SelfTelemetry;
using OtelAi.Otlp;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Trace.V1;
using OtelAi.Processors.TailSampling.Policies;

namespace OtelAi.Processors.TailSampling;

/// <summary>
/// Buffers spans by trace id and decides each trace once, decision_wait after its first span (or
/// decision_wait_after_root_received after its root span, if sooner), by otelcol's rules: any drop → dropped; any
/// inverted not-sample → not sampled; any sample (or inverted sample) → sampled; else not sampled. Sampled traces go
/// on whole; late spans of a decided trace follow its decision. One lock guards the buffer and is taken once per
/// request (per run of spans between waits for room), not per span; policies are evaluated under a second lock, so stateful ones (rate limits) need none.
/// </summary>
internal sealed class TailSamplingProcessor : IProcessor<ExportTraceServiceRequest>, ILiveStatus
{
    private readonly TailSamplingConfig _config;
    private readonly ITelemetryConsumer<ExportTraceServiceRequest> _next;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly (string Name, IPolicyEvaluator Policy, Counter SampledTraces, Counter NotSampledTraces)[] _policies;
    private readonly object _buffer = new();
    private readonly object _evaluation = new();
    private readonly Dictionary<TraceKey, BufferedTrace> _traces;
    private readonly Queue<TraceKey> _arrivals = new();
    private readonly PriorityQueue<TraceKey, DateTimeOffset> _due = new();
    private readonly DecisionCache _sampled;
    private readonly DecisionCache _notSampled;
    private readonly Counter _tracesSampled, _tracesNotSampled, _droppedTooEarly, _evictedForCount, _evictedForBytes, _newTraces, _lateSpans;
    private readonly CancellationTokenSource _stopping = new();
    private TaskCompletionSource _room = NewSignal();
    private long _undecidedBytes;
    private readonly bool _measureBytes;
    private Task? _decider;
    private int _stopped;

    // processor.tailsamplingprocessor.recordpolicy: kept traces leave with the deciding policy on their scope.
    private readonly bool _recordPolicy;

    public TailSamplingProcessor(ComponentCreateSettings settings, TailSamplingConfig config, ITelemetryConsumer<ExportTraceServiceRequest> next, TimeProvider? time = null)
    {
        _config = config;
        _next = next;
        _recordPolicy = settings.FeatureGates.IsEnabled(TailSamplingProcessorFactory.RecordPolicy);
        _logger = settings.Logger;
        _time = time ?? TimeProvider.System;
        _traces = new((int)Math.Min(config.NumTraces, Math.Max(1024, config.ExpectedNewTracesPerSec * (long)Math.Ceiling(config.DecisionWait.TotalSeconds))));
        // Without explicit caches a decision is remembered as long as otelcol keeps a decided trace: num_traces ids.
        _sampled = new DecisionCache(config.DecisionCache.SampledCacheSize > 0 ? config.DecisionCache.SampledCacheSize : (int)Math.Min(config.NumTraces, int.MaxValue));
        _notSampled = new DecisionCache(config.DecisionCache.NonSampledCacheSize > 0 ? config.DecisionCache.NonSampledCacheSize : (int)Math.Min(config.NumTraces, int.MaxValue));
        // Measuring a span walks all of it: done only when a limit or a bytes_limiting policy reads the sizes.
        _measureBytes = config.MaximumTraceSizeBytes > 0 || config.MaxBufferedBytes > 0 || config.Policies.Any(p => p.Uses("bytes_limiting"));
        var metrics = settings.Metrics;
        var processor = ("processor", settings.Id.ToString());
        _policies = config.Policies.Select(p => (p.Name, PolicyCompiler.Compile(p, settings.Logger),
            metrics.Counter(TailSamplingProcessorFactory.CountTracesSampled, processor, ("policy", p.Name), ("sampled", "true")),
            metrics.Counter(TailSamplingProcessorFactory.CountTracesSampled, processor, ("policy", p.Name), ("sampled", "false")))).ToArray();
        _tracesSampled = metrics.Counter(TailSamplingProcessorFactory.GlobalCountTracesSampled, processor, ("sampled", "true"));
        _tracesNotSampled = metrics.Counter(TailSamplingProcessorFactory.GlobalCountTracesSampled, processor, ("sampled", "false"));
        _droppedTooEarly = metrics.Counter(TailSamplingProcessorFactory.TraceDroppedTooEarly, processor);
        _evictedForCount = metrics.Counter(TailSamplingProcessorFactory.DecidedEarly, processor, ("reason", "num_traces"));
        _evictedForBytes = metrics.Counter(TailSamplingProcessorFactory.DecidedEarly, processor, ("reason", "max_buffered_bytes"));
        _newTraces = metrics.Counter(TailSamplingProcessorFactory.NewTraceIdReceived, processor);
        _lateSpans = metrics.Counter(TailSamplingProcessorFactory.LateSpans, processor);
        metrics.Gauge(TailSamplingProcessorFactory.TracesOnMemory, () => { lock (_buffer) return _traces.Count; }, processor);
    }

    /// <summary>The live page's panel: what is buffered, and each policy's decisions so far.</summary>
    public LivePanel LiveStatus()
    {
        int traces;
        long bytes;
        lock (_buffer)
        {
            traces = _traces.Count;
            bytes = _undecidedBytes;
        }
        var invariant = System.Globalization.CultureInfo.InvariantCulture;
        return new LivePanel("Tail sampling",
        [
            new LiveField("traces buffered", $"{traces.ToString(invariant)} / {_config.NumTraces.ToString(invariant)}"),
            new LiveField("bytes buffered", _measureBytes ? bytes.ToString(invariant) : "not measured (no byte limit configured)"),
            new LiveField("decision wait", Engine.Config.Durations.Format(_config.DecisionWait)),
            new LiveField("sampled", _tracesSampled.Count.ToString(invariant)),
            new LiveField("not sampled", _tracesNotSampled.Count.ToString(invariant)),
            new LiveField("late spans", _lateSpans.Count.ToString(invariant)),
        ],
        [new LiveTable("Decisions per policy", ["policy", "type", "sampled", "not sampled"],
            [.. _policies.Select((p, i) => (IReadOnlyList<string>)[p.Name, _config.Policies[i].Type, p.SampledTraces.Count.ToString(invariant), p.NotSampledTraces.Count.ToString(invariant)])])]);
    }

    /// <summary>Keeps references to the spans it is given until their trace is decided; changes them only to explain decisions.</summary>
    public ConsumerCapabilities Capabilities => new(MutatesData: _config.Explain, RetainsData: true);

    public Task StartAsync(IComponentHost host, CancellationToken cancellationToken)
    {
        _decider = Task.Run(DecideLoopAsync, CancellationToken.None);
        return Task.CompletedTask;
    }

    public async ValueTask ConsumeAsync(Payload<ExportTraceServiceRequest> data, CancellationToken cancellationToken)
    {
        if (Volatile.Read(ref _stopped) != 0) throw new RetryableDataException("tail_sampling processor is shut down", TimeSpan.FromSeconds(1));
        List<BufferedSpan>? forward = null;
        List<(TraceKey, BufferedTrace)>? evicted = null;
        var spans = Flatten(data.Message);
        var next = 0;
        while (true)
        {
            // One lock per request (or per run of spans between waits for room), not per span.
            lock (_buffer)
            {
                var now = _time.GetUtcNow();
                while (next < spans.Count && TryBuffer(spans[next], now, ref forward, ref evicted)) next++;
            }
            if (next == spans.Count) break;
            // block_on_overflow: wait for a decision to make room, as backpressure on the sender.
            Task room;
            lock (_buffer) room = _room.Task;
            await room.WaitAsync(TimeSpan.FromMilliseconds(100), cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            cancellationToken.ThrowIfCancellationRequested();
        }
        if (evicted is not null)
            foreach (var (key, trace) in evicted) await DecideAndForwardAsync(key, trace, cancellationToken);
        if (forward is not null) await ForwardAsync(forward, null, cancellationToken);
    }

    private static List<BufferedSpan> Flatten(ExportTraceServiceRequest data)
    {
        var spans = new List<BufferedSpan>(OtlpSignal<ExportTraceServiceRequest>.Instance.CountItems(data));
        foreach (var rs in data.ResourceSpans)
        {
            var resource = rs.Resource ?? new OtelAi.Otlp.Proto.Resource.V1.Resource();
            foreach (var ss in rs.ScopeSpans)
            {
                var scope = ss.Scope ?? new OtelAi.Otlp.Proto.Common.V1.InstrumentationScope();
                foreach (var span in ss.Spans) spans.Add(new BufferedSpan(resource, rs.SchemaUrl, scope, ss.SchemaUrl, span));
            }
        }
        return spans;
    }

    /// <summary>Buffers one span; the caller holds the buffer lock. False only when the buffer is full and block_on_overflow says to wait.</summary>
    private bool TryBuffer(BufferedSpan span, DateTimeOffset now, ref List<BufferedSpan>? forward, ref List<(TraceKey, BufferedTrace)>? evicted)
    {
        var key = TraceKey.From(span.Span.TraceId);
        if (!_traces.TryGetValue(key, out var trace))
        {
            if (_sampled.Contains(key))
            {
                _lateSpans.Add(1);
                (forward ??= []).Add(span);
                return true;
            }
            if (_notSampled.Contains(key))
            {
                _lateSpans.Add(1);
                return true;
            }
            if (_traces.Count >= _config.NumTraces)
            {
                if (_config.BlockOnOverflow) return false;
                if (EvictOldest(_evictedForCount, "num_traces") is { } oldest) (evicted ??= []).Add(oldest);
            }
            trace = new BufferedTrace(now, now + _config.DecisionWait);
            _traces[key] = trace;
            _arrivals.Enqueue(key);
            _due.Enqueue(key, trace.Due);
            _newTraces.Add(1);
        }
        else if (trace.Sampled is { } sampled)
        {
            // Decided, its spans on their way: this one follows the decision.
            _lateSpans.Add(1);
            if (sampled) (forward ??= []).Add(span);
            return true;
        }
        else if (trace.Deciding)
        {
            (trace.LateSpans ??= []).Add(span);
            return true;
        }
        trace.Spans.Add(span);
        var size = span.Span.CalculateSize();
        trace.Bytes += size;
        _undecidedBytes += size;
        if (_config.MaximumTraceSizeBytes > 0 && trace.Bytes > _config.MaximumTraceSizeBytes)
        {
            // Too big to buffer: dropped before its decision, as otelcol does; later spans follow.
            _traces.Remove(key);
            _undecidedBytes -= trace.Bytes;
            _notSampled.Add(key);
            _droppedTooEarly.Add(1);
            return true;
        }
        if (!trace.RootSeen && span.Span.ParentSpanId.IsEmpty && _config.DecisionWaitAfterRootReceived > TimeSpan.Zero)
        {
            trace.RootSeen = true;
            var due = now + _config.DecisionWaitAfterRootReceived;
            if (due < trace.Due)
            {
                trace.Due = due;
                _due.Enqueue(key, due);
            }
        }
        // Over the memory budget: the oldest traces are decided now on what they have, never dropped unseen.
        while (_config.MaxBufferedBytes > 0 && _undecidedBytes > _config.MaxBufferedBytes && EvictOldest(_evictedForBytes, "max_buffered_bytes") is { } oldest)
            (evicted ??= []).Add(oldest);
        return true;
    }

    private (TraceKey, BufferedTrace)? EvictOldest(Counter reason, string trigger)
    {
        while (_arrivals.TryDequeue(out var oldest))
            if (_traces.TryGetValue(oldest, out var trace) && !trace.Deciding)
            {
                TakeForDecision(trace, trigger);
                reason.Add(1);
                return (oldest, trace);
            }
        return null;
    }

    /// <summary>From here on the trace's spans do not change; they leave the undecided-bytes budget.</summary>
    private void TakeForDecision(BufferedTrace trace, string trigger)
    {
        trace.Deciding = true;
        trace.Trigger = trigger;
        _undecidedBytes -= trace.Bytes;
    }

    private async Task DecideLoopAsync()
    {
        var tick = TimeSpan.FromTicks(Math.Clamp(_config.DecisionWait.Ticks / 10, TimeSpan.TicksPerMillisecond * 10, TimeSpan.TicksPerSecond));
        using var timer = new PeriodicTimer(tick, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(_stopping.Token))
                foreach (var (key, trace) in TakeDue(_time.GetUtcNow()))
                    await DecideAndForwardAsync(key, trace, _stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested) { }
    }

    private List<(TraceKey, BufferedTrace)> TakeDue(DateTimeOffset now)
    {
        var due = new List<(TraceKey, BufferedTrace)>();
        lock (_buffer)
        {
            while (_due.TryPeek(out var key, out var at) && at <= now)
            {
                _due.Dequeue();
                // Stale entries: already decided, or moved earlier by a root span and taken then.
                if (_traces.TryGetValue(key, out var trace) && trace.Due <= now && !trace.Deciding)
                {
                    TakeForDecision(trace, trace.Due < trace.FirstArrival + _config.DecisionWait ? "root_received" : "decision_wait");
                    due.Add((key, trace));
                }
            }
        }
        return due;
    }

    private void PulseRoom()
    {
        var room = _room;
        _room = NewSignal();
        room.TrySetResult();
    }

    private async Task DecideAndForwardAsync(TraceKey key, BufferedTrace trace, CancellationToken cancellationToken)
    {
        var (sampled, rule, subPolicy) = Decide(key, trace);
        if (sampled && _config.Explain) Explain(trace, rule);
        List<BufferedSpan>? late;
        lock (_buffer)
        {
            (sampled ? _sampled : _notSampled).Add(key);
            trace.Sampled = sampled;
            late = trace.LateSpans;
            trace.LateSpans = null;
        }
        if (late is not null)
        {
            _lateSpans.Add(late.Count);
            trace.Spans.AddRange(late);
        }
        if (sampled) await ForwardAsync(trace.Spans, _recordPolicy ? (rule, subPolicy) : null, cancellationToken);
        lock (_buffer)
        {
            _traces.Remove(key);
            PulseRoom();
        }
    }

    /// <summary>
    /// The decision, the first policy that sampled (or, for an inverted match, inverted-sampled) the trace, and
    /// when that policy is a composite, its sub-policy that sampled.
    /// </summary>
    private (bool Sampled, string Rule, string? SubPolicy) Decide(TraceKey key, BufferedTrace trace)
    {
        string? rule = null, invertedRule = null, subPolicy = null;
        Span<byte> traceId = stackalloc byte[16];
        key.WriteTo(traceId);
        var now = _time.GetUtcNow();
        bool anyDrop = false, anyInvertNotSampled = false, anySampled = false, anyInvertSampled = false;
        lock (_evaluation)
        {
            foreach (var (name, policy, sampledCount, notSampledCount) in _policies)
            {
                var decision = policy.Evaluate(traceId, trace, now);
                (decision is SamplingDecision.Sampled or SamplingDecision.InvertSampled ? sampledCount : notSampledCount).Add(1);
                switch (decision)
                {
                    case SamplingDecision.Dropped: anyDrop = true; break;
                    case SamplingDecision.InvertNotSampled: anyInvertNotSampled = true; break;
                    case SamplingDecision.Sampled:
                        anySampled = true;
                        if (rule is null)
                        {
                            // A route policy names the rule that kept the trace: "playbook/errors".
                            rule = policy is RoutePolicy route ? $"{name}/{route.LastRule}" : name;
                            subPolicy = (policy as CompositePolicy)?.LastSampledBy;
                        }
                        break;
                    case SamplingDecision.InvertSampled: anyInvertSampled = true; invertedRule ??= name; break;
                }
                if (decision == SamplingDecision.Sampled && _config.SampleOnFirstMatch) break;
            }
        }
        var sampled = !anyDrop && !anyInvertNotSampled && (anySampled || anyInvertSampled);
        (sampled ? _tracesSampled : _tracesNotSampled).Add(1);
        return (sampled, rule ?? invertedRule ?? "", rule is null ? null : subPolicy);
    }

    /// <summary>explain: every span of a kept trace says which policy kept it and what triggered the decision.</summary>
    private static void Explain(BufferedTrace trace, string rule)
    {
        // One value per span: a later processor may change one span's attribute in place.
        foreach (var buffered in trace.Spans)
        {
            buffered.Span.Attributes.Upsert("otelai.sampling.rule", OtelAi.Otlp.Attributes.String(rule));
            buffered.Span.Attributes.Upsert("otelai.sampling.trigger", OtelAi.Otlp.Attributes.String(trace.Trigger));
        }
    }

    /// <summary>
    /// Rebuilds requests from buffered spans, grouping by the resource and scope objects they arrived under. With
    /// <paramref name="policy"/>, each scope is a copy naming the deciding policy (other traces share the original).
    /// </summary>
    private async Task ForwardAsync(List<BufferedSpan> spans, (string Policy, string? SubPolicy)? policy, CancellationToken cancellationToken)
    {
        var request = new ExportTraceServiceRequest();
        ResourceSpans? resourceSpans = null;
        ScopeSpans? scopeSpans = null;
        BufferedSpan previous = default;
        foreach (var buffered in spans)
        {
            if (resourceSpans is null || !ReferenceEquals(buffered.Resource, previous.Resource))
            {
                resourceSpans = request.ResourceSpans.FirstOrDefault(r => ReferenceEquals(r.Resource, buffered.Resource));
                if (resourceSpans is null)
                {
                    resourceSpans = new ResourceSpans { Resource = buffered.Resource, SchemaUrl = buffered.ResourceSchemaUrl };
                    request.ResourceSpans.Add(resourceSpans);
                }
                scopeSpans = null;
            }
            if (scopeSpans is null || !ReferenceEquals(buffered.Scope, previous.Scope))
            {
                scopeSpans = resourceSpans.ScopeSpans.FirstOrDefault(s => ReferenceEquals(s.Scope, buffered.Scope));
                if (scopeSpans is null)
                {
                    scopeSpans = new ScopeSpans
                    {
                        Scope = policy is { } recorded ? ScopeNaming(buffered.Scope, recorded) : buffered.Scope,
                        SchemaUrl = buffered.ScopeSchemaUrl,
                    };
                    resourceSpans.ScopeSpans.Add(scopeSpans);
                }
            }
            scopeSpans.Spans.Add(buffered.Span);
            previous = buffered;
        }
        try
        {
            await _next.ConsumeAsync(request, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The sender's data was accepted long ago: log what the next consumer refused (its own metrics count it).
            _logger.LogWarning("tail_sampling: the next consumer refused a sampled trace of {Spans} spans: {Error}", spans.Count, ex.Message);
        }
    }

    /// <summary>A copy of <paramref name="scope"/> with contrib's <c>tailsampling.policy</c> (and <c>tailsampling.composite_policy</c>) attributes.</summary>
    private static InstrumentationScope ScopeNaming(InstrumentationScope? scope, (string Policy, string? SubPolicy) recorded)
    {
        var copy = scope?.Clone() ?? new InstrumentationScope();
        copy.Attributes.Upsert("tailsampling.policy", OtelAi.Otlp.Attributes.String(recorded.Policy));
        if (recorded.SubPolicy is { } subPolicy) copy.Attributes.Upsert("tailsampling.composite_policy", OtelAi.Otlp.Attributes.String(subPolicy));
        return copy;
    }

    public async Task ShutdownAsync(CancellationToken cancellationToken)
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        _stopping.Cancel();
        if (_decider is not null) await _decider.WaitAsync(cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
        List<(TraceKey, BufferedTrace)> pending;
        lock (_buffer)
        {
            // Traces already being decided finish on their own; the rest are decided (or dropped) here.
            pending = _traces.Where(t => !t.Value.Deciding).Select(t => (t.Key, t.Value)).OrderBy(t => t.Value.FirstArrival).ToList();
            foreach (var (_, trace) in pending) TakeForDecision(trace, "shutdown");
            _due.Clear();
            _arrivals.Clear();
        }
        if (_config.DropPendingTracesOnShutdown)
        {
            lock (_buffer)
            {
                foreach (var (key, _) in pending) _traces.Remove(key);
                PulseRoom();
            }
            if (pending.Count > 0) _logger.LogInformation("tail_sampling: dropped {Traces} undecided traces at shutdown", pending.Count);
            return;
        }
        foreach (var (key, trace) in pending) await DecideAndForwardAsync(key, trace, cancellationToken);
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}
