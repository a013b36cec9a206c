using System.Device.Gpio;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.Readers.Energy;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.State;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>S0 pulses to energy and power at known rates, on a clock the test moves.</summary>
public sealed class S0MeterTests
{
    private static readonly DateTimeOffset T0 = TestClock.Start;
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(20);
    private static readonly TimeSpan PulseWidth = TimeSpan.FromMilliseconds(40);

    /// <summary>Pulses of 40 ms starting at the given offsets.</summary>
    private static void Pulses(S0PulseCounter counter, IEnumerable<TimeSpan> starts)
    {
        foreach (var start in starts)
        {
            counter.OnLevel(active: true, T0 + start);
            counter.OnLevel(active: false, T0 + start + PulseWidth);
        }
    }

    [Theory]
    [InlineData(1000, 3.6, 1000.0)] // 1 Wh every 3.6 s = 1 kW
    [InlineData(1000, 0.36, 10_000.0)]
    [InlineData(10_000, 1.8, 200.0)] // 0.1 Wh every 1.8 s
    [InlineData(500, 72.0, 100.0)] // 2 Wh every 72 s
    public void Power_follows_the_interval_between_pulses_and_energy_the_count(double pulsesPerKwh, double seconds, double watts)
    {
        var counter = new S0PulseCounter(pulsesPerKwh, Debounce, TimeSpan.FromMinutes(5));
        Pulses(counter, Enumerable.Range(0, 11).Select(i => TimeSpan.FromSeconds(i * seconds)));

        Assert.Equal(11, counter.Pulses);
        Assert.Equal(11 * 1000 / pulsesPerKwh, counter.EnergyWhTotal, 9);
        var justAfter = T0 + TimeSpan.FromSeconds(10 * seconds) + TimeSpan.FromMilliseconds(50);
        Assert.InRange(counter.PowerW(justAfter)!.Value, watts * 0.99999, watts * 1.00001);
    }

    [Fact]
    public void Power_is_unknown_until_two_pulses_then_falls_when_pulses_stop_and_is_zero_after_the_timeout()
    {
        var counter = new S0PulseCounter(1000, Debounce, TimeSpan.FromMinutes(5));
        Assert.Null(counter.PowerW(T0));
        Pulses(counter, [TimeSpan.Zero]);
        Assert.Null(counter.PowerW(T0 + TimeSpan.FromSeconds(1))); // one pulse says nothing about power
        Pulses(counter, [TimeSpan.FromSeconds(3.6)]);
        Assert.Equal(1000, counter.PowerW(T0 + TimeSpan.FromSeconds(4))!.Value, 6);

        // No pulse for 36 s after the last: the load is at most 1 Wh / 36 s = 100 W.
        Assert.Equal(100, counter.PowerW(T0 + TimeSpan.FromSeconds(3.6 + 36))!.Value, 6);
        Assert.Equal(0, counter.PowerW(T0 + TimeSpan.FromSeconds(3.6) + TimeSpan.FromMinutes(5)));
        Assert.Equal(2, counter.Pulses);
    }

    [Fact]
    public void Contact_bounce_and_spikes_shorter_than_the_debounce_are_not_pulses()
    {
        var counter = new S0PulseCounter(1000, Debounce, TimeSpan.FromMinutes(5));
        // A 5 ms spike: not a pulse.
        counter.OnLevel(true, T0);
        counter.OnLevel(false, T0 + TimeSpan.FromMilliseconds(5));
        Assert.Equal(0, counter.Pulses);

        // A real pulse that bounces at its start and at its end: one pulse.
        var start = T0 + TimeSpan.FromSeconds(1);
        counter.OnLevel(true, start);
        counter.OnLevel(false, start + TimeSpan.FromMilliseconds(1));
        counter.OnLevel(true, start + TimeSpan.FromMilliseconds(2));
        counter.OnLevel(false, start + TimeSpan.FromMilliseconds(45));
        counter.OnLevel(true, start + TimeSpan.FromMilliseconds(46));
        counter.OnLevel(false, start + TimeSpan.FromMilliseconds(48));
        Assert.Equal(1, counter.Pulses);
    }

