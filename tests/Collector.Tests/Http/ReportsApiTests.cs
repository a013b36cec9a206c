using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Tests.Reports;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Collector.Tests.Http;

/// <summary>The yearly report over HTTP with the shipped targets: JSON beside targets and the previous year, CSV for Dutch Excel and for scripts.</summary>
public sealed class ReportsApiTests
{
    [Fact]
    public async Task The_report_shows_targets_previous_year_and_csv_in_both_dialects()
    {
        await using var collector = await InProcessCollector.StartAsync();
        var store = collector.Services.GetRequiredService<SqliteStore>();
        // The grid meter: 1,000 kWh in 2023 and 1,250 kWh in 2024.
        var seq = 1UL;
        foreach (var (at, total) in new[] { (Utc(2023, 1, 1), 0.0), (Utc(2023, 12, 31), 1_000_000), (Utc(2024, 12, 31), 2_250_000) })
        {
            var reading = new Reading { Ts = at, Sensor = "meter-grid", Kind = ReadingKinds.Energy, Values = new() { ["energy_wh_total"] = total } };
            store.Commit([new ReadingsItem(new TopicAddress("newtechpark", "pi-entrance", TopicChannel.Readings), new ReadingsBatch { Seq = seq++, Sent = at, Readings = [reading] }, at)]);
        }

        using var json = JsonDocument.Parse(await collector.Http.GetStringAsync("/api/v1/reports/annual?year=2024"));
        var report = json.RootElement;
        JsonElement Row(string key) => report.GetProperty("rows").EnumerateArray().Single(r => r.GetProperty("key").GetString() == key);
        Assert.Equal("2023", report.GetProperty("previous_period").GetString());
        Assert.StartsWith("NewTechPark, eindrapportage", report.GetProperty("targets_source").GetString(), StringComparison.Ordinal);
        var grid = Row("energy-grid");
        Assert.Equal(1250, grid.GetProperty("value").GetDouble());
        Assert.Equal(1000, grid.GetProperty("previous").GetDouble());
        Assert.Equal(250, grid.GetProperty("vs_previous").GetDouble());
        Assert.Equal(25, grid.GetProperty("vs_previous_pct").GetDouble());
        // No door, badge or group data: the visitor rows are "–" beside their target, never 0 against it.
        var events = Row("events");
        Assert.Equal(70, events.GetProperty("target").GetDouble());
        Assert.Equal(JsonValueKind.Null, events.GetProperty("value").ValueKind);
        Assert.Equal("–", events.GetProperty("display").GetString());
        Assert.Equal(JsonValueKind.Null, events.GetProperty("vs_target").ValueKind);
        // 2025 has no targets in the shipped file.
        using var later = JsonDocument.Parse(await collector.Http.GetStringAsync("/api/v1/reports/annual?year=2025"));
        Assert.All(later.RootElement.GetProperty("rows").EnumerateArray(), r => Assert.Equal(JsonValueKind.Null, r.GetProperty("target").ValueKind));

        // Dutch Excel: asked for by the browser's language, or by format=nl.
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/reports/annual?year=2024&format=csv");
        request.Headers.AcceptLanguage.ParseAdd("nl-NL,nl;q=0.9,en;q=0.8");
        var dutch = await collector.Http.SendAsync(request);
        Assert.Equal("text/csv", dutch.Content.Headers.ContentType?.MediaType);
        Assert.Contains("Accept-Language", dutch.Headers.Vary);
        Assert.Equal("ntp-jaarverslag-2024-nl.csv", dutch.Content.Headers.ContentDisposition?.FileNameStar ?? dutch.Content.Headers.ContentDisposition?.FileName);
        var bytes = await dutch.Content.ReadAsByteArrayAsync();
        Assert.Equal(Encoding.UTF8.GetPreamble(), bytes[..3]);
        var sections = ReportCsvTests.Sections(Encoding.UTF8.GetString(bytes[3..]), ';');
        Assert.Equal(4, sections.Count);
        Assert.Equal(["1250", "kWh", "", "", "", "1000", "250", "25"], sections[0].Single(r => r[0] == "energy-grid")[3..11]);
        Assert.Equal(["", "dagen", "70", "", "", "", "", ""], sections[0].Single(r => r[0] == "events")[3..11]);
        Assert.Equal(12, sections[1].Count - 1);                                       // twelve months
        Assert.Equal(collector.Services.GetRequiredService<NewTechPark.Edge.Collector.Site.SiteServicesCatalog>().Default.GetRequiredService<NewTechPark.Edge.Collector.Site.SiteModel>().Rooms.Count, sections[2].Count - 1);
        Assert.Equal(bytes, await collector.Http.GetByteArrayAsync("/api/v1/reports/annual?year=2024&format=nl"));

        // Scripts and English spreadsheets: comma and decimal point.
        var english = await collector.Http.GetByteArrayAsync("/api/v1/reports/annual?year=2024&format=en");
        Assert.Equal("key", ReportCsvTests.Sections(Encoding.UTF8.GetString(english[3..]), ',')[0][0][0]);

        var bad = await collector.Http.GetAsync("/api/v1/reports/annual?year=2024&format=xlsx");
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, (await collector.Http.GetAsync("/api/v1/reports/annual?year=1999")).StatusCode);
    }

    private static DateTimeOffset Utc(int year, int month, int day) => new(year, month, day, 12, 0, 0, TimeSpan.Zero);
}
