using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;
using NewTechPark.Edge.Contracts;

namespace NewTechPark.Edge.Collector.Site;

/// <summary>
/// Describes the <c>site</c> query parameter (read by <see cref="SiteRequestMiddleware"/> for every
/// request, so no handler names it) on every <c>/api/v1</c> operation that answers for one site,
/// with the 400 and 404 it may bring. The few collector-wide operations are named below.
/// </summary>
public static class SiteOpenApi
{
    /// <summary>Operations that answer the same whatever the site: the list of sites, who a token is.</summary>
    public static readonly IReadOnlySet<string> CollectorWide = new HashSet<string>(StringComparer.Ordinal) { "GetSites", "GetWhoAmI" };

    public static OpenApiOptions AddSiteParameter(this OpenApiOptions options)
    {
        options.AddOperationTransformer((operation, context, _) =>
        {
            var path = "/" + (context.Description.RelativePath ?? string.Empty);
            var name = context.Description.ActionDescriptor.EndpointMetadata.OfType<IEndpointNameMetadata>().FirstOrDefault()?.EndpointName;
            if (!path.StartsWith("/api/v1/", StringComparison.Ordinal) || (name is not null && CollectorWide.Contains(name)))
            {
                return Task.CompletedTask;
            }

            operation.Parameters ??= [];
            // A handler that also binds site itself (the series' sensor lookup) gets the one full description.
            foreach (var own in operation.Parameters.Where(p => p.Name == SiteRequestMiddleware.Parameter && p.In == ParameterLocation.Query).ToList())
            {
                operation.Parameters.Remove(own);
            }

            operation.Parameters.Add(new OpenApiParameter
            {
                Name = SiteRequestMiddleware.Parameter,
                In = ParameterLocation.Query,
                Required = false,
                Description = "The site to answer for (GET /api/v1/sites lists them); absent: the default site, the first one listed. A malformed id is a 400, a site this collector does not own a 404.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = Identifiers.SlugPattern, MaxLength = 63 },
            });
            operation.Responses ??= [];
            operation.Responses.TryAdd("400", new OpenApiResponse { Description = "Bad request (a malformed site id, or another bad parameter): problem details." });
            operation.Responses.TryAdd("404", new OpenApiResponse { Description = "Not found (a site this collector does not own, or another missing resource): problem details." });
            return Task.CompletedTask;
        });
        return options;
    }
}
