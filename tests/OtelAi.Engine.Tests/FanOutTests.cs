using OtelAi.Otlp;
using OtelAi.Engine.Consumers;
using OtelAi.Otlp.Proto.Collector.Trace.V1;
using OtelAi.TestSupport;

namespace OtelAi.Engine.Tests;

public sealed class FanOutTests
{
    private sealed class Keeper(bool mutates, bool retains = true) : ITelemetryConsumer<ExportTraceServiceRequest>
    {
        public List<ExportTraceServiceRequest> Kept { get; } = [];
        public ConsumerCapabilities Capabilities => new(mutates, retains);

        public ValueTask ConsumeAsync(Payload<ExportTraceServiceRequest> payload, CancellationToken cancellationToken)
        {
            var data = mutates ? payload.Edit() : payload.Message;
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
    public async Task A_retaining_queue_and_a_reader_share_the_original_without_a_copy()
    {
        // exporters: [otlp, debug]: a memory sending queue keeps the batch, debug reads it; nobody changes it.
        var queue = new Keeper(mutates: false, retains: true);
        var reader = new Keeper(mutates: false, retains: false);
        var sent = SampleData.Traces(2);

        var fanOut = new FanOutConsumer<ExportTraceServiceRequest>([queue, reader]);
        await fanOut.ConsumeAsync(sent, CancellationToken.None);

        Assert.Same(sent, Assert.Single(queue.Kept));
        Assert.Same(sent, Assert.Single(reader.Kept));
        Assert.Equal(new ConsumerCapabilities(MutatesData: false, RetainsData: true), fanOut.Capabilities);
    }

    [Fact]
    public async Task A_reader_that_does_not_retain_shares_the_original_with_the_last_mutating_consumer()
    {
        var reader = new Keeper(mutates: false, retains: false);
        var mutating = new Keeper(mutates: true);
        var sent = SampleData.Traces(2);
        var original = sent.Clone();
        ExportTraceServiceRequest? seenByReader = null;
        var recordingReader = new Recording(reader, data => seenByReader = data.Clone());

        await new FanOutConsumer<ExportTraceServiceRequest>([mutating, recordingReader]).ConsumeAsync(sent, CancellationToken.None);

        // The reader ran before the mutating consumer got the original, so it saw the data unchanged.
        Assert.Equal(original, seenByReader);
        Assert.Same(sent, mutating.Kept[0]);
    }

    private sealed class Recording(Keeper inner, Action<ExportTraceServiceRequest> onConsume) : ITelemetryConsumer<ExportTraceServiceRequest>
    {
        public ConsumerCapabilities Capabilities => inner.Capabilities;

        public ValueTask ConsumeAsync(Payload<ExportTraceServiceRequest> data, CancellationToken cancellationToken)
        {
            onConsume(data.Message);
            return inner.ConsumeAsync(data, cancellationToken);
        }
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
        public ValueTask ConsumeAsync(Payload<ExportTraceServiceRequest> data, CancellationToken cancellationToken) =>
            throw new RetryableDataException("queue full");
    }
}
