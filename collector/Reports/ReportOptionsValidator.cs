using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;

namespace NewTechPark.Edge.Collector.Reports;

/// <summary>
/// The report's settings that attributes cannot check: the targets file (read and checked whole,
/// so a typo in a row name stops the collector at start with exit code 2, naming the file, year
/// and row) and the monthly report's folder and settle time.
/// </summary>
public sealed class ReportOptionsValidator : IValidateOptions<CollectorOptions>
{
    public static readonly TimeSpan MaxSettleTime = TimeSpan.FromHours(23);

    public ValidateOptionsResult Validate(string? name, CollectorOptions options)
    {
        var errors = new List<string>();
        var (path, named) = ReportTargets.Locate(options);
        if (named || File.Exists(path))
        {
            errors.AddRange(ReportTargets.Read(path).Problems.Select(p => $"Collector:Report:TargetsFile: {p}"));
        }

        var monthly = options.Report.Monthly;
        if (monthly.SettleTime < TimeSpan.Zero || monthly.SettleTime > MaxSettleTime)
        {
            errors.Add($"Collector:Report:Monthly:SettleTime {monthly.SettleTime} must be between 00:00:00 and {MaxSettleTime} (the report is written on the month's first day)");
        }

        if (!string.IsNullOrWhiteSpace(monthly.Folder))
        {
            try
            {
                // Made now, so a folder that cannot be made is said at start, not on the first of next month.
                Directory.CreateDirectory(monthly.Folder);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                errors.Add($"Collector:Report:Monthly:Folder '{monthly.Folder}' cannot be used as a folder: {e.Message}");
            }
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
