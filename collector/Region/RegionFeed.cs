using InfluxDB.Client.Api.Domain;
using InfluxDB.Client.Writes;
using NewTechPark.Edge.Collector.Api;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Sinks;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Visitors;

namespace NewTechPark.Edge.Collector.Region;

/// <summary>
/// One site's derived figures for the region tier, as line protocol into the line-protocol sink's
/// <see cref="DurableQueue"/>, every point tagged <c>site</c> and stamped at the start of its
/// period. Each figure kind has a watermark in the queue file (the end of the last period queued),
/// moved in the same transaction as the points it covers: a restart or kill -9 neither skips nor
/// repeats a period. The figures come from the site's own services (what its pages show):
/// <list type="bullet">
/// <item>each minute, live: <c>region_occupancy</c> per room, <c>region_building</c>,
/// <c>region_devices</c> (counts per state) and <c>region_device</c> (0/1 per device). Minutes
/// while the collector was down are not made up: nobody saw them live.</item>
/// <item>each hour and local day once settled (<see cref="RegionOptions.SettleDelay"/>):
/// <c>region_energy_hour</c>, <c>region_energy_day</c> (per <c>role</c>), and per day
/// <c>region_visitors_day</c> (visits, unique and returning visitors of the day and of the year
/// to the day's end). After downtime these catch up from the watermark, at most
/// <see cref="RegionOptions.CatchUp"/> back, in bounded steps.</item>
/// </list>
/// No pseudonym, nor anything per person, is in any of them. Written for one site and its
/// services, so a collector that owns several sites runs one per site.
/// </summary>
public sealed class RegionFeed
{
    public const string OccupancyKind = "occupancy-minute";
    public const string DevicesKind = "devices-minute";
    public const string EnergyHourKind = "energy-hour";
    public const string EnergyDayKind = "energy-day";
    public const string VisitorsDayKind = "visitors-day";

    /// <summary>Hours per queue transaction while catching up (bounded memory: one week of lines at a time).</summary>
    public const int HoursPerStep = 24 * 7;

    /// <summary>Days per queue transaction while catching up.</summary>
    public const int DaysPerStep = 31;

    /// <summary>The energy roles sent per hour and day, from the building's <see cref="EnergyBucket"/>.</summary>
    public static readonly IReadOnlyList<(string Role, Func<EnergyBucket, double> Wh)> EnergyRoles =
    [
        ("use", b => b.ConsumptionWh),
        ("solar", b => b.SolarWh),
        ("grid_import", b => b.GridImportWh),
        ("grid_export", b => b.GridExportWh),
        ("self_consumption", b => b.SelfConsumptionWh),
        ("lab", b => b.LabWh),
    ];

    private readonly SiteModel _site;
    private readonly OccupancyEngine _occupancy;
    private readonly VisitorsService _visitors;
    private readonly EnergyService _energy;
    private readonly StoreQueries _queries;
    private readonly DurableQueue _queue;
    private readonly RegionOptions _options;
    private readonly ILogger _logger;
    private readonly TimeBuckets _buckets;

