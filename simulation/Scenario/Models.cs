namespace NewTechPark.Edge.Simulation.Scenario;

/// <summary>
/// The sun over Apeldoorn (52.21° N, 5.97° E) and the centre's roof PV: elevation from the
/// standard declination and hour-angle formulas, power proportional to the sine of the elevation,
/// times a clearness that changes per day and drifts within it (seeded).
/// </summary>
public sealed class SolarModel(int seed, double peakKw = 60, double latitude = 52.21, double longitude = 5.97)
{
    public double PeakKw { get; } = peakKw;

    /// <summary>Sun elevation in degrees at an instant.</summary>
    public double ElevationDegrees(DateTimeOffset at)
    {
        var utc = at.UtcDateTime;
        var day = utc.DayOfYear;
        var declination = -23.44 * Math.Cos(2 * Math.PI / 365 * (day + 10));
        var solarTime = utc.TimeOfDay.TotalHours + (longitude / 15.0);
        var hourAngle = 15 * (solarTime - 12);
        var rad = Math.PI / 180;
        var sin = (Math.Sin(latitude * rad) * Math.Sin(declination * rad)) + (Math.Cos(latitude * rad) * Math.Cos(declination * rad) * Math.Cos(hourAngle * rad));
        return Math.Asin(Math.Clamp(sin, -1, 1)) / rad;
    }

    /// <summary>PV power in watts at an instant.</summary>
    public double PowerW(DateTimeOffset at)
    {
        var elevation = ElevationDegrees(at);
        if (elevation <= 0)
        {
            return 0;
        }

        var date = DateOnly.FromDateTime(at.UtcDateTime);
        var dayClear = 0.25 + (0.75 * new Random(SiteCalendar.Mix(seed, date.DayNumber, 7)).NextDouble());
        var drift = 0.85 + (0.15 * Math.Sin((at.UtcDateTime.TimeOfDay.TotalMinutes / 23.0) + seed));
        return PeakKw * 1000 * Math.Sin(elevation * Math.PI / 180) * dayClear * drift * 0.95;
    }
}

/// <summary>
/// The building's electricity use: a night base load, more when open, and a little per person
/// (laptops, 3D printers, kettles). The grid meter sees what the sun does not cover.
/// </summary>
public static class BuildingLoad
{
    public static double PowerW(bool open, int people) => (open ? 22_000 : 7_500) + (people * 90);

    /// <summary>Import from the grid: the load minus what the roof makes, never negative (export has its own meter).</summary>
    public static double GridImportW(double loadW, double solarW) => Math.Max(0, loadW - solarW);
}

/// <summary>
/// The air of one room: CO2 from a mass balance (each person breathes out about 0.0052 L/s of CO2,
/// ventilation pulls the room back to 420 ppm outdoor air), temperature and humidity rising a
/// little with the people in it.
/// </summary>
public sealed class RoomAir(double volumeM3, double airChangesPerHour = 2.0)
{
    public const double OutdoorCo2Ppm = 420;

    public double Co2Ppm { get; private set; } = 450;

    public double Celsius { get; private set; } = 20.5;

    public double HumidityPct { get; private set; } = 42;

    public double PressureHpa { get; set; } = 1013.2;

    public void Advance(TimeSpan dt, int people)
    {
        var seconds = Math.Clamp(dt.TotalSeconds, 0, 600);
        var generation = people * 0.0052 / 1000 / volumeM3 * 1e6; // ppm per second
        var ventilation = airChangesPerHour / 3600 * (Co2Ppm - OutdoorCo2Ppm);
        Co2Ppm = Math.Clamp(Co2Ppm + ((generation - ventilation) * seconds), OutdoorCo2Ppm, 5000);
        var targetC = 20.5 + (people * 0.04);
        var targetH = 40 + (people * 0.25);
        var k = 1 - Math.Exp(-seconds / 900);
        Celsius += (targetC - Celsius) * k;
        HumidityPct += (targetH - HumidityPct) * k;
    }
}

/// <summary>
/// A DC-Lab bench: the supply (12, 24 or 48 V) and a load students switch between experiments —
/// an LED panel, a motor starting and running, a battery charging — deterministic in time.
/// </summary>
public sealed class BenchModel(int index)
{
    public double SupplyVolts { get; } = (index % 3) switch { 0 => 24.0, 1 => 12.0, _ => 48.0 };

    public (double Volts, double Amps) At(DateTimeOffset at, bool inUse)
    {
        var t = at.ToUnixTimeMilliseconds() / 1000.0;
        if (!inUse)
        {
            return (SupplyVolts, 0.0);
        }

        var experiment = (long)(t / 600 + index) % 3;
        var amps = experiment switch
        {
            0 => 1.2 + (0.05 * Math.Sin(t * 3)), // LED panel, flicker of the driver
            1 => 0.8 + (1.6 * Math.Exp(-(t % 60) / 2)) + (0.1 * Math.Sin(t * 7)), // motor: inrush, then running
            _ => 2.0 * (1 - ((t % 600) / 900)), // battery charging, current tapering off
        };
        var volts = SupplyVolts - (0.02 * amps * SupplyVolts / 12) - (0.05 * Math.Sin((t / 7) + index));
        return (volts, Math.Max(0, amps));
    }
}

/// <summary>
/// Visitor cards: a pool of card UIDs where a share of the check-ins are returning visitors
/// (cards seen on an earlier day), deterministic for a seed.
/// </summary>
public sealed class VisitorPool(int seed, double returningShare = 0.3)
{
    private readonly Random _random = new(seed ^ 0x5EED);
    private readonly List<byte[]> _known = [];

    public int Known => _known.Count;

    /// <summary>The card of the next visitor: a returning one (by <paramref name="returningShare"/>) or a new one.</summary>
    public byte[] Next()
    {
        if (_known.Count > 0 && _random.NextDouble() < returningShare)
        {
            return _known[_random.Next(_known.Count)];
        }

        var uid = new byte[_random.NextDouble() < 0.8 ? 4 : 7];
        _random.NextBytes(uid);
        if (uid.Length == 4)
        {
            uid[0] = (byte)(uid[0] == 0x88 ? 0x89 : uid[0]); // 0x88 is the cascade tag, never a UID's first byte
        }
        else
        {
            uid[0] = 0x04; // NXP's manufacturer code, as on Ultralight and DESFire cards
        }

        _known.Add(uid);
        return uid;
    }
}
