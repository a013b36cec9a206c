using NewTechPark.Edge.Contracts;

namespace NewTechPark.Edge.Collector.Site;

/// <summary>
/// A request's services for the site it asks for (<c>?site=&lt;id&gt;</c>; absent: the default site):
/// the site-scoped services from that site's container, everything else from the request's own
/// services. So every existing endpoint that takes <see cref="SiteModel"/>, an occupancy engine or
/// a report service serves the asked site, unchanged.
/// </summary>
public sealed class SiteRequestServices(SiteServices site, IServiceProvider request) : IServiceProvider, ISupportRequiredService, IServiceProviderIsService, IKeyedServiceProvider
{
    public SiteServices Site => site;

    public object? GetService(Type serviceType) =>
        site.ScopedTypes.Contains(serviceType) ? site.Services.GetService(serviceType) : request.GetService(serviceType);

    public object GetRequiredService(Type serviceType) =>
        GetService(serviceType) ?? throw new InvalidOperationException($"No service for type '{serviceType}' has been registered.");

    public bool IsService(Type serviceType) =>
        site.ScopedTypes.Contains(serviceType) || (request.GetService(typeof(IServiceProviderIsService)) as IServiceProviderIsService)?.IsService(serviceType) == true;

    public object? GetKeyedService(Type serviceType, object? serviceKey) => request.GetKeyedService(serviceType, serviceKey);

    public object GetRequiredKeyedService(Type serviceType, object? serviceKey) => request.GetRequiredKeyedService(serviceType, serviceKey);
}

/// <summary>The <c>site</c> query parameter: checked, then the request served by that site's services.</summary>
public static class SiteRequestMiddleware
{
    /// <summary>The query parameter every site-scoped endpoint and page takes.</summary>
    public const string Parameter = "site";

    public static IApplicationBuilder UseSiteServices(this IApplicationBuilder app)
    {
        var sites = app.ApplicationServices.GetRequiredService<SiteServicesCatalog>();
        return app.Use(async (context, next) =>
        {
            var asked = context.Request.Query[Parameter];
            SiteServices? site;
            if (asked.Count == 0)
            {
                site = sites.Default;
            }
            else if (asked.Count > 1 || asked[0] is not { } id || !Identifiers.IsSlug(id))
            {
                await Problem(context, StatusCodes.Status400BadRequest, "site is not a site id",
                    $"The query parameter '{Parameter}' must be one site id matching {Identifiers.SlugPattern}.").ConfigureAwait(false);
                return;
            }
            else if ((site = sites.Find(id)) is null)
            {
                await Problem(context, StatusCodes.Status404NotFound, "unknown site",
                    $"The query parameter '{Parameter}' names site '{id}', which this collector does not own; GET /api/v1/sites lists the sites.").ConfigureAwait(false);
                return;
            }

            var original = context.RequestServices;
            context.RequestServices = new SiteRequestServices(site, original);
            try
            {
                await next(context).ConfigureAwait(false);
            }
            finally
            {
                context.RequestServices = original;
            }
        });
    }

    private static Task Problem(HttpContext context, int status, string title, string detail) =>
        Results.Problem(title: title, detail: detail, statusCode: status).ExecuteAsync(context);
}
