using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.Otlp.Proto.Trace.V1;

namespace OtelAi.Processors.TailSampling;

/// <summary>One span waiting for its trace's decision, with the resource and scope it arrived under (shared, not copied).</summary>
internal readonly record struct BufferedSpan(Resource Resource, string ResourceSchemaUrl, InstrumentationScope Scope, string ScopeSchemaUrl, Span Span);

/// <summary>The spans of one trace received so far and when its decision is due. Guarded by the processor's lock.</summary>
internal sealed class BufferedTrace(DateTimeOffset firstArrival, DateTimeOffset due)
{
    public List<BufferedSpan> Spans { get; } = [];

    public DateTimeOffset FirstArrival { get; } = firstArrival;

    public DateTimeOffset Due { get; set; } = due;

    /// <summary>Protobuf size of the spans, for maximum_trace_size_bytes and bytes_limiting.</summary>
    public long Bytes { get; set; }

    public bool RootSeen { get; set; }

    /// <summary>Taken for a decision: its spans no longer change; spans arriving meanwhile wait in <see cref="LateSpans"/>.</summary>
    public bool Deciding { get; set; }

    /// <summary>The decision, once made; the trace stays buffered until its spans are forwarded.</summary>
    public bool? Sampled { get; set; }

    public List<BufferedSpan>? LateSpans { get; set; }

    /// <summary>What made the decision due: decision_wait, root_received, num_traces, max_buffered_bytes or shutdown.</summary>
    public string Trigger { get; set; } = "";
}
