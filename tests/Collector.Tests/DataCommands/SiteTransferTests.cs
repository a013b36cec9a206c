using System.Text.Json;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Energy;
using NewTechPark.Edge.Collector.Hosting;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Occupancy;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Storage.Visitors;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;
using Xunit.Abstractions;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests.DataCommands;

/// <summary>
/// <c>collector sites export</c> and <c>import</c> as processes on real stores: a store with two
/// sites (doors, meters, badges, a DC bench, climate, a correction, a group visit) gives one site to
/// a new store, and every figure of that site reads the same there; the other site stays behind;
/// a second import changes nothing; an import into a store that already received the last day live
/// (and a tail after the export) counts nothing twice and equals a store that received it all once;
/// a damaged, changed or wrong-site file and a locked data directory are refused by name.
/// </summary>
[Trait("Category", "Slow")]
public sealed class SiteTransferTests(ITestOutputHelper output) : IDisposable
{
    private const string OtherSite = "other-site";
    private static readonly DateTimeOffset Day0 = new(2026, 10, 24, 0, 0, 0, TimeSpan.FromHours(2));
    private const int Days = 3;

    private static readonly SiteModel Site = EnergyTests.MeteredSite;

    private readonly TempDirectory _dir = new("ntp-transfer-");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _dir.Dispose();
    }

    [Fact]
    public async Task A_site_moves_whole_and_alone_and_a_second_import_changes_nothing()
    {
        var (source, target, reference) = (Folder("source"), Folder("target"), Folder("reference"));
        Fill(source, Batches(SiteId, 0, Days), others: true);
        Fill(reference, Batches(SiteId, 0, Days), others: false);
        var file = Path.Combine(_dir.Path, "test-site.ntpsite");

        var export = await RunAsync(source, "sites", "export", "--site", SiteId, "--out", file);
        output.WriteLine(export.Stdout + export.Stderr);
        Assert.True(export.ExitCode == 0, export.Stderr);

        var first = await RunAsync(target, "sites", "import", file, "--site", SiteId);
        output.WriteLine(first.Stdout + first.Stderr);
        Assert.True(first.ExitCode == 0, first.Stderr);

        // The series, rollups, raw points, energy and visitors read per site: the same as in the
        // source. The room history replays the door series of every site in the store (OccupancyStore
        // reads them with site: null, a one-site assumption), so it is compared with a store that
        // received only this site's batches.
        AssertSame(Figures(source, occupancy: false), Figures(target, occupancy: false));
        var expected = Figures(reference);
        AssertSame(expected, Figures(target));
        Assert.Equal(0L, Scalar(target, "SELECT (SELECT count(*) FROM series WHERE site = $other) + (SELECT count(*) FROM batches WHERE site = $other) + (SELECT count(*) FROM badge_scans WHERE site = $other) + (SELECT count(*) FROM devices WHERE site = $other)"));
        Assert.True((long)Scalar(source, "SELECT count(*) FROM badge_scans WHERE site = $other")! > 0);

        var rowsAfterFirst = TableCounts(target);
        var again = await RunAsync(target, "sites", "import", file, "--site", SiteId);
        output.WriteLine(again.Stdout);
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Matches(@"batches\s+0 added", again.Stdout);
        Assert.Matches(@"badge_scans\s+0 added", again.Stdout);
        Assert.Equal(rowsAfterFirst, TableCounts(target));
        AssertSame(expected, Figures(target));
    }

    [Fact]
    public async Task An_import_after_the_new_owner_received_the_overlap_and_more_live_counts_nothing_twice()
    {
        var (source, target, reference) = (Folder("source"), Folder("target"), Folder("reference"));
        var history = Batches(SiteId, 0, Days);
        // The new owner subscribed during the last day: it received that day's batches too, and goes on after the old owner stopped.
        var tail = Batches(SiteId, Days, 1, firstSeq: (ulong)history.Count + 1);
        var overlap = history.Where(b => b.Received >= Day0.AddDays(Days - 1)).ToList();
        Fill(source, history, others: true);
        Fill(target, [.. overlap, .. tail], others: false);
        Fill(reference, [.. history, .. tail], others: false);

        var file = Path.Combine(_dir.Path, "move.ntpsite");
        Assert.Equal(0, (await RunAsync(source, "sites", "export", "--site", SiteId, "--out", file)).ExitCode);
        var import = await RunAsync(target, "sites", "import", file, "--site", SiteId);
        output.WriteLine(import.Stdout + import.Stderr);
        Assert.True(import.ExitCode == 0, import.Stderr);
        Assert.Matches($@"batches\s+{history.Count - overlap.Count} added\s+{overlap.Count} skipped", import.Stdout);

        AssertSame(Figures(reference, days: Days + 1), Figures(target, days: Days + 1));
        Assert.Equal(Scalar(reference, "SELECT count(*) FROM batches"), Scalar(target, "SELECT count(*) FROM batches"));
        Assert.Equal(Scalar(reference, "SELECT group_concat(device || ':' || batches || ':' || readings || ':' || first_seq || ':' || last_seq, ',') FROM (SELECT * FROM devices ORDER BY device)"),
            Scalar(target, "SELECT group_concat(device || ':' || batches || ':' || readings || ':' || first_seq || ':' || last_seq, ',') FROM (SELECT * FROM devices ORDER BY device)"));
        Assert.Equal(0L, Scalar(target, "SELECT count(*) FROM seq_gaps"));

        // And once more: still the same.
        Assert.Equal(0, (await RunAsync(target, "sites", "import", file, "--site", SiteId)).ExitCode);
        AssertSame(Figures(reference, days: Days + 1), Figures(target, days: Days + 1));
    }

    [Fact]
    public async Task A_damaged_changed_or_wrong_site_file_and_a_locked_store_are_refused_by_name()
    {
        var (source, target) = (Folder("source"), Folder("target"));
        Fill(source, Batches(SiteId, 0, 1), others: true);
        var file = Path.Combine(_dir.Path, "site.ntpsite");
        Assert.Equal(0, (await RunAsync(source, "sites", "export", "--site", SiteId, "--out", file)).ExitCode);

        var wrong = await RunAsync(target, "sites", "import", file, "--site", OtherSite);
        Assert.Equal(2, wrong.ExitCode);
        Assert.Contains($"holds site '{SiteId}', not '{OtherSite}'", wrong.Stderr, StringComparison.Ordinal);

        var changed = Path.Combine(_dir.Path, "changed.ntpsite");
        File.Copy(file, changed);
        using (var connection = new SqliteConnection($"Data Source={changed};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE badge_scans SET visitor = 'forged0000000000000000' WHERE rowid = 1";
            command.ExecuteNonQuery();
        }

        var forged = await RunAsync(target, "sites", "import", changed, "--site", SiteId);
        Assert.Equal(2, forged.ExitCode);
        Assert.Contains("table badge_scans holds", forged.Stderr, StringComparison.Ordinal);

        var damaged = Path.Combine(_dir.Path, "damaged.ntpsite");
        var bytes = File.ReadAllBytes(file);
        Array.Fill(bytes, (byte)0x5A, 0, 100);
        File.WriteAllBytes(damaged, bytes);
        var broken = await RunAsync(target, "sites", "import", damaged, "--site", SiteId);
        Assert.Equal(2, broken.ExitCode);
        Assert.Contains("not a site transfer file, or is damaged", broken.Stderr, StringComparison.Ordinal);

        var store = Path.Combine(_dir.Path, "store.ntpsite");
        File.Copy(Path.Combine(source, "collector.db"), store);
        var notTransfer = await RunAsync(target, "sites", "import", store, "--site", SiteId);
        Assert.Equal(2, notTransfer.ExitCode);
        Assert.Contains("not a site transfer file", notTransfer.Stderr, StringComparison.Ordinal);

        using (DataDirectoryLock.TryTake(target))
        {
            var locked = await RunAsync(target, "sites", "import", file, "--site", SiteId);
            Assert.Equal(2, locked.ExitCode);
            Assert.Contains("a collector is running on", locked.Stderr, StringComparison.Ordinal);
        }

        Assert.False(File.Exists(Path.Combine(target, "collector.db")), "nothing was written by a refused import");
        var none = await RunAsync(source, "sites", "export", "--site", "no-such-site", "--out", Path.Combine(_dir.Path, "none.ntpsite"));
        Assert.Equal(2, none.ExitCode);
        Assert.Contains("holds nothing of site 'no-such-site'", none.Stderr, StringComparison.Ordinal);
    }

    private string Folder(string name)
    {
        var path = Path.Combine(_dir.Path, name);
        Directory.CreateDirectory(path);
        return path;
    }

    private static Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(string data, params string[] args) => DataCommandsRig.RunAsync(data, args);

    /// <summary>
    /// Days of a site as the agents send them, in time order: every 15 minutes the meters, a door
    /// crossing, climate; badge scans in the morning (some pseudonyms return on later days); a DC
    /// bench each second for ten minutes a day.
    /// </summary>
    private static List<ReadingsItem> Batches(string site, int fromDay, int days, ulong firstSeq = 1)
    {
        var items = new List<ReadingsItem>();
        var seq = firstSeq;
        for (var day = fromDay; day < fromDay + days; day++)
        {
            var start = Day0.AddDays(day);
            for (var q = 0; q < 96; q++)
            {
                var t = start.AddMinutes(15 * q);
                var i = (day * 96) + q;
                var readings = new List<Reading>
                {
                    new() { Ts = t, Sensor = "meter-grid", Kind = ReadingKinds.Energy, Values = new() { ["power_w"] = 900 + q, ["energy_wh_total"] = 1_000_000 + (250.0 * i) } },
                    new() { Ts = t, Sensor = "meter-solar", Kind = ReadingKinds.Energy, Values = new() { ["power_w"] = 200, ["energy_wh_total"] = 500 + (50.0 * i) } },
                    new() { Ts = t, Sensor = "climate-hall", Kind = ReadingKinds.Climate, Values = new() { ["temperature_c"] = 20 + (q % 7 * 0.1), ["co2_ppm"] = 500 + q } },
                };
                if (q is >= 32 and < 72)
                {
                    // Opening hours: people come in, and leave in the afternoon.
                    var entered = q < 52 ? 2 : 0;
                    var left = q >= 52 ? 2 : 0;
                    readings.Add(Door(DoorMain, t.AddSeconds(7), entered, left, 1000 + (i * 2), 900 + (i * 2)));
                    readings.Add(Door(DoorLab, t.AddSeconds(9), q % 4 == 0 ? 1 : 0, q % 4 == 2 ? 1 : 0, i, i));
                    if (q < 44)
                    {
                        readings.Add(VisitorsTests.Scan(t.AddSeconds(11), $"v{(q + day) % 9}"));
                        readings.Add(VisitorsTests.Scan(t.AddSeconds(12), $"d{day}q{q}"));
                    }
                }

                if (q == 44)
                {
                    for (var s = 0; s < 600; s++)
                    {
                        readings.Add(new Reading { Ts = t.AddSeconds(s).AddMilliseconds(250), Sensor = "bench-1", Kind = ReadingKinds.Dc, Values = new() { ["voltage_v"] = 24 + (s % 5 * 0.01), ["power_w"] = 30 + (s % 11) } });
                    }
                }

                items.Add(new ReadingsItem(new TopicAddress(site, "pi-entrance", TopicChannel.Readings), new ReadingsBatch { Seq = seq++, Sent = t, Readings = readings }, t.AddSeconds(30)));
            }
        }

        return items;
    }

    /// <summary>The batches through the store's own writer, a correction and a group visit; the other site's days beside them.</summary>
    private static void Fill(string data, List<ReadingsItem> batches, bool others)
    {
        using (var store = DataCommandsRig.Store(data))
        {
            foreach (var group in batches.Chunk(16))
            {
                store.Commit(group);
            }

            if (batches.Any(b => b.Received < Day0.AddDays(1)))
            {
                new OccupancyStore(store).AddCorrection(SiteId, Hall, Day0.AddHours(13).ToUnixTimeMilliseconds(), 20, 18, "geteld", "admin");
                new GroupVisitsStore(store).Add(SiteId, "2026-10-24", Day0.ToUnixTimeMilliseconds(), "Technodiscovery", "po", 24, Hall, false, null, Day0.AddHours(9).ToUnixTimeMilliseconds());
            }

            if (others)
            {
                foreach (var group in Batches(OtherSite, 0, Days).Chunk(16))
                {
                    store.Commit(group);
                }

                new OccupancyStore(store).AddCorrection(OtherSite, Hall, Day0.AddHours(14).ToUnixTimeMilliseconds(), 5, 4, "geteld", "admin");
            }
        }

        SqliteConnection.ClearAllPools();
    }

    /// <summary>The figures the pages and the report read of the site, as JSON.</summary>
    private static string Figures(string data, int days = Days, bool occupancy = true)
    {
        var clock = new FakeTimeProvider(Day0.AddDays(days + 2));
        var options = new CollectorOptions();
        var o = Options.Create(options);
        using var store = new SqliteStore(Path.Combine(data, "collector.db"), NullLogger<SqliteStore>.Instance, TimeZoneInfo.FindSystemTimeZoneById("Europe/Amsterdam"));
        var history = new OccupancyHistory(store, Site, o, clock);
        var (visitors, _) = VisitorsTests.Services(store, Site, clock, options);
        if (occupancy)
        {
            history.Update();
        }
        var queries = new StoreQueries(store);
        var energy = new EnergyService(Site, queries, o);
        var (from, to) = (Day0.AddDays(-1), Day0.AddDays(days + 1));
        var figures = new SortedDictionary<string, object?>(StringComparer.Ordinal);
        if (occupancy)
        {
            foreach (var room in Site.Rooms)
            {
                figures[$"history/{room.Id}/day"] = history.History(room.Id, from, to, CalendarBucket.Day).Buckets;
                figures[$"history/{room.Id}/hour"] = history.History(room.Id, Day0, Day0.AddDays(1), CalendarBucket.Hour).Buckets;
            }

            figures["use"] = history.Use(from, to).PerRoom;
        }

        figures["visitors/day"] = visitors.Report(from, to, CalendarBucket.Day).Buckets;
        figures["visitors/week"] = visitors.Report(from.AddDays(-7), to, CalendarBucket.Week);
        figures["energy/day"] = energy.Report(from, to, CalendarBucket.Day).Buckets;
        figures["energy/hour"] = energy.Report(from, to, CalendarBucket.Hour).Buckets;
        foreach (var (sensor, field) in new[] { ("meter-grid", "energy_wh_total"), ("meter-solar", "power_w"), ("climate-hall", "co2_ppm"), ("bench-1", "power_w"), (DoorMain, "in") })
        {
            figures[$"series/{sensor}/{field}"] = queries.Series(SiteId, sensor, field, from, to, 500)?.Points;
            var id = queries.SeriesId(SiteId, sensor, field)!.Value;
            foreach (var res in new[] { Resolution.Minute, Resolution.Hour, Resolution.Day, Resolution.Month })
            {
                figures[$"rollups/{sensor}/{field}/{res}"] = queries.Rollups(id, res, from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
            }
        }

        using (var connection = store.OpenReader())
        {
            figures["raw points"] = Query(connection, "SELECT s.sensor || '/' || s.field || ':' || sum(b.count) FROM series s JOIN point_blocks b ON b.series_id = s.id WHERE s.site = $site GROUP BY s.id ORDER BY s.sensor, s.field");
            figures["scans"] = Query(connection, "SELECT count(*) || '/' || count(DISTINCT visitor) FROM badge_scans WHERE site = $site");
            figures["corrections"] = Query(connection, "SELECT room || ts_ms || previous || count || reason FROM occupancy_corrections WHERE site = $site ORDER BY ts_ms");
            figures["group visits"] = Query(connection, "SELECT programme || head_count || day_ms FROM group_visits WHERE site = $site ORDER BY day_ms");
        }

        return JsonSerializer.Serialize(figures);
    }

    private static List<string> Query(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$site", SiteId);
        using var reader = command.ExecuteReader();
        var rows = new List<string>();
        while (reader.Read())
        {
            rows.Add(reader.GetString(0));
        }

        return rows;
    }

    private static void AssertSame(string expected, string actual)
    {
        if (expected == actual)
        {
            return;
        }

        var (a, b) = (JsonDocument.Parse(expected).RootElement, JsonDocument.Parse(actual).RootElement);
        var differences = a.EnumerateObject().Where(p => p.Value.GetRawText() != b.GetProperty(p.Name).GetRawText())
            .Select(p => $"{p.Name}:\n  expected {Cut(p.Value.GetRawText())}\n  actual   {Cut(b.GetProperty(p.Name).GetRawText())}");
        Assert.Fail(string.Join("\n", differences));
    }

    private static string Cut(string text) => text.Length > 600 ? text[..600] + "…" : text;

    private static string TableCounts(string data) => (string)Scalar(data, """
        SELECT (SELECT count(*) FROM series) || ',' || (SELECT count(*) FROM point_blocks) || ',' || (SELECT count(*) FROM rollups) || ',' || (SELECT count(*) FROM batches)
            || ',' || (SELECT count(*) FROM badge_scans) || ',' || (SELECT count(*) FROM occupancy_corrections) || ',' || (SELECT count(*) FROM group_visits)
            || ',' || (SELECT sum(batches) FROM devices) || ',' || (SELECT count(*) FROM room_hours) || ',' || (SELECT count(*) FROM dead_letters)
        """)!;

    private static object? Scalar(string data, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(data, "collector.db")};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$other", OtherSite);
        return command.ExecuteScalar();
    }
}
