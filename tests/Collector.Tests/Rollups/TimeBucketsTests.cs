using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Tests.Rollups;

/// <summary>The site's local day, month and year boundaries, and the hour cache behind them.</summary>
public sealed class TimeBucketsTests
{
    private static readonly TimeZoneInfo Amsterdam = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");

    [Fact]
    public void Amsterdam_has_whole_hour_offsets_since_1970_although_its_rules_before_1940_do_not()
    {
        // The zone database keeps Amsterdam's +00:19:32 and +00:20 of the 1930s; they must not turn
        // off the hour cache and the days summed from hours for data that can only be recent.
        Assert.Contains(Amsterdam.GetAdjustmentRules(), r => (Amsterdam.BaseUtcOffset + r.BaseUtcOffsetDelta + r.DaylightDelta).Ticks % TimeSpan.TicksPerHour != 0);
        Assert.True(TimeBuckets.Amsterdam.WholeHourOffsets);
        Assert.Equal(Resolution.Hour, TimeBuckets.Amsterdam.Child(Resolution.Day));
    }

    [Fact]
    public void A_zone_with_half_hour_offsets_sums_its_days_from_minutes()
    {
        var india = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata");
        Assert.False(new TimeBuckets(india).WholeHourOffsets);
        Assert.Equal(Resolution.Minute, new TimeBuckets(india).Child(Resolution.Day));
    }

    [Fact]
    public void Cached_boundaries_equal_the_local_calendar_every_hour_over_three_years_with_their_clock_changes()
    {
        var buckets = new TimeBuckets(Amsterdam);
        var start = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        for (var ms = start; ms < start + (3L * 366 * 24 * TimeBuckets.HourMs); ms += TimeBuckets.HourMs - 1)
        {
            var local = TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(ms), Amsterdam);
            Assert.Equal(Expected(local.Year, local.Month, local.Day), buckets.Floor(Resolution.Day, ms));
            Assert.Equal(Expected(local.Year, local.Month, 1), buckets.Floor(Resolution.Month, ms));
            Assert.Equal(Expected(local.Year, 1, 1), buckets.Floor(Resolution.Year, ms));
        }
    }

    [Fact]
    public void A_time_before_1970_is_computed_to_the_millisecond_not_from_the_hour_cache()
    {
        // 1935-07-01 local midnight was 23:40 UTC the day before (Amsterdam summer time +01:20 then).
        var day = TimeBuckets.Amsterdam.Floor(Resolution.Day, new DateTimeOffset(1935, 7, 1, 12, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds());
        Assert.Equal(new DateTimeOffset(1935, 7, 1, 0, 0, 0, Amsterdam.GetUtcOffset(new DateTime(1935, 7, 1))).ToUnixTimeMilliseconds(), day);
    }

    private static long Expected(int year, int month, int day)
    {
        var midnight = new DateTime(year, month, day);
        return new DateTimeOffset(midnight, Amsterdam.GetUtcOffset(midnight)).ToUnixTimeMilliseconds();
    }
}
