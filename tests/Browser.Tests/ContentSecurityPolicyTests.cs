using System.Text.RegularExpressions;
using Microsoft.Playwright;
using NewTechPark.Edge.Browser.Tests.Infrastructure;
using NewTechPark.Edge.Collector.Hosting;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace NewTechPark.Edge.Browser.Tests;

/// <summary>
/// Every dashboard page under the collector's Content-Security-Policy (no inline script or style):
/// chromium reports no violation, and the page still shows its live figures.
/// </summary>
[Trait("Category", "Slow")]
public sealed partial class ContentSecurityPolicyTests(DemoSite site, ITestOutputHelper output) : IClassFixture<DemoSite>
{
    private static readonly LocatorAssertionsToHaveTextOptions Live = new() { Timeout = 30_000 };

    /// <summary>Live events each page must draw under the policy (the report page has no live stream).</summary>
    private const int LiveUpdates = 3;

    // Runs before the page's own scripts (Playwright injects it outside the page's CSP): every violation event is kept.
    private const string RecordViolations =
        "window.__cspViolations = [];" +
        "document.addEventListener('securitypolicyviolation', e => window.__cspViolations.push(" +
        "`${e.effectiveDirective} blocked ${e.blockedURI || 'inline'} at ${e.sourceFile || e.documentURI}:${e.lineNumber} (${e.sample || ''})`));";

    [Theory]
    [InlineData("/", "index")]
    [InlineData("/facility", "facility")]
    [InlineData("/dc-lab", "dc-lab")]
    [InlineData("/management", "management")]
    [InlineData("/kiosk", "kiosk")]
    [InlineData("/report.html", "report")]
    public async Task Page_runs_under_the_CSP_without_violations_and_shows_live_data(string path, string name)
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        var violations = WatchConsoleForCsp(page);
        await page.AddInitScriptAsync(RecordViolations);

        var response = await page.GotoAsync(site.Url(path));
        Assert.NotNull(response);
        Assert.Equal(HttpSecurityExtensions.ContentSecurityPolicy, await response.HeaderValueAsync("content-security-policy"));

        await ShowsLiveDataAsync(page, name);
        await watched.WaitUntilDrawnAsync();
        if (name != "report")
        {
            // The live stream redraws the page a few times: updates must not break the policy either.
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var updates = await watched.WaitForLiveUpdatesAsync(LiveUpdates);
            output.WriteLine($"{path}: {updates} live updates drawn in {clock.ElapsedMilliseconds} ms");
        }

        await watched.ScreenshotAsync("csp-" + name);

        violations.AddRange(await page.EvaluateAsync<string[]>("() => window.__cspViolations"));
        output.WriteLine($"{path}: {violations.Count} CSP violations");
        Assert.True(violations.Count == 0, $"{path} broke the Content-Security-Policy:\n{string.Join("\n", violations)}");
        Assert.True(watched.Errors.Count == 0, $"{path} logged errors:\n{string.Join("\n", watched.Errors)}");
    }

    [Fact]
    public async Task An_inline_style_or_script_is_blocked_and_seen_by_the_watcher()
    {
        // The check above can fail: what the pages no longer do is really refused and really reported.
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        var console = WatchConsoleForCsp(page);
        await page.AddInitScriptAsync(RecordViolations);
        await page.GotoAsync(site.Url("/facility"));
        await page.EvaluateAsync("() => { const d = document.createElement('div'); d.id = 'styled'; d.setAttribute('style', 'color: rgb(255, 0, 0)'); document.body.append(d);" +
            " const s = document.createElement('script'); s.textContent = 'window.__inlineRan = true'; document.body.append(s); }");
        await page.WaitForFunctionAsync("() => window.__cspViolations.length >= 2", null, new PageWaitForFunctionOptions { Timeout = 5000 });

        var recorded = await page.EvaluateAsync<string[]>("() => window.__cspViolations");
        Assert.Contains(recorded, v => v.StartsWith("style-src", StringComparison.Ordinal));
        Assert.Contains(recorded, v => v.StartsWith("script-src", StringComparison.Ordinal));
        Assert.False(await page.EvaluateAsync<bool>("() => window.__inlineRan === true"));
        Assert.NotEqual("rgb(255, 0, 0)", await page.EvaluateAsync<string>("() => getComputedStyle(document.getElementById('styled')).color"));
        Assert.NotEmpty(console);
    }

    /// <summary>Chromium also reports each violation on the console ("Refused to ... Content Security Policy").</summary>
    private static List<string> WatchConsoleForCsp(IPage page)
    {
        var seen = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Text.Contains("Content Security Policy", StringComparison.OrdinalIgnoreCase))
            {
                lock (seen)
                {
                    seen.Add($"console {message.Type}: {message.Text}");
                }
            }
        };
        return seen;
    }

    private static async Task ShowsLiveDataAsync(IPage page, string name)
    {
        var digits = Digits();
        switch (name)
        {
            case "index":
                await Expect(page.Locator("#rooms tbody tr").First).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 30_000 });
                await Expect(page.Locator("#building")).ToHaveTextAsync(digits, Live);
                break;
            case "facility":
                await Expect(page.Locator(".room[data-room=ontmoetingsplek]")).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 30_000 });
                await Expect(page.Locator("#building")).ToHaveTextAsync(digits, Live);
                break;
            case "dc-lab":
                await Expect(page.Locator(".bench[data-sensor=dc-bench-1] .chart canvas")).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 30_000 });
                await Expect(page.Locator(".bench[data-sensor=dc-bench-1] b.w")).ToHaveTextAsync(WattText(), Live);
                break;
            case "management":
                await Expect(page.Locator("#visitors-table tfoot td").Nth(1)).ToHaveTextAsync(digits, Live);
                // The heatmap's colours are set through the DOM now (no style attributes in its HTML): they must show.
                await page.WaitForFunctionAsync("() => [...document.querySelectorAll('#heatmap tbody td')].some(td => td.style.background !== '')", null,
                    new PageWaitForFunctionOptions { Timeout = 30_000 });
                break;
            case "kiosk":
                await Expect(page.Locator(".panel.active")).ToBeVisibleAsync(new LocatorAssertionsToBeVisibleOptions { Timeout = 30_000 });
                await Expect(page.Locator("#power-now")).ToHaveTextAsync(digits, Live);
                break;
            case "report":
                await Expect(page.Locator("#rows tbody tr").First).ToContainTextAsync(digits, new LocatorAssertionsToContainTextOptions { Timeout = 30_000 });
                break;
            default:
                throw new ArgumentException($"no live-data check for {name}", nameof(name));
        }
    }

    [GeneratedRegex(@"\d")]
    private static partial Regex Digits();

    [GeneratedRegex(@"\d W")]
    private static partial Regex WattText();
}
