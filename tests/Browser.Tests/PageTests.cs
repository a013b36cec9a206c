using Microsoft.Playwright;
using NewTechPark.Edge.Browser.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace NewTechPark.Edge.Browser.Tests;

/// <summary>
/// Every page against the demo site: loads without console errors, with live figures. Load times are
/// logged here and measured by bench/ (query scenario), never asserted by a timed test on a shared machine.
/// </summary>
[Trait("Category", "Slow")]
public sealed class PageTests(DemoSite site, ITestOutputHelper output) : IClassFixture<DemoSite>
{
    private static readonly LocatorAssertionsToHaveTextOptions Live = new() { Timeout = 30_000 };

    public static TheoryData<string, string, string> Pages => new()
    {
        // path, screenshot name, a selector that shows the page has its live data
        { "/", "index", "#rooms tbody tr" },
        { "/facility", "facility", ".room[data-room=ontmoetingsplek]" },
        { "/dc-lab", "dc-lab", ".bench[data-sensor=dc-bench-1] .chart canvas" },
        { "/management", "management", "#heatmap td" },
        { "/kiosk", "kiosk", ".panel.active" },
        { "/report.html", "report", "body" },
    };

    [Theory]
    [MemberData(nameof(Pages))]
    public async Task Page_loads_without_console_errors_and_shows_live_figures(string path, string name, string ready)
    {
        // A warm collector: the first requests of a process pay for JIT, not the page.
        (await site.Collector.Http.GetAsync(path)).EnsureSuccessStatusCode();
        await using (var warm = await WatchedPage.OpenAsync(site.Chromium.Browser))
        {
            await warm.Page.GotoAsync(site.Url(path));
        }

        // Measured in a fresh browser context: nothing of the page is cached.
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        await watched.Page.GotoAsync(site.Url(path));
        await watched.Page.Locator(ready).First.WaitForAsync(new LocatorWaitForOptions { Timeout = 30_000 });
        var loadMs = await watched.LoadTimeAsync();
        output.WriteLine($"{path}: load event after {loadMs:F0} ms");

        await WaitForLiveFiguresAsync(watched.Page, name);
        output.WriteLine($"{path}: live figures shown after {await watched.Page.EvaluateAsync<double>("() => performance.now()"):F0} ms (includes waiting for the ready element)");
        // The screenshot shows the page as drawn (history, heatmap, report rows), not half-loaded.
        await watched.WaitUntilDrawnAsync();
        await watched.ScreenshotAsync(name);

        Assert.True(watched.Errors.Count == 0, $"{path} logged errors:\n{string.Join("\n", watched.Errors)}");
    }

