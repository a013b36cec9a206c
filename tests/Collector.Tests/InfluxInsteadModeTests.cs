using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// <c>Collector:Influx:Mode=Instead</c>: raw points go to the InfluxDB sink's durable queue only;
/// SQLite keeps the ledger, the rollups and the door points. The sink's writer is not started, so
/// the queue holds everything handed to it.
/// </summary>
public sealed class InfluxInsteadModeTests : IDisposable
{
    private static readonly DateTimeOffset Noon = new(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(Noon);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task Points_go_to_the_queue_only_while_the_ledger_and_rollups_fill()
    {
        var options = Options.Create(InsteadOptions());
        using (var run = new Run(options, _clock))
        {
            await run.StartAsync();
            // Five minutes of a power meter: a gauge and a counter.
            for (var i = 0; i < 5; i++)
            {
                var t = Noon.AddMinutes(i);
                await run.EnqueueAndWaitAsync(Batch("pi-meter", (ulong)i + 1, t,
                    Value("meter-grid", ReadingKinds.Energy, t, "power_w", 1000 + (i * 100)),
                    Value("meter-grid", ReadingKinds.Energy, t.AddSeconds(30), "energy_wh_total", 5000 + (i * 10))));
            }

            // The broker redelivers batch 3: stored once, but queued again (same points in InfluxDB).
            await run.EnqueueAndWaitAsync(Batch("pi-meter", 3, Noon.AddMinutes(2), Value("meter-grid", ReadingKinds.Energy, Noon.AddMinutes(2), "power_w", 1200)));

            var counts = run.Queries.Counts();
            Assert.Equal(5, counts.Batches);
            Assert.Equal(0, counts.Points);
            Assert.Equal(11, run.Sink.Queue.Points);
            var lines = QueuedLines(options.Value);
            Assert.Equal(5, lines.Count(l => l.Contains("energy_wh_total=", StringComparison.Ordinal)));
            Assert.Contains(lines, l => l.StartsWith("energy,device=pi-meter,sensor=meter-grid,site=", StringComparison.Ordinal) && l.Contains("power_w=1400", StringComparison.Ordinal));

            var power = run.Queries.SeriesId(SiteId, "meter-grid", "power_w")!.Value;
            var minutes = run.Queries.Rollups(power, Resolution.Minute, Noon.ToUnixTimeMilliseconds(), Noon.AddHours(1).ToUnixTimeMilliseconds());
            Assert.Equal([1000.0, 1100, 1200, 1300, 1400], minutes.Select(m => m.Sum));
            Assert.All(minutes, m => Assert.Equal(1, m.Count));
            var energy = run.Queries.SeriesId(SiteId, "meter-grid", "energy_wh_total")!.Value;
            Assert.Equal(40, Hour(run.Queries, energy).Increase);

            // /api/v1/series: minutes at best, said so, from the rollups.
            var series = run.Queries.Series(SiteId, "meter-grid", "power_w", Noon.AddSeconds(10), Noon.AddMinutes(3), 500)!;
            Assert.Equal("minute", series.Resolution);
            Assert.Equal([1000.0, 1100, 1200], series.Points.Select(p => p.Mean));

            // Door points stay in SQLite: occupancy replay and history read them.
            await run.EnqueueAndWaitAsync(Batch("pi-entrance", 1, Noon.AddMinutes(5), Door(DoorMain, Noon.AddMinutes(5), 3, 0, 3, 0)));
            Assert.Equal(4, run.Queries.Counts().Points);
            Assert.Equal(12, run.Sink.Queue.Points);
        }

        // After a restart the counter goes on from its last point (kept in counter_last, not in points).
        using (var run = new Run(options, _clock))
        {
            await run.StartAsync();
            Assert.Equal(3, run.Occupancy.Snapshot().Count(Hall));
            var t = Noon.AddMinutes(6);
            await run.EnqueueAndWaitAsync(Batch("pi-meter", 6, t, Value("meter-grid", ReadingKinds.Energy, t, "energy_wh_total", 5100)));

            // A late counter point (older than the last one) is counted but books no increase.
            await run.EnqueueAndWaitAsync(Batch("pi-meter", 7, t, Value("meter-grid", ReadingKinds.Energy, Noon.AddMinutes(5), "energy_wh_total", 5050)));
            var energy = run.Queries.SeriesId(SiteId, "meter-grid", "energy_wh_total")!.Value;
            var hour = Hour(run.Queries, energy);
            Assert.Equal(100, hour.Increase);
            Assert.Equal(7, hour.Count);
            Assert.Equal(0, hour.Resets);
            Assert.Equal(4, run.Queries.Counts().Points);
            Assert.Equal(8, run.Queries.Counts().Batches);
        }
    }

    [Fact]
    public void Instead_mode_without_the_sink_is_refused_naming_the_settings()
    {
        var options = new CollectorOptions { Influx = { Mode = InfluxMode.Instead } };

        var result = new InfluxOptionsValidator().Validate(null, options);

        Assert.True(result.Failed);
        Assert.Contains("Collector:Influx:Mode=Instead", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("Collector:Influx:Enabled=true", result.FailureMessage, StringComparison.Ordinal);

        options.Influx.Enabled = true;
        options.Influx.Url = "not a url";
        result = new InfluxOptionsValidator().Validate(null, options);
        Assert.True(result.Failed);
        Assert.Contains("Collector:Influx:Url", result.FailureMessage, StringComparison.Ordinal);

        options.Influx.Url = "http://127.0.0.1:8086";
        Assert.True(new InfluxOptionsValidator().Validate(null, options).Succeeded);
        Assert.True(new InfluxOptionsValidator().Validate(null, new CollectorOptions()).Succeeded);
    }

    private CollectorOptions InsteadOptions() => new()
    {
        DataDirectory = _dir.Path,
        Influx = { Enabled = true, Mode = InfluxMode.Instead, Url = "http://127.0.0.1:9" },
    };

    private static RollupRow Hour(StoreQueries queries, long series) =>
        Assert.Single(queries.Rollups(series, Resolution.Hour, Noon.ToUnixTimeMilliseconds(), Noon.AddHours(1).ToUnixTimeMilliseconds()));

    private static List<string> QueuedLines(CollectorOptions options)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(options.DataDirectory, options.Influx.QueueFile)};Mode=ReadOnly;Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT body FROM chunks ORDER BY id";
        using var reader = command.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read())
        {
            lines.AddRange(System.Text.Encoding.UTF8.GetString((byte[])reader.GetValue(0)).Split('\n'));
        }

