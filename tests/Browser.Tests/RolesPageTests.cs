using System.Text.Json;
using Microsoft.Playwright;
using NewTechPark.Edge.Browser.Tests.Infrastructure;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace NewTechPark.Edge.Browser.Tests;

/// <summary>The real collector with a lab and a staff token (no simulated site needed) and chromium.</summary>
public sealed class RolesSite : IAsyncLifetime
{
    public const string LabToken = "browser-lab-token-klas-3b";
    public const string StaffToken = "browser-staff-token-facilitair";

    public Chromium Chromium { get; } = new();

    public RunningCollector Collector { get; private set; } = null!;

    public string Url(string path) => $"http://127.0.0.1:{Collector.HttpPort}{path}";

    public async Task InitializeAsync()
    {
        await Chromium.InitializeAsync();
        Collector = await RunningCollector.StartAsync(extra:
        [
            "--Collector:Auth:Tokens:0:Name=klas-3b", "--Collector:Auth:Tokens:0:Role=Lab", $"--Collector:Auth:Tokens:0:Token={LabToken}",
            "--Collector:Auth:Tokens:1:Name=facilitair", "--Collector:Auth:Tokens:1:Role=Staff", $"--Collector:Auth:Tokens:1:Token={StaffToken}",
        ]);
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

/// <summary>The pages with tokens of different roles: each form shows whose token it holds and hides what its role may not do.</summary>
[Trait("Category", "Slow")]
public sealed class RolesPageTests(RolesSite site, ITestOutputHelper output) : IClassFixture<RolesSite>
{
    [Fact]
    public async Task A_lab_token_starts_and_stops_a_session_on_the_DC_Lab_page()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        var refused = new List<string>();
        page.Response += (_, r) =>
        {
            if (r.Status is 401 or 403 or 429)
            {
                refused.Add($"{r.Status} {r.Request.Method} {r.Url}");
            }
        };
        await page.GotoAsync(site.Url("/dc-lab"));
        await page.Locator("#session select[name=sensor] option[value=dc-bench-1]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
        await page.FillAsync("#session input[name=name]", "accu ontladen");
        await page.FillAsync("#session input[name=token]", RolesSite.LabToken);
        await page.PressAsync("#session input[name=token]", "Tab");
        var role = page.Locator("#session .token-role");
        await Expect(role).ToContainTextAsync("Token van klas-3b, rol lab: mag experimentsessies starten en stoppen.");
        await Expect(role).Not.ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\berror\b"));
        await Expect(page.Locator("#session button[type=submit]")).ToBeVisibleAsync();

        await page.ClickAsync("#session button[type=submit]");
        await Expect(page.Locator("#session-message.ok")).ToContainTextAsync("Sessie gestart");
        var row = page.Locator("#sessions tbody tr").First;
        await Expect(row).ToHaveClassAsync("running");
        await row.Locator("button.stop").ClickAsync();
        await Expect(page.Locator("#session-message.ok")).ToContainTextAsync("Sessie gestopt");
        await Expect(row).Not.ToHaveClassAsync("running");
        await watched.ScreenshotAsync("dc-lab-lab-token");

        // In English too.
        await page.ClickAsync("#language");
        await Expect(role).ToContainTextAsync("Token of klas-3b, role lab: may start and stop experiment sessions.");
        // No call of the page was refused (benches without a Pi may answer 404 for their history: not this test's concern).
        Assert.Empty(refused);
        output.WriteLine(string.Join(Environment.NewLine, watched.Errors));
        Assert.DoesNotContain(watched.Errors, e => e.StartsWith("page error", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_lab_token_on_the_facility_page_hides_corrections_and_the_collector_refuses_them_a_staff_token_corrects()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/facility"));
        await page.Locator("#correction select[name=room] option[value=mobiliteit]").WaitForAsync(new LocatorWaitForOptions { State = WaitForSelectorState.Attached });
        var role = page.Locator("#correction .token-role");
        var submit = page.Locator("#correction button[type=submit]");
        await Expect(role).ToContainTextAsync("Hiervoor is een staff- of admintoken nodig.");

        await page.SelectOptionAsync("#correction select[name=room]", "mobiliteit");
        await page.FillAsync("#correction input[name=count]", "4");
        await page.FillAsync("#correction input[name=reason]", "met de hand geteld");
        await page.FillAsync("#correction input[name=token]", RolesSite.LabToken);
        await page.PressAsync("#correction input[name=token]", "Tab");
        await Expect(role).ToContainTextAsync("rol lab");
        await Expect(role).ToContainTextAsync("Deze actie vraagt een staff- of admintoken.");
        await Expect(role).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\berror\b"));
        await Expect(submit).ToBeHiddenAsync();
        await watched.ScreenshotAsync("facility-lab-token");

        // Sent anyway (the form submitted by script): the collector refuses it, and the page says which role it takes.
        var response = page.WaitForResponseAsync(r => r.Request.Method == "POST");
        await page.EvaluateAsync("() => document.getElementById('correction').requestSubmit()");
        Assert.Equal(403, (await response).Status);
        var message = page.Locator("#correction-message.error");
        await Expect(message).ToContainTextAsync("Geweigerd (403)");
        await Expect(message).ToContainTextAsync("klas-3b, lab");
        await Expect(message).ToContainTextAsync("een staff- of admintoken");
        Assert.Empty(JsonDocument.Parse(await site.Collector.Http.GetStringAsync("/api/v1/occupancy/corrections?room=mobiliteit")).RootElement.EnumerateArray());

        // A staff token: the button is back and the correction is saved under the token's name.
        await page.FillAsync("#correction input[name=token]", RolesSite.StaffToken);
        await page.PressAsync("#correction input[name=token]", "Tab");
        await Expect(role).ToContainTextAsync("Token van facilitair, rol staff");
        await Expect(submit).ToBeVisibleAsync();
        await page.FillAsync("#correction input[name=by]", string.Empty);
        await submit.ClickAsync();
        await Expect(page.Locator("#correction-message.ok")).ToContainTextAsync("Opgeslagen");
        var trail = JsonDocument.Parse(await site.Collector.Http.GetStringAsync("/api/v1/occupancy/corrections?room=mobiliteit")).RootElement;
        Assert.Equal("facilitair", trail.EnumerateArray().Single().GetProperty("actor").GetString());
        Assert.DoesNotContain(watched.Errors, e => e.StartsWith("page error", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_wrong_token_is_said_under_the_field_before_anything_is_sent()
    {
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync(site.Url("/management"));
        await page.FillAsync("#group input[name=token]", "not-a-token-of-this-collector");
        await page.PressAsync("#group input[name=token]", "Tab");
        var role = page.Locator("#group .token-role");
        await Expect(role).ToContainTextAsync("Geweigerd (401): dit token is niet juist.");
        // Not hidden: the role is unknown, and the collector is the judge.
        await Expect(page.Locator("#group button[type=submit]")).ToBeVisibleAsync();
        Assert.DoesNotContain(watched.Errors, e => e.StartsWith("page error", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Without_tokens_configured_the_page_says_actions_are_turned_off()
    {
        await using var bare = await RunningCollector.StartAsync();
        await using var watched = await WatchedPage.OpenAsync(site.Chromium.Browser);
        var page = watched.Page;
        await page.GotoAsync($"http://127.0.0.1:{bare.HttpPort}/facility");
        await page.FillAsync("#correction input[name=token]", RolesSite.StaffToken);
        await page.PressAsync("#correction input[name=token]", "Tab");
        await Expect(page.Locator("#correction .token-role")).ToContainTextAsync("acties met een token staan uit");
        Assert.DoesNotContain(watched.Errors, e => e.StartsWith("page error", StringComparison.Ordinal));
    }
}
