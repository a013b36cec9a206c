using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Reports;

namespace NewTechPark.Edge.Collector.Tests.Reports;

public sealed class ReportTargetsTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void The_shipped_targets_carry_the_end_reports_2023_and_2024_targets_and_nothing_later()
    {
        var options = new CollectorOptions { SiteFile = Path.Combine(AppContext.BaseDirectory, "shipped-site", "default-site.json") };
        var (path, named) = ReportTargets.Locate(options);
        Assert.False(named);
        Assert.Equal("targets.json", Path.GetFileName(path));
        var targets = ReportTargets.Load(options);
        Assert.Equal([2023, 2024], targets.Years);
        Assert.Equal(70, targets.For(2024)["events"]);
        Assert.Equal(17_000, targets.For(2024)["unique-visitors"]);
        Assert.Equal(80, targets.For(2023)["rooms-in-use"]);
        Assert.Equal(4_500, targets.For(2024)["technodiscovery"]);
        Assert.False(targets.For(2024).ContainsKey("returning-visitors")); // "to be determined" in the end report
        Assert.Empty(targets.For(2025));                                   // never carried forward
        Assert.All(targets.For(2024).Keys, key => Assert.Contains(key, AnnualReportService.RowKeys));
    }

    [Fact]
    public void No_file_beside_the_site_file_means_no_targets_but_a_named_file_must_exist()
    {
        var site = _dir.File("site.json");
        File.WriteAllText(site, "{}");
        Assert.Same(ReportTargets.None, ReportTargets.Load(new CollectorOptions { SiteFile = site }));
        var validator = new ReportOptionsValidator();
        Assert.True(validator.Validate(null, new CollectorOptions { SiteFile = site }).Succeeded);
        var named = new CollectorOptions { SiteFile = site, Report = { TargetsFile = _dir.File("missing.json") } };
        var refused = validator.Validate(null, named);
        Assert.True(refused.Failed);
        Assert.Contains("Collector:Report:TargetsFile", refused.FailureMessage, StringComparison.Ordinal);
        Assert.Contains("missing.json", refused.FailureMessage, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{ "targets": { "2024": { "evenementen": 70 } } }""", "row 'evenementen' is not a row of the report")]
    [InlineData("""{ "targets": { "2024": { "events": -1 } } }""", "row 'events' must be a number of 0 or more")]
    [InlineData("""{ "targets": { "2024": { "events": "70" } } }""", "row 'events' must be a number of 0 or more")]
    [InlineData("""{ "targets": { "24": { "events": 70 } } }""", "year '24' is not a year from 2000 to 2100")]
    [InlineData("""{ "targets": { "2024-2025": { "events": 70 } } }""", "year '2024-2025' is not a year")]
    [InlineData("""{ "targets": { "2024": { "rooms-in-use": 120 } } }""", "'rooms-in-use' is a percentage of at most 100")]
    [InlineData("""{ "targets": { "2024": [70] } }""", "year 2024 must be an object")]
    [InlineData("""{ "doelen": { } }""", "unknown or malformed entry 'doelen'")]
    [InlineData("""{ "targets": { "2024": { "events": 70 }, "2024": { "events": 71 } } }""", "year 2024 is given twice")]
    [InlineData("""[1, 2]""", "must hold an object")]
    [InlineData("""{ "targets": { "2024": { "events": 70 """, "is not valid JSON")]
    public void A_wrong_targets_file_is_refused_at_start_naming_the_file_the_year_and_the_row(string json, string problem)
    {
        var path = _dir.File("targets.json");
        File.WriteAllText(path, json);
        var site = _dir.File("site.json");
        File.WriteAllText(site, "{}");
        // The file beside the site file is checked even when the setting is empty.
        var result = new ReportOptionsValidator().Validate(null, new CollectorOptions { SiteFile = site });
        Assert.True(result.Failed);
        Assert.Contains("Collector:Report:TargetsFile", result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains(path, result.FailureMessage, StringComparison.Ordinal);
        Assert.Contains(problem, result.FailureMessage, StringComparison.Ordinal);
    }

    [Fact]
    public void A_huge_file_is_refused_before_it_is_read()
    {
        var path = _dir.File("targets.json");
        File.WriteAllText(path, "{ \"source\": \"" + new string('x', ReportTargets.MaxFileBytes) + "\" }");
        var (targets, problems) = ReportTargets.Read(path);
        Assert.Null(targets);
        Assert.Contains("more than the", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_collector_exits_with_2_naming_the_file_and_the_row()
    {
        using var data = new TempDirectory();
        var path = _dir.File("targets.json");
        File.WriteAllText(path, """{ "targets": { "2025": { "events": 70, "leden": 90 } } }""");
        var (exit, stderr, printed) = await SettingsWalker.RunProgramAsync("collector.dll", data.Path,
            [$"--Collector:DataDirectory={data.Path}", "--urls=http://127.0.0.1:0", "--Collector:Broker:Port=0", $"--Collector:Report:TargetsFile={path}"]);
        Assert.Equal(2, exit);
        Assert.Contains(path, stderr, StringComparison.Ordinal);
        Assert.Contains("year 2025, row 'leden'", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", printed, StringComparison.Ordinal);
    }
}
