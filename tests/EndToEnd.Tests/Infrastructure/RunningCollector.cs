using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

/// <summary>The real collector (Kestrel on a free port, SQLite in a temp folder) in this process.</summary>
public sealed class RunningCollector : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly WebApplication _app;

    private RunningCollector(WebApplication app, int httpPort, int brokerPort, string dataDirectory)
    {
        _app = app;
        HttpPort = httpPort;
        BrokerPort = brokerPort;
        DataDirectory = dataDirectory;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public int HttpPort { get; }

    public int BrokerPort { get; }

    public string DataDirectory { get; }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    /// <summary>Starts a collector with its embedded broker, or against <paramref name="outsideBrokerPort"/>.</summary>
    /// <remarks>
    /// A free port can be taken between <see cref="FreePort.Next"/> and the bind (other test processes
    /// share the machine, and a port just released can be handed out again): a start that fails on
    /// "address in use" is retried on new ports, a few times.
    /// </remarks>
    public static async Task<RunningCollector> StartAsync(int? outsideBrokerPort = null, bool demo = false, CapturedLogs? logs = null, params string[] extra)
    {
        const int attempts = 3;
        for (var attempt = 1; ; attempt++)
        {
            var httpPort = FreePort.Next();
            var brokerPort = outsideBrokerPort ?? FreePort.Next();
            while (outsideBrokerPort is null && brokerPort == httpPort)
            {
                brokerPort = FreePort.Next();
            }

            var data = Directory.CreateTempSubdirectory("ntp-collector-").FullName;
            string[] args = [
                "--urls", $"http://127.0.0.1:{httpPort}",
                $"--Collector:DataDirectory={data}",
                $"--Collector:Broker:Port={brokerPort}",
                $"--Collector:Broker:Embedded={(outsideBrokerPort is null ? "true" : "false")}",
                "--Logging:LogLevel:Default=Warning",
                // The demo's simulated Pis are the site's own devices.
                $"--Collector:SiteFile={(demo ? TestSite.Shipped : TestSite.Path)}",
                .. TestCredentials.CollectorArgs(),
                // The demo starts without its year of history unless a test asks for it (DemoHistoryTests).
                .. (demo ? ["--Demo:History=false"] : Array.Empty<string>()),
                .. extra,
            ];
            Action<WebApplicationBuilder> configure = builder =>
            {
                if (logs is not null)
                {
                    builder.Logging.AddProvider(logs);
                }
            };
            var app = demo ? NewTechPark.Edge.Demo.DemoHost.Build(args, configure) : CollectorHost.Build(args, configure);
            try
            {
                await app.StartAsync();
                return new RunningCollector(app, httpPort, brokerPort, data);
            }
            catch (Exception e) when (attempt < attempts && IsAddressInUse(e))
            {
                await DiscardAsync(app, data);
            }
        }
    }

    private static bool IsAddressInUse(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is Microsoft.AspNetCore.Connections.AddressInUseException or NewTechPark.Edge.Collector.Broker.BrokerPortInUseException
                || e is System.Net.Sockets.SocketException { SocketErrorCode: System.Net.Sockets.SocketError.AddressAlreadyInUse })
            {
                return true;
            }
        }

        return false;
    }

    private static async Task DiscardAsync(WebApplication app, string data)
    {
        try
        {
            await app.StopAsync();
        }
        catch (Exception)
        {
            // Half started: whatever did start is disposed below.
        }

        await app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    public async Task<T> GetAsync<T>(string path) =>
        (await Http.GetFromJsonAsync<T>(path, Json)) ?? throw new InvalidOperationException($"{path} returned null");

    /// <summary>Polls until <paramref name="condition"/> holds; fails with the last value seen.</summary>
    public async Task<T> EventuallyAsync<T>(string path, Func<T, bool> condition, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        T last = default!;
        while (DateTime.UtcNow < deadline)
        {
            var response = await Http.GetAsync(path);
            if (response.IsSuccessStatusCode)
            {
                last = (await response.Content.ReadFromJsonAsync<T>(Json))!;
                if (condition(last))
                {
                    return last;
                }
            }

            await Task.Delay(100);
        }

        throw new TimeoutException($"{path} did not reach the expected state within {timeout}; last: {JsonSerializer.Serialize(last, Json)}");
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>
/// The shipped site file with the sensors that the tests' devices publish (<c>pi-test</c>,
/// <c>pi-a</c>, …) given to no device: the collector refuses a reading of a sensor that the site
/// file gives to another device. Every other sensor keeps its owner, so the devices of the site
/// are still listed. A test of ownership passes <see cref="Shipped"/> as <c>Collector:SiteFile</c>.
/// </summary>
public static class TestSite
{
    public static readonly string[] SharedSensors = ["door-main", "door-dc-lab", "dc-bench-1", "dc-bench-2", "badge-entrance", "meter-grid"];

    private static readonly Lazy<string> Written = new(Write);

    /// <summary>The site file the collector ships with.</summary>
    public static string Shipped => System.IO.Path.Combine(AppContext.BaseDirectory, "Site", "default-site.json");

    /// <summary>The test site file (written once per test process).</summary>
    public static string Path => Written.Value;

    private static string Write()
    {
        var site = JsonNode.Parse(File.ReadAllText(Shipped))!;
        foreach (var list in new[] { "doors", "meters", "sensors" })
        {
            foreach (var entry in site[list]!.AsArray())
            {
                if (SharedSensors.Contains((string?)entry!["id"]))
                {
                    entry.AsObject().Remove("device");
                }
            }
        }

        var path = System.IO.Path.Combine(Directory.CreateTempSubdirectory("ntp-test-site-").FullName, "test-site.json");
        File.WriteAllText(path, site.ToJsonString());
        return path;
    }
}
