using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Hosting;

namespace NewTechPark.Edge.Bench;

/// <summary>
/// The MQTT users the bench logs in as: the collector's embedded broker refuses anonymous
/// clients, so every bench collector is started with these (bench-only passwords, few iterations).
/// </summary>
public static class BenchUsers
{
    public static readonly IReadOnlyList<string> Devices =
        ["bench-pi-0", "bench-pi-1", "bench-pi-2", "bench-pi-3", "bench-pi-4", "bench-pi-5", "bench-pi-6", "bench-pi-7", "pi-entrance", "pi-replay", "pi-simulated"];

    public static string PasswordOf(string user) => $"bench-only-{user}";

    public static IEnumerable<string> CollectorArgs() =>
        Devices.Select(d => $"--Collector:Broker:Users:{d}={NewTechPark.Edge.Collector.Broker.Security.MqttPasswordHash.Create(PasswordOf(d), iterations: 10)}");

    public static KeyValuePair<string, string?>[] AgentSettings(string device) =>
        [new("Agent:Broker:Username", device), new("Agent:Broker:Password", PasswordOf(device))];
}

/// <summary>
/// The embedded broker's MQTTnet configuration (persistent sessions, the same queue limit) without
/// the collector, on loopback: where the bare subscriber's baseline runs for the embedded case, since
/// the collector's own broker lets devices publish only their readings and status, which it ingests.
/// </summary>
public sealed class BareBroker : IAsyncDisposable
{
    private readonly MQTTnet.Server.MqttServer _server;

    private BareBroker(MQTTnet.Server.MqttServer server, int port)
    {
        _server = server;
        Port = port;
    }

    public int Port { get; }

    public static async Task<BareBroker> StartAsync()
    {
        var port = FreePort.Next();
        var options = new MQTTnet.Server.MqttServerOptionsBuilder()
            .WithDefaultEndpoint()
            .WithDefaultEndpointBoundIPAddress(IPAddress.Loopback)
            .WithDefaultEndpointBoundIPV6Address(IPAddress.None)
            .WithDefaultEndpointPort(port)
            .WithPersistentSessions(true)
            .WithMaxPendingMessagesPerClient(1_000_000)
            .WithPendingMessagesOverflowStrategy(MQTTnet.Server.MqttPendingMessagesOverflowStrategy.DropOldestQueuedMessage)
            .Build();
        var server = new MQTTnet.Server.MqttServerFactory().CreateMqttServer(options);
        await server.StartAsync();
        return new BareBroker(server, port);
    }

    public async ValueTask DisposeAsync()
    {
        await _server.StopAsync(new MQTTnet.Server.MqttServerStopOptions());
        _server.Dispose();
    }
}

/// <summary>The real collector (Kestrel and, optionally, the embedded broker on free loopback ports; SQLite in a temp folder) in this process.</summary>
public sealed class BenchCollector : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly TempDirectory _data;

    private BenchCollector(WebApplication app, TempDirectory data, int httpPort, int brokerPort)
    {
        _app = app;
        _data = data;
        HttpPort = httpPort;
        BrokerPort = brokerPort;
    }

    public int HttpPort { get; }

    public int BrokerPort { get; }

    public string DataDirectory => _data.Path;

    public IServiceProvider Services => _app.Services;

    public static async Task<BenchCollector> StartAsync(int? outsideBrokerPort = null, int? embeddedPort = null)
    {
        var httpPort = FreePort.Next();
        var brokerPort = outsideBrokerPort ?? embeddedPort ?? FreePort.Next();
        var data = new TempDirectory("ntp-bench-collector-");
        var app = CollectorHost.Build([
            "--urls", $"http://127.0.0.1:{httpPort}",
            $"--Collector:DataDirectory={data.Path}",
            $"--Collector:Broker:BindAddress=127.0.0.1",
            $"--Collector:Broker:Port={brokerPort}",
            $"--Collector:Broker:Embedded={(outsideBrokerPort is null ? "true" : "false")}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning",
            // The latency bench drives one door at 1,000 crossings a second and the ingest benches
            // invent sensors: far past a real door and a real Pi, so the bounds are opened wide.
            "--Collector:Plausibility:MaxDoorCrossingsPerSecond=1000",
            "--Collector:SeriesLimits:MaxNewSeriesPerDevicePerHour=1000000",
            "--Collector:SeriesLimits:MaxSeries=100000000",
            .. BenchUsers.CollectorArgs(),
        ]);
        await app.StartAsync();
        return new BenchCollector(app, data, httpPort, brokerPort);
    }

    /// <summary>A counter or histogram sum from the collector's /metrics (Prometheus text), summed over labels.</summary>
    public async Task<double> MetricAsync(string name)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}") };
        return Prometheus.Sum(await http.GetStringAsync("/metrics"), name);
    }

    /// <summary>A read-only connection to the collector's store.</summary>
    public SqliteConnection OpenReader()
    {
        var connection = new SqliteConnection($"Data Source={Path.Combine(DataDirectory, "collector.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        return connection;
    }

    /// <summary>Batches committed to the store so far.</summary>
    public long CommittedBatches()
    {
        using var connection = OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT count(*) FROM batches";
        return (long)command.ExecuteScalar()!;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _data.Dispose();
    }
}

/// <summary>Debian's mosquitto on a free loopback port, set up as the README asks.</summary>
public sealed class BenchMosquitto : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _folder;

    private BenchMosquitto(Process process, TempDirectory folder, int port)
    {
        _process = process;
        _folder = folder;
        Port = port;
    }

    public int Port { get; }

    public static async Task<BenchMosquitto> StartAsync()
    {
        var executable = new[] { "/usr/sbin/mosquitto", "/usr/bin/mosquitto" }.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mosquitto is not installed (apt-get install -y mosquitto)");
        var port = FreePort.Next();
        var folder = new TempDirectory("ntp-bench-mosquitto-");
        var config = Path.Combine(folder.Path, "mosquitto.conf");
        await File.WriteAllTextAsync(config, $"""
            listener {port} 127.0.0.1
            allow_anonymous true
            set_tcp_nodelay true
            persistence false
            max_queued_messages 0
            max_queued_bytes 0
            max_inflight_messages 0
            log_dest stderr
            log_type error
            user root

            """);
        var process = Process.Start(new ProcessStartInfo(executable, ["-c", config]) { UseShellExecute = false })
            ?? throw new InvalidOperationException($"could not start {executable}");
        var broker = new BenchMosquitto(process, folder, port);
        await FreePort.WaitListeningAsync(port, TimeSpan.FromSeconds(10));
        return broker;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        _folder.Dispose();
    }
}
