using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NewTechPark.Edge.Browser.Tests.Infrastructure;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace NewTechPark.Edge.Browser.Tests;

/// <summary>The real collector without the demo: DC-Lab made full before any page opens, and two weeks of DC-Lab door readings.</summary>
public sealed class FacilitySite : IAsyncLifetime
{
    public Chromium Chromium { get; } = new();

    public RunningCollector Collector { get; private set; } = null!;

    public string Url(string path) => $"http://127.0.0.1:{Collector.HttpPort}{path}";

    /// <summary>Last week, the same day of the week as today: four people in DC-Lab from 10:00 to 12:00 local time.</summary>
    public static DateTimeOffset LastWeekTen { get; } = LocalTenOClock(DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, Amsterdam).DateTime).AddDays(-7));

    private static TimeZoneInfo Amsterdam => TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");

    public async Task InitializeAsync()
    {
        await Chromium.InitializeAsync();
        Collector = await RunningCollector.StartAsync();
        var store = Collector.Services.GetRequiredService<SqliteStore>();
        Reading Door(DateTimeOffset ts, long entered, long left, long inTotal, long outTotal) => new()
        {
            Ts = ts,
            Sensor = "door-dc-lab",
            Kind = ReadingKinds.Door,
            Values = new() { ["in"] = entered, ["out"] = left, ["in_total"] = inTotal, ["out_total"] = outTotal },
        };
        store.Commit([new ReadingsItem(new TopicAddress("newtechpark", "pi-dc-lab", TopicChannel.Readings),
            new ReadingsBatch { Seq = 1, Sent = DateTimeOffset.UtcNow, Readings = [Door(LastWeekTen, 4, 0, 4, 0), Door(LastWeekTen.AddHours(2), 0, 4, 4, 4)] },
            DateTimeOffset.UtcNow)]);
        // 35 people in DC-Lab (capacity 30) before any page opens: no capacity event will reach a page.
        Collector.Services.GetRequiredService<NewTechPark.Edge.Collector.Site.SiteServicesCatalog>().Default.GetRequiredService<OccupancyEngine>().Correct("dc-lab", 35, DateTimeOffset.UtcNow);
    }

    private static DateTimeOffset LocalTenOClock(DateOnly day)
    {
        var local = day.ToDateTime(new TimeOnly(10, 0));
        return new DateTimeOffset(local, Amsterdam.GetUtcOffset(local));
    }

    public async Task DisposeAsync()
    {
        await Chromium.DisposeAsync();
        if (Collector is not null)
        {
            await Collector.DisposeAsync();
        }
    }
}

/// <summary>The facility page: a room already full when it opens is listed at once; each room's week against last week.</summary>
[Trait("Category", "Slow")]
public sealed class FacilityPageTests(FacilitySite site) : IClassFixture<FacilitySite>
{
    [Fact]
    public async Task A_room_over_capacity_before_the_page_opens_is_listed_at_once_with_since_when()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/facility"));
        await watched.WaitUntilDrawnAsync();

        var warning = page.Locator("#warnings li.full[data-room=dc-lab]");
        await Expect(warning).ToHaveCountAsync(1);
        await Expect(warning).ToContainTextAsync("DC-Lab: vol – 35 / 30");
        await Expect(warning.Locator(".since")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^sinds \d{1,2}:\d{2}$"));
        await Expect(page.Locator("#no-warnings")).ToBeHiddenAsync();
        // Nothing else is full or nearly full.
        await Expect(page.Locator("#warnings li")).ToHaveCountAsync(1);

        await page.Locator("#language").ClickAsync();
        await Expect(warning).ToContainTextAsync("DC-Lab: full – 35 / 30");
        await Expect(warning.Locator(".since")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^since \d{1,2}:\d{2}$"));
        await watched.ScreenshotAsync("facility-full-on-open");
        Assert.Empty(watched.Errors);
    }

    [Fact]
    public async Task Week_over_week_shows_every_room_with_last_weeks_use()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser, 800, 1280);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/facility"));
        await watched.WaitUntilDrawnAsync();

        await Expect(page.Locator("#weeks tbody tr")).ToHaveCountAsync(25);
        var lab = page.Locator("#weeks tbody tr[data-room=dc-lab]");
        await Expect(lab.Locator("td").First).ToHaveTextAsync("DC-Lab");
        // Last week up to today's day of the week: the two hours of last week's session.
        await Expect(lab.Locator("td.last-week")).ToHaveTextAsync("2,0");
        await Expect(lab.Locator(".spark .day")).ToHaveCountAsync(7);
        await Expect(page.Locator("#weeks-title")).ToContainTextAsync("week van");

        // The week before: last week's session is now "this week", and the week can be stepped back again.
        await page.Locator("#week-previous").ClickAsync();
        await Expect(lab.Locator("td.this-week")).ToHaveTextAsync("2,0");
        await Expect(page.Locator("#week-next")).ToBeEnabledAsync();
        await watched.ScreenshotAsync("facility-week-over-week");
        var (scroll, width) = (await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth"), await page.EvaluateAsync<int>("() => window.innerWidth"));
        Assert.True(scroll <= width, $"the facility page is {scroll} px wide on an {width} px tablet");
        Assert.Empty(watched.Errors);
    }
}
