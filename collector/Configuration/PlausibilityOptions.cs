using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace NewTechPark.Edge.Collector.Configuration;

/// <summary>
/// Bounds every figure must fall within before it counts (<c>Collector:Plausibility</c>). The
/// defaults come from the physics of the building: a door passes a few people a second, the grid
/// connection carries at most a few hundred kilowatts, a Pi's clock is set by NTP.
/// </summary>
public sealed class PlausibilityOptions
{
    /// <summary>How far a reading may be dated ahead of its arrival (clock skew between a Pi and the collector); later ones are refused (<c>AheadOfArrival</c>).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:05:00")]
    public TimeSpan MaxClockAhead { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Crossings one door reading may carry in <c>in</c> or <c>out</c> (the agent sends one crossing or a few); more is refused (<c>ImplausibleDoor</c>).</summary>
    [Range(1, 10_000)]
    public int MaxCrossingsPerReading { get; set; } = 50;

    /// <summary>People a door passes per second at most, in one direction; a door's <c>in_total</c>/<c>out_total</c> may rise no faster (plus <see cref="OccupancyOptions.MaxDoorGap"/>).</summary>
    [Range(1, 1000)]
    public int MaxDoorCrossingsPerSecond { get; set; } = 5;

    /// <summary>The most a meter may draw or feed in, in watts: <c>power_w</c> beyond it, or <c>energy_wh_total</c> rising faster, is refused (<c>ImplausibleMeter</c>).</summary>
    [Range(1, 100_000_000)]
    public double MaxMeterPowerW { get; set; } = 1_000_000;

    /// <summary>
    /// A local calendar year is closed (its report frozen) this long after it ended: readings of the
    /// site's doors, meters and sensors dated in a closed year are refused (<c>ClosedPeriod</c>) and
    /// kept in the dead-letter store for staff review instead of changing the report.
    /// </summary>
    [Range(typeof(TimeSpan), "1.00:00:00", "366.00:00:00")]
    public TimeSpan YearClosesAfter { get; set; } = TimeSpan.FromDays(31);
}

/// <summary>
/// How many series devices may create (<c>Collector:SeriesLimits</c>): every new (sensor, value
/// name) is a series, so without a cap one device could fill the disk with invented sensor ids.
/// A batch that would pass a cap is refused whole (<c>SeriesLimit</c>).
/// </summary>
public sealed class SeriesLimitOptions
{
    /// <summary>New series one device may create per hour (a new Pi of the default site brings about 50).</summary>
    [Range(1, 1_000_000)]
    public int MaxNewSeriesPerDevicePerHour { get; set; } = 500;

    /// <summary>Series the store holds at most, over all devices.</summary>
    [Range(1, 100_000_000)]
    public int MaxSeries { get; set; } = 50_000;
}
