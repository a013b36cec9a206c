using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NewTechPark.Edge.Browser.Tests.Infrastructure;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Visitors;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace NewTechPark.Edge.Browser.Tests;

/// <summary>
/// The collector with the default site, a targets file for this year, and two years of crafted
/// meter readings and group visits stored directly: known figures for the management page.
/// </summary>
public sealed class ManagementSite : IAsyncLifetime
{
    public static readonly int Year = DateTime.Now.Year;

    private readonly TempDirectory _dir = new();

    public Chromium Chromium { get; } = new();

    public RunningCollector Collector { get; private set; } = null!;

    public string Url(string path) => $"http://127.0.0.1:{Collector.HttpPort}{path}";

    public async Task InitializeAsync()
    {
        await Chromium.InitializeAsync();
        var targets = _dir.File("targets.json");
        File.WriteAllText(targets, $$"""{ "source": "browser test targets", "targets": { "{{Year}}": { "technodiscovery": 40, "group-visits": 1 } } }""");
        Collector = await RunningCollector.StartAsync(extra: [$"--Collector:SiteFile={TestSite.Shipped}", $"--Collector:Report:TargetsFile={targets}"]);

        // Grid and solar meters read on the 15th of each month: last year 1,000 and 200 kWh a month, this year 800 and 300.
        var store = Collector.Services.GetRequiredService<SqliteStore>();
        var readings = new List<Reading>();
        double grid = 0, solar = 0;
        var now = DateTimeOffset.UtcNow;
        for (var at = new DateTimeOffset(Year - 2, 12, 15, 12, 0, 0, TimeSpan.Zero); at < now; at = at.AddMonths(1))
        {
            readings.Add(new Reading { Ts = at, Sensor = "meter-grid", Kind = ReadingKinds.Energy, Values = new() { ["energy_wh_total"] = grid } });
            readings.Add(new Reading { Ts = at, Sensor = "meter-solar", Kind = ReadingKinds.Energy, Values = new() { ["energy_wh_total"] = solar } });
            // The increase up to the next reading lands in the next reading's month.
            var thisYear = at.AddMonths(1).Year == Year;
            grid += thisYear ? 800_000 : 1_000_000;
            solar += thisYear ? 300_000 : 200_000;
        }

        store.Commit([new ReadingsItem(new TopicAddress("newtechpark", "pi-entrance", TopicChannel.Readings), new ReadingsBatch { Seq = 1, Sent = now, Readings = readings }, now)]);
        var groups = Collector.Services.GetRequiredService<NewTechPark.Edge.Collector.Site.SiteServicesCatalog>().Default.GetRequiredService<GroupVisits>();
        groups.Register(new GroupVisitRequest(new DateOnly(Year - 1, 3, 10), "Technodiscovery", "PO", 20, null, null, null));
        groups.Register(new GroupVisitRequest(new DateOnly(Year, 3, 10), "Technodiscovery", "PO", 28, null, null, null));
    }

    public async Task DisposeAsync()
    {
        await Chromium.DisposeAsync();
        if (Collector is not null)
        {
            await Collector.DisposeAsync();
        }

        _dir.Dispose();
    }
}

[Trait("Category", "Slow")]
public sealed class ManagementPageTests(ManagementSite site) : IClassFixture<ManagementSite>
{
    private static readonly LocatorAssertionsToHaveTextOptions Soon = new() { Timeout = 30_000 };

    /// <summary>Table cells, each exactly a text or matching a pattern.</summary>
    private static Regex[] Cells(params object[] cells) => cells.Select(c => c as Regex ?? new Regex("^" + Regex.Escape((string)c) + "$")).ToArray();

