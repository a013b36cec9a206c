using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Reports;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Storage.Schema;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// A store written by the collector as shipped before issue 15 (commit 3f98628: schema version 1,
/// one row per raw value, room history built, a late door reading after it, badge scans, counters
/// with a reset, a DC bench on the DST day) opens with this code: migrations 2 and 3 and the
/// conversion of the raw points run at start, and every figure the pages read is what that
/// collector read from the same file. <c>Fixtures/store-v1.db.gz</c> and its figures were written
/// by <c>Fixtures/StoreFixtureWriter.cs.txt</c> run in the test project of that commit.
/// </summary>
public sealed class StoreFromEarlierCollectorTests : IDisposable
{
    private static readonly DateTimeOffset First = new(2026, 3, 23, 0, 0, 0, TimeSpan.FromHours(1));
    private const int Days = 14;

    private readonly TempDirectory _dir = new();

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [Fact]
    public void A_version_1_store_converts_at_start_and_every_page_figure_reads_as_the_earlier_collector_read_it()
    {
        var path = _dir.File("collector.db");
        using (var gz = new GZipStream(File.OpenRead(Fixture("store-v1.db.gz")), CompressionMode.Decompress))
        using (var file = File.Create(path))
        {
            gz.CopyTo(file);
        }

        Assert.Equal(1L, Scalar(path, "PRAGMA user_version"));
        var rowsBefore = (long)Scalar(path, "SELECT count(*) FROM points")!;
        SqliteConnection.ClearAllPools();

        var expected = JsonNode.Parse(Decompress(Fixture("store-v1-figures.json.gz")))!.AsObject();
        var clock = new FakeTimeProvider(First.AddDays(Days).AddHours(12));
        var options = new CollectorOptions();
        options.Report.RoomInUseMinShareOfOpenDays = 0.01;

        using (var store = new SqliteStore(path, NullLogger<SqliteStore>.Instance))
        {
            using (var connection = store.OpenReader())
            {
                Assert.Equal(StoreMigrations.Current, SchemaLedger.Version(connection));
            }

            Assert.Equal(rowsBefore, new StoreQueries(store).Counts().Points);

            // First as a page load finds it (nothing rebuilt in the background yet), then after the upkeep ran.
            AssertSameFigures(expected, Figures(store, clock, options, EnergyTests.MeteredSite, upkeep: false));
            AssertSameFigures(expected, Figures(store, clock, options, EnergyTests.MeteredSite, upkeep: true));
        }

        SqliteConnection.ClearAllPools();
        Assert.Equal(0L, Scalar(path, "SELECT count(*) FROM sqlite_master WHERE name = 'points'"));
    }

