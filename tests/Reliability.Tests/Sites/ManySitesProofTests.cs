using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using MQTTnet;
using MQTTnet.Formatter;
using MQTTnet.Protocol;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.EndToEnd.Tests.Infrastructure;
using NewTechPark.Edge.Reliability.Tests.Grafana;
using NewTechPark.Edge.Reliability.Tests.Infrastructure;
using Xunit.Abstractions;

namespace NewTechPark.Edge.Reliability.Tests.Sites;

/// <summary>
/// The many-sites proof (issue 18, item 5) on this machine: three sites made from the default site,
/// their devices publishing contract batches as <c>&lt;device&gt;@&lt;site&gt;</c> to one outside Debian
/// mosquitto (persistence on, password file, the ACL the collector's generator writes), two collector
/// processes (A owns noord and oost, B owns zuid; each its own data folder, outside broker, region
/// feed on) and one victoria-metrics both sinks write to. Collector A is killed with kill -9 while the
/// devices go on publishing and started again; then every acknowledged batch is in its owner's store
/// exactly once and in VictoriaMetrics, each collector has only its own sites, one query returns the
/// three sites' raw points and live occupancy (a region figure) with each site's own value, and no
/// pseudonym is anywhere in VictoriaMetrics.
/// </summary>
[Trait("Category", "Slow")]
public sealed class ManySitesProofTests(ITestOutputHelper output)
{
    private const string CollectorUser = "ntp-collector";
    private static readonly string[] SitesOfA = ["noord", "oost"];
    private static readonly string[] SitesOfB = ["zuid"];
    private static readonly string[] Devices = ["pi-entrance", "pi-climate"];

