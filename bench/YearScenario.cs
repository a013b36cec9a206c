using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using MQTTnet;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Bench;

/// <summary>A bench setting that is wrong: the program says which and exits with code 2.</summary>
public sealed class BenchSettingException(string message) : Exception(message);

/// <summary>
/// The year scenario's size, from the environment: <c>NTP_BENCH_YEAR_DAYS</c> (1-365, default
/// 365), <c>NTP_BENCH_YEAR_BATCH</c> readings per message (1-1000, default 50, the ingest target's
/// batch), <c>NTP_BENCH_YEAR_DC_HZ</c> DC bench readings a second while a group works in the
/// DC-Lab (0-10, default 1; the shipped agent samples 10 a second all the time, which would be
/// 1.26 billion readings a year). <c>NTP_BENCH_YEAR_STORE</c>, a folder: the loaded store is kept
/// there, and a later run that finds a store in it skips the load and times the queries again
/// (before/after pairs of query work on the same data, minutes instead of a load each).
/// </summary>
public sealed record YearSettings(int Days, int PerBatch, double DcHz, string? Store = null)
{
    public static YearSettings FromEnvironment() => new(
        Read("NTP_BENCH_YEAR_DAYS", 365, 1, 365),
        Read("NTP_BENCH_YEAR_BATCH", 50, 1, 1000),
        Read("NTP_BENCH_YEAR_DC_HZ", 1, 0, 10),
        Environment.GetEnvironmentVariable("NTP_BENCH_YEAR_STORE") is { Length: > 0 } store ? Path.GetFullPath(store) : null);

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
/// Issue 15's baseline: a simulated year of the default site (<see cref="YearSite"/>) published over
/// real MQTT, as the site's devices with their own logins, into the real collector program
/// (<c>dotnet collector.dll</c>, embedded broker, SQLite) as fast as it acknowledges (a PUBACK
/// leaves only after the commit), with the timestamps of the past year. Then: the store's bytes on
/// disk (database plus WAL after a checkpoint) per stored raw value; then a collector restart and,
/// cold (first call after the restart) and warm (median of five), every HTTP query that the
/// dashboard pages make when they load, plus the year-long queries of the issue.
/// </summary>
public static class YearScenario
{
    private const int Seed = 2026;
    private const int Window = 64; // publishes awaiting their PUBACK per device, as in the ingest scenario
    private const int WarmRuns = 5;
    private const double ColdTargetMs = 200;
    private const double WarmTargetMs = 50;
    private const double BytesPerValueTarget = 4;

