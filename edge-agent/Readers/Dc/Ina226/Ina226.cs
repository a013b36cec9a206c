using System.Buffers.Binary;
using System.Device.I2c;
using UnitsNet;

namespace NewTechPark.Edge.Agent.Readers.Dc.Ina226;

/// <summary>
/// INA226 bidirectional current and power monitor with an I2C interface (TI datasheet SBOS547),
/// in the style of the Iot.Device.Bindings bindings, which have none: it takes its
/// <see cref="I2cDevice"/> in the constructor, checks the part's identity and throws a clear
/// <see cref="IOException"/> when it is missing, and returns UnitsNet quantities.
/// </summary>
/// <remarks>
/// Shunt voltage: 2.5 µV per bit, signed, ±81.92 mV. Bus voltage: 1.25 mV per bit, 0-36 V.
/// Calibration: CAL = 0.00512 / (current LSB × R shunt); current = shunt × CAL / 2048; power LSB =
/// 25 × current LSB. Unlike the 4.2 INA219 and INA236 bindings, the shunt voltage and current are
/// read as signed and the bus voltage as unsigned, as the datasheet defines them.
/// </remarks>
public sealed class Ina226 : IDisposable
{
    /// <summary>Address with A0 and A1 to GND; A0/A1 give 0x40-0x4F.</summary>
    public const int DefaultI2cAddress = 0x40;

    public const ushort TexasInstrumentsId = 0x5449;
    public const ushort Ina226DieId = 0x2260;

    private readonly I2cDevice _device;
    private readonly bool _shouldDispose;
    private double _currentLsb;

    /// <summary>Checks that an INA226 answers, resets it and calibrates it for the shunt and the largest current.</summary>
    /// <exception cref="IOException">No part answers, or it is not an INA226.</exception>
    public Ina226(I2cDevice device, ElectricResistance shunt, ElectricCurrent maxCurrent, bool shouldDispose = true)
    {
        _device = device ?? throw new ArgumentNullException(nameof(device));
        _shouldDispose = shouldDispose;
        var manufacturer = ReadRegister(Ina226Register.ManufacturerId);
        var die = ReadRegister(Ina226Register.DieId);
        if (manufacturer != TexasInstrumentsId || (die & 0xFFF0) != Ina226DieId)
        {
            throw new IOException($"the part at 0x{device.ConnectionSettings.DeviceAddress:x2} is not an INA226 (manufacturer 0x{manufacturer:x4}, die 0x{die:x4})");
        }

        Reset();
        Calibrate(shunt, maxCurrent);
    }

    /// <summary>The current that one bit of the current register stands for.</summary>
    public ElectricCurrent CurrentLsb => ElectricCurrent.FromAmperes(_currentLsb);

    /// <summary>The calibration register as written.</summary>
    public ushort CalibrationValue { get; private set; }

    /// <summary>Resets every register to its power-on value (configuration bit 15).</summary>
    public void Reset()
    {
        WriteRegister(Ina226Register.Configuration, 0x8000);
        CalibrationValue = 0;
        _currentLsb = 0;
    }

    /// <summary>
    /// Calibration per datasheet 7.5: current LSB = max current / 2^15, CAL = trunc(0.00512 /
    /// (current LSB × R)); the LSB is then recomputed from CAL so readings are exact.
    /// </summary>
    public void Calibrate(ElectricResistance shunt, ElectricCurrent maxCurrent)
    {
        var ohms = shunt.Ohms;
        var amps = maxCurrent.Amperes;
        if (!(ohms > 0) || !(amps > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(shunt), "shunt and maximum current must be above zero");
        }

        var (calibration, lsb) = Calibration(ohms, amps);
        WriteRegister(Ina226Register.Calibration, calibration);
        CalibrationValue = calibration;
        _currentLsb = lsb;
    }

