using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

namespace NewTechPark.Edge.Browser.Tests.Infrastructure;

/// <summary>The real collector with its demo site (simulated Pis for every device) and chromium.</summary>
public sealed class DemoSite : IAsyncLifetime
{
    public Chromium Chromium { get; } = new();

    public RunningCollector Collector { get; private set; } = null!;

    public string Url(string path) => $"http://127.0.0.1:{Collector.HttpPort}{path}";

    public async Task InitializeAsync()
    {
        await Chromium.InitializeAsync();
        Collector = await RunningCollector.StartAsync(demo: true);
        // The demo's school class has walked in: the simulated site is up and publishing.
        await Collector.EventuallyAsync<System.Text.Json.JsonElement>("/api/v1/occupancy", o => o.GetProperty("building").GetInt64() > 0, TimeSpan.FromSeconds(60));
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

/// <summary>The real collector without the demo, with an admin token, one simulated Pi (doors and a DC bench) and chromium.</summary>
public sealed class QuietSite : IAsyncLifetime
{
    public const string AdminToken = "browser-test-admin-token";

    public Chromium Chromium { get; } = new();

    public RunningCollector Collector { get; private set; } = null!;

    public SimulatedPi Pi { get; private set; } = null!;

    public string Url(string path) => $"http://127.0.0.1:{Collector.HttpPort}{path}";

    public async Task InitializeAsync()
    {
        await Chromium.InitializeAsync();
        Collector = await RunningCollector.StartAsync();
        Collector.Services.GetRequiredService<IOptions<CollectorOptions>>().Value.Admin.Token = AdminToken;
        Pi = await SimulatedPi.StartAsync(Collector.BrokerPort);
        await Pi.WaitReadyAsync(TimeSpan.FromSeconds(20));
    }

    public async Task DisposeAsync()
    {
        await Chromium.DisposeAsync();
        if (Pi is not null)
        {
            await Pi.DisposeAsync();
        }

        if (Collector is not null)
        {
            await Collector.DisposeAsync();
        }
    }
}
