using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Backup;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.DataCommands.DataCommandsRig;

namespace NewTechPark.Edge.Collector.Tests.DataCommands;

/// <summary>
/// SQLite restarts a backup when another connection writes the source between two steps; the
/// backup holds one read transaction instead, so a commit between every pair of steps neither
/// restarts it nor gets into the copy. (Checked the other way: without the read transaction this
/// copy restarts after every step and never ends.)
/// </summary>
public sealed class StoreBackupTests
{
    [Fact]
    public void A_commit_between_every_step_neither_restarts_the_copy_nor_gets_into_it()
    {
        using var folder = new TempDirectory("ntp-backup-steps-");
        using var store = Store(folder.Path);
        var t0 = Utc("2026-11-02T08:00:00Z");
        var random = new Random(5);
        // About 12 MB: three backup steps.
        WriteBlocks(store.FilePath, "noise", ReadingKinds.Dc, "power_w", t0.AddDays(-10).ToUnixTimeMilliseconds(), 1000, 1_500_000, _ => random.NextDouble());
        ulong seq = 0;
        store.Commit([Batch(++seq, t0, [Reading("dc-bench-1", ReadingKinds.Dc, t0, ("power_w", 1))])]);
        var steps = new List<(long Done, long Total)>();

        var result = StoreBackup.Run(store.FilePath, folder.File("copy.db"), overwrite: false, (done, total) =>
        {
            // A restarted copy starts again from page 0 (and, with a commit after every step, would never end): stop it here.
            Assert.True(steps.Count == 0 || done > steps[^1].Done, $"the backup went back from page {(steps.Count == 0 ? 0 : steps[^1].Done)} to {done}");
            steps.Add((done, total));
            var ts = t0.AddSeconds((double)seq);
            store.Commit([Batch(++seq, ts, [Reading("dc-bench-1", ReadingKinds.Dc, ts, ("power_w", (double)seq))])]);
        }, CancellationToken.None);

        Assert.True(steps.Count >= 3, $"{steps.Count} steps");
        // Never back to the start: each step copies more, the total stays that of the snapshot.
        Assert.All(steps.Zip(steps.Skip(1)), p => Assert.True(p.Second.Done > p.First.Done));
        Assert.All(steps, s => Assert.Equal(result.Pages, s.Total));
        Assert.Equal(result.Pages, steps[^1].Done);
        using var copy = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = result.Path, Pooling = false }.ToString());
        copy.Open();
        using var command = copy.CreateCommand();
        command.CommandText = "SELECT count(*), max(seq) FROM batches";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(1, reader.GetInt64(0));
        Assert.Equal(1, reader.GetInt64(1));
        Assert.True(seq > 3);
    }
}
