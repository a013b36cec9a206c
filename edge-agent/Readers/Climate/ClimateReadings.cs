using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Climate;

/// <summary>Value names of a <c>climate</c> reading (CONTRACT.md: the unit ends the name).</summary>
public static class ClimateValues
{
    public const string TemperatureC = "temperature_c";
    public const string HumidityPct = "humidity_pct";
    public const string PressureHpa = "pressure_hpa";
    public const string Co2Ppm = "co2_ppm";

    /// <summary>Decimals each field is published with (the parts' resolution, roughly).</summary>
    public static readonly IReadOnlyDictionary<string, int> Decimals = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [TemperatureC] = 2,
        [HumidityPct] = 1,
        [PressureHpa] = 1,
        [Co2Ppm] = 0,
    };

    /// <summary>
    /// A climate reading from what the part measured. A value outside the part's physical range
    /// is a fault (a bus glitch that passed the CRC, a part in reset): it throws, so nothing wrong
    /// is published.
    /// </summary>
    public static Reading Create(string sensor, DateTimeOffset ts, double? celsius = null, double? humidity = null, double? hpa = null, double? co2 = null)
    {
        var values = new Dictionary<string, double>(4, StringComparer.Ordinal);
        Add(values, sensor, TemperatureC, celsius, -55, 125);
        Add(values, sensor, HumidityPct, humidity, 0, 100);
        Add(values, sensor, PressureHpa, hpa, 300, 1100);
        Add(values, sensor, Co2Ppm, co2, 0, 40000);
        return new Reading { Ts = ts, Sensor = sensor, Kind = ReadingKinds.Climate, Values = values };
    }

    private static void Add(Dictionary<string, double> values, string sensor, string name, double? value, double min, double max)
    {
        if (value is not { } v)
        {
            return;
        }

        if (!double.IsFinite(v) || v < min || v > max)
        {
            throw new IOException($"{sensor}: {name} {v} is outside the part's range {min}..{max}");
        }

        values[name] = Math.Round(v, Decimals[name]);
    }
}
