using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Dc;

/// <summary>The contract's <c>dc</c> reading, made the same way by every current monitor.</summary>
public static class DcReadings
{
    /// <summary>The value fields of a <c>dc</c> reading.</summary>
    public static readonly IReadOnlyList<string> Fields = [ReadingKinds.DcValues.VoltageV, ReadingKinds.DcValues.CurrentA, ReadingKinds.DcValues.PowerW];

    /// <summary>Decimals each field is published with (at or finer than the parts' resolution).</summary>
    public static readonly IReadOnlyDictionary<string, int> Decimals = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        [ReadingKinds.DcValues.VoltageV] = 3,
        [ReadingKinds.DcValues.CurrentA] = 5,
        [ReadingKinds.DcValues.PowerW] = 4,
    };

    public static Reading Create(string sensor, DateTimeOffset ts, double volts, double amps, double watts)
    {
        foreach (var value in new[] { volts, amps, watts })
        {
            if (!double.IsFinite(value))
            {
                throw new IOException($"{sensor}: the current monitor returned a value that is not a number");
            }
        }

        return new Reading
        {
            Ts = ts,
            Sensor = sensor,
            Kind = ReadingKinds.Dc,
            Values = new Dictionary<string, double>(3, StringComparer.Ordinal)
            {
                [ReadingKinds.DcValues.VoltageV] = Math.Round(volts, Decimals[ReadingKinds.DcValues.VoltageV]),
                [ReadingKinds.DcValues.CurrentA] = Math.Round(amps, Decimals[ReadingKinds.DcValues.CurrentA]),
                [ReadingKinds.DcValues.PowerW] = Math.Round(watts, Decimals[ReadingKinds.DcValues.PowerW]),
            },
        };
    }
}
