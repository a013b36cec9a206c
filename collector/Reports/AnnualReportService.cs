using System.Globalization;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Visitors;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Reports;

/// <summary>
/// One row of the "results in figures" table, beside the centre's target for the period's year and
/// the same period a year earlier. <see cref="Value"/> is null (shown "–") for a period without
/// data for the row, and for privacy-hidden counts ("&lt; 5"); differences then stay null.
/// </summary>
public sealed record AnnualRow(string Key, string LabelNl, string LabelEn, double? Value, string Display, string Unit, string Source)
{
    /// <summary>The target for the year; null when the targets file has none for this year and row.</summary>
    public double? Target { get; init; }

    /// <summary>The same row for the previous period (computed by the same code); null when that period has no data.</summary>
    public double? Previous { get; init; }

    public string PreviousDisplay { get; init; } = AnnualReportService.NoFigure;

    /// <summary>Value minus target, and as a percentage of the target.</summary>
    public double? VsTarget { get; init; }

    public double? VsTargetPct { get; init; }

    /// <summary>Value minus the previous period's, and as a percentage of it.</summary>
    public double? VsPrevious { get; init; }

    public double? VsPreviousPct { get; init; }
}

/// <summary>Pupils per programme and target group.</summary>
public sealed record ProgrammeRow(string Programme, string TargetGroup, int Groups, long HeadCount);

/// <summary>One month of the year at a glance.</summary>
public sealed record MonthRow(string Month, long Visits, ShownCount UniqueVisitors, ShownCount ReturningVisitors, long GroupHeadCount, int EventDays, double ConsumptionKwh, double SolarKwh);

/// <summary>The yearly report: the measurable rows of the annual report's table, rebuilt from measured data.</summary>
public sealed record AnnualReport(
    int Year,
    string Site,
    string SiteName,
    DateTimeOffset From,
    DateTimeOffset To,
    DateTimeOffset Generated,
    IReadOnlyList<AnnualRow> Rows,
    IReadOnlyList<ProgrammeRow> Programmes,
    IReadOnlyList<MonthRow> Months,
    RoomUseSummary Rooms,
    EnergyBucket Energy)
{
    /// <summary>The period: "2026" for a year, "2026-11" for a month, "2026-01/2026-11" for a year to date.</summary>
    public string Period { get; init; } = Year.ToString(CultureInfo.InvariantCulture);

    /// <summary>The period compared with: the same period a year earlier.</summary>
    public string PreviousPeriod { get; init; } = (Year - 1).ToString(CultureInfo.InvariantCulture);

    /// <summary>True while the period has not ended yet (the figures are "so far").</summary>
    public bool Partial { get; init; }

    /// <summary>Whether the store holds door, badge or group data for the period (else the visitor rows are "–").</summary>
    public bool HasVisitorData { get; init; }

    /// <summary>Whether the store holds meter data for the period (else the energy rows are "–").</summary>
    public bool HasEnergyData { get; init; }

    /// <summary>Whether the previous period has any data at all.</summary>
    public bool PreviousHasData { get; init; }

    /// <summary>Where the targets come from (the targets file's "source"); null when the year has no targets.</summary>
    public string? TargetsSource { get; init; }
}

/// <summary>
/// Rebuilds the annual report's "results in figures" (ANNUAL-FIGURES.md, the rows a building can
/// measure) for one local calendar year, or any run of whole local months: events, unique and
/// returning visitors, rooms in use, labs active, pupils per programme and target group, and
/// energy; each row beside the centre's target (<see cref="ReportTargets"/>) and beside the same
/// period a year earlier, measured by the same code.
/// </summary>
public sealed class AnnualReportService(SiteModel site, VisitorsService visitors, GroupVisits groups, OccupancyHistory history, EnergyService energy, StoreQueries queries, ReportTargets targets, TimeProvider clock)
{
    /// <summary>Shown for a figure that does not exist (no data, no target), never 0.</summary>
    public const string NoFigure = "–";

