using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Live;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>A small site and builders for the items the ingest hands to the store.</summary>
public static class TestData
{
    public const string SiteId = "test-site";
    public const string Hall = "hall";
    public const string Lab = "lab";
    public const string Room = "room";
    public const string DoorMain = "door-main";
    public const string DoorLab = "door-lab";
    public const string DoorRoom = "door-room";

    /// <summary>outside → hall (door-main), hall → lab (door-lab), hall → room (door-room).</summary>
    public static SiteModel SmallSite { get; } = new()
    {
        Site = SiteId,
        Name = "Test site",
        TimeZone = "Europe/Amsterdam",
        Rooms =
        [
            new Room { Id = Hall, Name = new LocalizedName { Nl = "Hal", En = "Hall" }, Capacity = 100, Kind = "hall" },
            new Room { Id = Lab, Name = new LocalizedName { Nl = "Lab", En = "Lab" }, Capacity = 20, Kind = "lab" },
            new Room { Id = Room, Name = new LocalizedName { Nl = "Kamer", En = "Room" }, Capacity = 8, Kind = "meeting" },
        ],
        Doors =
        [
            new Door { Id = DoorMain, From = SiteModel.Outside, To = Hall, Device = "pi-entrance" },
            new Door { Id = DoorLab, From = Hall, To = Lab, Device = "pi-hall" },
            new Door { Id = DoorRoom, From = Hall, To = Room, Device = "pi-hall" },
        ],
    };

    public static OccupancyEngine Engine(TimeProvider clock, CollectorMetrics? metrics = null, LiveEventHub? hub = null)
    {
        metrics ??= new CollectorMetrics();
        return new OccupancyEngine(SmallSite, hub ?? new LiveEventHub(metrics), metrics, clock, Options.Create(new CollectorOptions()));
    }

    public static SqliteStore Store(TempDirectory dir) => new(dir.File("collector.db"), NullLogger<SqliteStore>.Instance);

    public static TopicAddress Readings(string device, string site = SiteId) => new(site, device, TopicChannel.Readings);

    public static TopicAddress Status(string device, string site = SiteId) => new(site, device, TopicChannel.Status);

    public static ReadingsItem Batch(string device, ulong seq, DateTimeOffset received, params Reading[] readings) =>
        new(Readings(device), new ReadingsBatch { Seq = seq, Sent = received, Readings = readings }, received);

    public static Reading Door(string door, DateTimeOffset ts, long entered, long left, long inTotal = 0, long outTotal = 0) => new()
    {
        Ts = ts,
        Sensor = door,
        Kind = ReadingKinds.Door,
        Values = new Dictionary<string, double>
        {
            [ReadingKinds.DoorValues.In] = entered,
            [ReadingKinds.DoorValues.Out] = left,
            [ReadingKinds.DoorValues.InTotal] = inTotal,
            [ReadingKinds.DoorValues.OutTotal] = outTotal,
        },
    };

    public static Reading Value(string sensor, string kind, DateTimeOffset ts, string field, double value) => new()
    {
        Ts = ts,
        Sensor = sensor,
        Kind = kind,
        Values = new Dictionary<string, double> { [field] = value },
    };

    public static long Count(this OccupancySnapshot snapshot, string room) => snapshot.Rooms.Single(r => r.Room == room).Count;

    public static long Drift(this OccupancySnapshot snapshot, string room) => snapshot.Rooms.Single(r => r.Room == room).Drift;
}
