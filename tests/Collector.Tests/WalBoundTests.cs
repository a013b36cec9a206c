using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using Xunit.Abstractions;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// Issue 14: the store's WAL gives its space back after a burst, even when a reader held a snapshot
/// during the burst (which starves a PASSIVE-only checkpoint: measured 1.28 GB that never shrank).
/// </summary>
[Trait("Category", "Slow")]
public sealed class WalBoundTests(ITestOutputHelper output) : IDisposable
{
    private const long Limit = 64L * 1024 * 1024;
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task After_a_million_reading_burst_with_a_long_reader_the_wal_is_at_most_64_MiB()
    {
        const int batches = 1_000;
        const int perBatch = 1_000;
        using var store = Store(_dir);
        long largest = 0;
        var started = DateTime.UtcNow;

        // A reader holds one snapshot open from the first fifth of the burst to the second fifth.
        Microsoft.Data.Sqlite.SqliteConnection? reader = null;
        Microsoft.Data.Sqlite.SqliteTransaction? snapshot = null;
        for (var b = 0; b < batches; b++)
        {
            if (b == batches / 5)
            {
                reader = store.OpenReader();
                snapshot = reader.BeginTransaction(deferred: true);
                using var read = reader.CreateCommand();
                read.Transaction = snapshot;
                read.CommandText = "SELECT count(*) FROM series";
                read.ExecuteScalar();
            }
            else if (b == 2 * batches / 5)
            {
                snapshot!.Dispose();
                reader!.Dispose();
            }

            var readings = new Reading[perBatch];
            for (var i = 0; i < perBatch; i++)
            {
                var n = (long)b * perBatch + i;
                readings[i] = Value($"dc-bench-{n % 10}", ReadingKinds.Dc, T0.AddMilliseconds(n), "voltage_v", 24 + (n % 100) / 100.0);
            }

            Assert.Equal([CommitOutcome.Stored], store.Commit([Batch("pi-dc-lab", (ulong)b + 1, T0.AddMilliseconds((long)(b + 1) * perBatch), readings)]));
            largest = Math.Max(largest, WalCheckpointer.WalFileBytes(store.FilePath));
        }

        var burst = DateTime.UtcNow - started;
        var afterBurst = WalCheckpointer.WalFileBytes(store.FilePath);
        await Eventually.UntilAsync(() => WalCheckpointer.WalFileBytes(store.FilePath) <= Limit, "the WAL is at most 64 MiB", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        var idle = DateTime.UtcNow - started - burst;
        // Idle: the next ticks truncate it to nothing.
        await Eventually.UntilAsync(() => WalCheckpointer.WalFileBytes(store.FilePath) == 0, "the idle WAL is truncated", TimeSpan.FromSeconds(10), TimeSpan.FromMilliseconds(50));
        var emptied = DateTime.UtcNow - started - burst;
        output.WriteLine($"{batches * perBatch:N0} readings in {burst.TotalSeconds:F1} s; WAL largest {largest / 1048576.0:F1} MiB, at the end of the burst {afterBurst / 1048576.0:F1} MiB, " +
            $"at most 64 MiB {idle.TotalSeconds:F1} s after it, 0 bytes after {emptied.TotalSeconds:F1} s idle; database {new FileInfo(store.FilePath).Length / 1048576.0:F1} MiB");
    }
}