    /// <summary>The figures every page reads; the same calls as the fixture writer made with the earlier code.</summary>
    private static JsonObject Figures(SqliteStore store, TimeProvider clock, CollectorOptions options, SiteModel site, bool upkeep)
    {
        var o = Options.Create(options);
        var history = new OccupancyHistory(store, site, o, clock);
        var (visitors, groups) = VisitorsTests.Services(store, site, clock, options);
        // A page load refreshes what is marked or missing (as the API handlers do); the upkeep rebuilds every day that needs it.
        _ = upkeep ? history.Update() : history.Refresh();

        var queries = new StoreQueries(store);
        var energy = new EnergyService(site, queries, o);
        var from = First.AddDays(-1);
        var to = First.AddDays(Days + 1);
        var dst = new DateTimeOffset(2026, 3, 29, 0, 0, 0, TimeSpan.FromHours(1));
        var figures = new Dictionary<string, object?>();
        foreach (var room in site.Rooms)
        {
            figures[$"history/{room.Id}/day"] = history.History(room.Id, from, to, CalendarBucket.Day).Buckets;
            figures[$"history/{room.Id}/hour"] = history.History(room.Id, dst.AddDays(-1), dst.AddDays(1), CalendarBucket.Hour).Buckets;
            figures[$"history/{room.Id}/month"] = history.History(room.Id, from, to, CalendarBucket.Month).Buckets;
        }

        figures["use"] = history.Use(from, to).PerRoom;
        figures["visitors/day"] = visitors.Report(from.AddDays(-120), to, CalendarBucket.Day).Buckets;
        figures["visitors/week"] = visitors.Report(from.AddDays(-120), to, CalendarBucket.Week);
        figures["visitors/year"] = visitors.Report(from.AddYears(-2), to, CalendarBucket.Year);
        figures["energy/day"] = energy.Report(from, to, CalendarBucket.Day).Buckets;
        figures["energy/hour"] = energy.Report(from, to, CalendarBucket.Hour).Buckets;
        var report = new AnnualReportService(site, visitors, groups, history, energy, queries, ReportTargets.None, clock).Build(2026);
        // The fields the earlier collector wrote (the comparison with targets and the previous year came later).
        figures["report/rows"] = report.Rows.Select(r => new { r.Key, r.LabelNl, r.LabelEn, r.Value, r.Display, r.Unit, r.Source }).ToList();
        figures["report/months"] = report.Months;
        foreach (var (sensor, field) in new[] { ("meter-grid", "energy_wh_total"), ("meter-solar", "energy_wh_total"), ("climate-hall", "temperature_c"), ("bench-1", "voltage_v"), ("bench-1", "power_w"), (DoorMain, "in") })
        {
            figures[$"series/{sensor}/{field}/200"] = queries.Series(SiteId, sensor, field, from, to, 200)?.Points;
            figures[$"series/{sensor}/{field}/5000"] = queries.Series(SiteId, sensor, field, dst.AddHours(10), dst.AddHours(14), 5000)?.Points;
            var id = queries.SeriesId(SiteId, sensor, field)!.Value;
            foreach (var res in new[] { Resolution.Minute, Resolution.Hour, Resolution.Day })
            {
                var (a, b) = res == Resolution.Minute ? (dst.AddHours(1), dst.AddHours(4)) : (from, to);
                figures[$"rollups/{sensor}/{field}/{res}"] = queries.Rollups(id, res, a.ToUnixTimeMilliseconds(), b.ToUnixTimeMilliseconds());
            }
        }

        figures["counts/points"] = queries.Counts().Points;
        figures["counts/batches"] = queries.Counts().Batches;
        return JsonNode.Parse(JsonSerializer.Serialize(figures))!.AsObject();
    }

    /// <summary>Equal figure by figure; numbers to 1e-9 relative (sums may add up in another order).</summary>
    private static void AssertSameFigures(JsonObject expected, JsonObject actual)
    {
        Assert.Equal(expected.Select(p => p.Key).Order(), actual.Select(p => p.Key).Order());
        var problems = expected.Select(p => Difference(p.Value, actual[p.Key], p.Key)).OfType<string>().ToList();
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    private static string? Difference(JsonNode? a, JsonNode? b, string at)
    {
        switch (a, b)
        {
            case (null, null):
                return null;
            case (JsonObject x, JsonObject y):
                foreach (var (k, v) in x)
                {
                    if (!y.ContainsKey(k))
                    {
                        return $"{at}.{k}: missing";
                    }

                    if (Difference(v, y[k], $"{at}.{k}") is { } p)
                    {
                        return p;
                    }
                }

                return null;
            case (JsonArray x, JsonArray y):
                if (x.Count != y.Count)
                {
                    return $"{at}: {x.Count} items, now {y.Count}";
                }

                for (var i = 0; i < x.Count; i++)
                {
                    if (Difference(x[i], y[i], $"{at}[{i}]") is { } p)
                    {
                        return p;
                    }
                }

                return null;
            case (JsonValue x, JsonValue y) when x.GetValueKind() == JsonValueKind.Number && y.GetValueKind() == JsonValueKind.Number:
                var (m, n) = (x.GetValue<double>(), y.GetValue<double>());
                return Math.Abs(m - n) <= 1e-9 * Math.Max(1, Math.Max(Math.Abs(m), Math.Abs(n))) ? null : $"{at}: {m}, now {n}";
            default:
                return JsonNode.DeepEquals(a, b) ? null : $"{at}: {a?.ToJsonString()}, now {b?.ToJsonString()}";
        }
    }

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private static string Decompress(string path)
    {
        using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
        using var reader = new StreamReader(gz);
        return reader.ReadToEnd();
    }

    private static object? Scalar(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }
}
