using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers.Dc;
using NewTechPark.Edge.Agent.Readers.Door;

namespace NewTechPark.Edge.Agent.Readers;

/// <summary>What a sensor type needs and how its reader is made.</summary>
/// <param name="Name">The <c>Type</c> written in configuration.</param>
/// <param name="UsesGpio">Wired to GPIO pins.</param>
/// <param name="UsesI2c">Sits on an I2C bus at an address.</param>
/// <param name="UsesShunt">A current monitor with a shunt resistor.</param>
/// <param name="Create">Makes the reader from its options and the agent's services.</param>
public sealed record SensorType(
    string Name,
    bool UsesGpio,
    bool UsesI2c,
    bool UsesShunt,
    Func<SensorOptions, IServiceProvider, ISensorReader> Create);

/// <summary>The table of sensor types the agent knows; configuration names one of these.</summary>
public static class SensorTypes
{
    public const string DoorBeams = "door-beams";
    public const string Ina219 = "ina219";

    public static IReadOnlyDictionary<string, SensorType> All { get; } = new Dictionary<string, SensorType>(StringComparer.Ordinal)
    {
        [DoorBeams] = new(DoorBeams, UsesGpio: true, UsesI2c: false, UsesShunt: false, DoorCounterReader.Create),
        [Ina219] = new(Ina219, UsesGpio: false, UsesI2c: true, UsesShunt: true, Ina219Reader.Create),
    };
}
