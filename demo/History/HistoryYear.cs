using NewTechPark.Edge.Agent.Configuration;
using NewTechPark.Edge.Agent.Readers;
using NewTechPark.Edge.Agent.Readers.Filters;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Visitors;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Simulation.Scenario;
using ClimateField = NewTechPark.Edge.Demo.History.SiteDay.ClimateField;

namespace NewTechPark.Edge.Demo.History;

/// <summary>A DC-Lab experiment session of the history: a named window over one bench or all of them.</summary>
public sealed record HistorySession(string Name, string? Sensor, DateTimeOffset Started, DateTimeOffset Stopped);

/// <summary>One local day of the history: each device's readings in time order, the day's group registrations and experiment sessions.</summary>
public sealed record HistoryDay(DateOnly Date, IReadOnlyDictionary<string, List<Reading>> Readings, IReadOnlyList<GroupVisitRequest> Registrations, IReadOnlyList<HistorySession> Sessions)
{
    public int ReadingCount => Readings.Values.Sum(r => r.Count);
}

/// <summary>
/// The demo's past, one local day at a time, as the site's agents would have published it: the
/// days of the scenario library's <see cref="SiteCalendar"/> (school classes, MBO groups, event
/// days, the festival weeks, walk-ins, holidays and closed days) walked through the doors as
/// crossings with the doors' cumulative totals; a badge scan per visitor of a badged group
/// (<see cref="VisitorPool"/>, some returning, pseudonymised with the demo's site key as the live
/// agents do); the S0 meters once a minute as pulse totals (<see cref="SolarModel"/>: sunny and
/// cloudy days, the seasons; <see cref="BuildingLoad"/>); the climate sensors at their parts'
/// intervals through the agent's own publish filter (<see cref="ReadingFilter"/>: a deadband and a
/// 5-minute heartbeat); the DC benches at their reader's default 1 reading a second, only during
/// the experiment sessions of the days the MBO group works in the DC-Lab. Groups come only on days
/// before <c>peopleUntil</c> (today is the live demo's); meters and climate run up to <c>to</c>.
/// Deterministic for a seed and window, so a fill that was interrupted makes the same batches again.
/// </summary>
public sealed class HistoryYear
{
    public const string Hall = SiteDay.Hall;

    /// <summary>The S0 meters' sample interval in the history (the live demo samples every 2 s so the kiosk moves).</summary>
    public static readonly TimeSpan MeterInterval = TimeSpan.FromMinutes(1);

    /// <summary>The INA2xx readers' default (and largest) sample interval.</summary>
    public static readonly TimeSpan BenchInterval = TimeSpan.FromSeconds(1);

    /// <summary>
    /// The climate sensors' sample interval. Once a minute: what a site that keeps a year sets (the
    /// air of a room changes over minutes; the deadband passes less anyway).
    /// </summary>
    public static readonly TimeSpan ClimateInterval = TimeSpan.FromMinutes(1);

