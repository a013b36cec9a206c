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
/// Page-load queries read precomputed rows (room history per local day, visitor days) and rebuild
/// only the days that changed. Each figure is compared with the same figure computed the way the
/// collector did before (every hour row, every raw scan) on the same crafted weeks, across the
/// spring DST change, with corrections, late data and partial days at the window's ends.
/// </summary>
public sealed class IncrementalQueriesTests : IDisposable
{
    private static readonly TimeBuckets Buckets = TimeBuckets.Amsterdam;

    // Friday 20 March 2026, local midnight; 29 March is a 23-hour day.
    internal static readonly DateTimeOffset First = new(2026, 3, 20, 0, 0, 0, TimeSpan.FromHours(1));
    internal const int Days = 45;

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Room_history_and_utilisation_equal_the_hour_row_figures_and_late_data_rebuilds_only_its_days()
    {
        using var store = Store(_dir);
        var seq = CraftedDoors(store, new Random(15));
        var corrections = new OccupancyStore(store);
        corrections.AddCorrection(SiteId, Lab, First.AddDays(7).AddHours(13).ToUnixTimeMilliseconds(), 0, 3, "counted by hand", "test");
        corrections.AddCorrection(SiteId, Room, First.AddDays(20).AddHours(23).ToUnixTimeMilliseconds(), 0, 2, "night shift", "test");
        var clock = new FakeTimeProvider(First.AddDays(Days + 1).AddHours(15));
        var options = new CollectorOptions();
        options.Report.RoomInUseMinShareOfOpenDays = 0.3;
        var history = new OccupancyHistory(store, SmallSite, Options.Create(options), clock);
        Assert.True(history.Update() >= Days);
        Assert.Equal(0, history.Refresh()); // nothing changed, and the current day is fresh: no walk, no rebuild

        CompareWithHourRows(store, history, options);

        // A late reading for day 10 and a correction on day 30: only the occupancy days their UTC days overlap are rebuilt.
        var late = First.AddDays(10).AddHours(14).AddMinutes(17);
        store.Commit([Batch("pi-hall", seq, late, Door(DoorLab, late, 4, 0, 9_000, 9_000), Door(DoorLab, late.AddMinutes(50), 0, 4, 9_004, 9_004))]);
        corrections.AddCorrection(SiteId, Hall, First.AddDays(30).AddHours(11).ToUnixTimeMilliseconds(), 0, 7, "a tour", "test");
        var rebuilt = history.Refresh();
        Assert.InRange(rebuilt, 2, 4); // one or two occupancy days per changed UTC day
        Assert.Equal(0, history.Refresh());
        CompareWithHourRows(store, history, options);
        var day10 = new DateTimeOffset(2026, 3, 30, 0, 0, 0, TimeSpan.FromHours(2)); // local midnight, after the DST change
        Assert.True(history.History(Lab, day10, day10.AddDays(1), CalendarBucket.Day).Buckets.Single().MaxCount >= 4);

        // A door reading of the current day: a page load does not replay the day for it (the day is
        // fresh), nor the day before that shares its UTC day; the upkeep that follows the data does, once.
        var recent = clock.GetUtcNow().AddMinutes(-20);
        store.Commit([Batch("pi-hall", seq + 1, recent, Door(DoorRoom, recent, 2, 0, 9_100, 9_100))]);
        Assert.Equal(0, history.Refresh());
        Assert.Equal(0, history.Refresh());
        Assert.InRange(history.Follow(), 1, 2);
        Assert.Equal(0, history.Follow());
        CompareWithHourRows(store, history, options);

        // Time passing alone: the current day is rebuilt once it is older than the limit.
        clock.Advance(OccupancyHistory.CurrentDayMaxAge);
        Assert.Equal(1, history.Refresh());
    }

