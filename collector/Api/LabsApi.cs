using NewTechPark.Edge.Collector.Kiosk;

namespace NewTechPark.Edge.Collector.Api;

public static class LabsApi
{
    /// <summary><c>GET /api/v1/labs</c></summary>
    public static RouteGroupBuilder MapLabsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/labs", (LabComparisonService labs, TimeProvider clock) => TypedResults.Ok(labs.Compare(clock.GetUtcNow())))
            .WithName("GetLabs").WithSummary("Every lab of the site file now: people, walk-ins today (local day), its air (CO2 and temperature of the sensor that measures CO2 there, last 30 minutes) and its lab meters' energy today.")
            .Produces<LabComparison>();
        return api;
    }
}
