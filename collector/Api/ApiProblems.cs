using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Api;

/// <summary>Shared checks of the analytics endpoints' query parameters.</summary>
internal static class ApiProblems
{
    public static IResult BadRequest(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);

    public static IResult NotFound(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status404NotFound);

    /// <summary>The window, or a problem: <paramref name="from"/> before <paramref name="to"/>, at most <paramref name="maxDays"/> days.</summary>
    public static IResult? Window(DateTimeOffset? from, DateTimeOffset? to, DateTimeOffset now, TimeSpan defaultSpan, int maxDays, out DateTimeOffset start, out DateTimeOffset end)
    {
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
