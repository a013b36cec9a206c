using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// Minute buckets of series with raw points are computed from the blocks, not stored: they must
/// give exactly the figures the stored minutes gave, and the retention stores them where the
/// minutes outlast the raw points.
/// </summary>
public sealed class ComputedMinutesTests : IDisposable
{
    // Two days over the spring clock change (29 March 2026: a 23-hour local day).
    private static readonly DateTimeOffset Start = new(2026, 3, 28, 0, 0, 0, TimeSpan.FromHours(1));
    private static readonly DateTimeOffset End = Start.AddDays(2);
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData(400, 400, false)] // the default: raw points cover the minutes; none stored
    [InlineData(0, 400, false)] // raw points for ever
    [InlineData(1, 400, true)] // raw shorter: minutes stored before their raw points go
    [InlineData(1, 0, true)] // minutes for ever
    public void Minutes_from_the_blocks_equal_the_stored_figures_in_every_retention(int rawDays, int minuteDays, bool stored)
    {
        using var store = Store(_dir);
        var readings = Load(store);
        var queries = new StoreQueries(store);
        var counter = queries.SeriesId(SiteId, "meter-grid", "energy_wh_total")!.Value;
        var gauge = queries.SeriesId(SiteId, "climate-a", "temperature_c")!.Value;
        Assert.Equal(0, MinuteRows(store)); // the writer stores no minute of a series with raw points
        Assert.True(Blocks(store, counter) > 256, $"the purge takes the counter in more than one transaction ({Blocks(store, counter)} blocks)");

        var computed = (Counter: Minutes(queries, counter), Gauge: Minutes(queries, gauge));
        AssertMatchesRaw(readings, "energy_wh_total", computed.Counter);
        AssertMatchesRaw(readings, "temperature_c", computed.Gauge);
        var hours = (Counter: queries.Rollups(counter, Resolution.Hour, long.MinValue, long.MaxValue), Gauge: queries.Rollups(gauge, Resolution.Hour, long.MinValue, long.MaxValue));
        var days = queries.Rollups(counter, Resolution.Day, long.MinValue, long.MaxValue);
        Assert.Contains(days, d => d.Resets > 0);

        // Two days after the data: raw points kept for a day are all purged.
        Retention(store, End.AddDays(2), rawDays, minuteDays).RunOnce();

        Assert.Equal(stored, queries.Counts().Points == 0);
        Assert.Equal(stored ? computed.Counter.Count + computed.Gauge.Count : 0, MinuteRows(store));
        // The same figures, now from the stored rows (or still from the blocks), to the last bit.
        Assert.Equal(computed.Counter, Minutes(queries, counter));
        Assert.Equal(computed.Gauge, Minutes(queries, gauge));
        Assert.Equal(hours.Counter, queries.Rollups(counter, Resolution.Hour, long.MinValue, long.MaxValue));
        Assert.Equal(hours.Gauge, queries.Rollups(gauge, Resolution.Hour, long.MinValue, long.MaxValue));
        Assert.Equal(days, queries.Rollups(counter, Resolution.Day, long.MinValue, long.MaxValue));
        // A chart in minute buckets over a day reads the same either way.
        var chart = queries.Series(SiteId, "climate-a", "temperature_c", Start.AddHours(5), Start.AddHours(29), 500)!;
        Assert.Equal("minute", chart.Resolution);
        Assert.Equal(readings.Count(r => r.Values!.ContainsKey("temperature_c") && r.Ts >= Start.AddHours(5) && r.Ts < Start.AddHours(29)), chart.Points.Sum(p => p.Count));

        if (stored)
        {
            // A late point in a minute whose raw points are gone is added to its stored row.
            var minute = computed.Gauge[100];
            store.Commit([Batch("pi-test", 10_000, End, Value("climate-a", ReadingKinds.Climate, DateTimeOffset.FromUnixTimeMilliseconds(minute.BucketMs + 59_999), "temperature_c", 99))]);
            var after = Minutes(queries, gauge).Single(m => m.BucketMs == minute.BucketMs);
            Assert.Equal((minute.Count + 1, 99.0, minute.Sum + 99), (after.Count, after.Max, after.Sum));
        }
    }

    [Fact]
    public void Minute_rows_of_an_older_store_are_read_and_kept_whole()
    {
        var path = _dir.File("collector.db");
        List<RollupRow> computed;
        long gauge;
        using (var store = Store(_dir))
        {
            Load(store);
            var queries = new StoreQueries(store);
            gauge = queries.SeriesId(SiteId, "climate-a", "temperature_c")!.Value;
            computed = Minutes(queries, gauge);
            // As a collector from before computed minutes left them: a row per minute, here with a
            // count off by one so the test sees which one is read.
            using var connection = store.OpenReader();
            using var insert = connection.CreateCommand();
            insert.CommandText = "INSERT INTO rollups (series_id, res, bucket_ms, min, max, sum, count, inc, resets) VALUES ($s, 1, $b, $min, $max, $sum, $n, 0, 0)";
            foreach (var name in new[] { "$s", "$b", "$min", "$max", "$sum", "$n" })
            {
                insert.Parameters.Add(new Microsoft.Data.Sqlite.SqliteParameter { ParameterName = name });
            }

            foreach (var m in computed)
            {
                (insert.Parameters[0].Value, insert.Parameters[1].Value, insert.Parameters[2].Value, insert.Parameters[3].Value, insert.Parameters[4].Value, insert.Parameters[5].Value) =
                    (gauge, m.BucketMs, m.Min, m.Max, m.Sum, m.Count + 1);
                insert.ExecuteNonQuery();
            }
        }

        using (var store = new SqliteStore(path, NullLogger<SqliteStore>.Instance))
        {
            Assert.True(store.Rollups.MayHoldCoveredMinuteRows);
            var queries = new StoreQueries(store);
            Assert.Equal(computed.Select(m => m.Count + 1), Minutes(queries, gauge).Select(m => m.Count)); // a stored row wins

            // A new point in a stored minute is added to its row (which is still read), as before.
            var last = computed[^1];
            store.Commit([Batch("pi-test", 10_000, End, Value("climate-a", ReadingKinds.Climate, DateTimeOffset.FromUnixTimeMilliseconds(last.BucketMs + 59_999), "temperature_c", 99))]);
            var now = Minutes(queries, gauge);
            Assert.Equal((last.Count + 2, 99.0, last.Sum + 99), (now[^1].Count, now[^1].Max, now[^1].Sum));
            Assert.Equal(computed[^2].Count + 1, now[^2].Count);
            // A point in a minute that had no row makes none: it is computed from the raw points.
            store.Commit([Batch("pi-test", 10_001, End, Value("climate-a", ReadingKinds.Climate, End.AddMinutes(5), "temperature_c", 7))]);
            Assert.Equal(computed.Count + 1, Minutes(queries, gauge).Count);
            Assert.Equal(computed.Count, MinuteRows(store));
        }
    }

    /// <summary>A counter every second with increments and now and then a reset, a gauge every 7 s; in order, but for ten chunks delivered last (late, out of order).</summary>
    private static List<Reading> Load(SqliteStore store)
    {
        var random = new Random(15);
        var readings = new List<Reading>();
        var total = 10_000.0;
        for (var t = Start; t < End; t = t.AddSeconds(1))
        {
            total = random.Next(20_000) == 0 ? random.Next(10) : total + random.Next(5_000);
            readings.Add(Value("meter-grid", ReadingKinds.Energy, t, "energy_wh_total", total));
            if (t.ToUnixTimeSeconds() % 7 == 0)
            {
                readings.Add(Value("climate-a", ReadingKinds.Climate, t, "temperature_c", Math.Round(15 + (10 * random.NextDouble()), 2)));
            }
        }

        var chunks = readings.Chunk(1000).ToList();
        var late = chunks.Select((_, i) => i).Where(i => i > 0).OrderBy(_ => random.Next()).Take(10).ToHashSet();
        var seq = 1UL;
        foreach (var chunk in chunks.Where((_, i) => !late.Contains(i)).Concat(late.OrderBy(_ => random.Next()).Select(i => chunks[i])))
        {
            store.Commit([Batch("pi-test", seq++, Start, chunk)]);
        }

        return readings;
    }

    private static List<RollupRow> Minutes(StoreQueries queries, long series) => queries.Rollups(series, Resolution.Minute, long.MinValue, long.MaxValue).ToList();

    /// <summary>The minute figures straight from the readings, as the stored minutes had them.</summary>
    private static void AssertMatchesRaw(List<Reading> readings, string field, List<RollupRow> minutes)
    {
        var points = readings.Where(r => r.Values!.ContainsKey(field)).Select(r => (Ts: r.Ts.ToUnixTimeMilliseconds(), Value: r.Values![field])).OrderBy(p => p.Ts).ToList();
        double? previous = null;
        var steps = new List<(long Minute, double Value, double Increase, int Resets)>();
        foreach (var (ts, value) in points)
        {
            var (increase, resets) = RollupState.IsCounter(field) ? RollupWriter.Step(previous, value) : (0, 0);
            steps.Add((TimeBuckets.FloorTo(ts, TimeBuckets.MinuteMs), value, increase, resets));
            previous = value;
        }

        var expected = steps.GroupBy(s => s.Minute).ToList();
        Assert.Equal(expected.Select(g => g.Key), minutes.Select(m => m.BucketMs));
        foreach (var (group, row) in expected.Zip(minutes))
        {
            Assert.Equal((group.Min(s => s.Value), group.Max(s => s.Value), group.Count(), group.Sum(s => s.Resets)), (row.Min, row.Max, row.Count, row.Resets));
            Assert.Equal(group.Sum(s => s.Value), row.Sum, 9);
            Assert.Equal(group.Sum(s => s.Increase), row.Increase, 9);
        }
    }

    private static long Blocks(SqliteStore store, long series)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM point_blocks WHERE series_id = $s";
        command.Parameters.AddWithValue("$s", series);
        return (long)command.ExecuteScalar()!;
    }

    private static long MinuteRows(SqliteStore store)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM rollups WHERE res = 1";
        return (long)command.ExecuteScalar()!;
    }

    private static RetentionService Retention(SqliteStore store, DateTimeOffset now, int rawDays, int minuteDays)
    {
        var clock = new FakeTimeProvider(now);
        var options = new CollectorOptions();
        options.Retention.Raw = TimeSpan.FromDays(rawDays);
        options.Retention.Minute = TimeSpan.FromDays(minuteDays);
        var o = Options.Create(options);
        var (visitors, _) = VisitorsTests.Services(store, SmallSite, clock, options);
        return new RetentionService(store, new OccupancyHistory(store, SmallSite, o, clock), visitors, o, clock, NullLogger<RetentionService>.Instance);
    }
}
