using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests.Trust;

/// <summary>The rules a contract-valid batch must also pass: ownership, clock, closed years, plausibility.</summary>
public sealed class ReadingsGuardTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 2, 10, 0, 0, TimeSpan.Zero);

    private static readonly SiteModel Site = SmallSite with
    {
        Meters = [new Meter { Id = "meter-grid", Role = "grid", PulsesPerKwh = 1000, Device = "pi-entrance" }],
        Sensors = [new SiteSensor { Id = "badge-entrance", Kind = ReadingKinds.Badge, Device = "pi-entrance" }, new SiteSensor { Id = "climate-free", Kind = ReadingKinds.Climate }],
    };

    private static ReadingsGuard Guard(Action<CollectorOptions>? configure = null)
    {
        var options = new CollectorOptions();
        configure?.Invoke(options);
        return new ReadingsGuard(Site, options);
    }

    private static string RuleOf(ReadingsGuard guard, string device, params Reading[] readings) => guard.Check(Batch(device, 1, Now, readings)).Rule;

    private static Reading Energy(DateTimeOffset ts, double totalWh, double powerW = 1000) => new()
    {
        Ts = ts,
        Sensor = "meter-grid",
        Kind = ReadingKinds.Energy,
        Values = new() { [ReadingKinds.EnergyValues.PowerW] = powerW, [ReadingKinds.EnergyValues.EnergyWhTotal] = totalWh },
    };

    [Fact]
    public void A_device_writes_its_own_sensors_and_sensors_without_an_owner()
    {
        var guard = Guard();
        Assert.Equal("", RuleOf(guard, "pi-entrance", Door(DoorMain, Now, 1, 0, 10, 0), Energy(Now, 1000)));
        Assert.Equal("", RuleOf(guard, "pi-dc-lab", Value("climate-free", ReadingKinds.Climate, Now, "temperature_c", 21)));
    }

    [Theory]
    [InlineData(DoorMain)]
    [InlineData("meter-grid")]
    [InlineData("badge-entrance")]
    public void Another_devices_sensor_is_refused_by_name(string sensor)
    {
        var (item, rule, reason) = Guard().Check(Batch("pi-dc-lab", 1, Now, Value(sensor, "door", Now, "in", 1)));

        Assert.Null(item);
        Assert.Equal(ReadingsGuard.Rules.ForeignSensor, rule);
        Assert.Contains("'pi-entrance'", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unnamed_sensor_becomes_a_plain_series_of_its_device_and_an_unnamed_badge_reader_keeps_no_pseudonym()
    {
        var (item, _, _) = Guard().Check(Batch("pi-dc-lab", 1, Now,
            Door("door-invented", Now, 5, 0, 5, 0),
            new Reading { Ts = Now, Sensor = "badge-invented", Kind = ReadingKinds.Badge, Visitor = "Zk3J9aQ2mX0pR7tV1wY4bC" }));

        Assert.NotNull(item);
        Assert.Equal(["pi-dc-lab/door-invented", "pi-dc-lab/badge-invented"], item.Batch.Readings.Select(r => r.Sensor));
        Assert.Null(item.Batch.Readings[1].Visitor);
        Assert.Equal(1, item.Batch.Readings[1].Values![ReadingsGuard.ScanField]);
    }

    [Fact]
    public void A_reading_dated_ahead_of_its_arrival_beyond_the_tolerance_is_refused()
    {
        var guard = Guard();
        Assert.Equal("", RuleOf(guard, "pi-entrance", Door(DoorMain, Now.AddSeconds(9), 1, 0)));
        Assert.Equal(ReadingsGuard.Rules.AheadOfArrival, RuleOf(guard, "pi-entrance", Door(DoorMain, Now.AddSeconds(290), 1, 0, 10_000_000, 0)));
    }

    [Fact]
    public void A_reading_in_a_closed_year_is_refused_and_kept_for_review()
    {
        var guard = Guard();
        Assert.Equal(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.FromHours(1)), guard.OpenSince(Now));
        Assert.Equal(ReadingsGuard.Rules.ClosedPeriod, RuleOf(guard, "pi-entrance", Energy(Now.AddDays(-390), 0)));
        // In January the past year is still open for late readings.
        Assert.Equal(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.FromHours(1)), guard.OpenSince(new DateTimeOffset(2026, 1, 20, 0, 0, 0, TimeSpan.Zero)));
    }

    [Theory]
    [InlineData(51, 0)]
    [InlineData(0, 1e18)]
    [InlineData(1e300, 0)]
    public void A_door_reading_with_more_crossings_than_a_door_passes_is_refused(double entered, double left)
    {
        var reading = Door(DoorMain, Now, 0, 0, 10, 10);
        reading.Values![ReadingKinds.DoorValues.In] = entered;
        reading.Values![ReadingKinds.DoorValues.Out] = left;

        Assert.Equal(ReadingsGuard.Rules.ImplausibleDoor, RuleOf(Guard(), "pi-entrance", reading));
    }

    [Fact]
    public void Door_totals_rise_no_faster_than_a_door_passes_people()
    {
        var guard = Guard();
        Assert.Equal("", RuleOf(guard, "pi-entrance", Door(DoorMain, Now.AddMinutes(-10), 1, 0, 100, 0)));
        // Ten minutes at 5 a second, plus the gap that missing readings may leave.
        Assert.Equal("", RuleOf(guard, "pi-entrance", Door(DoorMain, Now.AddMinutes(-5), 1, 0, 2000, 0)));
        Assert.Equal(ReadingsGuard.Rules.ImplausibleDoor, RuleOf(guard, "pi-entrance", Door(DoorMain, Now, 1, 0, 10_000_000, 0)));
        // A total that goes down is a reset, taken (downstream it starts a new segment).
        Assert.Equal("", RuleOf(guard, "pi-entrance", Door(DoorMain, Now, 1, 0, 3, 0)));
    }

    [Fact]
    public void A_meter_cannot_book_more_energy_than_its_connection_carries()
    {
        var guard = Guard();
        Assert.Equal(ReadingsGuard.Rules.ImplausibleMeter, RuleOf(guard, "pi-entrance", Energy(Now.AddSeconds(-60), 0), Energy(Now, 5_000_000)));
        Assert.Equal("", RuleOf(guard, "pi-entrance", Energy(Now.AddSeconds(-60), 0), Energy(Now, 10_000)));
        Assert.Equal(ReadingsGuard.Rules.ImplausibleMeter, RuleOf(guard, "pi-entrance", Energy(Now, 10_000, powerW: 5e6)));
        Assert.Equal(ReadingsGuard.Rules.ImplausibleMeter, RuleOf(guard, "pi-entrance", Energy(Now, 1e300)));
    }

    [Fact]
    public void Saturating_arithmetic_holds_at_the_ends()
    {
        Assert.Equal(long.MaxValue, Saturating.Add(long.MaxValue, 1));
        Assert.Equal(long.MinValue, Saturating.Add(long.MinValue, -1));
        Assert.Equal(5, Saturating.Add(2, 3));
        Assert.Equal(long.MaxValue, Saturating.Count(1e300));
        Assert.Equal(0, Saturating.Count(double.NaN));
    }

    [Fact]
    public void The_occupancy_engine_saturates_and_never_calls_a_full_room_ok()
    {
        var engine = Engine(new FakeTimeProvider(Now));
        engine.Apply(DoorMain, long.MaxValue, 0, Now);
        engine.Apply(DoorMain, long.MaxValue, 0, Now.AddSeconds(1));
        var snapshot = engine.Snapshot();

        Assert.Equal(long.MaxValue, snapshot.Building);
        Assert.Equal(long.MaxValue, snapshot.Count(Hall));
        Assert.Equal("full", snapshot.Rooms.Single(r => r.Room == Hall).CapacityLevel);
    }
}
