using System.Buffers.Binary;
using System.Device.I2c;
using Iot.Device.Scd4x;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Hardware;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Climate;

/// <summary>
/// An SCD40/SCD41: CO2, temperature and humidity from the periodic measurement (one every 5 s).
/// The Iot.Device.Bindings 4.2 <c>Scd4x</c> stops, re-initialises, starts and stops the sensor;
/// automatic self-calibration, the ambient pressure, the data-ready status and the measurement
/// itself go through the sensor's own commands (with their CRCs), because the 4.2 binding has no
/// ASC setting, its <c>SetPressureCalibration</c> clamps the pressure to at most 1 Pa before
/// dividing by 100 (so it always writes 0 hPa), and it has no data-ready check.
/// </summary>
public sealed class Scd4xReader(
    SensorOptions options,
    II2cBus bus,
    SensorHealth health,
    TimeProvider clock,
    ILogger<Scd4xReader> logger) : ISensorReader
{
    public const ushort SetAutomaticSelfCalibration = 0x2416;
    public const ushort SetAmbientPressure = 0xE000;

    /// <summary>The SCD4x's periodic measurement interval.</summary>
    public static readonly TimeSpan MeasurementPeriod = TimeSpan.FromSeconds(5);

    public string SensorId => options.Id;

    public string Kind => ReadingKinds.Climate;

    public static ISensorReader Create(SensorOptions options, IServiceProvider services) =>
        ActivatorUtilities.CreateInstance<Scd4xReader>(services, options);

    public static void Check(SensorOptions sensor, AgentOptions agent, string at, List<string> errors)
    {
        if (sensor.AmbientPressureHpa is { } hpa && !(hpa is >= 700 and <= 1200))
        {
            errors.Add($"{at}:AmbientPressureHpa {hpa} must be between 700 and 1200 hPa (the SCD4x's compensation range)");
        }
    }

    public async Task RunAsync(IReadingSink sink, CancellationToken cancellationToken)
    {
        var type = SensorTypes.All[SensorTypes.Scd4x];
        var address = options.Address ?? type.Addresses[0];
        var interval = type.IntervalOf(options);
        var device = bus.OpenDevice(options.I2cBus, address);
        // The constructor stops any periodic measurement and re-initialises the sensor (about 0.5 s).
        using var scd = new Scd4x(device);
        Command(device, SetAutomaticSelfCalibration, options.AutomaticSelfCalibration ? (ushort)1 : (ushort)0);
        scd.StartPeriodicMeasurements();
        if (options.AmbientPressureHpa is { } hpa)
        {
            Command(device, SetAmbientPressure, (ushort)Math.Round(hpa));
        }

        health.ReportOk(SensorId);
        logger.LogInformation("SCD4x {Sensor} at 0x{Address:x2} on I2C bus {Bus}: self-calibration {Asc}, ambient pressure {Pressure}, every {Interval}",
            SensorId, address, options.I2cBus, options.AutomaticSelfCalibration ? "on" : "off",
            options.AmbientPressureHpa is { } p ? $"{p} hPa" : "default (1013 hPa)", interval);
        try
        {
            var lastReading = clock.GetUtcNow();
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1), clock);
            var nextDue = clock.GetUtcNow() + MeasurementPeriod;
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var now = clock.GetUtcNow();
                if (now < nextDue)
                {
                    continue;
                }

                if (!DataReady(device))
                {
                    if (now - lastReading > (3 * MeasurementPeriod) + interval)
                    {
                        throw new IOException($"SCD4x has had no measurement ready for {(now - lastReading).TotalSeconds:0} s");
                    }

                    continue;
                }

                var (c, t, h) = ReadMeasurement(device);

                lastReading = now;
                nextDue = now + interval - TimeSpan.FromMilliseconds(500);
                var reading = ClimateValues.Create(SensorId, now, celsius: t, humidity: h, co2: c);
                health.ReportOk(SensorId);
                sink.TryAdd(reading);
            }
        }
        finally
        {
            try
            {
                scd.StopPeriodicMeasurements();
            }
            catch (IOException)
            {
                // Unplugged: nothing to stop.
            }
        }
    }

    /// <summary>get_data_ready_status (0xE4B8): the low 11 bits are non-zero when a measurement waits.</summary>
    public static bool DataReady(I2cDevice device)
    {
        device.Write([0xE4, 0xB8]);
        Thread.Sleep(1);
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
        Thread.Sleep(1);
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

    /// <summary>A Sensirion command with one argument word and its CRC-8.</summary>
    public static void Command(I2cDevice device, ushort command, ushort argument)
    {
        Span<byte> frame = stackalloc byte[5];
        BinaryPrimitives.WriteUInt16BigEndian(frame, command);
        BinaryPrimitives.WriteUInt16BigEndian(frame[2..], argument);
        frame[4] = Crc8(frame.Slice(2, 2));
        device.Write(frame);
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
