namespace NewTechPark.Edge.Collector.Storage.Rollups;

/// <summary>The resolutions the store keeps; the number is stored in <c>rollups.res</c>.</summary>
public enum Resolution
{
    Raw = 0,
    Minute = 1,
    Hour = 2,

    /// <summary>A local day in the site's time zone (23, 24 or 25 hours).</summary>
    Day = 3,

    /// <summary>A local calendar month.</summary>
    Month = 4,

    /// <summary>A local calendar year.</summary>
    Year = 5,
}

/// <summary>
/// Bucket boundaries: minutes and hours on the UTC grid, days, months and years in the site's
/// time zone, so a local day lasts 23 hours on the last Sunday of March and 25 on the last Sunday
/// of October (Europe/Amsterdam). All boundaries are Unix milliseconds (UTC).
/// </summary>
public sealed class TimeBuckets
{
    public const long MinuteMs = 60_000;
    public const long HourMs = 3_600_000;

    private readonly Dictionary<long, (long Day, long Month, long Year)> _byHour = [];
    private readonly Lock _gate = new();

    public TimeBuckets(TimeZoneInfo zone)
    {
        Zone = zone;
        // Local days start on whole UTC hours when every offset of the zone is whole hours
        // (Europe/Amsterdam: +1 and +2), so a day can be summed from hour buckets. Rules of the
        // far past do not count: Amsterdam kept +00:19:32 and +00:20 until 1940, which made this
        // false (no hour cache, days from minutes: half the commit's time in a year's backfill),
        // and the store holds nothing from before 1970 (readings older than 400 days are refused).
        var rules = zone.GetAdjustmentRules().Where(r => r.DateEnd >= WholeHoursSince);
        WholeHourOffsets = IsWholeHours(zone.BaseUtcOffset)
            && rules.All(r => IsWholeHours(zone.BaseUtcOffset + r.BaseUtcOffsetDelta) && IsWholeHours(zone.BaseUtcOffset + r.BaseUtcOffsetDelta + r.DaylightDelta));
    }

    /// <summary>From when <see cref="WholeHourOffsets"/> holds: times before it are computed to the millisecond, never cached.</summary>
    public static DateTime WholeHoursSince { get; } = DateTime.UnixEpoch;

    public static TimeBuckets Amsterdam { get; } = new(TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam"));

    public TimeZoneInfo Zone { get; }

    public bool WholeHourOffsets { get; }

    private static bool IsWholeHours(TimeSpan offset) => offset.Ticks % TimeSpan.TicksPerHour == 0;

    public static long FloorTo(long ms, long width) => ms - (((ms % width) + width) % width);

    /// <summary>The start of the bucket of resolution <paramref name="resolution"/> holding <paramref name="ms"/>.</summary>
    public long Floor(Resolution resolution, long ms) => resolution switch
    {
        Resolution.Raw => ms,
        Resolution.Minute => FloorTo(ms, MinuteMs),
        Resolution.Hour => FloorTo(ms, HourMs),
        Resolution.Day => Local(ms).Day,
        Resolution.Month => Local(ms).Month,
        Resolution.Year => Local(ms).Year,
        _ => throw new ArgumentOutOfRangeException(nameof(resolution)),
    };

    /// <summary>The start of the bucket after the one that starts at <paramref name="start"/>.</summary>
    public long Next(Resolution resolution, long start) => resolution switch
    {
        Resolution.Raw => start + 1,
        Resolution.Minute => start + MinuteMs,
        Resolution.Hour => start + HourMs,
        Resolution.Day => ToUtcMs(LocalDate(start).AddDays(1)),
        Resolution.Month => ToUtcMs(LocalDate(start).AddMonths(1)),
        Resolution.Year => ToUtcMs(LocalDate(start).AddYears(1)),
        _ => throw new ArgumentOutOfRangeException(nameof(resolution)),
    };

    /// <summary>The resolution whose buckets make up a bucket of <paramref name="resolution"/>.</summary>
    public Resolution Child(Resolution resolution) => resolution switch
    {
        Resolution.Minute => Resolution.Raw,
        Resolution.Hour => Resolution.Minute,
        Resolution.Day => WholeHourOffsets ? Resolution.Hour : Resolution.Minute,
        Resolution.Month => Resolution.Day,
        Resolution.Year => Resolution.Month,
        _ => throw new ArgumentOutOfRangeException(nameof(resolution)),
    };

    /// <summary>Local wall-clock time as a <see cref="DateTime"/> (unspecified kind).</summary>
    public DateTime LocalDate(long utcMs) =>
        DateTime.SpecifyKind(TimeZoneInfo.ConvertTimeFromUtc(DateTime.UnixEpoch.AddMilliseconds(utcMs), Zone), DateTimeKind.Unspecified);

    public DateTimeOffset ToLocal(long utcMs) => TimeZoneInfo.ConvertTime(DateTimeOffset.FromUnixTimeMilliseconds(utcMs), Zone);

    /// <summary>
    /// Local wall-clock time to UTC. A time the spring change skips moves on by the gap; a time the
    /// autumn change repeats is taken at its first occurrence (summer time).
    /// </summary>
    public long ToUtcMs(DateTime local)
    {
        var unspecified = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
        if (Zone.IsInvalidTime(unspecified))
        {
            var probe = unspecified;
            while (Zone.IsInvalidTime(probe))
            {
                probe = probe.AddMinutes(15);
            }

            unspecified = probe;
        }

        var offset = Zone.IsAmbiguousTime(unspecified) ? Zone.GetAmbiguousTimeOffsets(unspecified).Max() : Zone.GetUtcOffset(unspecified);
        return new DateTimeOffset(unspecified, offset).ToUnixTimeMilliseconds();
    }

    public long DayStart(DateOnly date) => ToUtcMs(date.ToDateTime(TimeOnly.MinValue));

    public DateOnly LocalDay(long utcMs) => DateOnly.FromDateTime(LocalDate(utcMs));

    private (long Day, long Month, long Year) Local(long ms)
    {
        var hour = FloorTo(ms, HourMs);
        var byHour = WholeHourOffsets && ms >= 0;
        if (byHour)
        {
            lock (_gate)
            {
                if (_byHour.TryGetValue(hour, out var cached))
                {
                    return cached;
                }
            }
        }

        var local = LocalDate(byHour ? hour : ms).Date;
        var result = (ToUtcMs(local), ToUtcMs(new DateTime(local.Year, local.Month, 1)), ToUtcMs(new DateTime(local.Year, 1, 1)));
        if (byHour)
        {
            lock (_gate)
            {
                if (_byHour.Count > 200_000)
                {
                    _byHour.Clear();
                }

                _byHour[hour] = result;
            }
        }

        return result;
    }
}
