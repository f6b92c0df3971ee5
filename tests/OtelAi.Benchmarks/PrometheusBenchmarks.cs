using System.Text;
using BenchmarkDotNet.Attributes;
using OtelAi.Engine.Components;
using OtelAi.Engine.Config;
using OtelAi.Exporters.Prometheus;
using OtelAi.Exporters.PrometheusCommon;
using OtelAi.Exporters.PrometheusRemoteWrite;
using OtelAi.Otlp.Proto.Collector.Metrics.V1;
using OtelAi.Otlp.Proto.Common.V1;
using OtelAi.Otlp.Proto.Metrics.V1;
using OtelAi.Otlp.Proto.Resource.V1;
using OtelAi.TestSupport;

namespace OtelAi.Benchmarks;

/// <summary>
/// The Prometheus exporters' hot paths on one request of 1,000 points (100 metrics x 10 series, 4 attributes each;
/// a third gauges, a third cumulative counters, a third histograms of 12 buckets), in steady state (series known):
/// translating into the scrape exporter's store, preparing remote write bodies (translation, protobuf, snappy), and
/// writing the exposition of a store holding 100,000 series (its retained bytes per series are printed at setup).
/// </summary>
[MemoryDiagnoser]
public class PrometheusBenchmarks
{
    private ExportMetricsServiceRequest _request = null!;
    private PromTranslator _translator = null!;
    private SeriesStore _store = null!;
    private SeriesStore _bigStore = null!;
    private RemoteWriteSender _remoteWrite = null!;
    private ulong _time = 1_700_000_000_000_000_000;

    [GlobalSetup]
    public void Setup()
    {
        _request = Request(metrics: 100, seriesPerMetric: 10, time: _time);
        _translator = new PromTranslator(new PromTranslation { Naming = new PrometheusNaming("", TranslationStrategy.UnderscoreEscapingWithSuffixes) });
        _store = new SeriesStore(0);
        _translator.Translate(_request, 0, point => _store.Apply(point));
        _remoteWrite = new RemoteWriteSender(ConfigLoader.Bind<PrometheusRemoteWriteExporterConfig>("endpoint: http://127.0.0.1:9/api/v1/write"),
            TestSettings.For(new ComponentId("prometheusremotewrite"), ComponentKind.Exporter));

        var before = GC.GetTotalMemory(forceFullCollection: true);
        _bigStore = new SeriesStore(0);
        var big = Request(metrics: 1000, seriesPerMetric: 100, time: _time);
        _translator.Translate(big, 0, point => _bigStore.Apply(point));
        big = null;
        var after = GC.GetTotalMemory(forceFullCollection: true);
        Console.WriteLine($"// store of {_bigStore.SeriesCount} series: {(after - before) / _bigStore.SeriesCount} bytes retained per series, {(after - before) / (1 << 20)} MiB per 100k");
        GC.KeepAlive(big);
    }

    [Benchmark(Description = "scrape exporter: 1,000 points into the store")]
    public long StoreIngest()
    {
        var stored = 0L;
        _translator.Translate(_request, 0, point => stored += _store.Apply(point).Outcome == StoreOutcome.Stored ? 1 : 0);
        return stored;
    }

    [Benchmark(Description = "remote write: 1,000 points to snappy bodies")]
    public int RemoteWritePrepare()
    {
        // A new timestamp each time, as successive exports of the same series have.
        _time += 1_000_000_000;
        foreach (var metric in _request.ResourceMetrics[0].ScopeMetrics[0].Metrics) Stamp(metric, _time);
        return _remoteWrite.Prepare(_request).Bodies.Sum(body => body.Length);
    }

    [Benchmark(Description = "exposition of 100,000 series")]
    public int Exposition()
    {
        using var text = new OtelAi.Otlp.Grpc.PooledBufferWriter(64 * 1024);
        PromExposition.Write(text, _bigStore.Snapshot(), openMetrics: false, timestamps: false);
        return text.WrittenCount;
    }

