using OtelAi.Otlp;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

public sealed class FanOutTests
{
    private sealed class Keeper(bool mutates) : ITelemetryConsumer<ExportTraceServiceRequest>
    {
        public List<ExportTraceServiceRequest> Kept { get; } = [];
        public bool MutatesData => mutates;

        public ValueTask ConsumeAsync(ExportTraceServiceRequest data, CancellationToken cancellationToken)
        {
            Kept.Add(data);
            if (mutates) data.ResourceSpans.Clear();
            return ValueTask.CompletedTask;
        }
    }

    [Fact]
    public async Task Data_kept_by_a_read_only_consumer_never_changes_under_a_mutating_one()
    {
        var readOnly = new Keeper(mutates: false);
        var mutating = new Keeper(mutates: true);
        var sent = SampleData.Traces(3);
        var original = sent.Clone();

        await new FanOutConsumer<ExportTraceServiceRequest>([mutating, readOnly]).ConsumeAsync(sent, CancellationToken.None);

        Assert.Equal(original, Assert.Single(readOnly.Kept));
        Assert.NotSame(readOnly.Kept[0], mutating.Kept[0]);
    }

    [Fact]
    public async Task Only_mutating_consumers_get_the_original_last_and_clones_before()
    {
        var first = new Keeper(mutates: true);
        var last = new Keeper(mutates: true);
        var sent = SampleData.Traces(2);

        await new FanOutConsumer<ExportTraceServiceRequest>([first, last]).ConsumeAsync(sent, CancellationToken.None);

        Assert.NotSame(sent, first.Kept[0]);
        Assert.Same(sent, last.Kept[0]);
    }

    [Fact]
    public async Task One_failing_consumer_does_not_starve_the_others()
    {
        var failing = new FailingConsumer();
        var keeper = new Keeper(mutates: false);

        var error = await Assert.ThrowsAsync<RetryableDataException>(async () =>
            await new FanOutConsumer<ExportTraceServiceRequest>([failing, keeper]).ConsumeAsync(SampleData.Traces(1), CancellationToken.None));

        Assert.Equal("queue full", error.Message);
        Assert.Single(keeper.Kept);
    }

    private sealed class FailingConsumer : ITelemetryConsumer<ExportTraceServiceRequest>
    {
        public ValueTask ConsumeAsync(ExportTraceServiceRequest data, CancellationToken cancellationToken) =>
            throw new RetryableDataException("queue full");
    }
}
