using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Demo;

namespace NewTechPark.Edge.EndToEnd.Tests;

/// <summary>The demo's token per role (lab, staff, admin): made at start, printed in the banner, each with its role; none when tokens are configured.</summary>
public sealed class DemoTokensTests
{
    [Fact]
    public async Task The_demo_makes_and_prints_a_token_per_role_and_each_has_its_role()
    {
        await using var collector = await StartAsync();
        var tokens = collector.App.Services.GetRequiredService<DemoTokens>();
        Assert.True(tokens.InUse);
        Assert.Equal(3, new[] { tokens.Lab, tokens.Staff, tokens.Admin }.Distinct().Count());

        var banner = collector.App.Services.GetServices<IStartupBannerSection>().OfType<DemoTokensBanner>().Single().Lines().ToList();
        foreach (var (token, name, role) in new[] { (tokens.Lab, "demo-lab", "lab"), (tokens.Staff, "demo-staff", "staff"), (tokens.Admin, "demo-admin", "admin") })
        {
            Assert.Contains(banner, line => line.TrimStart().StartsWith(role, StringComparison.Ordinal) && line.EndsWith(token, StringComparison.Ordinal));
            var whoami = await WhoAmIAsync(collector.Http, token);
            Assert.Equal(HttpStatusCode.OK, whoami.StatusCode);
            var answer = JsonDocument.Parse(await whoami.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal((name, role), (answer.GetProperty("name").GetString(), answer.GetProperty("role").GetString()));
        }
    }

    [Fact]
    public async Task Configured_tokens_replace_the_demo_ones()
    {
        const string configured = "configured-admin-token-0123456789";
        await using var collector = await StartAsync($"--Collector:Admin:Token={configured}");
        var tokens = collector.App.Services.GetRequiredService<DemoTokens>();
        Assert.Equal(HttpStatusCode.OK, (await WhoAmIAsync(collector.Http, configured)).StatusCode);
        Assert.False(tokens.InUse);
        Assert.Equal(HttpStatusCode.Unauthorized, (await WhoAmIAsync(collector.Http, tokens.Admin)).StatusCode);
        var banner = collector.App.Services.GetServices<IStartupBannerSection>().OfType<DemoTokensBanner>().Single().Lines().ToList();
        Assert.DoesNotContain(banner, line => line.Contains(tokens.Admin, StringComparison.Ordinal));
    }

    private static async Task<HttpResponseMessage> WhoAmIAsync(HttpClient http, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/auth/whoami");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.SendAsync(request);
    }

    /// <summary>The collector with only the demo's tokens added (not its simulated site): what <c>AddDemo</c> does for tokens.</summary>
    private static async Task<Started> StartAsync(params string[] settings)
    {
        var data = new TempDirectory();
        var port = FreePort.Next();
        var app = CollectorHost.Build(
            ["--urls", $"http://127.0.0.1:{port}", $"--Collector:DataDirectory={data.Path}", $"--Collector:Broker:Port={FreePort.Next()}", "--Logging:LogLevel:Default=Warning", .. settings],
            builder => builder.Services.AddDemoTokens());
        await app.StartAsync();
        return new Started(app, data, new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") });
    }

    private sealed record Started(WebApplication App, TempDirectory Data, HttpClient Http) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            await App.StopAsync();
            await App.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Data.Dispose();
        }
    }
}
