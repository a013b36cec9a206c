using NewTechPark.Edge.Collector.CommandLine;
using NewTechPark.Edge.Collector.Region;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Tests.Region;

/// <summary>
/// The region yearly report's arguments and its adding up of VictoriaMetrics export lines, hostile
/// ones included (the real VictoriaMetrics run is in Reliability.Tests' RegionTierTests).
/// </summary>
public sealed class RegionReportTests
{
    private static readonly TimeBuckets Amsterdam = TimeBuckets.Amsterdam;

    [Theory]
    [InlineData("region report --out x --url http://127.0.0.1:1 --year 1999", "--year 1999 is not a year from 2000 to 2100.")]
    [InlineData("region report --out x --year 2026", "Option '--url' is required.")]
    [InlineData("region report --out x --year 2026 --url ftp://vm.local", "--url 'ftp://vm.local' is not an http or https address")]
    [InlineData("region report --out x --year 2026 --url http://vm.local/?a=b", "is not an http or https address without a query")]
    [InlineData("region report --out x --year 2026 --url http://vm.local --time-zone Mars/Olympus", "--time-zone 'Mars/Olympus' is not a known time zone")]
    [InlineData("region report --out x --year 2026 --url http://vm.local --csv fr", "fr")]
    public async Task Wrong_arguments_are_refused_by_name_with_exit_code_2(string args, string message)
    {
        var error = new StringWriter();
        Assert.Equal(2, await CollectorCommandLine.RunAsync(args.Split(' '), TextWriter.Null, error));
        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unreachable_server_is_said_in_one_line_with_exit_code_1()
    {
        using var dir = new TempDirectory();
        var error = new StringWriter();
        var exit = await CollectorCommandLine.RunAsync(["region", "report", "--year", "2026", "--url", $"http://127.0.0.1:{FreePort.Next()}", "--out", dir.Path], TextWriter.Null, error);
        Assert.Equal(1, exit);
        Assert.Contains("collector region report: reading http://127.0.0.1:", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Days_add_up_per_site_a_repeat_counts_once_other_years_and_hostile_series_are_left_out()
    {
        long Day(int month, int day) => Amsterdam.DayStart(new DateOnly(2026, month, day));
        string Line(string name, string site, long[] ts, double[] values, string? role = null) =>
            $$"""{"metric":{"__name__":"{{name}}","site":"{{site}}"{{(role is null ? string.Empty : $",\"role\":\"{role}\"")}}},"values":[{{string.Join(',', values.Select(v => v.ToString(System.Globalization.CultureInfo.InvariantCulture)))}}],"timestamps":[{{string.Join(',', ts)}}]}""";
        var lastYear = Amsterdam.DayStart(new DateOnly(2025, 12, 31));
        string[] lines =
        [
            Line("region_visitors_day_visits", "noord", [lastYear, Day(1, 1), Day(1, 1), Day(3, 29)], [1000, 10, 10, 5]),
            Line("region_visitors_day_unique_year", "noord", [Day(1, 1), Day(3, 29)], [7, 9]),
            Line("region_visitors_day_visits", "zuid", [Day(11, 30)], [20]),
            Line("region_visitors_day_unique_year", "zuid", [Day(11, 30)], [4]),
            Line("region_energy_day_wh", "zuid", [Day(11, 30)], [1500], role: "use"),
            Line("region_visitors_day_visits", "<script>", [Day(1, 1)], [99]),
            Line("region_visitors_day_visits", "Upper", [Day(1, 1)], [99]),
            """{"metric":{"__name__":"region_visitors_day_visits"},"values":[1],"timestamps":[1]}""",
            """{"metric":{"__name__":"region_visitors_day_visits","site":"oost"},"values":[1,2],"timestamps":[1]}""",
        ];
        var report = RegionReport.Add(lines, 2026, Amsterdam, "Europe/Amsterdam");
        Assert.Equal(["noord", "zuid"], report.Sites);
        Assert.Equal(4, report.SkippedSeries);
        var visits = report.Rows.Single(r => r.Key == "visits");
        Assert.Equal(15, visits.PerSite["noord"]);
        Assert.Equal(20, visits.PerSite["zuid"]);
        Assert.Equal(35, visits.Total);
        var unique = report.Rows.Single(r => r.Key == "unique");
        Assert.Equal(9, unique.PerSite["noord"]);
        Assert.Equal(13, unique.Total);
        Assert.Null(report.Rows.Single(r => r.Key == "use_kwh").PerSite["noord"]);
        Assert.Equal(1.5, report.Rows.Single(r => r.Key == "use_kwh").Total);
        Assert.Equal(10, report.Rows.Single(r => r.Key == "visits_2026_01").PerSite["noord"]);

        var csv = RegionReport.Csv(report, dutch: true).Split("\r\n");
        Assert.Equal("figure;omschrijving;noord;zuid;totaal", csv[0]);
        Assert.Contains("use_kwh;Energieverbruik (kWh);;1,5;1,5", csv);
        var html = RegionReport.Html(report);
        Assert.DoesNotContain("<script>", html, StringComparison.Ordinal);
        Assert.Contains("telt twee keer", html, StringComparison.Ordinal);
    }
}
