using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.Collector.Tests.Http;

/// <summary>The real collector (Kestrel and the embedded broker on free ports, SQLite in a temp folder) in this process.</summary>
public sealed class InProcessCollector : IAsyncDisposable
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly WebApplication _app;
    private readonly TempDirectory _data;

    private InProcessCollector(WebApplication app, TempDirectory data, int port)
    {
        _app = app;
        _data = data;
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public HttpClient Http { get; }

    public IServiceProvider Services => _app.Services;

    public static Task<InProcessCollector> StartAsync(params string[] settings) => StartAsync(null, null, settings);

    /// <summary>With hooks: <paramref name="configure"/> before the build (log capture), <paramref name="map"/> after it (test-only endpoints).</summary>
    public static async Task<InProcessCollector> StartAsync(Action<WebApplicationBuilder>? configure, Action<WebApplication>? map, params string[] settings)
    {
        var data = new TempDirectory();
        var port = FreePort.Next();
        string[] args =
        [
            "--urls", $"http://127.0.0.1:{port}",
            $"--Collector:DataDirectory={data.Path}",
            $"--Collector:Broker:Port={FreePort.Next()}",
            "--Logging:LogLevel:Default=Warning",
            .. settings,
        ];
        try
        {
            var app = CollectorHost.Build(args, configure);
            map?.Invoke(app);
            await app.StartAsync();
            return new InProcessCollector(app, data, port);
        }
        catch
        {
            // A collector that refuses its settings leaves no folder behind.
            data.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _data.Dispose();
    }
}
