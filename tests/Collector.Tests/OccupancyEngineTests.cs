using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

public sealed class OccupancyEngineTests
{
    // 10:00 UTC = 12:00 in Apeldoorn (summer time); the last reset was 02:00 UTC the same day.
    private static readonly DateTimeOffset Noon = new(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);

    private FakeTimeProvider _clock = new(Noon);

    [Fact]
    public void Entries_through_the_main_door_raise_hall_and_building()
    {
        var engine = Engine(_clock);

        Assert.True(engine.Apply(DoorMain, 3, 0, Noon));
        Assert.True(engine.Apply(DoorMain, 2, 1, Noon.AddSeconds(1)));

        var snapshot = engine.Snapshot();
        Assert.Equal(4, snapshot.Count(Hall));
        Assert.Equal(4, snapshot.Building);
        Assert.Equal(0, snapshot.Count(Lab));
        Assert.Equal(0, snapshot.Count(Room));
        var hall = snapshot.Rooms.Single(r => r.Room == Hall);
        Assert.Equal(100, hall.Capacity);
        Assert.Equal(0.04, hall.Utilisation, 3);
        Assert.Equal(Noon.AddSeconds(1), hall.LastChange);
    }

    [Fact]
    public void Pass_through_the_hall_into_the_lab_and_back_out()
    {
        var engine = Engine(_clock);

        engine.Apply(DoorMain, 1, 0, Noon);
        engine.Apply(DoorLab, 1, 0, Noon.AddSeconds(10));

        var inside = engine.Snapshot();
        Assert.Equal(0, inside.Count(Hall));
        Assert.Equal(1, inside.Count(Lab));
        Assert.Equal(1, inside.Building);

        engine.Apply(DoorLab, 0, 1, Noon.AddMinutes(30));
        var hall = engine.Snapshot();
        Assert.Equal(1, hall.Count(Hall));
        Assert.Equal(0, hall.Count(Lab));
        Assert.Equal(1, hall.Building);

        engine.Apply(DoorMain, 0, 1, Noon.AddMinutes(31));
        var gone = engine.Snapshot();
        Assert.All(gone.Rooms, r => Assert.Equal(0, r.Count));
        Assert.Equal(0, gone.Building);
        Assert.All(gone.Rooms, r => Assert.Equal(0, r.Drift));
    }

    [Fact]
    public void Counts_never_go_below_zero_and_the_shortfall_is_drift()
    {
        var metrics = new CollectorMetrics();
        var engine = Engine(_clock, metrics);

        engine.Apply(DoorMain, 1, 0, Noon);
        engine.Apply(DoorRoom, 0, 3, Noon.AddSeconds(5)); // three leave a room nobody was counted into

        var snapshot = engine.Snapshot();
        Assert.Equal(0, snapshot.Count(Room));
        Assert.Equal(3, snapshot.Drift(Room));
        Assert.Equal(4, snapshot.Count(Hall)); // the three who came out are in the hall now
        Assert.Equal(0, snapshot.Drift(Hall));
        Assert.Equal(3, metrics.OccupancyDrift.WithLabels(Room).Value);

        engine.Apply(DoorMain, 0, 10, Noon.AddSeconds(10)); // ten leave through the main door
        var after = engine.Snapshot();
        Assert.Equal(0, after.Count(Hall));
        Assert.Equal(6, after.Drift(Hall));
        Assert.Equal(0, after.Building);
        Assert.All(after.Rooms, r => Assert.True(r.Count >= 0));
    }

    [Fact]
    public void Unknown_door_is_ignored()
    {
        var engine = Engine(_clock);
        engine.Apply(DoorMain, 2, 0, Noon);

        Assert.False(engine.Apply("door-nowhere", 5, 0, Noon.AddSeconds(1)));
        Assert.False(engine.Apply(Hall, 5, 0, Noon.AddSeconds(1))); // a room id is not a door
        Assert.False(engine.IsDoor("door-nowhere"));
        Assert.True(engine.IsDoor(DoorLab));

        var snapshot = engine.Snapshot();
        Assert.Equal(2, snapshot.Count(Hall));
        Assert.Equal(2, snapshot.Building);
    }

    [Fact]
    public void Daily_reset_at_four_local_sets_every_room_to_zero()
    {
        var engine = Engine(_clock);
        Assert.Equal(new DateTimeOffset(2026, 6, 10, 2, 0, 0, TimeSpan.Zero), engine.LastReset);
        engine.Apply(DoorMain, 5, 0, Noon);
        engine.Apply(DoorLab, 2, 0, Noon.AddMinutes(1));
        engine.Apply(DoorRoom, 1, 0, Noon.AddMinutes(2));

        // 03:59:59 local the next morning: still counted.
        _clock.SetUtcNow(new DateTimeOffset(2026, 6, 11, 1, 59, 59, TimeSpan.Zero));
        var before = engine.Snapshot();
        Assert.Equal(2, before.Count(Hall));
        Assert.Equal(2, before.Count(Lab));
        Assert.Equal(1, before.Count(Room));
        Assert.Equal(5, before.Building);

        // 04:00:01 local (02:00:01 UTC, summer time).
        _clock.SetUtcNow(new DateTimeOffset(2026, 6, 11, 2, 0, 1, TimeSpan.Zero));
        var after = engine.Snapshot();
        Assert.All(after.Rooms, r => Assert.Equal(0, r.Count));
        Assert.Equal(0, after.Building);
        Assert.Equal(new DateTimeOffset(2026, 6, 11, 2, 0, 0, TimeSpan.Zero), engine.LastReset);
    }

