using NewTechPark.Edge.Agent.Readers.Badge;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Simulation.Scenario;

namespace NewTechPark.Edge.Demo.History;

/// <summary>
/// One local day of the site as the two year generators make it: the demo's history
/// (<see cref="HistoryYear"/>) and the bench's year (<c>bench/YearSite.cs</c>). It walks the day's
/// groups through the doors (crossings, badge scans, people per room and minute), turns them into
/// door and badge readings, samples the climate sensors and the meters' power, and collects each
/// device's readings inside the window [from, to). What the two generators keep apart (sample
/// rates, the publish filter, the meters' counters, the DC sessions) stays with them; the state
/// that runs from day to day (door totals, room air, meter counters) is theirs too.
/// </summary>
public sealed class SiteDay
{
    public const string Hall = "ontmoetingsplek";

    private readonly SiteModel _site;
    private readonly DateTimeOffset _from;
    private readonly DateTimeOffset _to;
    private readonly Dictionary<string, List<Reading>> _byDevice;
    private readonly Dictionary<string, int[]> _people = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<(DateTimeOffset Ts, bool In)>> _doorEvents = new(StringComparer.Ordinal);
    private readonly List<DateTimeOffset> _scans = [];

    public SiteDay(SiteModel site, DayPlan plan, TimeZoneInfo zone, DateTimeOffset from, DateTimeOffset to)
    {
        _site = site;
        _from = from;
        _to = to;
        Plan = plan;
        Start = Local(plan.Date, zone);
        End = Local(plan.Date.AddDays(1), zone);
        Minutes = (int)(End - Start).TotalMinutes;
        Building = new int[Minutes];
        _byDevice = site.Devices.ToDictionary(d => d, _ => new List<Reading>(), StringComparer.Ordinal);
    }

    public DayPlan Plan { get; }

    public DateTimeOffset Start { get; }

    public DateTimeOffset End { get; }

    /// <summary>The day's length in minutes (23 or 25 hours on the days the clocks change).</summary>
    public int Minutes { get; }

    /// <summary>People in the building per minute of the day.</summary>
    public int[] Building { get; }

    /// <summary>Each device's readings inside the window, in the order added (time order after <see cref="Sort"/>).</summary>
    public IReadOnlyDictionary<string, List<Reading>> Readings => _byDevice;

    /// <summary>
    /// Walks the groups through the doors: each person crosses the outer door (and the hall's door
    /// to the group's room) on arrival and on leaving, and scans a badge if the group has cards (or,
    /// with <paramref name="teacherChecksIn"/>, the first of a group without). <paramref name="onGroup"/>
    /// runs after each group, so a caller's own draws from <paramref name="random"/> keep their place.
    /// </summary>
    public void Walk(IEnumerable<VisitGroup> groups, Random random, bool teacherChecksIn, Action<VisitGroup>? onGroup = null)
    {
        foreach (var group in groups)
        {
            var outer = group.Room == "technodiscovery-2" && group.Kind == GroupKind.EventVisitors ? Door(SiteModel.Outside, group.Room) : Door(SiteModel.Outside, Hall);
            var inner = outer?.To == group.Room ? null : Door(Hall, group.Room);
            // People pass a door a few seconds apart (the collector allows 5 a second per door).
            var spacing = group.Kind == GroupKind.EventVisitors ? 4.0 : 2.5;
            for (var p = 0; p < group.Size; p++)
            {
                var arrive = group.Arrive.AddSeconds((p * spacing) + random.NextDouble());
                var leave = group.Leave.AddSeconds((p * spacing) + random.NextDouble());
                if (outer is not null)
                {
                    Cross(outer.Id, arrive, true);
                    Cross(outer.Id, leave.AddSeconds(60 + random.Next(60)), false);
                }

                if (inner is not null)
                {
                    Cross(inner.Id, arrive.AddSeconds(60 + random.Next(120)), true);
                    Cross(inner.Id, leave, false);
                }

                // A school class has no cards: its teacher checks the class in.
                if (group.Badges || (teacherChecksIn && p == 0))
                {
                    _scans.Add(arrive.AddSeconds(5 + random.NextDouble()));
                }
            }

            if (!_people.TryGetValue(group.Room, out var room))
            {
                _people[group.Room] = room = new int[Minutes];
            }

            for (var m = Minute(group.Arrive); m < Minute(group.Leave); m++)
            {
                room[m] += group.Size;
                Building[m] += group.Size;
            }

            onGroup?.Invoke(group);
        }
    }

