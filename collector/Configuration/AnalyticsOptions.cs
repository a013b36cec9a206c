using System.ComponentModel.DataAnnotations;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>How long each resolution is kept (<c>Collector:Retention</c>); <c>00:00:00</c> keeps it for ever.</summary>
public sealed class RetentionOptions
{
    /// <summary>Raw points. The biggest table by far: a year of one-second data is 31.5 million rows per series.</summary>
    public TimeSpan Raw { get; set; } = TimeSpan.FromDays(400);

    /// <summary>Minute rollups.</summary>
    public TimeSpan Minute { get; set; } = TimeSpan.FromDays(400);

    /// <summary>Hour rollups.</summary>
    public TimeSpan Hour { get; set; } = TimeSpan.Zero;

    /// <summary>Day, month and year rollups.</summary>
    public TimeSpan Day { get; set; } = TimeSpan.Zero;

    /// <summary>How often retention and the derived tables (visitor aggregates, room history) are brought up to date.</summary>
    public TimeSpan Interval { get; set; } = TimeSpan.FromMinutes(5);
}

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

/// <summary>Energy (<c>Collector:Energy</c>).</summary>
public sealed class EnergyOptions
{
    /// <summary>kg CO2 equivalent per kWh taken from the grid (and avoided per kWh of own solar). Set your supplier's figure.</summary>
    [Range(0, 5)]
    public double Co2KgPerKwh { get; set; } = 0.33;
}

/// <summary>Admin calls (<c>Collector:Admin</c>): corrections and group registrations.</summary>
public sealed class AdminOptions
{
    /// <summary>The bearer token admin calls must carry; without one configured, admin calls are refused.</summary>
    public string? Token { get; set; }
}

/// <summary>The yearly report (<c>Collector:Report</c>).</summary>
public sealed class ReportOptions
{
    /// <summary>A room counts as in use in a period when it was occupied during opening hours on at least this share of the open days.</summary>
    [Range(0.0, 1.0)]
    public double RoomInUseMinShareOfOpenDays { get; set; } = 0.1;
}
