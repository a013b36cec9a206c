namespace NewTechPark.Edge.Simulation;

/// <summary>
/// An INA219 current and power monitor as a register map (TI datasheet SBOS448): the simulation
/// sets the physical bus voltage and current, and the registers hold what the chip would compute
/// from them with the calibration the reader wrote.
/// </summary>
public sealed class SimulatedIna219(int busId, int address, double shuntOhms) : SimulatedRegisterDevice(busId, address)
{
    /// <summary>Power-on default: 32 V range, ±320 mV, 12-bit ADCs, continuous.</summary>
    public const ushort DefaultConfiguration = 0x399F;

    private const byte ConfigurationRegister = 0x00;
    private const byte ShuntVoltageRegister = 0x01;
    private const byte BusVoltageRegister = 0x02;
    private const byte PowerRegister = 0x03;
    private const byte CurrentRegister = 0x04;
    private const byte CalibrationRegister = 0x05;

    private ushort _configuration = DefaultConfiguration;
    private ushort _calibration;
    private double _busVolts;
    private double _amps;

    /// <summary>Sets what flows through the shunt and the voltage on the bus.</summary>
    public void SetLoad(double busVolts, double amps)
    {
        Volatile.Write(ref _busVolts, busVolts);
        Volatile.Write(ref _amps, amps);
    }

    public ushort Calibration => _calibration;

    protected override ushort ReadRegister(byte register) => register switch
    {
        ConfigurationRegister => _configuration,
        ShuntVoltageRegister => (ushort)ShuntRaw(),
        // Bus voltage: bits 15..3 in 4 mV steps; bit 1 (CNVR) set, a conversion is ready.
        BusVoltageRegister => (ushort)((BusRaw() << 3) | 0b10),
        PowerRegister => _calibration == 0 ? (ushort)0 : (ushort)Math.Clamp(Math.Abs(CurrentRaw()) * BusRaw() / 5000, 0, ushort.MaxValue),
        CurrentRegister => _calibration == 0 ? (ushort)0 : (ushort)(short)Math.Clamp(CurrentRaw(), short.MinValue, short.MaxValue),
        CalibrationRegister => _calibration,
        _ => throw new IOException($"INA219 has no register 0x{register:x2}"),
    };

    protected override void WriteRegister(byte register, ushort value)
    {
        switch (register)
        {
            case ConfigurationRegister when (value & 0x8000) != 0:
                _configuration = DefaultConfiguration;
                _calibration = 0;
                break;
            case ConfigurationRegister:
                _configuration = value;
                break;
            case CalibrationRegister:
                // The lowest bit is not used by the chip.
                _calibration = (ushort)(value & 0xFFFE);
                break;
            default:
                throw new IOException($"INA219 register 0x{register:x2} is read-only");
        }
    }

    /// <summary>Shunt voltage in 10 µV steps, clipped to the ±320 mV range.</summary>
    private short ShuntRaw() =>
        (short)Math.Clamp(Math.Round(Volatile.Read(ref _amps) * shuntOhms / 10e-6), -32000, 32000);

    /// <summary>Bus voltage in 4 mV steps, clipped to 32 V.</summary>
    private long BusRaw() => (long)Math.Clamp(Math.Round(Volatile.Read(ref _busVolts) / 0.004), 0, 8000);

    /// <summary>Current register = shunt voltage register × calibration / 4096 (datasheet eq. 4).</summary>
    private long CurrentRaw() => (long)ShuntRaw() * _calibration / 4096;
}
