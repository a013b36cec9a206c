using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NewTechPark.Edge.Browser.Tests.Infrastructure;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace NewTechPark.Edge.Browser.Tests;

/// <summary>Two collectors: one owning two sites (the default site and a small hub with other rooms), one owning the default site only.</summary>
public sealed class TwoSites : IAsyncLifetime
{
    public const string Hub = "hub-zutphen";
    public const string HubName = "Tech hub Zutphen";

    private readonly TempDirectory _files = new();

    public Chromium Chromium { get; } = new();

    public RunningCollector Both { get; private set; } = null!;

    public RunningCollector One { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Chromium.InitializeAsync();
        var hubFile = Path.Combine(_files.Path, "hub-zutphen.json");
        await File.WriteAllTextAsync(hubFile, $$"""
            {
              "site": "{{Hub}}",
              "name": "{{HubName}}",
              "time_zone": "Europe/Amsterdam",
              "rooms": [
                { "id": "werkplaats", "name": { "nl": "Werkplaats", "en": "Workshop" }, "capacity": 40, "kind": "lab" },
                { "id": "kantine", "name": { "nl": "Kantine", "en": "Canteen" }, "capacity": 60, "kind": "meeting" }
              ],
              "doors": [
                { "id": "door-werkplaats", "from": "outside", "to": "werkplaats", "device": "pi-zutphen" }
              ]
            }
            """);
        Both = await RunningCollector.StartAsync(extra: [$"--Collector:Sites:0={TestSite.Path}", $"--Collector:Sites:1={hubFile}"]);
        One = await RunningCollector.StartAsync();
        // Seven in the hub's workshop before any page opens.
        Engine(Hub).Correct("werkplaats", 7, DateTimeOffset.UtcNow);
    }

    public OccupancyEngine Engine(string site) =>
        Both.Services.GetRequiredService<SiteServicesCatalog>().Find(site)!.GetRequiredService<OccupancyEngine>();

    public async Task DisposeAsync()
    {
        await Chromium.DisposeAsync();
        if (Both is not null)
        {
            await Both.DisposeAsync();
        }

        if (One is not null)
        {
            await One.DisposeAsync();
        }

        _files.Dispose();
    }
}

/// <summary>The site picker: listed sites, the choice in the address (kept by a reload and by links), the live stream of the chosen site; absent with one site.</summary>
[Trait("Category", "Slow")]
public sealed class SitePickerTests(TwoSites sites) : IClassFixture<TwoSites>
{
    [Fact]
    public async Task The_picker_switches_the_facility_page_to_the_other_sites_rooms_and_a_reload_keeps_it()
    {
        await using var watched = await WatchedPage.OpenAsync(sites.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync($"http://127.0.0.1:{sites.Both.HttpPort}/facility");
        await watched.WaitUntilDrawnAsync();

        var picker = page.Locator("#site");
        await Expect(picker.Locator("option")).ToHaveCountAsync(2);
        Assert.Equal(["newtechpark", TwoSites.Hub], await picker.Locator("option").EvaluateAllAsync<string[]>("options => options.map(o => o.value)"));
        await Expect(picker).ToHaveValueAsync("newtechpark");
        await Expect(page.Locator("label.site-picker > span")).ToHaveTextAsync("Locatie");
        await Expect(page.Locator(".room[data-room=dc-lab]")).ToHaveCountAsync(1);
        await Expect(page.Locator(".room[data-room=werkplaats]")).ToHaveCountAsync(0);

        await picker.SelectOptionAsync(TwoSites.Hub);
        Assert.Empty(watched.Errors);
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex($"/facility\\?site={TwoSites.Hub}$"));
        await watched.WaitUntilDrawnAsync();
        await Expect(page.Locator(".room")).ToHaveCountAsync(2);
        await Expect(page.Locator(".room[data-room=werkplaats] .count b")).ToHaveTextAsync("7");
        await Expect(page.Locator(".room[data-room=dc-lab]")).ToHaveCountAsync(0);
        await Expect(page.Locator("#site-name")).ToHaveTextAsync(TwoSites.HubName);
        Assert.Contains(TwoSites.HubName, await page.TitleAsync(), StringComparison.Ordinal);
        await Expect(page.Locator("nav.pages a[href^='/management']")).ToHaveAttributeAsync("href", $"/management?site={TwoSites.Hub}");

        // The live stream is the hub's: a change there arrives; the default site's changes do not.
        await page.Locator("#connection.online").WaitForAsync();
        sites.Engine(TwoSites.Hub).Correct("werkplaats", 9, DateTimeOffset.UtcNow);
        await Expect(page.Locator(".room[data-room=werkplaats] .count b")).ToHaveTextAsync("9");
        var updates = await page.EvaluateAsync<int>("() => Number(document.body.dataset.updates || 0)");
        sites.Engine("newtechpark").Correct("dc-lab", 3, DateTimeOffset.UtcNow);
        sites.Engine(TwoSites.Hub).Correct("kantine", 4, DateTimeOffset.UtcNow);
        await Expect(page.Locator(".room[data-room=kantine] .count b")).ToHaveTextAsync("4");
        // Only the hub's event (and its capacity events, if any) reached the page: the default site's did not.
        Assert.Equal(updates + 1, await page.EvaluateAsync<int>("() => Number(document.body.dataset.updates || 0)"));

        await page.ReloadAsync();
        await watched.WaitUntilDrawnAsync();
        await Expect(page.Locator("#site")).ToHaveValueAsync(TwoSites.Hub);
        await Expect(page.Locator(".room[data-room=werkplaats] .count b")).ToHaveTextAsync("9");

        // The start page (its own script) follows the choice too, in English when asked.
        await page.Locator("#language").ClickAsync();
        await Expect(page.Locator("label.site-picker > span")).ToHaveTextAsync("Site");
        await page.GotoAsync($"http://127.0.0.1:{sites.Both.HttpPort}/?site={TwoSites.Hub}");
        await Expect(page.Locator("#rooms tbody tr")).ToHaveCountAsync(2);
        await Expect(page.Locator("#rooms tbody")).ToContainTextAsync("Workshop");
        await Expect(page.Locator("#site")).ToHaveValueAsync(TwoSites.Hub);
        await watched.ScreenshotAsync("site-picker");
        Assert.Empty(watched.Errors);
    }

    [Fact]
    public async Task With_one_site_there_is_no_picker()
    {
        await using var watched = await WatchedPage.OpenAsync(sites.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync($"http://127.0.0.1:{sites.One.HttpPort}/facility");
        await watched.WaitUntilDrawnAsync();
        // body[data-site] is set once the page has read the site list.
        await page.Locator("body[data-site=newtechpark]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
        await Expect(page.Locator("#site")).ToHaveCountAsync(0);
        await Expect(page.Locator("#site-name")).ToHaveCountAsync(0);
        await Expect(page.Locator("nav.pages a[href^='/management']")).ToHaveAttributeAsync("href", "/management");
        Assert.Empty(watched.Errors);
    }
}
