using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Playwright;
using NewTechPark.Edge.Browser.Tests.Infrastructure;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace NewTechPark.Edge.Browser.Tests;

/// <summary>
/// The DC-Lab page as an instrument, against one simulated Pi whose bench dc-bench-1 reads a known
/// load at 10 Hz: statistics beside each chart, the XY view live and for a recorded session, and
/// CSV downloads of the visible window and of a session without a token.
/// </summary>
[Trait("Category", "Slow")]
public sealed class DcLabPageTests(QuietSite site, ITestOutputHelper output) : IClassFixture<QuietSite>
{
    private static readonly LocatorAssertionsToHaveTextOptions Live = new() { Timeout = 20_000 };

    private const string Bench = ".bench[data-sensor=dc-bench-1]";

    [Fact]
    public async Task Each_bench_shows_the_statistics_of_its_live_window_and_downloads_it_as_CSV()
    {
        site.Pi.Bench.SetLoad(12.0, 2.0);
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/dc-lab"));
        var stats = page.Locator($"{Bench} .stats-panel");

        // Computed by the collector from the stored readings: 12 V, 2 A, 24 W, and energy growing.
        await Expect(stats.Locator("tr[data-field=voltage_v] td.mean")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^1[12][.,]\d\d V$"), Live);
        await Expect(stats.Locator("tr[data-field=power_w] td.mean")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^2\d[.,]\d W$"), Live);
        await Expect(stats).ToHaveAttributeAsync("data-source", "raw");
        await page.WaitForFunctionAsync($"() => Number(document.querySelector('{Bench} .stats-panel').dataset.count) >= 20", null, new PageWaitForFunctionOptions { Timeout = 20_000 });
        await Expect(stats.Locator("b.energy")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"\d[.,]\d m?Wh$"));
        await Expect(stats.Locator("b.charge")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"\d[.,]\d m?Ah$"));
        var energy = double.Parse((await stats.GetAttributeAsync("data-energy-wh"))!, CultureInfo.InvariantCulture);
        // At most the 30 s window at 24 W (0.2 Wh), with room for the simulated bench's noise.
        Assert.InRange(energy, 1e-6, 0.21);

        // A narrower window: the figures follow it.
        var before = int.Parse((await stats.GetAttributeAsync("data-count"))!, CultureInfo.InvariantCulture);
        await page.SelectOptionAsync("#window", "10");
        await page.WaitForFunctionAsync($"() => Number(document.querySelector('{Bench} .stats-panel').dataset.count) <= 110", null, new PageWaitForFunctionOptions { Timeout = 10_000 });
        output.WriteLine($"readings in the 30 s window: {before}; energy {energy * 1000:F1} mWh");
        await watched.ScreenshotAsync("dc-lab-statistics");

        // The live window as CSV, without a token.
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator($"{Bench} button.csv").ClickAsync());
        var lines = (await File.ReadAllTextAsync((await download.PathAsync())!)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("dc-bench-1-", download.SuggestedFilename, StringComparison.Ordinal);
        Assert.Equal("ts_utc,local_time,voltage_v,current_a,power_w", lines[0].TrimEnd('\r'));
        Assert.True(lines.Length > 5, $"expected the window's readings, got {lines.Length - 1} rows");
        var row = lines[^1].TrimEnd('\r').Split(',');
        Assert.Equal(12.0, double.Parse(row[2], CultureInfo.InvariantCulture), 0.5);

        var dutch = await page.RunAndWaitForDownloadAsync(() => page.Locator($"{Bench} button.csv-nl").ClickAsync());
        var bytes = await File.ReadAllBytesAsync((await dutch.PathAsync())!);
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        Assert.StartsWith("ts_utc;local_time;voltage_v;current_a;power_w", Encoding.UTF8.GetString(bytes[3..]), StringComparison.Ordinal);
        Assert.Empty(watched.Errors);
    }

    [Fact]
    public async Task The_history_window_has_its_statistics_and_CSV_link()
    {
        site.Pi.Bench.SetLoad(12.0, 2.0);
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/dc-lab"));
        await watched.WaitUntilDrawnAsync();
        await page.SelectOptionAsync("#history-bench", "dc-bench-1");
        await Expect(page.Locator("#history-stats")).ToHaveAttributeAsync("data-source", "raw", new LocatorAssertionsToHaveAttributeOptions { Timeout = 20_000 });
        var href = await page.Locator("#history-csv").GetAttributeAsync("href");
        Assert.StartsWith("/api/v1/series.csv?sensor=dc-bench-1&from=", href, StringComparison.Ordinal);
        Assert.EndsWith("&dialect=excel-nl", await page.Locator("#history-csv-nl").GetAttributeAsync("href"), StringComparison.Ordinal);
        Assert.Empty(watched.Errors);
    }

