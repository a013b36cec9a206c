using System.Buffers.Binary;
using System.Device.I2c;
using Iot.Device.Adc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Dc;

/// <summary>
/// A DC-Lab bench measured by an INA219 (Iot.Device.Bindings): bus voltage, current and power,
/// sampled at <see cref="SensorOptions.SampleInterval"/>. The binding sets the part up; the
/// current is read here (see <see cref="ReadSignedCurrent"/>).
/// </summary>
public sealed class Ina219Reader(
    SensorOptions options,
    II2cBus bus,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Ina219Reader> logger) : PollingSensorReader(options, health, clock)
{
    private const byte CurrentRegister = 0x04;

    public override string Kind => ReadingKinds.Dc;

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

    /// <summary>
    /// The current register (0x04) is two's complement, but Iot.Device.Bindings 4.2's
    /// <c>ReadCurrent</c> reads it unsigned: a current of −1 LSB (noise at 0 A) comes back as
    /// 65535 LSB, about +6.4 A with a 3.2 A range. Read it here as a signed word.
    /// </summary>
    public static double ReadSignedCurrent(I2cDevice device, double currentLsb)
    {
        Span<byte> raw = stackalloc byte[2];
        device.WriteByte(CurrentRegister);
        device.Read(raw);
        return BinaryPrimitives.ReadInt16BigEndian(raw) * currentLsb;
    }

    protected override Poll Open()
    {
        var options = Options;
        var address = options.Address ?? throw new ArgumentException($"{SensorId}: Address is missing");
        var device = bus.OpenDevice(options.I2cBus, address);
        var ina = new Ina219(device);
        float currentLsb;
        try
        {
            // A part that is not there fails here with "no ACK", before any reading is made.
            ina.Reset();
            ina.BusVoltageRange = Ina219BusVoltageRange.Range32v;
            ina.PgaSensitivity = Ina219PgaSensitivity.PlusOrMinus320mv;
            (var calibration, currentLsb) = Calibrate(options.ShuntOhms, options.MaxCurrentA);
            ina.SetCalibration(calibration, currentLsb);
        }
        catch
        {
            ina.Dispose();
            device.Dispose();
            throw;
        }

        var interval = SensorTypes.All[SensorTypes.Ina219].IntervalOf(options);
        logger.LogInformation("INA219 {Sensor} at 0x{Address:x2} on I2C bus {Bus}: shunt {Shunt} Ω, up to {Max} A, every {Interval}",
            SensorId, address, options.I2cBus, options.ShuntOhms, options.MaxCurrentA, interval);
        return new Poll(
            interval,
            ts =>
            {
                var volts = UnsignedBusVoltage(ina.ReadBusVoltage().Volts);
                var amps = ReadSignedCurrent(device, currentLsb);
                // The power register holds |I| × V: give it the current's direction.
                var watts = Math.CopySign((double)ina.ReadPower().Watts, amps);
                return DcReadings.Create(SensorId, ts, volts, amps, watts);
            },
            () =>
            {
                ina.Dispose();
                device.Dispose();
            });
    }
}
