using System.Globalization;
using System.Net;
using System.Text;

namespace NewTechPark.Edge.Collector.Reports;

/// <summary>
/// The monthly report as one self-contained HTML page: rendered on the server, styles inline, no
/// script and nothing fetched, so it opens from a mail attachment or a file share and prints.
/// Dutch first, English beneath in grey. Every text from settings or forms is HTML-encoded.
/// </summary>
public static class MonthlyReportHtml
{
    internal static readonly CultureInfo Nl = CultureInfo.GetCultureInfo("nl-NL");

    private const string Style = """
        body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b2430;margin:2rem auto;max-width:60rem;padding:0 1rem;line-height:1.4}
        h1{margin:0 0 .2rem;font-size:1.6rem}h2{margin:2rem 0 .4rem;font-size:1.15rem;border-bottom:2px solid #1f5fbf;padding-bottom:.2rem}
        .en{color:#667085;font-weight:normal;font-size:.85em}p.en{margin-top:0}
        table{border-collapse:collapse;width:100%;font-size:.92rem}th,td{padding:.3rem .5rem;border-bottom:1px solid #dde3ea;text-align:left;vertical-align:top}
        th{background:#f2f5f9}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
        .up{color:#1e7a45}.down{color:#b42318}.muted{color:#667085;font-size:.85rem}
        @media print{body{margin:0;max-width:none}h2{break-after:avoid}tr{break-inside:avoid}}
        """;

    public static string Render(AnnualReport month, AnnualReport yearToDate, TimeZoneInfo zone)
    {
        var first = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(month.From, zone).DateTime);
        var monthNl = first.ToString("MMMM yyyy", Nl);
        var monthEn = first.ToString("MMMM yyyy", CultureInfo.InvariantCulture);
        var previousNl = first.AddYears(-1).ToString("MMM yyyy", Nl);
        var html = new StringBuilder();
        Head(html, $"Maandrapport {monthNl}", $"Monthly report {monthEn}", month);
        html.Append("<p class=\"muted\">Gemeten van 1 tot en met ").Append(first.AddMonths(1).AddDays(-1).ToString("d MMMM yyyy", Nl))
            .Append(" (Nederlandse tijd); opgesteld ").Append(E(TimeZoneInfo.ConvertTime(month.Generated, zone).ToString("d MMMM yyyy HH:mm", Nl))).Append(".</p>\n");

