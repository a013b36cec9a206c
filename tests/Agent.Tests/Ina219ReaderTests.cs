using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.Readers.Dc;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Tests;

public sealed class Ina219ReaderTests
{
    private const string SensorId = "dc-bench-1";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static SensorOptions Options(int address = 0x40) => new()
    {
        Id = SensorId,
        Type = SensorTypes.Ina219,
        I2cBus = 1,
        Address = address,
        ShuntOhms = 0.1,
        MaxCurrentA = 3.2,
        SampleInterval = TimeSpan.FromMilliseconds(10),
    };

    private static Ina219Reader Reader(SimulatedI2cBus bus, SensorHealth health, int address = 0x40) =>
        new(Options(address), bus, health, TimeProvider.System, NullLogger<Ina219Reader>.Instance);

    [Fact]
    public async Task Readings_carry_bus_voltage_current_and_power_through_the_real_binding()
    {
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1));
        part.SetLoad(24.0, 1.5);
        var health = new SensorHealth();
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => Reader(bus, health).RunAsync(sink, stop.Token));

        var readings = await sink.WaitForAsync(3, Timeout);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));

        foreach (var reading in readings.Take(3))
        {
            Assert.Equal(SensorId, reading.Sensor);
            Assert.Equal(ReadingKinds.Dc, reading.Kind);
            Assert.NotNull(reading.Values);
            Assert.Equal(
                [ReadingKinds.DcValues.CurrentA, ReadingKinds.DcValues.PowerW, ReadingKinds.DcValues.VoltageV],
                reading.Values.Keys.Order(StringComparer.Ordinal));
            Assert.InRange(reading.Values[ReadingKinds.DcValues.VoltageV], 23.99, 24.01);
            Assert.InRange(reading.Values[ReadingKinds.DcValues.CurrentA], 1.495, 1.505);
            Assert.InRange(reading.Values[ReadingKinds.DcValues.PowerW], 35.8, 36.2);
        }

        // The reader wrote the calibration the datasheet equations give for 0.1 Ω and 3.2 A.
        Assert.Equal(Ina219Reader.Calibrate(0.1, 3.2).Calibration, part.Calibration);
        Assert.Equal(SensorHealth.Ok, health.Get(SensorId));
    }

    [Fact]
    public async Task A_change_of_load_shows_up_in_the_following_readings()
    {
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1));
        part.SetLoad(12.0, 0.5);
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => Reader(bus, new SensorHealth()).RunAsync(sink, stop.Token));

        var first = (await sink.WaitForAsync(1, Timeout))[0];
        Assert.InRange(first.Values![ReadingKinds.DcValues.VoltageV], 11.99, 12.01);
        Assert.InRange(first.Values[ReadingKinds.DcValues.CurrentA], 0.495, 0.505);

        part.SetLoad(5.0, 2.0);
        var seen = sink.Readings.Count;
        var later = (await sink.WaitForAsync(seen + 2, Timeout))[^1];
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));

        Assert.InRange(later.Values![ReadingKinds.DcValues.VoltageV], 4.99, 5.01);
        Assert.InRange(later.Values[ReadingKinds.DcValues.CurrentA], 1.995, 2.005);
        Assert.InRange(later.Values[ReadingKinds.DcValues.PowerW], 9.9, 10.1);
    }

    [Theory]
    [InlineData(12.0, -0.5)] // charging a battery on the bench: current flows back
    [InlineData(12.0, -0.0001)] // -1 LSB of noise around 0 A (LSB 97.7 µA)
    [InlineData(12.0, 0.0)]
    [InlineData(12.0, 0.0001)]
    public async Task Negative_and_zero_currents_keep_their_sign_and_size(double volts, double amps)
    {
        // Iot.Device.Bindings 4.2 reads the current register unsigned: -1 LSB came back as +6.4 A.
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x40, new SimulatedIna219(1, 0x40, 0.1));
        part.SetLoad(volts, amps);
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => Reader(bus, new SensorHealth()).RunAsync(sink, stop.Token));

        var readings = await sink.WaitForAsync(2, Timeout);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));

        foreach (var reading in readings)
        {
            var current = reading.Values![ReadingKinds.DcValues.CurrentA];
            var power = reading.Values[ReadingKinds.DcValues.PowerW];
            Assert.InRange(current, amps - 0.0002, amps + 0.0002);
            Assert.InRange(power, (volts * amps) - 0.01, (volts * amps) + 0.01);
            Assert.True(power == 0 || Math.Sign(power) == Math.Sign(current), $"power {power} W against current {current} A");
        }
    }

    [Fact]
    public async Task A_missing_part_makes_RunAsync_throw_IOException_with_no_ACK()
    {
        var bus = new SimulatedI2cBus();
        var health = new SensorHealth();
        var sink = new RecordingSink();

        var error = await Assert.ThrowsAsync<IOException>(
            () => Reader(bus, health).RunAsync(sink, CancellationToken.None).WaitAsync(Timeout));

        Assert.Contains("no ACK", error.Message, StringComparison.Ordinal);
        Assert.Contains("0x40", error.Message, StringComparison.Ordinal);
        Assert.Empty(sink.Readings);
        Assert.Equal(SensorHealth.Starting, health.Get(SensorId));
    }

    [Fact]
    public void Calibrate_follows_the_datasheet_equations_for_a_100_milliohm_shunt_and_3_2_A()
    {
        var (calibration, currentLsb) = Ina219Reader.Calibrate(0.1, 3.2);

        // Current_LSB = 3.2 A / 2^15 = 97.65625 µA; Cal = trunc(0.04096 / (97.65625 µA × 0.1 Ω)) = trunc(4194.3).
        Assert.Equal(3.2 / 32768, currentLsb, 1e-10);
        Assert.Equal(4194, calibration);
    }

    [Fact]
    public void Calibrate_gives_the_datasheet_example_4096_for_a_100_microampere_LSB()
    {
        // SBOS448 §8.5.1 rounds the LSB to 100 µA, which is 3.2768 A full scale: Cal = 4096.
        var (calibration, currentLsb) = Ina219Reader.Calibrate(0.1, 3.2768);

        Assert.Equal(0.0001, currentLsb, 1e-9);
        Assert.Equal(4096, calibration);
    }

    [Theory]
    [InlineData(100.0, 100.0)] // calibration 0.13: below 1
    [InlineData(0.001, 0.1)] // calibration 13.4 million: above 0xFFFE
    [InlineData(-0.1, 3.2)] // negative shunt
    [InlineData(0.0, 3.2)] // no shunt: infinite calibration
    public void Calibrate_refuses_combinations_outside_the_calibration_register(double shuntOhms, double maxCurrentA)
    {
        var error = Assert.Throws<ArgumentException>(() => Ina219Reader.Calibrate(shuntOhms, maxCurrentA));
        Assert.Contains("outside 1-65534", error.Message, StringComparison.Ordinal);
    }
}
