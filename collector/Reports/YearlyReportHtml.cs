using System.Globalization;
using System.Text;
using static NewTechPark.Edge.Collector.Reports.MonthlyReportHtml;

namespace NewTechPark.Edge.Collector.Reports;

/// <summary>
/// The yearly report as one self-contained HTML page, in the monthly report's form (same style,
/// head, rooms, programmes and note, see <see cref="MonthlyReportHtml"/>): the year's figures beside
/// its targets and the previous year, then the year month by month. Dutch first, English beneath.
/// </summary>
public static class YearlyReportHtml
{
    public static string Render(AnnualReport year, TimeZoneInfo zone)
    {
        var html = new StringBuilder();
        var label = year.Year.ToString(CultureInfo.InvariantCulture);
        Head(html, $"Jaarrapport {label}", $"Annual report {label}", year);
        html.Append("<p class=\"muted\">Gemeten van 1 januari tot en met 31 december ").Append(label)
            .Append(" (Nederlandse tijd)").Append(year.Partial ? "; het jaar loopt nog: de cijfers zijn tot nu toe" : "")
            .Append("; opgesteld ").Append(E(TimeZoneInfo.ConvertTime(year.Generated, zone).ToString("d MMMM yyyy HH:mm", Nl))).Append(".")
            .Append(year.Partial ? " <span class=\"en\" lang=\"en\">The year has not ended: figures so far.</span>" : "").Append("</p>\n");

        Heading(html, "Het jaar in cijfers", "The year in figures");
        html.Append("<table>\n<thead><tr><th>Onderdeel <span class=\"en\">Row</span></th><th class=\"num\">").Append(label)
            .Append("</th><th class=\"num\">Doel <span class=\"en\">target</span></th><th class=\"num\">t.o.v. doel <span class=\"en\">vs target</span></th><th class=\"num\">")
            .Append(year.Year - 1).Append("</th><th class=\"num\">Verschil <span class=\"en\">change</span></th><th class=\"num\">%</th><th>Eenheid <span class=\"en\">unit</span></th></tr></thead>\n<tbody>\n");
        foreach (var r in year.Rows)
        {
            html.Append("<tr><td>").Append(E(r.LabelNl)).Append(" <span class=\"en\" lang=\"en\">").Append(E(r.LabelEn)).Append("</span></td>")
                .Append(Num(r.Display)).Append(Num(r.Target is { } target ? Format(target) : AnnualReportService.NoFigure)).Append(Change(r.VsTarget, null))
                .Append(Num(r.PreviousDisplay)).Append(Change(r.VsPrevious, null)).Append(Change(r.VsPreviousPct, " %"))
                .Append("<td>").Append(E(ReportCsv.UnitNl(r.Unit))).Append("</td></tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
        html.Append("<p class=\"muted\">").Append(year.TargetsSource is { } source ? "Doelen: " + E(source) + "." : $"Geen doelen vastgelegd voor {label} (– = geen doel). <span lang=\"en\">No targets set for this year.</span>").Append("</p>\n");

        Heading(html, "Per maand", "Month by month");
        html.Append("<table>\n<thead><tr><th>Maand <span class=\"en\">month</span></th><th class=\"num\">Bezoeken <span class=\"en\">visits</span></th><th class=\"num\">Unieke bezoekers <span class=\"en\">unique</span></th>")
            .Append("<th class=\"num\">Terugkerend <span class=\"en\">returning</span></th><th class=\"num\">Deelnemers groepen <span class=\"en\">group participants</span></th><th class=\"num\">Evenementdagen <span class=\"en\">event days</span></th>")
            .Append("<th class=\"num\">Verbruik kWh <span class=\"en\">consumption</span></th><th class=\"num\">Zon kWh <span class=\"en\">solar</span></th></tr></thead>\n<tbody>\n");
        foreach (var m in year.Months)
        {
            html.Append("<tr><td>").Append(E(MonthName(m.Month))).Append("</td>").Append(Num(Format(m.Visits))).Append(Num(m.UniqueVisitors.Display)).Append(Num(m.ReturningVisitors.Display))
                .Append(Num(Format(m.GroupHeadCount))).Append(Num(Format(m.EventDays))).Append(Num(Format(Math.Round(m.ConsumptionKwh, 1)))).Append(Num(Format(Math.Round(m.SolarKwh, 1)))).Append("</tr>\n");
        }

        html.Append("</tbody>\n</table>\n");
        RoomsProgrammesAndFoot(html, year, "dit jaar", "this year");
        return html.ToString();
    }

    /// <summary>"2026-11" as "november 2026"; any other text as it is.</summary>
    private static string MonthName(string month) =>
        DateOnly.TryParseExact(month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var first) ? first.ToString("MMMM yyyy", Nl) : month;
}
