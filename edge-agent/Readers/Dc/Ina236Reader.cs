using Iot.Device.Adc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Payloads;
using UnitsNet;

namespace NewTechPark.Edge.Agent.Readers.Dc;

/// <summary>
/// A DC-Lab bench measured by an INA236 (Iot.Device.Bindings), sampled at 1-100 Hz. The 4.2
/// binding's constructor resets the part, checks its device id (0xA08x) and calibrates it; its
/// bus voltage (unsigned, 1.6 mV), current (signed) and power reads are right. Its shunt-voltage
/// read treats the signed register as unsigned, so it is not used.
/// </summary>
public sealed class Ina236Reader(
    SensorOptions options,
    II2cBus bus,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Ina236Reader> logger) : PollingSensorReader(options, health, clock)
{
    public override string Kind => ReadingKinds.Dc;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<Ina236Reader>(services, options);

    protected override Poll Open()
    {
        var options = Options;
        var address = options.Address ?? throw new ArgumentException($"{SensorId}: Address is missing");
        var interval = SensorTypes.All[SensorTypes.Ina236].IntervalOf(options);
        var device = bus.OpenDevice(options.I2cBus, address);
        Ina236 ina;
        try
        {
            ina = new Ina236(device, ElectricResistance.FromOhms(options.ShuntOhms), ElectricCurrent.FromAmperes(options.MaxCurrentA));
            ina.AverageOverNoSamples = interval.TotalMilliseconds >= 150 ? 64u : 4u;
        }
        catch (InvalidOperationException e)
        {
            // The binding reports a wrong device id this way; to the supervisor it is a bus fault.
            device.Dispose();
            throw new IOException(e.Message, e);
        }
        catch
        {
            device.Dispose();
            throw;
        }

        logger.LogInformation("INA236 {Sensor} at 0x{Address:x2} on I2C bus {Bus}: shunt {Shunt} Ω, up to {Max} A, every {Interval}",
            SensorId, address, options.I2cBus, options.ShuntOhms, options.MaxCurrentA, interval);
        return new Poll(
            interval,
            ts => DcReadings.Create(SensorId, ts, ina.ReadBusVoltage().Volts, ina.ReadCurrent().Amperes, (double)ina.ReadPower().Watts),
            () =>
            {
                ina.Dispose();
                device.Dispose();
            });
    }
}
