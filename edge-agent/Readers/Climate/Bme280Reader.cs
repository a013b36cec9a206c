using Iot.Device.Bmxx80;
using Iot.Device.Bmxx80.FilteringMode;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Climate;

/// <summary>
/// A BME280 (Iot.Device.Bindings): temperature, humidity and pressure, in forced mode (one
/// measurement per sample, as Bosch recommends for indoor climate: no self-heating). The binding
/// checks the chip id and reads the factory calibration; the compensation is the datasheet's.
/// </summary>
public sealed class Bme280Reader(
    SensorOptions options,
    II2cBus bus,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Bme280Reader> logger) : PollingSensorReader(options, health, clock)
{
    public override string Kind => ReadingKinds.Climate;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<Bme280Reader>(services, options);

    protected override Poll Open()
    {
        var type = SensorTypes.All[SensorTypes.Bme280];
        var address = Options.Address ?? type.Addresses[0];
        var bme = new Bme280(bus.OpenDevice(Options.I2cBus, address));
        try
        {
            bme.TemperatureSampling = Sampling.LowPower;
            bme.PressureSampling = Sampling.Standard;
            bme.HumiditySampling = Sampling.LowPower;
            bme.FilterMode = Bmx280FilteringMode.Off;
        }
        catch
        {
            bme.Dispose();
            throw;
        }

        logger.LogInformation("BME280 {Sensor} at 0x{Address:x2} on I2C bus {Bus}, every {Interval}", SensorId, address, Options.I2cBus, type.IntervalOf(Options));
        return new Poll(type.IntervalOf(Options), ts =>
        {
            var result = bme.Read();
            if (result.Temperature is not { } t || result.Humidity is not { } h || result.Pressure is not { } p)
            {
                throw new IOException("BME280 returned no measurement (skipped or in reset)");
            }

            return ClimateValues.Create(SensorId, ts, celsius: t.DegreesCelsius, humidity: h.Percent, hpa: p.Hectopascals);
        }, bme.Dispose);
    }
}
