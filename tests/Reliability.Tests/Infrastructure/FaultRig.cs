using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace NewTechPark.Edge.Reliability.Tests.Infrastructure;

public enum BrokerKind
{
    /// <summary>The collector's embedded MQTTnet broker: the broker lives and dies with the collector process.</summary>
    Embedded,

    /// <summary>Debian's mosquitto, a process of its own, with persistence.</summary>
    Mosquitto,
}

/// <summary>
/// The whole system as separate processes on loopback: a collector (<c>dotnet collector.dll</c>),
/// a broker (embedded in the collector, or mosquitto), load agents (<c>dotnet ntp-load-agent.dll</c>),
/// and what the test needs to break them and to compare what the agents recorded with what the
/// collector stored.
/// </summary>
public sealed class FaultRig : IAsyncDisposable
{
    public const string Site = "newtechpark";

    private readonly List<ChildProcess> _finished = [];
    private readonly Dictionary<string, int> _agentRuns = [];
    private readonly Dictionary<string, ChildProcess> _agents = [];
    private readonly string[] _collectorExtra;
    private ChildProcess? _collector;
    private MosquittoProcess? _mosquitto;

    private FaultRig(BrokerKind broker, string root, string[] collectorExtra)
    {
        Broker = broker;
        Root = root;
        _collectorExtra = collectorExtra;
        HttpPort = FreePort.Next();
        BrokerPort = FreePort.Next();
        Http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    public BrokerKind Broker { get; }

    public string Root { get; }

    public int HttpPort { get; }

    public int BrokerPort { get; }

    public HttpClient Http { get; }

    /// <summary>The running collector process (its pid for /proc figures), if one runs.</summary>
    public ChildProcess? Collector => _collector;

    public string CollectorData => Path.Combine(Root, "collector");

    public static async Task<FaultRig> StartAsync(BrokerKind broker, params string[] collectorExtra)
    {
        var rig = new FaultRig(broker, Directory.CreateTempSubdirectory("ntp-fault-").FullName, collectorExtra);
        if (broker == BrokerKind.Mosquitto)
        {
            rig._mosquitto = new MosquittoProcess(rig.BrokerPort, Path.Combine(rig.Root, "mosquitto"));
            await rig._mosquitto.StartAsync();
        }

        await rig.StartCollectorAsync();
        return rig;
    }

    // ---- the collector -------------------------------------------------------------------

    public async Task StartCollectorAsync()
    {
        string[] args = [
            "--urls", $"http://127.0.0.1:{HttpPort}",
            $"--Collector:DataDirectory={CollectorData}",
            $"--Collector:Broker:Port={BrokerPort}",
            $"--Collector:Broker:Embedded={(Broker == BrokerKind.Embedded ? "true" : "false")}",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:NewTechPark=Information",
            .. TestCredentials.CollectorArgs(),
            .. _collectorExtra,
        ];
        _collector = ChildProcess.StartDotnet("collector", "collector.dll", args);
        await WaitHealthyAsync(TimeSpan.FromSeconds(60));
    }

    /// <summary>SIGTERM, clean shutdown.</summary>
    public async Task StopCollectorAsync()
    {
        if (_collector is { } c)
        {
            await c.StopAsync(TimeSpan.FromSeconds(30));
            _finished.Add(c);
            _collector = null;
        }
    }

    /// <summary>kill -9.</summary>
    public async Task KillCollectorAsync()
    {
        if (_collector is { } c)
        {
            await c.KillAsync();
            _finished.Add(c);
            _collector = null;
        }
    }

    // ---- the broker ----------------------------------------------------------------------

    /// <summary>Takes the broker away: mosquitto stops (cleanly, it saves its sessions); the embedded one goes with its collector.</summary>
    public Task StopBrokerAsync() => Broker == BrokerKind.Mosquitto ? _mosquitto!.StopAsync() : StopCollectorAsync();

    public Task StartBrokerAsync() => Broker == BrokerKind.Mosquitto ? _mosquitto!.StartAsync() : StartCollectorAsync();

    // ---- agents --------------------------------------------------------------------------

    /// <summary>Starts (or restarts, on the same state folder) a load agent that records into a new log file per run.</summary>
    public ChildProcess StartAgent(string device, int rate, long total, params string[] extra)
    {
        var run = _agentRuns.GetValueOrDefault(device) + 1;
        _agentRuns[device] = run;
        var data = Path.Combine(Root, device);
        string[] args = [
            $"--Agent:Site={Site}",
            $"--Agent:Device={device}",
            $"--Agent:DataDirectory={data}",
            "--Agent:Broker:Host=127.0.0.1",
            $"--Agent:Broker:Port={BrokerPort}",
            "--Agent:Broker:ReconnectMinDelay=00:00:00.200",
            "--Agent:Broker:ReconnectMaxDelay=00:00:02",
            "--Agent:Publishing:HeartbeatInterval=00:00:01",
            "--Agent:Publishing:BatchLinger=00:00:00.050",
            .. TestCredentials.AgentArgs(device),
            $"--Load:Rate={rate}",
            $"--Load:Total={total}",
            $"--Load:RecordFile={Path.Combine(data, $"recorded-{run}.log")}",
            .. extra,
        ];
        var agent = ChildProcess.StartDotnet($"agent {device} run {run}", "ntp-load-agent.dll", args);
        _agents[device] = agent;
        return agent;
    }

    public async Task KillAgentAsync(string device)
    {
        var agent = _agents[device];
        await agent.KillAsync();
        _finished.Add(agent);
        _agents.Remove(device);
    }

    /// <summary>Every batch the agent's runs committed to their outbox, per run, in order.</summary>
    public IReadOnlyList<IReadOnlyList<(ulong Seq, int Readings)>> Recorded(string device)
    {
        var runs = new List<IReadOnlyList<(ulong, int)>>();
        for (var run = 1; run <= _agentRuns.GetValueOrDefault(device); run++)
        {
            var path = Path.Combine(Root, device, $"recorded-{run}.log");
            var lines = File.Exists(path) ? ReadShared(path) : [];
            runs.Add(lines.Where(l => l.Contains(' ', StringComparison.Ordinal)).Select(l =>
            {
                var parts = l.Split(' ');
                return (ulong.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
            }).ToList());
        }

        return runs;
    }

    /// <summary>What the collector stored: (seq, readings) per batch of the device, from its SQLite file.</summary>
    public Dictionary<ulong, int> Stored(string device)
    {
        var connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(CollectorData, "collector.db"),
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString();
        using var connection = new SqliteConnection(connectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT seq, readings FROM batches WHERE site = $site AND device = $device";
        command.Parameters.AddWithValue("$site", Site);
        command.Parameters.AddWithValue("$device", device);
        using var reader = command.ExecuteReader();
        var stored = new Dictionary<ulong, int>();
        while (reader.Read())
        {
            // (site, device, seq) is the primary key: a batch stored twice would fail here.
            stored.Add(unchecked((ulong)reader.GetInt64(0)), reader.GetInt32(1));
        }

        return stored;
    }

    /// <summary>The device as <c>/api/v1/devices</c> shows it.</summary>
    public async Task<JsonElement> DeviceAsync(string device)
    {
        var list = await Http.GetFromJsonAsync<JsonElement>("/api/v1/devices");
        return list.EnumerateArray().Single(d => d.GetProperty("device").GetString() == device);
    }

    /// <summary>Polls until the collector stored every batch the agent recorded (and the agent's outbox is empty).</summary>
    public async Task WaitDeliveredAsync(string device, TimeSpan timeout, Func<Dictionary<ulong, int>, IReadOnlyList<IReadOnlyList<(ulong Seq, int Readings)>>, bool>? done = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        done ??= (stored, recorded) => recorded.SelectMany(r => r).All(b => stored.ContainsKey(b.Seq));
        while (true)
        {
            try
            {
                if (done(Stored(device), Recorded(device)))
                {
                    return;
                }
            }
            catch (SqliteException)
            {
                // the collector may not have created its tables yet
            }

            if (DateTime.UtcNow > deadline)
            {
                var recorded = Recorded(device).SelectMany(r => r).ToList();
                var stored = Stored(device);
                throw new TimeoutException(
                    $"{device}: {recorded.Count(b => !stored.ContainsKey(b.Seq))} of {recorded.Count} recorded batches not stored within {timeout}\n{Diagnostics()}");
            }

            await Task.Delay(250);
        }
    }

    /// <summary>Waits for the line the load agent prints when it has made all its readings.</summary>
    public Task WaitAgentDoneAsync(string device, TimeSpan timeout) => _agents[device].WaitForOutputAsync("LOAD DONE", timeout);

    public ChildProcess Agent(string device) => _agents[device];

    public string Diagnostics() =>
        string.Join('\n', new[] { _collector }.Concat(_agents.Values).Concat(_finished).OfType<ChildProcess>().Select(p => p.Tail(40)))
        + (_mosquitto is { } m ? "\n--- mosquitto ---\n" + m.Output : string.Empty);

    /// <summary>VmRSS and VmHWM (the peak) of the running collector, from /proc.</summary>
    public ProcessMemory CollectorMemory() => ProcessMemory.Of((_collector ?? throw new InvalidOperationException("no collector runs")).Id);

    /// <summary>The collector's /metrics as <c>name{labels}</c> to value.</summary>
    public async Task<Dictionary<string, double>> MetricsAsync()
    {
        var text = await Http.GetStringAsync("/metrics");
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            if (space > 0 && double.TryParse(line[(space + 1)..], NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            {
                values[line[..space]] = value;
            }
        }

        return values;
    }

    public async Task WaitHealthyAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                var response = await Http.GetAsync("/healthz");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }

            if (DateTime.UtcNow > deadline || _collector is { HasExited: true })
            {
                throw new TimeoutException($"the collector did not become healthy within {timeout}\n{Diagnostics()}");
            }

            await Task.Delay(100);
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        foreach (var agent in _agents.Values)
        {
            await agent.DisposeAsync();
        }

        if (_collector is not null)
        {
            await _collector.DisposeAsync();
        }

        if (_mosquitto is not null)
        {
            await _mosquitto.DisposeAsync();
        }

        foreach (var process in _finished)
        {
            await process.DisposeAsync();
        }

        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(stream);
        // A line cut by kill -9 in mid-write has no newline yet: leave it out.
        var text = reader.ReadToEnd();
        var end = text.LastIndexOf('\n');
        return end < 0 ? [] : text[..end].Split('\n');
    }
}
