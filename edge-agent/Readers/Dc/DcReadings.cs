using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Agent.Readers.Dc;

/// <summary>The contract's <c>dc</c> reading, made the same way by every current monitor.</summary>
public static class DcReadings
{
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
                [ReadingKinds.DcValues.VoltageV] = Math.Round(volts, 3),
                [ReadingKinds.DcValues.CurrentA] = Math.Round(amps, 5),
                [ReadingKinds.DcValues.PowerW] = Math.Round(watts, 4),
            },
        };
    }
}
