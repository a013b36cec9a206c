using NewTechPark.Edge.Collector.Api;
using NewTechPark.Edge.Collector.Health;
using Microsoft.AspNetCore.Rewrite;
using NewTechPark.Edge.Collector.Metrics;
using NewTechPark.Edge.Collector.Site;
using Prometheus;

namespace NewTechPark.Edge.Collector.Hosting;

public static class CollectorEndpoints
{
    /// <summary>The HTTP API, health, metrics, OpenAPI and the dashboard pages.</summary>
    public static WebApplication MapCollector(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseHttpSecurity();
        // ?site=<id>: the request is served by that site's services (absent: the default site).
        app.UseSiteServices();
        // Clean page addresses: /facility, /dc-lab, /management and /kiosk serve their .html page.
        app.UseRewriter(new RewriteOptions().AddRewrite("^(facility|dc-lab|management|kiosk)/?$", "$1.html", skipRemainingRules: true));
        app.UseDefaultFiles();
        app.UseStaticFiles();

        var api = app.MapGroup("/api/v1").WithTags("NewTechPark.Edge");
        api.MapSiteApi();
        api.MapSitesApi();
        api.MapSeriesApi();
        api.MapDevicesApi();
        api.MapStreamApi();
        api.MapOccupancyApi();
        api.MapRoomWeeksApi();
        api.MapEnergyApi();
        api.MapPowerCurveApi();
        api.MapLabsApi();
        api.MapVisitorsApi();
        api.MapReportsApi();
        api.MapExperimentsApi();
        api.MapAuthApi();

        // GET only: every endpoint that takes another method must need a token role (HttpSecurityTests checks).
        var readOnly = new HttpMethodMetadata([HttpMethods.Get, HttpMethods.Head]);
        app.MapCollectorHealth().WithMetadata(readOnly);
        app.MapMetrics("/metrics", app.Services.GetRequiredService<CollectorMetrics>().Registry).WithMetadata(readOnly);
        app.MapOpenApi("/openapi/{documentName}.json");
        return app;
    }
}
