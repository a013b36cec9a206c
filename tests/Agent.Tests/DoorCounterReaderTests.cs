using System.Device.Gpio;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.Readers.Door;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Tests;

public sealed class DoorCounterReaderTests : IDisposable
{
    private const int OuterPin = 17;
    private const int InnerPin = 27;
    private const string SensorId = "door-dc-lab";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private readonly TempDirectory _dir = new();
    private readonly SimulatedGpioDriver _driver = new();
    private readonly FakeTimeProvider _clock = TestClock.Create();

    public void Dispose() => _dir.Dispose();

    private string DbPath => _dir.File("agent.db");

    private static SensorOptions Options(TimeSpan debounce, SignalLevel brokenLevel = SignalLevel.Low) => new()
    {
        Id = SensorId,
        Type = SensorTypes.DoorBeams,
        BeamOuterPin = OuterPin,
        BeamInnerPin = InnerPin,
        BrokenLevel = brokenLevel,
        Debounce = debounce,
    };

    /// <summary>A reader running on its own task, and how to stop it.</summary>
    private sealed class Running(DoorCounterReader reader, Task run, CancellationTokenSource stop, SensorHealth health) : IAsyncDisposable
    {
        public DoorCounterReader Reader => reader;

        public SensorHealth Health => health;

        public async Task StopAsync()
        {
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));
        }

        public async ValueTask DisposeAsync()
        {
            if (!run.IsCompleted)
            {
                await StopAsync();
            }

            reader.Dispose();
            stop.Dispose();
        }
    }

    private async Task<Running> StartAsync(SensorOptions options, AgentStateStore state, RecordingSink sink, TimeProvider clock, GpioController gpio)
    {
        var health = new SensorHealth();
        var reader = new DoorCounterReader(options, gpio, state, health, clock, NullLogger<DoorCounterReader>.Instance);
        var stop = new CancellationTokenSource();
        var run = Task.Run(() => reader.RunAsync(sink, stop.Token));
        // The reader reports ok once its edge callbacks are registered.
        await Eventually.UntilAsync(() => health.Get(SensorId) == SensorHealth.Ok || run.IsCompleted, "the door reader listens");
        if (run.IsFaulted)
        {
            await run; // surfaces the reader's exception
        }

        return new Running(reader, run, stop, health);
    }

    /// <summary>Beam receivers pull the line low when broken (BrokenLevel Low): High = intact.</summary>
    private void Beam(int pin, bool broken) => _driver.SetInput(pin, broken ? PinValue.Low : PinValue.High);

    /// <summary>One person walking in, with the manual clock moving 100 ms between beam changes.</summary>
    private DateTimeOffset WalkIn()
    {
        Beam(OuterPin, true);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Beam(InnerPin, true);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        var through = _clock.GetUtcNow();
        Beam(OuterPin, false);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Beam(InnerPin, false);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        return through;
    }

    private void WalkOut()
    {
        Beam(InnerPin, true);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Beam(OuterPin, true);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Beam(InnerPin, false);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Beam(OuterPin, false);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
    }

    private static void AssertDoorReading(Reading reading, int @in, int @out, long inTotal, long outTotal)
    {
        Assert.Equal(SensorId, reading.Sensor);
        Assert.Equal(ReadingKinds.Door, reading.Kind);
        Assert.NotNull(reading.Values);
        Assert.Equal(
            new Dictionary<string, double>
            {
                [ReadingKinds.DoorValues.In] = @in,
                [ReadingKinds.DoorValues.Out] = @out,
                [ReadingKinds.DoorValues.InTotal] = inTotal,
                [ReadingKinds.DoorValues.OutTotal] = outTotal,
            },
            reading.Values);
    }

    [Fact]
    public async Task A_crossing_in_produces_a_door_reading_with_the_totals_and_the_time_of_the_crossing()
    {
        Beam(OuterPin, false);
        Beam(InnerPin, false);
        using var state = new AgentStateStore(DbPath);
        var sink = new RecordingSink();
        using var gpio = new GpioController(_driver);
        await using var running = await StartAsync(Options(TimeSpan.Zero), state, sink, _clock, gpio);

        var through = WalkIn();

        var reading = Assert.Single(sink.Readings);
        AssertDoorReading(reading, @in: 1, @out: 0, inTotal: 1, outTotal: 0);
        Assert.Equal(through, reading.Ts);
        Assert.Equal(1, state.GetCounter(SensorId, ReadingKinds.DoorValues.InTotal));
    }

    [Fact]
    public async Task Totals_keep_counting_over_crossings_in_both_directions()
    {
        Beam(OuterPin, false);
        Beam(InnerPin, false);
        using var state = new AgentStateStore(DbPath);
        var sink = new RecordingSink();
        using var gpio = new GpioController(_driver);
        await using var running = await StartAsync(Options(TimeSpan.Zero), state, sink, _clock, gpio);

        WalkIn();
        WalkIn();
        WalkOut();
        WalkIn();

        var readings = sink.Readings;
        Assert.Equal(4, readings.Count);
        AssertDoorReading(readings[0], 1, 0, inTotal: 1, outTotal: 0);
        AssertDoorReading(readings[1], 1, 0, inTotal: 2, outTotal: 0);
        AssertDoorReading(readings[2], 0, 1, inTotal: 2, outTotal: 1);
        AssertDoorReading(readings[3], 1, 0, inTotal: 3, outTotal: 1);
        Assert.True(readings.Zip(readings.Skip(1)).All(p => p.First.Ts < p.Second.Ts));
    }

    [Fact]
    public async Task Someone_already_in_the_outer_beam_at_start_is_counted_when_walking_through()
    {
        Beam(OuterPin, true);
        Beam(InnerPin, false);
        using var state = new AgentStateStore(DbPath);
        var sink = new RecordingSink();
        using var gpio = new GpioController(_driver);
        await using var running = await StartAsync(Options(TimeSpan.Zero), state, sink, _clock, gpio);

        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Beam(InnerPin, true);
        _clock.Advance(TimeSpan.FromMilliseconds(100));
        Beam(OuterPin, false);
        Beam(InnerPin, false);

        AssertDoorReading(Assert.Single(sink.Readings), 1, 0, inTotal: 1, outTotal: 0);
    }

    [Fact]
    public async Task Beams_that_drive_the_line_high_when_broken_count_the_same_way()
    {
        // BrokenLevel High: intact is Low, broken is High (the reader uses pull-downs).
        _driver.SetInput(OuterPin, PinValue.Low);
        _driver.SetInput(InnerPin, PinValue.Low);
        using var state = new AgentStateStore(DbPath);
        var sink = new RecordingSink();
        using var gpio = new GpioController(_driver);
        await using var running = await StartAsync(Options(TimeSpan.Zero, SignalLevel.High), state, sink, _clock, gpio);

        Assert.Equal(PinMode.InputPullDown, gpio.GetPinMode(OuterPin));
        _driver.SetInput(InnerPin, PinValue.High);
        _driver.SetInput(OuterPin, PinValue.High);
        _driver.SetInput(InnerPin, PinValue.Low);
        _driver.SetInput(OuterPin, PinValue.Low);

        AssertDoorReading(Assert.Single(sink.Readings), 0, 1, inTotal: 0, outTotal: 1);
    }

    [Fact]
    public async Task Pins_are_closed_and_callbacks_gone_after_cancellation()
    {
        Beam(OuterPin, false);
        Beam(InnerPin, false);
        using var state = new AgentStateStore(DbPath);
        var sink = new RecordingSink();
        using var gpio = new GpioController(_driver);
        await using var running = await StartAsync(Options(TimeSpan.Zero), state, sink, _clock, gpio);
        Assert.True(_driver.IsOpen(OuterPin));
        Assert.True(_driver.IsOpen(InnerPin));

        await running.StopAsync();

        Assert.False(_driver.IsOpen(OuterPin));
        Assert.False(_driver.IsOpen(InnerPin));
        var delivered = _driver.EdgesDelivered;
        WalkIn();
        Assert.Equal(delivered, _driver.EdgesDelivered);
        Assert.Empty(sink.Readings);
    }

    [Fact]
    public async Task A_new_reader_on_a_reopened_state_store_continues_from_the_persisted_totals()
    {
        Beam(OuterPin, false);
        Beam(InnerPin, false);
        using (var state = new AgentStateStore(DbPath))
        {
            var sink = new RecordingSink();
            using var gpio = new GpioController(_driver);
            await using (var running = await StartAsync(Options(TimeSpan.Zero), state, sink, _clock, gpio))
            {
                WalkIn();
                WalkIn();
                WalkOut();
                await running.StopAsync();
            }

            // The publisher takes the next sequence number for the batch carrying these
            // readings; that commit writes the counters.
            state.NextSequence();
        }

        using (var state = new AgentStateStore(DbPath))
        {
            Assert.Equal(2, state.GetCounter(SensorId, ReadingKinds.DoorValues.InTotal));
            Assert.Equal(1, state.GetCounter(SensorId, ReadingKinds.DoorValues.OutTotal));

            var sink = new RecordingSink();
            using var gpio = new GpioController(_driver);
            await using var running = await StartAsync(Options(TimeSpan.Zero), state, sink, _clock, gpio);
            WalkIn();
            WalkOut();

            var readings = sink.Readings;
            Assert.Equal(2, readings.Count);
            AssertDoorReading(readings[0], 1, 0, inTotal: 3, outTotal: 1);
            AssertDoorReading(readings[1], 0, 1, inTotal: 3, outTotal: 2);
        }
    }

    [Fact]
    public async Task With_a_debounce_the_crossing_is_committed_by_the_reader_timer_without_a_further_edge()
    {
        // Real clock: the reader's debounce timer must fire by itself. The waits between beam
        // changes only need to be longer than the debounce; the assertion waits on the sink.
        var debounce = TimeSpan.FromMilliseconds(5);
        var gap = TimeSpan.FromMilliseconds(25);
        Beam(OuterPin, false);
        Beam(InnerPin, false);
        using var state = new AgentStateStore(DbPath);
        var sink = new RecordingSink();
        using var gpio = new GpioController(_driver);
        await using var running = await StartAsync(Options(debounce), state, sink, TimeProvider.System, gpio);

        // A bounce shorter than the debounce on the outer beam first: ignored.
        Beam(OuterPin, true);
        Beam(OuterPin, false);
        await Task.Delay(gap);

        Beam(OuterPin, true);
        await Task.Delay(gap);
        Beam(InnerPin, true);
        await Task.Delay(gap);
        var beforeClear = DateTimeOffset.UtcNow;
        Beam(OuterPin, false);
        // Inner beam stays broken: only the debounce timer can commit the outer beam's change.
        var readings = await sink.WaitForAsync(1, Timeout);

        var reading = Assert.Single(readings);
        AssertDoorReading(reading, 1, 0, inTotal: 1, outTotal: 0);
        Assert.True(reading.Ts >= beforeClear, "the reading carries the time of the beam change");
        Beam(InnerPin, false);
    }
}