    [Fact]
    public void Unique_and_returning_visitors_equal_the_raw_scan_figures_per_day_week_month_year_and_over_the_whole_range()
    {
        using var store = Store(_dir);
        var random = new Random(42);
        var seq = 1UL;
        for (var d = 0; d < Days; d++)
        {
            var scans = Enumerable.Range(0, random.Next(0, 12))
                .Select(_ => VisitorsTests.Scan(First.AddDays(d).AddHours(random.Next(0, 24)).AddMinutes(random.Next(0, 60)), $"V{random.Next(0, 40)}"))
                .ToArray();
            store.Commit([Batch("pi-entrance", seq++, First.AddDays(d), scans)]);
        }

        var clock = new FakeTimeProvider(First.AddDays(Days + 1));
        var (visitors, _) = VisitorsTests.Services(store, SmallSite, clock);
        var raw = RawScans(store);
        foreach (var bucket in new[] { CalendarBucket.Day, CalendarBucket.Week, CalendarBucket.Month, CalendarBucket.Year })
        {
            var cover = Buckets.Cover(bucket, First.ToUnixTimeMilliseconds(), First.AddDays(Days).ToUnixTimeMilliseconds());
            Assert.Equal(OldBadges(raw, cover), visitors.Badges(cover, null));
        }

        var whole = new List<(long, long)> { (First.ToUnixTimeMilliseconds(), First.AddDays(Days).ToUnixTimeMilliseconds()) };
        Assert.Equal(OldBadges(raw, whole), visitors.Badges(whole, null));

        // Late scans of an earlier week: their days are rebuilt, the figures follow.
        store.Commit([Batch("pi-entrance", seq, clock.GetUtcNow(), VisitorsTests.Scan(First.AddDays(3).AddHours(10), "V1"), VisitorsTests.Scan(First.AddDays(3).AddHours(10), "NEW"))]);
        var weeks = Buckets.Cover(CalendarBucket.Week, First.ToUnixTimeMilliseconds(), First.AddDays(Days).ToUnixTimeMilliseconds());
        Assert.Equal(OldBadges(RawScans(store), weeks), visitors.Badges(weeks, null));
    }

    internal static ulong CraftedDoors(SqliteStore store, Random random)
    {
        long mainIn = 0, mainOut = 0, labIn = 0, labOut = 0, roomIn = 0, roomOut = 0;
        var seq = 1UL;
        for (var d = 0; d < Days; d++)
        {
            var day = First.AddDays(d);
            var readings = new List<Reading>();
            var visits = random.Next(0, 5);
            for (var visit = 0; visit < visits; visit++)
            {
                var at = day.AddHours(7).AddMinutes(random.Next(0, 600)).AddSeconds(random.Next(0, 60)).AddMilliseconds(visit);
                var people = random.Next(1, 9);
                var inner = random.Next(0, people + 1);
                var toLab = random.Next(2) == 0;
                readings.Add(Door(DoorMain, at, people, 0, mainIn += people, mainOut));
                var stay = TimeSpan.FromMinutes(random.Next(10, 240));
                if (toLab)
                {
                    readings.Add(Door(DoorLab, at.AddMinutes(3), inner, 0, labIn += inner, labOut));
                    readings.Add(Door(DoorLab, at.AddMinutes(3) + stay, 0, inner, labIn, labOut += inner));
                }
                else
                {
                    readings.Add(Door(DoorRoom, at.AddMinutes(3), inner, 0, roomIn += inner, roomOut));
                    readings.Add(Door(DoorRoom, at.AddMinutes(3) + stay, 0, inner, roomIn, roomOut += inner));
                }

                // Now and then a group stays past midnight (the daily reset ends it), or a reading is lost (the totals bring it back).
                if (random.Next(8) != 0)
                {
                    var leaving = random.Next(10) == 0 ? people - 1 : people;
                    mainOut += people;
                    readings.Add(Door(DoorMain, at.AddMinutes(6) + stay, 0, leaving, mainIn, mainOut));
                }
            }

            store.Commit([Batch("pi-entrance", seq++, day, readings.OrderBy(r => r.Ts).ToArray())]);
        }

        return seq;
    }

