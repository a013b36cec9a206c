using Microsoft.AspNetCore.Http.HttpResults;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts;

namespace NewTechPark.Edge.Collector.Api;

public static class SeriesApi
{
    public const int MaxPoints = 10_000;

    /// <summary><c>GET /api/v1/series?sensor=&amp;field=&amp;from=&amp;to=&amp;points=</c></summary>
    public static RouteGroupBuilder MapSeriesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/series", GetSeries)
            .WithName("GetSeries").WithSummary("One series, downsampled to at most `points` buckets (min, max, mean). Default: the last hour in 500 points.");
        api.MapInstrumentsApi();
        return api;
    }

    private static Results<Ok<SeriesResult>, ProblemHttpResult> GetSeries(
        string? sensor, string? field, DateTimeOffset? from, DateTimeOffset? to, int? points, string? site,
        SiteModel siteModel, StoreQueries queries, TimeProvider clock)
    {
        // A sensor the site file does not name is stored as a plain series of its device: device/sensor.
        if (!Identifiers.IsSlug(sensor) && !(sensor?.Split('/') is [var device, var plain] && Identifiers.IsSlug(device) && Identifiers.IsSlug(plain)))
        {
            return Problem("sensor is missing or not a slug", $"Give the sensor id, such as ?sensor=dc-bench-1 ({Identifiers.SlugPattern}), or device/sensor for a sensor the site file does not name.");
        }

        if (!Identifiers.IsValueName(field))
        {
            return Problem("field is missing or not a value name", $"Give the value name, such as &field=power_w ({Identifiers.ValueNamePattern}).");
        }

        var end = to ?? clock.GetUtcNow();
        var start = from ?? end.AddHours(-1);
        if (start >= end)
        {
            return Problem("from is not before to", $"from {start:O} must be earlier than to {end:O}.");
        }

        var count = points ?? 500;
        if (count is < 1 or > MaxPoints)
        {
            return Problem("points is out of range", $"points must be between 1 and {MaxPoints}.");
        }

        var result = queries.Series(site ?? siteModel.Site, sensor!, field!, start, end, count);
        return result is null
            ? TypedResults.Problem(title: "no such series", detail: $"No readings of {sensor}/{field} have been stored.", statusCode: StatusCodes.Status404NotFound)
            : TypedResults.Ok(result);
    }

    private static ProblemHttpResult Problem(string title, string detail) =>
        TypedResults.Problem(title: title, detail: detail, statusCode: StatusCodes.Status400BadRequest);
}
