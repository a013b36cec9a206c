using Iot.Device.Sht4x;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Climate;

/// <summary>
/// An SHT40/41/45 (Iot.Device.Bindings): temperature and humidity at high repeatability. The
/// binding returns null for a value whose CRC failed; that is a failed read, never a stale value.
/// </summary>
public sealed class Sht4xReader(
    SensorOptions options,
    II2cBus bus,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Sht4xReader> logger) : PollingSensorReader(options, health, clock)
{
    public override string Kind => ReadingKinds.Climate;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<Sht4xReader>(services, options);

    protected override Poll Open()
    {
        var type = SensorTypes.All[SensorTypes.Sht4x];
        var address = Options.Address ?? type.Addresses[0];
        var sht = new Sht4x(bus.OpenDevice(Options.I2cBus, address));
        logger.LogInformation("SHT4x {Sensor} at 0x{Address:x2} on I2C bus {Bus}, every {Interval}", SensorId, address, Options.I2cBus, type.IntervalOf(Options));
        return new Poll(type.IntervalOf(Options), ts =>
        {
            var (humidity, temperature) = sht.ReadHumidityAndTemperature(Sht4xRepeatability.High);
            if (humidity is not { } h || temperature is not { } t)
            {
                throw new IOException("SHT4x CRC error");
            }

            return ClimateValues.Create(SensorId, ts, celsius: t.DegreesCelsius, humidity: h.Percent);
        }, sht.Dispose);
    }
}
