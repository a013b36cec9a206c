using System.Text;
using NewTechPark.Edge.Collector.Reports;
using static NewTechPark.Edge.Collector.Tests.Reports.ReportFixture;

namespace NewTechPark.Edge.Collector.Tests.Reports;

/// <summary>The yearly report's files (<c>collector report --year</c>): the monthly page's form, the year beside its targets and the year before.</summary>
public sealed class YearlyReportTests : IDisposable
{
    private readonly TempDirectory _out = new();

    public void Dispose() => _out.Dispose();

    [Fact]
    public void The_year_is_written_beside_its_targets_and_the_previous_year_month_by_month()
    {
        var targets = new ReportTargets(null, "Eindrapportage <2026>", new Dictionary<int, IReadOnlyDictionary<string, double>> { [2026] = new Dictionary<string, double> { ["visits"] = 20 } });
        using var f = new ReportFixture(Local(2027, 1, 5, 12), targets);
        f.Visit(2025, 3, 4, 10);
        f.Visit(2026, 3, 4, 15);
        f.Visit(2026, 11, 4, 9);

        var result = f.Writer.WriteYear(2026, _out.Path);
        Assert.True(result.HtmlWritten && result.CsvWritten);
        Assert.Equal(Path.Combine(_out.Path, "ntp-jaarrapport-2026.html"), result.HtmlPath);
        var html = File.ReadAllText(result.HtmlPath);
        Assert.StartsWith("<!doctype html>\n<html lang=\"nl\">", html, StringComparison.Ordinal);
        Assert.Contains("<h1>Jaarrapport 2026 · Test site</h1>", html, StringComparison.Ordinal);
        Assert.Contains("Annual report 2026", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Doelen: Eindrapportage &lt;2026&gt;.", html, StringComparison.Ordinal);
        // visits: 24 this year, target 20 (+4), 10 the year before (+14, +140 %).
        Assert.Matches("Bezoeken \\(binnenkomsten\\).*?<td class=\"num\">24</td><td class=\"num\">20</td><td class=\"num up\">\\+4</td><td class=\"num\">10</td><td class=\"num up\">\\+14</td><td class=\"num up\">\\+140 %</td>", html);
        Assert.Matches("<td>maart 2026</td><td class=\"num\">15</td>", html);
        Assert.Matches("<td>november 2026</td><td class=\"num\">9</td>", html);
        Assert.Contains("Geen groepen geregistreerd dit jaar.", html, StringComparison.Ordinal);

        var csv = File.ReadAllBytes(result.CsvPath);
        Assert.Equal(Encoding.UTF8.GetPreamble(), csv[..3]);
        var rows = ReportCsvTests.Sections(Encoding.UTF8.GetString(csv[3..]), ';')[0];
        Assert.Equal("24", rows.Single(r => r[0] == "visits")[3]);

        // Left as it was, unless replaced.
        Assert.False(f.Writer.WriteYear(2026, _out.Path).HtmlWritten);
        Assert.True(f.Writer.WriteYear(2026, _out.Path, replace: true, dialect: CsvDialect.International).CsvWritten);
        Assert.Equal("24", ReportCsvTests.Sections(Encoding.UTF8.GetString(File.ReadAllBytes(result.CsvPath)[3..]), ',')[0].Single(r => r[0] == "visits")[3]);
    }

    [Fact]
    public void A_year_still_running_says_its_figures_are_so_far()
    {
        using var f = new ReportFixture(Local(2026, 11, 20, 12));
        f.Visit(2026, 11, 4, 7);
        var html = File.ReadAllText(f.Writer.WriteYear(2026, _out.Path).HtmlPath);
        Assert.Contains("het jaar loopt nog", html, StringComparison.Ordinal);
        Assert.Contains("Geen doelen vastgelegd voor 2026", html, StringComparison.Ordinal);
    }
}
