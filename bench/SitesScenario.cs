using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.Data.Sqlite;
using MQTTnet;
using MQTTnet.Protocol;
using NewTechPark.Edge.Collector.Broker.Security;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Bench;

/// <summary>
/// The <c>sites</c> scenario's settings, from the environment: <c>NTP_BENCH_SITES</c> the series of
/// site counts (increasing, comma-separated, 1-1000 each, default 1,10,50,100,200,400,700,1000),
/// <c>NTP_BENCH_SITES_WARMUP</c> and <c>NTP_BENCH_SITES_STEADY</c> seconds per count (5-600,
/// defaults 20 and 60), <c>NTP_BENCH_SITES_RECORD</c> seconds of the default site recorded
/// (10-600, default 60), <c>NTP_BENCH_SITES_BUDGET</c> minutes for the whole series (1-600,
/// default 30: no new count starts past it).
/// </summary>
public sealed record SitesSettings(IReadOnlyList<int> Counts, TimeSpan Warmup, TimeSpan Steady, TimeSpan Record, TimeSpan Budget)
{
    /// <summary>The collector owns at most this many sites (SiteCatalogLoader's limit).</summary>
    public const int MaxSites = 1000;

    public static SitesSettings FromEnvironment() => new(
        ParseCounts(Environment.GetEnvironmentVariable("NTP_BENCH_SITES")),
        TimeSpan.FromSeconds(Read("NTP_BENCH_SITES_WARMUP", 20, 5, 600)),
        TimeSpan.FromSeconds(Read("NTP_BENCH_SITES_STEADY", 60, 5, 600)),
        TimeSpan.FromSeconds(Read("NTP_BENCH_SITES_RECORD", 60, 10, 600)),
        TimeSpan.FromMinutes(Read("NTP_BENCH_SITES_BUDGET", 30, 1, 600)));

    private static List<int> ParseCounts(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return [1, 10, 50, 100, 200, 400, 700, 1000];
        }

        var counts = new List<int>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n is < 1 or > MaxSites || (counts.Count > 0 && n <= counts[^1]))
            {
                throw new BenchSettingException($"NTP_BENCH_SITES must be increasing whole numbers from 1 to {MaxSites}, comma-separated (1,10,50), not '{text}'");
            }

            counts.Add(n);
        }

        return counts.Count <= 50 ? counts : throw new BenchSettingException($"NTP_BENCH_SITES lists at most 50 counts, not {counts.Count}");
    }

    private static int Read(string name, int fallback, int min, int max)
    {
        var text = Environment.GetEnvironmentVariable(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value
            : throw new BenchSettingException($"{name} must be a whole number from {min} to {max}, not '{text}'");
    }
}

/// <summary>
/// Issue 18: how many sites one collector (embedded broker, SQLite) takes on this machine. The
/// default site's Pis are recorded live (<see cref="SitesRecording"/>), then for N sites in an
/// increasing series the real collector program (<c>dotnet collector.dll</c>, <c>Collector:Sites</c>
/// = a folder of N copies of the default site file with their own ids) is fed by every device of
/// every site, each its own MQTT connection logged in as <c>&lt;device&gt;@&lt;site&gt;</c>,
/// replaying the recording at its real timing (each site at its own phase, sequences renumbered,
/// timestamps shifted to now, counters continued across loops). After a warm-up, for a steady
/// window: messages and readings a second stored, the collector's CPU share of the machine and
/// peak resident memory (/proc of its process), publish-to-PUBACK latency (the PUBACK leaves
/// after the commit), commit time (from /metrics), connections, refusals and drops, store growth
/// per site per day, and the load generator's own CPU share (this process). A count passes when
/// the collector stays under 50 % of the machine, p99 PUBACK latency under 1 s, memory under
/// 1 GiB, and nothing is refused or dropped; the series stops at the first count that fails.
/// </summary>
public static class SitesScenario
{
    private const double MaxCpuShare = 0.50;
    private const double MaxP99Seconds = 1.0;
    private const double MaxRssBytes = 1024.0 * 1024 * 1024;

