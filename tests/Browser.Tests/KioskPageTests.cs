using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using NewTechPark.Edge.Browser.Tests.Infrastructure;
using NewTechPark.Edge.Collector.Ingest;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace NewTechPark.Edge.Browser.Tests;

/// <summary>
/// A collector of the shipped site fed, through its real ingest path, with known figures: yesterday
/// and today so far of the grid and solar meters (every 15 minutes; yesterday 3 kW + 0.75 kW of
/// sun, today 4 kW + 1 kW, so the sun's share is 20 % on both days), people walking into three
/// labs, the air of three labs and the DC-Lab's meter.
/// </summary>
public sealed class KioskSite : IAsyncLifetime
{
    public static readonly TimeZoneInfo Amsterdam = TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam");

    private readonly Dictionary<string, ulong> _seq = [];

    public Chromium Chromium { get; } = new();

    public RunningCollector Collector { get; private set; } = null!;

    public string Url(string path) => $"http://127.0.0.1:{Collector.HttpPort}{path}";

    /// <summary>The grid meter's last counter value: a live reading must go on from it (a jump would be refused).</summary>
    public double GridTotal { get; private set; }

    /// <summary>Local midnight of <paramref name="now"/>'s day in the site's time zone, as the collector counts it.</summary>
    public static DateTimeOffset TodayStart(DateTimeOffset now)
    {
        var date = TimeZoneInfo.ConvertTime(now, Amsterdam).Date;
        return new DateTimeOffset(date, Amsterdam.GetUtcOffset(date));
    }

    public async Task InitializeAsync()
    {
        await Chromium.InitializeAsync();
        // The shipped site file: every sensor below is published by the device that owns it.
        Collector = await RunningCollector.StartAsync(extra: $"--Collector:SiteFile={TestSite.Shipped}");
        var now = DateTimeOffset.UtcNow;
        var todayStart = TodayStart(now);
        var yesterdayStart = TodayStart(todayStart.AddHours(-12));

        var meters = new List<object>();
        var (grid, solar) = (1_000_000.0, 50_000.0);
        for (var t = yesterdayStart; t <= now; t = t.AddMinutes(15))
        {
            // Power at t; the counter at t holds the 15 minutes before it, at the power of that time.
            var (gridW, solarW) = t < todayStart ? (3000.0, 750.0) : (4000.0, 1000.0);
            var (gridBefore, solarBefore) = t.AddMinutes(-15) < todayStart ? (3000.0, 750.0) : (4000.0, 1000.0);
            grid += gridBefore / 4;
            solar += solarBefore / 4;
            meters.Add(Reading(t, "meter-grid", "energy", new() { ["power_w"] = gridW, ["energy_wh_total"] = grid }));
            meters.Add(Reading(t, "meter-solar", "energy", new() { ["power_w"] = solarW, ["energy_wh_total"] = solar }));
        }

        GridTotal = grid;
        foreach (var chunk in meters.Chunk(500))
        {
            Publish("pi-entrance", chunk);
        }

        // People into the hall, then into three labs: Technodiscovery 9, DC-Lab 5, Climate Experience Room 3.
        var at = now.AddSeconds(-90);
        Publish("pi-entrance", Door("door-main", 20, ref at));
        Publish("pi-hall-north", [.. Door("door-technodiscovery", 9, ref at), Reading(now.AddSeconds(-5), "climate-technodiscovery", "climate", new() { ["temperature_c"] = 21.0, ["humidity_pct"] = 45, ["co2_ppm"] = 900 })]);
        Publish("pi-dc-lab", [.. Door("door-dc-lab", 5, ref at),
            Reading(now.AddSeconds(-5), "climate-dc-lab", "climate", new() { ["temperature_c"] = 22.5, ["humidity_pct"] = 40, ["co2_ppm"] = 650 }),
            Reading(todayStart.AddMinutes(1), "meter-dc-lab", "energy", new() { ["power_w"] = 100, ["energy_wh_total"] = 7_000 }),
            Reading(now.AddSeconds(-5), "meter-dc-lab", "energy", new() { ["power_w"] = 100, ["energy_wh_total"] = 7_300 })]);
        Publish("pi-climate", [.. Door("door-climate-experience-room", 3, ref at), Reading(now.AddSeconds(-5), "climate-cer", "climate", new() { ["temperature_c"] = 19.5, ["humidity_pct"] = 50, ["co2_ppm"] = 500 })]);

        await Collector.EventuallyAsync<JsonElement>("/api/v1/occupancy",
            o => o.GetProperty("rooms").EnumerateArray().Any(r => r.GetProperty("room").GetString() == "climate-experience-room" && r.GetProperty("count").GetInt64() == 3),
            TimeSpan.FromSeconds(30));
        await Collector.EventuallyAsync<JsonElement>("/api/v1/energy/curve",
            c => c.GetProperty("yesterday").GetProperty("use_w").EnumerateArray().All(v => v.ValueKind == JsonValueKind.Number),
            TimeSpan.FromSeconds(30));
    }

