using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Storage.Rollups;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

public sealed class OccupancyAnalyticsTests : IDisposable
{
    // Wednesday 10 June 2026, 10:00 in Apeldoorn (08:00 UTC).
    private static readonly DateTimeOffset Ten = new(2026, 6, 10, 10, 0, 0, TimeSpan.FromHours(2));

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_lost_door_reading_is_recovered_from_the_next_totals_and_not_counted_again_when_it_arrives_late()
    {
        var clock = new FakeTimeProvider(Ten);
        var engine = Engine(clock);

        engine.Apply(Door(DoorMain, Ten, 1, 0, inTotal: 101, outTotal: 50));
        // The reading with in_total 102 is lost; the next one's totals jump by two.
        engine.Apply(Door(DoorMain, Ten.AddSeconds(20), 1, 0, inTotal: 103, outTotal: 50));
        Assert.Equal(3, engine.Snapshot().Count(Hall));
        Assert.Equal(1, engine.RecoveredCrossings);

        // It turns up after all (a replayed batch): already counted through the jump.
        engine.Apply(Door(DoorMain, Ten.AddSeconds(10), 1, 0, inTotal: 102, outTotal: 50));
        Assert.Equal(3, engine.Snapshot().Count(Hall));

        // The device is reset and its totals start again: a new segment, only the reading's own crossing.
        engine.Apply(Door(DoorMain, Ten.AddSeconds(30), 1, 0, inTotal: 1, outTotal: 0));
        Assert.Equal(4, engine.Snapshot().Count(Hall));
        engine.Apply(Door(DoorMain, Ten.AddSeconds(40), 0, 1, inTotal: 1, outTotal: 1));
        Assert.Equal(3, engine.Snapshot().Count(Hall));
        Assert.Equal(3, engine.Snapshot().Building);
    }

    [Fact]
    public async Task Capacity_warnings_at_90_and_100_percent_go_on_the_stream_and_a_correction_is_audited()
    {
        var clock = new FakeTimeProvider(Ten);
        var metrics = new CollectorMetrics();
        var hub = new LiveEventHub(metrics);
        var engine = Engine(clock, metrics, hub);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var stream = hub.SubscribeAsync(cts.Token).GetAsyncEnumerator(cts.Token);
        var next = stream.MoveNextAsync();

        // The lab holds 20: 18 is 90 %, 20 is 100 %.
        engine.Apply(DoorMain, 30, 0, Ten);
        engine.Apply(DoorLab, 17, 0, Ten.AddMinutes(1));
        engine.Apply(DoorLab, 1, 0, Ten.AddMinutes(2));
        engine.Apply(DoorLab, 2, 0, Ten.AddMinutes(3));
        using var store = Store(_dir);
        clock.SetUtcNow(Ten.AddMinutes(5));
        var corrections = new OccupancyCorrections(store, engine, clock);
        var correction = corrections.Correct(Lab, 5, "counted by hand", "facility");

        var capacity = new List<CapacityEvent>();
        var occupancy = new List<OccupancyEvent>();
        while (await next)
        {
            switch (stream.Current)
            {
                case CapacityEvent c:
                    capacity.Add(c);
                    break;
                case OccupancyEvent o:
                    occupancy.Add(o);
                    break;
            }

            if (capacity.Count == 3)
            {
                break;
            }

            next = stream.MoveNextAsync();
        }

        Assert.Equal([(CapacityEvent.Warning, 18L), (CapacityEvent.Full, 20L), (CapacityEvent.Ok, 5L)], capacity.Select(c => (c.Level, c.Count)));
        Assert.All(capacity, c => Assert.Equal(Lab, c.Room)); // the hall (30 of 100) never came near
        Assert.Contains(occupancy, o => o.Room == Lab && o.Count == 5);
        Assert.NotNull(correction);
        Assert.Equal(20, correction.Previous);
        Assert.Equal(5, engine.Snapshot().Count(Lab));
        var trail = corrections.List(Ten.AddHours(-1), Ten.AddHours(1));
        var audited = Assert.Single(trail);
        Assert.Equal((Lab, 20L, 5L, "counted by hand", "facility"), (audited.Room, audited.Previous, audited.Count, audited.Reason, audited.Actor));
        Assert.Equal(Ten.AddMinutes(5), audited.Ts);
        Assert.Null(corrections.Correct("no-such-room", 1, "x", "y"));
        await cts.CancelAsync();
    }

