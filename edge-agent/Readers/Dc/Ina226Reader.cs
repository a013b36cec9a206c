using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Payloads;
using UnitsNet;

namespace NewTechPark.Edge.Agent.Readers.Dc;

/// <summary>A DC-Lab bench measured by an INA226 (our binding in <c>Ina226/</c>), sampled at 1-100 Hz.</summary>
public sealed class Ina226Reader(
    SensorOptions options,
    II2cBus bus,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Ina226Reader> logger) : PollingSensorReader(options, health, clock)
{
    public override string Kind => ReadingKinds.Dc;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<Ina226Reader>(services, options);

    protected override Poll Open()
    {
        var options = Options;
        var address = options.Address ?? throw new ArgumentException($"{SensorId}: Address is missing");
        var interval = SensorTypes.All[SensorTypes.Ina226].IntervalOf(options);
        var ina = new Ina226.Ina226(bus.OpenDevice(options.I2cBus, address), ElectricResistance.FromOhms(options.ShuntOhms), ElectricCurrent.FromAmperes(options.MaxCurrentA));
        // Average enough conversions to fill the sample interval (1.1 ms each for bus and shunt): less noise at low rates.
        ina.Averaging = interval.TotalMilliseconds switch
        {
            >= 600 => Ina226.Ina226Averaging.Samples256,
            >= 150 => Ina226.Ina226Averaging.Samples64,
            >= 40 => Ina226.Ina226Averaging.Samples16,
            _ => Ina226.Ina226Averaging.Samples4,
        };
        logger.LogInformation("INA226 {Sensor} at 0x{Address:x2} on I2C bus {Bus}: shunt {Shunt} Ω, up to {Max} A, every {Interval}",
            SensorId, address, options.I2cBus, options.ShuntOhms, options.MaxCurrentA, interval);

        return new Poll(interval, ts => DcReadings.Create(SensorId, ts, ina.ReadBusVoltage().Volts, ina.ReadCurrent().Amperes, (double)ina.ReadPower().Watts), ina.Dispose);
    }
}