    private static void CompareWithHourRows(SqliteStore store, OccupancyHistory history, CollectorOptions options)
    {
        var db = new OccupancyHistoryStore(store);
        var windows = new (DateTimeOffset From, DateTimeOffset To)[]
        {
            (First, First.AddDays(Days + 2)),
            (First.AddDays(2).AddHours(10).AddMinutes(37), First.AddDays(33).AddHours(15)), // partial days at both ends
            (First.AddDays(8).AddHours(3), First.AddDays(9).AddHours(20)),                 // within two days
        };
        foreach (var (from, to) in windows)
        {
            foreach (var room in SmallSite.Rooms.Select(r => r.Id))
            {
                foreach (var bucket in new[] { CalendarBucket.Hour, CalendarBucket.Day, CalendarBucket.Week, CalendarBucket.Month, CalendarBucket.Year })
                {
                    if (bucket == CalendarBucket.Hour && to - from > TimeSpan.FromDays(93))
                    {
                        continue;
                    }

                    Assert.Equal(OldHistory(db, room, from, to, bucket), history.History(room, from, to, bucket).Buckets);
                }
            }

            var use = history.Use(from, to);
            var hours = db.Hours(SiteId, null, Buckets.Floor(Resolution.Day, from.ToUnixTimeMilliseconds()), to.ToUnixTimeMilliseconds())
                .Where(r => r.Hour >= from.ToUnixTimeMilliseconds()).ToList();
            foreach (var room in use.PerRoom)
            {
                var rows = hours.Where(r => r.Room == room.Room).ToList();
                var open = rows.Sum(r => r.OpenMs);
                var days = rows.Where(r => r.OccupiedOpenMs > 0).Select(r => Buckets.Floor(Resolution.Day, r.Hour)).Distinct().Count();
                Assert.Equal(Math.Round(open == 0 ? 0 : (double)rows.Sum(r => r.OccupiedOpenMs) / open, 4), room.Utilisation);
                Assert.Equal(days, room.DaysInUse);
                Assert.Equal(days > 0 && days >= options.Report.RoomInUseMinShareOfOpenDays * room.OpenDays, room.InUse);
                Assert.Equal(rows.Sum(r => r.Entries), room.Entries);
            }
        }
    }

    /// <summary>A room's history as the collector computed it before the day sums: from every hour row, per bucket.</summary>
    private static List<RoomHistoryBucket> OldHistory(OccupancyHistoryStore db, string room, DateTimeOffset from, DateTimeOffset to, CalendarBucket bucket)
    {
        var fromMs = from.ToUnixTimeMilliseconds();
        var toMs = to.ToUnixTimeMilliseconds();
        var rows = db.Hours(SiteId, room, Buckets.Floor(Resolution.Day, fromMs), toMs).Where(r => r.Hour >= fromMs).ToList();
        var list = new List<RoomHistoryBucket>();
        foreach (var (start, end) in Buckets.Cover(bucket, fromMs, toMs))
        {
            var inBucket = rows.Where(r => r.Hour >= start && r.Hour < end).ToList();
            var span = (double)(end - start);
            var open = inBucket.Sum(r => r.OpenMs);
            list.Add(new RoomHistoryBucket(
                DateTimeOffset.FromUnixTimeMilliseconds(start),
                DateTimeOffset.FromUnixTimeMilliseconds(end),
                Buckets.Label(bucket, start),
                inBucket.Count == 0 ? 0 : inBucket.Max(r => r.MaxCount),
                Math.Round(inBucket.Sum(r => r.PersonMs) / span, 3),
                Math.Round(inBucket.Sum(r => r.OccupiedMs) / span, 4),
                open == 0 ? null : Math.Round((double)inBucket.Sum(r => r.OccupiedOpenMs) / open, 4),
                inBucket.Sum(r => r.Entries)));
        }

        return list;
    }

    private static List<(string Visitor, long Ts)> RawScans(SqliteStore store)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT visitor, ts_ms FROM badge_scans WHERE site = $site";
        command.Parameters.AddWithValue("$site", SiteId);
        using var reader = command.ExecuteReader();
        var list = new List<(string, long)>();
        while (reader.Read())
        {
            list.Add((reader.GetString(0), reader.GetInt64(1)));
        }

        return list;
    }

    /// <summary>Badge counts as the collector computed them before the visitor days: from every raw scan.</summary>
    private static Dictionary<long, Visitors.BadgeCounts> OldBadges(List<(string Visitor, long Ts)> scans, IReadOnlyList<(long Start, long End)> cover)
    {
        var firstDay = scans.GroupBy(s => s.Visitor).ToDictionary(g => g.Key, g => Buckets.Floor(Resolution.Day, g.Min(s => s.Ts)));
        return cover.ToDictionary(c => c.Start, c =>
        {
            var inBucket = scans.Where(s => s.Ts >= c.Start && s.Ts < c.End).ToList();
            return new Visitors.BadgeCounts(
                inBucket.Count,
                inBucket.Select(s => s.Visitor).Distinct().Count(),
                inBucket.Where(s => Buckets.Floor(Resolution.Day, s.Ts) > firstDay[s.Visitor]).Select(s => s.Visitor).Distinct().Count());
        });
    }
}
