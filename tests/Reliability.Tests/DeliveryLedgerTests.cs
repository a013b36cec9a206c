using Microsoft.Extensions.Logging.Abstractions;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Contracts.Topics;

namespace NewTechPark.Edge.Reliability.Tests;

/// <summary>The collector's side: a batch stored once per (site, device, seq), late batches accepted, gaps in seq kept up to date.</summary>
public sealed class DeliveryLedgerTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("ntp-ledger-").FullName;
    private readonly SqliteStore _store;

    public DeliveryLedgerTests() => _store = new SqliteStore(Path.Combine(_directory, "collector.db"), NullLogger<SqliteStore>.Instance);

    public void Dispose()
    {
        _store.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public void Gaps_open_when_numbers_are_skipped_and_close_when_late_batches_arrive_out_of_order()
    {
        Commit(1_000_010, 1_000_011, 1_000_015);
        AssertGaps((1_000_012, 1_000_014));

        Assert.Equal([CommitOutcome.Stored, CommitOutcome.Stored], Commit(1_000_013, 1_000_020));
        AssertGaps((1_000_012, 1_000_012), (1_000_014, 1_000_014), (1_000_016, 1_000_019));

        // The same batch again (a redelivery): stored once, the gaps do not change.
        Assert.Equal([CommitOutcome.Duplicate], Commit(1_000_013));
        Assert.Equal([CommitOutcome.Stored, CommitOutcome.Stored], Commit(1_000_012, 1_000_017));
        AssertGaps((1_000_014, 1_000_014), (1_000_016, 1_000_016), (1_000_018, 1_000_019));

        // A batch from before the first one seen is accepted and is not a gap.
        Assert.Equal([CommitOutcome.Stored], Commit(1_000_001));
        var device = DeliveryLedger.Read(_store).Single();
        Assert.Equal(1_000_001UL, device.FirstSeq);
        Assert.Equal(1_000_020UL, device.LastSeq);
        Assert.Equal(4UL, device.MissingBatches);
        Assert.Equal(8 * 3, device.Readings);
    }

    private CommitOutcome[] Commit(params ulong[] seqs) =>
        _store.Commit([.. seqs.Select(seq => (IngestItem)new ReadingsItem(
            new TopicAddress("newtechpark", "pi-gaps", TopicChannel.Readings),
            new ReadingsBatch
            {
                Seq = seq,
                Sent = DateTimeOffset.UtcNow,
                Readings = [.. Enumerable.Range(0, 3).Select(i => new Reading
                {
                    Ts = DateTimeOffset.UtcNow.AddMilliseconds(-i - (double)(seq % 1000)),
                    Sensor = "load-1",
                    Kind = "load",
                    Values = new Dictionary<string, double> { ["n_total"] = seq * 10 + (ulong)i },
                })],
            },
            DateTimeOffset.UtcNow))]);

    private void AssertGaps(params (ulong From, ulong To)[] expected)
    {
        var device = DeliveryLedger.Read(_store).Single(d => d.Device == "pi-gaps");
        Assert.Equal(expected.Select(e => new SeqGap(e.From, e.To)), device.Gaps);
        Assert.Equal(expected.Length, device.GapCount);
        Assert.Equal(expected.Aggregate(0UL, (sum, e) => sum + e.To - e.From + 1), device.MissingBatches);
    }
}