    /// <summary>People who walk in at each site's main door (one crossing every fourth entrance batch): each site's own figure.</summary>
    private static readonly Dictionary<string, int> Entering = new(StringComparer.Ordinal) { ["noord"] = 10, ["oost"] = 15, ["zuid"] = 20 };

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task Two_collectors_own_three_sites_one_victoria_metrics_sees_all_and_a_kill_9_loses_nothing()
    {
        using var root = new TempDirectory("ntp-many-sites-");
        var allSites = SitesOfA.Concat(SitesOfB).ToArray();
        var folderA = WriteSiteFiles(root.File("sites-a"), SitesOfA);
        var folderB = WriteSiteFiles(root.File("sites-b"), SitesOfB);
        var folderAll = WriteSiteFiles(root.File("sites-all"), allSites);

        // The broker: passwords for every <device>@<site> and the collectors' user; the ACL from the
        // collector's generator over all three sites (the collectors share one broker user here; what
        // each collector reads is decided by its subscriptions, which is what is under test).
        var passwords = allSites.SelectMany(s => Devices.Select(d => $"{d}@{s}")).Append(CollectorUser)
            .ToDictionary(u => u, _ => Convert.ToBase64String(RandomNumberGenerator.GetBytes(18)), StringComparer.Ordinal);
        var mosquittoDir = Directory.CreateDirectory(root.File("mosquitto")).FullName;
        var passwd = Path.Combine(mosquittoDir, "passwd");
        await MakePasswordFileAsync(passwd, passwords);
        var acl = Path.Combine(mosquittoDir, "acl");
        var defaults = new CollectorOptions();
        await File.WriteAllTextAsync(acl, MosquittoAcl.Build(
            SiteCatalogLoader.Load(new CollectorOptions { Sites = [folderAll] }), CollectorUser, defaults.HomeAssistant.DiscoveryPrefix, defaults.HomeAssistant.StatePrefix));
        await using var mosquitto = new MosquittoProcess(FreePort.Next(), mosquittoDir, allowAnonymous: false, [$"password_file {passwd}", $"acl_file {acl}"]);
        await mosquitto.StartAsync();
        await using var vm = new VictoriaMetricsProcess();
        await vm.StartAsync();

        await using var a = new CollectorProcess("collector-a", root.File("data-a"), folderA, mosquitto.Port, vm.Url, passwords[CollectorUser]);
        await using var b = new CollectorProcess("collector-b", root.File("data-b"), folderB, mosquitto.Port, vm.Url, passwords[CollectorUser]);
        // Both at once: two cold starts share the two cores.
        await Task.WhenAll(a.StartAsync(), b.StartAsync());

        var devices = allSites.SelectMany(s => Devices.Select(d => new SiteDevice(s, d, passwords[$"{d}@{s}"]))).ToList();
        using var stop = new CancellationTokenSource();
        var publishing = new List<Task>();
        try
        {
            foreach (var device in devices)
            {
                await device.ConnectAsync(mosquitto.Port);
            }

            publishing.AddRange(devices.Select(d => d.PublishUntilAsync(stop.Token)));

            // A device of one site cannot publish for another: the generated ACL refuses it.
            await RefusedAcrossSitesAsync(mosquitto.Port, passwords["pi-entrance@noord"]);

            // A stores some of its sites' batches, then dies with kill -9 while every device goes on.
            var entranceNoord = devices.Single(d => d.Site == "noord" && d.Device == "pi-entrance");
            await Eventually.UntilAsync(() => a.Stored("noord", "pi-entrance").Count >= 15, "collector A stored noord's first batches", Patience, TimeSpan.FromMilliseconds(100));
            await a.KillAsync();
            var atKill = devices.ToDictionary(d => d, d => d.Acknowledged.Count);
            // Down long enough that people walk in while nobody of A listens: the broker keeps them in A's session.
            await Eventually.UntilAsync(() => devices.All(d => d.Acknowledged.Count >= atKill[d] + 30), "30 more batches of every device while A is down", Patience, TimeSpan.FromMilliseconds(50));
            await a.StartAsync();
            var atRestart = devices.ToDictionary(d => d, d => d.Acknowledged.Count);
            // Every site's door crossings are all published, and some batches after the restart.
            await Eventually.UntilAsync(
                () => devices.All(d => d.Acknowledged.Count >= Math.Max(atRestart[d] + 10, (4 * Entering[d.Site]) + 1)),
                "every crossing published and ten batches after A's restart", Patience, TimeSpan.FromMilliseconds(50));
            await stop.CancelAsync();
            await Task.WhenAll(publishing);
            output.WriteLine(string.Join(", ", devices.Select(d => $"{d.Device}@{d.Site}: {d.Acknowledged.Count} batches ({atKill[d]} before the kill, {atRestart[d] - atKill[d]} while A was down)")));
            Assert.True(atKill[entranceNoord] < 4 * Entering["noord"], "some of noord's crossings happen after the kill");

            // Each collector's store: every acknowledged batch of its own sites, once; nothing of the other's.
            await Eventually.UntilAsync(
                () => devices.All(d => (SitesOfA.Contains(d.Site) ? a : b).Stored(d.Site, d.Device).Count == d.Acknowledged.Count),
                "every acknowledged batch in its owner's store", Patience, TimeSpan.FromMilliseconds(200));
            foreach (var device in devices)
            {
                var owner = SitesOfA.Contains(device.Site) ? a : b;
                Assert.Equal(device.Acknowledged.Order(), owner.Stored(device.Site, device.Device).Keys.Order());
            }

            Assert.Equal(SitesOfA, a.StoredSites());
            Assert.Equal(SitesOfB, b.StoredSites());
            await OwnSitesOnlyAsync(a, SitesOfA, SitesOfB);
            await OwnSitesOnlyAsync(b, SitesOfB, SitesOfA);

            // One victoria-metrics, all three sites: raw points (each acknowledged batch once) and the
            // region feed's live occupancy per site, from both collectors' sinks.
            using var prom = new PromClient(vm.Url);
            var expectedPoints = devices.Where(d => d.Device == "pi-entrance").ToDictionary(d => d.Site, d => (double)d.Acknowledged.Count, StringComparer.Ordinal);
            var expectedPeople = Entering.ToDictionary(e => e.Key, e => (double)e.Value, StringComparer.Ordinal);
            Dictionary<string, double> points = [], people = [];
            var waitVm = Eventually.UntilAsync(
                async () =>
                {
                    await prom.FlushAsync();
                    var at = DateTimeOffset.UtcNow;
                    points = BySite(await prom.InstantAsync("sum by (site) (count_over_time(energy_power_w[30m]))", at));
                    people = BySite(await prom.InstantAsync("max by (site) (last_over_time(region_building_people[3m]))", at));
                    return Same(points, expectedPoints) && Same(people, expectedPeople);
                },
                "every site's raw points and occupancy in VictoriaMetrics (a region minute sample comes at the next minute)",
                TimeSpan.FromSeconds(150),
                TimeSpan.FromMilliseconds(500));
            try
            {
                await waitVm;
            }
            catch (TimeoutException e)
            {
                throw new TimeoutException($"{e.Message}: points {Show(points)} (expected {Show(expectedPoints)}); building people {Show(people)} (expected {Show(expectedPeople)})");
            }

            output.WriteLine($"VictoriaMetrics: points {Show(points)}; building people {Show(people)}");

            foreach (var device in devices.Where(d => d.Device == "pi-climate"))
            {
                var samples = await ExportAsync(vm, $"{{__name__=\"climate_temperature_c\",site=\"{device.Site}\",device=\"pi-climate\"}}");
                Assert.Equal(device.Acknowledged.Count, samples.Select(s => s.Ts).Distinct().Count());
            }

            // The region's minute figures: one sample per minute and site (a restart never makes a second).
            foreach (var site in allSites)
            {
                var minutes = await ExportAsync(vm, $"{{__name__=\"region_building_people\",site=\"{site}\"}}");
                Assert.NotEmpty(minutes);
                Assert.All(minutes, m => Assert.Equal(0, m.Ts % 60_000));
                Assert.Equal(minutes.Count, minutes.Select(m => m.Ts).Distinct().Count());
            }

            await NoPseudonymAsync(vm, devices.SelectMany(d => d.Pseudonyms).ToList());
        }
        catch (Exception e) when (e is TimeoutException or Xunit.Sdk.XunitException)
        {
            output.WriteLine($"{a.Tail()}\n{b.Tail()}\n--- mosquitto ---\n{mosquitto.Output}\n--- victoria-metrics ---\n{vm.Output}");
            throw;
        }
        finally
        {
            await stop.CancelAsync();
            await Task.WhenAll(publishing.Select(p => p.ContinueWith(_ => { }, TaskScheduler.Default)));
            foreach (var device in devices)
            {
                await device.DisposeAsync();
            }
        }
    }