    /// <summary>The rows' keys, in report order; the targets file may name only these.</summary>
    public static readonly IReadOnlyList<string> RowKeys =
    [
        "events", "unique-visitors", "returning-visitors", "visits", "rooms-in-use", "labs-active", "technodiscovery", "techniekfestival", "techniek-tastbaar",
        "havo-vwo", "mbo-weekly", "hbo-wo", "vakmensen", "zij-instromers", "group-visits", "energy-used", "energy-grid", "energy-solar", "energy-self", "co2",
    ];

    private static readonly HashSet<string> EnergyRows = ["energy-used", "energy-grid", "energy-solar", "energy-self", "co2"];

    private static readonly CultureInfo Nl = CultureInfo.GetCultureInfo("nl-NL");

    public ReportTargets Targets => targets;

    /// <summary>The local calendar year, beside its targets and the previous year.</summary>
    public AnnualReport Build(int year) =>
        Compare(Measure(new DateOnly(year, 1, 1), new DateOnly(year + 1, 1, 1)), Measure(new DateOnly(year - 1, 1, 1), new DateOnly(year, 1, 1)), year, withTargets: true);

    /// <summary>One local month, beside the same month a year earlier (targets are yearly: see <see cref="BuildYearToDate"/>).</summary>
    public AnnualReport BuildMonth(int year, int month)
    {
        var first = new DateOnly(year, month, 1);
        return Compare(Measure(first, first.AddMonths(1)), Measure(first.AddYears(-1), first.AddYears(-1).AddMonths(1)), year, withTargets: false);
    }

    /// <summary>1 January to the end of <paramref name="month"/>, beside the year's targets and the same months a year earlier.</summary>
    public AnnualReport BuildYearToDate(int year, int month)
    {
        var end = new DateOnly(year, month, 1).AddMonths(1);
        return Compare(Measure(new DateOnly(year, 1, 1), end), Measure(new DateOnly(year - 1, 1, 1), end.AddYears(-1)), year, withTargets: true);
    }

    private AnnualReport Compare(AnnualReport current, AnnualReport previous, int year, bool withTargets)
    {
        var goals = withTargets ? targets.For(year) : new Dictionary<string, double>();
        var before = previous.Rows.ToDictionary(r => r.Key);
        var rows = current.Rows.Select(r =>
        {
            var p = before.GetValueOrDefault(r.Key);
            double? target = goals.TryGetValue(r.Key, out var t) ? t : null;
            return r with
            {
                Target = target,
                Previous = p?.Value,
                PreviousDisplay = p?.Display ?? NoFigure,
                VsTarget = Difference(r.Value, target),
                VsTargetPct = Percent(r.Value, target),
                VsPrevious = Difference(r.Value, p?.Value),
                VsPreviousPct = Percent(r.Value, p?.Value),
            };
        }).ToList();
        return current with
        {
            Rows = rows,
            PreviousPeriod = previous.Period,
            PreviousHasData = previous.HasVisitorData || previous.HasEnergyData,
            TargetsSource = goals.Count == 0 ? null : targets.Source ?? Path.GetFileName(targets.File),
        };
    }

    private static double? Difference(double? value, double? reference) => value is { } v && reference is { } r ? Math.Round(v - r, 1) : null;

    private static double? Percent(double? value, double? reference) => value is { } v && reference is { } r && r != 0 ? Math.Round((v - r) / r * 100, 1) : null;

