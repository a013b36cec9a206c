using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Api;

public static class EnergyApi
{
    /// <summary><c>GET /api/v1/energy?meter=&amp;from=&amp;to=&amp;bucket=hour|day|month</c></summary>
    public static RouteGroupBuilder MapEnergyApi(this RouteGroupBuilder api)
    {
        api.MapGet("/energy", (string? meter, DateTimeOffset? from, DateTimeOffset? to, string? bucket, SiteModel site, EnergyService energy, TimeProvider clock) =>
            {
                if (meter is not null && site.Meters.All(m => m.Id != meter))
                {
                    return ApiProblems.NotFound("no such meter", $"'{meter}' is not a meter of the site ({string.Join(", ", site.Meters.Select(m => m.Id))}).");
                }

                if (ApiProblems.Bucket(bucket, CalendarBucket.Hour, [CalendarBucket.Hour, CalendarBucket.Day, CalendarBucket.Month, CalendarBucket.Year], out var b) is { } badBucket)
                {
                    return badBucket;
                }

                return ApiProblems.Window(from, to, clock.GetUtcNow(), TimeSpan.FromDays(1), b == CalendarBucket.Hour ? 93 : 3660, out var start, out var end)
                    ?? TypedResults.Ok(energy.Report(start, end, b, meter));
            })
            .WithName("GetEnergy").WithSummary("Energy in Wh per local hour, day or month (23- and 25-hour days included), per meter and for the building: grid import, solar, self-consumption, CO2.")
            .Produces<EnergyReport>().ProducesProblem(StatusCodes.Status400BadRequest).ProducesProblem(StatusCodes.Status404NotFound);
        return api;
    }
}
