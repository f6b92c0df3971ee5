using OtelAi.Engine.Components;
using OtelAi.Exporters.Otlp;

namespace OtelAi.Exporters;

/// <summary>Registers every Exporter type of this assembly.</summary>
public static class ExportersRegistration
{
    public static ComponentRegistry AddExporters(this ComponentRegistry registry)
    {
        registry.Add(new OtlpExporterFactory());
        registry.Add(new OtlpHttp.OtlpHttpExporterFactory());
        registry.Add(new FileOutput.FileExporterFactory());
        registry.Add(new DebugOutput.DebugExporterFactory());
        registry.Add(new Prometheus.PrometheusExporterFactory());
        registry.Add(new PrometheusRemoteWrite.PrometheusRemoteWriteExporterFactory());
        registry.Add(new LoadBalancing.LoadBalancingExporterFactory());
        return registry;
    }
}
