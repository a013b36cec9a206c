using System.CommandLine;
using System.Text;
using NewTechPark.Edge.Collector.Region;

namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>
/// <c>collector region report --year 2026 --url URL --out DIR</c>: the region yearly report (HTML,
/// Dutch first, and CSV) from the region's VictoriaMetrics, a column per site and the region's
/// total (<see cref="RegionReport"/>). It reads no collector store and no settings.
/// </summary>
public static class RegionCommand
{
    /// <summary>One export of a region's year should take seconds; a hung server is not waited on longer.</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromMinutes(2);

    public static Command Create(SettingsArguments settings)
    {
        _ = settings;
        var command = new Command("region", "The region tier: figures of every site from the region's VictoriaMetrics.");
        command.Add(CreateReport());
        return command;
    }

    private static Command CreateReport()
    {
        var year = new Option<int>("--year") { Description = "The local calendar year to report (2026).", HelpName = "YYYY", Required = true };
        var url = new Option<string>("--url")
        {
            Description = "The region's VictoriaMetrics: http://vm:8428, or vmselect's http://vmselect:8481/select/0/prometheus.",
            HelpName = "URL",
            Required = true,
        };
        var output = new Option<string>("--out") { Description = "The folder the files go in (made when missing).", HelpName = "DIR", Required = true };
        var zone = new Option<string>("--time-zone") { Description = "The time zone of the days and months.", DefaultValueFactory = _ => "Europe/Amsterdam", HelpName = "ZONE" };
        var csv = new Option<string>("--csv") { Description = "CSV for Dutch Excel (nl: ';' and decimal comma) or international use (en: ',' and '.').", DefaultValueFactory = _ => "nl" };
        csv.AcceptOnlyFromAmong("nl", "en");
        var command = new Command("report", "Write the region yearly report (HTML and CSV): visits, unique and returning visitors and energy, a column per site and the total.")
        {
            year, url, output, zone, csv,
        };
        command.Validators.Add(result =>
        {
            if (result.GetValue(year) is var y && y is < ReportCommand.FirstYear or > ReportCommand.LastYear)
            {
                result.AddError($"--year {y} is not a year from {ReportCommand.FirstYear} to {ReportCommand.LastYear}.");
            }

            // Unset options are reported by their own "required" error or take their default.
            if (result.GetValue(url) is { Length: > 0 } given && RegionReport.ExportUri(given, 0, 0) is null)
            {
                result.AddError($"--url '{given}' is not an http or https address without a query (http://vm:8428 or http://vmselect:8481/select/0/prometheus).");
            }

            if (result.GetValue(zone) is { Length: > 0 } name && !TimeZoneInfo.TryFindSystemTimeZoneById(name, out _))
            {
                result.AddError($"--time-zone '{name}' is not a known time zone (Europe/Amsterdam).");
            }
        });
        command.SetAction((parse, cancellationToken) => CollectorCommandLine.GuardAsync(parse, async error =>
        {
            var y = parse.GetValue(year);
            using var http = new HttpClient { Timeout = RequestTimeout };
            RegionYear report;
            try
            {
                report = await RegionReport.ReadAsync(http, parse.GetValue(url)!, y, TimeZoneInfo.FindSystemTimeZoneById(parse.GetValue(zone) is { Length: > 0 } z ? z : "Europe/Amsterdam"), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or System.Text.Json.JsonException or InvalidDataException)
            {
                await error.WriteLineAsync($"collector region report: reading {parse.GetValue(url)} failed: {e.Message}").ConfigureAwait(false);
                return 1;
            }

            var folder = parse.GetValue(output)!;
            Directory.CreateDirectory(folder);
            var html = Path.Combine(folder, $"region-{y}.html");
            var csvPath = Path.Combine(folder, $"region-{y}.csv");
            await File.WriteAllTextAsync(html, RegionReport.Html(report), Encoding.UTF8, cancellationToken).ConfigureAwait(false);
            await File.WriteAllTextAsync(csvPath, RegionReport.Csv(report, parse.GetValue(csv) != "en"), new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), cancellationToken).ConfigureAwait(false);
            var stdout = parse.InvocationConfiguration.Output;
            await stdout.WriteLineAsync($"{report.Sites.Count} site(s): {string.Join(", ", report.Sites)}").ConfigureAwait(false);
            await stdout.WriteLineAsync(html).ConfigureAwait(false);
            await stdout.WriteLineAsync(csvPath).ConfigureAwait(false);
            if (report.SkippedSeries > 0)
            {
                await error.WriteLineAsync($"{report.SkippedSeries} series without a valid site or figure were left out").ConfigureAwait(false);
            }

            return report.Sites.Count == 0 ? 3 : 0;
        }));
        return command;
    }
}
