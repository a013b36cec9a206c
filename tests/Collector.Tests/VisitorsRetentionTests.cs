using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Visitors;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;
using static NewTechPark.Edge.Collector.Tests.VisitorsTests;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// The raw-scan purge with scans on both sides of the retention: what is older goes, what is
/// inside stays, and the unique and returning visitors of every completed day, week, month and
/// year read the same afterwards.
/// </summary>
public sealed class VisitorsRetentionTests : IDisposable
{
    private static readonly TimeSpan Summer = TimeSpan.FromHours(2);

    // Wednesday 15 September 2027, 10:00 in Apeldoorn; the retention (400 days) reaches back to 11 August 2026, 10:00.
    private static readonly DateTimeOffset Now = new(2027, 9, 15, 10, 0, 0, Summer);
    private static readonly DateTimeOffset Cutoff = Now.AddDays(-400);
    private static readonly DateTimeOffset OldMonday = new(2026, 6, 1, 9, 0, 0, Summer);
    private static readonly DateTimeOffset AugustMonday = new(2027, 8, 2, 9, 0, 0, Summer);
    private static readonly DateTimeOffset SeptemberMonday = new(2027, 9, 13, 9, 0, 0, Summer);

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>
    /// June 2026 (purged): A, B, C on Monday, B on Tuesday. Around the cutoff: P an hour before it
    /// (purged), K an hour after it (kept). August 2027: A, B, C, J on Monday, A and J on Tuesday.
    /// Monday 13 September 2027 (not frozen yet): B, K, L.
    /// </summary>
    private static int Scans(SqliteStore store)
    {
        Reading[] scans =
        [
            Scan(OldMonday, "A"), Scan(OldMonday, "B"), Scan(OldMonday, "C"), Scan(OldMonday.AddDays(1), "B"),
            Scan(Cutoff.AddHours(-1), "P"), Scan(Cutoff.AddHours(1), "K"),
            Scan(AugustMonday, "A"), Scan(AugustMonday, "B"), Scan(AugustMonday, "C"), Scan(AugustMonday, "J"),
            Scan(AugustMonday.AddDays(1), "A"), Scan(AugustMonday.AddDays(1), "J"),
            Scan(SeptemberMonday, "B"), Scan(SeptemberMonday, "K"), Scan(SeptemberMonday, "L"),
        ];
        store.Commit([Batch("pi-entrance", 1, Now, scans)]);
        return scans.Length;
    }

    private static readonly (CalendarBucket Bucket, DateTimeOffset From, DateTimeOffset To)[] Completed =
    [
        (CalendarBucket.Day, OldMonday.AddHours(-9), OldMonday.AddDays(2).AddHours(-9)),
        (CalendarBucket.Week, OldMonday, OldMonday.AddDays(1)),
        (CalendarBucket.Month, OldMonday, OldMonday.AddDays(1)),
        (CalendarBucket.Day, Cutoff.AddHours(-10), Cutoff.AddHours(2)),
        (CalendarBucket.Month, Cutoff, Cutoff.AddHours(1)),
        (CalendarBucket.Year, OldMonday, OldMonday.AddDays(1)),
        (CalendarBucket.Day, AugustMonday.AddHours(-9), AugustMonday.AddDays(2).AddHours(-9)),
        (CalendarBucket.Week, AugustMonday, AugustMonday.AddDays(1)),
        (CalendarBucket.Month, AugustMonday, AugustMonday.AddDays(1)),
    ];

    private static Dictionary<long, BadgeCounts> Counts(VisitorsService visitors, CalendarBucket bucket, DateTimeOffset from, DateTimeOffset to) =>
        visitors.Badges(visitors.Buckets.Cover(bucket, from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds()), bucket);

