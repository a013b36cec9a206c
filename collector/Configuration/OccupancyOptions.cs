using System.ComponentModel.DataAnnotations;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>Live occupancy (<c>Collector:Occupancy</c>).</summary>
public sealed class OccupancyOptions
{
    /// <summary>Local time at which every room is set back to zero (people counts drift over a day).</summary>
    public TimeSpan DailyReset { get; set; } = TimeSpan.FromHours(4);

    /// <summary>Largest jump of a door's in_total/out_total taken as crossings lost in missing readings; a bigger jump starts a new counter segment.</summary>
    [Range(1, 1_000_000)]
    public int MaxDoorGap { get; set; } = 1000;

    /// <summary>How often the room history and the visitor days are brought up to date with the days that got new data (page loads then find little or nothing to rebuild).</summary>
    public TimeSpan HistoryInterval { get; set; } = TimeSpan.FromSeconds(10);
}