    [Fact]
    public void Capacity_levels()
    {
        Assert.Equal(CapacityEvent.Ok, OccupancyEngine.CapacityLevel(17, 20));
        Assert.Equal(CapacityEvent.Warning, OccupancyEngine.CapacityLevel(18, 20));
        Assert.Equal(CapacityEvent.Full, OccupancyEngine.CapacityLevel(20, 20));
        Assert.Equal(CapacityEvent.Full, OccupancyEngine.CapacityLevel(25, 20));
    }

    [Fact]
    public void Crossings_through_a_pass_through_hall_a_correction_and_the_daily_reset_give_history_and_utilisation()
    {
        using var store = Store(_dir);
        var clock = new FakeTimeProvider(Ten);
        // 10:00 five come in; 10:05 three walk through the hall into the lab; 10:30 they come back; 11:00 all leave.
        store.Commit([Batch("pi-entrance", 1, Ten,
            Door(DoorMain, Ten, 5, 0, 5, 0),
            Door(DoorLab, Ten.AddMinutes(5), 3, 0, 3, 0),
            Door(DoorLab, Ten.AddMinutes(30), 0, 3, 3, 3),
            Door(DoorMain, Ten.AddHours(1), 0, 5, 5, 5))]);
        // 12:00 staff find two people in the meeting room that no door saw: a correction.
        clock.SetUtcNow(Ten.AddHours(2));
        var engine = Engine(clock);
        new OccupancyCorrections(store, engine, clock).Correct(Room, 2, "two people came in with a delivery", "facility");

        // A restart the same afternoon rebuilds the same counts from the store.
        clock.SetUtcNow(Ten.AddHours(3));
        var restarted = Engine(clock);
        new OccupancyReplay(store, restarted, NullLogger.Instance).Run();
        Assert.Equal(2, restarted.Snapshot().Count(Room));
        Assert.Equal(0, restarted.Snapshot().Count(Hall));
        Assert.Equal(0, restarted.Snapshot().Count(Lab));

        // Two days later the history holds both local days; the reset at 04:00 ended the room's count.
        clock.SetUtcNow(Ten.AddDays(2));
        var options = new CollectorOptions();
        var history = new OccupancyHistory(store, SmallSite, Options.Create(options), clock);
        Assert.True(history.Update() >= 2);
        Assert.Equal(0, history.Update() - 1); // only the current day is rebuilt again

        var day = Ten.AddHours(-10); // local midnight
        var lab = history.History(Lab, day, day.AddDays(1), CalendarBucket.Day).Buckets.Single();
        Assert.Equal(3, lab.MaxCount);
        Assert.Equal(3, lab.Entries);
        Assert.Equal(25.0 / (24 * 60), lab.OccupiedShare, 3);
        Assert.Equal(25.0 / 510, lab.Utilisation!.Value, 3); // opening hours 08:30–17:00 = 510 minutes
        var hall = history.History(Hall, day, day.AddDays(1), CalendarBucket.Hour).Buckets;
        Assert.Equal(5, hall.Single(h => h.Label.StartsWith("2026-06-10T10:", StringComparison.Ordinal)).MaxCount);
        Assert.Equal((2 * 25.0 / 60) + (5 * 35.0 / 60), hall.Single(h => h.Label.StartsWith("2026-06-10T10:", StringComparison.Ordinal)).MeanCount, 3);
        Assert.Equal(0, hall.Single(h => h.Label.StartsWith("2026-06-10T11:", StringComparison.Ordinal)).MaxCount);
        var room = history.History(Room, day, day.AddDays(2), CalendarBucket.Day).Buckets;
        Assert.Equal(0.5, room[0].OccupiedShare, 3);              // 12:00–24:00
        Assert.Equal(300.0 / 510, room[0].Utilisation!.Value, 3); // 12:00–17:00 of the opening hours
        Assert.Equal(4.0 / 24, room[1].OccupiedShare, 3);         // 00:00–04:00, then the daily reset

        var use = history.Use(day, day.AddDays(1));
        Assert.Equal(3, use.Rooms);
        Assert.Equal(3, use.RoomsInUse);
        Assert.Equal(100, use.RoomsInUsePct);
        Assert.Equal(1, use.Labs);
        Assert.Equal(1, use.LabsActive);

        // Late data for the first day: a second group went to the lab. The day is rebuilt.
        store.Commit([Batch("pi-hall", 2, Ten, Door(DoorLab, Ten.AddHours(4), 1, 0, 4, 3), Door(DoorLab, Ten.AddHours(5), 0, 1, 4, 4))]);
        history.Update();
        Assert.Equal(85.0 / 510, history.History(Lab, day, day.AddDays(1), CalendarBucket.Day).Buckets.Single().Utilisation!.Value, 3);
        Assert.Equal(4, history.History(Lab, day, day.AddDays(1), CalendarBucket.Day).Buckets.Single().Entries);
        Assert.Equal(5 + 3 + 1, history.Use(day, day.AddDays(1)).PerRoom.Single(r => r.Room == Hall).Entries); // from outside, and back from the lab
    }
}

