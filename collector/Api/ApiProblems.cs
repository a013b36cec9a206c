using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Api;

/// <summary>Shared checks of the analytics endpoints' query parameters.</summary>
internal static class ApiProblems
{
    public static IResult BadRequest(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);

    public static IResult NotFound(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status404NotFound);

    /// <summary>The earliest date a window may start: nothing is stored before it, and local-time bucket arithmetic near year 1 would fall off the calendar.</summary>
    public static readonly DateTimeOffset EarliestDate = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The latest date a window may end (year 9999 would overflow the calendar when buckets round up).</summary>
    public static readonly DateTimeOffset LatestDate = new(2200, 1, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>A problem when a date lies outside <see cref="EarliestDate"/>..<see cref="LatestDate"/>.</summary>
    public static IResult? DateRange(string name, DateTimeOffset value) =>
        value < EarliestDate || value > LatestDate
            ? BadRequest($"{name} is out of range", $"{name} {value:O} must lie between {EarliestDate:yyyy-MM-dd} and {LatestDate:yyyy-MM-dd}.")
            : null;

    /// <summary>A problem when a local date lies outside <see cref="EarliestDate"/>..<see cref="LatestDate"/>.</summary>
    public static IResult? DateRange(string name, DateOnly value) =>
        DateRange(name, new DateTimeOffset(value.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero));

    /// <summary>
    /// The window, or a problem: both ends between <see cref="EarliestDate"/> and
    /// <see cref="LatestDate"/>, <paramref name="from"/> before <paramref name="to"/>, at most
    /// <paramref name="maxDays"/> days.
    /// </summary>
    public static IResult? Window(DateTimeOffset? from, DateTimeOffset? to, DateTimeOffset now, TimeSpan defaultSpan, int maxDays, out DateTimeOffset start, out DateTimeOffset end)
    {
        start = end = now;
        if (((to is { } t ? DateRange("to", t) : null) ?? (from is { } f ? DateRange("from", f) : null)) is { } outOfRange)
        {
            return outOfRange;
        }

        end = to ?? now;
        start = from ?? end - defaultSpan;
        if (start >= end)
        {
            return BadRequest("from is not before to", $"from {start:O} must be earlier than to {end:O}.");
        }

        return (end - start).TotalDays > maxDays
            ? BadRequest("window too long", $"Ask for at most {maxDays} days at a time; this window is {(end - start).TotalDays:0} days.")
            : null;
    }

    public static IResult? Bucket(string? text, CalendarBucket fallback, CalendarBucket[] allowed, out CalendarBucket bucket)
    {
        bucket = fallback;
        if (text is null)
        {
            return null;
        }

        if (!CalendarBuckets.TryParse(text, out bucket) || !allowed.Contains(bucket))
        {
            return BadRequest("bucket is not valid", $"bucket must be one of {string.Join(", ", allowed.Select(a => a.Name()))}.");
        }

        return null;
    }
}
