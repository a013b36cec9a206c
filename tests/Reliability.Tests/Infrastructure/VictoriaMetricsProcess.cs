using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using System.Net.Http.Json;
using System.Text.Json;

namespace NewTechPark.Edge.Reliability.Tests.Infrastructure;

/// <summary>
/// Debian's victoria-metrics on a free loopback port with a temporary storage folder: it accepts
/// InfluxDB's <c>/api/v2/write</c> line protocol and returns what it stored at <c>/api/v1/export</c>.
/// </summary>
public sealed class VictoriaMetricsProcess(params string[] extraArgs) : IAsyncDisposable
{
    private const string Executable = "/usr/bin/victoria-metrics";
    private readonly string _directory = Directory.CreateTempSubdirectory("ntp-vm-").FullName;
    private readonly List<string> _history = [];
    private ChildProcess? _process;

    public int Port { get; } = FreePort.Next();

    public string Url => $"http://127.0.0.1:{Port}";

    public string Output => string.Join('\n', _history) + (_process?.Output ?? string.Empty);

    public async Task StartAsync()
    {
        if (!File.Exists(Executable))
        {
            throw new InvalidOperationException("victoria-metrics is not installed; run ./test.sh as root (it installs it) or: apt-get install -y victoria-metrics");
        }

        // dedup.minScrapeInterval=1ms: a point written twice (a retried write) is one sample, as in InfluxDB.
        // search.latencyOffset=0s: samples are visible to queries at once.
        _process = ChildProcess.Start("victoria-metrics", Executable, [
            $"-httpListenAddr=127.0.0.1:{Port}",
            $"-storageDataPath={_directory}",
            "-retentionPeriod=100y",
            "-dedup.minScrapeInterval=1ms",
            "-search.latencyOffset=0s",
            "-loggerLevel=ERROR",
            .. extraArgs,
        ]);
        await FreePort.WaitListeningAsync(Port, TimeSpan.FromSeconds(20));
    }

    /// <summary>SIGTERM: VictoriaMetrics flushes what it accepted and exits.</summary>
    public async Task StopAsync()
    {
        if (_process is { } p)
        {
            await p.StopAsync(TimeSpan.FromSeconds(20));
            _history.Add(p.Output);
            await p.DisposeAsync();
            _process = null;
        }
    }

    /// <summary>Every sample of the metric, as (timestamp ms, value).</summary>
    public async Task<List<(long Ts, double Value)>> ExportAsync(string metric)
    {
        using var http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(30) };
        var body = await http.GetStringAsync($"/api/v1/export?match[]={Uri.EscapeDataString($"{{__name__=\"{metric}\"}}")}");
        var samples = new List<(long, double)>();
        foreach (var line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            var values = json.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToList();
            var times = json.RootElement.GetProperty("timestamps").EnumerateArray().Select(t => t.GetInt64()).ToList();
            samples.AddRange(times.Zip(values));
        }

        return samples;
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is not null)
        {
            await _process.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
