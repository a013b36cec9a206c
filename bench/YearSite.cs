using NewTechPark.Edge.Agent.Readers.Badge;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Payloads;
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
/// </summary>
public sealed class YearSite
{
    private const string Hall = "ontmoetingsplek";
    private static readonly TimeSpan MeterInterval = TimeSpan.FromSeconds(5); // the shipped agent's S0 SampleInterval

    /// <summary>Climate parts of the shipped site: interval (the shipped agent's, or the part's default) and the values it sends.</summary>
    private static readonly Dictionary<string, (TimeSpan Interval, string[] Fields)> ClimateParts = new(StringComparer.Ordinal)
    {
        ["climate-cer"] = (TimeSpan.FromSeconds(5), ["co2_ppm", "temperature_c", "humidity_pct"]), // SCD4x
        ["climate-technodiscovery"] = (TimeSpan.FromSeconds(5), ["co2_ppm", "temperature_c", "humidity_pct"]), // SCD4x
        ["climate-dc-lab"] = (TimeSpan.FromSeconds(30), ["temperature_c", "humidity_pct", "pressure_hpa"]), // BME280
        ["temp-dc-lab-battery"] = (TimeSpan.FromSeconds(60), ["temperature_c"]), // DS18B20
    };

    private static readonly (TimeSpan Interval, string[] Fields) DefaultClimate = (TimeSpan.FromSeconds(10), ["temperature_c", "humidity_pct"]); // SHT4x