    /// <summary>The calibration register value and the exact current LSB for a shunt and a maximum current.</summary>
    public static (ushort Calibration, double CurrentLsb) Calibration(double shuntOhms, double maxCurrentA)
    {
        var minimumLsb = maxCurrentA / 32768.0;
        var exact = Math.Truncate(0.00512 / (minimumLsb * shuntOhms));
        if (!(exact >= 1 && exact <= 0x7FFF))
        {
            throw new ArgumentException($"a shunt of {shuntOhms} Ω with a maximum of {maxCurrentA} A gives INA226 calibration {exact}, outside 1-32767");
        }

        var calibration = (ushort)exact;
        return (calibration, 0.00512 / (calibration * shuntOhms));
    }

    public Ina226Averaging Averaging
    {
        get => (Ina226Averaging)((ReadRegister(Ina226Register.Configuration) >> 9) & 0b111);
        set => UpdateConfiguration(0b111 << 9, (ushort)((ushort)value << 9));
    }

    public Ina226ConversionTime BusConversionTime
    {
        get => (Ina226ConversionTime)((ReadRegister(Ina226Register.Configuration) >> 6) & 0b111);
        set => UpdateConfiguration(0b111 << 6, (ushort)((ushort)value << 6));
    }

    public Ina226ConversionTime ShuntConversionTime
    {
        get => (Ina226ConversionTime)((ReadRegister(Ina226Register.Configuration) >> 3) & 0b111);
        set => UpdateConfiguration(0b111 << 3, (ushort)((ushort)value << 3));
    }

    public Ina226OperatingMode OperatingMode
    {
        get => (Ina226OperatingMode)(ReadRegister(Ina226Register.Configuration) & 0b111);
        set => UpdateConfiguration(0b111, (ushort)value);
    }

    /// <summary>Voltage across the shunt (signed, 2.5 µV per bit).</summary>
    public ElectricPotential ReadShuntVoltage() =>
        ElectricPotential.FromMicrovolts((short)ReadRegister(Ina226Register.ShuntVoltage) * 2.5);

    /// <summary>Voltage on the bus (IN- side), unsigned, 1.25 mV per bit.</summary>
    public ElectricPotential ReadBusVoltage() =>
        ElectricPotential.FromMillivolts(ReadRegister(Ina226Register.BusVoltage) * 1.25);

    /// <summary>Current through the shunt (signed); needs a calibration.</summary>
    public ElectricCurrent ReadCurrent() =>
        ElectricCurrent.FromAmperes((short)ReadRegister(Ina226Register.Current) * RequireCalibrated());

    /// <summary>Power on the bus (unsigned, 25 × current LSB per bit); needs a calibration.</summary>
    public Power ReadPower() =>
        Power.FromWatts(ReadRegister(Ina226Register.Power) * 25 * RequireCalibrated());

    /// <summary>True when the last conversion's results are ready (mask/enable CVRF, cleared by this read).</summary>
    public bool ConversionReady() => (ReadRegister(Ina226Register.MaskEnable) & 0x0008) != 0;

    public void Dispose()
    {
        if (_shouldDispose)
        {
            _device.Dispose();
        }
    }

    private double RequireCalibrated() =>
        _currentLsb > 0 ? _currentLsb : throw new InvalidOperationException("the INA226 is not calibrated");

    private void UpdateConfiguration(ushort mask, ushort bits)
    {
        var value = (ushort)((ReadRegister(Ina226Register.Configuration) & ~mask & 0x7FFF) | bits);
        WriteRegister(Ina226Register.Configuration, value);
    }

    private ushort ReadRegister(Ina226Register register)
    {
        Span<byte> buffer = stackalloc byte[2];
        _device.WriteRead([(byte)register], buffer);
        return BinaryPrimitives.ReadUInt16BigEndian(buffer);
    }

    private void WriteRegister(Ina226Register register, ushort value)
    {
        Span<byte> buffer = stackalloc byte[3];
        buffer[0] = (byte)register;
        BinaryPrimitives.WriteUInt16BigEndian(buffer[1..], value);
        _device.Write(buffer);
    }
}
