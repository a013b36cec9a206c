using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests.Trust;

/// <summary>The store's own trust rules: a stored point stays, series are capped, seq sums never overflow.</summary>
public sealed class StoreTrustTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 28, 9, 15, 0, TimeSpan.Zero);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void A_second_value_for_the_same_series_and_time_never_replaces_the_first()
    {
        using var store = Store(_dir);
        var queries = new StoreQueries(store);
        store.Commit([Batch("pi-dc-lab", 1, T0, Value("dc-bench-1", ReadingKinds.Dc, T0, "voltage_v", 24.0))]);

        var outcomes = store.Commit([Batch("pi-dc-lab", 2, T0.AddSeconds(1), Value("dc-bench-1", ReadingKinds.Dc, T0, "voltage_v", 99.0))]);

        Assert.Equal([CommitOutcome.Stored], outcomes);
        var point = Assert.Single(queries.Series(SiteId, "dc-bench-1", "voltage_v", T0, T0.AddMinutes(1), 10)!.Points);
        Assert.Equal(24.0, point.Max);
        Assert.Equal(1, store.ConflictingPoints);

        // The same value again (a replay) is no conflict.
        store.Commit([Batch("pi-dc-lab", 3, T0.AddSeconds(2), Value("dc-bench-1", ReadingKinds.Dc, T0, "voltage_v", 24.0))]);
        Assert.Equal(1, store.ConflictingPoints);
    }

    [Fact]
    public void A_batch_past_the_new_series_cap_is_refused_whole_and_kept_as_a_dead_letter()
    {
        using var store = new SqliteStore(_dir.File("collector.db"), Microsoft.Extensions.Logging.Abstractions.NullLogger<SqliteStore>.Instance)
        {
            SeriesLimits = new() { MaxNewSeriesPerDevicePerHour = 64, MaxSeries = 100 },
        };
        var queries = new StoreQueries(store);

        var first = NewSeriesCostTests.ManyNewSeries("pi-dc-lab", 1, 2, 32, "a"); // 64 new series: at the cap
        var second = NewSeriesCostTests.ManyNewSeries("pi-dc-lab", 2, 1, 1, "b"); // one more this hour
        var other = NewSeriesCostTests.ManyNewSeries("pi-other", 1, 2, 32, "c"); // 64 more: past the total
        Assert.Equal([CommitOutcome.Stored, CommitOutcome.Refused, CommitOutcome.Refused], store.Commit([first, second, other]));

        var (batches, points, deadLetters) = queries.Counts();
        Assert.Equal((1L, 64L, 2L), (batches, points, deadLetters));

        // The next hour the device may create series again; points of known series always go in.
        var later = second with { Received = second.Received.AddHours(1) };
        Assert.Equal([CommitOutcome.Stored], store.Commit([later]));
        Assert.Equal([CommitOutcome.Stored], store.Commit([NewSeriesCostTests.ManyNewSeries("pi-dc-lab", 1, 2, 32, "a") with { Batch = first.Batch with { Seq = 9 } }]));
    }

    [Fact]
    public void Seq_gaps_near_two_to_the_63_are_summed_without_overflow()
    {
        using var store = Store(_dir);
        foreach (var seq in new ulong[] { 1, (1UL << 62) + 1, long.MaxValue })
        {
            store.Commit([Batch("pi-dc-lab", seq, T0, Value("dc-bench-1", ReadingKinds.Dc, T0, "voltage_v", 24.0))]);
        }

        var device = DeliveryLedger.Read(store).Single();
        Assert.Equal((ulong)long.MaxValue, device.LastSeq);
        Assert.Equal(2, device.GapCount);
        Assert.True(device.MissingBatches > 9_000_000_000_000_000_000UL);
    }
}