    private static string Show(Dictionary<string, double> values) => string.Join(" ", values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}"));

    private static bool Same(Dictionary<string, double> actual, Dictionary<string, double> expected) =>
        actual.Count == expected.Count && expected.All(e => actual.TryGetValue(e.Key, out var v) && v == e.Value);

    private static Dictionary<string, double> BySite(IReadOnlyList<JsonElement> result) =>
        result.ToDictionary(
            r => r.GetProperty("metric").GetProperty("site").GetString()!,
            r => double.Parse(r.GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture),
            StringComparer.Ordinal);

    /// <summary>The site's file: the default site with another id (same rooms, doors, devices; same time zone).</summary>
    private static string WriteSiteFiles(string folder, string[] sites)
    {
        Directory.CreateDirectory(folder);
        var template = File.ReadAllText(Path.Combine(SettingsFiles.RepositoryRoot(), "collector", "Site", "default-site.json"));
        foreach (var site in sites)
        {
            var json = JsonNode.Parse(template)!;
            json["site"] = site;
            File.WriteAllText(Path.Combine(folder, site + ".json"), json.ToJsonString());
        }

        return folder;
    }

    private static async Task MakePasswordFileAsync(string file, Dictionary<string, string> passwords)
    {
        string[] candidates = ["/usr/bin/mosquitto_passwd", "/usr/sbin/mosquitto_passwd", "/usr/local/bin/mosquitto_passwd"];
        var tool = candidates.FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("mosquitto_passwd is not installed (it comes with Debian's mosquitto package)");
        var first = true;
        foreach (var (user, password) in passwords)
        {
            string[] args = first ? ["-c", "-b", file, user, password] : ["-b", file, user, password];
            first = false;
            var (code, stdout, stderr) = await ChildProcess.RunToEndAsync(tool, args, TimeSpan.FromSeconds(30));
            Assert.True(code == 0, $"mosquitto_passwd failed: {stdout}{stderr}");
        }
    }