    [Fact]
    public async Task Results_stand_beside_the_years_target_and_the_previous_year_with_the_difference()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/management"));
        await page.Locator("#targets-card[data-ready='1']").WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });

        var y = ManagementSite.Year;
        await Expect(page.Locator("#targets-col-target")).ToHaveTextAsync($"Doel {y}");
        await Expect(page.Locator("#targets-col-previous")).ToHaveTextAsync($"{y - 1}");
        var row = page.Locator("#targets-table tr[data-key=technodiscovery] td");
        await Expect(row).ToHaveTextAsync(["Technodiscovery (PO/VMBO) (leerlingen)", "28", "40", "-12 (-30,0 %)", "20", "+8 (+40,0 %)"]);
        await Expect(page.Locator("#targets-table tr[data-key=technodiscovery] td.change").First).ToHaveClassAsync(new Regex("down"));
        // A row without a target shows "–" there, never 0; the previous year's figure still stands beside it.
        await Expect(page.Locator("#targets-table tr[data-key=energy-grid] td")).ToHaveTextAsync(Cells("Afname van het net (kWh)", new Regex("^\\d"), "–", "–", "12.000", new Regex("^[-+]")));
        await Expect(page.Locator("#targets-note")).ToContainTextAsync("browser test targets");
        await watched.ScreenshotAsync("management-results");
        Assert.Equal($"/api/v1/reports/annual?year={y}&format=nl", await page.Locator("#targets-csv").GetAttributeAsync("href"));

        // Next year: no targets in the file and no data yet, so dashes throughout.
        await page.Locator("#targets-year").FillAsync((y + 1).ToString(CultureInfo.InvariantCulture));
        await page.Locator("#targets-year").DispatchEventAsync("change");
        await Expect(page.Locator("#targets-col-target")).ToHaveTextAsync($"Doel {y + 1}", Soon);
        await Expect(page.Locator("#targets-table tr[data-key=technodiscovery] td")).ToHaveTextAsync(["Technodiscovery (PO/VMBO) (leerlingen)", "–", "–", "–", "28", "–"], Soon);
        await Expect(page.Locator("#targets-note")).ToContainTextAsync($"Geen doelen vastgelegd voor {y + 1}");

        await page.Locator("#language").ClickAsync();
        await Expect(page.Locator("#targets-col-target")).ToHaveTextAsync($"Target {y + 1}");
        Assert.Empty(watched.Errors);
    }

    [Fact]
    public async Task Energy_per_month_compares_this_year_with_last_year_in_kWh()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/management"));
        await page.Locator("#energy-card[data-ready='1']").WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });

        var y = ManagementSite.Year;
        await Expect(page.Locator("#energy-col-use")).ToHaveTextAsync($"Verbruik {y}");
        await Expect(page.Locator("#energy-table tbody tr")).ToHaveCountAsync(12);
        await Expect(page.Locator("#energy-chart canvas")).ToHaveCountAsync(1);
        // Use is grid import plus own solar: 1,000 + 200 kWh a month last year, 800 + 300 this year.
        var last = page.Locator("#energy-table tbody tr").Nth(DateTime.Now.Month - 2 < 0 ? 0 : DateTime.Now.Month - 2).Locator("td");
        if (DateTime.Now.Month >= 2)
        {
            await Expect(last).ToHaveTextAsync(Cells(new Regex("."), "1.100", "1.200", "-100 (-8,3 %)", "300", "200", "+100 (+50,0 %)"));
        }

        // A month still to come this year: no readings, so a dash, not 0.
        if (new DateTimeOffset(ManagementSite.Year, 12, 15, 12, 0, 0, TimeSpan.Zero) > DateTimeOffset.UtcNow)
        {
            await Expect(page.Locator("#energy-table tbody tr").Nth(11).Locator("td")).ToHaveTextAsync(["dec", "–", "1.200", "–", "–", "200", "–"]);
        }

        await Expect(page.Locator("#energy-table tfoot td").First).ToContainTextAsync("totaal");
        await page.Locator("#energy-card").ScreenshotAsync(new LocatorScreenshotOptions { Path = Path.Combine(AppContext.BaseDirectory, "screenshots", "management-energy.png") });
        Assert.Empty(watched.Errors);
    }

    [Fact]
    public async Task The_yearly_report_page_shows_the_target_and_previous_year_columns()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        var y = ManagementSite.Year;
        await page.GotoAsync(site.Url($"/report.html?year={y}"));
        await page.Locator("body[data-ready='1']").WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        await Expect(page.Locator("#col-target")).ToHaveTextAsync($"Doel {y}");
        var cells = page.Locator("#rows tbody tr", new PageLocatorOptions { HasText = "Technodiscovery (PO/VMBO)" }).Locator("td");
        await Expect(cells.Nth(1)).ToHaveTextAsync("28");
        await Expect(cells.Nth(3)).ToHaveTextAsync("40");
        await Expect(cells.Nth(4)).ToHaveTextAsync("-12 (-30 %)");
        await Expect(cells.Nth(5)).ToHaveTextAsync("20");
        await Expect(cells.Nth(6)).ToHaveTextAsync("+8 (+40 %)");
        Assert.Equal($"/api/v1/reports/annual?year={y}&format=nl", await page.Locator("#csv").GetAttributeAsync("href"));
        await watched.ScreenshotAsync("report-targets");
        Assert.Empty(watched.Errors);
    }
}