    /// <summary>Publishes one batch as <paramref name="device"/> through the collector's ingest (validation, store, occupancy, live stream).</summary>
    public void Publish(string device, IEnumerable<object> readings)
    {
        var seq = _seq[device] = _seq.GetValueOrDefault(device) + 1;
        var payload = JsonSerializer.SerializeToUtf8Bytes(new { v = 1, seq, sent = Ts(DateTimeOffset.UtcNow), readings });
        var topic = $"ntp/v1/newtechpark/{device}/readings";
        var item = Collector.Services.GetRequiredService<IngestIntake>().Read(topic, new ReadOnlySequence<byte>(payload), DateTimeOffset.UtcNow);
        Collector.Services.GetRequiredService<IngestPipeline>().Enqueue(item, null);
    }

    public static object Reading(DateTimeOffset ts, string sensor, string kind, Dictionary<string, double> values) =>
        new { ts = Ts(ts), sensor, kind, values };

    private static List<object> Door(string door, int people, ref DateTimeOffset at)
    {
        var readings = new List<object>();
        for (var i = 1; i <= people; i++, at = at.AddSeconds(1))
        {
            readings.Add(Reading(at, door, "door", new() { ["in"] = 1, ["out"] = 0, ["in_total"] = i, ["out_total"] = 0 }));
        }

        return readings;
    }

    private static string Ts(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public async Task DisposeAsync()
    {
        await Chromium.DisposeAsync();
        if (Collector is not null)
        {
            await Collector.DisposeAsync();
        }
    }
}

/// <summary>
/// The kiosk's new slides against known figures: the sun's share of today, today's power curve
/// against yesterday's (both drawn, live), and one slide per lab of the site file comparing them.
/// </summary>
[Trait("Category", "Slow")]
public sealed partial class KioskPageTests(KioskSite site, ITestOutputHelper output) : IClassFixture<KioskSite>
{
    private static readonly LocatorAssertionsToHaveTextOptions Live = new() { Timeout = 30_000 };

    private static readonly string[] Labs = ["technodiscovery", "creatieve-zorgwerkplaats", "waterloopkundig-lab", "dc-lab", "3d-printlab", "climate-experience-room", "medical-technology"];

    [Fact]
    public async Task The_slides_turn_through_the_sun_the_curve_and_every_lab()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser, 1920, 1080);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/kiosk?rotate=700"));
        await page.Locator("body[data-ready='1']").WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        string[] expected = ["power", "solar", "share", "curve", "co2", "people", .. Labs.Select(l => "lab-" + l)];
        Assert.Equal(expected, await page.EvaluateAsync<string[]>("() => [...document.querySelectorAll('#panels > .panel')].map(p => p.dataset.panel)"));
        Assert.Equal(expected.Length, await page.Locator("#dots i").CountAsync());
        // Every slide comes up in turn, by itself.
        foreach (var panel in expected.Skip(1))
        {
            await Expect(page.Locator(".panel.active")).ToHaveAttributeAsync("data-panel", panel, new LocatorAssertionsToHaveAttributeOptions { Timeout = 15_000 });
        }