    private static async Task RefusedAcrossSitesAsync(int port, string password)
    {
        using var client = new MqttClientFactory().CreateMqttClient();
        var connected = await client.ConnectAsync(new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithProtocolVersion(MqttProtocolVersion.V500)
            .WithClientId("ntp-noord-pi-entrance-probe")
            .WithCredentials("pi-entrance@noord", password)
            .WithTimeout(TimeSpan.FromSeconds(30))
            .Build());
        Assert.Equal(MqttClientConnectResultCode.Success, connected.ResultCode);
        var result = await client.PublishAsync(new MqttApplicationMessageBuilder()
            .WithTopic("ntp/v1/zuid/pi-entrance/readings")
            .WithPayload("{}")
            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
            .Build());
        Assert.Equal(MqttClientPublishReasonCode.NotAuthorized, result.ReasonCode);
        await client.DisconnectAsync();
    }

    private static async Task OwnSitesOnlyAsync(CollectorProcess collector, string[] own, string[] others)
    {
        var sites = await collector.Http.GetFromJsonAsync<JsonElement>("/api/v1/sites");
        Assert.Equal(own, sites.EnumerateArray().Select(s => s.GetProperty("site").GetString()));
        foreach (var site in own)
        {
            var occupancy = await collector.Http.GetFromJsonAsync<JsonElement>($"/api/v1/occupancy?site={site}");
            Assert.Equal(Entering[site], occupancy.GetProperty("building").GetInt64());
            var devices = await collector.Http.GetFromJsonAsync<JsonElement>($"/api/v1/devices?site={site}");
            Assert.Contains(devices.EnumerateArray(), d => d.GetProperty("device").GetString() == "pi-entrance" && d.TryGetProperty("last_seen", out var seen) && seen.ValueKind != JsonValueKind.Null);
        }

        foreach (var site in others)
        {
            Assert.Equal(HttpStatusCode.NotFound, (await collector.Http.GetAsync($"/api/v1/occupancy?site={site}")).StatusCode);
        }
    }

    private async Task NoPseudonymAsync(VictoriaMetricsProcess vm, List<string> pseudonyms)
    {
        Assert.NotEmpty(pseudonyms);
        using var http = new HttpClient { BaseAddress = new Uri(vm.Url), Timeout = TimeSpan.FromSeconds(30) };
        var seen = new List<string>();
        using (var labels = JsonDocument.Parse(await http.GetStringAsync("/api/v1/labels?start=0")))
        {
            foreach (var label in labels.RootElement.GetProperty("data").EnumerateArray().Select(l => l.GetString()!))
            {
                seen.Add(label);
                using var values = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/label/{Uri.EscapeDataString(label)}/values?start=0"));
                seen.AddRange(values.RootElement.GetProperty("data").EnumerateArray().Select(v => v.GetString()!));
            }
        }

        var series = await http.GetStringAsync($"/api/v1/series?start=0&match[]={Uri.EscapeDataString("{__name__=~\".+\"}")}");
        var text = string.Join('\n', seen) + series;
        Assert.Contains("badge_scans", text, StringComparison.Ordinal);
        Assert.All(pseudonyms, p => Assert.DoesNotContain(p, text, StringComparison.Ordinal));
        Assert.DoesNotContain(seen, l => l.Equals("visitor", StringComparison.OrdinalIgnoreCase));
        output.WriteLine($"{seen.Count} label names and values, {series.Length} bytes of series: none of {pseudonyms.Count} pseudonyms");
    }

    private static async Task<List<(long Ts, double Value)>> ExportAsync(VictoriaMetricsProcess vm, string selector)
    {
        using var http = new HttpClient { BaseAddress = new Uri(vm.Url), Timeout = TimeSpan.FromSeconds(30) };
        var body = await http.GetStringAsync($"/api/v1/export?match[]={Uri.EscapeDataString(selector)}");
        var samples = new List<(long, double)>();
        foreach (var line in body.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            var values = json.RootElement.GetProperty("values").EnumerateArray().Select(v => v.GetDouble());
            var times = json.RootElement.GetProperty("timestamps").EnumerateArray().Select(t => t.GetInt64());
            samples.AddRange(times.Zip(values));
        }

        return samples;
    }

    /// <summary>
    /// A collector process on the outside mosquitto with its own data folder, owning the sites of one
    /// folder, its sink and region feed pointed at victoria-metrics; kill -9 and start again on the same folder.
    /// </summary>
    private sealed class CollectorProcess(string name, string data, string sites, int brokerPort, string vmUrl, string brokerPassword) : IAsyncDisposable
    {
        private readonly int _httpPort = FreePort.Next();
        private readonly List<string> _history = [];
        private ChildProcess? _process;

