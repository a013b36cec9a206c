using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers.Badge;
using NewTechPark.Edge.Agent.Readers.Climate;
using NewTechPark.Edge.Agent.Readers.Dc;
using NewTechPark.Edge.Agent.Readers.Door;
using NewTechPark.Edge.Agent.Readers.Energy;
using NewTechPark.Edge.Agent.Readers.TimeOfFlight;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers;

/// <summary>How a sensor is attached to the Pi.</summary>
public enum SensorBus
{
    Gpio,
    I2c,
    Spi,
    OneWire,
}

/// <summary>A GPIO setting of a sensor type (<c>BeamOuterPin</c>…), and whether it must be given.</summary>
public sealed record PinSetting(string Name, Func<SensorOptions, int?> Get, bool Required = true);

/// <summary>What a sensor type needs and how its reader is made: one row of <see cref="SensorTypes.All"/>.</summary>
/// <param name="Name">The <c>Type</c> written in configuration.</param>
/// <param name="Kind">The contract's reading kind it produces.</param>
/// <param name="Bus">How it is attached.</param>
/// <param name="Part">The part, in words, for <c>sensors</c> and error messages.</param>
/// <param name="Create">Makes the reader from its options and the agent's services.</param>
public sealed record SensorType(
    string Name,
    string Kind,
    SensorBus Bus,
    string Part,
    Func<SensorOptions, IServiceProvider, ISensorReader> Create)
{
    /// <summary>GPIO settings the type claims; a pin can be claimed once per agent.</summary>
    public IReadOnlyList<PinSetting> Pins { get; init; } = [];

    /// <summary>I2C addresses the part can have (strapping options); the first is the default.</summary>
    public IReadOnlyList<int> Addresses { get; init; } = [];

    /// <summary>The address must be written (parts with many strapping options, such as the INA2xx).</summary>
    public bool AddressRequired { get; init; }

    /// <summary>A current monitor with a shunt resistor (<c>ShuntOhms</c>, <c>MaxCurrentA</c>).</summary>
    public bool UsesShunt { get; init; }

    public TimeSpan DefaultInterval { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan MinInterval { get; init; } = TimeSpan.FromSeconds(1);

    public TimeSpan MaxInterval { get; init; } = TimeSpan.FromHours(1);

    public TimeSpan DefaultDebounce { get; init; } = TimeSpan.Zero;

    /// <summary>
    /// The value fields of its readings that publish filters may act on; empty for counter kinds
    /// (door crossings, S0 meter totals, badge scans), which are never filtered: a deadband would
    /// hide crossings and a mean of totals means nothing.
    /// </summary>
    public IReadOnlyList<string> FilterFields { get; init; } = [];

    /// <summary>Checks of settings only this type has; messages start with the sensor's path.</summary>
    public Action<SensorOptions, AgentOptions, string, List<string>>? Check { get; init; }

    public bool UsesGpio => Bus == SensorBus.Gpio;

    public bool UsesI2c => Bus == SensorBus.I2c;

    public TimeSpan IntervalOf(SensorOptions options) => options.SampleInterval ?? DefaultInterval;

    public TimeSpan DebounceOf(SensorOptions options) => options.Debounce ?? DefaultDebounce;
}

/// <summary>
/// The table of sensor types the agent knows; configuration names one of these. Adding a part is
/// adding a row (and its reader folder), not touching the validator or the supervisor.
/// </summary>
public static class SensorTypes
{
    public const string DoorBeams = "door-beams";
    public const string S0Meter = "s0-meter";
    public const string Ina219 = "ina219";
    public const string Ina226 = "ina226";
    public const string Ina236 = "ina236";
    public const string Bme280 = "bme280";
    public const string Sht4x = "sht4x";
    public const string Scd4x = "scd4x";
    public const string Ds18b20 = "ds18b20";
    public const string Mfrc522 = "mfrc522";
    public const string Vl53l1xDoor = "vl53l1x-door";

    private static readonly int[] Ina219Addresses = Enumerable.Range(0x40, 16).ToArray();
    private static readonly int[] Ina236Addresses = Enumerable.Range(0x40, 8).ToArray();

    public static IReadOnlyDictionary<string, SensorType> All { get; } = new[]
    {
        new SensorType(DoorBeams, ReadingKinds.Door, SensorBus.Gpio, "two break beams", DoorCounterReader.Create)
        {
            Pins = [new(nameof(SensorOptions.BeamOuterPin), o => o.BeamOuterPin), new(nameof(SensorOptions.BeamInnerPin), o => o.BeamInnerPin)],
            DefaultDebounce = TimeSpan.FromMilliseconds(30),
        },
        new SensorType(S0Meter, ReadingKinds.Energy, SensorBus.Gpio, "S0 pulse output of an energy meter", S0MeterReader.Create)
        {
            Pins = [new(nameof(SensorOptions.PulsePin), o => o.PulsePin)],
            DefaultDebounce = TimeSpan.FromMilliseconds(20),
            DefaultInterval = TimeSpan.FromSeconds(5),
            Check = S0MeterReader.Check,
        },
        new SensorType(Ina219, ReadingKinds.Dc, SensorBus.I2c, "INA219 current monitor", Ina219Reader.Create)
        {
            Addresses = Ina219Addresses, AddressRequired = true, UsesShunt = true, FilterFields = DcReadings.Fields,
            DefaultInterval = TimeSpan.FromSeconds(1), MinInterval = TimeSpan.FromMilliseconds(10), MaxInterval = TimeSpan.FromSeconds(1),
        },
        new SensorType(Ina226, ReadingKinds.Dc, SensorBus.I2c, "INA226 current monitor", Ina226Reader.Create)
        {
            Addresses = Ina219Addresses, AddressRequired = true, UsesShunt = true, FilterFields = DcReadings.Fields,
            DefaultInterval = TimeSpan.FromSeconds(1), MinInterval = TimeSpan.FromMilliseconds(10), MaxInterval = TimeSpan.FromSeconds(1),
        },
        new SensorType(Ina236, ReadingKinds.Dc, SensorBus.I2c, "INA236 current monitor", Ina236Reader.Create)
        {
            Addresses = Ina236Addresses, AddressRequired = true, UsesShunt = true, FilterFields = DcReadings.Fields,
            DefaultInterval = TimeSpan.FromSeconds(1), MinInterval = TimeSpan.FromMilliseconds(10), MaxInterval = TimeSpan.FromSeconds(1),
        },
        new SensorType(Bme280, ReadingKinds.Climate, SensorBus.I2c, "BME280 temperature, humidity and pressure", Bme280Reader.Create)
        {
            Addresses = [0x76, 0x77],
            FilterFields = [ClimateValues.TemperatureC, ClimateValues.HumidityPct, ClimateValues.PressureHpa],
        },
        new SensorType(Sht4x, ReadingKinds.Climate, SensorBus.I2c, "SHT4x temperature and humidity", Sht4xReader.Create)
        {
            Addresses = [0x44, 0x45, 0x46],
            FilterFields = [ClimateValues.TemperatureC, ClimateValues.HumidityPct],
        },
        new SensorType(Scd4x, ReadingKinds.Climate, SensorBus.I2c, "SCD40/SCD41 CO2, temperature and humidity", Scd4xReader.Create)
        {
            Addresses = [0x62], DefaultInterval = TimeSpan.FromSeconds(5), MinInterval = TimeSpan.FromSeconds(5),
            FilterFields = [ClimateValues.Co2Ppm, ClimateValues.TemperatureC, ClimateValues.HumidityPct],
            Check = Scd4xReader.Check,
        },
        new SensorType(Ds18b20, ReadingKinds.Climate, SensorBus.OneWire, "DS18B20 1-Wire thermometer", Ds18b20Reader.Create)
        {
            Check = Ds18b20Reader.Check,
            FilterFields = [ClimateValues.TemperatureC],
        },
        new SensorType(Mfrc522, ReadingKinds.Badge, SensorBus.Spi, "MFRC522 13.56 MHz card reader", Mfrc522BadgeReader.Create)
        {
            Pins = [new(nameof(SensorOptions.ResetPin), o => o.ResetPin, Required: false)],
            Check = Mfrc522BadgeReader.Check,
        },
        new SensorType(Vl53l1xDoor, ReadingKinds.Door, SensorBus.I2c, "VL53L1X time-of-flight sensor above a door", Vl53l1xDoorReader.Create)
        {
            // The address can be changed in software only until the next power-up; the reader keeps 0x29.
            Addresses = [Vl53l1xDoorReader.DefaultAddress],
            DefaultInterval = TimeSpan.FromMilliseconds(33), MinInterval = TimeSpan.FromMilliseconds(20), MaxInterval = TimeSpan.FromMilliseconds(100),
            Check = Vl53l1xDoorReader.Check,
        },
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);
}
