using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.DataCommands.DataCommandsRig;

namespace NewTechPark.Edge.Collector.Tests.DataCommands;

/// <summary>
/// <c>collector backup</c> during ingest and <c>collector restore</c>, as processes against a real
/// store: the backup is consistent and holds every batch committed before it started while the
/// store's single writer goes on committing; restore (and a second collector) is refused while a
/// collector runs on the data directory; restore brings the backup back exactly, keeps the store it
/// replaced, and a collector starts on it.
/// </summary>
[Trait("Category", "Slow")]
public sealed class BackupRestoreCommandTests(ITestOutputHelper output)
{
    private static readonly DateTimeOffset T0 = Utc("2026-11-02T08:00:00Z");

    [Fact]
    public async Task A_backup_taken_during_ingest_is_consistent_and_holds_every_batch_committed_before_it()
    {
        using var folder = new TempDirectory("ntp-backup-");
        using var store = Store(folder.Path);
        // About 20 MB of points that hardly compress, so the copy takes many steps while commits go on.
        var random = new Random(17);
        for (var s = 0; s < 2; s++)
        {
            WriteBlocks(store.FilePath, $"bench-{s}", ReadingKinds.Dc, "power_w", T0.AddDays(-30).ToUnixTimeMilliseconds(), 1000, 1_200_000, _ => random.NextDouble());
        }

        long committed = 0;
        using var stop = new CancellationTokenSource();
        var writer = Task.Factory.StartNew(() =>
        {
            // The store's real single writer, one batch of 50 readings per commit, as fast as it goes.
            for (ulong seq = 1; !stop.IsCancellationRequested; seq++)
            {
                var ts = T0.AddSeconds(seq);
                var readings = Enumerable.Range(0, 50).Select(i => Reading($"live-{i % 5}", ReadingKinds.Dc, ts.AddMilliseconds(i), ("power_w", seq + (i * 0.5)))).ToList();
                store.Commit([Batch(seq, ts, readings)]);
                Interlocked.Exchange(ref committed, (long)seq);
            }
        }, TaskCreationOptions.LongRunning);

        await Eventually.UntilAsync(() => Interlocked.Read(ref committed) >= 20, "the writer commits");
        var before = Interlocked.Read(ref committed);
        var backup = Path.Combine(folder.Path, "backup.db");
        var (exit, stdout, stderr) = await RunAsync(folder.Path, "backup", "--out", backup);
        var after = Interlocked.Read(ref committed);
        await stop.CancelAsync();
        await writer;

        output.WriteLine($"{stdout}{after - before} batches committed while the backup process ran");
        Assert.True(exit == 0, stderr);
        Assert.Contains("integrity ok", stdout, StringComparison.Ordinal);
        Assert.True(after > before + 10, $"the writer committed {after - before} batches while the backup ran");
        using var copy = Open(backup);
        Assert.Equal("ok", Scalar(copy, "PRAGMA integrity_check"));
        var (count, max) = ((long)Scalar(copy, "SELECT count(*) FROM batches")!, (long)Scalar(copy, "SELECT max(seq) FROM batches")!);
        Assert.True(max >= before, $"the backup holds batches up to {max}, {before} were committed before it started");
        Assert.True(max <= after, $"the backup holds batch {max}, only {after} were committed when it ended");
        // One snapshot: every batch up to the newest it holds, each with its 50 readings' points.
        Assert.Equal(max, count);
        Assert.Equal(max * 50, (long)Scalar(copy, "SELECT coalesce(sum(count), 0) FROM point_blocks JOIN series ON series.id = series_id WHERE sensor LIKE 'live-%'")!);
        Assert.Empty(Directory.GetFiles(folder.Path, ".*.tmp"));
    }

    [Fact]
    public async Task Restore_is_refused_while_a_collector_runs_then_brings_the_backup_back()
    {
        using var folder = new TempDirectory("ntp-restore-");
        var data = Path.Combine(folder.Path, "data");
        Directory.CreateDirectory(data);
        using (var store = Store(data))
        {
            Commit(store, 1, 10);
        }

        var backup = Path.Combine(folder.Path, "nightly.db");
        var (backupExit, _, backupErr) = await RunAsync(data, "backup", "--out", backup);
        Assert.True(backupExit == 0, backupErr);
        var (again, _, againErr) = await RunAsync(data, "backup", "--out", backup);
        Assert.Equal(2, again);
        Assert.Contains("exists; add --force", againErr, StringComparison.Ordinal);
        using (var store = Store(data))
        {
            // Written after the backup: the restore takes it away, the kept store still has it.
            Commit(store, 11, 15);
        }

        var port = FreePort.Next();
        await using (var collector = StartCollector(data, port))
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            await Eventually.UntilAsync(async () => await Healthy(http), "the collector is up", TimeSpan.FromSeconds(60));

            var (refused, _, refusedErr) = await RunAsync(data, "restore", backup);

            Assert.Equal(2, refused);
            Assert.Contains($"a collector is running on {data}", refusedErr, StringComparison.Ordinal);

            // Nor does a second collector start on the same data directory.
            var (second, secondOut, secondErr) = await ChildProcess.RunToEndAsync("dotnet",
                [Path.Combine(AppContext.BaseDirectory, "collector.dll"), "--urls", $"http://127.0.0.1:{FreePort.Next()}", $"--Collector:Broker:Port={FreePort.Next()}", .. DataCommandsRig.Settings(data)],
                TimeSpan.FromSeconds(60));
            Assert.Equal(2, second);
            Assert.Contains($"a collector already runs on {data}", secondErr + secondOut, StringComparison.Ordinal);
            await collector.StopAsync(TimeSpan.FromSeconds(30));
        }

