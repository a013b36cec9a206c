using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Demo.History;
using NewTechPark.Edge.Simulation.Scenario;

namespace NewTechPark.Edge.Bench;

/// <summary>
/// A simulated year of the default site, one local day at a time, as the readings each device of
/// the site file would have published: door crossings (one reading per crossing, with the door's
/// cumulative totals) for every group of the scenario library's <see cref="SiteCalendar"/>, a badge
/// scan per visitor of a badged group (<see cref="VisitorPool"/>, some returning, pseudonymised as
/// the agent does), the S0 meters every 5 s (<see cref="SolarModel"/>, <see cref="BuildingLoad"/>),
/// climate sensors at the shipped agent's intervals (<see cref="RoomAir"/> with the people in the
/// room), and the DC benches (<see cref="BenchModel"/>) while a group works in the DC-Lab.
/// Deterministic for a seed. Values are rounded to what the parts resolve (whole Wh from the S0
/// pulses, whole ppm, 0.01 °C), so stored values are no less compressible than real ones.
/// The day itself (groups through the doors, badges, climate, meter power) is the demo history's
/// <see cref="SiteDay"/>; what stays here is the bench's own: the shipped agent's rates unfiltered,
/// every DC-Lab group's session with all benches at <c>dcHz</c>, and whole-Wh meter totals.
/// </summary>
public sealed class YearSite
{
    private static readonly TimeSpan MeterInterval = TimeSpan.FromSeconds(5); // the shipped agent's S0 SampleInterval

    /// <summary>The climate sensors' intervals on the shipped agent (or the part's default), by sensor id; an SHT4x elsewhere.</summary>
    private static readonly Dictionary<string, TimeSpan> ClimateIntervals = new(StringComparer.Ordinal)
    {
        ["climate-cer"] = TimeSpan.FromSeconds(5), // SCD4x
        ["climate-technodiscovery"] = TimeSpan.FromSeconds(5), // SCD4x
        ["climate-dc-lab"] = TimeSpan.FromSeconds(30), // BME280
        ["temp-dc-lab-battery"] = TimeSpan.FromSeconds(60), // DS18B20
    };

    private static readonly TimeSpan DefaultClimateInterval = TimeSpan.FromSeconds(10); // SHT4x

    private readonly SiteYear _year;
    private readonly double _dcHz;
    private readonly Dictionary<string, double> _meterWh = new(StringComparer.Ordinal);

    public YearSite(SiteModel site, int seed, double dcHz)
    {
        // A fresh key per run: pseudonyms only need to be stable within the run, and a key in the
        // tree would be one more secret to explain (CommittedSecretsTests).
        _year = new SiteYear(site, seed, Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
        _dcHz = dcHz;
        foreach (var meter in site.Meters)
        {
            _meterWh[meter.Id] = 1_000_000 + (100_000 * _meterWh.Count);
        }
    }

    public TimeZoneInfo TimeZone => _year.TimeZone;

    /// <summary>The devices that own something of the site (each publishes as itself).</summary>
    public IReadOnlyList<string> Devices => _year.Devices;

    /// <summary>Each device's readings of one local day, in time order, only those inside [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public IReadOnlyDictionary<string, List<Reading>> Day(DateOnly date, DateTimeOffset from, DateTimeOffset to)
    {
        var dcSessions = new List<(DateTimeOffset From, DateTimeOffset To)>();
        // Whole days are made and cut at the window, so the first day's door totals count its morning too.
        var day = _year.Day(date, from, to, withGroups: true, teacherChecksIn: false, countOutsideWindow: true, group =>
        {
            if (group.Room == "dc-lab")
            {
                dcSessions.Add((group.Arrive, group.Leave));
            }
        }, (today, sensor, air) =>
        {
            // Every sample of the whole day; the window cuts them.
            var interval = ClimateIntervals.GetValueOrDefault(sensor.Id, DefaultClimateInterval);
            today.Climate(sensor, air, interval, SiteYear.ClimateFields(sensor.Id), today.Start, today.End, reading => today.Add(sensor.Device, reading));
        });

        var benches = _year.Site.Sensors.Where(s => s.Kind == ReadingKinds.Dc).Select((s, i) => (Sensor: s, Model: new BenchModel(i))).ToList();

        // Groups that share the lab share its benches: one reading per bench and instant.
        dcSessions.Sort((a, b) => a.From.CompareTo(b.From));
        var merged = new List<(DateTimeOffset From, DateTimeOffset To)>();
        foreach (var session in dcSessions)
        {
            if (merged.Count > 0 && session.From <= merged[^1].To)
            {
                merged[^1] = (merged[^1].From, session.To > merged[^1].To ? session.To : merged[^1].To);
            }
            else
            {
                merged.Add(session);
            }
        }

        if (_dcHz > 0)
        {
            var step = TimeSpan.FromSeconds(1 / _dcHz);
            foreach (var (sessionFrom, sessionTo) in merged)
            {
                for (var ts = sessionFrom; ts < sessionTo; ts += step)
                {
                    foreach (var (sensor, model) in benches)
                    {
                        day.Add(sensor.Device, SiteDay.BenchReading(sensor.Id, model, ts));
                    }
                }
            }
        }

        foreach (var meter in _year.Site.Meters)
        {
            var wh = _meterWh[meter.Id];
            for (var ts = day.Start; ts < day.End; ts += MeterInterval)
            {
                var watts = day.MeterWatts(meter, _year.Solar, ts, merged.Any(s => ts >= s.From && ts < s.To));
                wh += watts * MeterInterval.TotalHours;
                day.Add(meter.Device, SiteDay.EnergyReading(meter, ts, Math.Round(watts), Math.Floor(wh)));
            }

            _meterWh[meter.Id] = wh;
        }

        day.Sort();
        return day.Readings;
    }
}