    [Fact]
    public async Task The_XY_view_draws_the_live_bench_and_a_recorded_session()
    {
        site.Pi.Bench.SetLoad(12.0, 2.0);
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/dc-lab"));
        await page.Locator("#xy-bench option[value=dc-bench-1]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
        await page.SelectOptionAsync("#xy-bench", "dc-bench-1");

        // Live: the canvas gets the live window's readings.
        await page.WaitForFunctionAsync("() => Number(document.getElementById('xy').dataset.points) >= 5", null, new PageWaitForFunctionOptions { Timeout = 20_000 });
        await Expect(page.Locator("#xy-note")).ToContainTextAsync("Live");
        await page.SelectOptionAsync("#xy-mode", "pv");
        await page.WaitForFunctionAsync("() => Number(document.getElementById('xy').dataset.points) >= 5");
        await watched.ScreenshotAsync("dc-lab-xy-live");

        // A recorded session (started and stopped with the admin token over the API), then its curve.
        using var http = new HttpClient { BaseAddress = new Uri(site.Url("/")) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", QuietSite.AdminToken);
        var started = await http.PostAsJsonAsync("/api/v1/experiments", new { name = "I-U kenlijn", sensor = "dc-bench-1" });
        started.EnsureSuccessStatusCode();
        var id = JsonDocument.Parse(await started.Content.ReadAsStringAsync()).RootElement.GetProperty("id").GetInt64();
        var since = DateTimeOffset.UtcNow;
        await Eventually.UntilAsync(async () => await StoredSinceAsync(since) >= 10, "ten readings stored during the session", TimeSpan.FromSeconds(30), TimeSpan.FromMilliseconds(100));
        (await http.PostAsync($"/api/v1/experiments/{id}/stop", null)).EnsureSuccessStatusCode();

        await page.ReloadAsync();
        var row = page.Locator($"#sessions tbody tr[data-id='{id}']");
        await row.Locator("button.xy").ClickAsync();
        await Expect(page.Locator("#xy-source")).ToHaveValueAsync(id.ToString(CultureInfo.InvariantCulture));
        await Expect(page.Locator("#xy-note")).ToContainTextAsync("Sessie I-U kenlijn", new LocatorAssertionsToContainTextOptions { Timeout = 20_000 });
        await page.WaitForFunctionAsync("() => Number(document.getElementById('xy').dataset.points) >= 10");
        await Expect(page.Locator("#xy-stats")).ToHaveAttributeAsync("data-source", "raw", new LocatorAssertionsToHaveAttributeOptions { Timeout = 20_000 });
        await Expect(page.Locator("#xy-stats tr[data-field=current_a] td.mean")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^[12][.,]\d{3} A$"));
        await watched.ScreenshotAsync("dc-lab-xy-session");

        // The session's readings of this bench as CSV, without a token.
        var download = await page.RunAndWaitForDownloadAsync(() => page.Locator("#xy-csv").ClickAsync());
        var lines = (await File.ReadAllTextAsync((await download.PathAsync())!)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("ts_utc,local_time,voltage_v,current_a,power_w", lines[0].TrimEnd('\r'));
        Assert.True(lines.Length > 10, $"expected the session's readings, got {lines.Length - 1} rows");
        Assert.Empty(watched.Errors);
    }

    /// <summary>How many voltage readings of dc-bench-1 the collector stored since <paramref name="from"/>.</summary>
    private async Task<long> StoredSinceAsync(DateTimeOffset from)
    {
        using var response = await site.Collector.Http.GetAsync($"/api/v1/series/stats?sensor=dc-bench-1&from={Uri.EscapeDataString(from.ToString("O"))}");
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return 0;
        }

        response.EnsureSuccessStatusCode();
        var stats = await response.Content.ReadFromJsonAsync<JsonElement>();
        return stats.GetProperty("fields").GetProperty("voltage_v").GetProperty("count").GetInt64();
    }
}