        var (exit, stdout, stderr) = await RunAsync(data, "restore", backup);

        Assert.True(exit == 0, stderr);
        var kept = Assert.Single(Directory.GetFiles(data, "collector.db.before-restore-*"), f => !f.EndsWith("-wal", StringComparison.Ordinal));
        Assert.Contains(kept, stdout, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(data, "collector.db-wal")));
        using (var restored = Open(Path.Combine(data, "collector.db")))
        using (var original = Open(backup))
        {
            Assert.Equal(10L, Scalar(restored, "SELECT count(*) FROM batches"));
            Assert.Equal(Dump(original), Dump(restored));
        }

        using (var before = Open(kept))
        {
            Assert.Equal(15L, Scalar(before, "SELECT count(*) FROM batches"));
        }

        SqliteConnection.ClearAllPools();
        var again2 = FreePort.Next();
        await using (var collector = StartCollector(data, again2))
        {
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{again2}") };
            await Eventually.UntilAsync(async () => await Healthy(http), "the collector starts on the restored store", TimeSpan.FromSeconds(60));
            var series = await http.GetFromJsonAsync<JsonElement>($"/api/v1/series?sensor=dc-bench-1&field=power_w&from={Uri.EscapeDataString(T0.ToString("O"))}&to={Uri.EscapeDataString(T0.AddHours(1).ToString("O"))}&points=1000");
            Assert.Equal(10, series.GetProperty("points").EnumerateArray().Sum(p => p.GetProperty("count").GetInt64()));
            await collector.StopAsync(TimeSpan.FromSeconds(30));
        }
    }

    [Fact]
    public async Task Restore_refuses_a_file_that_is_not_a_good_collector_store()
    {
        using var folder = new TempDirectory("ntp-restore-bad-");
        var data = Path.Combine(folder.Path, "data");
        Directory.CreateDirectory(data);
        Store(data).Dispose();
        var text = Path.Combine(folder.Path, "notes.txt");
        await File.WriteAllTextAsync(text, "not a database at all, just some text that is long enough to have a header");
        var other = Path.Combine(folder.Path, "other.db");
        using (var connection = Open(other))
        {
            Scalar(connection, "CREATE TABLE t (x)");
        }

        var newer = Path.Combine(folder.Path, "newer.db");
        using (var store = Store(folder.Path))
        {
            File.Copy(store.FilePath, newer);
        }

        using (var connection = Open(newer))
        {
            Scalar(connection, "PRAGMA user_version = 99");
        }

        var cases = new (string File, string Says)[]
        {
            (Path.Combine(folder.Path, "missing.db"), "there is no file"),
            (text, "is not an SQLite database"),
            (other, "not a collector store"),
            (newer, "has schema version 99, but this collector knows versions up to"),
            (Path.Combine(data, "collector.db"), "is the store itself"),
        };
        var before = Dump(Open(Path.Combine(data, "collector.db")));

        foreach (var (file, says) in cases)
        {
            var (exit, _, stderr) = await RunAsync(data, "restore", file);
            Assert.True(exit == 2, $"{file}: exit {exit} {stderr}");
            Assert.Contains(says, stderr, StringComparison.Ordinal);
        }

        Assert.Empty(Directory.GetFiles(data, "collector.db.before-restore-*"));
        Assert.Empty(Directory.GetFiles(data, ".*.tmp"));
        Assert.Equal(before, Dump(Open(Path.Combine(data, "collector.db"))));
    }

    private static void Commit(Collector.Storage.SqliteStore store, int firstSeq, int lastSeq)
    {
        for (var seq = firstSeq; seq <= lastSeq; seq++)
        {
            var ts = T0.AddMinutes(seq - 1);
            store.Commit([Batch((ulong)seq, ts, [Reading("dc-bench-1", ReadingKinds.Dc, ts, ("power_w", seq * 1.5), ("voltage_v", 24))])]);
        }
    }

    private static ChildProcess StartCollector(string data, int httpPort) =>
        ChildProcess.StartDotnet("collector", "collector.dll",
            ["--urls", $"http://127.0.0.1:{httpPort}", $"--Collector:Broker:Port={FreePort.Next()}", .. DataCommandsRig.Settings(data)]);

    private static async Task<bool> Healthy(HttpClient http)
    {
        try
        {
            return (await http.GetAsync("/healthz")).IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static SqliteConnection Open(string path)
    {
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar();
    }

    /// <summary>The rows that hold the data: batches, series and point blocks, as text.</summary>
    private static string Dump(SqliteConnection connection)
    {
        using (connection)
        {
            using var command = connection.CreateCommand();
            command.CommandText = """
                SELECT 'b', site, device, seq, readings FROM batches
                UNION ALL SELECT 's', site, sensor, field, id FROM series
                UNION ALL SELECT 'p', series_id, start_ms, count, hex(data) FROM point_blocks
                ORDER BY 1, 2, 3, 4
                """;
            using var reader = command.ExecuteReader();
            var rows = new System.Text.StringBuilder();
            while (reader.Read())
            {
                rows.AppendJoin('|', Enumerable.Range(0, 5).Select(i => reader.GetValue(i))).Append('\n');
            }

            return rows.ToString();
        }
    }
}
