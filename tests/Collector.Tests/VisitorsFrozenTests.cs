using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Visitors;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;
using static NewTechPark.Edge.Collector.Tests.VisitorsTests;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>
/// Frozen visitor figures and the one-pass count: late scans thaw the frozen buckets they change
/// (also later ones whose "returning" moves), housekeeping freezes them again with the new
/// figures, buckets whose scans the purge may have taken keep theirs, and a window of several
/// buckets counts its totals from the visitor days, beside frozen buckets.
/// </summary>
public sealed class VisitorsFrozenTests : IDisposable
{
    private static readonly TimeSpan Summer = TimeSpan.FromHours(2);

    // Wednesday 15 September 2027, 10:00 in Apeldoorn; the retention (400 days) reaches back to 11 August 2026.
    private static readonly DateTimeOffset Now = new(2027, 9, 15, 10, 0, 0, Summer);
    private static readonly DateTimeOffset June2026 = new(2026, 6, 1, 9, 0, 0, Summer);
    private static readonly DateTimeOffset Week1 = new(2027, 8, 2, 9, 0, 0, Summer);   // Monday
    private static readonly DateTimeOffset Week2 = new(2027, 8, 9, 9, 0, 0, Summer);   // Monday
    private static readonly DateTimeOffset July = new(2027, 7, 26, 9, 0, 0, Summer);   // Monday, the week before

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static BadgeCounts Week(VisitorsService visitors, DateTimeOffset monday) =>
        visitors.Badges(visitors.Buckets.Cover(CalendarBucket.Week, monday.ToUnixTimeMilliseconds(), monday.AddHours(1).ToUnixTimeMilliseconds()), CalendarBucket.Week).Single().Value;

    private static BadgeCounts Month(VisitorsService visitors, DateTimeOffset at) =>
        visitors.Badges(visitors.Buckets.Cover(CalendarBucket.Month, at.ToUnixTimeMilliseconds(), at.AddHours(1).ToUnixTimeMilliseconds()), CalendarBucket.Month).Single().Value;

