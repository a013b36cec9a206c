using System.ComponentModel.DataAnnotations;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>Visitors (<c>Collector:Visitors</c>).</summary>
public sealed class VisitorsOptions
{
    /// <summary>Raw badge scans (pseudonyms) are deleted after this; the aggregates stay. At least a year and a week, so every year is complete before its first scans go.</summary>
    public TimeSpan ScanRetention { get; set; } = TimeSpan.FromDays(400);

    /// <summary>Badge-based counts below this are shown as "&lt; 5" (privacy).</summary>
    [Range(1, 100)]
    public int MinimumCount { get; set; } = 5;

    /// <summary>A bucket's unique and returning visitors are frozen this long after it ended (late scans still count until then).</summary>
    public TimeSpan FreezeAfter { get; set; } = TimeSpan.FromDays(7);

    /// <summary>A local day with at least this many visits (entries from outside) counts as an event day.</summary>
    [Range(1, 1_000_000)]
    public int EventDayVisits { get; set; } = 300;
}
