using System.Globalization;
using System.Text;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Visitors;

namespace NewTechPark.Edge.Collector.Reports;

/// <summary>One row of the "results in figures" table.</summary>
public sealed record AnnualRow(string Key, string LabelNl, string LabelEn, double? Value, string Display, string Unit, string Source);

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
    EnergyBucket Energy);

/// <summary>
/// Rebuilds the annual report's "results in figures" (ANNUAL-FIGURES.md, the rows a building can
/// measure) for one local calendar year: events, unique and returning visitors, rooms in use,
/// labs active, pupils per programme and target group, and energy.
/// </summary>
public sealed class AnnualReportService(SiteModel site, VisitorsService visitors, GroupVisits groups, OccupancyHistory history, EnergyService energy, TimeProvider clock)
{
    private static readonly CultureInfo Nl = CultureInfo.GetCultureInfo("nl-NL");

    public AnnualReport Build(int year)
    {
        var buckets = visitors.Buckets;
        var fromMs = buckets.DayStart(new DateOnly(year, 1, 1));
        var toMs = buckets.DayStart(new DateOnly(year + 1, 1, 1));
        var from = DateTimeOffset.FromUnixTimeMilliseconds(fromMs);
        var to = DateTimeOffset.FromUnixTimeMilliseconds(toMs);
        history.Refresh();

        // The months' totals are the year (one pass over its visitor days, not two).
        var byMonth = visitors.Report(from, to, CalendarBucket.Month);
        var yearly = visitors.AsOneBucket(byMonth, CalendarBucket.Year) ?? visitors.Report(from, to, CalendarBucket.Year).Buckets.Single();
        var monthly = byMonth.Buckets;
        var groupList = groups.List(fromMs, toMs);
        var rooms = history.Use(from, to);
        var energyMonths = energy.Report(from, to, CalendarBucket.Month);
        var e = energyMonths.Totals;

        long Heads(Func<GroupVisit, bool> which) => groupList.Where(which).Sum(g => (long)g.HeadCount);
        bool Is(GroupVisit g, string programme) => string.Equals(g.Programme, programme, StringComparison.OrdinalIgnoreCase);
        var mboWeeks = groupList.Where(g => g.TargetGroup == "MBO").GroupBy(g => buckets.Floor(CalendarBucket.Week, groups.DayStart(g.Date))).ToList();
        var mboPerWeek = mboWeeks.Count == 0 ? 0 : Math.Round(mboWeeks.Average(w => w.Sum(g => (double)g.HeadCount)), 1);
        var uniqueBadges = yearly.UniqueVisitors;
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

        var programmes = groupList.GroupBy(g => (g.Programme, g.TargetGroup)).OrderBy(g => g.Key.Programme, StringComparer.Ordinal).ThenBy(g => g.Key.TargetGroup, StringComparer.Ordinal)
            .Select(g => new ProgrammeRow(g.Key.Programme, g.Key.TargetGroup, g.Count(), g.Sum(v => (long)v.HeadCount))).ToList();
        var months = monthly.Select((m, i) => new MonthRow(m.Label, m.Visits, m.UniqueVisitors, m.ReturningVisitors, m.GroupHeadCount, m.EventDays,
            Math.Round(energyMonths.Buckets.ElementAtOrDefault(i)?.ConsumptionWh / 1000 ?? 0, 1), Math.Round(energyMonths.Buckets.ElementAtOrDefault(i)?.SolarWh / 1000 ?? 0, 1))).ToList();
        return new AnnualReport(year, site.Site, site.Name, from, to, clock.GetUtcNow(), rows, programmes, months, rooms, e);
    }

    /// <summary>The report as CSV (comma-separated, UTF-8, one header line): the rows, then the programmes.</summary>
    public static string ToCsv(AnnualReport report)
    {
        var csv = new StringBuilder();
        csv.AppendLine("key,label_nl,label_en,value,unit,source");
        foreach (var row in report.Rows)
        {
            csv.AppendLine(string.Join(',', Escape(row.Key), Escape(row.LabelNl), Escape(row.LabelEn), Escape(row.Display), Escape(row.Unit), Escape(row.Source)));
        }

        foreach (var p in report.Programmes)
        {
            csv.AppendLine(string.Join(',', Escape($"programme:{p.Programme}:{p.TargetGroup}"), Escape($"{p.Programme} ({p.TargetGroup})"), Escape($"{p.Programme} ({p.TargetGroup})"),
                p.HeadCount.ToString(CultureInfo.InvariantCulture), "pupils", Escape($"{p.Groups} registered group(s)")));
        }

        return csv.ToString();
    }

    private static AnnualRow Row(string key, string nl, string en, double value, string unit, string source) =>
        new(key, nl, en, value, Format(value), unit, source);

    private static AnnualRow Shown(string key, string nl, string en, ShownCount count, string unit, string source) =>
        new(key, nl, en, count.Value, count.Value is { } v ? Format(v) : count.Display, unit, source);

    private static string Format(double value) => value.ToString(value % 1 == 0 ? "N0" : "N1", Nl);

    private static string Escape(string text) =>
        text.IndexOfAny([',', '"', '\n', '\r']) >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text;
}
