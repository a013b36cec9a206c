using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Api;

public static class SiteApi
{
    /// <summary><c>GET /api/v1/site</c> and <c>GET /api/v1/occupancy</c>.</summary>
    public static RouteGroupBuilder MapSiteApi(this RouteGroupBuilder api)
    {
        api.MapGet("/site", (SiteModel site) => TypedResults.Ok(site))
            .WithName("GetSite").WithSummary("The site model: rooms, doors, meters and sensors.");
        api.MapGet("/occupancy", (OccupancyEngine occupancy) => TypedResults.Ok(occupancy.Snapshot()))
            .WithName("GetOccupancy").WithSummary("Every room's live occupancy, capacity and last change, and the building total.");
        return api;
    }
}
