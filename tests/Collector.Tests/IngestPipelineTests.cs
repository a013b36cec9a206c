using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

public sealed class IngestPipelineTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Noon = new(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);

    /// <summary>A safety net so a broken pipeline fails the test instead of hanging it; not a timing assertion.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(Noon);
    private readonly CollectorMetrics _metrics = new();
    private readonly SqliteStore _store;
    private readonly StoreQueries _queries;
    private readonly LiveEventHub _hub;
    private readonly OccupancyEngine _occupancy;
    private readonly IngestPipeline _pipeline;
    private ulong _barrierSeq;

    public IngestPipelineTests()
    {
        _store = Store(_dir);
        _queries = new StoreQueries(_store);
        _hub = new LiveEventHub(_metrics);
        _occupancy = new OccupancyEngine(SmallSite, _hub, _metrics, _clock, Options.Create(new CollectorOptions()));
        _pipeline = new IngestPipeline(_store, _occupancy, _hub, _metrics, Options.Create(new CollectorOptions()), _clock, NullLogger<IngestPipeline>.Instance);
    }

    public Task InitializeAsync() => _pipeline.StartAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        await _pipeline.StopAsync(CancellationToken.None);
        _pipeline.Dispose();
        _store.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task Acknowledgement_runs_only_after_the_batch_is_in_the_store()
    {
        var item = Batch("pi-entrance", 1, Noon, Door(DoorMain, Noon, 2, 0, 2, 0), Value("meter-grid", ReadingKinds.Energy, Noon, "power_w", 1500));
        var seenAtAck = new TaskCompletionSource<(long Batches, long Points, long DeadLetters)>(TaskCreationOptions.RunContinuationsAsynchronously);

        _pipeline.Enqueue(item, _ =>
        {
            seenAtAck.SetResult(_queries.Counts());
            return Task.CompletedTask;
        });

        var counts = await seenAtAck.Task.WaitAsync(Patience);
        Assert.Equal((1L, 5L, 0L), counts);

        await BarrierAsync();
        Assert.Equal(2, _occupancy.Snapshot().Count(Hall));
        Assert.Equal(2, _occupancy.Snapshot().Building);
        Assert.Equal(1, _metrics.Messages.WithLabels("stored").Value);
        Assert.Equal(2, _metrics.Readings.Value);
    }

    [Fact]
    public async Task A_duplicate_batch_is_acknowledged_but_not_counted_twice()
    {
        var item = Batch("pi-entrance", 9, Noon, Door(DoorMain, Noon, 3, 0, 3, 0));

        await EnqueueAndWaitAsync(item);
        await BarrierAsync();
        Assert.Equal(3, _occupancy.Snapshot().Count(Hall));
        var stored = _queries.Counts();

        // The broker redelivers it (the acknowledgement was lost).
        await EnqueueAndWaitAsync(item);
        await BarrierAsync();

        Assert.Equal(3, _occupancy.Snapshot().Count(Hall));
        Assert.Equal(3, _occupancy.Snapshot().Building);
        Assert.Equal(stored, _queries.Counts());
        Assert.Equal(1, _metrics.Messages.WithLabels("duplicate").Value);
    }

    [Fact]
    public async Task Duplicates_within_one_group_are_acknowledged_and_applied_once()
    {
        var item = Batch("pi-entrance", 10, Noon, Door(DoorMain, Noon, 4, 0, 4, 0));
        var acks = Enumerable.Range(0, 3).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).ToArray();
        foreach (var ack in acks)
        {
            _pipeline.Enqueue(item, _ =>
            {
                ack.SetResult();
                return Task.CompletedTask;
            });
        }

        await Task.WhenAll(acks.Select(a => a.Task)).WaitAsync(Patience);
        await BarrierAsync();

        Assert.Equal(4, _occupancy.Snapshot().Count(Hall));
        Assert.Equal(1, _queries.Counts().Batches);
        Assert.Equal(1, _metrics.Messages.WithLabels("stored").Value);
        Assert.Equal(2, _metrics.Messages.WithLabels("duplicate").Value);
    }

    [Fact]
    public async Task A_dead_letter_is_acknowledged_stored_and_counted()
    {
        var item = new DeadLetterItem("ntp/v1/test-site/pi-entrance/readings", "readings-limit", "1001 readings; at most 1000", [1, 2, 3], Noon);

        await EnqueueAndWaitAsync(item);
        await BarrierAsync();

        Assert.Equal(1, _queries.Counts().DeadLetters);
        Assert.Equal(1, _metrics.Rejected.WithLabels("readings-limit").Value);
        Assert.Equal(1, _metrics.Messages.WithLabels("rejected").Value);
        Assert.Equal(0, _occupancy.Snapshot().Building);
    }

    [Fact]
    public async Task Replay_at_start_restores_occupancy_from_the_store()
    {
        await EnqueueAndWaitAsync(Batch("pi-entrance", 1, Noon, Door(DoorMain, Noon, 6, 0, 6, 0)));
        await EnqueueAndWaitAsync(Batch("pi-hall", 1, Noon.AddMinutes(1), Door(DoorLab, Noon.AddMinutes(1), 2, 0, 2, 0)));

        // A second pipeline on the same store, as after a restart.
        var metrics = new CollectorMetrics();
        var engine = Engine(_clock, metrics);
        using var restarted = new IngestPipeline(_store, engine, new LiveEventHub(metrics), metrics, Options.Create(new CollectorOptions()), _clock, NullLogger<IngestPipeline>.Instance);
        await restarted.StartAsync(CancellationToken.None);
        await restarted.StopAsync(CancellationToken.None);

        var snapshot = engine.Snapshot();
        Assert.Equal(6, snapshot.Building);
        Assert.Equal(4, snapshot.Count(Hall));
        Assert.Equal(2, snapshot.Count(Lab));
    }

    private async Task EnqueueAndWaitAsync(IngestItem item)
    {
        var ack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pipeline.Enqueue(item, _ =>
        {
            ack.SetResult();
            return Task.CompletedTask;
        });
        await ack.Task.WaitAsync(Patience);
    }

    /// <summary>
    /// The pipeline applies a group to occupancy and metrics after acknowledging it, before it takes
    /// the next group; once a status item enqueued afterwards is acknowledged, everything before it
    /// has been applied.
    /// </summary>
    private Task BarrierAsync() => EnqueueAndWaitAsync(new StatusItem(Status("pi-barrier"), new StatusMessage { Version = $"barrier-{++_barrierSeq}" }, Noon));
}