    /// <summary>The deadband a site sets on climate sensors it keeps for a year (changes smaller than these are noise).</summary>
    public static readonly IReadOnlyDictionary<string, double> ClimateDeadband = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        [ClimateField.Co2] = 15,
        [ClimateField.Temperature] = 0.2,
        [ClimateField.Humidity] = 1.5,
        [ClimateField.Pressure] = 1,
    };

    private static readonly string[] Experiments =
    [
        "Zonnepaneel: IV-curve / Solar panel IV curve",
        "Accu laden / Charging a battery",
        "Elektromotor: aanloopstroom / Motor inrush current",
        "LED-verlichting op DC / DC LED lighting",
    ];

    private readonly SiteYear _year;
    private readonly DateTimeOffset _from;
    private readonly DateTimeOffset _to;
    private readonly DateOnly _peopleUntil;
    private readonly Dictionary<string, (double Wh, long Pulses)> _meters = new(StringComparer.Ordinal);
    private readonly Dictionary<string, (ReadingFilter Filter, List<Reading> Out)> _climateFilters = new(StringComparer.Ordinal);
    private readonly List<(string Sensor, string Device, BenchModel Model)> _benches;

    public HistoryYear(SiteModel site, int seed, DateTimeOffset from, DateTimeOffset to)
    {
        _year = new SiteYear(site, seed, DemoSite.SiteKey);
        _from = from;
        _to = to;
        _peopleUntil = LocalDate(to);
        var i = 0;
        foreach (var meter in site.Meters)
        {
            // Meters installed before the history began: a few years on their counters already.
            _meters[meter.Id] = (0, 3_000_000L * (i + 1) * (long)meter.PulsesPerKwh / 1000);
            i++;
        }

        _benches = [.. site.Sensors.Where(s => s.Kind == ReadingKinds.Dc && s.Device is not null).Select((s, n) => (s.Id, s.Device!, new BenchModel(n)))];
        foreach (var sensor in site.Sensors.Where(s => s.Kind == ReadingKinds.Climate))
        {
            var output = new List<Reading>();
            var options = new FilterOptions();
            foreach (var field in SiteYear.ClimateFields(sensor.Id))
            {
                options.Delta[field] = ClimateDeadband[field];
            }

            _climateFilters[sensor.Id] = (new ReadingFilter(options, new ListSink(output)), output);
        }
    }

    public TimeZoneInfo TimeZone => _year.TimeZone;

    /// <summary>The local days the history covers, the first and the last (which may be cut at <c>to</c>).</summary>
    public (DateOnly First, DateOnly Last) Days => (LocalDate(_from), LocalDate(_to.AddTicks(-1)));

    /// <summary>The devices that own something of the site (each publishes as itself).</summary>
    public IReadOnlyList<string> Devices => _year.Devices;

    /// <summary>The door totals at the end of the days made so far (the live agents go on from them).</summary>
    public IReadOnlyDictionary<string, (long In, long Out)> DoorTotals => _year.DoorTotals;

    /// <summary>The meters' pulse counters at the end of the days made so far.</summary>
    public IReadOnlyDictionary<string, long> MeterPulses => _meters.ToDictionary(m => m.Key, m => m.Value.Pulses, StringComparer.Ordinal);

    /// <summary>The next local day; call for each day from <see cref="Days"/> in order.</summary>
    public HistoryDay Day(DateOnly date)
    {
        var registrations = new List<GroupVisitRequest>();
        var sessions = new List<HistorySession>();
        // The history's door totals are what its readings add up to: a crossing before the window does not count.
        var day = _year.Day(date, _from, _to, withGroups: date < _peopleUntil, teacherChecksIn: true, countOutsideWindow: false, group =>
        {
            if (Registration(date, group) is { } registration)
            {
                registrations.Add(registration);
            }

            if (group.Kind == GroupKind.MboGroup && group.Room == "dc-lab" && _benches.Count > 0)
            {
                // Two experiments a lab day: one in the morning, one after lunch.
                var morning = group.Arrive.AddMinutes(30 + _year.Random.Next(30));
                var afternoon = group.Arrive.AddHours(3.5).AddMinutes(_year.Random.Next(30));
                foreach (var begin in new[] { morning, afternoon })
                {
                    var name = Experiments[_year.Random.Next(Experiments.Length)];
                    var bench = _year.Random.NextDouble() < 0.3 ? _benches[_year.Random.Next(_benches.Count)].Sensor : null;
                    sessions.Add(new HistorySession(name, bench, begin, begin.AddMinutes(45 + _year.Random.Next(46))));
                }
            }
        }, Climate);

        Benches(day, sessions);
        Meters(day, sessions);
        day.Sort();
        return new HistoryDay(date, day.Readings, registrations, [.. sessions.Where(s => s.Stopped <= _to && s.Started >= _from)]);
    }

    /// <summary>A climate sensor's samples of the day through the agent's publish filter; the air runs on from the day's start, the samples count from the window's.</summary>
    private void Climate(SiteDay day, SiteSensor sensor, RoomAir air)
    {
        var (filter, output) = _climateFilters[sensor.Id];
        var first = day.Start < _from ? _from : day.Start;
        var last = day.End > _to ? _to : day.End;
        day.Climate(sensor, air, ClimateInterval, SiteYear.ClimateFields(sensor.Id), first, last, reading => filter.TryAdd(reading));
        foreach (var reading in output)
        {
            day.Add(sensor.Device, reading);
        }

        output.Clear();
    }

    /// <summary>The benches of each session at 1 reading a second (sessions that overlap share a bench's readings).</summary>
    private void Benches(SiteDay day, List<HistorySession> sessions)
    {
        foreach (var (sensor, device, model) in _benches)
        {
            var windows = sessions.Where(s => s.Sensor is null || s.Sensor == sensor).Select(s => (s.Started, s.Stopped)).OrderBy(s => s.Started).ToList();
            var next = DateTimeOffset.MinValue;
            foreach (var (from, to) in windows)
            {
                for (var ts = from > next ? from : next; ts < to; ts += BenchInterval)
                {
                    day.Add(device, SiteDay.BenchReading(sensor, model, ts));
                    next = ts + BenchInterval;
                }
            }
        }
    }

    private void Meters(SiteDay day, List<HistorySession> sessions)
    {
        foreach (var meter in _year.Site.Meters)
        {
            var whPerPulse = 1000.0 / meter.PulsesPerKwh;
            var (pendingWh, pulses) = _meters[meter.Id];
            for (var ts = day.Start; ts < day.End && ts < _to; ts += MeterInterval)
            {
                var watts = day.MeterWatts(meter, _year.Solar, ts, sessions.Any(s => ts >= s.Started && ts < s.Stopped));
                if (ts < _from)
                {
                    continue;
                }

                // The meter pulses whole pulses; the agent counts them and sends the total in Wh.
                pendingWh += watts * MeterInterval.TotalHours;
                var whole = (long)Math.Floor(pendingWh / whPerPulse);
                pulses += whole;
                pendingWh -= whole * whPerPulse;
                day.Add(meter.Device, SiteDay.EnergyReading(meter, ts, Math.Round(watts, 1), Math.Round(pulses * whPerPulse, 3)));
            }

            _meters[meter.Id] = (pendingWh, pulses);
        }
    }

    /// <summary>
    /// What staff register for a group (the annual report's programme rows): school classes for
    /// Technodiscovery (PO, a fifth of them VO classes for Techniek Tastbaar), the MBO groups, the
    /// festival's classes, and each event day's visitors as an event. Walk-ins are not registered.
    /// </summary>
    private GroupVisitRequest? Registration(DateOnly date, VisitGroup group) => group.Kind switch
    {
        GroupKind.SchoolClass => SiteCalendar.Mix(date.DayNumber, group.Arrive.Minute, 3) % 5 == 0
            ? new GroupVisitRequest(date, "Techniek Tastbaar", "VO", group.Size, group.Room, false, null)
            : new GroupVisitRequest(date, "Technodiscovery", "PO", group.Size, group.Room, false, null),
        GroupKind.MboGroup => new GroupVisitRequest(date, "MBO praktijkles", "MBO", group.Size, group.Room, false, null),
        GroupKind.FestivalClass => new GroupVisitRequest(date, "Techniekfestival", group.Arrive.Minute % 3 == 0 ? "VO" : "PO", group.Size, group.Room, true, null),
        GroupKind.EventVisitors => new GroupVisitRequest(date, "Evenement", "bedrijven", group.Size, group.Room, true, null),
        _ => null,
    };

    private DateOnly LocalDate(DateTimeOffset at) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(at, TimeZone).DateTime);

    private sealed class ListSink(List<Reading> list) : IReadingSink
    {
        public bool TryAdd(Reading reading)
        {
            list.Add(reading);
            return true;
        }
    }
}