public sealed class OpeningHoursTests
{
    [Fact]
    public void Opening_hours_default_to_weekdays_and_are_checked()
    {
        Assert.Empty(NewTechPark.Edge.Collector.Site.SiteLoader.Check(TestData.SmallSite));
        var wrong = TestData.SmallSite with
        {
            OpeningHours = [new Site.OpeningHours { Days = ["maandag"], Open = "17:00", Close = "08:30" }],
        };
        var problems = NewTechPark.Edge.Collector.Site.SiteLoader.Check(wrong);
        Assert.Contains(problems, p => p.Contains("'maandag' is not a day of the week", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("close 08:30 must be later than open 17:00", StringComparison.Ordinal));

        var buckets = Storage.Rollups.TimeBuckets.Amsterdam;
        var saturday = Site.OpeningHours.Intervals(TestData.SmallSite.OpeningHours, new DateOnly(2026, 3, 28), buckets.ToUtcMs);
        Assert.Empty(saturday);
        var monday = Site.OpeningHours.Intervals(TestData.SmallSite.OpeningHours, new DateOnly(2026, 3, 30), buckets.ToUtcMs).Single();
        Assert.Equal(new DateTimeOffset(2026, 3, 30, 8, 30, 0, TimeSpan.FromHours(2)).ToUnixTimeMilliseconds(), monday.From);
        Assert.Equal(8.5 * 3_600_000, monday.To - monday.From);
    }

    [Fact]
    public void A_restart_closes_a_gap_across_the_daily_reset_from_the_last_totals_before_it()
    {
        using var dir = new TempDirectory();
        using var store = TestData.Store(dir);
        var yesterday = new DateTimeOffset(2026, 6, 9, 22, 0, 0, TimeSpan.FromHours(2));
        var today = new DateTimeOffset(2026, 6, 10, 9, 0, 0, TimeSpan.FromHours(2));
        // Yesterday's last reading had in_total 500; today's first reading arrives with 503 but in = 1:
        // two readings of this morning were lost.
        store.Commit([TestData.Batch("pi-entrance", 1, today,
            TestData.Door(TestData.DoorMain, yesterday, 0, 1, 500, 500),
            TestData.Door(TestData.DoorMain, today, 1, 0, 503, 500))]);
        var clock = new FakeTimeProvider(today.AddMinutes(5));
        var engine = TestData.Engine(clock);

        new OccupancyReplay(store, engine, Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance).Run();

        Assert.Equal(3, engine.Snapshot().Count(TestData.Hall));
    }
}
