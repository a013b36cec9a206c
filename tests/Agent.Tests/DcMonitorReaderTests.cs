using System.Device.I2c;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.Readers.Dc;
using NewTechPark.Edge.Agent.Readers.Dc.Ina226;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Agent.Tests.Support;
using NewTechPark.Edge.Contracts.Payloads;
using UnitsNet;

namespace NewTechPark.Edge.Agent.Tests;

/// <summary>The INA226 (our binding) and INA236 (Iot.Device.Bindings) readers against their register-map twins.</summary>
public sealed class DcMonitorReaderTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    private static SensorOptions Options(string type, int address, double shunt = 0.01, double max = 8) => new()
    {
        Id = "dc-bench-5",
        Type = type,
        I2cBus = 1,
        Address = address,
        ShuntOhms = shunt,
        MaxCurrentA = max,
        SampleInterval = TimeSpan.FromMilliseconds(10),
    };

    private static ISensorReader Reader(SensorOptions options, SimulatedI2cBus bus, SensorHealth health) => options.Type switch
    {
        SensorTypes.Ina226 => new Ina226Reader(options, bus, health, TimeProvider.System, NullLogger<Ina226Reader>.Instance),
        _ => new Ina236Reader(options, bus, health, TimeProvider.System, NullLogger<Ina236Reader>.Instance),
    };

    [Theory]
    [InlineData(SensorTypes.Ina226, 24.0, 1.5)]
    [InlineData(SensorTypes.Ina226, 36.0, 6.25)] // the INA226 measures buses up to 36 V
    [InlineData(SensorTypes.Ina236, 48.0, 6.25)] // the INA236 up to 48 V
    [InlineData(SensorTypes.Ina236, 24.0, 1.5)]
    [InlineData(SensorTypes.Ina236, 12.0, 4.0)]
    public async Task Bus_voltage_current_and_power_come_through_the_real_code(string type, double volts, double amps)
    {
        var bus = new SimulatedI2cBus();
        var part = bus.Attach(1, 0x41, type == SensorTypes.Ina226 ? SimulatedIna2xx.Ina226(1, 0x41, 0.01) : SimulatedIna2xx.Ina236(1, 0x41, 0.01));
        part.SetLoad(volts, amps);
        var health = new SensorHealth();
        var sink = new RecordingSink();
        using var stop = new CancellationTokenSource();
        var run = Task.Run(() => Reader(Options(type, 0x41), bus, health).RunAsync(sink, stop.Token));

        var readings = await sink.WaitForAsync(3, Timeout);
        await stop.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => run.WaitAsync(Timeout));

        foreach (var reading in readings.Take(3))
        {
            Assert.Equal(ReadingKinds.Dc, reading.Kind);
            Assert.InRange(reading.Values![ReadingKinds.DcValues.VoltageV], volts - 0.005, volts + 0.005);
            Assert.InRange(reading.Values[ReadingKinds.DcValues.CurrentA], amps * 0.995, amps * 1.005);
            Assert.InRange(reading.Values[ReadingKinds.DcValues.PowerW], volts * amps * 0.99, volts * amps * 1.01);
        }

        Assert.NotEqual(0, part.Calibration);
        Assert.Equal(SensorHealth.Ok, health.Get("dc-bench-5"));
    }

    [Fact]
    public void The_ina226_binding_calibrates_per_the_datasheet_and_reads_a_reverse_current_as_negative()
    {
        var part = SimulatedIna2xx.Ina226(1, 0x40, 0.002);
        using var ina = new Ina226(part, ElectricResistance.FromOhms(0.002), ElectricCurrent.FromAmperes(20));

        // Datasheet 7.5 example: 2 mΩ, up to 20 A -> current LSB 610.4 µA, CAL = trunc(0.00512 / (LSB × R)).
        var (calibration, lsb) = Ina226.Calibration(0.002, 20);
        Assert.Equal(4194, calibration);
        Assert.Equal(calibration, part.Calibration);
        Assert.InRange(lsb, 0.000610, 0.000611);

        part.SetLoad(12.0, -3.0);
        Assert.InRange(ina.ReadCurrent().Amperes, -3.01, -2.99);
        Assert.InRange(ina.ReadShuntVoltage().Millivolts, -6.01, -5.99);
        Assert.InRange(ina.ReadBusVoltage().Volts, 11.998, 12.002);

        ina.Averaging = Ina226Averaging.Samples64;
        ina.OperatingMode = Ina226OperatingMode.ShuntAndBusContinuous;
        Assert.Equal(Ina226Averaging.Samples64, ina.Averaging);
        Assert.Equal(Ina226OperatingMode.ShuntAndBusContinuous, ina.OperatingMode);
        Assert.Equal(Ina226ConversionTime.Us1100, ina.BusConversionTime);
    }

    [Fact]
    public void The_ina226_binding_refuses_a_part_that_is_not_an_ina226()
    {
        // An INA236 answers at the address: its ids sit elsewhere, so the INA226 id registers do not answer.
        var bus = new SimulatedI2cBus();
        bus.Attach(1, 0x40, SimulatedIna2xx.Ina236(1, 0x40, 0.01));
        Assert.ThrowsAny<IOException>(() => new Ina226(bus.OpenDevice(1, 0x40), ElectricResistance.FromOhms(0.01), ElectricCurrent.FromAmperes(8)));
    }

    [Theory]
    [InlineData(SensorTypes.Ina226)]
    [InlineData(SensorTypes.Ina236)]
    public async Task A_missing_part_fails_with_no_ack_and_publishes_nothing(string type)
    {
        var bus = new SimulatedI2cBus();
        var sink = new RecordingSink();
        var error = await Assert.ThrowsAnyAsync<IOException>(() => Reader(Options(type, 0x45), bus, new SensorHealth()).RunAsync(sink, CancellationToken.None));
        Assert.Contains("no ACK at 0x45", error.Message, StringComparison.Ordinal);
        Assert.Empty(sink.Readings);
    }

    [Fact]
    public void The_ina236_twin_carries_the_device_id_the_binding_checks()
    {
        I2cDevice part = SimulatedIna2xx.Ina236(1, 0x40, 0.01);
        Span<byte> id = stackalloc byte[2];
        part.WriteRead([0x3F], id);
        Assert.Equal(0xA080, (id[0] << 8) | id[1]);
    }
}