    /// <summary>
    /// One reading per crossing with the door's cumulative totals, carried on in <paramref name="totals"/>.
    /// A crossing outside the window counts in the totals, unless <paramref name="countOutsideWindow"/>
    /// is false (the demo's history: its totals are what its readings add up to).
    /// </summary>
    public void Doors(Dictionary<string, (long In, long Out)> totals, bool countOutsideWindow)
    {
        foreach (var door in _site.Doors)
        {
            if (!_doorEvents.TryGetValue(door.Id, out var events))
            {
                continue;
            }

            events.Sort((a, b) => a.Ts.CompareTo(b.Ts));
            var (totalIn, totalOut) = totals.GetValueOrDefault(door.Id);
            var last = long.MinValue;
            foreach (var (ts, into) in events)
            {
                // One point per millisecond and series: two crossings never share a timestamp.
                var ms = Math.Max(ts.ToUnixTimeMilliseconds(), last + 1);
                var at = DateTimeOffset.FromUnixTimeMilliseconds(ms);
                if (!countOutsideWindow && (at < _from || at >= _to))
                {
                    continue;
                }

                last = ms;
                totalIn += into ? 1 : 0;
                totalOut += into ? 0 : 1;
                Add(door.Device, new Reading
                {
                    Ts = at, Sensor = door.Id, Kind = ReadingKinds.Door,
                    Values = new() { ["in"] = into ? 1 : 0, ["out"] = into ? 0 : 1, ["in_total"] = totalIn, ["out_total"] = totalOut },
                });
            }

            totals[door.Id] = (totalIn, totalOut);
        }
    }

    /// <summary>The day's badge scans on a reader, one a millisecond at most, each a visitor of the pool pseudonymised as the agent does.</summary>
    public void Badges(SiteSensor sensor, VisitorPseudonym pseudonym, VisitorPool visitors)
    {
        var last = long.MinValue;
        foreach (var ts in _scans.Order())
        {
            var ms = Math.Max(ts.ToUnixTimeMilliseconds(), last + 1);
            last = ms;
            Add(sensor.Device, new Reading { Ts = DateTimeOffset.FromUnixTimeMilliseconds(ms), Sensor = sensor.Id, Kind = ReadingKinds.Badge, Visitor = pseudonym.Of(visitors.Next()) });
        }
    }

    /// <summary>
    /// Samples a climate sensor every <paramref name="interval"/> from the day's start until
    /// <paramref name="until"/>: the room's air follows the people in it (a tenth of the building's
    /// in the hall), and the samples from <paramref name="emitFrom"/> on go to <paramref name="emit"/>
    /// with the part's noise, rounded to what the part resolves.
    /// </summary>
    public void Climate(SiteSensor sensor, RoomAir air, TimeSpan interval, string[] fields, DateTimeOffset emitFrom, DateTimeOffset until, Action<Reading> emit)
    {
        var noise = new Random(SiteCalendar.Mix(Plan.Date.DayNumber, sensor.Id.Length, 11));
        for (var ts = Start; ts < until; ts += interval)
        {
            var m = Minute(ts);
            var inRoom = sensor.Room == Hall ? Building[m] / 10 : InRoom(sensor.Room, m);
            air.Advance(interval, inRoom);
            if (ts < emitFrom)
            {
                continue;
            }

            var values = new Dictionary<string, double>(fields.Length, StringComparer.Ordinal);
            foreach (var field in fields)
            {
                values[field] = field switch
                {
                    ClimateField.Co2 => Math.Round(air.Co2Ppm + (noise.NextDouble() * 6) - 3),
                    ClimateField.Temperature => Math.Round(air.Celsius + (noise.NextDouble() * 0.1) - 0.05, 2),
                    ClimateField.Humidity => Math.Round(air.HumidityPct + (noise.NextDouble() * 0.4) - 0.2, 2),
                    _ => Math.Round(air.PressureHpa + (noise.NextDouble() * 0.1), 2),
                };
            }

            emit(new Reading { Ts = ts, Sensor = sensor.Id, Kind = ReadingKinds.Climate, Values = values });
        }
    }

