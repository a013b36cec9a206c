using System.Globalization;
using System.Text;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Reports;

/// <summary>What became of one month's report.</summary>
public sealed record MonthlyReportResult(string Month, string HtmlPath, string CsvPath, bool HtmlWritten, bool CsvWritten, bool Empty);

/// <summary>
/// Writes one month's report into a folder: <c>ntp-maandrapport-2026-11.html</c> (self-contained,
/// see <see cref="MonthlyReportHtml"/>) and <c>.csv</c> (Dutch Excel, see <see cref="ReportCsv"/>).
/// Each file is written to a temporary name in the same folder, flushed to disk and renamed, so a
/// reader (a file share, a mail robot) never sees half a file; a finished file is never replaced.
/// Used by the schedule (<see cref="MonthlyReportSchedule"/>) and the <c>report</c> command, which
/// also writes a year (<see cref="WriteYear"/>, <c>ntp-jaarrapport-2026.html</c>) and may replace
/// files on request (a year or month still running).
/// </summary>
public sealed class MonthlyReportWriter(AnnualReportService reports, SiteModel site, ILogger<MonthlyReportWriter> logger)
{
    private readonly TimeZoneInfo _zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);

    public static string FileStem(DateOnly month) => $"ntp-maandrapport-{month.ToString("yyyy-MM", CultureInfo.InvariantCulture)}";

    public static string YearFileStem(int year) => $"ntp-jaarrapport-{year.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>True when both files of the month are there.</summary>
    public static bool IsComplete(string folder, DateOnly month) =>
        File.Exists(Path.Combine(folder, FileStem(month) + ".html")) && File.Exists(Path.Combine(folder, FileStem(month) + ".csv"));

    /// <summary>
    /// Writes the files of the month that are missing. With <paramref name="skipEmpty"/>, a month the
    /// store holds no data for (before the collector ran) gets no files.
    /// </summary>
    public MonthlyReportResult Write(DateOnly month, string folder, bool skipEmpty = false, bool replace = false, CsvDialect? dialect = null)
    {
        month = new DateOnly(month.Year, month.Month, 1);
        Directory.CreateDirectory(folder);
        var stem = FileStem(month);
        var htmlPath = Path.Combine(folder, stem + ".html");
        var csvPath = Path.Combine(folder, stem + ".csv");
        var label = month.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        if (!replace && File.Exists(htmlPath) && File.Exists(csvPath))
        {
            return new MonthlyReportResult(label, htmlPath, csvPath, false, false, false);
        }

        var figures = reports.BuildMonth(month.Year, month.Month);
        if (skipEmpty && !figures.HasVisitorData && !figures.HasEnergyData)
        {
            return new MonthlyReportResult(label, htmlPath, csvPath, false, false, true);
        }

        var yearToDate = reports.BuildYearToDate(month.Year, month.Month);
        var html = WriteOnce(htmlPath, Encoding.UTF8.GetBytes(MonthlyReportHtml.Render(figures, yearToDate, _zone)), replace);
        var csv = WriteOnce(csvPath, ReportCsv.Bytes(figures, dialect ?? CsvDialect.DutchExcel), replace);
        if (html || csv)
        {
            logger.LogInformation("Monthly report {Month} written to {Folder}", label, folder);
        }

        return new MonthlyReportResult(label, htmlPath, csvPath, html, csv, false);
    }

    /// <summary>Writes one year's report (the year, its targets, the previous year, month by month) the same way.</summary>
    public MonthlyReportResult WriteYear(int year, string folder, bool replace = false, CsvDialect? dialect = null)
    {
        Directory.CreateDirectory(folder);
        var stem = YearFileStem(year);
        var htmlPath = Path.Combine(folder, stem + ".html");
        var csvPath = Path.Combine(folder, stem + ".csv");
        var label = year.ToString(CultureInfo.InvariantCulture);
        if (!replace && File.Exists(htmlPath) && File.Exists(csvPath))
        {
            return new MonthlyReportResult(label, htmlPath, csvPath, false, false, false);
        }

        var figures = reports.Build(year);
        var html = WriteOnce(htmlPath, Encoding.UTF8.GetBytes(YearlyReportHtml.Render(figures, _zone)), replace);
        var csv = WriteOnce(csvPath, ReportCsv.Bytes(figures, dialect ?? CsvDialect.DutchExcel), replace);
        if (html || csv)
        {
            logger.LogInformation("Yearly report {Year} written to {Folder}", label, folder);
        }

        return new MonthlyReportResult(label, htmlPath, csvPath, html, csv, !figures.HasVisitorData && !figures.HasEnergyData);
    }

    /// <summary>Temp file, flushed, renamed (over the old file only with <paramref name="replace"/>); false when the file was already there.</summary>
    private static bool WriteOnce(string path, byte[] content, bool replace = false)
    {
        if (!replace && File.Exists(path))
        {
            return false;
        }

        var temp = Path.Combine(Path.GetDirectoryName(path)!, $".{Path.GetFileName(path)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                stream.Write(content);
                stream.Flush(flushToDisk: true);
            }

            File.Move(temp, path, overwrite: replace);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another writer (the command beside the schedule) finished first: its file stays.
            return false;
        }
        finally
        {
            File.Delete(temp);
        }
    }
}