    [Fact]
    public void Daily_reset_in_winter_time_is_at_three_utc()
    {
        _clock = new FakeTimeProvider(new DateTimeOffset(2026, 1, 15, 12, 0, 0, TimeSpan.Zero)); // before Noon: a clock of its own
        var engine = Engine(_clock);
        Assert.Equal(new DateTimeOffset(2026, 1, 15, 3, 0, 0, TimeSpan.Zero), engine.LastReset);
        engine.Apply(DoorMain, 4, 0, _clock.GetUtcNow());

        _clock.SetUtcNow(new DateTimeOffset(2026, 1, 16, 2, 59, 59, TimeSpan.Zero));
        Assert.Equal(4, engine.Snapshot().Count(Hall));

        _clock.SetUtcNow(new DateTimeOffset(2026, 1, 16, 3, 0, 0, TimeSpan.Zero));
        Assert.Equal(0, engine.Snapshot().Count(Hall));
        Assert.Equal(new DateTimeOffset(2026, 1, 16, 3, 0, 0, TimeSpan.Zero), engine.LastReset);
    }

    [Fact]
    public void Reset_on_the_spring_dst_night_happens_once_at_four_local()
    {
        // Sunday 2026-03-29: 02:00 CET becomes 03:00 CEST (01:00 UTC). 04:00 CEST is 02:00 UTC.
        _clock = new FakeTimeProvider(new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero)); // before Noon: a clock of its own
        var engine = Engine(_clock);
        Assert.Equal(new DateTimeOffset(2026, 3, 28, 3, 0, 0, TimeSpan.Zero), engine.LastReset); // 04:00 CET

        engine.Apply(DoorMain, 3, 0, new DateTimeOffset(2026, 3, 28, 20, 0, 0, TimeSpan.Zero));

        // 03:00 UTC would be the winter-time reset moment, but that is 05:00 local now; 01:59:59 UTC is 03:59:59 CEST.
        _clock.SetUtcNow(new DateTimeOffset(2026, 3, 29, 1, 59, 59, TimeSpan.Zero));
        Assert.Equal(3, engine.Snapshot().Count(Hall));