    [Theory]
    [InlineData("/facility")]
    [InlineData("/dc-lab")]
    [InlineData("/management")]
    [InlineData("/kiosk")]
    public async Task Page_fits_a_tablet_in_portrait_without_sideways_scrolling(string path)
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser, 800, 1280);
        await watched.Page.GotoAsync(site.Url(path));
        // Measured once the page has drawn its data: tables and charts are as wide as they get.
        await watched.WaitUntilDrawnAsync();
        var (scroll, width) = (await watched.Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth"), await watched.Page.EvaluateAsync<int>("() => window.innerWidth"));
        await watched.ScreenshotAsync("tablet" + path.Replace('/', '-'));
        Assert.True(scroll <= width, $"{path} is {scroll} px wide on an {width} px tablet");
        Assert.Empty(watched.Errors);
    }

    [Fact]
    public async Task Kiosk_speaks_Dutch_and_shows_live_figures()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser, 1920, 1080);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/kiosk"));
        Assert.Equal("nl", await page.Locator("html").GetAttributeAsync("lang"));
        await Expect(page.Locator(".panel.active h1")).ToHaveTextAsync("Zoveel stroom gebruikt het gebouw nu");
        await Expect(page.Locator("#power-now")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d"), Live);
        await Expect(page.Locator("#kettles")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d"), Live);
        await Expect(page.Locator("#people-now")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d"), Live);
        await Expect(page.Locator(".panel.active .explain")).ToContainTextAsync("waterkoker");

        // Each panel by itself, each in Dutch.
        foreach (var (panel, heading) in new[] { ("solar", "Zoveel stroom geeft de zon nu"), ("co2", "Frisse lucht in"), ("people", "Zoveel mensen zijn er nu in het gebouw") })
        {
            await page.GotoAsync(site.Url($"/kiosk?panel={panel}"));
            await Expect(page.Locator(".panel.active h1")).ToContainTextAsync(heading);
            if (panel == "co2")
            {
                await Expect(page.Locator("#co2-now")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d"), Live);
                await Expect(page.Locator("#co2-verdict")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("Groen|Oranje|Rood"), Live);
            }

            await watched.ScreenshotAsync("kiosk-" + panel);
        }

        // The kiosk turns to its next panel by itself.
        await page.GotoAsync(site.Url("/kiosk?rotate=1500"));
        await Expect(page.Locator(".panel.active")).ToHaveAttributeAsync("data-panel", "solar", new LocatorAssertionsToHaveAttributeOptions { Timeout = 5000 });
        Assert.Empty(watched.Errors);
    }

    [Fact]
    public async Task English_switch_is_remembered()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/facility"));
        await Expect(page.Locator("h1")).ToHaveTextAsync("Gebouw: bezetting nu");
        await page.ClickAsync("#language");
        await Expect(page.Locator("h1")).ToHaveTextAsync("Building: occupancy now");
        await page.GotoAsync(site.Url("/management"));
        await Expect(page.Locator("h1")).ToHaveTextAsync("Management: visitors and room use");
        Assert.Equal("en", await page.Locator("html").GetAttributeAsync("lang"));
        Assert.Empty(watched.Errors);
    }

    [Theory]
    [InlineData("/facility", "#correction")]
    [InlineData("/management", "#group")]
    public async Task Staff_action_without_a_token_is_refused_and_the_page_says_so(string path, string form)
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync(site.Url(path));
        await page.Locator($"{form} select[name=room] option").Nth(1).WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
        if (form == "#correction")
        {
            await page.FillAsync("#correction input[name=count]", "3");
            await page.FillAsync("#correction input[name=reason]", "met de hand geteld");
        }
        else
        {
            await page.FillAsync("#group input[name=head_count]", "28");
        }

        var response = page.WaitForResponseAsync(r => r.Request.Method == "POST");
        await page.ClickAsync($"{form} button[type=submit]");
        // The demo has a token per role, but none was typed: 401, and the page says what to do.
        Assert.Equal(401, (await response).Status);
        var message = page.Locator($"{form} .message.error");
        await Expect(message).ToContainTextAsync("Geweigerd (401)");
        await Expect(message).ToContainTextAsync("vul een token in");
        await watched.ScreenshotAsync("refused" + path.Replace('/', '-'));
        // The refusal is shown on the page, not as a script error; the browser itself logs the 403.
        Assert.DoesNotContain(watched.Errors, e => e.StartsWith("page error", StringComparison.Ordinal));
    }

    private static async Task WaitForLiveFiguresAsync(IPage page, string name)
    {
        var digits = new System.Text.RegularExpressions.Regex(@"\d");
        switch (name)
        {
            case "facility":
            case "index":
                await Expect(page.Locator("#building")).ToHaveTextAsync(digits, Live);
                break;
            case "dc-lab":
                await Expect(page.Locator(".bench[data-sensor=dc-bench-1] b.w")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"\d W"), Live);
                break;
            case "kiosk":
                await Expect(page.Locator("#power-now")).ToHaveTextAsync(digits, Live);
                break;
            case "management":
                await Expect(page.Locator("#visitors-table tfoot td").Nth(1)).ToHaveTextAsync(digits, Live);
                break;
        }
    }
}
