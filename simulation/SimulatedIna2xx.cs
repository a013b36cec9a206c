namespace NewTechPark.Edge.Simulation;

/// <summary>
/// An INA226 or INA236 current and power monitor as a register map (TI datasheets SBOS547 and
/// SBOSA52): shunt voltage in 2.5 µV steps, current = shunt × CAL / 2048, power = current × bus /
/// 20000, identification registers. The two differ in the bus-voltage step (1.25 mV and 1.6 mV)
/// and where the ids sit.
/// </summary>
public sealed class SimulatedIna2xx : SimulatedRegisterDevice
{
    private const byte ConfigurationRegister = 0x00;
    private const byte ShuntVoltageRegister = 0x01;
    private const byte BusVoltageRegister = 0x02;
    private const byte PowerRegister = 0x03;
    private const byte CurrentRegister = 0x04;
    private const byte CalibrationRegister = 0x05;
    private const byte MaskEnableRegister = 0x06;
    private const byte AlertLimitRegister = 0x07;

    private readonly double _shuntOhms;
    private readonly double _busLsb;
    private readonly ushort _defaultConfiguration;
    private readonly Dictionary<byte, ushort> _ids;
    private ushort _configuration;
    private ushort _calibration;
    private ushort _maskEnable;
    private ushort _alertLimit;
    private double _busVolts;
    private double _amps;

    private SimulatedIna2xx(int busId, int address, double shuntOhms, double busLsb, ushort defaultConfiguration, Dictionary<byte, ushort> ids)
        : base(busId, address)
    {
        _shuntOhms = shuntOhms;
        _busLsb = busLsb;
        _defaultConfiguration = defaultConfiguration;
        _configuration = defaultConfiguration;
        _ids = ids;
    }

    /// <summary>INA226: bus 1.25 mV/bit, manufacturer id 0x5449 at 0xFE, die id 0x2260 at 0xFF.</summary>
    public static SimulatedIna2xx Ina226(int busId, int address, double shuntOhms) =>
        new(busId, address, shuntOhms, 0.00125, 0x4127, new() { [0xFE] = 0x5449, [0xFF] = 0x2260 });

    /// <summary>INA236: bus 1.6 mV/bit, manufacturer id 0x5449 at 0x3E, device id 0xA080 at 0x3F.</summary>
    public static SimulatedIna2xx Ina236(int busId, int address, double shuntOhms) =>
        new(busId, address, shuntOhms, 0.0016, 0x4127, new() { [0x3E] = 0x5449, [0x3F] = 0xA080 });

    public ushort Calibration => _calibration;

    public ushort Configuration => _configuration;

    /// <summary>Sets what flows through the shunt and the voltage on the bus.</summary>
    public void SetLoad(double busVolts, double amps)
    {
        Volatile.Write(ref _busVolts, busVolts);
        Volatile.Write(ref _amps, amps);
    }

    protected override ushort ReadRegister(byte register) => register switch
    {
        ConfigurationRegister => _configuration,
        ShuntVoltageRegister => (ushort)ShuntRaw(),
        BusVoltageRegister => (ushort)BusRaw(),
        PowerRegister => (ushort)Math.Clamp(Math.Abs(CurrentRaw()) * BusRaw() / 20000, 0, ushort.MaxValue),
        CurrentRegister => (ushort)(short)Math.Clamp(CurrentRaw(), short.MinValue, short.MaxValue),
        CalibrationRegister => _calibration,
        MaskEnableRegister => (ushort)(_maskEnable | 0x0008), // CVRF: a conversion is ready
        AlertLimitRegister => _alertLimit,
        _ when _ids.TryGetValue(register, out var id) => id,
        _ => throw new IOException($"INA2xx has no register 0x{register:x2}"),
    };

    protected override void WriteRegister(byte register, ushort value)
    {
        switch (register)
        {
            case ConfigurationRegister when (value & 0x8000) != 0:
                _configuration = _defaultConfiguration;
                _calibration = 0;
                _maskEnable = 0;
                _alertLimit = 0;
                break;
            case ConfigurationRegister:
                _configuration = value;
                break;
            case CalibrationRegister:
                _calibration = (ushort)(value & 0x7FFF);
                break;
            case MaskEnableRegister:
                _maskEnable = value;
                break;
            case AlertLimitRegister:
                _alertLimit = value;
                break;
            default:
                throw new IOException($"INA2xx register 0x{register:x2} is read-only");
        }
    }

    /// <summary>Shunt voltage in 2.5 µV steps, clipped to ±81.92 mV.</summary>
    private long ShuntRaw() => (long)Math.Clamp(Math.Round(Volatile.Read(ref _amps) * _shuntOhms / 2.5e-6), short.MinValue, short.MaxValue);

    private long BusRaw() => (long)Math.Clamp(Math.Round(Volatile.Read(ref _busVolts) / _busLsb), 0, 0x7FFF);

    private long CurrentRaw() => ShuntRaw() * _calibration / 2048;
}
