using System.ComponentModel.DataAnnotations;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>The yearly report (<c>Collector:Report</c>).</summary>
public sealed class ReportOptions
{
    /// <summary>A room counts as in use in a period when it was occupied during opening hours on at least this share of the open days.</summary>
    [Range(0.0, 1.0)]
    public double RoomInUseMinShareOfOpenDays { get; set; } = 0.1;
}
