namespace NewTechPark.Edge.Collector.Storage.Rollups;

/// <summary>Calendar buckets of the API: hour, or a local day, ISO week (from Monday), month or year.</summary>
public enum CalendarBucket
{
    Hour,
    Day,
    Week,
    Month,
    Year,
}

public static class CalendarBuckets
{
    public static bool TryParse(string? text, out CalendarBucket bucket) =>
        Enum.TryParse(text, ignoreCase: true, out bucket) && !int.TryParse(text, out _);

    public static string Name(this CalendarBucket bucket) => bucket.ToString().ToLowerInvariant();

    public static long Floor(this TimeBuckets buckets, CalendarBucket bucket, long ms) => bucket switch
    {
        CalendarBucket.Hour => buckets.Floor(Resolution.Hour, ms),
        CalendarBucket.Day => buckets.Floor(Resolution.Day, ms),
        CalendarBucket.Week => WeekStart(buckets, ms),
        CalendarBucket.Month => buckets.Floor(Resolution.Month, ms),
        CalendarBucket.Year => buckets.Floor(Resolution.Year, ms),
        _ => throw new ArgumentOutOfRangeException(nameof(bucket)),
    };

    public static long Next(this TimeBuckets buckets, CalendarBucket bucket, long start) => bucket switch
    {
        CalendarBucket.Hour => buckets.Next(Resolution.Hour, start),
        CalendarBucket.Day => buckets.Next(Resolution.Day, start),
        CalendarBucket.Week => buckets.ToUtcMs(buckets.LocalDate(start).Date.AddDays(7)),
        CalendarBucket.Month => buckets.Next(Resolution.Month, start),
        CalendarBucket.Year => buckets.Next(Resolution.Year, start),
        _ => throw new ArgumentOutOfRangeException(nameof(bucket)),
    };

    /// <summary>The buckets that cover [from, to): the first starts at or before <paramref name="fromMs"/>.</summary>
    public static List<(long Start, long End)> Cover(this TimeBuckets buckets, CalendarBucket bucket, long fromMs, long toMs)
    {
        var list = new List<(long, long)>();
        for (var start = buckets.Floor(bucket, fromMs); start < toMs && list.Count < 100_000;)
        {
            var end = buckets.Next(bucket, start);
            list.Add((start, end));
            start = end;
        }

        return list;
    }

    /// <summary>A short local label: 2026-03-29, 2026-W13, 2026-03, 2026, or 2026-03-29T03:00+02:00 for an hour.</summary>
    public static string Label(this TimeBuckets buckets, CalendarBucket bucket, long start)
    {
        var local = buckets.ToLocal(start);
        return bucket switch
        {
            CalendarBucket.Hour => local.ToString("yyyy-MM-dd'T'HH:mmzzz", System.Globalization.CultureInfo.InvariantCulture),
            CalendarBucket.Day => local.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            CalendarBucket.Week => $"{System.Globalization.ISOWeek.GetYear(local.DateTime)}-W{System.Globalization.ISOWeek.GetWeekOfYear(local.DateTime):00}",
            CalendarBucket.Month => local.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture),
            _ => local.ToString("yyyy", System.Globalization.CultureInfo.InvariantCulture),
        };
    }

    private static long WeekStart(TimeBuckets buckets, long ms)
    {
        var date = buckets.LocalDate(ms).Date;
        var back = ((int)date.DayOfWeek + 6) % 7;
        return buckets.ToUtcMs(date.AddDays(-back));
    }
}