    public RegionFeed(SiteModel site, OccupancyEngine occupancy, VisitorsService visitors, EnergyService energy, StoreQueries queries,
        DurableQueue queue, RegionOptions options, ILogger logger)
    {
        _site = site;
        _occupancy = occupancy;
        _visitors = visitors;
        _energy = energy;
        _queries = queries;
        _queue = queue;
        _options = options;
        _logger = logger;
        _buckets = new TimeBuckets(TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));
    }

    public string Site => _site.Site;

    /// <summary>Queues every period that is due at <paramref name="now"/>; the points queued.</summary>
    public int Tick(DateTimeOffset now)
    {
        var nowMs = now.ToUnixTimeMilliseconds();
        var points = 0;
        points += Minute(OccupancyKind, nowMs, OccupancyLines);
        points += Minute(DevicesKind, nowMs, DeviceLines);
        points += Periods(EnergyHourKind, Resolution.Hour, HoursPerStep, nowMs, EnergyHourLines);
        points += Periods(EnergyDayKind, Resolution.Day, DaysPerStep, nowMs, EnergyDayLines);
        points += Periods(VisitorsDayKind, Resolution.Day, DaysPerStep, nowMs, VisitorLines);
        return points;
    }

    private int Minute(string kind, long nowMs, Func<long, DateTimeOffset, List<string>> lines)
    {
        var minute = TimeBuckets.FloorTo(nowMs, TimeBuckets.MinuteMs);
        if (_queue.Watermark(_site.Site, kind) is { } until && until > minute)
        {
            return 0; // this minute went already (or the clock went back: never a second sample)
        }

        var batch = lines(minute, DateTimeOffset.FromUnixTimeMilliseconds(nowMs));
        _queue.Append(batch, nowMs, (_site.Site, kind, minute + TimeBuckets.MinuteMs));
        return batch.Count;
    }

    private int Periods(string kind, Resolution resolution, int perStep, long nowMs, Func<long, long, List<string>> lines)
    {
        // Periods that ended at least SettleDelay ago; none further back than CatchUp.
        var limit = _buckets.Floor(resolution, nowMs - (long)_options.SettleDelay.TotalMilliseconds);
        var oldest = _buckets.Next(resolution, _buckets.Floor(resolution, nowMs - (long)_options.CatchUp.TotalMilliseconds));
        var start = _queue.Watermark(_site.Site, kind) ?? oldest;
        if (start < oldest)
        {
            _logger.LogWarning("Region feed of site {Site}: {Kind} was last sent up to {Until:u}, further back than Collector:Region:CatchUp ({CatchUp}); the periods before {Oldest:u} are not sent",
                _site.Site, kind, DateTimeOffset.FromUnixTimeMilliseconds(start), _options.CatchUp, DateTimeOffset.FromUnixTimeMilliseconds(oldest));
            start = oldest;
        }

        var points = 0;
        while (start < limit)
        {
            var end = start;
            for (var i = 0; i < perStep && end < limit; i++)
            {
                end = _buckets.Next(resolution, end);
            }

            var batch = lines(start, end);
            _queue.Append(batch, nowMs, (_site.Site, kind, end));
            points += batch.Count;
            start = end;
        }

        return points;
    }

    private List<string> OccupancyLines(long minute, DateTimeOffset now)
    {
        var snapshot = _occupancy.Snapshot();
        var lines = new List<string>(snapshot.Rooms.Count + 1);
        foreach (var room in snapshot.Rooms)
        {
            lines.Add(Point("region_occupancy", minute).Tag("room", room.Room)
                .Field("people", room.Count).Field("capacity", (long)room.Capacity).ToLineProtocol());
        }

        lines.Add(Point("region_building", minute).Field("people", snapshot.Building).ToLineProtocol());
        return lines;
    }

    private List<string> DeviceLines(long minute, DateTimeOffset now)
    {
        var devices = DevicesApi.List(_site, _queries, now);
        var lines = new List<string>(devices.Count + 1)
        {
            Point("region_devices", minute)
                .Field("online", (long)devices.Count(d => d.State == "online"))
                .Field("offline", (long)devices.Count(d => d.State == "offline"))
                .Field("never_seen", (long)devices.Count(d => d.State == "never-seen"))
                .Field("total", (long)devices.Count)
                .ToLineProtocol(),
        };
        foreach (var device in devices)
        {
            lines.Add(Point("region_device", minute).Tag("device", device.Device).Field("online", device.State == "online" ? 1L : 0L).ToLineProtocol());
        }

        return lines;
    }

    private List<string> EnergyHourLines(long from, long to) => EnergyLines("region_energy_hour", CalendarBucket.Hour, from, to);

    private List<string> EnergyDayLines(long from, long to) => EnergyLines("region_energy_day", CalendarBucket.Day, from, to);

    private List<string> EnergyLines(string measurement, CalendarBucket bucket, long from, long to)
    {
        var report = _energy.Report(DateTimeOffset.FromUnixTimeMilliseconds(from), DateTimeOffset.FromUnixTimeMilliseconds(to), bucket);
        var lines = new List<string>(report.Buckets.Count * EnergyRoles.Count);
        foreach (var b in report.Buckets)
        {
            foreach (var (role, wh) in EnergyRoles)
            {
                lines.Add(Point(measurement, b.Start.ToUnixTimeMilliseconds()).Tag("role", role).Field("wh", wh(b)).ToLineProtocol());
            }
        }

        return lines;
    }

    private List<string> VisitorLines(long from, long to)
    {
        var report = _visitors.Report(DateTimeOffset.FromUnixTimeMilliseconds(from), DateTimeOffset.FromUnixTimeMilliseconds(to), CalendarBucket.Day);
        var lines = new List<string>(report.Buckets.Count);
        foreach (var day in report.Buckets)
        {
            var dayStart = day.Start.ToUnixTimeMilliseconds();
            var point = Point("region_visitors_day", dayStart).Field("visits", day.Visits);
            // Counts the site's pages hide (1 to MinimumCount-1: "< 5") are not sent either.
            point = With(point, "unique", day.UniqueVisitors);
            point = With(point, "returning", day.ReturningVisitors);
            // The year to the day's end, counted at the site (distinct pseudonyms over the year), so
            // the region's yearly figure per site is the last day's value, not a sum of days.
            var year = _visitors.Report(DateTimeOffset.FromUnixTimeMilliseconds(_buckets.Floor(Resolution.Year, dayStart)), day.End, CalendarBucket.Day).Totals;
            point = With(point, "unique_year", year.UniqueVisitors);
            point = With(point, "returning_year", year.ReturningVisitors);
            lines.Add(point.ToLineProtocol());
        }

        return lines;
    }

    private static PointData With(PointData point, string field, ShownCount count) => count.Value is { } value ? point.Field(field, value) : point;

    private PointData Point(string measurement, long ms) =>
        PointData.Measurement(measurement).Tag("site", _site.Site).Timestamp(ms, WritePrecision.Ms);
}
