using System.Net;
using NewTechPark.Edge.Collector.Tests.Http;

namespace NewTechPark.Edge.Collector.Tests.Trust;

/// <summary>Windows in year 1 or 9999 are a named 400, never a 500 from calendar arithmetic.</summary>
public sealed class OutOfRangeDatesTests
{
    [Fact]
    public async Task Dates_at_the_ends_of_the_calendar_are_answered_with_400()
    {
        await using var collector = await InProcessCollector.StartAsync();
        string[] paths =
        [
            "/api/v1/visitors?from=0001-01-01T00:00:00Z&to=0001-02-01T00:00:00Z&bucket=year",
            "/api/v1/visitors?from=9999-11-01T00:00:00Z&to=9999-12-31T00:00:00Z&bucket=year",
            "/api/v1/visitors/groups?from=0001-01-01&to=0001-02-01",
            "/api/v1/visitors/groups?from=9999-01-01&to=9999-12-31",
            "/api/v1/occupancy/history?room=dc-lab&from=0001-01-01T00:00:00Z&to=0001-01-03T00:00:00Z&bucket=day",
            "/api/v1/occupancy/history?room=dc-lab&from=9999-12-01T00:00:00Z&to=9999-12-31T00:00:00Z&bucket=month",
            "/api/v1/occupancy/utilisation?from=0001-01-01T00:00:00Z&to=0001-01-10T00:00:00Z",
            "/api/v1/occupancy/utilisation?from=9999-12-01T00:00:00Z&to=9999-12-31T00:00:00Z",
            "/api/v1/energy?from=9999-12-01T00:00:00Z&to=9999-12-31T00:00:00Z&bucket=month",
        ];

        foreach (var path in paths)
        {
            var response = await collector.Http.GetAsync(path);
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{path}: {(int)response.StatusCode} {body}");
            Assert.Contains("out of range", body, StringComparison.Ordinal);
        }
    }
}
