using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Storage;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

public sealed class OccupancyReplayTests : IDisposable
{
    // 12:00 local (summer time); the last reset was 02:00 UTC.
    private static readonly DateTimeOffset Noon = new(2026, 6, 10, 10, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Reset = new(2026, 6, 10, 2, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _dir = new();
    private readonly FakeTimeProvider _clock = new(Noon);

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Replay_rebuilds_the_counts_from_the_stored_door_readings()
    {
        using var store = Store(_dir);
        store.Commit(
        [
            Batch("pi-entrance", 1, Noon.AddHours(-2), Door(DoorMain, Noon.AddHours(-2), 5, 0, 5, 0)),
            Batch("pi-hall", 1, Noon.AddHours(-1), Door(DoorLab, Noon.AddHours(-1), 3, 0, 3, 0), Door(DoorRoom, Noon.AddHours(-1).AddSeconds(1), 1, 0, 1, 0)),
            Batch("pi-hall", 2, Noon.AddMinutes(-30), Door(DoorLab, Noon.AddMinutes(-30), 0, 1, 3, 1)),
            Batch("pi-entrance", 2, Noon.AddMinutes(-10), Door(DoorMain, Noon.AddMinutes(-10), 1, 1, 6, 1)),
            // Not a door of this site: stored, but it moves nobody.
            Batch("pi-other", 1, Noon.AddMinutes(-5), Door("door-elsewhere", Noon.AddMinutes(-5), 9, 0, 9, 0)),
        ]);

        var engine = Engine(_clock);
        new OccupancyReplay(store, engine, NullLogger.Instance).Run();

        var snapshot = engine.Snapshot();
        Assert.Equal(5, snapshot.Building);
        Assert.Equal(2, snapshot.Count(Hall));
        Assert.Equal(2, snapshot.Count(Lab));
        Assert.Equal(1, snapshot.Count(Room));
        Assert.All(snapshot.Rooms, r => Assert.Equal(0, r.Drift));
        Assert.Equal(Noon.AddMinutes(-30), snapshot.Rooms.Single(r => r.Room == Lab).LastChange);
    }

    [Fact]
    public void Readings_from_before_the_last_reset_are_not_replayed()
    {
        using var store = Store(_dir);
        store.Commit(
        [
            // Yesterday evening and just before this morning's reset: a finished day.
            Batch("pi-entrance", 1, Reset.AddHours(-8), Door(DoorMain, Reset.AddHours(-8), 40, 0, 40, 0)),
            Batch("pi-hall", 1, Reset.AddMilliseconds(-1), Door(DoorLab, Reset.AddMilliseconds(-1), 7, 0, 7, 0)),
            // At and after the reset.
            Batch("pi-entrance", 2, Reset, Door(DoorMain, Reset, 2, 0, 42, 0)),
            Batch("pi-hall", 2, Reset.AddHours(6), Door(DoorLab, Reset.AddHours(6), 1, 0, 8, 0)),
        ]);

        var engine = Engine(_clock);
        Assert.Equal(Reset, engine.LastReset);
        new OccupancyReplay(store, engine, NullLogger.Instance).Run();

        var snapshot = engine.Snapshot();
        Assert.Equal(2, snapshot.Building);
        Assert.Equal(1, snapshot.Count(Hall));
        Assert.Equal(1, snapshot.Count(Lab));
        Assert.All(snapshot.Rooms, r => Assert.Equal(0, r.Drift));
    }

    [Fact]
    public void Replay_after_a_restart_shows_the_counts_the_live_engine_had()
    {
        // People entering and leaving within one reading, including through a door whose far side
        // is empty: the live engine applies the net crossing, and so must the replay.
        ReadingsItem[] batches =
        [
            Batch("pi-entrance", 1, Noon.AddMinutes(-50), Door(DoorMain, Noon.AddMinutes(-50), 2, 0, 2, 0)),
            Batch("pi-hall", 1, Noon.AddMinutes(-40), Door(DoorLab, Noon.AddMinutes(-40), 2, 0, 2, 0)),
            Batch("pi-hall", 2, Noon.AddMinutes(-30), Door(DoorLab, Noon.AddMinutes(-30), 1, 1, 3, 1)),
            Batch("pi-hall", 3, Noon.AddMinutes(-20), Door(DoorRoom, Noon.AddMinutes(-20), 1, 1, 1, 1)),
            Batch("pi-entrance", 2, Noon.AddMinutes(-10), Door(DoorMain, Noon.AddMinutes(-10), 1, 1, 3, 1)),
        ];
        using var store = Store(_dir);
        store.Commit(batches);
        var live = Engine(_clock);
        foreach (var reading in batches.SelectMany(b => b.Batch.Readings))
        {
            live.Apply(reading.Sensor, (long)reading.Values!["in"], (long)reading.Values["out"], reading.Ts);
        }

        var restarted = Engine(_clock);
        new OccupancyReplay(store, restarted, NullLogger.Instance).Run();

        var expected = live.Snapshot();
        var actual = restarted.Snapshot();
        Assert.Equal(expected.Building, actual.Building);
        foreach (var room in expected.Rooms)
        {
            Assert.Equal((room.Room, room.Count), (room.Room, actual.Count(room.Room)));
        }
    }
}