    /// <summary>The figures of the local days from <paramref name="first"/> up to (not including) <paramref name="end"/>, whole months.</summary>
    private AnnualReport Measure(DateOnly first, DateOnly end)
    {
        var buckets = visitors.Buckets;
        var fromMs = buckets.DayStart(first);
        var toMs = buckets.DayStart(end);
        var from = DateTimeOffset.FromUnixTimeMilliseconds(fromMs);
        var to = DateTimeOffset.FromUnixTimeMilliseconds(toMs);
        history.Refresh();

        // The months' totals are the period (one pass over its visitor days, not two).
        var byMonth = visitors.Report(from, to, CalendarBucket.Month);
        var isYear = first.Month == 1 && first.Day == 1 && end == first.AddYears(1);
        var yearly = isYear
            ? visitors.AsOneBucket(byMonth, CalendarBucket.Year) ?? visitors.Report(from, to, CalendarBucket.Year).Buckets.Single()
            : visitors.AsOneBucket(byMonth, CalendarBucket.Month) ?? byMonth.Totals;
        var monthly = byMonth.Buckets;
        var groupList = groups.List(fromMs, toMs);
        var rooms = history.Use(from, to);
        var energyMonths = energy.Report(from, to, CalendarBucket.Month);
        var e = energyMonths.Totals;

        // "No data" is not "zero": a period the store holds nothing for shows "–".
        var uniqueBadges = yearly.UniqueVisitors;
        var hasVisitorData = groupList.Count > 0 || uniqueBadges.Value is not 0 || HasData(site.Doors.Select(d => (d.Id, ReadingKinds.DoorValues.InTotal)), fromMs, toMs);
        var hasEnergyData = HasData(site.Meters.Select(m => (m.Id, ReadingKinds.EnergyValues.EnergyWhTotal)), fromMs, toMs);

        long Heads(Func<GroupVisit, bool> which) => groupList.Where(which).Sum(g => (long)g.HeadCount);
        bool Is(GroupVisit g, string programme) => string.Equals(g.Programme, programme, StringComparison.OrdinalIgnoreCase);
        var mboWeeks = groupList.Where(g => g.TargetGroup == "MBO").GroupBy(g => buckets.Floor(CalendarBucket.Week, groups.DayStart(g.Date))).ToList();
        var mboPerWeek = mboWeeks.Count == 0 ? 0 : Math.Round(mboWeeks.Average(w => w.Sum(g => (double)g.HeadCount)), 1);
        var uniqueTotal = (uniqueBadges.Value ?? 0) + yearly.GroupHeadCount;

        var rows = new List<AnnualRow>
        {
            Row("events", "Evenementen", "Events", yearly.EventDays, "days", $"local days with at least the event threshold of visits, or a group registered as an event"),
            Row("unique-visitors", "Unieke bezoekers events/activiteiten", "Unique visitors", uniqueTotal, "people",
                $"distinct badges ({uniqueBadges.Display}) plus registered group members ({Format(yearly.GroupHeadCount)})"),
            Shown("returning-visitors", "Terugkerende bezoekers", "Returning visitors", yearly.ReturningVisitors, "people", "badges seen on an earlier day"),
            Row("visits", "Bezoeken (binnenkomsten)", "Visits (entries from outside)", yearly.Visits, "entries", "door counters of the outside doors"),
            Row("rooms-in-use", "Ruimtes in gebruik/Labs", "Rooms in use", rooms.RoomsInUsePct, "%",
                $"{rooms.RoomsInUse} of {rooms.Rooms} rooms occupied during opening hours on at least {rooms.MinShareOfOpenDays:P0} of the open days"),
            Row("labs-active", "TechHubs/Labs", "Tech hubs and labs active", rooms.LabsActive, "rooms", $"{rooms.LabsActive} of {rooms.Labs} labs and tech hubs in use"),
            Row("technodiscovery", "Technodiscovery (PO/VMBO)", "Pupils in Technodiscovery", Heads(g => Is(g, "Technodiscovery")), "pupils", "registered groups, programme Technodiscovery"),
            Row("techniekfestival", "Techniekfestival (PO en VMBO)", "Pupils at the technology festival", Heads(g => Is(g, "Techniekfestival")), "pupils", "registered groups, programme Techniekfestival"),
            Row("techniek-tastbaar", "Techniek Tastbaar (loopbaanoriëntatie VO)", "Career orientation, secondary school", Heads(g => Is(g, "Techniek Tastbaar")), "pupils", "registered groups, programme Techniek Tastbaar"),
            Row("havo-vwo", "Havo, Vwo, Gymnasium scholieren activiteiten", "Upper secondary pupils", Heads(g => g.TargetGroup == "VO" && !Is(g, "Techniek Tastbaar") && !Is(g, "Techniekfestival")), "pupils",
                "registered VO groups outside Techniek Tastbaar and the festival"),
            Row("mbo-weekly", "MBO studenten (wekelijks)", "MBO students per week", mboPerWeek, "per week", $"registered MBO groups, mean over the {mboWeeks.Count} weeks with MBO groups"),
            Row("hbo-wo", "HBO/WO (stages/opdrachten)", "Higher-education students", Heads(g => g.TargetGroup == "HBO/WO"), "students", "registered HBO/WO groups"),
            Row("vakmensen", "Vakmensen die praktijkopleidingen volgen", "Professionals in training", Heads(g => g.TargetGroup == "vakmensen"), "people", "registered groups of vakmensen"),
            Row("zij-instromers", "Zij-instromers", "Career changers", Heads(g => g.TargetGroup == "zij-instromers"), "people", "registered groups of zij-instromers"),
            Row("group-visits", "Groepsbezoeken", "Group visits", groupList.Count, "groups", "registered group visits"),
            Row("energy-used", "Energieverbruik", "Energy used", Math.Round(e.ConsumptionWh / 1000, 1), "kWh", "grid import plus own solar used on site"),
            Row("energy-grid", "Afname van het net", "Grid import", Math.Round(e.GridImportWh / 1000, 1), "kWh", "grid meters"),
            Row("energy-solar", "Zonne-energie opgewekt", "Solar produced", Math.Round(e.SolarWh / 1000, 1), "kWh", "solar meters"),
            Row("energy-self", "Eigen verbruik zonne-energie", "Solar used on site", Math.Round(e.SelfConsumptionWh / 1000, 1), "kWh", "solar minus export"),
            Row("co2", "CO2-uitstoot (netstroom)", "CO2 from grid power", Math.Round(e.Co2Kg, 1), "kg", $"grid import × {energyMonths.Co2KgPerKwh} kg/kWh"),
        };
        rows = rows.Select(r => (EnergyRows.Contains(r.Key) ? hasEnergyData : hasVisitorData) ? r : r with { Value = null, Display = NoFigure }).ToList();

        var programmes = groupList.GroupBy(g => (g.Programme, g.TargetGroup)).OrderBy(g => g.Key.Programme, StringComparer.Ordinal).ThenBy(g => g.Key.TargetGroup, StringComparer.Ordinal)
            .Select(g => new ProgrammeRow(g.Key.Programme, g.Key.TargetGroup, g.Count(), g.Sum(v => (long)v.HeadCount))).ToList();
        var months = monthly.Select((m, i) => new MonthRow(m.Label, m.Visits, m.UniqueVisitors, m.ReturningVisitors, m.GroupHeadCount, m.EventDays,
            Math.Round(energyMonths.Buckets.ElementAtOrDefault(i)?.ConsumptionWh / 1000 ?? 0, 1), Math.Round(energyMonths.Buckets.ElementAtOrDefault(i)?.SolarWh / 1000 ?? 0, 1))).ToList();
        var now = clock.GetUtcNow();
        var period = end == first.AddYears(1) && first.Month == 1 ? first.Year.ToString(CultureInfo.InvariantCulture)
            : end == first.AddMonths(1) ? first.ToString("yyyy-MM", CultureInfo.InvariantCulture)
            : $"{first:yyyy-MM}/{end.AddMonths(-1):yyyy-MM}";
        return new AnnualReport(first.Year, site.Site, site.Name, from, to, now, rows, programmes, months, rooms, e)
        {
            Period = period,
            Partial = now < to,
            HasVisitorData = hasVisitorData,
            HasEnergyData = hasEnergyData,
        };
    }

    private bool HasData(IEnumerable<(string Sensor, string Field)> series, long fromMs, long toMs) =>
        series.Any(s => queries.SeriesId(site.Site, s.Sensor, s.Field) is { } id && queries.Rollups(id, Resolution.Month, fromMs, toMs).Count > 0);

    /// <summary>The report as CSV in the international dialect (see <see cref="ReportCsv"/>).</summary>
    public static string ToCsv(AnnualReport report) => ReportCsv.Text(report, CsvDialect.International);

    private static AnnualRow Row(string key, string nl, string en, double value, string unit, string source) =>
        new(key, nl, en, value, Format(value), unit, source);

    private static AnnualRow Shown(string key, string nl, string en, ShownCount count, string unit, string source) =>
        new(key, nl, en, count.Value, count.Value is { } v ? Format(v) : count.Display, unit, source);

    private static string Format(double value) => value.ToString(value % 1 == 0 ? "N0" : "N1", Nl);
}
