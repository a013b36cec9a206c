using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Tests.Http;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Tests.Sites;

/// <summary>
/// One collector owning two sites with the same door and meter ids: every figure over HTTP is
/// the asked site's own (occupancy, energy, visitors, the report), never the two mixed.
/// </summary>
[Trait("Category", "Slow")]
public sealed class SeveralSitesApiTests
{
    private static readonly DateTimeOffset Day = new(2026, 10, 20, 0, 0, 0, TimeSpan.FromHours(2));

    [Fact]
    public async Task Each_site_answers_with_its_own_figures()
    {
        using var dir = new TempDirectory();
        await using var collector = await InProcessCollector.StartAsync($"--Collector:Sites:0={SiteFiles.Folder(dir)}");

        var sites = await Json(await collector.Http.GetAsync("/api/v1/sites"));
        Assert.Equal(["newtechpark", SiteFiles.SecondSite], sites.EnumerateArray().Select(s => s.GetProperty("site").GetString()));
        Assert.True(sites[0].GetProperty("default").GetBoolean());
        Assert.Equal(1, sites[1].GetProperty("rooms").GetInt32());

        Assert.Equal("newtechpark", (await Json(await collector.Http.GetAsync("/api/v1/site"))).GetProperty("site").GetString());
        Assert.Equal(SiteFiles.SecondSite, (await Json(await collector.Http.GetAsync($"/api/v1/site?site={SiteFiles.SecondSite}"))).GetProperty("site").GetString());
        await AssertProblem(collector, "/api/v1/occupancy?site=elsewhere", HttpStatusCode.NotFound);
        await AssertProblem(collector, "/api/v1/occupancy?site=Not%20A%20Site", HttpStatusCode.BadRequest);
        await AssertProblem(collector, "/api/v1/occupancy?site=newtechpark&site=hub-zutphen", HttpStatusCode.BadRequest);

        // Energy through the store: 1 kWh at the default site, 3 kWh at the second, same meter id.
        var store = collector.Services.GetRequiredService<SqliteStore>();
        store.Commit([Energy("newtechpark", "pi-entrance", 1_000), Energy(SiteFiles.SecondSite, "pi-zutphen", 3_000)]);
        Assert.Equal(1_000, await GridWh(collector, null));
        Assert.Equal(3_000, await GridWh(collector, SiteFiles.SecondSite));

        // Occupancy through the ingest: 5 in at the default site's main door, 2 at the second's.
        var pipeline = collector.Services.GetRequiredService<IngestPipeline>();
        var now = DateTimeOffset.UtcNow;
        pipeline.Enqueue(Door("newtechpark", "pi-entrance", 2, now, 5), null);
        pipeline.Enqueue(Door(SiteFiles.SecondSite, "pi-zutphen", 2, now, 2), null);
        await Eventually.UntilAsync(() => Building(collector, null).Result == 5 && Building(collector, SiteFiles.SecondSite).Result == 2, "each site's occupancy");
        var second = await Json(await collector.Http.GetAsync($"/api/v1/occupancy?site={SiteFiles.SecondSite}"));
        Assert.Equal(SiteFiles.SecondRoom, Assert.Single(second.GetProperty("rooms").EnumerateArray()).GetProperty("room").GetString());

        // Visitors and the report answer per site (the second site has no badge readers: no visits).
        Assert.Equal(HttpStatusCode.OK, (await collector.Http.GetAsync($"/api/v1/visitors?bucket=month&site={SiteFiles.SecondSite}")).StatusCode);
        var report = await Json(await collector.Http.GetAsync($"/api/v1/reports/annual?year=2026&site={SiteFiles.SecondSite}"));
        Assert.Equal(3, Row(report, "energy-grid"));
        Assert.Equal(1, Row(await Json(await collector.Http.GetAsync("/api/v1/reports/annual?year=2026")), "energy-grid"));

        // The root has no "the" site: a site-scoped service asked of it is refused by name.
        var refusal = Assert.Throws<InvalidOperationException>(() => collector.Services.GetRequiredService<OccupancyEngine>());
        Assert.Contains("belongs to a site", refusal.Message);
        Assert.Equal(2, collector.Services.GetRequiredService<SiteServicesCatalog>().All.Count);
    }

    private static double Row(JsonElement report, string key) =>
        report.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("key").GetString() == key).GetProperty("value").GetDouble();

    private static async Task<double> GridWh(InProcessCollector collector, string? site)
    {
        var query = $"/api/v1/energy?meter=meter-grid&bucket=day&from=2026-10-20T00:00:00%2B02:00&to=2026-10-21T00:00:00%2B02:00{(site is null ? string.Empty : "&site=" + site)}";
        return (await Json(await collector.Http.GetAsync(query))).GetProperty("buckets").EnumerateArray().Single().GetProperty("grid_import_wh").GetDouble();
    }

    private static async Task<long> Building(InProcessCollector collector, string? site)
    {
        var occupancy = await Json(await collector.Http.GetAsync("/api/v1/occupancy" + (site is null ? string.Empty : "?site=" + site)));
        return occupancy.GetProperty("building").GetInt64();
    }

    private static ReadingsItem Energy(string site, string device, double wh)
    {
        var readings = new[]
        {
            new Reading { Ts = Day.AddHours(9), Sensor = "meter-grid", Kind = ReadingKinds.Energy, Values = new() { ["power_w"] = 100, ["energy_wh_total"] = 50_000 } },
            new Reading { Ts = Day.AddHours(10), Sensor = "meter-grid", Kind = ReadingKinds.Energy, Values = new() { ["power_w"] = 100, ["energy_wh_total"] = 50_000 + wh } },
        };
        return new ReadingsItem(new TopicAddress(site, device, TopicChannel.Readings), new ReadingsBatch { Seq = 1, Sent = Day, Readings = readings }, Day);
    }

    private static ReadingsItem Door(string site, string device, ulong seq, DateTimeOffset ts, long entered) =>
        new(new TopicAddress(site, device, TopicChannel.Readings), new ReadingsBatch
        {
            Seq = seq,
            Sent = ts,
            Readings = [TestData.Door("door-main", ts, entered, 0, entered, 0)],
        }, ts);

    private static async Task AssertProblem(InProcessCollector collector, string path, HttpStatusCode status)
    {
        var response = await collector.Http.GetAsync(path);
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("site", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        Assert.True(response.IsSuccessStatusCode, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
    }
}
