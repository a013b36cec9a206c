using System.Text.Json;
using NewTechPark.Edge.Collector.Tests.Http;

namespace NewTechPark.Edge.Collector.Tests.Sites;

/// <summary>The OpenAPI document describes the <c>site</c> query parameter on every site-scoped operation, and not on the collector-wide ones.</summary>
[Trait("Category", "Slow")]
public sealed class SiteOpenApiTests
{
    [Fact]
    public async Task Every_site_scoped_operation_takes_site_and_the_list_of_sites_does_not()
    {
        await using var collector = await InProcessCollector.StartAsync();
        var document = JsonDocument.Parse(await collector.Http.GetStringAsync("/openapi/v1.json")).RootElement;
        var paths = document.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/sites", out var sites), "OpenAPI lacks /api/v1/sites");
        Assert.False(HasSite(sites.GetProperty("get")));

        var scoped = 0;
        foreach (var path in paths.EnumerateObject().Where(p => p.Name.StartsWith("/api/v1/", StringComparison.Ordinal)))
        {
            foreach (var operation in path.Value.EnumerateObject())
            {
                var name = operation.Value.TryGetProperty("operationId", out var id) ? id.GetString() : null;
                if (name is "GetSites" or "GetWhoAmI")
                {
                    Assert.False(HasSite(operation.Value), $"{operation.Name} {path.Name} is collector-wide");
                    continue;
                }

                Assert.True(HasSite(operation.Value), $"{operation.Name} {path.Name} lacks the site parameter");
                var site = operation.Value.GetProperty("parameters").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "site");
                Assert.Equal("query", site.GetProperty("in").GetString());
                Assert.True(site.TryGetProperty("schema", out var schema) && schema.TryGetProperty("pattern", out var pattern)
                    && pattern.GetString() == NewTechPark.Edge.Contracts.Identifiers.SlugPattern, $"{operation.Name} {path.Name}: {site}");
                Assert.True(operation.Value.GetProperty("responses").TryGetProperty("404", out _));
                scoped++;
            }
        }

        foreach (var path in new[] { "/api/v1/occupancy", "/api/v1/stream", "/api/v1/energy", "/api/v1/visitors", "/api/v1/site" })
        {
            Assert.True(HasSite(paths.GetProperty(path).GetProperty("get")), $"GET {path} lacks the site parameter");
        }

        Assert.True(scoped >= 15, $"only {scoped} operations take site");
    }

    private static bool HasSite(JsonElement operation) =>
        operation.TryGetProperty("parameters", out var parameters) && parameters.EnumerateArray().Any(p => p.GetProperty("name").GetString() == "site");
}
