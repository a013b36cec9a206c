using System.Reflection;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// A full disk: SQLite refuses to grow the database (SQLITE_FULL, made here with
/// <c>PRAGMA max_page_count</c> on the writer's connection). Nothing is acknowledged, nothing stored
/// is harmed, and once there is room again every batch is committed once and acknowledged once.
/// </summary>
public sealed class FullDiskTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Noon = new(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _dir = new();
    private readonly GatedTimeProvider _clock = new(Noon);
    private readonly CollectorMetrics _metrics = new();
    private readonly SqliteStore _store;
    private readonly IngestPipeline _pipeline;

    public FullDiskTests()
    {
        _store = Store(_dir);
        var hub = new LiveEventHub(_metrics);
        _pipeline = new IngestPipeline(_store, Engine(_clock, _metrics, hub), hub, _metrics, Options.Create(new CollectorOptions()), _clock, NullLogger<IngestPipeline>.Instance);
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
    public async Task A_full_disk_acknowledges_nothing_harms_nothing_and_commits_everything_once_when_there_is_room()
    {
        var acknowledged = new int[101];
        var first = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _pipeline.Enqueue(Energy(1), _ =>
        {
            Interlocked.Increment(ref acknowledged[0]);
            first.SetResult();
            return Task.CompletedTask;
        });
        await first.Task.WaitAsync(Patience);

        // The pipeline is idle: cap the database at its present size, as a full disk does.
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

        // The commit fails and the pipeline waits to try again (its retry delay runs on the gated clock).
        await _clock.WaitForTimerAsync(Patience);
        Assert.True(_metrics.CommitFailures.Value >= 1);
        Assert.Equal(1, acknowledged.Sum());
        Assert.Equal(100, _pipeline.Queued);
        Assert.Equal((1L, 50L, 0L), new StoreQueries(_store).Counts());

        // Room again: the retry commits every batch, once.
        Scalar(writer, "PRAGMA max_page_count = 1073741823");
        _clock.FireTimers();
        var deadline = DateTime.UtcNow + Patience;
        while (acknowledged.Sum() < 101 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(10);
        }

        Assert.All(acknowledged, count => Assert.Equal(1, count));
        Assert.Equal((101L, 101L * 50, 0L), new StoreQueries(_store).Counts());
        using var reader = _store.OpenReader();
        using var check = reader.CreateCommand();
        check.CommandText = "PRAGMA integrity_check";
        Assert.Equal("ok", check.ExecuteScalar());
    }

    /// <summary>A batch of 50 power readings a second apart, each batch its own minute of the day.</summary>
    private static ReadingsItem Energy(ulong seq) =>
        Batch("pi-entrance", seq, Noon, [.. Enumerable.Range(0, 50).Select(s => Value("meter-grid", ReadingKinds.Energy, Noon.AddMinutes((double)seq).AddSeconds(s), "power_w", 1000 + s))]);

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L, System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A clock whose timers fire only when the test says so: the pipeline's retry waits on it, so the test can change the writer's connection while the pipeline is parked.</summary>
    private sealed class GatedTimeProvider(DateTimeOffset now) : TimeProvider
    {
        private readonly List<(TimerCallback Callback, object? State)> _timers = [];
        private readonly SemaphoreSlim _created = new(0);

        public override DateTimeOffset GetUtcNow() => now;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            lock (_timers)
            {
                _timers.Add((callback, state));
            }

            _created.Release();
            return new Gated();
        }

        public async Task WaitForTimerAsync(TimeSpan timeout)
        {
            if (!await _created.WaitAsync(timeout))
            {
                throw new TimeoutException("the pipeline never waited to retry");
            }
        }

        public void FireTimers()
        {
            List<(TimerCallback Callback, object? State)> due;
            lock (_timers)
            {
                due = [.. _timers];
                _timers.Clear();
            }

            foreach (var (callback, state) in due)
            {
                callback(state);
            }
        }

        private sealed class Gated : ITimer
        {
            public bool Change(TimeSpan dueTime, TimeSpan period) => true;

            public void Dispose()
            {
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }
}