    public static async Task<string> RunAsync(YearSettings settings)
    {
        using var root = settings.Store is null ? new TempDirectory("ntp-bench-year-") : null;
        var site = SiteLoader.Load(Path.Combine(AppContext.BaseDirectory, "Site", "default-site.json"));
        var data = Path.Combine(settings.Store ?? root!.Path, "collector");
        if (settings.Store is not null && File.Exists(Path.Combine(data, "collector.db")))
        {
            Console.WriteLine($"  kept store {data}: no load, the queries only");
            var kept = await QueryAsync(site, data);
            return $"year (kept store): queries {kept.Count(q => q.Met)}/{kept.Count} within target, slowest cold {kept.Max(q => q.ColdMs):F0} ms, slowest warm {kept.Max(q => q.WarmMs):F0} ms";
        }

        Directory.CreateDirectory(data);
        var to = DateTimeOffset.UtcNow.AddMinutes(-1);
        var from = to.AddDays(-settings.Days);
        Console.WriteLine($"  {site.Site}: {site.Devices.Count()} devices, {site.Doors.Count} doors, {site.Meters.Count} meters, {site.Sensors.Count} sensors; " +
            $"{settings.Days} days from {from:yyyy-MM-dd HH:mm} UTC, {settings.PerBatch} readings a message, DC benches {settings.DcHz}/s in DC-Lab sessions");

        var load = await LoadAsync(site, data, from, to, settings);
        Console.WriteLine($"  loaded {load.Readings:N0} readings ({load.Values:N0} values, {load.Messages:N0} messages) in {load.Elapsed.TotalSeconds:F0} s: " +
            $"{load.Readings / load.Elapsed.TotalSeconds:N0} readings/s, {load.Values / load.Elapsed.TotalSeconds:N0} values/s committed");
        // The collector's own Stopwatch around SqliteStore.Commit (ntp_ingest_commit_seconds): wall time, on the loaded machine.
        Console.WriteLine($"  SqliteStore.Commit: {load.CommitSeconds:F1} s in {load.Commits:N0} commits, {load.CommitSeconds * 1e6 / Math.Max(1, load.Readings):F2} µs per reading " +
            $"({load.CommitSeconds / load.Elapsed.TotalSeconds:P0} of the load's wall time)");
        Console.WriteLine(load.Rejected > 0
            ? $"  WARNING: the collector refused {load.Rejected:N0} messages ({load.RejectedRules}); the figures below miss them"
            : "  every message acknowledged after its commit; none refused (ntp_ingest_rejected_total 0)");

        var disk = Measure(data);
        Console.WriteLine($"  store after a checkpoint: {disk.Bytes / 1048576.0:N1} MiB (collector.db {disk.DbBytes:N0} B, WAL {disk.WalBytes:N0} B), " +
            $"{disk.RawValues:N0} raw values stored: {disk.BytesPerValue:F1} bytes per raw value (target <= {BytesPerValueTarget})");
        if (disk.RawValues != load.Values)
        {
            Console.WriteLine($"  WARNING: {load.Values:N0} values published, {disk.RawValues:N0} stored");
        }

        Console.WriteLine($"    rows beside the raw points: {string.Join(", ", disk.Tables.Select(t => $"{t.Table} {t.Rows:N0}"))}");

        var queries = await QueryAsync(site, data);
        var met = queries.Count(q => q.Met);
        var slowCold = queries.MaxBy(q => q.ColdMs)!;
        var slowWarm = queries.MaxBy(q => q.WarmMs)!;
        Console.WriteLine($"  targets: {BytesPerValueTarget} bytes per raw value: {(disk.BytesPerValue <= BytesPerValueTarget ? "met" : "MISSED")}; " +
            $"queries <= {ColdTargetMs} ms cold and <= {WarmTargetMs} ms warm: {met} of {queries.Count} met");
        return $"year: {settings.Days} days, {load.Readings / 1e6:F1} M readings at {load.Readings / load.Elapsed.TotalSeconds:N0}/s ({load.Elapsed.TotalSeconds:F0} s), " +
            $"{disk.BytesPerValue:F1} B per raw value, queries {met}/{queries.Count} within target, slowest cold {slowCold.ColdMs:F0} ms ({slowCold.Name}), slowest warm {slowWarm.WarmMs:F0} ms ({slowWarm.Name})" +
            (load.Rejected > 0 ? $", {load.Rejected} REFUSED" : string.Empty);
    }

    private sealed record LoadResult(long Readings, long Values, long Messages, TimeSpan Elapsed, long Rejected, string RejectedRules, double CommitSeconds, double Commits);