        Assert.Empty(watched.Errors);
    }

    [Fact]
    public async Task The_suns_share_of_today_is_a_big_percentage_with_everyday_equivalents()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser, 1920, 1080);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/kiosk?panel=share&rotate=600000"));
        await Expect(page.Locator(".panel.active h1")).ToHaveTextAsync("Zoveel van onze stroom kwam vandaag van de zon");
        // 1 kW of 5 kW today, 0.75 of 3.75 yesterday: a fifth from the sun, "2 of every 10 lamps".
        await Expect(page.Locator("#share-today")).ToHaveTextAsync("20", Live);
        await Expect(page.Locator("#share-yesterday")).ToHaveTextAsync("20 %", Live);
        await Expect(page.Locator("#share-verdict")).ToHaveTextAsync("Van elke 10 lampen die hier branden, branden er 2 op zonnestroom.");
        var curve = await site.Collector.GetAsync<JsonElement>("/api/v1/energy/curve");
        var solarWh = curve.GetProperty("today").GetProperty("solar_wh").GetDouble();
        Assert.True(solarWh > 0);
        await Expect(page.Locator("#share-phones")).ToHaveTextAsync(Number(Math.Round(solarWh / 15, MidpointRounding.AwayFromZero)));
        Assert.Equal("20%", await page.EvaluateAsync<string>("() => document.getElementById('share-fill').style.width"));
        // Everything on the slide fits a 1080p screen: the heading is not pushed off the top.
        var heading = await page.Locator(".panel.active h1").BoundingBoxAsync();
        Assert.True(heading!.Y >= 0, $"the heading starts at {heading.Y} px");
        await watched.ScreenshotAsync("kiosk-share");

        await page.ClickAsync("#language");
        await Expect(page.Locator(".panel.active h1")).ToHaveTextAsync("This much of our electricity came from the sun today");
        await Expect(page.Locator("#share-verdict")).ToHaveTextAsync("Of every 10 lamps on here, 2 run on sunshine.");
        await page.ClickAsync("#language");
        Assert.Empty(watched.Errors);
    }

    [Fact]
    public async Task The_curve_shows_today_against_yesterday_and_follows_the_live_readings()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser, 1920, 1080);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/kiosk?panel=curve&rotate=600000"));
        await Expect(page.Locator(".panel.active h1")).ToHaveTextAsync("Stroom vandaag en gisteren");
        var chart = page.Locator("#curve-chart");
        await Expect(chart.Locator("canvas")).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 30_000 });
        // Yesterday: every one of the 96 quarters; today: the quarters so far.
        await Expect(chart).ToHaveAttributeAsync("data-yesterday", "96", new LocatorAssertionsToHaveAttributeOptions { Timeout = 30_000 });
        var today = int.Parse((await chart.GetAttributeAsync("data-today"))!, CultureInfo.InvariantCulture);
        var local = TimeZoneInfo.ConvertTime(DateTimeOffset.UtcNow, KioskSite.Amsterdam);
        Assert.InRange(today, 1, (((local.Hour * 60) + local.Minute) / 15) + 1);
        var box = await chart.Locator("canvas").BoundingBoxAsync();
        Assert.NotNull(box);
        output.WriteLine($"curve: {box.Width:F0} × {box.Height:F0} px, {today} quarters today");
        Assert.True(box.Width > 1200 && box.Height > 350, $"the curve is {box.Width} × {box.Height} px: too small to read from 3 m");
        // The chart with its hour labels stays in its box, above the sentence under it.
        var sentence = await page.Locator("#curve-now").BoundingBoxAsync();
        Assert.NotNull(sentence);
        await Expect(page.Locator("#curve-now")).Not.ToBeEmptyAsync(new LocatorAssertionsToBeEmptyOptions { Timeout = 30_000 });
        sentence = await page.Locator("#curve-now").BoundingBoxAsync();
        box = await chart.Locator("canvas").BoundingBoxAsync();
        Assert.True(box!.Y + box.Height <= sentence!.Y + 1, $"the chart ends at {box.Y + box.Height} px, below the sentence at {sentence.Y} px");
        // Today 4 + 1 kW, yesterday at this time 3 + 0.75 kW.
        await Expect(page.Locator("#curve-now")).ToHaveTextAsync("Nu: 5,0 kW. Gisteren om deze tijd: 3,8 kW, nu dus meer.", Live);
        await watched.ScreenshotAsync("kiosk-curve");

        // A live reading of the grid meter moves the current quarter: 10 kW from the grid + 1 kW of sun.
        site.Publish("pi-entrance", [KioskSite.Reading(DateTimeOffset.UtcNow, "meter-grid", "energy", new() { ["power_w"] = 10_000, ["energy_wh_total"] = site.GridTotal + 10 })]);
        await Expect(page.Locator("#curve-now")).ToContainTextAsync("Nu: 11,0 kW.", new LocatorAssertionsToContainTextOptions { Timeout = 30_000 });
        Assert.Empty(watched.Errors);
    }

    [Fact]
    public async Task Each_lab_has_a_slide_that_compares_it_with_the_other_labs()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser, 1920, 1080);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/kiosk?panel=lab-dc-lab&rotate=600000"));
        var slide = page.Locator(".panel.active");
        await Expect(slide).ToHaveAttributeAsync("data-panel", "lab-dc-lab", new LocatorAssertionsToHaveAttributeOptions { Timeout = 30_000 });
        await Expect(slide.Locator("h1")).ToHaveTextAsync("DC-Lab");
        await Expect(slide.Locator(".kicker")).ToContainTextAsync("lab 4 van 7");
        await Expect(slide.Locator(".lab-people")).ToHaveTextAsync("5", Live);
        await Expect(slide.Locator(".lab-entries")).ToHaveTextAsync(Digits(), Live);
        await Expect(slide.Locator(".lab-temp")).ToHaveTextAsync("22,5", Live);
        await Expect(slide.Locator(".lab-co2")).ToHaveTextAsync("650", Live);
        await Expect(slide.Locator(".lab-kwh")).ToHaveTextAsync("0,3", Live);
        // Every lab in the comparison, busiest first, this one lit up.
        var bars = slide.Locator(".lab-bars li");
        await Expect(bars).ToHaveCountAsync(Labs.Length);
        await Expect(bars.First).ToContainTextAsync("Technodiscovery9");
        await Expect(slide.Locator(".lab-bars li.me")).ToContainTextAsync("DC-Lab5");
        var facts = slide.Locator(".lab-facts");
        await Expect(facts).ToContainTextAsync("Het drukst is het nu in Technodiscovery.");
        await Expect(facts).ToContainTextAsync("Dit is nu het warmste lab: 22,5 °C.");
        await Expect(facts).ToContainTextAsync("Dit lab gebruikte vandaag genoeg stroom om 20 keer je telefoon op te laden.");
        await watched.ScreenshotAsync("kiosk-lab-dc-lab");

        var technodiscovery = page.Locator(".panel[data-panel=lab-technodiscovery]");
        await Expect(technodiscovery.Locator(".lab-facts")).ToContainTextAsync("Hier zijn nu de meeste mensen van alle labs!");
        var cer = page.Locator(".panel[data-panel=lab-climate-experience-room]");
        await Expect(cer.Locator(".lab-facts")).ToContainTextAsync("Hier is de lucht nu het frisst van alle labs.");
        // A lab without sensors shows what is known (nobody, no walk-ins) and hides the rest.
        var medical = page.Locator(".panel[data-panel=lab-medical-technology]");
        await Expect(medical.Locator(".lab-people")).ToHaveTextAsync("0");
        await Expect(medical.Locator(".lab-figure.air").First).ToBeHiddenAsync();
        await Expect(medical.Locator(".lab-figure.energy")).ToBeHiddenAsync();

        // Someone walks into the 3D Printlab: its slide follows the stream.
        var at = DateTimeOffset.UtcNow.AddSeconds(-2);
        site.Publish("pi-hall-south", [KioskSite.Reading(at, "door-3d-printlab", "door", new() { ["in"] = 1, ["out"] = 0, ["in_total"] = 1, ["out_total"] = 0 })]);
        await Expect(page.Locator(".panel[data-panel=lab-3d-printlab] .lab-people")).ToHaveTextAsync("1", Live);

        await page.ClickAsync("#language");
        await Expect(facts).ToContainTextAsync("This is the warmest lab right now: 22.5 °C.");
        await Expect(slide.Locator(".kicker")).ToContainTextAsync("lab 4 of 7");
        await page.ClickAsync("#language");
        Assert.Empty(watched.Errors);
    }

    private static string Number(double value) => value.ToString("#,0", CultureInfo.GetCultureInfo("nl-NL"));

    [GeneratedRegex(@"^\d")]
    private static partial Regex Digits();
}
