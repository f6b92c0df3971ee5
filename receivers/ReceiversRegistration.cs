using OtelAi.Engine.Components;

namespace OtelAi.Receivers;

/// <summary>Registers every Receiver type of this assembly.</summary>
public static class ReceiversRegistration
{
    public static ComponentRegistry AddReceivers(this ComponentRegistry registry)
    {
        registry.Add(new Otlp.OtlpReceiverFactory());
        registry.Add(new Ebpf.EbpfReceiverFactory());
        registry.Add(new OtlpJsonFile.OtlpJsonFileReceiverFactory());
        registry.Add(new Prometheus.PrometheusReceiverFactory());
        return registry;
    }
}