    private static async Task<LoadResult> LoadAsync(SiteModel site, string data, DateTimeOffset from, DateTimeOffset to, YearSettings settings)
    {
        await using var collector = await YearCollector.StartAsync(site, data);
        var year = new YearSite(site, Seed, settings.DcHz);
        var channels = year.Devices.ToDictionary(d => d, _ => Channel.CreateBounded<List<Reading>>(4), StringComparer.Ordinal);
        long readings = 0, values = 0, messages = 0;
        var watch = Stopwatch.StartNew();
        var publishers = year.Devices.Select(device => Task.Run(async () =>
        {
            using var client = await Mqtt.ConnectAsync(collector.BrokerPort, device, user: device);
            var publisher = new WindowedPublisher(client, Window);
            var topic = $"ntp/v1/{site.Site}/{device}/readings";
            ulong seq = 1;
            await foreach (var day in channels[device].Reader.ReadAllAsync())
            {
                foreach (var chunk in day.Chunk(settings.PerBatch))
                {
                    var payload = Mqtt.Serialize(new ReadingsBatch { Seq = seq++, Sent = DateTimeOffset.UtcNow, Readings = chunk });
                    await publisher.PublishAsync(Mqtt.Message(topic, payload));
                    Interlocked.Increment(ref messages);
                    Interlocked.Add(ref readings, chunk.Length);
                    Interlocked.Add(ref values, chunk.Sum(r => r.Values?.Count ?? 0));
                }
            }

            await publisher.DrainAsync();
            await client.DisconnectAsync();
        })).ToList();

        var last = watch.Elapsed;
        var first = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(from, year.TimeZone).DateTime);
        var end = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(to, year.TimeZone).DateTime);
        for (var date = first; date <= end; date = date.AddDays(1))
        {
            foreach (var (device, list) in year.Day(date, from, to))
            {
                await channels[device].Writer.WriteAsync(list);
            }

            if (watch.Elapsed - last > TimeSpan.FromSeconds(30))
            {
                last = watch.Elapsed;
                Console.WriteLine($"    {date:yyyy-MM-dd} generated, {Interlocked.Read(ref readings):N0} readings published so far ({watch.Elapsed.TotalSeconds:F0} s)");
            }

            if (publishers.FirstOrDefault(p => p.IsFaulted) is { } failed)
            {
                await failed;
            }
        }

        foreach (var channel in channels.Values)
        {
            channel.Writer.Complete();
        }

