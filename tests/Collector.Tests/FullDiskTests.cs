using System.Reflection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.TestSupport;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// A full disk: SQLite refuses to grow the database (SQLITE_FULL, made here with
/// <c>PRAGMA max_page_count</c> on the writer's connection). Nothing is acknowledged, nothing stored
/// is harmed, and once there is room again every batch is committed once and acknowledged once.
/// The 100 batches are queued while the pipeline is held (a sink that waits for the test), so they
/// reach the store as one commit that cannot fit: without the hold the pipeline could commit the
/// first few of them into the free space of existing pages before the rest arrived (the flaky
/// "expected 1 acknowledged, saw 5").
/// </summary>
public sealed class FullDiskTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Noon = new(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(Noon);
    private readonly HeldSink _hold = new();
    private readonly CollectorMetrics _metrics = new();
    private readonly SqliteStore _store;
    private readonly IngestPipeline _pipeline;

    public FullDiskTests()
    {
        _store = Store(_dir);
        var hub = new LiveEventHub(_metrics);
        _pipeline = new IngestPipeline(_store, Engine(_clock, _metrics, hub), hub, _metrics, Options.Create(new CollectorOptions()), _clock, NullLogger<IngestPipeline>.Instance, [_hold]);
    }

    public Task InitializeAsync() => _pipeline.StartAsync(CancellationToken.None);

    public async Task DisposeAsync()
    {
        _hold.Release();
        await _pipeline.StopAsync(CancellationToken.None);
        _pipeline.Dispose();
        _store.Dispose();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_full_disk_acknowledges_nothing_harms_nothing_and_commits_everything_once_when_there_is_room()
    {
        var acknowledged = new int[101];
        _pipeline.Enqueue(Energy(1), _ =>
        {
            Interlocked.Increment(ref acknowledged[0]);
            return Task.CompletedTask;
        });

        // The first batch is committed and the pipeline is held in the sink, before its
        // acknowledgement: the writer is idle. Cap the database at its present size, as a full disk does.
        await _hold.Entered.WaitAsync(Patience);
        var writer = (SqliteConnection)typeof(SqliteStore).GetField("_writer", BindingFlags.NonPublic | BindingFlags.Instance)!.GetValue(_store)!;
        var pages = Scalar(writer, "PRAGMA page_count");
        Scalar(writer, $"PRAGMA max_page_count = {pages}");

        for (var i = 1; i <= 100; i++)
        {
            var index = i;
            _pipeline.Enqueue(Energy((ulong)i + 1), _ =>
            {
                Interlocked.Increment(ref acknowledged[index]);
                return Task.CompletedTask;
            });
        }

        // Let go: the first batch is acknowledged, the 100 waiting ones go to the store as one
        // commit (5,000 readings of no short decimal form, about 40 KB even in compressed blocks,
        // need new pages), which fails; the retry waits on the fake clock.
        _hold.Release();
        await Eventually.UntilAsync(() => _metrics.CommitFailures.Value >= 1 && acknowledged[0] == 1, "the commit failed on the full disk", Patience);
        Assert.Equal(1, acknowledged.Sum());
        Assert.Equal(100, _pipeline.Queued);
        Assert.Equal((1L, 50L, 0L), new StoreQueries(_store).Counts());

        // Room again: the retry commits every batch, once. The clock moves until it does (the
        // retry's timer may be made after any single move).
        Scalar(writer, "PRAGMA max_page_count = 1073741823");
        await Eventually.UntilAsync(
            () =>
            {
                _clock.Advance(TimeSpan.FromSeconds(1));
                return acknowledged.Sum() >= 101;
            },
            "every batch was acknowledged once there was room",
            Patience);

        Assert.All(acknowledged, count => Assert.Equal(1, count));
        Assert.Equal((101L, 101L * 50, 0L), new StoreQueries(_store).Counts());
        using var reader = _store.OpenReader();
        using var check = reader.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", check.ExecuteScalar());
    }

    /// <summary>
    /// A batch of 50 power readings a second apart, each batch its own minute of the day; values
    /// that compress badly (every mantissa bit changes from one to the next: about 8 bytes a value
    /// in a block; a step of 1 W changed only its top bytes, and once minute rollups were no longer
    /// stored the 100 batches fitted in the pages the store had).
    /// </summary>
    private static ReadingsItem Energy(ulong seq) =>
        Batch("pi-entrance", seq, Noon, [.. Enumerable.Range(0, 50).Select(s => Value("meter-grid", ReadingKinds.Energy, Noon.AddMinutes((double)seq).AddSeconds(s), "power_w", 1000 + (1000 * Math.Sin((seq * 50) + (double)s))))]);

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A sink that holds the pipeline's first commit until the test releases it, then lets everything through.</summary>
    private sealed class HeldSink : IIngestSink
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly ManualResetEventSlim _open = new(false);

        public Task Entered => _entered.Task;

        public void Accept(IReadOnlyList<ReadingsItem> batches)
        {
            _entered.TrySetResult();
            // Blocks the commit loop's thread on purpose: nothing else may reach the store meanwhile.
            _open.Wait(Patience);
        }

        public void Release() => _open.Set();
    }
}
