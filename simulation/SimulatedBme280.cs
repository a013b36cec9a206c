using System.Device.I2c;

namespace NewTechPark.Edge.Simulation;

/// <summary>
/// A BME280 (Bosch datasheet BST-BME280-DS002) as its byte register map: chip id 0x60, the
/// factory calibration words of a real part at 0x88–0xA1 and 0xE1–0xE7, and raw ADC values at
/// 0xF7–0xFE. The simulation sets temperature, humidity and pressure; the raw values are found by
/// inverting the datasheet's compensation formulas, so the reader's (the binding's) compensation
/// must bring them back.
/// </summary>
public sealed class SimulatedBme280 : I2cDevice
{
    public const byte ChipId = 0x60;

    // Calibration of a real BME280 (read from a part on a breakout board).
    private const ushort T1 = 28485;
    private const short T2 = 26735;
    private const short T3 = 50;
    private const ushort P1 = 36738;
    private const short P2 = -10635;
    private const short P3 = 3024;
    private const short P4 = 7008;
    private const short P5 = -112;
    private const short P6 = -7;
    private const short P7 = 9900;
    private const short P8 = -10230;
    private const short P9 = 4285;
    private const byte H1 = 75;
    private const short H2 = 352;
    private const byte H3 = 0;
    private const short H4 = 335;
    private const short H5 = 0;
    private const sbyte H6 = 30;

    private readonly Lock _gate = new();
    private readonly byte[] _registers = new byte[256];
    private byte _pointer;

    public SimulatedBme280(int busId, int address)
    {
        ConnectionSettings = new I2cConnectionSettings(busId, address);
        Reset();
        SetClimate(21.0, 45.0, 1013.25);
    }

    public override I2cConnectionSettings ConnectionSettings { get; }

    /// <summary>Sets the air the sensor is in; the raw registers follow.</summary>
    public void SetClimate(double celsius, double humidityPct, double pressureHpa)
    {
        var adcT = Search(0, (1 << 20) - 1, adc => CompensateTemperature(adc).Celsius, celsius, increasing: true);
        var tFine = CompensateTemperature(adcT).TFine;
        var adcP = Search(0, (1 << 20) - 1, adc => CompensatePressure(adc, tFine) / 100.0, pressureHpa, increasing: false);
        var adcH = Search(0, 65535, adc => CompensateHumidity(adc, tFine), Math.Clamp(humidityPct, 0, 100), increasing: true);
        lock (_gate)
        {
            _registers[0xF7] = (byte)(adcP >> 12);
            _registers[0xF8] = (byte)(adcP >> 4);
            _registers[0xF9] = (byte)((adcP & 0xF) << 4);
            _registers[0xFA] = (byte)(adcT >> 12);
            _registers[0xFB] = (byte)(adcT >> 4);
            _registers[0xFC] = (byte)((adcT & 0xF) << 4);
            _registers[0xFD] = (byte)(adcH >> 8);
            _registers[0xFE] = (byte)adcH;
        }
    }

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        lock (_gate)
        {
            if (buffer.Length == 0)
            {
                return;
            }

            _pointer = buffer[0];
            // Writes come as (register, value) pairs.
            for (var i = 0; i + 1 < buffer.Length; i += 2)
            {
                WriteRegister(buffer[i], buffer[i + 1]);
            }
        }
    }

    public override void Read(Span<byte> buffer)
    {
        lock (_gate)
        {
            for (var i = 0; i < buffer.Length; i++)
            {
                buffer[i] = _registers[(byte)(_pointer + i)];
            }
        }
    }

    public override void WriteRead(ReadOnlySpan<byte> writeBuffer, Span<byte> readBuffer)
    {
        Write(writeBuffer);
        Read(readBuffer);
    }

    /// <summary>Datasheet 4.2.3, double precision: temperature in °C and t_fine.</summary>
    public static (double Celsius, double TFine) CompensateTemperature(int adcT)
    {
        var var1 = ((adcT / 16384.0) - (T1 / 1024.0)) * T2;
        var var2 = ((adcT / 131072.0) - (T1 / 8192.0)) * ((adcT / 131072.0) - (T1 / 8192.0)) * T3;
        var tFine = var1 + var2;
        return (tFine / 5120.0, tFine);
    }

    /// <summary>Datasheet 4.2.3, double precision: pressure in Pa.</summary>
    public static double CompensatePressure(int adcP, double tFine)
    {
        var var1 = (tFine / 2.0) - 64000.0;
        var var2 = var1 * var1 * P6 / 32768.0;
        var2 += var1 * P5 * 2.0;
        var2 = (var2 / 4.0) + (P4 * 65536.0);
        var1 = ((P3 * var1 * var1 / 524288.0) + (P2 * var1)) / 524288.0;
        var1 = (1.0 + (var1 / 32768.0)) * P1;
        if (var1 == 0)
        {
            return 0;
        }

        var p = 1048576.0 - adcP;
        p = (p - (var2 / 4096.0)) * 6250.0 / var1;
        var1 = P9 * p * p / 2147483648.0;
        var2 = p * P8 / 32768.0;
        return p + ((var1 + var2 + P7) / 16.0);
    }

    /// <summary>Datasheet 4.2.3, double precision: relative humidity in %.</summary>
    public static double CompensateHumidity(int adcH, double tFine)
    {
        var h = tFine - 76800.0;
        h = (adcH - ((H4 * 64.0) + (H5 / 16384.0 * h))) * (H2 / 65536.0 * (1.0 + (H6 / 67108864.0 * h * (1.0 + (H3 / 67108864.0 * h)))));
        h *= 1.0 - (H1 * h / 524288.0);
        return Math.Clamp(h, 0, 100);
    }

    private void Reset()
    {
        Array.Clear(_registers);
        _registers[0xD0] = ChipId;
        void U16(int at, int value)
        {
            _registers[at] = (byte)value;
            _registers[at + 1] = (byte)(value >> 8);
        }

        U16(0x88, T1);
        U16(0x8A, T2);
        U16(0x8C, T3);
        U16(0x8E, P1);
        U16(0x90, P2);
        U16(0x92, P3);
        U16(0x94, P4);
        U16(0x96, P5);
        U16(0x98, P6);
        U16(0x9A, P7);
        U16(0x9C, P8);
        U16(0x9E, P9);
        _registers[0xA1] = H1;
        U16(0xE1, H2);
        _registers[0xE3] = H3;
        _registers[0xE4] = (byte)(H4 >> 4);
        _registers[0xE5] = (byte)((H4 & 0x0F) | ((H5 & 0x0F) << 4));
        _registers[0xE6] = (byte)(H5 >> 4);
        _registers[0xE7] = (byte)H6;
    }

    private void WriteRegister(byte register, byte value)
    {
        switch (register)
        {
            case 0xE0 when value == 0xB6:
                var data = _registers.AsSpan(0xF7, 8).ToArray();
                Reset();
                data.CopyTo(_registers.AsSpan(0xF7));
                break;
            case 0xF2 or 0xF4 or 0xF5:
                _registers[register] = value;
                break;
            default:
                // Writes elsewhere are ignored by the part.
                break;
        }
    }

    /// <summary>Finds the raw value whose compensated value is closest to <paramref name="target"/> (monotonic).</summary>
    private static int Search(int low, int high, Func<int, double> compensate, double target, bool increasing)
    {
        while (low < high)
        {
            var mid = low + ((high - low) / 2);
            var value = compensate(mid);
            if (increasing ? value < target : value > target)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }
}
