using NewTechPark.Edge.Collector.Site;

namespace NewTechPark.Edge.Collector.Api;

/// <summary>One owned site as <c>GET /api/v1/sites</c> lists it.</summary>
public sealed record SiteSummary(string Site, string Name, string? Address, string TimeZone, int Rooms, bool Default);

public static class SitesApi
{
    /// <summary><c>GET /api/v1/sites</c>: the sites this collector owns, the default one first.</summary>
    public static RouteGroupBuilder MapSitesApi(this RouteGroupBuilder api)
    {
        api.MapGet("/sites", (SiteCatalog sites) => TypedResults.Ok(List(sites)))
            .WithName("GetSites").WithSummary("The sites this collector owns: id, name, time zone and room count; the first is the default site (what a call without ?site= means).");
        return api;
    }

    public static IReadOnlyList<SiteSummary> List(SiteCatalog sites) =>
        [.. sites.Sites.Select((s, i) => new SiteSummary(s.Site, s.Name, s.Address, s.TimeZone, s.Rooms.Count, i == 0))];
}