    [Fact]
    public void Scans_older_than_the_retention_go_those_inside_stay_and_completed_periods_keep_their_figures()
    {
        using var store = Store(_dir);
        var total = Scans(store);
        var clock = new FakeTimeProvider(Now);
        var (visitors, _) = Services(store, SmallSite, clock);
        var before = Completed.Select(c => Counts(visitors, c.Bucket, c.From, c.To)).ToList();
        var openDay = Counts(visitors, CalendarBucket.Day, SeptemberMonday, SeptemberMonday.AddHours(1)).Single().Value;
        var openYear = Counts(visitors, CalendarBucket.Year, Now, Now.AddHours(1)).Single().Value;

        // The figures the purge must not change, worked out by hand.
        Assert.Equal(new[] { new BadgeCounts(3, 3, 0), new BadgeCounts(1, 1, 1) }, before[0].Values);    // 1 and 2 June 2026
        Assert.Equal(new BadgeCounts(4, 3, 1), before[2].Values.Single());                       // June 2026
        Assert.Equal(new BadgeCounts(2, 2, 0), before[3].Values.Single());                       // 11 August 2026: P and K
        Assert.Equal(new BadgeCounts(6, 5, 1), before[5].Values.Single());                       // 2026: A, B, C, P, K; B returned
        Assert.Equal(new[] { new BadgeCounts(4, 4, 3), new BadgeCounts(2, 2, 2) }, before[6].Values);    // 2 and 3 August 2027: A, B, C came back from 2026
        Assert.Equal(new BadgeCounts(6, 4, 4), before[8].Values.Single());                       // August 2027
        Assert.Equal(new BadgeCounts(3, 3, 2), openDay);                                         // 13 September: B and K came back
        Assert.Equal(new BadgeCounts(9, 6, 5), openYear);                                        // 2027 so far: all but L came back

        Assert.Equal(5, visitors.FreezeAndPurge()); // the four June 2026 scans and P are older than 400 days

        using (var connection = store.OpenReader())
        using (var left = connection.CreateCommand())
        {
            left.CommandText = "SELECT count(*), min(ts_ms) FROM badge_scans";
            using var reader = left.ExecuteReader();
            Assert.True(reader.Read());
            Assert.Equal(total - 5L, reader.GetInt64(0));
            Assert.Equal(Cutoff.AddHours(1).ToUnixTimeMilliseconds(), reader.GetInt64(1)); // K, an hour inside the retention, stays
        }

        var after = Completed.Select(c => Counts(visitors, c.Bucket, c.From, c.To)).ToList();
        for (var i = 0; i < Completed.Length; i++)
        {
            Assert.Equal(before[i], after[i]);
        }

        // The running day still sees B and K as returning: their earlier scans inside the retention are kept.
        Assert.Equal(openDay, Counts(visitors, CalendarBucket.Day, SeptemberMonday, SeptemberMonday.AddHours(1)).Single().Value);

        // The running year is counted from the kept scans until it is frozen a week after it ends:
        // C's only earlier visit (June 2026) is gone, so C no longer counts as returning in 2027.
        // Unique visitors do not change; returning ones look back as far as the retention does.
        Assert.Equal(openYear with { Returning = openYear.Returning - 1 }, Counts(visitors, CalendarBucket.Year, Now, Now.AddHours(1)).Single().Value);

        // A second run deletes nothing more and changes nothing.
        Assert.Equal(0, visitors.FreezeAndPurge());
        Assert.Equal(after[5], Counts(visitors, Completed[5].Bucket, Completed[5].From, Completed[5].To));
    }

    [Fact]
    public void A_purged_pseudonym_leaves_the_database_file_not_only_the_table()
    {
        using var store = Store(_dir);
        store.Commit([Batch("pi-entrance", 1, Now, Scan(OldMonday, "Q"), Scan(AugustMonday, "R"))]);
        Checkpoint(store); // the scans are in collector.db itself, the WAL is empty
        var (visitors, _) = Services(store, SmallSite, new FakeTimeProvider(Now));

        Assert.Equal(1, visitors.FreezeAndPurge());
        Checkpoint(store);

        var purged = System.Text.Encoding.ASCII.GetBytes(Scan(OldMonday, "Q").Visitor!);
        var kept = System.Text.Encoding.ASCII.GetBytes(Scan(AugustMonday, "R").Visitor!);
        var files = Directory.GetFiles(_dir.Path).Select(f => (Name: Path.GetFileName(f), Bytes: ReadShared(f))).ToList();
        Assert.Contains(files, f => f.Bytes.AsSpan().IndexOf(kept) >= 0); // the search finds what is there
        Assert.All(files, f => Assert.True(f.Bytes.AsSpan().IndexOf(purged) < 0, $"the purged pseudonym is still in {f.Name}"));
    }

    private static void Checkpoint(SqliteStore store)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read());
        Assert.Equal(0L, reader.GetInt64(0)); // not busy: the whole WAL went into the file
    }

    private static byte[] ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var memory = new MemoryStream();
        stream.CopyTo(memory);
        return memory.ToArray();
    }
}
