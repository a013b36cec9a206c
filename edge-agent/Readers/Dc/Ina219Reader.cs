using Iot.Device.Adc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Dc;

/// <summary>
/// A DC-Lab bench measured by an INA219 (Iot.Device.Bindings): bus voltage, current and power,
/// sampled at <see cref="SensorOptions.SampleInterval"/>.
/// </summary>
public sealed class Ina219Reader(
    SensorOptions options,
    II2cBus bus,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Ina219Reader> logger) : ISensorReader
{
    public string SensorId => options.Id;

    public string Kind => ReadingKinds.Dc;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<Ina219Reader>(services, options);

    /// <summary>
    /// Calibration per the datasheet: current LSB = max current / 2^15, and
    /// calibration = trunc(0.04096 / (current LSB × shunt)).
    /// </summary>
    public static (ushort Calibration, float CurrentLsb) Calibrate(double shuntOhms, double maxCurrentA)
    {
        var currentLsb = maxCurrentA / 32768.0;
        var calibration = Math.Truncate(0.04096 / (currentLsb * shuntOhms));
        if (!(calibration >= 1 && calibration <= 0xFFFE))
        {
            throw new ArgumentException(
                $"a shunt of {shuntOhms} Ω with a maximum of {maxCurrentA} A gives INA219 calibration {calibration}, outside 1-65534");
        }

        return ((ushort)calibration, (float)currentLsb);
    }

    /// <summary>
    /// Iot.Device.Bindings 4.2 reads the (unsigned) bus voltage register as a signed short, so
    /// every voltage above 16.38 V comes back 32.768 V too low, as a negative number. The INA219's
    /// bus voltage is never negative: undo the sign error.
    /// </summary>
    public static double UnsignedBusVoltage(double reportedVolts) =>
        reportedVolts < 0 ? reportedVolts + (8192 * 0.004) : reportedVolts;

    public async Task RunAsync(IReadingSink sink, CancellationToken cancellationToken)
    {
        var address = options.Address ?? throw new ArgumentException($"{SensorId}: Address is missing");
        using var device = bus.OpenDevice(options.I2cBus, address);
        using var ina = new Ina219(device);

        // A part that is not there fails here with "no ACK", before any reading is made.
        ina.Reset();
        ina.BusVoltageRange = Ina219BusVoltageRange.Range32v;
        ina.PgaSensitivity = Ina219PgaSensitivity.PlusOrMinus320mv;
        var (calibration, currentLsb) = Calibrate(options.ShuntOhms, options.MaxCurrentA);
        ina.SetCalibration(calibration, currentLsb);
        var interval = SensorTypes.All[SensorTypes.Ina219].IntervalOf(options);
        logger.LogInformation("INA219 {Sensor} at 0x{Address:x2} on I2C bus {Bus}: shunt {Shunt} Ω, up to {Max} A, every {Interval}",
            SensorId, address, options.I2cBus, options.ShuntOhms, options.MaxCurrentA, interval);

        using var timer = new PeriodicTimer(interval, clock);
        do
        {
            var ts = clock.GetUtcNow();
            var volts = UnsignedBusVoltage(ina.ReadBusVoltage().Volts);
            var amps = ina.ReadCurrent().Amperes;
            var watts = ina.ReadPower().Watts;
            health.ReportOk(SensorId);
            sink.TryAdd(new Reading
            {
                Ts = ts,
                Sensor = SensorId,
                Kind = ReadingKinds.Dc,
                Values = new Dictionary<string, double>(3, StringComparer.Ordinal)
                {
                    [ReadingKinds.DcValues.VoltageV] = Math.Round((double)volts, 3),
                    [ReadingKinds.DcValues.CurrentA] = Math.Round((double)amps, 5),
                    [ReadingKinds.DcValues.PowerW] = Math.Round((double)watts, 4),
                },
            });
        }
        while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
    }
}