        Heading(html, "De maand in cijfers", "The month in figures");
        html.Append("<table>\n<thead><tr><th>Onderdeel <span class=\"en\">Row</span></th><th class=\"num\">").Append(E(first.ToString("MMM yyyy", Nl)))
            .Append("</th><th class=\"num\">").Append(E(previousNl)).Append("</th><th class=\"num\">Verschil <span class=\"en\">change</span></th><th class=\"num\">%</th><th>Eenheid <span class=\"en\">unit</span></th></tr></thead>\n<tbody>\n");
        foreach (var r in month.Rows)
        {
            html.Append("<tr><td>").Append(E(r.LabelNl)).Append(" <span class=\"en\" lang=\"en\">").Append(E(r.LabelEn)).Append("</span></td>")
                .Append(Num(r.Display)).Append(Num(r.PreviousDisplay)).Append(Change(r.VsPrevious, null)).Append(Change(r.VsPreviousPct, " %"))
                .Append("<td>").Append(E(ReportCsv.UnitNl(r.Unit))).Append("</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n");

        Heading(html, $"Het jaar tot nu toe tegen de doelen ({yearToDate.Period.Replace('/', '–')})", "Year to date against the targets");
        html.Append("<table>\n<thead><tr><th>Onderdeel <span class=\"en\">Row</span></th><th class=\"num\">").Append(E(yearToDate.Year.ToString(CultureInfo.InvariantCulture))).Append(" t/m ").Append(E(first.ToString("MMM", Nl)))
            .Append("</th><th class=\"num\">Doel <span class=\"en\">target</span> ").Append(yearToDate.Year).Append("</th><th class=\"num\">Behaald <span class=\"en\">reached</span></th><th class=\"num\">")
            .Append(yearToDate.Year - 1).Append(" t/m ").Append(E(first.ToString("MMM", Nl))).Append("</th><th class=\"num\">Verschil <span class=\"en\">change</span></th></tr></thead>\n<tbody>\n");
        foreach (var r in yearToDate.Rows)
        {
            // Share of the year's target reached so far (a rate such as % rooms in use is compared as it stands).
            var reached = r.Value is { } v && r.Target is { } t && t != 0 ? (double?)Math.Round(v / t * 100, 0) : null;
            html.Append("<tr><td>").Append(E(r.LabelNl)).Append(" <span class=\"en\" lang=\"en\">").Append(E(r.LabelEn)).Append("</span></td>")
                .Append(Num(r.Display)).Append(Num(r.Target is { } target ? Format(target) : AnnualReportService.NoFigure))
                .Append(Num(reached is { } p ? $"{Format(p)} %" : AnnualReportService.NoFigure)).Append(Num(r.PreviousDisplay)).Append(Change(r.VsPrevious, null)).Append("</tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
        html.Append("<p class=\"muted\">").Append(yearToDate.TargetsSource is { } source ? "Doelen: " + E(source) + "." : $"Geen doelen vastgelegd voor {yearToDate.Year} (– = geen doel). <span lang=\"en\">No targets set for this year.</span>").Append("</p>\n");

        RoomsProgrammesAndFoot(html, month, "deze maand", "this month");
        return html.ToString();
    }

    /// <summary>The page's head and title (Dutch, English beneath); shared with <see cref="YearlyReportHtml"/>.</summary>
    internal static void Head(StringBuilder html, string titleNl, string titleEn, AnnualReport report)
    {
        html.Append("<!doctype html>\n<html lang=\"nl\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
            .Append("<title>").Append(E(titleNl)).Append(" · ").Append(E(report.SiteName)).Append("</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n")
            .Append("<h1>").Append(E(titleNl)).Append(" · ").Append(E(report.SiteName)).Append("</h1>\n")
            .Append("<p class=\"en\" lang=\"en\">").Append(E(titleEn)).Append("</p>\n");
    }

    /// <summary>Rooms, programmes and the closing note; shared with <see cref="YearlyReportHtml"/>.</summary>
    internal static void RoomsProgrammesAndFoot(StringBuilder html, AnnualReport report, string periodNl, string periodEn)
    {
        Heading(html, "Ruimtes", "Rooms");
        html.Append("<table>\n<thead><tr><th>Ruimte <span class=\"en\">room</span></th><th class=\"num\">Bezetting openingsuren <span class=\"en\">utilisation</span></th><th class=\"num\">Dagen in gebruik <span class=\"en\">days in use</span></th><th class=\"num\">Binnengekomen <span class=\"en\">entries</span></th></tr></thead>\n<tbody>\n");
        foreach (var r in report.Rooms.PerRoom)
        {
            html.Append("<tr><td>").Append(E(r.NameNl)).Append("</td>").Append(Num($"{Format(Math.Round(r.Utilisation * 100, 1))} %"))
                .Append(Num($"{r.DaysInUse} / {r.OpenDays}")).Append(Num(Format(r.Entries))).Append("</tr>\n");
        }

        html.Append("</tbody>\n</table>\n");

        Heading(html, "Deelnemers per programma en doelgroep", "Participants per programme and target group");
        if (report.Programmes.Count == 0)
        {
            html.Append("<p class=\"muted\">Geen groepen geregistreerd " + periodNl + ". <span lang=\"en\">No groups registered " + periodEn + ".</span></p>\n");
        }
        else
        {
            html.Append("<table>\n<thead><tr><th>Programma <span class=\"en\">programme</span></th><th>Doelgroep <span class=\"en\">target group</span></th><th class=\"num\">Groepen <span class=\"en\">groups</span></th><th class=\"num\">Deelnemers <span class=\"en\">participants</span></th></tr></thead>\n<tbody>\n");
            foreach (var p in report.Programmes)
            {
                html.Append("<tr><td>").Append(E(p.Programme)).Append("</td><td>").Append(E(p.TargetGroup)).Append("</td>").Append(Num(Format(p.Groups))).Append(Num(Format(p.HeadCount))).Append("</tr>\n");
            }

            html.Append("</tbody>\n</table>\n");
        }

        html.Append("<p class=\"muted\">– = geen gegevens of geen doel. Aantallen van 1 tot 4 bezoekers met een pas staan er als „&lt; 5” (privacy). Gemeten door NewTechPark.Edge.<br>")
            .Append("<span lang=\"en\">– = no data or no target. Badge counts from 1 to 4 are shown as “&lt; 5” (privacy). Measured by NewTechPark.Edge.</span></p>\n</body>\n</html>\n");
    }

    internal static void Heading(StringBuilder html, string nl, string en) =>
        html.Append("<h2>").Append(E(nl)).Append(" <span class=\"en\" lang=\"en\">").Append(E(en)).Append("</span></h2>\n");

    internal static string Num(string text) => $"<td class=\"num\">{E(text)}</td>";

    internal static string Change(double? difference, string? suffix) => difference switch
    {
        null => Num(AnnualReportService.NoFigure),
        > 0 => $"<td class=\"num up\">+{E(Format(difference.Value))}{suffix}</td>",
        < 0 => $"<td class=\"num down\">{E(Format(difference.Value))}{suffix}</td>",
        _ => Num($"0{suffix}"),
    };

    internal static string Format(double value) => value.ToString(value % 1 == 0 ? "N0" : "N1", Nl);

    internal static string E(string text) => WebUtility.HtmlEncode(text);
}
