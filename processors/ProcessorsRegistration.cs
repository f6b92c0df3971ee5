using OtelAi.Engine.Components;

namespace OtelAi.Processors;

/// <summary>Registers every Processor type of this assembly.</summary>
public static class ProcessorsRegistration
{
    public static ComponentRegistry AddProcessors(this ComponentRegistry registry)
    {
        registry.Add(new Batch.BatchProcessorFactory());
        registry.Add(new MemoryLimiter.MemoryLimiterProcessorFactory());
        registry.Add(new AttributesProcessor.AttributesProcessorFactory());
        registry.Add(new ResourceProcessor.ResourceProcessorFactory());
        registry.Add(new AiAttributes.AiAttributesProcessorFactory());
        registry.Add(new Transform.TransformProcessorFactory());
        registry.Add(new Filter.FilterProcessorFactory());
        registry.Add(new TailSampling.TailSamplingProcessorFactory());
        registry.Add(new GenAiNormalize.GenAiNormalizeProcessorFactory());
        registry.Add(new SpanMetrics.SpanMetricsConnectorFactory());
        registry.Add(new GenAiMetrics.GenAiMetricsConnectorFactory());
        registry.Add(new Anomaly.AnomalyConnectorFactory());
        registry.TapConditions ??= new Ottl.OttlTapConditions();
        return registry;
    }
}
