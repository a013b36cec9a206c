using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

public sealed class RollupTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Rollups_equal_the_aggregates_of_the_raw_points_with_late_and_replaced_data()
    {
        using var store = Store(_dir);
        var random = new Random(5);
        // Three days around the autumn clock change (25 October 2026: a 25-hour local day).
        var start = new DateTimeOffset(2026, 10, 24, 0, 0, 0, TimeSpan.FromHours(2));
        var readings = new List<Reading>();
        var total = 5_000.0;
        for (var t = start; t < start.AddDays(3); t = t.AddSeconds(20 + random.Next(60)))
        {
            total = random.Next(500) == 0 ? random.Next(10) : total + random.Next(40); // now and then a reset
            readings.Add(Value("climate-a", ReadingKinds.Climate, t, "temperature_c", Math.Round(15 + (10 * random.NextDouble()), 2)));
            readings.Add(Value("meter-grid", ReadingKinds.Energy, t, "energy_wh_total", total));
        }

        // Delivered in shuffled batches: late and out-of-order data for both series.
        var batches = readings.Chunk(150).OrderBy(_ => random.Next()).ToList();
        var seq = 1UL;
        foreach (var chunk in batches)
        {
            store.Commit([Batch("pi-test", seq++, start, chunk)]);
        }

        // Some readings sent again with another value (same series and time): the later value wins.
        var replaced = readings.Where(_ => random.Next(40) == 0).Select(r => r with { Values = r.Values!.ToDictionary(v => v.Key, v => v.Key == "temperature_c" ? v.Value + 3 : v.Value + 1) }).ToArray();
        store.Commit([Batch("pi-test", seq++, start, replaced)]);
        // And the very same readings once more: nothing changes.
        store.Commit([Batch("pi-test", seq, start, replaced)]);

        AssertRollupsMatchRaw(store, "climate-a", "temperature_c");
        AssertRollupsMatchRaw(store, "meter-grid", "energy_wh_total");
    }

    [Fact]
    public void A_counter_that_goes_down_starts_a_new_segment_without_negative_or_spike()
    {
        using var store = Store(_dir);
        var t0 = new DateTimeOffset(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);
        double[] totals = [100, 150, 200, 10, 30, 30, 45];
        var readings = totals.Select((v, i) => Value("meter-grid", ReadingKinds.Energy, t0.AddMinutes(i * 5), "energy_wh_total", v)).ToArray();
        store.Commit([Batch("pi-entrance", 1, t0, readings)]);

        var queries = new StoreQueries(store);
        var id = queries.SeriesId(SiteId, "meter-grid", "energy_wh_total")!.Value;
        var hour = queries.Rollups(id, Resolution.Hour, 0, long.MaxValue).Single();
        Assert.Equal(50 + 50 + 0 + 20 + 0 + 15, hour.Increase);
        Assert.Equal(1, hour.Resets);
        var minutes = queries.Rollups(id, Resolution.Minute, 0, long.MaxValue);
        Assert.All(minutes, m => Assert.InRange(m.Increase, 0, 50));
        Assert.Equal(1, minutes.Single(m => m.BucketMs == t0.AddMinutes(15).ToUnixTimeMilliseconds()).Resets);
    }

    [Fact]
    public void A_lost_reading_is_closed_by_the_next_total()
    {
        using var store = Store(_dir);
        var t0 = new DateTimeOffset(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);
        // Readings every 10 minutes; those at 10:20 and 10:30 never arrive.
        var readings = new[] { 0, 10, 40, 50 }.Select(m => Value("meter-grid", ReadingKinds.Energy, t0.AddMinutes(m), "energy_wh_total", 1000 + (m * 10))).ToArray();
        store.Commit([Batch("pi-entrance", 1, t0, readings)]);

        var queries = new StoreQueries(store);
        var id = queries.SeriesId(SiteId, "meter-grid", "energy_wh_total")!.Value;
        Assert.Equal(500, queries.Rollups(id, Resolution.Hour, 0, long.MaxValue).Single().Increase);
        Assert.Equal(300, queries.Rollups(id, Resolution.Minute, 0, long.MaxValue).Single(r => r.BucketMs == t0.AddMinutes(40).ToUnixTimeMilliseconds()).Increase);
    }

    [Fact]
    public void Series_over_a_long_window_reads_the_rollups_and_matches_the_raw_points()
    {
        using var store = Store(_dir);
        var t0 = new DateTimeOffset(2026, 6, 10, 10, 17, 23, TimeSpan.Zero);
        var readings = Enumerable.Range(0, 20_000).Select(i => Value("dc-bench-1", ReadingKinds.Dc, t0.AddSeconds(i * 3), "power_w", i % 977)).ToArray();
        foreach (var (chunk, i) in readings.Chunk(1000).Select((c, i) => (c, i)))
        {
            store.Commit([Batch("pi-dc-lab", (ulong)i + 1, t0, chunk)]);
        }

        var queries = new StoreQueries(store);
        var from = t0.AddMinutes(7).AddMilliseconds(130);
        var to = t0.AddHours(15).AddSeconds(11);
        foreach (var points in new[] { 10, 200, 700 })
        {
            var result = queries.Series(SiteId, "dc-bench-1", "power_w", from, to, points)!;
            Assert.NotEqual("raw", result.Resolution);
            Assert.InRange(result.Points.Count, 1, points);
            var inWindow = readings.Where(r => r.Ts >= from && r.Ts < to).ToList();
            Assert.Equal(inWindow.Count, result.Points.Sum(p => p.Count));
            foreach (var bucket in result.Points)
            {
                var values = inWindow.Where(r => r.Ts >= bucket.Ts && r.Ts < bucket.Ts.AddMilliseconds(result.BucketMs)).Select(r => r.Values!["power_w"]).ToList();
                Assert.Equal(values.Count, bucket.Count);
                Assert.Equal(values.Min(), bucket.Min);
                Assert.Equal(values.Max(), bucket.Max);
                Assert.Equal(values.Average(), bucket.Mean, 9);
            }
        }
    }

    [Fact]
    public void Local_days_last_23_and_25_hours_on_the_clock_changes()
    {
        var buckets = TimeBuckets.Amsterdam;
        var spring = buckets.DayStart(new DateOnly(2026, 3, 29));
        var autumn = buckets.DayStart(new DateOnly(2026, 10, 25));
        Assert.Equal(23 * TimeBuckets.HourMs, buckets.Next(Resolution.Day, spring) - spring);
        Assert.Equal(25 * TimeBuckets.HourMs, buckets.Next(Resolution.Day, autumn) - autumn);
        Assert.Equal(new DateTimeOffset(2026, 3, 28, 23, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), spring);
        Assert.Equal(new DateTimeOffset(2026, 10, 24, 22, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(), autumn);
        // 02:30 on 25 October happens twice; both belong to the same local day.
        Assert.Equal(autumn, buckets.Floor(Resolution.Day, new DateTimeOffset(2026, 10, 25, 0, 30, 0, TimeSpan.Zero).ToUnixTimeMilliseconds()));
        Assert.Equal(autumn, buckets.Floor(Resolution.Day, new DateTimeOffset(2026, 10, 25, 1, 30, 0, TimeSpan.Zero).ToUnixTimeMilliseconds()));
        Assert.Equal(buckets.DayStart(new DateOnly(2026, 10, 1)), buckets.Floor(Resolution.Month, autumn));
        Assert.Equal(buckets.DayStart(new DateOnly(2026, 1, 1)), buckets.Floor(Resolution.Year, autumn));
        // ISO weeks start on Monday: Sunday 29 March belongs to the week of Monday 23 March.
        Assert.Equal(buckets.DayStart(new DateOnly(2026, 3, 23)), buckets.Floor(CalendarBucket.Week, spring));
        Assert.Equal("2026-W13", buckets.Label(CalendarBucket.Week, spring));
    }

    private static void AssertRollupsMatchRaw(SqliteStore store, string sensor, string field)
    {
        var queries = new StoreQueries(store);
        var id = queries.SeriesId(SiteId, sensor, field)!.Value;
        var raw = new List<(long Ts, double Value)>();
        using (var connection = store.OpenReader())
        {
            raw.AddRange(PointReader.Range(connection, null, id, long.MinValue, long.MaxValue).Select(p => (p.Ts, p.Value)));
        }

        var counter = field.EndsWith("_total", StringComparison.Ordinal);
        var steps = new List<(long Ts, double Value, double Increase, int Resets)>();
        double? previous = null;
        foreach (var (ts, value) in raw)
        {
            var (increase, resets) = counter ? Storage.Rollups.RollupWriter.Step(previous, value) : (0, 0);
            steps.Add((ts, value, increase, resets));
            previous = value;
        }

        var buckets = store.Rollups.Buckets;
        foreach (var resolution in RollupState.Levels)
        {
            var expected = steps.GroupBy(s => buckets.Floor(resolution, s.Ts)).OrderBy(g => g.Key).ToList();
            var actual = queries.Rollups(id, resolution, long.MinValue, long.MaxValue);
            Assert.Equal(expected.Select(g => g.Key), actual.Select(a => a.BucketMs));
            foreach (var (group, row) in expected.Zip(actual))
            {
                Assert.Equal(group.Min(s => s.Value), row.Min);
                Assert.Equal(group.Max(s => s.Value), row.Max);
                Assert.Equal(group.Sum(s => s.Value), row.Sum, 6);
                Assert.Equal(group.Count(), row.Count);
                Assert.Equal(group.Sum(s => s.Increase), row.Increase, 6);
                Assert.Equal(group.Sum(s => s.Resets), row.Resets);
            }
        }

        if (counter)
        {
            Assert.Contains(queries.Rollups(id, Resolution.Year, long.MinValue, long.MaxValue), r => r.Resets > 0);
        }
    }
}