        public HttpClient Http { get; } = new() { BaseAddress = null, Timeout = TimeSpan.FromSeconds(30) };

        public async Task StartAsync()
        {
            Http.BaseAddress ??= new Uri($"http://127.0.0.1:{_httpPort}");
            _process = ChildProcess.StartDotnet(name, "collector.dll", [
                "--urls", $"http://127.0.0.1:{_httpPort}",
                $"--Collector:DataDirectory={data}",
                $"--Collector:Sites:0={sites}",
                "--Collector:Broker:Embedded=false",
                "--Collector:Broker:Host=127.0.0.1",
                $"--Collector:Broker:Port={brokerPort}",
                $"--Collector:Broker:Username={CollectorUser}",
                $"--Collector:Broker:Password={brokerPassword}",
                $"--Collector:Ingest:ClientId={name}",
                "--Collector:Influx:Enabled=true",
                // The single node's /influx prefix stands in for vminsert's /insert/<accountID>/influx.
                $"--Collector:Influx:Url={vmUrl}/influx",
                "--Collector:Influx:RetryMinDelay=00:00:00.100",
                "--Collector:Influx:RetryMaxDelay=00:00:01",
                "--Collector:Region:Enabled=true",
                "--Collector:Region:Interval=00:00:01",
                "--Logging:LogLevel:Default=Warning",
                "--Logging:LogLevel:NewTechPark=Information",
            ]);
            await Eventually.UntilAsync(
                async () =>
                {
                    if (_process.HasExited)
                    {
                        throw new InvalidOperationException($"{name} exited\n{_process.Tail()}");
                    }

                    try
                    {
                        return (await Http.GetAsync("/healthz")).IsSuccessStatusCode;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                    catch (TaskCanceledException)
                    {
                        return false;
                    }
                },
                $"{name} healthy",
                Patience,
                TimeSpan.FromMilliseconds(100));
        }

        /// <summary>kill -9.</summary>
        public async Task KillAsync()
        {
            var process = _process ?? throw new InvalidOperationException($"{name} does not run");
            await process.KillAsync();
            _history.Add(process.Output);
            await process.DisposeAsync();
            _process = null;
        }

        /// <summary>(seq → readings) of the device's stored batches, from the collector's SQLite file.</summary>
        public Dictionary<ulong, int> Stored(string site, string device)
        {
            try
            {
                return Query(
                    "SELECT seq, readings FROM batches WHERE site = $site AND device = $device",
                    reader => (unchecked((ulong)reader.GetInt64(0)), reader.GetInt32(1)),
                    ("$site", site),
                    ("$device", device)).ToDictionary(r => r.Item1, r => r.Item2);
            }
            catch (SqliteException)
            {
                // not created yet, or busy in a checkpoint: the caller polls
                return [];
            }
        }

        public string[] StoredSites() =>
            [.. Query("SELECT DISTINCT site FROM batches ORDER BY site", reader => reader.GetString(0))];

        public string Tail() => $"--- {name} ---\n{string.Join('\n', _history)}\n{_process?.Tail(80)}";

        public async ValueTask DisposeAsync()
        {
            Http.Dispose();
            if (_process is not null)
            {
                await _process.DisposeAsync();
            }
        }

        private List<T> Query<T>(string sql, Func<SqliteDataReader, T> row, params (string Name, string Value)[] parameters)
        {
            var connectionString = new SqliteConnectionStringBuilder
            {
                DataSource = Path.Combine(data, "collector.db"),
                Mode = SqliteOpenMode.ReadOnly,
                Pooling = false,
            }.ToString();
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (parameter, value) in parameters)
            {
                command.Parameters.AddWithValue(parameter, value);
            }

            using var reader = command.ExecuteReader();
            var rows = new List<T>();
            while (reader.Read())
            {
                rows.Add(row(reader));
            }

            return rows;
        }
    }