    public sealed record Row(
        int Sites, int Connections, double MessagesPerSecond, double ReadingsPerSecond, double OfferedMessagesPerSecond, double CpuShare, double PeakRssMiB,
        double P50Ms, double P99Ms, double CommitMeanMs, double CommitP99Ms, long Refused, double StoreMiBPerSiteDay, double GeneratorCpuShare, string Failure)
    {
        public bool Passed => Failure.Length == 0;
    }

    public static async Task<string> RunAsync(SitesSettings settings)
    {
        var budget = Stopwatch.StartNew();
        Console.WriteLine($"  recording the default site's simulated Pis for {settings.Record.TotalSeconds:F0} s (the demo's agents and scenario, DC benches every 100 ms)");
        var recording = await SitesRecording.RecordAsync(settings.Record);
        var replay = new Replay(recording);
        Console.WriteLine($"  one site: {recording.Devices.Count} devices, {replay.MessagesPerSecond:F1} messages/s ({replay.StatusPerSecond:F2} of them status), " +
            $"{replay.ReadingsPerSecond:F1} readings/s, {replay.BytesPerSecond / 1024:F1} KiB/s MQTT payload and topic");
        Console.WriteLine($"  to the region (line protocol, raw readings only): {replay.PointsPerSecond:F1} points/s, {replay.LineProtocolBytesPerSecond * 86400 / 1048576:F0} MiB/day uncompressed");
        foreach (var (kind, rate) in replay.ReadingsPerSecondByKind)
        {
            Console.WriteLine($"    {kind}: {rate:F2} readings/s");
        }

        var rows = new List<Row>();
        foreach (var n in settings.Counts)
        {
            if (budget.Elapsed > settings.Budget)
            {
                Console.WriteLine($"  time budget of {settings.Budget.TotalMinutes:F0} min spent: {n} sites and up not run");
                break;
            }

            var row = await RunCountAsync(n, recording, replay, settings);
            rows.Add(row);
            Console.WriteLine($"  {n,4} sites: {row.Connections:N0} connections, {row.MessagesPerSecond:N0} msg/s ({row.OfferedMessagesPerSecond:N0} offered), {row.ReadingsPerSecond:N0} readings/s, " +
                $"collector CPU {row.CpuShare:P1} of the machine, peak {row.PeakRssMiB:F0} MiB, PUBACK p50 {row.P50Ms:F1} ms p99 {row.P99Ms:F1} ms, " +
                $"commit mean {row.CommitMeanMs:F1} ms p99 ≤{row.CommitP99Ms:F0} ms, refused/dropped {row.Refused}, store {row.StoreMiBPerSiteDay:F1} MiB/site/day, " +
                $"load generator CPU {row.GeneratorCpuShare:P1}{(row.Passed ? string.Empty : $"  FAILED: {row.Failure}")}");
            if (!row.Passed)
            {
                break;
            }
        }

        Console.WriteLine();
        Console.WriteLine("| sites | connections | messages/s | readings/s | collector CPU (of 2 cores) | peak RSS MiB | PUBACK p50 ms | PUBACK p99 ms | commit mean ms | refused/dropped | store MiB/site/day | generator CPU | passes |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var r in rows)
        {
            Console.WriteLine($"| {r.Sites} | {r.Connections:N0} | {r.MessagesPerSecond:N0} | {r.ReadingsPerSecond:N0} | {r.CpuShare:P1} | {r.PeakRssMiB:F0} | {r.P50Ms:F1} | {r.P99Ms:F1} | {r.CommitMeanMs:F1} | {r.Refused} | {r.StoreMiBPerSiteDay:F1} | {r.GeneratorCpuShare:P1} | {(r.Passed ? "yes" : "no: " + r.Failure)} |");
        }

        var best = rows.Where(r => r.Passed).Select(r => r.Sites).DefaultIfEmpty(0).Max();
        var stoppedBy = rows.LastOrDefault(r => !r.Passed) is { } failed ? $"{failed.Sites} sites failed ({failed.Failure})" : "no count failed (limit not reached)";
        return $"sites: {best} sites per collector on {Environment.ProcessorCount} cores (CPU < 50 %, p99 PUBACK < 1 s, < 1 GiB, nothing refused); {stoppedBy}; " +
            $"one site = {recording.Devices.Count} devices, {replay.MessagesPerSecond:F1} msg/s, {replay.ReadingsPerSecond:F1} readings/s";
    }

    private static async Task<Row> RunCountAsync(int n, SitesRecording recording, Replay replay, SitesSettings settings)
    {
        using var folder = new TempDirectory("ntp-bench-sites-");
        var sitesFolder = Path.Combine(folder.Path, "sites");
        var data = Path.Combine(folder.Path, "data");
        Directory.CreateDirectory(sitesFolder);
        Directory.CreateDirectory(data);
        var siteText = await File.ReadAllTextAsync(Path.Combine(AppContext.BaseDirectory, "Site", "default-site.json"));
        var sites = Enumerable.Range(1, n).Select(i => $"bench-site-{i:D4}").ToList();
        foreach (var site in sites)
        {
            var node = JsonNode.Parse(siteText)!.AsObject();
            node["site"] = site;
            await File.WriteAllTextAsync(Path.Combine(sitesFolder, site + ".json"), node.ToJsonString());
        }

        var devices = recording.Devices;
        var logins = sites.SelectMany(s => devices.Select(d => $"{d}@{s}")).ToList();
        // One hash for every login: a bench password with few iterations (the same for all, so
        // starting 10,000 logins costs nothing); each login is still checked at CONNECT.
        var hash = MqttPasswordHash.Create(BenchUsers.PasswordOf("sites"), iterations: 10);
        var (httpPort, brokerPort) = (FreePort.Next(), FreePort.Next());
        var arguments = new List<string>
        {
            "--urls", $"http://127.0.0.1:{httpPort}",
            $"--Collector:DataDirectory={data}",
            $"--Collector:Sites:0={sitesFolder}",
            "--Collector:Broker:BindAddress=127.0.0.1",
            $"--Collector:Broker:Port={brokerPort}",
            "--Collector:Broker:Embedded=true",
            // Every bench device connects from 127.0.0.1; real Pis come from their own addresses.
            // The default MaxConnections (1,024) is itself a sizing limit: about 200 sites of 5 Pis.
            $"--Collector:Broker:Limits:MaxConnections={logins.Count + 64}",
            $"--Collector:Broker:Limits:MaxConnectionsPerAddress={logins.Count + 64}",
            "--Logging:LogLevel:Default=Warning",
        };
        // The logins in a Mosquitto-format password file (Collector:Broker:PasswordFile), as a site
        // provisioned with `collector devices add` has them: 20,000 would not fit on a command line.
        var passwordFile = Path.Combine(folder.Path, "passwords");
        await File.WriteAllLinesAsync(passwordFile, logins.Select(l => $"{l}:{hash}"));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(passwordFile, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        arguments.Add($"--Collector:Broker:PasswordFile={passwordFile}");
        await using var collector = ChildProcess.StartDotnet("collector", "collector.dll", arguments);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}"), Timeout = TimeSpan.FromSeconds(60) };
        await Eventually.UntilAsync(async () =>
        {
            if (collector.HasExited)
            {
                throw new InvalidOperationException($"the collector exited:\n{collector.Output}");
            }

            try
            {
                return (await http.GetAsync("/healthz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the collector answers /healthz", TimeSpan.FromMinutes(5), TimeSpan.FromMilliseconds(100));

        var clients = new IMqttClient[n][];
        using (var gate = new SemaphoreSlim(16))
        {
            await Task.WhenAll(sites.Select(async (site, s) =>
            {
                clients[s] = new IMqttClient[devices.Count];
                for (var d = 0; d < devices.Count; d++)
                {
                    await gate.WaitAsync();
                    try
                    {
                        clients[s][d] = await ConnectAsync(brokerPort, $"{devices[d]}@{site}");
                    }
                    finally
                    {
                        gate.Release();
                    }
                }
            }));
        }

        var generator = new Generator(replay, sites, clients, devices);
        using var stop = new CancellationTokenSource();
        var running = Task.Run(() => generator.RunAsync(stop.Token));
        try
        {
            await Task.Delay(settings.Warmup);
            var before = await SnapshotAsync(http, collector.Id, data);
            var generatorCpuBefore = Environment.CpuUsage.TotalTime;
            var watch = Stopwatch.StartNew();
            generator.Measuring = true;
            var publishedBefore = generator.Published;
            long peakRss = 0;
            while (watch.Elapsed < settings.Steady)
            {
                await Task.Delay(1000);
                peakRss = Math.Max(peakRss, StatusKb(collector.Id, "VmRSS") * 1024);
                if (collector.HasExited || running.IsFaulted)
                {
                    throw new InvalidOperationException($"the collector or the load generator stopped:\n{collector.Output}", running.Exception);
                }
            }

            generator.Measuring = false;
            var elapsed = watch.Elapsed.TotalSeconds;
            var published = generator.Published - publishedBefore;
            var generatorCpu = (Environment.CpuUsage.TotalTime - generatorCpuBefore).TotalSeconds;
            var after = await SnapshotAsync(http, collector.Id, data);
            peakRss = Math.Max(peakRss, StatusKb(collector.Id, "VmHWM") * 1024);
            await stop.CancelAsync();
            try
            {
                await running;
            }
            catch (OperationCanceledException)
            {
            }

            await generator.DrainAsync(TimeSpan.FromMinutes(2));

            var latencies = generator.Latencies();
            var refused = (long)(after.Refused - before.Refused) + generator.Failures;
            var cpuShare = (after.CpuTicks - before.CpuTicks) / 100.0 / elapsed / Environment.ProcessorCount; // USER_HZ = 100
            var commits = after.Commits - before.Commits;
            var row = new Row(
                n, n * devices.Count,
                (after.Stored - before.Stored) / elapsed,
                (after.Readings - before.Readings) / elapsed,
                published / elapsed,
                cpuShare,
                peakRss / 1048576.0,
                Percentile(latencies, 0.50) * 1000, Percentile(latencies, 0.99) * 1000,
                commits == 0 ? 0 : (after.CommitSeconds - before.CommitSeconds) / commits * 1000,
                Histograms.Quantile(before.Text, after.Text, "ntp_ingest_commit_seconds", 0.99) * 1000,
                refused,
                (after.StoreBytes - before.StoreBytes) / elapsed * 86400 / n / 1048576.0,
                generatorCpu / elapsed / Environment.ProcessorCount,
                string.Empty);
            var failures = new List<string>();
            if (row.CpuShare >= MaxCpuShare)
            {
                failures.Add($"CPU {row.CpuShare:P0}");
            }

            if (row.P99Ms >= MaxP99Seconds * 1000)
            {
                failures.Add($"p99 {row.P99Ms:F0} ms");
            }

            if (peakRss >= MaxRssBytes)
            {
                failures.Add($"{row.PeakRssMiB:F0} MiB");
            }

            if (refused > 0)
            {
                failures.Add($"{refused} refused or dropped: {after.Outcomes}");
            }

            if (generator.Backlog > 0)
            {
                failures.Add($"{generator.Backlog} publishes never acknowledged");
            }

            Console.WriteLine($"    {n} sites: ingest outcomes in the window: {Outcomes(before.Text, after.Text)}");
            return row with { Failure = string.Join(", ", failures) };
        }
        finally
        {
            await stop.CancelAsync();
            foreach (var client in clients.Where(c => c is not null).SelectMany(c => c).Where(c => c is not null))
            {
                client.Dispose();
            }

            await collector.StopAsync(TimeSpan.FromMinutes(2));
        }
    }

    private static async Task<IMqttClient> ConnectAsync(int port, string login)
    {
        var client = new MqttClientFactory().CreateMqttClient();
        var options = new MqttClientOptionsBuilder()
            .WithTcpServer("127.0.0.1", port)
            .WithClientId(login)
            .WithProtocolVersion(MQTTnet.Formatter.MqttProtocolVersion.V500)
            .WithCleanStart(true)
            .WithKeepAlivePeriod(TimeSpan.FromSeconds(60))
            .WithTimeout(TimeSpan.FromSeconds(60))
            .WithCredentials(login, BenchUsers.PasswordOf("sites"))
            .Build();
        var result = await client.ConnectAsync(options);
        return result.ResultCode == MqttClientConnectResultCode.Success
            ? client
            : throw new InvalidOperationException($"the collector refused {login}: {result.ResultCode} {result.ReasonString}");
    }

    private sealed record Snapshot(string Text, double Stored, double Readings, double Refused, double CommitSeconds, double Commits, long CpuTicks, long StoreBytes, string Outcomes);

    private static async Task<Snapshot> SnapshotAsync(HttpClient http, int pid, string data)
    {
        var text = await http.GetStringAsync("/metrics");
        var refused = Prometheus.Sum(text, "ntp_ingest_rejected_total") + Prometheus.Sum(text, "ntp_ingest_dropped_total")
            + Prometheus.Sum(text, "ntp_broker_refused_total") + Prometheus.Sum(text, "ntp_broker_dropped_messages_total")
            + Prometheus.Sum(text, "ntp_ingest_commit_failures_total");
        return new Snapshot(
            text,
            Prometheus.Sum(text, "ntp_ingest_messages_total"),
            Prometheus.Sum(text, "ntp_ingest_readings_total"),
            refused,
            Prometheus.Sum(text, "ntp_ingest_commit_seconds_sum"),
            Prometheus.Sum(text, "ntp_ingest_commit_seconds_count"),
            CpuTicks(pid),
            StoreBytes(data),
            string.Join(" ", text.Split('\n').Where(l => l.StartsWith("ntp_ingest_messages_total{", StringComparison.Ordinal))));
    }

    /// <summary>The ingest's messages by outcome within the window (differences of ntp_ingest_messages_total).</summary>
    private static string Outcomes(string before, string after)
    {
        static Dictionary<string, double> Parse(string text) => text.Split('\n')
            .Where(l => l.StartsWith("ntp_ingest_messages_total{", StringComparison.Ordinal))
            .ToDictionary(l => l[..l.LastIndexOf(' ')], l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        var b = Parse(before);
        return string.Join(", ", Parse(after).Select(kv => $"{Regex.Match(kv.Key, "outcome=\"([^\"]*)\"").Groups[1].Value} {kv.Value - b.GetValueOrDefault(kv.Key):F0}"));
    }

    /// <summary>The store's used size (pages in use, WAL included: what a reader sees), read-only beside the running collector.</summary>
    private static long StoreBytes(string data)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(data, "collector.db")};Mode=ReadOnly;Pooling=False");
        connection.Open();
        long Pragma(string name)
        {
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA " + name;
            return (long)command.ExecuteScalar()!;
        }

        return (Pragma("page_count") - Pragma("freelist_count")) * Pragma("page_size");
    }

    private static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];

    private static long StatusKb(int pid, string field)
    {
        var line = File.ReadLines($"/proc/{pid}/status").First(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private static long CpuTicks(int pid)
    {
        // Fields after the ")" of the command name: utime is field 14, stime 15.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }

    /// <summary>The recording prepared for replay: per message its time, device and, for batches, readings relative to the recording's start.</summary>
    public sealed class Replay
    {
        public Replay(SitesRecording recording)
        {
            Recording = recording;
            Length = recording.Length;
            var seconds = recording.Length.TotalSeconds;
            MessagesPerSecond = recording.Messages.Count / seconds;
            StatusPerSecond = recording.Messages.Count(m => m.IsStatus) / seconds;
            ReadingsPerSecond = recording.Messages.Sum(m => m.Batch?.Readings.Count ?? 0) / seconds;
            BytesPerSecond = recording.Messages.Sum(m => m.Payload.Length + m.TopicBytes) / seconds;
            ReadingsPerSecondByKind = recording.Messages.Where(m => m.Batch is not null).SelectMany(m => m.Batch!.Readings)
                .GroupBy(r => r.Kind).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => (g.Key, g.Count() / seconds)).ToList();
            // What the durable line-protocol sink would send the region for these readings: one
            // line per reading with the site file's tags (the derived per-site figures come on top).
            var intake = new NewTechPark.Edge.Collector.Ingest.IngestIntake(TimeProvider.System);
            var tags = new NewTechPark.Edge.Collector.Sinks.SiteTags(recording.Site);
            var lines = new List<string>();
            foreach (var message in recording.Messages.Where(m => m.Batch is not null))
            {
                var item = intake.Read($"ntp/v1/{recording.Site.Site}/{message.Device}/readings", new System.Buffers.ReadOnlySequence<byte>(message.Payload), DateTimeOffset.UtcNow);
                if (item is NewTechPark.Edge.Collector.Storage.ReadingsItem readings)
                {
                    NewTechPark.Edge.Collector.Sinks.LineProtocol.Append(readings, lines, tags);
                }
            }

            PointsPerSecond = lines.Count / seconds;
            LineProtocolBytesPerSecond = lines.Sum(l => System.Text.Encoding.UTF8.GetByteCount(l) + 1) / seconds;

            // How far each counter moves over the recording: a replay's next loop continues from there.
            foreach (var reading in recording.Messages.Where(m => m.Batch is not null).SelectMany(m => m.Batch!.Readings))
            {
                foreach (var (name, value) in reading.Values ?? [])
                {
                    if (!name.EndsWith("_total", StringComparison.Ordinal))
                    {
                        continue;
                    }

                    var key = (reading.Sensor, name);
                    CounterSpan[key] = CounterSpan.TryGetValue(key, out var span) ? (Math.Min(span.First, value), Math.Max(span.Last, value)) : (value, value);
                }
            }
        }

        public SitesRecording Recording { get; }

        public TimeSpan Length { get; }

        public double MessagesPerSecond { get; }

        public double StatusPerSecond { get; }

        public double ReadingsPerSecond { get; }

        public double BytesPerSecond { get; }

        public double PointsPerSecond { get; }

        public double LineProtocolBytesPerSecond { get; }

        public IReadOnlyList<(string Kind, double Rate)> ReadingsPerSecondByKind { get; }

        public Dictionary<(string Sensor, string Name), (double First, double Last)> CounterSpan { get; } = [];

        /// <summary>The message's payload for one site's loop <paramref name="loop"/>: its seq, its timestamps moved by <paramref name="shift"/>, its counters continued.</summary>
        public byte[] Payload(RecordedMessage message, ulong seq, TimeSpan shift, int loop)
        {
            if (message.Batch is null)
            {
                var status = JsonNode.Parse(message.Payload)!.AsObject();
                if (status.ContainsKey("ts"))
                {
                    status["ts"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
                }

                return JsonSerializer.SerializeToUtf8Bytes(status);
            }

            var readings = new Reading[message.Batch.Readings.Count];
            for (var i = 0; i < readings.Length; i++)
            {
                var r = message.Batch.Readings[i];
                Dictionary<string, double>? values = r.Values;
                if (loop > 0 && values is not null && values.Keys.Any(k => k.EndsWith("_total", StringComparison.Ordinal)))
                {
                    values = new Dictionary<string, double>(values);
                    foreach (var name in r.Values!.Keys.Where(k => k.EndsWith("_total", StringComparison.Ordinal)))
                    {
                        var span = CounterSpan[(r.Sensor, name)];
                        values[name] += loop * (span.Last - span.First);
                    }
                }

                readings[i] = r with { Ts = r.Ts + shift, Values = values };
            }

            return Mqtt.Serialize(message.Batch with { Seq = seq, Sent = DateTimeOffset.UtcNow, Readings = readings });
        }
    }

    /// <summary>
    /// Replays the recording for every site from this process: one loop wakes every 10 ms and
    /// publishes what each site's timeline has reached (each site started at its own phase, so the
    /// sites do not burst together), without waiting for the PUBACKs, which are timed as they come.
    /// </summary>
    private sealed class Generator(Replay replay, IReadOnlyList<string> sites, IMqttClient[][] clients, IReadOnlyList<string> devices)
    {
        private readonly List<double> _latencies = [];
        private readonly Dictionary<string, int> _deviceIndex = devices.Select((d, i) => (d, i)).ToDictionary(x => x.d, x => x.i, StringComparer.Ordinal);
        private long _published;
        private long _failures;
        private long _backlog;

        public volatile bool Measuring;

        public long Published => Interlocked.Read(ref _published);

        public long Failures => Interlocked.Read(ref _failures);

        public long Backlog => Interlocked.Read(ref _backlog);

        public double[] Latencies()
        {
            lock (_latencies)
            {
                var copy = _latencies.ToArray();
                Array.Sort(copy);
                return copy;
            }
        }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            var messages = replay.Recording.Messages;
            var length = replay.Length;
            var start = DateTimeOffset.UtcNow;
            var watch = Stopwatch.StartNew();
            var n = sites.Count;
            var phase = new TimeSpan[n];
            var loop = new int[n];
            var next = new int[n];
            var seq = new ulong[n, devices.Count];
            for (var s = 0; s < n; s++)
            {
                phase[s] = length * s / n;
                next[s] = messages.TakeWhile(m => m.At < phase[s]).Count();
                for (var d = 0; d < devices.Count; d++)
                {
                    seq[s, d] = 1;
                }
            }

            using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false))
            {
                var elapsed = watch.Elapsed;
                for (var s = 0; s < n; s++)
                {
                    // Site s plays the recording from phase[s] on: its local time is elapsed + phase.
                    var local = elapsed + phase[s];
                    while (true)
                    {
                        if (next[s] == messages.Count)
                        {
                            next[s] = 0;
                            loop[s]++;
                        }

                        var message = messages[next[s]];
                        var due = (length * loop[s]) + message.At;
                        if (due > local)
                        {
                            break;
                        }

                        next[s]++;
                        var d = _deviceIndex[message.Device];
                        // Wall time of this message in the replay minus its time in the recording.
                        var shift = start - phase[s] + (length * loop[s]) - replay.Recording.StartedAt;
                        var payload = replay.Payload(message, message.IsStatus ? 0 : seq[s, d]++, shift, loop[s]);
                        var topic = $"ntp/v1/{sites[s]}/{message.Device}/{(message.IsStatus ? "status" : "readings")}";
                        _ = PublishAsync(clients[s][d], new MqttApplicationMessageBuilder().WithTopic(topic).WithPayload(payload)
                            .WithQualityOfServiceLevel(MqttQualityOfServiceLevel.AtLeastOnce).WithRetainFlag(message.Retain).Build());
                    }
                }
            }
        }

        /// <summary>Waits for every publish in flight to be acknowledged (or fail).</summary>
        public async Task DrainAsync(TimeSpan patience)
        {
            var watch = Stopwatch.StartNew();
            while (Backlog > 0 && watch.Elapsed < patience)
            {
                await Task.Delay(50);
            }
        }

        private async Task PublishAsync(IMqttClient client, MqttApplicationMessage message)
        {
            Interlocked.Increment(ref _backlog);
            Interlocked.Increment(ref _published);
            var measured = Measuring;
            var begin = Stopwatch.GetTimestamp();
            try
            {
                var result = await client.PublishAsync(message).ConfigureAwait(false);
                if (!result.IsSuccess)
                {
                    Interlocked.Increment(ref _failures);
                }
                else if (measured)
                {
                    var seconds = Stopwatch.GetElapsedTime(begin).TotalSeconds;
                    lock (_latencies)
                    {
                        _latencies.Add(seconds);
                    }
                }
            }
            catch (Exception)
            {
                Interlocked.Increment(ref _failures);
            }
            finally
            {
                Interlocked.Decrement(ref _backlog);
            }
        }
    }
}

/// <summary>Quantiles of a Prometheus histogram between two scrapes (the upper bound of the bucket that holds the quantile).</summary>
public static class Histograms
{
    public static double Quantile(string before, string after, string name, double q)
    {
        static SortedDictionary<double, double> Buckets(string text, string name)
        {
            var result = new SortedDictionary<double, double>();
            foreach (var line in text.Split('\n').Where(l => l.StartsWith(name + "_bucket{", StringComparison.Ordinal)))
            {
                var le = Regex.Match(line, "le=\"([^\"]*)\"").Groups[1].Value;
                var bound = le == "+Inf" ? double.PositiveInfinity : double.Parse(le, CultureInfo.InvariantCulture);
                result[bound] = result.GetValueOrDefault(bound) + double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }

            return result;
        }

        var b = Buckets(before, name);
        var a = Buckets(after, name);
        var total = a.Count == 0 ? 0 : a.Last().Value - b.GetValueOrDefault(a.Last().Key);
        if (total <= 0)
        {
            return 0;
        }

        foreach (var (bound, count) in a)
        {
            if (count - b.GetValueOrDefault(bound) >= q * total)
            {
                return bound;
            }
        }

        return double.PositiveInfinity;
    }
}