        await Task.WhenAll(publishers);
        var elapsed = watch.Elapsed;
        var metrics = await collector.MetricsAsync();
        var rejected = Prometheus.Sum(metrics, "ntp_ingest_rejected_total");
        var rules = string.Join(", ", metrics.Split('\n').Where(l => l.StartsWith("ntp_ingest_rejected_total{", StringComparison.Ordinal)).Select(l => l[(l.IndexOf('{') + 1)..]));
        await collector.StopAsync();
        return new LoadResult(readings, values, messages, elapsed, (long)rejected, rules,
            Prometheus.Sum(metrics, "ntp_ingest_commit_seconds_sum"), Prometheus.Sum(metrics, "ntp_ingest_commit_seconds_count"));
    }

    private sealed record DiskResult(long DbBytes, long WalBytes, long RawValues, IReadOnlyList<(string Table, long Rows)> Tables)
    {
        public long Bytes => DbBytes + WalBytes;

        public double BytesPerValue => Bytes / (double)Math.Max(1, RawValues);
    }

    /// <summary>The stopped collector's store: checkpointed, then its files measured and its raw points counted.</summary>
    private static DiskResult Measure(string data)
    {
        var path = Path.Combine(data, "collector.db");
        long rawValues;
        var tables = new List<(string, long)>();
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            command.ExecuteNonQuery();
            // Raw values stored: the points held by the blocks (one row of point_blocks holds up to 1,024).
            command.CommandText = "SELECT coalesce(sum(count), 0) FROM point_blocks";
            rawValues = (long)command.ExecuteScalar()!;
            foreach (var table in new[] { "point_blocks", "rollups", "batches", "badge_scans" })
            {
                // Row counts beside the raw points (the bundled SQLite has no dbstat for bytes per table).
                command.CommandText = $"SELECT count(*) FROM {table}";
                tables.Add((table, (long)command.ExecuteScalar()!));
            }
        }

        var wal = new FileInfo(path + "-wal");
        return new DiskResult(new FileInfo(path).Length, wal.Exists ? wal.Length : 0, rawValues, tables);
    }

    private sealed record QueryResult(string Page, string Name, double ColdMs, double WarmMs, long Bytes)
    {
        public bool Met => ColdMs <= ColdTargetMs && WarmMs <= WarmTargetMs;
    }

    /// <summary>A query as a page sends it; a page that sends one per room is one query of many URLs, timed by its slowest call.</summary>
    private sealed record PageQuery(string Page, string Name, IReadOnlyList<string> Urls);

    private static async Task<List<QueryResult>> QueryAsync(SiteModel site, string data)
    {
        var watch = Stopwatch.StartNew();
        await using var collector = await YearCollector.StartAsync(site, data);
        Console.WriteLine($"  collector restarted on the loaded store: healthy after {watch.Elapsed.TotalSeconds:F1} s (the OS page cache is not dropped: \"cold\" is the collector's, not the disk's)");
        var queries = PageQueries(site, DateTimeOffset.UtcNow, TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{collector.HttpPort}"), Timeout = TimeSpan.FromMinutes(5) };
        var cold = new List<(double Ms, long Bytes)>();
        foreach (var query in queries)
        {
            cold.Add(await TimeAsync(http, query));
        }

        var warm = queries.Select(_ => new List<double>()).ToList();
        for (var run = 0; run < WarmRuns; run++)
        {
            for (var i = 0; i < queries.Count; i++)
            {
                warm[i].Add((await TimeAsync(http, queries[i])).Ms);
            }
        }

        var results = queries.Select((q, i) => new QueryResult(q.Page, q.Name, cold[i].Ms, Median(warm[i]), cold[i].Bytes)).ToList();
        Console.WriteLine();
        Console.WriteLine($"| page | query | cold ms (first after restart) | warm ms (median of {WarmRuns}) | response bytes | target {ColdTargetMs:F0} / {WarmTargetMs:F0} ms |");
        Console.WriteLine("|---|---|---|---|---|---|");
        foreach (var r in results)
        {
            Console.WriteLine($"| {r.Page} | `{r.Name}` | {r.ColdMs:F1} | {r.WarmMs:F1} | {r.Bytes:N0} | {(r.Met ? "met" : "MISSED")} |");
        }

        Console.WriteLine();
        await collector.StopAsync();
        return results;
    }

    /// <summary>
    /// The calls each page of dashboards/web makes when it loads (same paths, parameters and
    /// windows as the scripts), then what the issue times over a whole year.
    /// </summary>
    private static List<PageQuery> PageQueries(SiteModel site, DateTimeOffset now, TimeZoneInfo zone)
    {
        static string Iso(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var local = TimeZoneInfo.ConvertTime(now, zone);
        DateTimeOffset Midnight(DateTime day) => new(day.Date, zone.GetUtcOffset(day.Date));
        var today = Midnight(local.DateTime);
        var yearAgo = now.AddDays(-365);
        var room = "technodiscovery";
        var one = (string page, string name, string url) => new PageQuery(page, name, [url]);
        var weekStart = local.Date.AddDays(-7 * 25);
        weekStart = weekStart.AddDays(-(((int)weekStart.DayOfWeek + 6) % 7));
        var heatmap = site.Rooms.Select(r => $"/api/v1/occupancy/history?room={r.Id}&bucket=hour&from={Iso(now.AddDays(-28))}&to={Iso(now)}").ToList();
        return
        [
            one("occupancy", "occupancy", "/api/v1/occupancy"),
            one("facility", "site", "/api/v1/site"),
            one("facility", "devices", "/api/v1/devices"),
            one("management", "visitors bucket=day, 30 days", $"/api/v1/visitors?bucket=day&from={Iso(Midnight(local.DateTime.AddDays(-29)))}&to={Iso(now)}"),
            new PageQuery("management", $"occupancy/history bucket=hour, 28 days, each of {heatmap.Count} rooms (slowest)", heatmap),
            one("management", "visitors bucket=week, 26 weeks", $"/api/v1/visitors?bucket=week&from={Iso(Midnight(weekStart))}&to={Iso(now)}"),
            one("management", "visitors bucket=month, 12 months", $"/api/v1/visitors?bucket=month&from={Iso(Midnight(new DateTime(local.Year, local.Month, 1).AddMonths(-11)))}&to={Iso(now)}"),
            one("management", "visitors bucket=year, 5 years", $"/api/v1/visitors?bucket=year&from={Iso(Midnight(new DateTime(local.Year - 4, 1, 1)))}&to={Iso(now)}"),
            one("dc-lab", "series dc-bench-1 power_w, 1 h, 1,000 points", $"/api/v1/series?sensor=dc-bench-1&field=power_w&from={Iso(now.AddHours(-1))}&to={Iso(now)}&points=1000"),
            one("dc-lab", "series dc-bench-1 power_w, 7 d, 1,000 points", $"/api/v1/series?sensor=dc-bench-1&field=power_w&from={Iso(now.AddDays(-7))}&to={Iso(now)}&points=1000"),
            one("kiosk", "energy bucket=hour, last hour", $"/api/v1/energy?bucket=hour&from={Iso(now.AddHours(-1))}&to={Iso(now)}"),
            one("kiosk", "energy bucket=day, today", $"/api/v1/energy?bucket=day&from={Iso(today)}&to={Iso(now)}"),
            one("kiosk", "series climate-technodiscovery co2_ppm, 30 min, 30 points", $"/api/v1/series?sensor=climate-technodiscovery&field=co2_ppm&from={Iso(now.AddMinutes(-30))}&points=30"),
            one("kiosk", "energy/curve today and yesterday, 15 min", $"/api/v1/energy/curve?date={local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)}"),
            one("report", $"reports/annual year={local.Year}", $"/api/v1/reports/annual?year={local.Year}"),
            one("issue 15", $"occupancy/history room={room} bucket=month, 365 days", $"/api/v1/occupancy/history?room={room}&bucket=month&from={Iso(yearAgo)}&to={Iso(now)}"),
            one("issue 15", $"occupancy/history room={room} bucket=day, 365 days", $"/api/v1/occupancy/history?room={room}&bucket=day&from={Iso(yearAgo)}&to={Iso(now)}"),
            one("issue 15", "occupancy/utilisation, 365 days", $"/api/v1/occupancy/utilisation?from={Iso(yearAgo)}&to={Iso(now)}"),
            one("issue 15", "series meter-grid power_w, 365 days, 2,000 points", $"/api/v1/series?sensor=meter-grid&field=power_w&from={Iso(yearAgo)}&to={Iso(now)}&points=2000"),
            one("issue 15", "energy bucket=month, 365 days", $"/api/v1/energy?bucket=month&from={Iso(yearAgo)}&to={Iso(now)}"),
            one("issue 15", "energy bucket=day, 365 days", $"/api/v1/energy?bucket=day&from={Iso(yearAgo)}&to={Iso(now)}"),
        ];
    }

    /// <summary>Each URL of the query in turn; the slowest call and its response size. A refusal is a failure, not a time.</summary>
    private static async Task<(double Ms, long Bytes)> TimeAsync(HttpClient http, PageQuery query)
    {
        double slowest = 0;
        long bytes = 0;
        foreach (var url in query.Urls)
        {
            var watch = Stopwatch.StartNew();
            using var response = await http.GetAsync(url);
            var body = await response.Content.ReadAsByteArrayAsync();
            var ms = watch.Elapsed.TotalMilliseconds;
            if (!response.IsSuccessStatusCode)
            {
                throw new InvalidOperationException($"GET {url} answered {(int)response.StatusCode}: {System.Text.Encoding.UTF8.GetString(body)}");
            }

            if (ms >= slowest)
            {
                slowest = ms;
                bytes = body.Length;
            }
        }

        return (slowest, bytes);
    }

    private static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }

    /// <summary>Up to <c>window</c> QoS 1 publishes awaiting their PUBACK at once; the first failure is thrown by the next call.</summary>
    private sealed class WindowedPublisher(IMqttClient client, int window)
    {
        private readonly SemaphoreSlim _gate = new(window);
        private Exception? _failure;

        public async Task PublishAsync(MqttApplicationMessage message)
        {
            await _gate.WaitAsync();
            if (_failure is { } failure)
            {
                throw new InvalidOperationException("a publish failed", failure);
            }

            _ = OneAsync(message);
        }

        public async Task DrainAsync()
        {
            for (var i = 0; i < window; i++)
            {
                await _gate.WaitAsync();
            }

            if (_failure is { } failure)
            {
                throw new InvalidOperationException("a publish failed", failure);
            }
        }

        private async Task OneAsync(MqttApplicationMessage message)
        {
            try
            {
                var result = await client.PublishAsync(message);
                if (!result.IsSuccess)
                {
                    throw new InvalidOperationException($"PUBACK {result.ReasonCode} {result.ReasonString} on {message.Topic}");
                }
            }
            catch (Exception e)
            {
                _failure ??= e;
            }
            finally
            {
                _gate.Release();
            }
        }
    }
}

