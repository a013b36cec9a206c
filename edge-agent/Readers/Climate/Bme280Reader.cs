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
    ILogger<Bme280Reader> logger) : ISensorReader
{
    public string SensorId => options.Id;

    public string Kind => ReadingKinds.Climate;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<Bme280Reader>(services, options);

    public async Task RunAsync(IReadingSink sink, CancellationToken cancellationToken)
    {
        var type = SensorTypes.All[SensorTypes.Bme280];
        var address = options.Address ?? type.Addresses[0];
        using var bme = new Bme280(bus.OpenDevice(options.I2cBus, address));
        bme.TemperatureSampling = Sampling.LowPower;
        bme.PressureSampling = Sampling.Standard;
        bme.HumiditySampling = Sampling.LowPower;
        bme.FilterMode = Bmx280FilteringMode.Off;
        logger.LogInformation("BME280 {Sensor} at 0x{Address:x2} on I2C bus {Bus}, every {Interval}", SensorId, address, options.I2cBus, type.IntervalOf(options));

        using var timer = new PeriodicTimer(type.IntervalOf(options), clock);
        do
        {
            var ts = clock.GetUtcNow();
            var result = bme.Read();
            if (result.Temperature is not { } t || result.Humidity is not { } h || result.Pressure is not { } p)
            {
                throw new IOException("BME280 returned no measurement (skipped or in reset)");
            }

            var reading = ClimateValues.Create(SensorId, ts, celsius: t.DegreesCelsius, humidity: h.Percent, hpa: p.Hectopascals);
            health.ReportOk(SensorId);
            sink.TryAdd(reading);
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }
}
