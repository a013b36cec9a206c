using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.Readers.TimeOfFlight;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>
/// The VL53L1X door counter (Iot.Device.Bindings' <c>Vl53L1X</c> plus zone switching) against its
/// register-map twin: the twin answers the binding's start-up and returns, for each ranging, the
/// distance in the zone whose ROI centre the reader selected; the test says where the person is.
/// </summary>
public sealed class Vl53l1xDoorReaderTests : IDisposable
{
    private const string SensorId = "door-tof-lab";
    private const byte Outer = 167;
    private const byte Inner = 231;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static SensorOptions Options() => new()
    {
        Id = SensorId,
        Type = SensorTypes.Vl53l1xDoor,
        Room = "dc-lab",
        I2cBus = 1,
        SampleInterval = TimeSpan.FromMilliseconds(20),
    };

    private sealed class Running(Task run, CancellationTokenSource stop, AgentStateStore state, SensorHealth health) : IAsyncDisposable
    {
        public SensorHealth Health => health;

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));
            stop.Dispose();

            // The publisher's next sequence number commits the changed counters with it.
            state.NextSequence();
            state.Dispose();
        }
    }

    private Running Start(SimulatedI2cBus bus, RecordingSink sink)
    {
        var state = new AgentStateStore(_dir.File("agent.db"));
        var health = new SensorHealth();
        var reader = new Vl53l1xDoorReader(Options(), bus, state, health, TimeProvider.System, NullLogger<Vl53l1xDoorReader>.Instance);
        var stop = new CancellationTokenSource();
        var run = Task.Run(() => reader.RunAsync(sink, stop.Token));
        return new Running(run, stop, state, health);
    }

    /// <summary>Puts the person where the walk says, then waits until the reader has measured both zones twice.</summary>
    private static async Task StepAsync(SimulatedVl53l1x part, bool outer, bool inner)
    {
        part.SetOccupied(Outer, outer);
        part.SetOccupied(Inner, inner);
        var after = part.Results + 4;
        await Eventually.UntilAsync(() => part.Results >= after, "both zones were measured twice");
    }

    private static Task WalkInAsync(SimulatedVl53l1x part) => WalkAsync(part, (true, false), (true, true), (false, true), (false, false));

    private static Task WalkOutAsync(SimulatedVl53l1x part) => WalkAsync(part, (false, true), (true, true), (true, false), (false, false));

    private static async Task WalkAsync(SimulatedVl53l1x part, params (bool Outer, bool Inner)[] steps)
    {
        foreach (var (outer, inner) in steps)
        {
            await StepAsync(part, outer, inner);
        }
    }

    [Fact]
    public async Task The_reader_alternates_the_two_zones_every_measurement()
    {
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x29, new SimulatedVl53l1x(1));
        var sink = new RecordingSink();
        await using (var running = Start(bus, sink))
        {
            await Eventually.UntilAsync(() => part.Results >= 12, "a dozen results");
            Assert.Equal(SensorHealth.Ok, running.Health.Get(SensorId));
        }

        // Outer, inner, outer, … from the first result on.
        var centres = part.RecentCentres.ToList();
        Assert.True(centres.Count >= 12, $"only {centres.Count} results");
        for (var i = 0; i < centres.Count; i++)
        {
            Assert.Equal(i % 2 == 0 ? Outer : Inner, centres[i]);
        }

        Assert.Empty(sink.Readings);
    }

    [Fact]
    public async Task A_person_walking_in_gives_one_in_and_walking_out_one_out_with_totals()
    {
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x29, new SimulatedVl53l1x(1));
        var sink = new RecordingSink();
        await using (Start(bus, sink))
        {
            await StepAsync(part, false, false);
            await WalkInAsync(part);
            var afterIn = await sink.WaitForAsync(1, Timeout);
            var reading = Assert.Single(afterIn);
            Assert.Equal(ReadingKinds.Door, reading.Kind);
            Assert.Equal(SensorId, reading.Sensor);
            Assert.Equal(1, reading.Values![ReadingKinds.DoorValues.In]);
            Assert.Equal(0, reading.Values[ReadingKinds.DoorValues.Out]);
            Assert.Equal(1, reading.Values[ReadingKinds.DoorValues.InTotal]);
            Assert.Equal(0, reading.Values[ReadingKinds.DoorValues.OutTotal]);

            await WalkOutAsync(part);
            var readings = await sink.WaitForAsync(2, Timeout);
            Assert.Equal(2, readings.Count);
            Assert.Equal(0, readings[1].Values![ReadingKinds.DoorValues.In]);
            Assert.Equal(1, readings[1].Values![ReadingKinds.DoorValues.Out]);
            Assert.Equal(1, readings[1].Values![ReadingKinds.DoorValues.InTotal]);
            Assert.Equal(1, readings[1].Values![ReadingKinds.DoorValues.OutTotal]);
        }
    }

    [Fact]
    public async Task Someone_turning_back_in_the_door_counts_nothing()
    {
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x29, new SimulatedVl53l1x(1));
        var sink = new RecordingSink();
        await using (Start(bus, sink))
        {
            await StepAsync(part, false, false);
            // In under the outer zone, on into both, then back out the way they came.
            await WalkAsync(part, (true, false), (true, true), (true, false), (false, false));
            // And one who only steps under the outer zone and leaves.
            await WalkAsync(part, (true, false), (false, false));
        }

        Assert.Empty(sink.Readings);
    }

    [Fact]
    public async Task Totals_survive_a_restart_of_the_reader()
    {
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x29, new SimulatedVl53l1x(1));
        var first = new RecordingSink();
        await using (Start(bus, first))
        {
            await StepAsync(part, false, false);
            await WalkInAsync(part);
            await WalkInAsync(part);
            await first.WaitForAsync(2, Timeout);
        }

        var second = new RecordingSink();
        await using (Start(bus, second))
        {
            await StepAsync(part, false, false);
            await WalkOutAsync(part);
            var reading = Assert.Single(await second.WaitForAsync(1, Timeout));
            Assert.Equal(2, reading.Values![ReadingKinds.DoorValues.InTotal]);
            Assert.Equal(1, reading.Values[ReadingKinds.DoorValues.OutTotal]);
        }

        using var state = new AgentStateStore(_dir.File("agent.db"));
        Assert.Equal(2, state.GetCounter(SensorId, ReadingKinds.DoorValues.InTotal));
        Assert.Equal(1, state.GetCounter(SensorId, ReadingKinds.DoorValues.OutTotal));
    }

    [Fact]
    public async Task A_missing_part_fails_with_an_IOException_naming_sensor_and_address()
    {
        var bus = new SimulatedI2cBus(); // nothing at 0x29
        using var state = new AgentStateStore(_dir.File("agent.db"));
        var reader = new Vl53l1xDoorReader(Options(), bus, state, new SensorHealth(), TimeProvider.System, NullLogger<Vl53l1xDoorReader>.Instance);

        var error = await Assert.ThrowsAsync<IOException>(() => reader.RunAsync(new RecordingSink(), CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains($"{SensorId}: no VL53L1X answers at 0x29 on I2C bus 1", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_chip_at_the_address_is_refused_by_its_model_id()
    {
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x29, new SimulatedVl53l1x(1));
        // Write the model id register as if another part answered (the twin keeps written bytes).
        part.Write([0x01, 0x0F, 0xEE, 0xAA]);
        using var state = new AgentStateStore(_dir.File("agent.db"));
        var reader = new Vl53l1xDoorReader(Options(), bus, state, new SensorHealth(), TimeProvider.System, NullLogger<Vl53l1xDoorReader>.Instance);

        var error = await Assert.ThrowsAsync<IOException>(() => reader.RunAsync(new RecordingSink(), CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains("is not a VL53L1X (model id 0xeeaa", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(nameof(SensorOptions.SampleInterval), "00:00:00.040", "Agent:Sensors:0 (door-tof-lab):SampleInterval 00:00:00.0400000 is not a VL53L1X timing budget")]
    [InlineData(nameof(SensorOptions.SampleInterval), "00:00:00.200", "Agent:Sensors:0 (door-tof-lab):SampleInterval 00:00:00.2000000 must be between 20 ms (50 Hz) and 100 ms (10 Hz) for vl53l1x-door")]
    [InlineData(nameof(SensorOptions.PresenceBelowMm), "5000", "Agent:Sensors:0 (door-tof-lab):PresenceBelowMm 5000 must be between 100 and 4000")]
    [InlineData(nameof(SensorOptions.RoiWidth), "2", "Agent:Sensors:0 (door-tof-lab):RoiWidth 2 must be between 4 and 16 SPADs")]
    [InlineData(nameof(SensorOptions.RoiHeight), "17", "Agent:Sensors:0 (door-tof-lab):RoiHeight 17 must be between 4 and 16 SPADs")]
    [InlineData(nameof(SensorOptions.OuterRoiCentre), "300", "Agent:Sensors:0 (door-tof-lab):OuterRoiCentre 300 is not a SPAD number (0-255)")]
    [InlineData(nameof(SensorOptions.InnerRoiCentre), "167", "Agent:Sensors:0 (door-tof-lab):InnerRoiCentre 167 is the same as OuterRoiCentre")]
    [InlineData(nameof(SensorOptions.Address), "48", "Agent:Sensors:0 (door-tof-lab):Address 0x30 is not an address a VL53L1X time-of-flight sensor above a door can have (0x29)")]
    public async Task Bad_settings_stop_the_agent_at_start_naming_sensor_and_setting(string setting, string value, string expected)
    {
        using var dir = new TempDirectory();
        var settings = AgentSettings.Base(dir.Path);
        settings["Agent:Sensors:0:Id"] = SensorId;
        settings["Agent:Sensors:0:Type"] = SensorTypes.Vl53l1xDoor;
        settings[$"Agent:Sensors:0:{setting}"] = value;
        using var host = SimulatedAgentHost.Create(settings, new SimulatedHardware());

        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync());

        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_defaults_are_valid()
    {
        var options = new AgentOptions { Device = "pi-door", Sensors = [new() { Id = SensorId, Type = SensorTypes.Vl53l1xDoor }] };

        var result = new AgentOptionsValidator().Validate(null, options);

        Assert.True(result.Succeeded, result.FailureMessage);
    }
}