/// <summary>Sums of Prometheus text-format samples.</summary>
public static class Prometheus
{
    /// <summary>A counter or histogram sum, summed over its labels.</summary>
    public static double Sum(string text, string name) => text.Split('\n')
        .Where(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal))
        .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
}

/// <summary>
/// The real collector program (<c>dotnet collector.dll</c>) on a store that outlives it, logging in
/// the site's devices with bench passwords. Closed years are opened (<c>YearClosesAfter</c>, its
/// maximum) so that the past 365 days may reach into last year, which the collector by default
/// closes 31 days after it ended.
/// </summary>
public sealed class YearCollector : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private YearCollector(ChildProcess process, int httpPort, int brokerPort)
    {
        _process = process;
        HttpPort = httpPort;
        BrokerPort = brokerPort;
    }

    public int HttpPort { get; }

    public int BrokerPort { get; }

    public static async Task<YearCollector> StartAsync(SiteModel site, string data)
    {
        var (httpPort, brokerPort) = (FreePort.Next(), FreePort.Next());
        var process = ChildProcess.StartDotnet("collector", "collector.dll", [
            "--urls", $"http://127.0.0.1:{httpPort}",
            $"--Collector:DataDirectory={data}",
            "--Collector:Broker:BindAddress=127.0.0.1",
            $"--Collector:Broker:Port={brokerPort}",
            "--Collector:Broker:Embedded=true",
            "--Collector:Plausibility:YearClosesAfter=366.00:00:00",
            "--Logging:LogLevel:Default=Warning",
            .. site.Devices.Select(d => $"--Collector:Broker:Users:{d}={NewTechPark.Edge.Collector.Broker.Security.MqttPasswordHash.Create(BenchUsers.PasswordOf(d), iterations: 10)}"),
        ]);
        var collector = new YearCollector(process, httpPort, brokerPort);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}") };
        await Eventually.UntilAsync(async () =>
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the collector exited:\n{process.Tail()}");
            }

            try
            {
                return (await http.GetAsync("/healthz")).IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
                return false;
            }
        }, "the collector answers /healthz", TimeSpan.FromMinutes(10), TimeSpan.FromMilliseconds(50));
        return collector;
    }

    public async Task<string> MetricsAsync()
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{HttpPort}") };
        return await http.GetStringAsync("/metrics");
    }

    /// <summary>SIGTERM and a clean exit (the store closes, its WAL checkpointed).</summary>
    public Task StopAsync() => _process.StopAsync(TimeSpan.FromMinutes(2));

    public async ValueTask DisposeAsync() => await _process.DisposeAsync();
}