    private static void Stamp(Metric metric, ulong time)
    {
        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Gauge: foreach (var p in metric.Gauge.DataPoints) p.TimeUnixNano = time; break;
            case Metric.DataOneofCase.Sum: foreach (var p in metric.Sum.DataPoints) p.TimeUnixNano = time; break;
            case Metric.DataOneofCase.Histogram: foreach (var p in metric.Histogram.DataPoints) p.TimeUnixNano = time; break;
        }
    }

    internal static ExportMetricsServiceRequest Request(int metrics, int seriesPerMetric, ulong time)
    {
        var scope = new ScopeMetrics { Scope = new InstrumentationScope { Name = "vllm", Version = "0.6.3" } };
        for (var m = 0; m < metrics; m++)
        {
            var metric = new Metric { Name = $"inference.metric_{m}", Unit = m % 3 == 2 ? "s" : "{request}", Description = "benchmark metric" };
            switch (m % 3)
            {
                case 0: metric.Gauge = new Gauge(); break;
                case 1: metric.Sum = new Sum { IsMonotonic = true, AggregationTemporality = AggregationTemporality.Cumulative }; break;
                default: metric.Histogram = new Histogram { AggregationTemporality = AggregationTemporality.Cumulative }; break;
            }
            for (var s = 0; s < seriesPerMetric; s++)
            {
                KeyValue[] attributes = [SampleData.Attr("model_id", $"model-{s % 7}"), SampleData.Attr("route", $"/v1/route/{s}"), SampleData.Attr("status", (long)(200 + s % 3)), SampleData.Attr("gpu", $"{s % 8}")];
                switch (m % 3)
                {
                    case 0: metric.Gauge.DataPoints.Add(new NumberDataPoint { TimeUnixNano = time, AsDouble = s * 1.5, Attributes = { attributes } }); break;
                    case 1: metric.Sum.DataPoints.Add(new NumberDataPoint { StartTimeUnixNano = time - 60_000_000_000, TimeUnixNano = time, AsInt = s * 10, Attributes = { attributes } }); break;
                    default:
                        var histogram = new HistogramDataPoint { StartTimeUnixNano = time - 60_000_000_000, TimeUnixNano = time, Count = 66, Sum = 12.5, Attributes = { attributes } };
                        histogram.ExplicitBounds.Add([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]);
                        histogram.BucketCounts.Add([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0]);
                        metric.Histogram.DataPoints.Add(histogram);
                        break;
                }
            }
            scope.Metrics.Add(metric);
        }
        return new ExportMetricsServiceRequest
        {
            ResourceMetrics = { new ResourceMetrics { Resource = new Resource { Attributes = { SampleData.Attr("service.name", "vllm"), SampleData.Attr("service.instance.id", "pod-1") } }, ScopeMetrics = { scope } } },
        };
    }
}

/// <summary>Snappy block compression of a remote write body (1,000 points as a WriteRequest): Snappier against IronSnappy.</summary>
[MemoryDiagnoser]
public class SnappyBenchmarks
{
    private byte[] _body = null!;

    [GlobalSetup]
    public void Setup()
    {
        var sender = new RemoteWriteSender(ConfigLoader.Bind<PrometheusRemoteWriteExporterConfig>("endpoint: http://127.0.0.1:9/api/v1/write"),
            TestSettings.For(new ComponentId("prometheusremotewrite"), ComponentKind.Exporter));
        var compressed = sender.Prepare(PrometheusBenchmarks.Request(100, 10, 1_700_000_000_000_000_000)).Bodies.Single();
        _body = Snappier.Snappy.DecompressToArray(compressed);
        Console.WriteLine($"// WriteRequest {_body.Length} bytes; Snappier {Snappier.Snappy.CompressToArray(_body).Length} bytes, IronSnappy {IronSnappy.Snappy.Encode(_body).Length} bytes");
    }

    [Benchmark(Baseline = true)]
    public int Snappier_() => Snappier.Snappy.CompressToArray(_body).Length;

    [Benchmark]
    public int IronSnappy_() => IronSnappy.Snappy.Encode(_body).Length;
}