    [Fact]
    public async Task The_reader_counts_gpio_edges_from_the_simulated_driver_and_persists_the_total()
    {
        using var temp = new TempDirectory();
        var clock = TestClock.Create();
        var driver = new SimulatedGpioDriver();
        using var gpio = new GpioController(driver);
        var options = new SensorOptions { Id = "meter-grid", Type = SensorTypes.S0Meter, PulsePin = 22, PulsesPerKwh = 1000, SampleInterval = TimeSpan.FromHours(1) };
        long seq;
        using (var state = new AgentStateStore(temp.File("agent.db"), clock))
        {
            state.SetCounter("meter-grid", S0MeterReader.PulsesCounter, 100);
            state.NextSequence();
            var health = new SensorHealth();
            var reader = new S0MeterReader(options, gpio, state, health, clock, NullLogger<S0MeterReader>.Instance);
            using var stop = new CancellationTokenSource();
            var run = Task.Run(() => reader.RunAsync(new RecordingSink(), stop.Token));
            // Ok is reported once the edge callback is registered; edges before that are not seen.
            await Eventually.UntilAsync(() => health.Get("meter-grid") == SensorHealth.Ok, "the meter listens for edges");

            // 3 kW: a pulse every 1.2 s, 40 ms low each (open collector pulls the line low).
            for (var i = 0; i < 6; i++)
            {
                driver.SetInput(22, PinValue.Low);
                clock.Advance(PulseWidth);
                driver.SetInput(22, PinValue.High);
                clock.Advance(TimeSpan.FromSeconds(1.2) - PulseWidth);
            }

            var reading = reader.Snapshot(clock.GetUtcNow());
            Assert.Equal(ReadingKinds.Energy, reading.Kind);
            Assert.Equal(106, reading.Values![ReadingKinds.EnergyValues.EnergyWhTotal]); // 100 Wh before the restart + 6
            Assert.Equal(3000, reading.Values[ReadingKinds.EnergyValues.PowerW], 1);
            seq = (long)state.NextSequence();
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
        }

        using var reopened = new AgentStateStore(temp.File("agent.db"), clock);
        Assert.Equal(106, reopened.GetCounter("meter-grid", S0MeterReader.PulsesCounter));
        Assert.True(seq > 0);
    }

    [Fact]
    public async Task Edges_that_arrive_late_keep_their_kernel_times_and_the_pulse_is_counted()
    {
        using var temp = new TempDirectory();
        var clock = TestClock.Create();
        var driver = new SimulatedGpioDriver();
        using var gpio = new GpioController(driver);
        var options = new SensorOptions { Id = "meter-grid", Type = SensorTypes.S0Meter, PulsePin = 22, PulsesPerKwh = 1000, SampleInterval = TimeSpan.FromHours(1) };
        using var state = new AgentStateStore(temp.File("agent.db"), clock);
        var health = new SensorHealth();
        var reader = new S0MeterReader(options, gpio, state, health, clock, NullLogger<S0MeterReader>.Instance);
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => reader.RunAsync(new RecordingSink(), stop.Token));
        await Eventually.UntilAsync(() => health.Get("meter-grid") == SensorHealth.Ok, "the meter listens for edges");

        // Three 30 ms pulses (the S0 minimum), 1.2 s apart; the event loop is late and delivers
        // each falling and rising edge together, 50 ms after the pulse began.
        for (var i = 0; i < 3; i++)
        {
            var start = clock.GetUtcNow();
            driver.HoldEvents = true;
            driver.SetInput(22, PinValue.Low, start);
            driver.SetInput(22, PinValue.High, start + TimeSpan.FromMilliseconds(30));
            clock.Advance(TimeSpan.FromMilliseconds(50));
            driver.HoldEvents = false;
            Assert.Equal(2, driver.ReleaseEvents());
            clock.Advance(TimeSpan.FromSeconds(1.2) - TimeSpan.FromMilliseconds(50));
        }

        var reading = reader.Snapshot(clock.GetUtcNow());
        Assert.Equal(3, reading.Values![ReadingKinds.EnergyValues.EnergyWhTotal]);
        Assert.Equal(3000, reading.Values[ReadingKinds.EnergyValues.PowerW], 1);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(TimeSpan.FromSeconds(10)));
    }

    [Fact]
    public void Stamped_on_arrival_a_late_pulse_is_lost_which_is_why_edges_carry_their_own_time()
    {
        // The fault the kernel timestamps fix: both edges stamped when they arrive, 0 ms apart.
        var counter = new S0PulseCounter(1000, TimeSpan.FromMilliseconds(20), TimeSpan.FromMinutes(5));
        var arrival = TestClock.Start;
        counter.OnLevel(true, arrival);
        counter.OnLevel(false, arrival);
        Assert.Equal(0, counter.Pulses);

        var edges = new S0PulseCounter(1000, TimeSpan.FromMilliseconds(20), TimeSpan.FromMinutes(5));
        edges.OnLevel(true, arrival - TimeSpan.FromMilliseconds(50));
        edges.OnLevel(false, arrival - TimeSpan.FromMilliseconds(20));
        Assert.Equal(1, edges.Pulses);
    }
}