    private static List<(string Bucket, long Start, long Unique, long Returning)> Frozen(SqliteStore store)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT bucket, start_ms, unique_visitors, returning_visitors FROM visitor_aggregates ORDER BY bucket, start_ms";
        using var reader = command.ExecuteReader();
        var list = new List<(string, long, long, long)>();
        while (reader.Read())
        {
            list.Add((reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
        }

        return list;
    }

    [Fact]
    public void Late_scans_thaw_the_frozen_buckets_they_change_and_housekeeping_freezes_the_new_figures()
    {
        using var store = Store(_dir);
        // Week 1: A and B on Monday, C on Tuesday. Week 2: A again (returning).
        store.Commit([Batch("pi-entrance", 1, Week1, Scan(Week1, "A"), Scan(Week1, "B"), Scan(Week1.AddDays(1), "C"), Scan(Week2, "A"))]);
        var options = new CollectorOptions();
        options.Visitors.MinimumCount = 1;
        var (visitors, _) = Services(store, SmallSite, new FakeTimeProvider(Now), options);
        Assert.Equal(0, visitors.FreezeAndPurge());
        var week1 = Week1.AddHours(-9).ToUnixTimeMilliseconds();
        Assert.Contains(Frozen(store), f => f == ("week", week1, 3, 0));
        Assert.Equal(new BadgeCounts(3, 3, 0), Week(visitors, Week1));
        Assert.Equal(new BadgeCounts(1, 1, 1), Week(visitors, Week2));

        // An agent back after a month offline: D in week 1, and B in the week before, which makes
        // B's visit in week 1 a return. Both weeks and the month were frozen; the figures follow the scans.
        store.Commit([Batch("pi-entrance", 2, Now, Scan(Week1.AddDays(2), "D"), Scan(July, "B"))]);
        Assert.Equal(new BadgeCounts(4, 4, 1), Week(visitors, Week1));
        Assert.Equal(new BadgeCounts(1, 1, 1), Week(visitors, Week2));
        Assert.Equal(new BadgeCounts(1, 1, 0), Week(visitors, July));
        Assert.Equal(new BadgeCounts(5, 4, 2), Month(visitors, Week1)); // August: A, B, C, D; B and A returned
        Assert.DoesNotContain(Frozen(store), f => f.Bucket == "week" && f.Start == week1);

        // Housekeeping freezes them again, with the new figures, and a report reads the same.
        Assert.Equal(0, visitors.FreezeAndPurge());
        Assert.Contains(Frozen(store), f => f == ("week", week1, 4, 1));
        Assert.Equal(new BadgeCounts(4, 4, 1), Week(visitors, Week1));
        var report = visitors.Report(Week1, Week2.AddDays(1), CalendarBucket.Week);
        Assert.Equal([4L, 1L], report.Buckets.Select(b => b.UniqueVisitors.Value ?? 1));
        Assert.Equal(4, report.Totals.UniqueVisitors.Value); // A, B, C, D over both weeks, counted from the visitor days
    }

    [Fact]
    public void Frozen_buckets_whose_scans_the_purge_may_have_taken_keep_their_figures_after_a_late_scan()
    {
        using var store = Store(_dir);
        store.Commit([Batch("pi-entrance", 1, Now, Scan(June2026, "A"), Scan(June2026, "B"), Scan(June2026, "C"), Scan(June2026.AddDays(1), "B"), Scan(Week1, "A"))]);
        var (visitors, _) = Services(store, SmallSite, new FakeTimeProvider(Now));
        Assert.Equal(4, visitors.FreezeAndPurge()); // June 2026 is older than the retention: frozen, then its scans purged
        Assert.Equal(new BadgeCounts(4, 3, 1), Month(visitors, June2026));

        // A late scan of June 2026 (before the retention's reach): its month, week and year keep
        // the frozen figures, which hold scans the purge removed; the scan goes with the next purge.
        store.Commit([Batch("pi-entrance", 2, Now, Scan(June2026.AddDays(2), "Z"))]);
        Assert.Equal(new BadgeCounts(4, 3, 1), Month(visitors, June2026));
        Assert.Equal(new BadgeCounts(4, 3, 1), Week(visitors, June2026));
        Assert.Equal(1, visitors.FreezeAndPurge());
        Assert.Equal(new BadgeCounts(4, 3, 1), Month(visitors, June2026));
    }

    [Fact]
    public void A_window_of_years_counts_its_totals_over_the_kept_visitor_days_beside_a_frozen_year_and_the_annual_year_is_the_months_total()
    {
        using var store = Store(_dir);
        // 2026 (frozen once complete): A, B, C, D, E; 2027 so far: A, F (A returning).
        var spring2026 = new DateTimeOffset(2026, 9, 1, 9, 0, 0, Summer);
        store.Commit([Batch("pi-entrance", 1, Now,
            Scan(spring2026, "A"), Scan(spring2026, "B"), Scan(spring2026, "C"), Scan(spring2026, "D"), Scan(spring2026.AddDays(1), "E"),
            Scan(Week1, "A"), Scan(Week1, "F"))]);
        var options = new CollectorOptions();
        options.Visitors.MinimumCount = 1;
        var (visitors, _) = Services(store, SmallSite, new FakeTimeProvider(Now), options);
        var from = new DateTimeOffset(2023, 1, 1, 0, 0, 0, TimeSpan.FromHours(1));

        var before = visitors.Report(from, Now, CalendarBucket.Year);
        Assert.Equal(0, visitors.FreezeAndPurge());
        Assert.Contains(Frozen(store), f => f.Bucket == "year" && f.Unique == 5);
        var after = visitors.Report(from, Now, CalendarBucket.Year);
        foreach (var report in new[] { before, after })
        {
            Assert.Equal(["2023", "2024", "2025", "2026", "2027"], report.Buckets.Select(b => b.Label));
            Assert.Equal([0L, 0L, 0L, 5L, 2L], report.Buckets.Select(b => b.UniqueVisitors.Value ?? -1));
            Assert.Equal([0L, 0L, 0L, 0L, 1L], report.Buckets.Select(b => b.ReturningVisitors.Value ?? -1));
            Assert.Equal((6L, 1L), (report.Totals.UniqueVisitors.Value!.Value, report.Totals.ReturningVisitors.Value!.Value));
        }

        // The annual report's year from its months equals the year's own report, frozen or not.
        foreach (var year in new[] { 2026, 2027 })
        {
            var start = new DateTimeOffset(year, 1, 1, 0, 0, 0, TimeSpan.FromHours(1));
            var end = start.AddYears(1);
            var months = visitors.Report(start, end, CalendarBucket.Month);
            Assert.Equal(visitors.Report(start, end, CalendarBucket.Year).Buckets.Single(), visitors.AsOneBucket(months, CalendarBucket.Year));
        }

        Assert.Null(visitors.AsOneBucket(visitors.Report(from, Now, CalendarBucket.Month), CalendarBucket.Year));
    }
}
