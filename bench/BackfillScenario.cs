using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using NewTechPark.Edge.Demo;
using NewTechPark.Edge.Demo.History;

namespace NewTechPark.Edge.Bench;

/// <summary>
/// Issue 16's target: the demo's first start fills a year of history in under 60 s on this
/// 2-core machine. Runs the demo host itself (<see cref="DemoHost.Build"/>) on an empty data
/// folder with <c>Demo:HistoryDays</c> from <c>NTP_BENCH_BACKFILL_DAYS</c> (1-366, default 365),
/// whose start returns once the history is committed; prints the fill's time, readings,
/// readings a second, where the time went (generating, serialising and checking, the collector's
/// commits), the process's CPU time beside the wall time (the machine is shared: the load average
/// says how much), refusals, and the store's size on disk.
/// </summary>
public static class BackfillScenario
{
    private const double TargetSeconds = 60;

    public static int DaysFromEnvironment()
    {
        var text = Environment.GetEnvironmentVariable("NTP_BENCH_BACKFILL_DAYS");
        if (string.IsNullOrWhiteSpace(text))
        {
            return 365;
        }

        return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var days) && days is >= 1 and <= 366
            ? days
            : throw new BenchSettingException($"NTP_BENCH_BACKFILL_DAYS must be a whole number from 1 to 366, not '{text}'");
    }

    public static async Task<string> RunAsync(int days)
    {
        using var root = new TempDirectory("ntp-bench-backfill-");
        var data = Path.Combine(root.Path, "data");
        Console.WriteLine($"  demo first start on an empty store, {days} days of history; load average before: {LoadAverage()}");
        var process = Process.GetCurrentProcess();
        var (generated, generationCpu) = GenerateOnly(days);
        Console.WriteLine($"  the history alone (HistoryYear, no ingest, one thread): {generated:N0} readings in {generationCpu.TotalSeconds:F1} s of CPU");
        process.Refresh();
        var cpuBefore = process.TotalProcessorTime;
        var app = DemoHost.Build([
            "--urls", "http://127.0.0.1:0",
            "--Collector:Broker:Port=0",
            $"--Collector:DataDirectory={data}",
            $"--Demo:HistoryDays={days}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        var filler = app.Services.GetRequiredService<HistoryFiller>();
        filler.OutputIsTerminal = !Console.IsOutputRedirected;
        await app.StartAsync();
        process.Refresh();
        var cpu = process.TotalProcessorTime - cpuBefore;
        var result = filler.Result ?? throw new InvalidOperationException("the demo filled no history");
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        var metrics = await http.GetStringAsync("/metrics");
        var commitSeconds = Prometheus.Sum(metrics, "ntp_ingest_commit_seconds_sum");
        var commits = Prometheus.Sum(metrics, "ntp_ingest_commit_seconds_count");
        var rejected = Prometheus.Sum(metrics, "ntp_ingest_rejected_total");
        await app.StopAsync();
        await app.DisposeAsync();
        SqliteConnection.ClearAllPools();
        var bytes = StoreBytes(data);

        var seconds = result.Elapsed.TotalSeconds;
        Console.WriteLine($"  filled {result.Days} days: {result.Readings:N0} readings in {result.Batches:N0} batches, {result.Registrations:N0} group registrations, {result.Sessions:N0} experiment sessions, in {seconds:F1} s: {result.ReadingsPerSecond:N0} readings/s");
        Console.WriteLine($"  where the time went (wall, overlapping): generating {result.Generating.TotalSeconds:F1} s (its own thread), serialising + parsing + checking {result.Checking.TotalSeconds:F1} s, " +
            $"handing to the single writer {result.WaitingForRoom.TotalSeconds:F1} s; SqliteStore.Commit {commitSeconds:F1} s in {commits:N0} commits");
        Console.WriteLine($"  process CPU {cpu.TotalSeconds:F1} s for {seconds:F1} s wall on {Environment.ProcessorCount} cores; load average after: {LoadAverage()}");
        Console.WriteLine($"  store: {bytes / 1048576.0:N1} MiB ({bytes / (double)Math.Max(1, result.Readings):F1} bytes per reading); refused: {result.Refused} at the intake, {rejected} by the collector (ntp_ingest_rejected_total)");
        Console.WriteLine($"  target: a year in under {TargetSeconds} s: {(days < 365 ? "not a year" : seconds <= TargetSeconds ? "met" : "MISSED")}");
        return $"backfill: {result.Days} days, {result.Readings / 1e6:F2} M readings in {seconds:F1} s ({result.ReadingsPerSecond:N0}/s, CPU {cpu.TotalSeconds:F0} s), store {bytes / 1048576.0:N1} MiB, {rejected} refused";
    }

    /// <summary>The generator's share: the same days made and dropped, timed by the process's CPU time.</summary>
    private static (long Readings, TimeSpan Cpu) GenerateOnly(int days)
    {
        var site = NewTechPark.Edge.Collector.Site.SiteLoader.Load(Path.Combine(AppContext.BaseDirectory, "Site", "default-site.json"));
        var zone = TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone);
        var now = DateTimeOffset.UtcNow;
        var today = TimeZoneInfo.ConvertTime(now, zone).Date.AddDays(-days);
        var year = new HistoryYear(site, 2026, new DateTimeOffset(today, zone.GetUtcOffset(today)), now);
        var process = Process.GetCurrentProcess();
        var before = process.TotalProcessorTime;
        long readings = 0;
        var (first, last) = year.Days;
        for (var date = first; date <= last; date = date.AddDays(1))
        {
            readings += year.Day(date).ReadingCount;
        }

        process.Refresh();
        return (readings, process.TotalProcessorTime - before);
    }

    /// <summary>The store's files after a clean stop (database, WAL if any).</summary>
    private static long StoreBytes(string data) =>
        Directory.EnumerateFiles(data, "collector.db*").Sum(f => new FileInfo(f).Length);

    private static string LoadAverage()
    {
        try
        {
            return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));
        }
        catch (IOException)
        {
            return "?";
        }
    }
}
