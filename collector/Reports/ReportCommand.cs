using System.Globalization;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Reports;

/// <summary>
/// <c>collector report --month 2026-11 --out DIR [--Collector:…=value …]</c>: writes one month's
/// report (HTML and CSV) from the collector's store, as the schedule would, and exits. It reads
/// the same settings as the collector, so it finds the same store and site file. Exit code 0 when
/// the files are there (written now or before), 2 for wrong arguments or settings.
/// (Issue 17 moves the collector's commands to System.CommandLine; the work is in <see cref="MonthlyReportWriter"/>.)
/// </summary>
public static class ReportCommand
{
    public const string Usage = "usage: collector report --month YYYY-MM --out FOLDER [--Collector:SiteFile=… --Collector:DataDirectory=…]";

    public static int? TryRun(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0 || args[0] != "report")
        {
            return null;
        }

        string? month = null, folder = null;
        var rest = new List<string>();
        for (var i = 1; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--month" when i + 1 < args.Length:
                    month = args[++i];
                    break;
                case "--out" when i + 1 < args.Length:
                    folder = args[++i];
                    break;
                default:
                    rest.Add(args[i]);
                    break;
            }
        }

        if (month is null || folder is null || !DateOnly.TryParseExact(month + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var first) || first.Year is < 2000 or > 2100)
        {
            error.WriteLine(month is null || folder is null ? Usage : $"--month '{month}' is not a month such as 2026-11{Environment.NewLine}{Usage}");
            return 2;
        }

        try
        {
            using var app = CollectorHost.Build([.. rest, "--Logging:LogLevel:Default=Warning"]);
            app.Services.GetRequiredService<IStartupValidator>().Validate();
            var result = app.Services.GetRequiredService<MonthlyReportWriter>().Write(first, folder);
            output.WriteLine($"{result.HtmlPath} ({(result.HtmlWritten ? "written" : "already there, left as it was")})");
            output.WriteLine($"{result.CsvPath} ({(result.CsvWritten ? "written" : "already there, left as it was")})");
            return 0;
        }
        catch (Exception e) when (e is SiteFileException or OptionsValidationException or IOException or UnauthorizedAccessException)
        {
            error.WriteLine($"The report cannot be written:{Environment.NewLine}- " + (e is OptionsValidationException invalid ? string.Join(Environment.NewLine + "- ", invalid.Failures) : e.Message));
            return 2;
        }
    }
}
