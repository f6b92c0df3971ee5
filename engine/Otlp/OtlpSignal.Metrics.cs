using Google.Protobuf;
using Google.Protobuf.Collections;
using OtelAi.Otlp.Json;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Metrics.V1;

namespace OtelAi.Otlp;

public abstract partial class OtlpSignal<T>
{
    private sealed class MetricsSignal()
        : NestedSignal<ExportMetricsServiceRequest, ResourceMetrics, ScopeMetrics, Metric>(Signal.Metrics, MetricsServiceReflection.Descriptor, "v1/metrics")
    {
        public override MessageParser<ExportMetricsServiceRequest> Parser { get; } = ExportMetricsServiceRequest.Parser.WithDiscardUnknownFields(true);

        protected override RepeatedField<ResourceMetrics> Resources(ExportMetricsServiceRequest request) => request.ResourceMetrics;

        protected override RepeatedField<ScopeMetrics> Scopes(ResourceMetrics resource) => resource.ScopeMetrics;

        protected override RepeatedField<Metric> Items(ScopeMetrics scope) => scope.Metrics;

        protected override ResourceMetrics EmptyCopy(ResourceMetrics resource) => new() { Resource = resource.Resource?.Clone(), SchemaUrl = resource.SchemaUrl };

        protected override ScopeMetrics EmptyCopy(ScopeMetrics scope) => new() { Scope = scope.Scope?.Clone(), SchemaUrl = scope.SchemaUrl };

        protected override bool HasItemRules => false;

        // The items of a metrics request are data points, several per metric.
        public override int CountItems(ExportMetricsServiceRequest data)
        {
            var n = 0;
            foreach (var rm in data.ResourceMetrics)
                foreach (var sm in rm.ScopeMetrics)
                    foreach (var m in sm.Metrics)
                        n += MetricPoints.Count(m);
            return n;
        }

        // Metrics split at metric granularity, and a metric with more points than the budget is split by points.
        public override ExportMetricsServiceRequest SplitOff(ExportMetricsServiceRequest data, int maxItems)
        {
            var head = new ExportMetricsServiceRequest();
            var budget = maxItems;
            var takenResources = 0;
            while (budget > 0 && takenResources < data.ResourceMetrics.Count)
            {
                var rm = data.ResourceMetrics[takenResources];
                var headRm = EmptyCopy(rm);
                var takenScopes = 0;
                while (budget > 0 && takenScopes < rm.ScopeMetrics.Count)
                {
                    var sm = rm.ScopeMetrics[takenScopes];
                    var headSm = EmptyCopy(sm);
                    var takenMetrics = 0;
                    while (budget > 0 && takenMetrics < sm.Metrics.Count)
                    {
                        var metric = sm.Metrics[takenMetrics];
                        var points = MetricPoints.Count(metric);
                        if (points <= budget)
                        {
                            headSm.Metrics.Add(metric);
                            takenMetrics++;
                            budget -= Math.Max(points, 1);
                        }
                        else
                        {
                            headSm.Metrics.Add(MetricPoints.SplitOff(metric, budget));
                            budget = 0;
                        }
                    }
                    ResourceSplitter.RemoveFirst(sm.Metrics, takenMetrics);
                    headRm.ScopeMetrics.Add(headSm);
                    if (sm.Metrics.Count == 0) takenScopes++;
                }
                ResourceSplitter.RemoveFirst(rm.ScopeMetrics, takenScopes);
                head.ResourceMetrics.Add(headRm);
                if (rm.ScopeMetrics.Count == 0) takenResources++;
            }
            ResourceSplitter.RemoveFirst(data.ResourceMetrics, takenResources);
            return head;
        }

        public override IMessage CreateResponse(int rejected, string? errorMessage) => new ExportMetricsServiceResponse
        {
            PartialSuccess = rejected == 0 && errorMessage is null ? null
                : new ExportMetricsPartialSuccess { RejectedDataPoints = rejected, ErrorMessage = errorMessage ?? "" },
        };

        public override ExportPartialSuccess ParseProtoResponse(ReadOnlySpan<byte> response) => Partial(ExportMetricsServiceResponse.Parser.ParseFrom(response));

        public override ExportPartialSuccess ParseJsonResponse(ReadOnlySpan<byte> response) => Partial(OtlpJson.Parse<ExportMetricsServiceResponse>(response));

        private static ExportPartialSuccess Partial(ExportMetricsServiceResponse r) => new(r.PartialSuccess?.RejectedDataPoints ?? 0, r.PartialSuccess?.ErrorMessage ?? "");
    }
}
