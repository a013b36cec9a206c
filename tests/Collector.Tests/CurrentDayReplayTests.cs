using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Occupancy;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// The current day's rebuild goes on from the replay state kept at its last whole hour. Two stores
/// get the same data step by step: one is followed by a long-lived history (incremental), the other
/// replayed in full by a new history after every step; their hour rows, day sums, history and
/// utilisation must be identical, through late readings into earlier hours, corrections, a reading
/// of the day before (the door totals a replay starts from), DST days and the next day's reset.
/// </summary>
public sealed class CurrentDayReplayTests : IDisposable
{
    private readonly TempDirectory _a = new();
    private readonly TempDirectory _b = new();

    public void Dispose()
    {
        _a.Dispose();
        _b.Dispose();
    }

    public static TheoryData<string, int> Days => new()
    {
        { "2026-05-12T06:30:00+02:00", 1 }, // an ordinary Tuesday
        { "2026-03-29T01:10:00+01:00", 2 }, // 23 hours: the clocks go forward at 02:00
        { "2026-10-25T01:10:00+02:00", 3 }, // 25 hours: the clocks go back at 03:00
    };

    [Theory]
    [MemberData(nameof(Days))]
    public void The_current_day_built_from_its_last_whole_hour_equals_a_full_replay_after_every_step(string startText, int seed)
    {
        var startAt = DateTimeOffset.Parse(startText, System.Globalization.CultureInfo.InvariantCulture);
        using var incremental = Store(_a);
        using var full = Store(_b);
        var random = new Random(seed);
        var clock = new FakeTimeProvider(startAt);
        var options = new CollectorOptions();
        var followed = new OccupancyHistory(incremental, SmallSite, Options.Create(options), clock);
        var totals = new Dictionary<string, (long In, long Out)> { [DoorMain] = (500, 480), [DoorLab] = (90, 85), [DoorRoom] = (40, 40) };
        var seq = 1UL;
        void Commit(params Reading[] readings)
        {
            var batch = Batch("pi-hall", seq++, clock.GetUtcNow(), readings);
            incremental.Commit([batch]);
            full.Commit([batch]);
        }

        Reading Crossing(string door, DateTimeOffset at, bool withTotals = true)
        {
            var (i, o) = (random.Next(0, 4), random.Next(0, 3));
            var t = totals[door];
            totals[door] = (t.In + i, t.Out + o);
            return withTotals ? Door(door, at, i, o, t.In + i, t.Out + o) : Door(door, at, i, o);
        }

        // The day before: the door totals a replay of the day starts from.
        Commit(Crossing(DoorMain, startAt.AddHours(-20)), Crossing(DoorLab, startAt.AddHours(-19)), Crossing(DoorRoom, startAt.AddHours(-18)));
        followed.Update();

        var corrections = 0;
        for (var step = 0; step < 60; step++)
        {
            var before = clock.GetUtcNow();
            clock.Advance(TimeSpan.FromMinutes(random.Next(3, 50)));
            var now = clock.GetUtcNow();
            var readings = Enumerable.Range(0, random.Next(1, 12))
                .Select(_ => before.AddMilliseconds(random.NextInt64(1, (long)(now - before).TotalMilliseconds)))
                .Order()
                .Select(at => Crossing(new[] { DoorMain, DoorMain, DoorLab, DoorRoom }[random.Next(4)], at, withTotals: random.Next(10) > 0))
                .ToList();
            switch (step % 7)
            {
                case 2:
                    // A late reading into an earlier hour of today, with totals inside the span already covered and without.
                    var late = now.AddHours(-random.Next(1, 6)).AddMinutes(-random.Next(0, 60));
                    readings.Add(Door(DoorLab, late, 2, 0, totals[DoorLab].In - 1, totals[DoorLab].Out));
                    readings.Add(Door(DoorRoom, late.AddSeconds(7), 1, 1));
                    break;
                case 4:
                    // A correction: earlier today, or within the current hour.
                    var at = random.Next(2) == 0 ? now.AddHours(-random.Next(1, 5)) : now.AddMinutes(-1);
                    var (room, count) = (new[] { Hall, Lab, Room }[random.Next(3)], random.Next(0, 9));
                    foreach (var store in new[] { incremental, full })
                    {
                        new OccupancyStore(store).AddCorrection(SiteId, room, at.ToUnixTimeMilliseconds(), 0, count, "counted", "test");
                    }

                    corrections++;
                    break;
                case 6:
                    // A reading of yesterday: the totals the day starts from may change.
                    readings.Add(Door(DoorMain, startAt.AddHours(-random.Next(6, 20)), 1, 0, 400 + step, 380));
                    break;
            }

            Commit([.. readings]);
            followed.Follow();
            if (step % 5 == 0)
            {
                followed.Update(); // twice within a step: nothing new to continue from
            }

            var replayed = new OccupancyHistory(full, SmallSite, Options.Create(options), clock);
            replayed.Update();
            AssertSame(incremental, full, followed, replayed, startAt.AddDays(-1), clock.GetUtcNow().AddDays(1));
        }

        Assert.True(corrections > 0);
        Assert.True(followed.ContinuedBuilds >= 10, $"only {followed.ContinuedBuilds} builds went on from the kept state");
    }

    private static void AssertSame(SqliteStore incremental, SqliteStore full, OccupancyHistory followed, OccupancyHistory replayed, DateTimeOffset from, DateTimeOffset to)
    {
        var (a, b) = (new OccupancyHistoryStore(incremental), new OccupancyHistoryStore(full));
        var (f, t) = (from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
        Assert.Equal(b.Hours(SiteId, null, f, t).OrderBy(r => (r.Hour, r.Room)), a.Hours(SiteId, null, f, t).OrderBy(r => (r.Hour, r.Room)));
        Assert.Equal(b.Days(SiteId, null, f, t).OrderBy(r => (r.Hour, r.Room)), a.Days(SiteId, null, f, t).OrderBy(r => (r.Hour, r.Room)));
        foreach (var room in new[] { Hall, Lab, Room })
        {
            foreach (var bucket in new[] { CalendarBucket.Hour, CalendarBucket.Day })
            {
                Assert.Equal(replayed.History(room, from, to, bucket).Buckets, followed.History(room, from, to, bucket).Buckets);
            }
        }

        Assert.Equal(replayed.Use(from, to).PerRoom, followed.Use(from, to).PerRoom);
    }
}