        return lines;
    }

    /// <summary>Store, sink and pipeline of one collector run.</summary>
    private sealed class Run : IDisposable
    {
        private readonly IngestPipeline _pipeline;
        private readonly SqliteStore _store;

        public Run(IOptions<CollectorOptions> options, FakeTimeProvider clock)
        {
            var metrics = new CollectorMetrics();
            _store = new SqliteStore(options, NullLogger<SqliteStore>.Instance);
            Assert.True(_store.RawPointsInInfluxOnly);
            Queries = new StoreQueries(_store);
            Sink = new InfluxSink(options, metrics, clock, NullLogger<InfluxSink>.Instance);
            var hub = new LiveEventHub(metrics);
            Occupancy = Engine(clock, metrics, hub);
            _pipeline = new IngestPipeline(_store, Occupancy, hub, metrics, options, clock, NullLogger<IngestPipeline>.Instance, [Sink]);
        }

        public StoreQueries Queries { get; }

        public InfluxSink Sink { get; }

        public Occupancy.OccupancyEngine Occupancy { get; }

        public Task StartAsync() => _pipeline.StartAsync(CancellationToken.None);

        public async Task EnqueueAndWaitAsync(IngestItem item)
        {
            var ack = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _pipeline.Enqueue(item, _ =>
            {
                ack.SetResult();
                return Task.CompletedTask;
            });
            await ack.Task.WaitAsync(Patience);
        }

        public void Dispose()
        {
            _pipeline.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
            _pipeline.Dispose();
            Sink.Dispose();
            _store.Dispose();
        }
    }
}
