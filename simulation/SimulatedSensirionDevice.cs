using System.Device.I2c;

namespace NewTechPark.Edge.Simulation;

/// <summary>
/// Base of simulated Sensirion parts (SHT4x, SCD4x): commands are written, answers are read as
/// 16-bit words each followed by its CRC-8 (polynomial 0x31, initial 0xFF). A read with no answer
/// pending is not acknowledged, as on the real bus.
/// </summary>
public abstract class SimulatedSensirionDevice(int busId, int address) : I2cDevice
{
    private readonly Lock _gate = new();
    private byte[]? _answer;

    public override I2cConnectionSettings ConnectionSettings { get; } = new(busId, address);

    /// <summary>Makes every answer carry a wrong CRC (a noisy bus).</summary>
    public bool CorruptCrc { get; set; }

    /// <summary>Commands received, for tests that check what a reader sent.</summary>
    public List<ushort> Commands { get; } = [];

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            _answer = OnWrite(buffer);
        }
    }

    public override void Read(Span<byte> buffer)
    {
        lock (_gate)
        {
            OnRead();
            if (_answer is null)
            {
                throw new IOException($"no ACK at 0x{ConnectionSettings.DeviceAddress:x2}: no measurement pending");
            }

            _answer.AsSpan(0, Math.Min(buffer.Length, _answer.Length)).CopyTo(buffer);
            _answer = null;
        }
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    /// <summary>Called before an answer is read; throws to NACK the read.</summary>
    protected virtual void OnRead()
    {
    }

    /// <summary>Handles a written frame; returns the words (with CRCs) the next read returns, or null.</summary>
    protected abstract byte[]? OnWrite(ReadOnlySpan<byte> frame);

    protected byte[] Words(params ushort[] words)
    {
        var bytes = new byte[words.Length * 3];
        for (var i = 0; i < words.Length; i++)
        {
            bytes[i * 3] = (byte)(words[i] >> 8);
            bytes[(i * 3) + 1] = (byte)words[i];
            bytes[(i * 3) + 2] = (byte)(Crc8(bytes.AsSpan(i * 3, 2)) ^ (CorruptCrc ? 0xFF : 0));
        }

        return bytes;
    }

    /// <summary>Sensirion CRC-8: polynomial 0x31, initial value 0xFF, no reflection.</summary>
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

/// <summary>
/// An SHT4x humidity and temperature sensor (Sensirion datasheet): single-byte commands, a
/// measurement answers two words, T = -45 + 175·S/65535 and RH = -6 + 125·S/65535.
/// </summary>
public sealed class SimulatedSht4x(int busId, int address) : SimulatedSensirionDevice(busId, address)
{
    private double _celsius = 21;
    private double _humidity = 45;

    public void SetClimate(double celsius, double humidityPct)
    {
        Volatile.Write(ref _celsius, celsius);
        Volatile.Write(ref _humidity, humidityPct);
    }

    protected override byte[]? OnWrite(ReadOnlySpan<byte> frame)
    {
        if (frame.Length == 0)
        {
            return null;
        }

        Commands.Add(frame[0]);
        return frame[0] switch
        {
            // Measure with high, medium or low repeatability; heater variants measure too.
            0xFD or 0xF6 or 0xE0 or 0x39 or 0x32 or 0x2F or 0x24 or 0x1E or 0x15 => Words(
                (ushort)Math.Clamp(Math.Round((Volatile.Read(ref _celsius) + 45) * 65535 / 175), 0, 65535),
                (ushort)Math.Clamp(Math.Round((Volatile.Read(ref _humidity) + 6) * 65535 / 125), 0, 65535)),
            0x89 => Words(0x1234, 0x5678), // serial number
            0x94 => null, // soft reset
            _ => throw new IOException($"SHT4x: unknown command 0x{frame[0]:x2} not acknowledged"),
        };
    }
}

/// <summary>
/// An SCD4x CO2 sensor (Sensirion SCD4x datasheet): 16-bit commands, a periodic measurement every
/// 5 s, data-ready status, automatic self-calibration and ambient-pressure settings. CO2 rises and
/// falls with what the simulation sets; the reading is what the sensor would report. Like the real
/// part it NACKs a command or a read that arrives before the previous command's execution time
/// (datasheet table of commands; reinit 30 ms as in Sensirion's driver) has passed, measured on
/// the real clock, since I2C timing does not follow a simulation's speed.
/// </summary>
public sealed class SimulatedScd4x(int busId, int address, TimeProvider clock) : SimulatedSensirionDevice(busId, address)
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(5);

    private double _co2 = 450;
    private double _celsius = 21;
    private double _humidity = 45;
    private DateTimeOffset? _started;
    private DateTimeOffset _lastRead = DateTimeOffset.MinValue;
    private long _busyUntil;
    private ushort _executing;

    public bool Measuring => _started is not null;

    public bool AutomaticSelfCalibration { get; private set; } = true;

    /// <summary>Ambient pressure the host last set, in hPa (the power-on default is 1013 hPa).</summary>
    public int AmbientPressureHpa { get; private set; } = 1013;

    /// <summary>When true, measurements are always ready (a test or --once does not wait 5 s).</summary>
    public bool AlwaysReady { get; set; }

    public void SetAir(double co2Ppm, double celsius, double humidityPct)
    {
        Volatile.Write(ref _co2, co2Ppm);
        Volatile.Write(ref _celsius, celsius);
        Volatile.Write(ref _humidity, humidityPct);
    }

    protected override byte[]? OnWrite(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 2)
        {
            throw new IOException("SCD4x: commands are two bytes");
        }

        var command = (ushort)((frame[0] << 8) | frame[1]);
        RequireDone(command);
        Commands.Add(command);
        _executing = command;
        _busyUntil = BusClock.GetTimestamp() + (long)(ExecutionMs(command) * BusClock.TimestampFrequency / 1000.0);
        var now = clock.GetUtcNow();
        switch (command)
        {
            case 0x21B1: // start_periodic_measurement
                _started = now;
                return null;
            case 0x3F86: // stop_periodic_measurement
                _started = null;
                return null;
            case 0x3646: // reinit
            case 0x3615: // persist_settings
                RequireIdle(command);
                return null;
            case 0xE4B8: // get_data_ready_status: low 11 bits non-zero when a measurement is ready
                return Words((ushort)(Ready(now) ? 0x8006 : 0x8000));
            case 0xEC05: // read_measurement
                if (!Ready(now))
                {
                    return null;
                }

                _lastRead = now;
                return Words(
                    (ushort)Math.Clamp(Math.Round(Volatile.Read(ref _co2)), 0, 40000),
                    (ushort)Math.Clamp(Math.Round((Volatile.Read(ref _celsius) + 45) * 65535 / 175), 0, 65535),
                    (ushort)Math.Clamp(Math.Round(Volatile.Read(ref _humidity) * 65535 / 100), 0, 65535));
            case 0x2416: // set_automatic_self_calibration_enabled
                RequireIdle(command);
                AutomaticSelfCalibration = Argument(frame) != 0;
                return null;
            case 0x2313: // get_automatic_self_calibration_enabled
                RequireIdle(command);
                return Words((ushort)(AutomaticSelfCalibration ? 1 : 0));
            case 0xE000 when frame.Length >= 5: // set_ambient_pressure, allowed while measuring
                AmbientPressureHpa = Argument(frame);
                return null;
            case 0xE000: // get_ambient_pressure
                return Words((ushort)AmbientPressureHpa);
            default:
                throw new IOException($"SCD4x: unknown command 0x{command:x4} not acknowledged");
        }
    }

    /// <summary>The clock of command execution times: the real one unless a test sets its own.</summary>
    public TimeProvider BusClock { get; set; } = TimeProvider.System;

    /// <summary>Commands NACKed because they came too soon after the previous one.</summary>
    public int TooSoon { get; private set; }

    /// <summary>Datasheet execution time of a command in milliseconds.</summary>
    private static double ExecutionMs(ushort command) => command switch
    {
        0x3F86 => 500, // stop_periodic_measurement
        0x3646 => 30, // reinit
        0x3615 => 800, // persist_settings
        0x21B1 or 0x21AC => 0, // start_periodic_measurement, start_low_power_periodic_measurement
        _ => 1,
    };

    protected override void OnRead() => RequireDone(null);

    private void RequireDone(ushort? command)
    {
        if (BusClock.GetTimestamp() < _busyUntil)
        {
            TooSoon++;
            var what = command is { } c ? $"command 0x{c:x4}" : "read";
            throw new IOException($"no ACK at 0x{ConnectionSettings.DeviceAddress:x2}: {what} while command 0x{_executing:x4} still executes");
        }
    }

    private bool Ready(DateTimeOffset now) =>
        _started is { } started && (AlwaysReady || (now - started >= Period && now - _lastRead >= Period));

    private void RequireIdle(ushort command)
    {
        if (_started is not null)
        {
            throw new IOException($"SCD4x: command 0x{command:x4} is refused during periodic measurement");
        }
    }

    private static ushort Argument(ReadOnlySpan<byte> frame)
    {
        if (frame.Length < 5 || Crc8(frame.Slice(2, 2)) != frame[4])
        {
            throw new IOException("SCD4x: argument CRC mismatch, command not acknowledged");
        }

        return (ushort)((frame[2] << 8) | frame[3]);
    }
}