        _clock.SetUtcNow(new DateTimeOffset(2026, 3, 29, 2, 0, 0, TimeSpan.Zero));
        Assert.Equal(0, engine.Snapshot().Count(Hall));
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 2, 0, 0, TimeSpan.Zero), engine.LastReset);

        // People arriving after the reset are not reset again that night, nor at 03:00 UTC.
        engine.Apply(DoorMain, 2, 0, new DateTimeOffset(2026, 3, 29, 2, 30, 0, TimeSpan.Zero));
        _clock.SetUtcNow(new DateTimeOffset(2026, 3, 29, 3, 0, 0, TimeSpan.Zero));
        Assert.Equal(2, engine.Snapshot().Count(Hall));
        _clock.SetUtcNow(new DateTimeOffset(2026, 3, 30, 1, 59, 59, TimeSpan.Zero));
        Assert.Equal(2, engine.Snapshot().Count(Hall));
        Assert.Equal(new DateTimeOffset(2026, 3, 29, 2, 0, 0, TimeSpan.Zero), engine.LastReset);

        // The next reset is again 04:00 CEST = 02:00 UTC.
        _clock.SetUtcNow(new DateTimeOffset(2026, 3, 30, 2, 0, 0, TimeSpan.Zero));
        Assert.Equal(0, engine.Snapshot().Count(Hall));
        Assert.Equal(new DateTimeOffset(2026, 3, 30, 2, 0, 0, TimeSpan.Zero), engine.LastReset);
    }

    [Fact]
    public void Reset_on_the_autumn_dst_night_happens_once_at_four_local()
    {
        // Sunday 2026-10-25: 03:00 CEST becomes 02:00 CET (01:00 UTC). 04:00 CET is 03:00 UTC.
        _clock = new FakeTimeProvider(new DateTimeOffset(2026, 10, 24, 12, 0, 0, TimeSpan.Zero)); // before Noon: a clock of its own
        var engine = Engine(_clock);
        Assert.Equal(new DateTimeOffset(2026, 10, 24, 2, 0, 0, TimeSpan.Zero), engine.LastReset); // 04:00 CEST

        engine.Apply(DoorMain, 3, 0, new DateTimeOffset(2026, 10, 24, 20, 0, 0, TimeSpan.Zero));

        // 02:00 UTC would be the summer-time reset moment; on this night it is 03:00 CET.
        _clock.SetUtcNow(new DateTimeOffset(2026, 10, 25, 2, 0, 0, TimeSpan.Zero));
        Assert.Equal(3, engine.Snapshot().Count(Hall));
        _clock.SetUtcNow(new DateTimeOffset(2026, 10, 25, 2, 59, 59, TimeSpan.Zero));
        Assert.Equal(3, engine.Snapshot().Count(Hall));

        _clock.SetUtcNow(new DateTimeOffset(2026, 10, 25, 3, 0, 0, TimeSpan.Zero));
        Assert.Equal(0, engine.Snapshot().Count(Hall));
        Assert.Equal(new DateTimeOffset(2026, 10, 25, 3, 0, 0, TimeSpan.Zero), engine.LastReset);

        engine.Apply(DoorMain, 2, 0, new DateTimeOffset(2026, 10, 25, 3, 30, 0, TimeSpan.Zero));
        _clock.SetUtcNow(new DateTimeOffset(2026, 10, 26, 2, 59, 59, TimeSpan.Zero));
        Assert.Equal(2, engine.Snapshot().Count(Hall));
        Assert.Equal(new DateTimeOffset(2026, 10, 25, 3, 0, 0, TimeSpan.Zero), engine.LastReset);

        _clock.SetUtcNow(new DateTimeOffset(2026, 10, 26, 3, 0, 0, TimeSpan.Zero));
        Assert.Equal(0, engine.Snapshot().Count(Hall));
        Assert.Equal(new DateTimeOffset(2026, 10, 26, 3, 0, 0, TimeSpan.Zero), engine.LastReset);
    }

    [Fact]
    public void Reset_is_applied_before_a_crossing_that_arrives_after_it()
    {
        var engine = Engine(_clock);
        engine.Apply(DoorMain, 5, 0, Noon);

        _clock.SetUtcNow(new DateTimeOffset(2026, 6, 11, 6, 0, 0, TimeSpan.Zero)); // 08:00 local next day, no snapshot in between
        engine.Apply(DoorMain, 1, 0, _clock.GetUtcNow());

        var snapshot = engine.Snapshot();
        Assert.Equal(1, snapshot.Count(Hall));
        Assert.Equal(1, snapshot.Building);
    }

    [Fact]
    public void Crossing_from_before_the_last_reset_is_ignored()
    {
        var engine = Engine(_clock);
        var reset = engine.LastReset;

        Assert.True(engine.Apply(DoorMain, 4, 0, reset.AddMilliseconds(-1)));
        Assert.True(engine.Apply(DoorLab, 1, 0, reset.AddHours(-5)));
        var snapshot = engine.Snapshot();
        Assert.All(snapshot.Rooms, r => Assert.Equal(0, r.Count));
        Assert.All(snapshot.Rooms, r => Assert.Equal(0, r.Drift));
        Assert.Equal(0, snapshot.Building);

        engine.Apply(DoorMain, 1, 0, reset);
        Assert.Equal(1, engine.Snapshot().Count(Hall));

        // After the next reset, a late crossing from the previous day is ignored as well.
        _clock.SetUtcNow(new DateTimeOffset(2026, 6, 11, 2, 0, 0, TimeSpan.Zero));
        engine.Apply(DoorMain, 3, 0, Noon.AddHours(10)); // 22:00 local the evening before
        Assert.Equal(0, engine.Snapshot().Count(Hall));
    }

    [Fact]
    public async Task Occupancy_changes_are_published_to_subscribers()
    {
        var metrics = new CollectorMetrics();
        var hub = new LiveEventHub(metrics);
        var engine = Engine(_clock, metrics, hub);
        using var cancel = new CancellationTokenSource();
        var events = hub.SubscribeAsync(cancel.Token).GetAsyncEnumerator(cancel.Token);
        try
        {
            // The subscription starts when the enumerator is first asked for an event.
            var first = events.MoveNextAsync();
            Assert.Equal(1, hub.Subscribers);

            engine.Apply(DoorMain, 2, 0, Noon.AddSeconds(3));

            Assert.True(await first.AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
            var e = Assert.IsType<OccupancyEvent>(events.Current);
            Assert.Equal(Hall, e.Room);
            Assert.Equal(2, e.Count);
            Assert.Equal(100, e.Capacity);
            Assert.Equal(2, e.Building);
            Assert.Equal(Noon.AddSeconds(3), e.Ts);
            Assert.Equal("occupancy", e.Type);

            // A crossing between two rooms publishes both, with the building total.
            engine.Apply(DoorLab, 1, 0, Noon.AddSeconds(4));
            var next = new List<OccupancyEvent>();
            for (var i = 0; i < 2; i++)
            {
                Assert.True(await events.MoveNextAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30)));
                next.Add(Assert.IsType<OccupancyEvent>(events.Current));
            }

            Assert.Contains(next, x => x.Room == Lab && x.Count == 1 && x.Capacity == 20 && x.Building == 2);
            Assert.Contains(next, x => x.Room == Hall && x.Count == 1 && x.Capacity == 100 && x.Building == 2);
        }
        finally
        {
            await cancel.CancelAsync();
            await events.DisposeAsync();
        }

        Assert.Equal(0, hub.Subscribers);
    }
}
