namespace OtelAi.Processors.TailSampling;

/// <summary>A policy's verdict on one trace; the Invert* values come from <c>invert_match</c> policies, as in otelcol.</summary>
internal enum SamplingDecision { NotSampled, Sampled, InvertNotSampled, InvertSampled, Dropped }
