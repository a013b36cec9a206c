using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using NewTechPark.Edge.Agent.Hosting;
using NewTechPark.Edge.Simulation;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;

namespace NewTechPark.Edge.EndToEnd.Tests.Security;

/// <summary>
/// The real edge agent and the real collector through mosquitto with the shipped configuration,
/// each with its own user: the ACL lets them do their work (readings, retained status, last will,
/// the collector's persistent subscription), and no password or key shows up in any log.
/// </summary>
[Trait("Category", "Slow")]
public sealed class MosquittoWithRealSoftwareTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task AgentAndCollectorWorkWithTheirOwnUsersAndNoSecretReachesTheLogs()
    {
        await using var broker = await SecuredMosquitto.StartAsync();
        var logs = new CapturingLoggerProvider();
        const string siteKey = "site-key-that-must-never-be-logged-7f3a";
        var wrongPassword = "wrong-" + Guid.NewGuid().ToString("N");

        var collector = await StartCollectorAsync(broker, logs);
        try
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{collector.Port}") };
            var agent = StartAgent(broker.PlainPort, "pi-a", broker.Passwords["pi-a"], siteKey, logs);
            // A device with a wrong password: refused, and the refusal is logged without it.
            var intruder = StartAgent(broker.PlainPort, "pi-b", wrongPassword, siteKey, logs);
            try
            {
                await agent.Host.StartAsync();
                await intruder.Host.StartAsync();

                var devices = await EventuallyAsync(http, list => list.Any(d => d.Device == "pi-a" && d.State == "online" && d.Batches > 0));
                Assert.DoesNotContain(devices, d => d.Device == "pi-b" && d.Batches > 0);
                await WaitUntilAsync(() => logs.Lines.Any(l => l.Contains("refused the connection", StringComparison.Ordinal)));
            }
            finally
            {
                await StopAsync(agent);
                await StopAsync(intruder);
            }

            // The agent's goodbye (retained offline status on its own topic) got through the ACL.
            await EventuallyAsync(http, list => list.Any(d => d.Device == "pi-a" && d.State == "offline"));
        }
        finally
        {
            await collector.App.StopAsync();
            await collector.App.DisposeAsync();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            TryDelete(collector.Data);
        }

        var everything = string.Join('\n', logs.Lines) + '\n' + broker.Output;
        Assert.NotEmpty(logs.Lines);
        foreach (var secret in broker.Passwords.Values.Append(siteKey).Append(wrongPassword))
        {
            Assert.DoesNotContain(secret, everything, StringComparison.Ordinal);
        }
    }

    private static async Task<(WebApplication App, int Port, string Data)> StartCollectorAsync(SecuredMosquitto broker, CapturingLoggerProvider logs)
    {
        var port = FreePort.Next();
        var data = Directory.CreateTempSubdirectory("ntp-collector-secure-").FullName;
        var app = CollectorHost.Build([
            "--urls", $"http://127.0.0.1:{port}",
            $"--Collector:DataDirectory={data}",
            "--Collector:Broker:Embedded=false",
            $"--Collector:SiteFile={TestSite.Path}",
            "--Collector:Broker:Host=127.0.0.1",
            $"--Collector:Broker:Port={broker.PlainPort}",
            "--Collector:Broker:Username=ntp-collector",
            $"--Collector:Broker:Password={broker.Passwords["ntp-collector"]}",
            // Everything down to Debug goes to the capturing logger, nothing to the console.
            "--Logging:LogLevel:Default=Debug",
            "--Logging:Console:LogLevel:Default=None",
        ]);
        app.Services.GetRequiredService<ILoggerFactory>().AddProvider(logs);
        await app.StartAsync();
        return (app, port, data);
    }

    private static (IHost Host, string Data) StartAgent(int brokerPort, string device, string password, string siteKey, CapturingLoggerProvider logs)
    {
        var hardware = new SimulatedHardware();
        var bench = hardware.I2c.Attach(1, 0x40, new SimulatedIna219(1, 0x40, shuntOhms: 0.1));
        bench.SetLoad(24.0, 1.5);
        var data = Directory.CreateTempSubdirectory("ntp-agent-secure-").FullName;
        var host = SimulatedAgentHost.Create(
        [
            new("Agent:Site", "newtechpark"),
            new("Agent:Device", device),
            new("Agent:DataDirectory", data),
            new("Agent:SiteKey", siteKey),
            new("Agent:Broker:Host", "127.0.0.1"),
            new("Agent:Broker:Port", brokerPort.ToString(CultureInfo.InvariantCulture)),
            new("Agent:Broker:Username", device),
            new("Agent:Broker:Password", password),
            new("Agent:Broker:ReconnectMinDelay", "00:00:00.100"),
            new("Agent:Publishing:BatchLinger", "00:00:00.050"),
            new("Agent:Sensors:0:Id", "dc-bench-1"),
            new("Agent:Sensors:0:Type", "ina219"),
            new("Agent:Sensors:0:Address", "64"),
            new("Agent:Sensors:0:SampleInterval", "00:00:00.100"),
        ], hardware, logging => logging.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        return (host, data);
    }

    private static async Task StopAsync((IHost Host, string Data) agent)
    {
        await agent.Host.StopAsync();
        agent.Host.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        TryDelete(agent.Data);
    }

    private static async Task<List<DeviceDto>> EventuallyAsync(HttpClient http, Func<List<DeviceDto>, bool> condition)
    {
        List<DeviceDto> last = [];
        await WaitUntilAsync(async () =>
        {
            last = await http.GetFromJsonAsync<List<DeviceDto>>("/api/v1/devices", RunningCollector.Json) ?? [];
            return condition(last);
        }, () => string.Join(", ", last.Where(d => d.Batches > 0 || d.State != "never-seen").Select(d => $"{d.Device}:{d.State}:{d.Batches}")));
        return last;
    }

    private static Task WaitUntilAsync(Func<bool> condition) => WaitUntilAsync(() => Task.FromResult(condition()), () => string.Empty);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, Func<string> describe)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!await condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"not reached within {Patience}; {describe()}");
            }

            await Task.Delay(100);
        }
    }

    private static void TryDelete(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Keeps every log line (message and exception) of the agent and the collector.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider
    {
        private readonly ConcurrentQueue<string> _lines = new();

        public IReadOnlyCollection<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

        public void Dispose()
        {
        }

        private sealed class Logger(string category, ConcurrentQueue<string> lines) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
                lines.Enqueue($"{logLevel} {category}: {formatter(state, exception)} {exception}");
        }
    }
}
