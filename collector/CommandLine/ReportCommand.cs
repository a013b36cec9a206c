using System.CommandLine;
using System.Globalization;
using NewTechPark.Edge.Collector.Reports;

using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.CommandLine;

/// <summary>
/// <c>collector report --year 2026 --out DIR</c> or <c>--month 2026-11</c>: writes the yearly or
/// monthly report (HTML and CSV, <see cref="MonthlyReportWriter"/>) from the collector's store, as
/// the monthly schedule would, and exits. It reads the same settings as the collector (and checks
/// them as a start does), so it finds the same store, site file and targets. Files already there
/// are left as they were unless <c>--replace</c>.
/// </summary>
public static class ReportCommand
{
    public const int FirstYear = 2000;
    public const int LastYear = 2100;

    public static Command Create(SettingsArguments settings)
    {
        var year = new Option<int?>("--year") { Description = "The local calendar year to report (2026).", HelpName = "YYYY" };
        var month = new Option<string?>("--month") { Description = "The month to report (2026-11): beside the same month a year earlier, and the year to date against the targets.", HelpName = "YYYY-MM" };
        var output = new Option<string>("--out") { Description = "The folder the files go in (made when missing).", HelpName = "DIR", Required = true };
        var replace = new Option<bool>("--replace") { Description = "Replace files of the period that are there already (a year or month still running)." };
        var csv = new Option<string>("--csv") { Description = "CSV for Dutch Excel (nl: ';' and decimal comma) or international use (en: ',' and '.').", DefaultValueFactory = _ => "nl" };
        csv.AcceptOnlyFromAmong("nl", "en");
        var site = new Option<string?>("--site") { Description = "The site to report on (default: the default site, the first of Collector:Sites).", HelpName = "SITE" };
        var command = new Command("report", "Write the yearly or monthly report as HTML and CSV files from the store.") { year, month, output, replace, csv, site };
        command.Validators.Add(result =>
        {
            var y = result.GetValue(year);
            var m = result.GetValue(month);
            if (y is null == m is null)
            {
                result.AddError("Give either --year YYYY or --month YYYY-MM.");
            }
            else if (y is { } given && given is < FirstYear or > LastYear)
            {
                result.AddError($"--year {given} is not a year from {FirstYear} to {LastYear}.");
            }
            else if (m is not null && ParseMonth(m) is null)
            {
                result.AddError($"--month '{m}' is not a month such as 2026-11 ({FirstYear} to {LastYear}).");
            }
        });
        command.SetAction(parse => CollectorCommandLine.Guard(parse, error =>
        {
            using var loaded = CommandSettings.Load(settings, validate: true);
            var sites = loaded.Services.GetRequiredService<SiteServicesCatalog>();
            var chosen = parse.GetValue(site) is { } id ? sites.Find(id) : sites.Default;
            if (chosen is null)
            {
                error.WriteLine($"report: --site '{parse.GetValue(site)}' is not one of the sites of the settings ({string.Join(", ", sites.Catalog.Sites.Select(s => s.Site))})");
                return CollectorCommandLine.Invalid;
            }

            var writer = chosen.GetRequiredService<MonthlyReportWriter>();
            var folder = parse.GetValue(output)!;
            var dialect = parse.GetValue(csv) == "en" ? CsvDialect.International : CsvDialect.DutchExcel;
            var result = parse.GetValue(year) is { } y
                ? writer.WriteYear(y, folder, parse.GetValue(replace), dialect)
                : writer.Write(ParseMonth(parse.GetValue(month)!)!.Value, folder, replace: parse.GetValue(replace), dialect: dialect);
            var stdout = parse.InvocationConfiguration.Output;
            stdout.WriteLine($"{result.HtmlPath} ({(result.HtmlWritten ? "written" : "already there, left as it was")})");
            stdout.WriteLine($"{result.CsvPath} ({(result.CsvWritten ? "written" : "already there, left as it was")})");
            if (!result.HtmlWritten && !result.CsvWritten)
            {
                error.WriteLine("Give --replace to write them again.");
            }

            return 0;
        }));
        return command;
    }

    public static DateOnly? ParseMonth(string text) =>
        DateOnly.TryParseExact(text + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var first) && first.Year is >= FirstYear and <= LastYear ? first : null;
}
