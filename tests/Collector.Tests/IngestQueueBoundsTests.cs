using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Health;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// The ingest queue's bounds (<c>Collector:Ingest:MaxQueuedMessages</c>, <c>MaxQueuedBytes</c>):
/// the pipeline is not started until the test says so, so nothing is committed and the queue
/// fills exactly as far as the test fills it.
/// </summary>
public sealed class IngestQueueBoundsTests : IAsyncDisposable
{
    private static readonly DateTimeOffset Noon = new(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);
    private const int MaxMessages = 100;

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(Noon);
    private readonly CollectorMetrics _metrics = new();
    private readonly SqliteStore _store;
    private readonly IngestPipeline _pipeline;
    private readonly IOptions<CollectorOptions> _options = Options.Create(new CollectorOptions
    {
        Ingest = new IngestOptions { MaxQueuedMessages = MaxMessages, MaxQueuedBytes = 1 << 20 },
    });

    private ulong _seq;

    public IngestQueueBoundsTests()
    {
        _store = Store(_dir);
        var hub = new LiveEventHub(_metrics);
        _pipeline = new IngestPipeline(_store, Engine(_clock, _metrics, hub), hub, _metrics, _options, _clock, NullLogger<IngestPipeline>.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await _pipeline.StopAsync(CancellationToken.None);
        _pipeline.Dispose();
        _store.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task QoS_0_past_half_the_queue_is_dropped_counted_and_shown_in_health()
    {
        for (var i = 0; i < MaxMessages / 2; i++)
        {
            Assert.True(_pipeline.TryEnqueue(Next(), 100));
        }

        Assert.False(_pipeline.TryEnqueue(Next(), 100));
        Assert.False(_pipeline.TryEnqueue(Next(), 100));

        var state = _pipeline.State();
        Assert.Equal(MaxMessages / 2, state.Messages);
        Assert.Equal(2, state.Dropped);
        Assert.Equal(2, _metrics.IngestDropped.WithLabels("queue_full").Value);
        Assert.Equal(MaxMessages / 2, _metrics.IngestQueueMessages.Value);
        var health = IngestQueueCheck.Evaluate(state, _options.Value.Health.IngestQueueDegraded, _clock.GetUtcNow());
        Assert.Equal(Microsoft.Extensions.Diagnostics.HealthChecks.HealthStatus.Degraded, health.Status);

        // Committed, the room comes back and QoS 0 is taken again.
        await _pipeline.StartAsync(CancellationToken.None);
        await Eventually.UntilAsync(() => _pipeline.State().Messages == 0, "the queued messages are committed", Patience);
        Assert.True(_pipeline.TryEnqueue(Next(), 100));
        Assert.Equal((long)MaxMessages / 2, _store.QueryCountOfBatches());
    }

    [Fact]
    public void QoS_0_past_half_the_bytes_is_dropped()
    {
        Assert.True(_pipeline.TryEnqueue(Next(), 300 << 10));
        // 600 KiB would pass half of the 1 MiB bound.
        Assert.False(_pipeline.TryEnqueue(Next(), 300 << 10));
        Assert.True(_pipeline.TryEnqueue(Next(), 100 << 10));
        Assert.Equal(1, _pipeline.State().Dropped);
    }

    [Fact]
    public async Task QoS_1_waits_for_room_then_goes_through_and_is_acknowledged_after_its_commit()
    {
        for (var i = 0; i < MaxMessages; i++)
        {
            Assert.True(await _pipeline.EnqueueAsync(Next(), 100, _ => Task.CompletedTask, TimeSpan.FromSeconds(8), CancellationToken.None));
        }

        var acknowledged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiting = _pipeline.EnqueueAsync(Next(), 100, _ =>
        {
            acknowledged.SetResult();
            return Task.CompletedTask;
        }, TimeSpan.FromSeconds(8), CancellationToken.None).AsTask();

        Assert.False(waiting.IsCompleted);
        Assert.Equal(1, _pipeline.State().Waiting);
        Assert.Equal(MaxMessages, _pipeline.State().Messages);

        await _pipeline.StartAsync(CancellationToken.None);
        Assert.True(await waiting.WaitAsync(Patience));
        await acknowledged.Task.WaitAsync(Patience);
        Assert.Equal(MaxMessages + 1L, _store.QueryCountOfBatches());
        Assert.Equal(1, _metrics.IngestWaits.WithLabels("admitted").Value);
        Assert.Equal(0, _pipeline.State().Dropped);
    }

    [Fact]
    public async Task QoS_1_that_finds_no_room_within_its_wait_is_refused_not_taken()
    {
        for (var i = 0; i < MaxMessages; i++)
        {
            Assert.True(await _pipeline.EnqueueAsync(Next(), 100, _ => Task.CompletedTask, TimeSpan.FromSeconds(8), CancellationToken.None));
        }

        var acknowledged = false;
        var waiting = _pipeline.EnqueueAsync(Next(), 100, _ =>
        {
            acknowledged = true;
            return Task.CompletedTask;
        }, TimeSpan.FromSeconds(8), CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);

        _clock.Advance(TimeSpan.FromSeconds(9));
        Assert.False(await waiting.WaitAsync(Patience));
        Assert.Equal(1, _metrics.IngestWaits.WithLabels("timed_out").Value);
        Assert.Equal(0, _pipeline.State().Waiting);
        Assert.Equal(MaxMessages, _pipeline.State().Messages);

        await _pipeline.StartAsync(CancellationToken.None);
        await Eventually.UntilAsync(() => _pipeline.State().Messages == 0, "the queued messages are committed", Patience);
        Assert.False(acknowledged);
        Assert.Equal(MaxMessages, _store.QueryCountOfBatches());
    }

    private ReadingsItem Next() =>
        Batch("pi-meter", ++_seq, Noon, Value("meter-grid", ReadingKinds.Energy, Noon, "power_w", 1000 + _seq));
}

internal static class StoreCounts
{
    public static long QueryCountOfBatches(this SqliteStore store) => new StoreQueries(store).Counts().Batches;
}