    /// <summary>
    /// A meter's power at an instant: the sun for the solar meter, the building's import for the grid
    /// meter, and for a lab's meter a base load, the people in the lab and <paramref name="benchesOn"/>.
    /// </summary>
    public double MeterWatts(Meter meter, SolarModel solar, DateTimeOffset ts, bool benchesOn)
    {
        var m = Minute(ts);
        var open = Plan.Open && ts >= Plan.Opens && ts < Plan.Closes;
        var sun = solar.PowerW(ts);
        return meter.Role switch
        {
            "solar" => sun,
            "grid" => BuildingLoad.GridImportW(BuildingLoad.PowerW(open, Building[m]), sun),
            _ => 150 + (InRoom(meter.Room, m) * 20) + (benchesOn ? 250 : 0),
        };
    }

    /// <summary>A DC bench's reading at an instant, rounded to what the INA2xx resolves.</summary>
    public static Reading BenchReading(string sensor, BenchModel model, DateTimeOffset ts)
    {
        var (volts, amps) = model.At(ts, inUse: true);
        return new Reading
        {
            Ts = ts, Sensor = sensor, Kind = ReadingKinds.Dc,
            Values = new() { ["voltage_v"] = Math.Round(volts, 3), ["current_a"] = Math.Round(amps, 4), ["power_w"] = Math.Round(volts * amps, 3) },
        };
    }

    /// <summary>A meter's reading: its power and its cumulative energy.</summary>
    public static Reading EnergyReading(Meter meter, DateTimeOffset ts, double powerW, double energyWhTotal) => new()
    {
        Ts = ts, Sensor = meter.Id, Kind = ReadingKinds.Energy,
        Values = new() { [ReadingKinds.EnergyValues.PowerW] = powerW, [ReadingKinds.EnergyValues.EnergyWhTotal] = energyWhTotal },
    };

    /// <summary>Keeps a device's reading if it falls inside the window.</summary>
    public void Add(string? device, Reading reading)
    {
        if (device is not null && reading.Ts >= _from && reading.Ts < _to)
        {
            _byDevice[device].Add(reading);
        }
    }

    /// <summary>Puts each device's readings in time order.</summary>
    public void Sort()
    {
        foreach (var list in _byDevice.Values)
        {
            list.Sort((a, b) => a.Ts.CompareTo(b.Ts));
        }
    }

    private int InRoom(string? room, int minute) => _people.TryGetValue(room ?? string.Empty, out var a) ? a[minute] : 0;

    private void Cross(string door, DateTimeOffset ts, bool into)
    {
        if (!_doorEvents.TryGetValue(door, out var list))
        {
            _doorEvents[door] = list = [];
        }

        list.Add((ts, into));
    }

    private Door? Door(string from, string to) => _site.Doors.FirstOrDefault(d => d.From == from && d.To == to);

    private int Minute(DateTimeOffset at) => Math.Clamp((int)(at - Start).TotalMinutes, 0, Minutes - 1);

    private static DateTimeOffset Local(DateOnly date, TimeZoneInfo zone)
    {
        var local = date.ToDateTime(TimeOnly.MinValue);
        return new DateTimeOffset(local, zone.GetUtcOffset(local));
    }

    /// <summary>The climate values the parts send.</summary>
    public static class ClimateField
    {
        public const string Co2 = "co2_ppm";
        public const string Temperature = "temperature_c";
        public const string Humidity = "humidity_pct";
        public const string Pressure = "pressure_hpa";
    }
}
