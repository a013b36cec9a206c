using System.Buffers.Binary;
using System.Device.I2c;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Climate;

/// <summary>
/// An SCD40/SCD41: CO2, temperature and humidity from the periodic measurement (one every 5 s).
/// The whole command set is spoken here, each command with its CRC and followed by the execution
/// time the datasheet gives (the sensor NACKs a command that arrives while it still executes the
/// previous one). Iot.Device.Bindings 4.2's <c>Scd4x</c> is not used: its constructor sends
/// reinit and waits only 20 ms where Sensirion's own driver waits 30 ms, it has no ASC setting,
/// its <c>SetPressureCalibration</c> clamps the pressure to at most 1 Pa before dividing by 100
/// (so it always writes 0 hPa), and it has no data-ready check.
/// </summary>
public sealed class Scd4xReader(
    SensorOptions options,
    II2cBus bus,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Scd4xReader> logger) : PollingSensorReader(options, health, clock)
{
    public const ushort StartPeriodicMeasurement = 0x21B1;
    public const ushort StopPeriodicMeasurement = 0x3F86;
    public const ushort Reinit = 0x3646;
    public const ushort SetAutomaticSelfCalibration = 0x2416;
    public const ushort SetAmbientPressure = 0xE000;

    /// <summary>The SCD4x's periodic measurement interval.</summary>
    public static readonly TimeSpan MeasurementPeriod = TimeSpan.FromSeconds(5);

    public override string Kind => ReadingKinds.Climate;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<Scd4xReader>(services, options);

    public static void Check(SensorOptions sensor, AgentOptions agent, string at, List<string> errors)
    {
        if (sensor.AmbientPressureHpa is { } hpa && !(hpa is >= 700 and <= 1200))
        {
            errors.Add($"{at}:AmbientPressureHpa {hpa} must be between 700 and 1200 hPa (the SCD4x's compensation range)");
        }
    }

    /// <summary>
    /// Execution time of a command (SCD4x datasheet, table of commands), after which the sensor
    /// takes the next one; reinit is 30 ms as in Sensirion's embedded driver (the datasheet says 20).
    /// </summary>
    public static TimeSpan ExecutionTime(ushort command) => command switch
    {
        StopPeriodicMeasurement => TimeSpan.FromMilliseconds(500),
        Reinit => TimeSpan.FromMilliseconds(30),
        StartPeriodicMeasurement => TimeSpan.Zero,
        _ => TimeSpan.FromMilliseconds(1),
    };

    protected override Poll Open()
    {
        var type = SensorTypes.All[SensorTypes.Scd4x];
        var address = Options.Address ?? type.Addresses[0];
        var interval = type.IntervalOf(Options);
        var device = bus.OpenDevice(Options.I2cBus, address);
        try
        {
            // A sensor left measuring by an earlier run refuses reinit and settings: stop it first.
            Command(device, StopPeriodicMeasurement);
            Command(device, Reinit);
            Command(device, SetAutomaticSelfCalibration, Options.AutomaticSelfCalibration ? (ushort)1 : (ushort)0);
            Command(device, StartPeriodicMeasurement);
            if (Options.AmbientPressureHpa is { } hpa)
            {
                Command(device, SetAmbientPressure, (ushort)Math.Round(hpa));
            }
        }
        catch
        {
            device.Dispose();
            throw;
        }

        Health.ReportOk(SensorId);
        logger.LogInformation("SCD4x {Sensor} at 0x{Address:x2} on I2C bus {Bus}: self-calibration {Asc}, ambient pressure {Pressure}, every {Interval}",
            SensorId, address, Options.I2cBus, Options.AutomaticSelfCalibration ? "on" : "off",
            Options.AmbientPressureHpa is { } p ? $"{p} hPa" : "default (1013 hPa)", interval);

        var lastReading = Clock.GetUtcNow();
        var nextDue = lastReading + MeasurementPeriod;
        Reading? ReadIfReady(DateTimeOffset now)
        {
            if (now < nextDue)
            {
                return null;
            }

            if (!DataReady(device))
            {
                if (now - lastReading > (3 * MeasurementPeriod) + interval)
                {
                    throw new IOException($"SCD4x has had no measurement ready for {(now - lastReading).TotalSeconds:0} s");
                }

                return null;
            }

            var (c, t, h) = ReadMeasurement(device);
            lastReading = now;
            nextDue = now + interval - TimeSpan.FromMilliseconds(500);
            return ClimateValues.Create(SensorId, now, celsius: t, humidity: h, co2: c);
        }

        void Stop()
        {
            try
            {
                Command(device, StopPeriodicMeasurement);
            }
            catch (IOException)
            {
                // Unplugged: nothing to stop.
            }
            finally
            {
                device.Dispose();
            }
        }

        return new Poll(TimeSpan.FromSeconds(1), ReadIfReady, Stop) { ReadAtStart = false };
    }

    /// <summary>get_data_ready_status (0xE4B8): the low 11 bits are non-zero when a measurement waits.</summary>
    public static bool DataReady(I2cDevice device)
    {
        device.Write([0xE4, 0xB8]);
        Thread.Sleep(ExecutionTime(0xE4B8));
        Span<byte> answer = stackalloc byte[3];
        device.Read(answer);
        if (Crc8(answer[..2]) != answer[2])
        {
            throw new IOException("SCD4x CRC error");
        }

        return (BinaryPrimitives.ReadUInt16BigEndian(answer) & 0x07FF) != 0;
    }

    /// <summary>
    /// read_measurement (0xEC05): CO2 in ppm, temperature −45 + 175·S/65535 °C and humidity
    /// 100·S/65535 %, each word checked against its CRC-8. Read here rather than through the 4.2
    /// binding's <c>ReadPeriodicMeasurement</c>, whose waiting is its own; the reader decides when
    /// a measurement is due from the data-ready status.
    /// </summary>
    public static (double Co2Ppm, double Celsius, double HumidityPct) ReadMeasurement(I2cDevice device)
    {
        device.Write([0xEC, 0x05]);
        Thread.Sleep(ExecutionTime(0xEC05));
        Span<byte> answer = stackalloc byte[9];
        device.Read(answer);
        Span<ushort> words = stackalloc ushort[3];
        for (var i = 0; i < 3; i++)
        {
            var word = answer.Slice(i * 3, 3);
            if (Crc8(word[..2]) != word[2])
            {
                throw new IOException("SCD4x CRC error");
            }

            words[i] = BinaryPrimitives.ReadUInt16BigEndian(word);
        }

        return (words[0], -45 + (175.0 * words[1] / 65535), 100.0 * words[2] / 65535);
    }

    /// <summary>A Sensirion command without argument, then its execution time.</summary>
    public static void Command(I2cDevice device, ushort command)
    {
        Span<byte> frame = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16BigEndian(frame, command);
        device.Write(frame);
        Thread.Sleep(ExecutionTime(command));
    }

    /// <summary>A Sensirion command with one argument word and its CRC-8, then its execution time.</summary>
    public static void Command(I2cDevice device, ushort command, ushort argument)
    {
        Span<byte> frame = stackalloc byte[5];
        BinaryPrimitives.WriteUInt16BigEndian(frame, command);
        BinaryPrimitives.WriteUInt16BigEndian(frame[2..], argument);
        frame[4] = Crc8(frame.Slice(2, 2));
        device.Write(frame);
        Thread.Sleep(ExecutionTime(command));
    }

    /// <summary>Sensirion CRC-8: polynomial 0x31, initial value 0xFF.</summary>
    public static byte Crc8(ReadOnlySpan<byte> data)
    {
        byte crc = 0xFF;
        foreach (var b in data)
        {
            crc ^= b;
            for (var i = 0; i < 8; i++)
            {
                crc = (crc & 0x80) != 0 ? (byte)((crc << 1) ^ 0x31) : (byte)(crc << 1);
            }
        }

        return crc;
    }
}
