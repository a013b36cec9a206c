using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.Readers.Climate;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>BME280, SHT4x, SCD4x and DS18B20 readers against their simulated twins.</summary>
public sealed class ClimateReaderTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Theory]
    [InlineData(21.3, 45.0, 1013.2)]
    [InlineData(-5.0, 80.0, 980.0)]
    [InlineData(35.5, 20.0, 1040.0)]
    public async Task Bme280_compensation_brings_back_the_simulated_air(double celsius, double humidity, double hpa)
    {
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x76, new SimulatedBme280(1, 0x76));
        part.SetClimate(celsius, humidity, hpa);
        var options = new SensorOptions { Id = "climate-dc-lab", Type = SensorTypes.Bme280, SampleInterval = TimeSpan.FromSeconds(1) };
        var health = new SensorHealth();
        var reading = await FirstAsync(new Bme280Reader(options, bus, health, TimeProvider.System, NullLogger<Bme280Reader>.Instance));

        Assert.Equal(ReadingKinds.Climate, reading.Kind);
        Assert.InRange(reading.Values![ClimateValues.TemperatureC], celsius - 0.02, celsius + 0.02);
        Assert.InRange(reading.Values[ClimateValues.HumidityPct], humidity - 0.2, humidity + 0.2);
        Assert.InRange(reading.Values[ClimateValues.PressureHpa], hpa - 0.2, hpa + 0.2);
        Assert.Equal(SensorHealth.Ok, health.Get("climate-dc-lab"));
    }

    [Fact]
    public async Task Bme280_refuses_a_part_with_another_chip_id()
    {
        var bus = new SimulatedI2cBus();
        bus.Attach(1, 0x76, new SimulatedSht4x(1, 0x76)); // something else answers at the address
        var options = new SensorOptions { Id = "climate-dc-lab", Type = SensorTypes.Bme280 };
        await Assert.ThrowsAnyAsync<IOException>(() => new Bme280Reader(options, bus, new SensorHealth(), TimeProvider.System, NullLogger<Bme280Reader>.Instance).RunAsync(new RecordingSink(), CancellationToken.None));
    }

    [Fact]
    public async Task Sht4x_readings_follow_the_simulated_air_and_a_crc_error_publishes_nothing()
    {
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x44, new SimulatedSht4x(1, 0x44));
        part.SetClimate(22.4, 51.5);
        var options = new SensorOptions { Id = "climate-entrance", Type = SensorTypes.Sht4x, SampleInterval = TimeSpan.FromSeconds(1) };
        var reading = await FirstAsync(new Sht4xReader(options, bus, new SensorHealth(), TimeProvider.System, NullLogger<Sht4xReader>.Instance));
        Assert.InRange(reading.Values![ClimateValues.TemperatureC], 22.39, 22.41);
        Assert.InRange(reading.Values[ClimateValues.HumidityPct], 51.4, 51.6);
        Assert.Contains((ushort)0xFD, part.Commands);

        part.CorruptCrc = true;
        var sink = new RecordingSink();
        var error = await Assert.ThrowsAnyAsync<IOException>(() => new Sht4xReader(options, bus, new SensorHealth(), TimeProvider.System, NullLogger<Sht4xReader>.Instance).RunAsync(sink, CancellationToken.None));
        Assert.Contains("CRC", error.Message, StringComparison.Ordinal);
        Assert.Empty(sink.Readings);
    }

    [Fact]
    public async Task Scd4x_sets_self_calibration_and_pressure_and_reads_co2_every_period()
    {
        var clock = TestClock.Create();
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x62, new SimulatedScd4x(1, 0x62, clock));
        part.SetAir(1234, 23.5, 48.0);
        var options = new SensorOptions
        {
            Id = "climate-cer", Type = SensorTypes.Scd4x, AutomaticSelfCalibration = false, AmbientPressureHpa = 987, SampleInterval = TimeSpan.FromSeconds(5),
        };
        var health = new SensorHealth();
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => new Scd4xReader(options, bus, health, clock, NullLogger<Scd4xReader>.Instance).RunAsync(sink, stop.Token));

        await Eventually.UntilAsync(() => part.Measuring && part.AmbientPressureHpa == 987, "the periodic measurement has started with the ambient pressure set");
        Assert.False(part.AutomaticSelfCalibration);
        Assert.Equal(987, part.AmbientPressureHpa);
        Assert.Empty(sink.Readings); // nothing before the first 5-second period

        // Move the sensor's clock on until its first 5-second period is over and the reader has
        // fetched the measurement (the reader ticks every real second; no fixed sleep decides).
        var deadline = DateTime.UtcNow + Timeout;
        while (sink.Readings.Count == 0 && DateTime.UtcNow < deadline)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            await Task.Delay(50);
        }

        var reading = (await sink.WaitForAsync(1, Timeout))[0];
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));

        Assert.Equal(1234, reading.Values![ClimateValues.Co2Ppm]);
        Assert.InRange(reading.Values[ClimateValues.TemperatureC], 23.49, 23.51);
        Assert.InRange(reading.Values[ClimateValues.HumidityPct], 47.9, 48.1);
        Assert.False(part.Measuring); // stopped on the way out
        // The ASC command went out with its CRC while idle, before the measurement started.
        Assert.True(part.Commands.IndexOf(Scd4xReader.SetAutomaticSelfCalibration) < part.Commands.IndexOf(0x21B1));
        // Every command waited for the previous one's execution time: nothing was NACKed.
        Assert.Equal(0, part.TooSoon);
        Assert.Equal([Scd4xReader.StopPeriodicMeasurement, Scd4xReader.Reinit, Scd4xReader.SetAutomaticSelfCalibration, Scd4xReader.StartPeriodicMeasurement], part.Commands.Take(4));
    }

    [Fact]
    public void Scd4x_twin_nacks_a_command_that_arrives_before_the_previous_one_has_executed()
    {
        var bus = TestClock.Create();
        var part = new SimulatedScd4x(1, 0x62, bus) { BusClock = bus };
        // reinit takes 30 ms (Sensirion's driver); set-ASC 20 ms after it, as after the 4.2 binding's wait, is refused.
        part.Write([0x36, 0x46]);
        bus.Advance(TimeSpan.FromMilliseconds(20));
        var error = Assert.Throws<IOException>(() => part.Write(AscOff()));
        Assert.Contains("no ACK", error.Message, StringComparison.Ordinal);
        Assert.Contains("0x3646", error.Message, StringComparison.Ordinal);

        bus.Advance(TimeSpan.FromMilliseconds(10));
        part.Write(AscOff());
        // start right after set-ASC, with no 1 ms pause, is refused too.
        Assert.Throws<IOException>(() => part.Write([0x21, 0xB1]));
        bus.Advance(TimeSpan.FromMilliseconds(1));
        part.Write([0x21, 0xB1]);
        Assert.True(part.Measuring);
        Assert.False(part.AutomaticSelfCalibration);
        Assert.Equal(2, part.TooSoon);

        // An answer read before the command's 1 ms is NACKed as well.
        part.Write([0xE4, 0xB8]);
        Assert.Throws<IOException>(() => part.Read(new byte[3]));
        bus.Advance(TimeSpan.FromMilliseconds(1));
        part.Read(new byte[3]);
    }

    private static byte[] AscOff()
    {
        byte[] frame = [0x24, 0x16, 0, 0, 0];
        frame[4] = Scd4xReader.Crc8(frame.AsSpan(2, 2));
        return frame;
    }

    [Fact]
    public void Ds18b20_parses_the_kernel_text_and_refuses_a_crc_error_and_the_power_on_value()
    {
        var thermometer = new SimulatedDs18b20 { Celsius = 19.25 };
        Assert.Equal(19.25, Ds18b20Reader.Parse(thermometer.W1Slave(), "28-0000075a1b2c"));
        thermometer.Celsius = -10.5;
        Assert.Equal(-10.5, Ds18b20Reader.Parse(thermometer.W1Slave(), "28-0000075a1b2c"));

        thermometer.CorruptCrc = true;
        Assert.Contains("CRC", Assert.Throws<IOException>(() => Ds18b20Reader.Parse(thermometer.W1Slave(), "28-0000075a1b2c")).Message, StringComparison.Ordinal);

        thermometer.CorruptCrc = false;
        thermometer.PowerOnReset = true;
        Assert.Contains("85", Assert.Throws<IOException>(() => Ds18b20Reader.Parse(thermometer.W1Slave(), "28-0000075a1b2c")).Message, StringComparison.Ordinal);

        // DQ shorted to ground: nine zero bytes, whose CRC is 0, so the kernel says YES to 0 °C.
        thermometer.PowerOnReset = false;
        thermometer.ShortedLow = true;
        var shorted = thermometer.W1Slave();
        Assert.Contains("YES", shorted, StringComparison.Ordinal);
        Assert.Contains("shorted", Assert.Throws<IOException>(() => Ds18b20Reader.Parse(shorted, "28-0000075a1b2c")).Message, StringComparison.Ordinal);
        Assert.Contains("shorted", Assert.Throws<IOException>(() => Ds18b20Reader.Parse("00 00 00 00 00 00 00 00 00 : crc=00 YES\n00 00 00 00 00 00 00 00 00 t=0\n", "28-0000075a1b2c")).Message, StringComparison.Ordinal);

        // A real w1_slave from a Pi, as the kernel writes it.
        Assert.Equal(23.125, Ds18b20Reader.Parse("72 01 4b 46 7f ff 0e 10 57 : crc=57 YES\n72 01 4b 46 7f ff 0e 10 57 t=23125\n", "28-0000075a1b2c"));
    }

    [Fact]
    public async Task Ds18b20_reads_its_thermometer_on_the_simulated_bus_and_fails_when_it_is_gone()
    {
        var bus = new SimulatedOneWireBus();
        bus.Attach("28-0000075a1b2c", new SimulatedDs18b20 { Celsius = 31.25 });
        var options = new SensorOptions { Id = "temp-dc-lab-battery", Type = SensorTypes.Ds18b20, OneWireId = "28-0000075a1b2c", SampleInterval = TimeSpan.FromSeconds(1) };
        var reading = await FirstAsync(new Ds18b20Reader(options, bus, new SensorHealth(), TimeProvider.System, NullLogger<Ds18b20Reader>.Instance));
        Assert.Equal(31.25, reading.Values![ClimateValues.TemperatureC]);

        bus.Detach("28-0000075a1b2c");
        await Assert.ThrowsAnyAsync<IOException>(() => new Ds18b20Reader(options, bus, new SensorHealth(), TimeProvider.System, NullLogger<Ds18b20Reader>.Instance).RunAsync(new RecordingSink(), CancellationToken.None));
    }

    private static async Task<Reading> FirstAsync(ISensorReader reader)
    {
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => reader.RunAsync(sink, stop.Token));
        var first = (await sink.WaitForAsync(1, Timeout))[0];
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));
        return first;
    }
}
