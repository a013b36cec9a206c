using System.Globalization;
using System.Text;

namespace NewTechPark.Edge.Collector.Reports;

/// <summary>How a CSV file separates cells and writes decimals.</summary>
public sealed record CsvDialect(string Name, char Separator, CultureInfo Culture, bool Dutch)
{
    /// <summary>Comma and decimal point, English headers: scripts, English-language spreadsheets.</summary>
    public static readonly CsvDialect International = new("en", ',', CultureInfo.InvariantCulture, Dutch: false);

    /// <summary>What Dutch Excel opens by double-click: semicolon and decimal comma, Dutch headers.</summary>
    public static readonly CsvDialect DutchExcel = new("nl", ';', CultureInfo.GetCultureInfo("nl-NL"), Dutch: true);
}

/// <summary>
/// The report as CSV that spreadsheets open correctly: UTF-8 with a byte order mark (Excel reads
/// UTF-8 only then), one section per table (rows, months, rooms, programmes) separated by an
/// empty line, each with its own header line. Numbers stay numbers: no thousands separators, no
/// units in the cell, the dialect's decimal mark. Text is quoted only when it must be, and a text
/// cell that a spreadsheet would run as a formula (= + - @, tab, CR) gets a leading apostrophe:
/// room names and programmes come from settings and forms, so they are not trusted.
/// </summary>
public static class ReportCsv
{
    /// <summary>Picks the dialect: <c>format=nl</c> or <c>format=en</c> say it; <c>format=csv</c> follows the first language of Accept-Language.</summary>
    public static CsvDialect Negotiate(string format, string? acceptLanguage)
    {
        if (format == "nl")
        {
            return CsvDialect.DutchExcel;
        }

        if (format == "en")
        {
            return CsvDialect.International;
        }

        var first = (acceptLanguage ?? string.Empty).Split(',', 2)[0].Trim();
        return first.StartsWith("nl", StringComparison.OrdinalIgnoreCase) ? CsvDialect.DutchExcel : CsvDialect.International;
    }

    /// <summary>The file's bytes: the UTF-8 byte order mark, then the text.</summary>
    public static byte[] Bytes(AnnualReport report, CsvDialect dialect) => [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes(Text(report, dialect))];

    public static string Text(AnnualReport report, CsvDialect dialect)
    {
        var csv = new StringBuilder();
        var nl = dialect.Dutch;
        void Line(params object?[] cells) => csv.Append(string.Join(dialect.Separator, cells.Select(c => Cell(c, dialect)))).Append("\r\n");

        Line(nl ? "sleutel" : "key", "label_nl", "label_en", nl ? "waarde" : "value", nl ? "eenheid" : "unit", nl ? "doel" : "target", nl ? "verschil_doel" : "vs_target",
            nl ? "verschil_doel_pct" : "vs_target_pct", nl ? $"vorige_periode_{report.PreviousPeriod}" : $"previous_{report.PreviousPeriod}", nl ? "verschil_vorige" : "vs_previous",
            nl ? "verschil_vorige_pct" : "vs_previous_pct", nl ? "bron" : "source");
        foreach (var r in report.Rows)
        {
            // A hidden count ("< 5") stays text; a missing figure is an empty cell, never 0.
            object? value = r.Value is { } v ? v : r.Display == AnnualReportService.NoFigure ? null : r.Display;
            object? previous = r.Previous is { } p ? p : r.PreviousDisplay == AnnualReportService.NoFigure ? null : r.PreviousDisplay;
            Line(r.Key, r.LabelNl, r.LabelEn, value, nl ? UnitNl(r.Unit) : r.Unit, r.Target, r.VsTarget, r.VsTargetPct, previous, r.VsPrevious, r.VsPreviousPct, r.Source);
        }

        csv.Append("\r\n");
        Line(nl ? "maand" : "month", nl ? "bezoeken" : "visits", nl ? "unieke_bezoekers" : "unique_visitors", nl ? "terugkerend" : "returning_visitors",
            nl ? "groepsleden" : "group_head_count", nl ? "evenementdagen" : "event_days", nl ? "verbruik_kwh" : "consumption_kwh", nl ? "zon_kwh" : "solar_kwh");
        foreach (var m in report.Months)
        {
            Line(m.Month, m.Visits, Shown(m.UniqueVisitors), Shown(m.ReturningVisitors), m.GroupHeadCount, m.EventDays, m.ConsumptionKwh, m.SolarKwh);
        }

        csv.Append("\r\n");
        Line(nl ? "ruimte" : "room", nl ? "naam" : "name", nl ? "soort" : "kind", nl ? "bezetting_openingsuren_pct" : "utilisation_pct", nl ? "dagen_in_gebruik" : "days_in_use",
            nl ? "open_dagen" : "open_days", nl ? "binnengekomen" : "entries", nl ? "in_gebruik" : "in_use");
        foreach (var r in report.Rooms.PerRoom)
        {
            Line(r.Room, r.NameNl, r.Kind, Math.Round(r.Utilisation * 100, 1), r.DaysInUse, r.OpenDays, r.Entries, r.InUse ? (nl ? "ja" : "yes") : (nl ? "nee" : "no"));
        }

        csv.Append("\r\n");
        Line(nl ? "programma" : "programme", nl ? "doelgroep" : "target_group", nl ? "groepen" : "groups", nl ? "deelnemers" : "head_count");
        foreach (var p in report.Programmes)
        {
            Line(p.Programme, p.TargetGroup, p.Groups, p.HeadCount);
        }

        return csv.ToString();
    }

    /// <summary>A row's unit in Dutch.</summary>
    public static string UnitNl(string unit) => unit switch
    {
        "days" => "dagen",
        "people" => "personen",
        "entries" => "binnenkomsten",
        "rooms" => "ruimtes",
        "pupils" => "leerlingen",
        "students" => "studenten",
        "groups" => "groepen",
        _ => unit,
    };

    private static object? Shown(Visitors.ShownCount count) => count.Value is { } v ? v : count.Display;

    private static string Cell(object? value, CsvDialect dialect) => value switch
    {
        null => string.Empty,
        double d => d.ToString("0.###", dialect.Culture),
        long or int => Convert.ToString(value, CultureInfo.InvariantCulture)!,
        _ => Text(Convert.ToString(value, CultureInfo.InvariantCulture) ?? string.Empty, dialect.Separator),
    };

    private static string Text(string text, char separator)
    {
        if (text.Length > 0 && text[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            text = "'" + text;
        }

        return text.IndexOfAny([separator, '"', '\n', '\r']) >= 0 ? $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"" : text;
    }
}
