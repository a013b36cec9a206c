using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>The yearly report (<c>Collector:Report</c>).</summary>
public sealed class ReportOptions
{
    /// <summary>A room counts as in use in a period when it was occupied during opening hours on at least this share of the open days.</summary>
    [Range(0.0, 1.0)]
    public double RoomInUseMinShareOfOpenDays { get; set; } = 0.1;

    /// <summary>
    /// The centre's targets per year (JSON, see collector/Reports/README.md). Empty: <c>targets.json</c>
    /// beside the site file, and no targets when that file is missing. A file named here must exist.
    /// Checked at start (ReportOptionsValidator).
    /// </summary>
    public string TargetsFile { get; set; } = string.Empty;

    /// <summary>The unattended monthly report (<c>Collector:Report:Monthly</c>).</summary>
    [ValidateObjectMembers]
    public MonthlyReportOptions Monthly { get; set; } = new();
}

/// <summary>The unattended monthly report: on the first day of a month, after <see cref="SettleTime"/>, the previous month as HTML and CSV.</summary>
public sealed class MonthlyReportOptions
{
    /// <summary>Where the reports are written; empty (default) turns the schedule off. Created when missing.</summary>
    public string Folder { get; set; } = string.Empty;

    /// <summary>How long after local midnight of the first day to wait, so late readings of the month's last hours (outboxes after an outage) are in.</summary>
    public TimeSpan SettleTime { get; set; } = TimeSpan.FromHours(6);

    /// <summary>Missed months written after downtime, counting back from the last finished month.</summary>
    [Range(1, 24)]
    public int CatchUpMonths { get; set; } = 3;
}