    /// <summary>
    /// One device of one site on the outside broker, logged in as <c>&lt;device&gt;@&lt;site&gt;</c>:
    /// publishes a contract batch every 100 ms with QoS 1 and waits for each PUBACK (as the agent's
    /// outbox does). The entrance sends the grid meter, a badge scan every fifth batch and a crossing
    /// in at the main door every fourth until the site's <see cref="Entering"/>; the climate device a climate reading.
    /// </summary>
    private sealed class SiteDevice(string site, string device, string password) : IAsyncDisposable
    {
        private readonly IMqttClient _client = new MqttClientFactory().CreateMqttClient();
        private readonly ConcurrentQueue<ulong> _acknowledged = new();
        private readonly ConcurrentQueue<string> _pseudonyms = new();

        public string Site => site;

        public string Device => device;

        public IReadOnlyCollection<ulong> Acknowledged => _acknowledged;

        public IReadOnlyCollection<string> Pseudonyms => _pseudonyms;

        public async Task ConnectAsync(int port)
        {
            var result = await _client.ConnectAsync(new MqttClientOptionsBuilder()
                .WithTcpServer("127.0.0.1", port)
                .WithProtocolVersion(MqttProtocolVersion.V500)
                .WithClientId($"ntp-{site}-{device}")
                .WithCredentials($"{device}@{site}", password)
                .WithTimeout(TimeSpan.FromSeconds(30))
                .Build());
            Assert.True(result.ResultCode == MqttClientConnectResultCode.Success, $"{device}@{site} could not connect: {result.ResultCode} {result.ReasonString}");
        }

        public async Task PublishUntilAsync(CancellationToken stop)
        {
            ulong seq = 0;
            long crossings = 0;
            long lastMs = 0;
            using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
            while (!stop.IsCancellationRequested)
            {
                seq++;
                // Each batch a millisecond of its own: a busy broker can acknowledge two publishes within
                // one, and a second reading of a sensor at the same time is one point (the first value stays).
                var ms = Math.Max(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), lastMs + 1);
                lastMs = ms;
                var now = DateTimeOffset.FromUnixTimeMilliseconds(ms).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
                var readings = new List<string>();
                if (device == "pi-entrance")
                {
                    readings.Add(string.Create(CultureInfo.InvariantCulture, $"{{\"ts\":\"{now}\",\"sensor\":\"meter-grid\",\"kind\":\"energy\",\"values\":{{\"power_w\":{1000 + (seq % 7)},\"energy_wh_total\":{seq}}}}}"));
                    if (seq % 4 == 0 && crossings < Entering[site])
                    {
                        crossings++;
                        readings.Add(string.Create(CultureInfo.InvariantCulture, $"{{\"ts\":\"{now}\",\"sensor\":\"door-main\",\"kind\":\"door\",\"values\":{{\"in\":1,\"out\":0,\"in_total\":{crossings},\"out_total\":0}}}}"));
                    }

                    if (seq % 5 == 0)
                    {
                        var visitor = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(site), Encoding.UTF8.GetBytes($"card-{seq}")))
                            .Replace('+', '-').Replace('/', '_')[..22];
                        _pseudonyms.Enqueue(visitor);
                        readings.Add($"{{\"ts\":\"{now}\",\"sensor\":\"badge-entrance\",\"kind\":\"badge\",\"visitor\":\"{visitor}\"}}");
                    }
                }
                else
                {
                    readings.Add(string.Create(CultureInfo.InvariantCulture, $"{{\"ts\":\"{now}\",\"sensor\":\"climate-cer\",\"kind\":\"climate\",\"values\":{{\"temperature_c\":{20 + (seq % 5)}.5,\"co2_ppm\":{500 + seq}}}}}"));
                }

                var payload = string.Create(CultureInfo.InvariantCulture, $"{{\"v\":1,\"seq\":{seq},\"sent\":\"{now}\",\"readings\":[{string.Join(',', readings)}]}}");
                var result = await _client.PublishAsync(
                    new MqttApplicationMessageBuilder()
                        .WithTopic($"ntp/v1/{site}/{device}/readings")
                        .WithPayload(payload)
                        .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce)
                        .Build(),
                    CancellationToken.None);
                Assert.True(result.IsSuccess, $"{device}@{site} seq {seq}: PUBACK {result.ReasonCode}");
                _acknowledged.Enqueue(seq);
                try
                {
                    await pace.WaitForNextTickAsync(stop);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            if (_client.IsConnected)
            {
                await _client.DisconnectAsync();
            }

            _client.Dispose();
        }
    }
}
