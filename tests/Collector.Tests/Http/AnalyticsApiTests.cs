using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Tests.Http;

public sealed class AnalyticsApiTests
{
    private const string Token = "s3cret-admin-token";

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    [Fact]
    public async Task Admin_calls_need_the_configured_token()
    {
        await using (var unconfigured = await InProcessCollector.StartAsync())
        {
            var refused = await unconfigured.Http.PostAsJsonAsync("/api/v1/occupancy/dc-lab/corrections", new { count = 3, reason = "counted" });
            // No token configured: calls that need one are turned off, and no credentials help (HttpSecurityTests and RolesApiTests have the rest).
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            Assert.Equal("tokens are turned off", (await Json(refused)).GetProperty("title").GetString());
        }

        await using var collector = await InProcessCollector.StartAsync($"--Collector:Admin:Token={Token}");
        var missing = await collector.Http.PostAsJsonAsync("/api/v1/occupancy/dc-lab/corrections", new { count = 3, reason = "counted" });
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal("token missing", (await Json(missing)).GetProperty("title").GetString());

        using var wrong = new HttpRequestMessage(HttpMethod.Post, "/api/v1/occupancy/dc-lab/corrections") { Content = JsonContent.Create(new { count = 3, reason = "counted" }) };
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "guess");
        var wrongResponse = await collector.Http.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.Unauthorized, wrongResponse.StatusCode);
        Assert.Equal("token wrong", (await Json(wrongResponse)).GetProperty("title").GetString());

        collector.Http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        var bad = await collector.Http.PostAsJsonAsync("/api/v1/occupancy/dc-lab/corrections", new { count = -1 });
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        var unknown = await collector.Http.PostAsJsonAsync("/api/v1/occupancy/no-such-room/corrections", new { count = 1, reason = "x" });
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);

        var ok = await collector.Http.PostAsJsonAsync("/api/v1/occupancy/dc-lab/corrections", new { count = 3, reason = "counted by hand", by = "facility" });
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var correction = await Json(ok);
        Assert.Equal(0, correction.GetProperty("previous").GetInt64());
        Assert.Equal(3, correction.GetProperty("count").GetInt64());
        var occupancy = await Json(await collector.Http.GetAsync("/api/v1/occupancy"));
        Assert.Equal(3, occupancy.GetProperty("rooms").EnumerateArray().Single(r => r.GetProperty("room").GetString() == "dc-lab").GetProperty("count").GetInt64());
        var trail = await Json(await collector.Http.GetAsync("/api/v1/occupancy/corrections"));
        Assert.Equal("counted by hand", trail.EnumerateArray().Single().GetProperty("reason").GetString());

        var group = await collector.Http.PostAsJsonAsync("/api/v1/visitors/groups", new { date = "2026-03-10", programme = "Technodiscovery", target_group = "PO", head_count = 28 });
        Assert.Equal(HttpStatusCode.Created, group.StatusCode);
        var badGroup = await collector.Http.PostAsJsonAsync("/api/v1/visitors/groups", new { date = "2026-03-10", programme = "Technodiscovery", target_group = "groep 7", head_count = 28 });
        Assert.Equal(HttpStatusCode.BadRequest, badGroup.StatusCode);
        Assert.Contains("target_group", (await Json(badGroup)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        var groups = await Json(await collector.Http.GetAsync("/api/v1/visitors/groups?from=2026-01-01&to=2027-01-01"));
        Assert.Equal(28, groups.EnumerateArray().Single().GetProperty("head_count").GetInt32());
        var year = await Json(await collector.Http.GetAsync("/api/v1/visitors?from=2026-01-01T00:00:00%2B01:00&to=2027-01-01T00:00:00%2B01:00&bucket=year"));
        Assert.Equal(28, year.GetProperty("buckets")[0].GetProperty("group_head_count").GetInt64());
    }

    [Fact]
    public async Task Energy_visitors_series_and_the_yearly_report_answer_over_http()
    {
        await using var collector = await InProcessCollector.StartAsync();
        var store = collector.Services.GetRequiredService<SqliteStore>();
        var day = new DateTimeOffset(2026, 10, 25, 0, 0, 0, TimeSpan.FromHours(2));
        var readings = Enumerable.Range(0, 26 * 4).Select(i => new Reading
        {
            Ts = day.AddMinutes(15 * i),
            Sensor = "meter-grid",
            Kind = ReadingKinds.Energy,
            Values = new() { ["power_w"] = 2000, ["energy_wh_total"] = 10_000 + (500.0 * i) },
        }).ToArray();
        store.Commit([new ReadingsItem(new TopicAddress("newtechpark", "pi-entrance", TopicChannel.Readings), new ReadingsBatch { Seq = 1, Sent = day, Readings = readings }, day)]);

        var energy = await Json(await collector.Http.GetAsync("/api/v1/energy?meter=meter-grid&bucket=day&from=2026-10-25T00:00:00%2B02:00&to=2026-10-26T00:00:00%2B01:00"));
        var sunday = energy.GetProperty("buckets").EnumerateArray().Single();
        Assert.Equal(25, sunday.GetProperty("hours").GetDouble());
        Assert.Equal(50_000 - 500, sunday.GetProperty("grid_import_wh").GetDouble()); // the first reading is the baseline
        var badBucket = await collector.Http.GetAsync("/api/v1/energy?bucket=week");
        Assert.Equal(HttpStatusCode.BadRequest, badBucket.StatusCode);
        Assert.Equal("application/problem+json", badBucket.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await collector.Http.GetAsync("/api/v1/energy?meter=meter-nope")).StatusCode);

        var series = await Json(await collector.Http.GetAsync("/api/v1/series?sensor=meter-grid&field=power_w&from=2026-10-25T00:00:00%2B02:00&to=2026-10-26T00:00:00%2B01:00&points=25"));
        Assert.Equal("hour", series.GetProperty("resolution").GetString());
        Assert.Equal(25, series.GetProperty("points").GetArrayLength());

        var visitors = await collector.Http.GetAsync("/api/v1/visitors?bucket=week");
        Assert.Equal(HttpStatusCode.OK, visitors.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await collector.Http.GetAsync("/api/v1/visitors?bucket=hour")).StatusCode);

        // 103 increases of 500 Wh after the baseline reading, all in 2026.
        var report = await Json(await collector.Http.GetAsync("/api/v1/reports/annual?year=2026"));
        Assert.Equal(2026, report.GetProperty("year").GetInt32());
        Assert.Equal(51.5, report.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("key").GetString() == "energy-grid").GetProperty("value").GetDouble());
        var csv = await collector.Http.GetAsync("/api/v1/reports/annual?year=2026&format=csv");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("key,label_nl,label_en,value,unit,target,", await csv.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var history = await collector.Http.GetAsync("/api/v1/occupancy/history?room=dc-lab&bucket=day&from=2026-10-24T00:00:00Z&to=2026-10-27T00:00:00Z");
        Assert.Equal(HttpStatusCode.OK, history.StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await collector.Http.GetAsync("/api/v1/occupancy/utilisation")).StatusCode);

        var openApi = await collector.Http.GetStringAsync("/openapi/v1.json");
        foreach (var path in new[] { "/api/v1/energy", "/api/v1/visitors", "/api/v1/visitors/groups", "/api/v1/occupancy/{room}/corrections", "/api/v1/occupancy/history", "/api/v1/occupancy/utilisation", "/api/v1/reports/annual" })
        {
            Assert.Contains($"\"{path}\"", openApi, StringComparison.Ordinal);
        }

        var page = await collector.Http.GetAsync("/report.html");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
    }
}
