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
