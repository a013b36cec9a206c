using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Kiosk;

/// <summary>The air of a room now: the last minute's mean of the sensor that measures CO2 there.</summary>
public sealed record LabAir(string Sensor, double Co2Ppm, double? TemperatureC, DateTimeOffset Ts);

/// <summary>One lab: people now, walk-ins today, its air and its meters' energy today (null where the lab has no such sensor).</summary>
public sealed record LabFigures(string Room, LocalizedName Name, int Capacity, long Count, long EntriesToday, LabAir? Air, double? EnergyWhToday);

/// <summary>Every room of kind <c>lab</c>, in the site file's order.</summary>
public sealed record LabComparison(DateOnly Date, DateTimeOffset From, DateTimeOffset Now, IReadOnlyList<LabFigures> Labs);

/// <summary>
/// The kiosk's lab slides in one call, instead of a request per lab and sensor (and a 404 for
/// every climate sensor that measures no CO2, such as a battery thermometer). A lab's air is its
/// first climate sensor with a CO2 reading in the last <see cref="AirWindow"/>; "today" is the
/// local day of the site's time zone.
/// </summary>
public sealed class LabComparisonService(SiteModel site, StoreQueries queries, OccupancyEngine occupancy, OccupancyHistory history, EnergyService energy)
{
    public const string LabKind = "lab";

    /// <summary>Older air readings are not "now": a sensor that went quiet drops out.</summary>
    public static readonly TimeSpan AirWindow = TimeSpan.FromMinutes(30);

    private readonly TimeBuckets _buckets = new(TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));

    public LabComparison Compare(DateTimeOffset now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var date = _buckets.LocalDay(nowMs);
        var from = DateTimeOffset.FromUnixTimeMilliseconds(_buckets.DayStart(date));
        var to = DateTimeOffset.FromUnixTimeMilliseconds(_buckets.DayStart(date.AddDays(1)));
        var labs = site.Rooms.Where(r => r.Kind == LabKind).ToList();
        if (labs.Count == 0)
        {
            return new LabComparison(date, from, now, []);
        }

        var counts = occupancy.Snapshot().Rooms.ToDictionary(r => r.Room, r => r.Count);
        history.Refresh();
        var entries = now > from ? history.Use(from, now).PerRoom.ToDictionary(r => r.Room, r => r.Entries) : [];
        var labIds = labs.Select(l => l.Id).ToHashSet();
        var labMeters = site.Meters.Where(m => m.Role == "lab" && m.Room is not null && labIds.Contains(m.Room)).ToList();
        var meterEnergy = labMeters.Count == 0 ? [] : energy.Report(from, to, CalendarBucket.Day).Meters.ToDictionary(m => m.Meter, m => m.TotalWh);

        return new LabComparison(date, from, now, [.. labs.Select(lab =>
        {
            var meters = labMeters.Where(m => m.Room == lab.Id).ToList();
            return new LabFigures(
                lab.Id,
                lab.Name,
                lab.Capacity,
                counts.GetValueOrDefault(lab.Id),
                entries.GetValueOrDefault(lab.Id),
                Air(lab.Id, now),
                meters.Count == 0 ? null : Math.Round(meters.Sum(m => meterEnergy.GetValueOrDefault(m.Id)), 3));
        })]);
    }

    private LabAir? Air(string room, DateTimeOffset now)
    {
        foreach (var sensor in site.Sensors.Where(s => s.Kind == "climate" && s.Room == room))
        {
            if (Last(sensor.Id, "co2_ppm", now) is { } co2)
            {
                return new LabAir(sensor.Id, Math.Round(co2.Mean, 1), Last(sensor.Id, "temperature_c", now) is { } t ? Math.Round(t.Mean, 2) : null, co2.Ts);
            }
        }

        return null;
    }

    /// <summary>The newest one-minute bucket of a series in the air window, or null.</summary>
    private SeriesPoint? Last(string sensor, string field, DateTimeOffset now) =>
        queries.Series(site.Site, sensor, field, now - AirWindow, now, (int)AirWindow.TotalMinutes)?.Points.LastOrDefault(p => p.Count > 0);
}
