using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Reports;
using static NewTechPark.Edge.Collector.Tests.Reports.ReportFixture;

namespace NewTechPark.Edge.Collector.Tests.Reports;

public sealed class MonthlyReportTests : IDisposable
{
    private readonly TempDirectory _out = new();

    public void Dispose() => _out.Dispose();

    [Fact]
    public void The_writer_renders_a_self_contained_dutch_page_and_a_dutch_excel_csv()
    {
        using var f = new ReportFixture(Local(2026, 12, 2, 12));
        f.Visit(2025, 11, 4, 10);
        f.Visit(2026, 11, 4, 15);
        f.Groups.Register(new(new DateOnly(2026, 11, 5), "<script>alert(1)</script>", "PO", 25, null, null, null));

        var result = f.Writer.Write(new DateOnly(2026, 11, 1), _out.Path);
        Assert.True(result.HtmlWritten && result.CsvWritten);
        var html = File.ReadAllText(result.HtmlPath);
        Assert.Equal(Path.Combine(_out.Path, "ntp-maandrapport-2026-11.html"), result.HtmlPath);
        Assert.StartsWith("<!doctype html>\n<html lang=\"nl\">", html, StringComparison.Ordinal);
        Assert.Contains("<h1>Maandrapport november 2026 · Test site</h1>", html, StringComparison.Ordinal);
        Assert.Contains("Monthly report November 2026", html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);       // no script, and the programme name is text
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.DoesNotContain("src=", html, StringComparison.Ordinal);                     // nothing fetched
        Assert.DoesNotContain("<link", html, StringComparison.Ordinal);
        Assert.Matches("Bezoeken \\(binnenkomsten\\).*?<td class=\"num\">15</td><td class=\"num\">10</td><td class=\"num up\">\\+5</td><td class=\"num up\">\\+50 %</td>", html);

        var csv = File.ReadAllBytes(result.CsvPath);
        Assert.Equal(Encoding.UTF8.GetPreamble(), csv[..3]);
        var rows = ReportCsvTests.Sections(Encoding.UTF8.GetString(csv[3..]), ';')[0];
        Assert.Equal(["15", "binnenkomsten", "", "", "", "10", "5", "50"], rows.Single(r => r[0] == "visits")[3..11]);
        Assert.Empty(Directory.GetFiles(_out.Path, "*.tmp"));
    }

    [Fact]
    public void A_finished_file_is_never_replaced()
    {
        using var f = new ReportFixture(Local(2026, 12, 2, 12));
        f.Visit(2026, 11, 4, 15);
        var html = Path.Combine(_out.Path, "ntp-maandrapport-2026-11.html");
        File.WriteAllText(html, "edited by hand");

        var result = f.Writer.Write(new DateOnly(2026, 11, 1), _out.Path);
        Assert.False(result.HtmlWritten);
        Assert.True(result.CsvWritten);
        Assert.Equal("edited by hand", File.ReadAllText(html));
        Assert.False(f.Writer.Write(new DateOnly(2026, 11, 1), _out.Path).CsvWritten);
    }

    [Fact]
    public async Task The_schedule_writes_the_previous_month_after_the_settle_time_on_the_first()
    {
        // Thursday 1 December 2026, 05:00 Dutch time: November's report is due at 06:00.
        using var f = new ReportFixture(Local(2026, 12, 1, 5));
        f.Visit(2026, 10, 6, 20);
        f.Visit(2026, 11, 4, 15);
        File.WriteAllText(Path.Combine(_out.Path, "ntp-maandrapport-2026-10.html"), "already there");
        using var schedule = Schedule(f, catchUp: 3);
        await schedule.StartAsync(CancellationToken.None);

        // At start it catches up October (its missing CSV) and leaves September, which has no data, alone.
        await Eventually.UntilAsync(() => File.Exists(Path.Combine(_out.Path, "ntp-maandrapport-2026-10.csv")), "October's CSV is written");
        Assert.Equal("already there", File.ReadAllText(Path.Combine(_out.Path, "ntp-maandrapport-2026-10.html")));
        Assert.False(File.Exists(Path.Combine(_out.Path, "ntp-maandrapport-2026-11.html")));
        Assert.Empty(Directory.GetFiles(_out.Path, "*2026-09*"));

        f.Clock.Advance(TimeSpan.FromMinutes(59));
        Assert.False(File.Exists(Path.Combine(_out.Path, "ntp-maandrapport-2026-11.html")));
        f.Clock.Advance(TimeSpan.FromMinutes(1));
        await Eventually.UntilAsync(() => MonthlyReportWriter.IsComplete(_out.Path, new DateOnly(2026, 11, 1)), "November's report is written at 06:00");
        Assert.Contains("november 2026", File.ReadAllText(Path.Combine(_out.Path, "ntp-maandrapport-2026-11.html")), StringComparison.Ordinal);
        await schedule.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task After_downtime_it_catches_up_missed_months_up_to_the_bound()
    {
        using var f = new ReportFixture(Local(2026, 12, 20, 12));
        foreach (var month in new[] { 6, 7, 8, 9, 10, 11 })
        {
            f.Visit(2026, month, 10, 10 + month);
        }

        using var schedule = Schedule(f, catchUp: 4);
        await schedule.StartAsync(CancellationToken.None);
        await Eventually.UntilAsync(() => Directory.GetFiles(_out.Path, "ntp-maandrapport-*").Length == 8, "four months of reports");
        Assert.Equal(["2026-08", "2026-09", "2026-10", "2026-11"],
            Directory.GetFiles(_out.Path, "*.html").Select(p => Path.GetFileNameWithoutExtension(p)["ntp-maandrapport-".Length..]).Order().ToArray());
        await schedule.StopAsync(CancellationToken.None);
    }

    [Theory]
    [InlineData("2026-12-01T04:59:59Z", "2026-10", "2026-12-01T05:00:00Z")] // 05:59:59 Dutch time: November not yet due
    [InlineData("2026-12-01T05:00:00Z", "2026-11", "2027-01-01T05:00:00Z")]
    [InlineData("2026-03-31T12:00:00Z", "2026-02", "2026-04-01T04:00:00Z")] // April starts in summer time
    public void The_due_month_and_next_run_follow_local_time(string now, string lastDue, string next)
    {
        using var f = new ReportFixture(DateTimeOffset.Parse(now, System.Globalization.CultureInfo.InvariantCulture));
        using var schedule = Schedule(f, catchUp: 1);
        var due = schedule.Due(f.Clock.GetUtcNow(), TimeSpan.FromHours(6));
        Assert.Equal(lastDue, due.LastDue.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal(DateTimeOffset.Parse(next, System.Globalization.CultureInfo.InvariantCulture), due.Next);
    }

    private MonthlyReportSchedule Schedule(ReportFixture f, int catchUp)
    {
        var options = new CollectorOptions { Report = { Monthly = { Folder = _out.Path, SettleTime = TimeSpan.FromHours(6), CatchUpMonths = catchUp } } };
        return new MonthlyReportSchedule(f.Writer, EnergyTests.MeteredSite, Options.Create(options), f.Clock, NullLogger<MonthlyReportSchedule>.Instance);
    }
}
