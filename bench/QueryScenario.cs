using System.Diagnostics;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Bench;

/// <summary>
/// One year of one-second data for one series (31,536,000 points) in the collector's store, then
/// an hourly-bucket query and a 2,000-point chart query through StoreQueries.Series, the code
/// behind GET /api/v1/series.
/// Loading: one transaction per day, every point through the store's own PointBlockWriter and
/// RollupWriter, exactly as SqliteStore.Commit does for ingested points (only the JSON, MQTT and
/// batch bookkeeping are skipped).
/// </summary>
public static class QueryScenario
{
    private const string Site = "newtechpark";
    private const string Sensor = "bench-year";
    private const string Field = "power_w";
    private const int Repeats = 20;

    public static Task<string> RunAsync()
    {
        using var folder = new TempDirectory("ntp-bench-query-");
        var path = Path.Combine(folder.Path, "collector.db");
        using var store = new SqliteStore(path, NullLogger<SqliteStore>.Instance);
        var from = new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);
        const int days = 365;
        var load = Stopwatch.StartNew();
        long points = Load(store, from, days);
        load.Stop();
        var size = new FileInfo(path).Length + (File.Exists(path + "-wal") ? new FileInfo(path + "-wal").Length : 0);
        Console.WriteLine($"  loaded {points:N0} points and their rollups in {load.Elapsed.TotalSeconds:F1} s ({points / load.Elapsed.TotalSeconds:N0} points/s), {size / 1024.0 / 1024:N0} MiB");

        var queries = new StoreQueries(store);
        var to = from.AddDays(days);
        var hourly = Time(() => queries.Series(Site, Sensor, Field, from, to, 8760));
        var chart = Time(() => queries.Series(Site, Sensor, Field, from, to, 2000));
        Console.WriteLine($"  hourly buckets (8,760 points, {hourly.Result.Resolution}): median {hourly.Median:F1} ms, max {hourly.Max:F1} ms over {Repeats} runs");
        Console.WriteLine($"  chart (2,000 points asked, {chart.Result.Points.Count} returned, {chart.Result.BucketMs / 3_600_000.0:F0} h buckets, {chart.Result.Resolution}): median {chart.Median:F1} ms, max {chart.Max:F1} ms");
        var count = hourly.Result.Points.Sum(p => p.Count);
        if (count != points || hourly.Result.Points.Count != 8760)
        {
            throw new InvalidOperationException($"the hourly query saw {count:N0} points in {hourly.Result.Points.Count} buckets; {points:N0} were loaded");
        }

        var ok = hourly.Median < 50 && chart.Median < 50;
        Console.WriteLine($"  every loaded point counted once by the hourly query; target < 50 ms each: {(ok ? "met" : "MISSED")}");
        return Task.FromResult($"query: hourly {hourly.Median:F1} ms, 2000-point chart {chart.Median:F1} ms (median of {Repeats}, {points / 1e6:F1} M points)");
    }

    private static long Load(SqliteStore store, DateTimeOffset from, int days)
    {
        using var connection = new SqliteConnection($"Data Source={store.FilePath};Pooling=False");
        connection.Open();
        using (var pragma = connection.CreateCommand())
        {
            // Bulk load: a crash would only cost the benchmark's own file.
            pragma.CommandText = "PRAGMA synchronous=OFF; PRAGMA cache_size=-200000;";
            pragma.ExecuteNonQuery();
        }

        long seriesId;
        using (var series = connection.CreateCommand())
        {
            series.CommandText = "INSERT INTO series (site, sensor, kind, field) VALUES ($site, $sensor, 'dc', $field) RETURNING id";
            series.Parameters.AddWithValue("$site", Site);
            series.Parameters.AddWithValue("$sensor", Sensor);
            series.Parameters.AddWithValue("$field", Field);
            seriesId = (long)series.ExecuteScalar()!;
        }

        long points = 0;
        var blocks = new PointBlockCache();
        var startMs = from.ToUnixTimeMilliseconds();
        for (var day = 0; day < days; day++)
        {
            var dayMs = startMs + day * 86_400_000L;
            using var transaction = connection.BeginTransaction();
            using var raw = new PointBlockWriter(connection, transaction, blocks);
            using var rollups = new RollupWriter(connection, transaction, store.Rollups, raw);
            for (var i = 0L; i < 86_400; i++)
            {
                var ts = dayMs + i * 1000;
                var value = (dayMs / 1000 + i) % 3600 * 0.01;
                rollups.Add(seriesId, Field, ts, value, raw.Write(seriesId, ts, value));
                points++;
            }

            raw.Flush();
            rollups.Flush();
            transaction.Commit();
            rollups.Committed();
        }

        return points;
    }

    private static (SeriesResult Result, double Median, double Max) Time(Func<SeriesResult?> query)
    {
        var result = query() ?? throw new InvalidOperationException("the series was not found"); // warm-up
        var times = new List<double>();
        for (var i = 0; i < Repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            result = query()!;
            times.Add(watch.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        return (result, times[times.Count / 2], times[^1]);
    }
}