    private readonly SiteModel _site;
    private readonly SiteCalendar _calendar;
    private readonly SolarModel _solar;
    private readonly VisitorPool _visitors;
    // A fresh key per run: pseudonyms only need to be stable within the run, and a key in the
    // tree would be one more secret to explain (CommittedSecretsTests).
    private readonly VisitorPseudonym _pseudonym = new(Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)));
    private readonly double _dcHz;
    private readonly Random _random;
    private readonly Dictionary<string, (long In, long Out)> _doorTotals = new(StringComparer.Ordinal);
    private readonly Dictionary<string, double> _meterWh = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RoomAir> _air = new(StringComparer.Ordinal);

    public YearSite(SiteModel site, int seed, double dcHz)
    {
        _site = site;
        _calendar = new SiteCalendar(seed, TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));
        _solar = new SolarModel(seed);
        _visitors = new VisitorPool(seed);
        _random = new Random(seed);
        _dcHz = dcHz;
        foreach (var meter in site.Meters)
        {
            _meterWh[meter.Id] = 1_000_000 + (100_000 * _meterWh.Count);
        }
    }

    public TimeZoneInfo TimeZone => _calendar.TimeZone;

    /// <summary>The devices that own something of the site (each publishes as itself).</summary>
    public IReadOnlyList<string> Devices => [.. _site.Devices];

    /// <summary>Each device's readings of one local day, in time order, only those inside [<paramref name="from"/>, <paramref name="to"/>).</summary>
    public Dictionary<string, List<Reading>> Day(DateOnly date, DateTimeOffset from, DateTimeOffset to)
    {
        var plan = _calendar.Plan(date);
        var start = Local(date);
        var end = Local(date.AddDays(1));
        var minutes = (int)(end - start).TotalMinutes;
        var people = new Dictionary<string, int[]>(StringComparer.Ordinal);
        int[] In(string room) => people.TryGetValue(room, out var a) ? a : people[room] = new int[minutes];
        var building = new int[minutes];
        var doorEvents = new Dictionary<string, List<(DateTimeOffset Ts, bool In)>>(StringComparer.Ordinal);
        var scans = new List<DateTimeOffset>();
        var dcSessions = new List<(DateTimeOffset From, DateTimeOffset To)>();

        void Cross(string door, DateTimeOffset ts, bool into)
        {
            if (!doorEvents.TryGetValue(door, out var list))
            {
                doorEvents[door] = list = [];
            }

            list.Add((ts, into));
        }

        foreach (var group in plan.Groups)
        {
            var outer = group.Room == "technodiscovery-2" && group.Kind == GroupKind.EventVisitors ? Door(SiteModel.Outside, group.Room) : Door(SiteModel.Outside, Hall);
            var inner = outer?.To == group.Room ? null : Door(Hall, group.Room);
            // People pass a door a few seconds apart (the collector allows 5 a second per door).
            var spacing = group.Kind == GroupKind.EventVisitors ? 4.0 : 2.5;
            for (var p = 0; p < group.Size; p++)
            {
                var arrive = group.Arrive.AddSeconds((p * spacing) + _random.NextDouble());
                var leave = group.Leave.AddSeconds((p * spacing) + _random.NextDouble());
                if (outer is not null)
                {
                    Cross(outer.Id, arrive, true);
                    Cross(outer.Id, leave.AddSeconds(60 + _random.Next(60)), false);
                }

                if (inner is not null)
                {
                    Cross(inner.Id, arrive.AddSeconds(60 + _random.Next(120)), true);
                    Cross(inner.Id, leave, false);
                }

                if (group.Badges)
                {
                    scans.Add(arrive.AddSeconds(5 + _random.NextDouble()));
                }
            }

            for (var m = Minute(start, group.Arrive, minutes); m < Minute(start, group.Leave, minutes); m++)
            {
                In(group.Room)[m] += group.Size;
                building[m] += group.Size;
            }

            if (group.Room == "dc-lab")
            {
                dcSessions.Add((group.Arrive, group.Leave));
            }
        }

        var byDevice = _site.Devices.ToDictionary(d => d, _ => new List<Reading>(), StringComparer.Ordinal);
        void Add(string? device, Reading reading)
        {
            if (device is not null && reading.Ts >= from && reading.Ts < to)
            {
                byDevice[device].Add(reading);
            }
        }

        foreach (var door in _site.Doors)
        {
            if (!doorEvents.TryGetValue(door.Id, out var events))
            {
                continue;
            }

            events.Sort((a, b) => a.Ts.CompareTo(b.Ts));
            var (totalIn, totalOut) = _doorTotals.GetValueOrDefault(door.Id);
            var last = long.MinValue;
            foreach (var (ts, into) in events)
            {
                // One point per millisecond and series: two crossings never share a timestamp.
                var ms = Math.Max(ts.ToUnixTimeMilliseconds(), last + 1);
                last = ms;
                totalIn += into ? 1 : 0;
                totalOut += into ? 0 : 1;
                Add(door.Device, new Reading
                {
                    Ts = DateTimeOffset.FromUnixTimeMilliseconds(ms), Sensor = door.Id, Kind = ReadingKinds.Door,
                    Values = new() { ["in"] = into ? 1 : 0, ["out"] = into ? 0 : 1, ["in_total"] = totalIn, ["out_total"] = totalOut },
                });
            }

            _doorTotals[door.Id] = (totalIn, totalOut);
        }

        var benches = _site.Sensors.Where(s => s.Kind == ReadingKinds.Dc).Select((s, i) => (Sensor: s, Model: new BenchModel(i))).ToList();
        foreach (var sensor in _site.Sensors)
        {
            switch (sensor.Kind)
            {
                case ReadingKinds.Badge:
                {
                    var last = long.MinValue;
                    foreach (var ts in scans.Order())
                    {
                        var ms = Math.Max(ts.ToUnixTimeMilliseconds(), last + 1);
                        last = ms;
                        Add(sensor.Device, new Reading { Ts = DateTimeOffset.FromUnixTimeMilliseconds(ms), Sensor = sensor.Id, Kind = ReadingKinds.Badge, Visitor = _pseudonym.Of(_visitors.Next()) });
                    }

                    break;
                }

                case ReadingKinds.Climate:
                {
                    var (interval, fields) = ClimateParts.GetValueOrDefault(sensor.Id, DefaultClimate);
                    if (!_air.TryGetValue(sensor.Id, out var air))
                    {
                        _air[sensor.Id] = air = new RoomAir(volumeM3: 250);
                    }

                    var noise = new Random(SiteCalendar.Mix(date.DayNumber, sensor.Id.Length, 11));
                    for (var ts = start; ts < end; ts += interval)
                    {
                        var m = Minute(start, ts, minutes);
                        var inRoom = sensor.Room == Hall ? building[m] / 10 : people.TryGetValue(sensor.Room ?? string.Empty, out var a) ? a[m] : 0;
                        air.Advance(interval, inRoom);
                        var values = new Dictionary<string, double>(fields.Length);
                        foreach (var field in fields)
                        {
                            values[field] = field switch
                            {
                                "co2_ppm" => Math.Round(air.Co2Ppm + (noise.NextDouble() * 6) - 3),
                                "temperature_c" => Math.Round(air.Celsius + (noise.NextDouble() * 0.1) - 0.05, 2),
                                "humidity_pct" => Math.Round(air.HumidityPct + (noise.NextDouble() * 0.4) - 0.2, 2),
                                _ => Math.Round(air.PressureHpa + (noise.NextDouble() * 0.1), 2),
                            };
                        }

                        Add(sensor.Device, new Reading { Ts = ts, Sensor = sensor.Id, Kind = ReadingKinds.Climate, Values = values });
                    }

                    break;
                }
            }
        }

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

        dcSessions = merged;

        if (_dcHz > 0)
        {
            var step = TimeSpan.FromSeconds(1 / _dcHz);
            foreach (var (sessionFrom, sessionTo) in dcSessions)
            {
                for (var ts = sessionFrom; ts < sessionTo; ts += step)
                {
                    foreach (var (sensor, model) in benches)
                    {
                        var (volts, amps) = model.At(ts, inUse: true);
                        Add(sensor.Device, new Reading
                        {
                            Ts = ts, Sensor = sensor.Id, Kind = ReadingKinds.Dc,
                            Values = new() { ["voltage_v"] = Math.Round(volts, 3), ["current_a"] = Math.Round(amps, 4), ["power_w"] = Math.Round(volts * amps, 3) },
                        });
                    }
                }
            }
        }

        foreach (var meter in _site.Meters)
        {
            var wh = _meterWh[meter.Id];
            for (var ts = start; ts < end; ts += MeterInterval)
            {
                var m = Minute(start, ts, minutes);
                var open = plan.Open && ts >= plan.Opens && ts < plan.Closes;
                var solar = _solar.PowerW(ts);
                var watts = meter.Role switch
                {
                    "solar" => solar,
                    "grid" => BuildingLoad.GridImportW(BuildingLoad.PowerW(open, building[m]), solar),
                    _ => 150 + (people.TryGetValue(meter.Room ?? string.Empty, out var a) ? a[m] * 20 : 0) + (dcSessions.Any(s => ts >= s.From && ts < s.To) ? 250 : 0),
                };
                wh += watts * MeterInterval.TotalHours;
                Add(meter.Device, new Reading
                {
                    Ts = ts, Sensor = meter.Id, Kind = ReadingKinds.Energy,
                    Values = new() { ["power_w"] = Math.Round(watts), ["energy_wh_total"] = Math.Floor(wh) },
                });
            }

            _meterWh[meter.Id] = wh;
        }

        foreach (var list in byDevice.Values)
        {
            list.Sort((a, b) => a.Ts.CompareTo(b.Ts));
        }

        return byDevice;
    }

    private Door? Door(string from, string to) => _site.Doors.FirstOrDefault(d => d.From == from && d.To == to);

    private static int Minute(DateTimeOffset start, DateTimeOffset at, int minutes) => Math.Clamp((int)(at - start).TotalMinutes, 0, minutes);

    private DateTimeOffset Local(DateOnly date)
    {
        var local = date.ToDateTime(TimeOnly.MinValue);
        return new DateTimeOffset(local, TimeZone.GetUtcOffset(local));
    }
}
