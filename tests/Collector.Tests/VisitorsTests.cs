using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Visitors;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

public sealed class VisitorsTests : IDisposable
{
    // Monday 1 June 2026, 09:00 in Apeldoorn.
    private static readonly DateTimeOffset Monday = new(2026, 6, 1, 9, 0, 0, TimeSpan.FromHours(2));

    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    public static Reading Scan(DateTimeOffset ts, string visitor) =>
        new() { Ts = ts, Sensor = "badge-entrance", Kind = ReadingKinds.Badge, Visitor = (visitor + "0000000000000000000000")[..22] };

    public static (VisitorsService Visitors, GroupVisits Groups) Services(SqliteStore store, SiteModel site, TimeProvider clock, CollectorOptions? options = null)
    {
        var o = Options.Create(options ?? new CollectorOptions());
        var groups = new GroupVisits(store, site, clock);
        return (new VisitorsService(store, site, new StoreQueries(store), groups, o, clock), groups);
    }

    private static void CraftedWeek(SqliteStore store)
    {
        // Monday: A–F (A twice). Tuesday: A, B, G. Wednesday: A–E, H, I. Next Monday: G.
        store.Commit([Batch("pi-entrance", 1, Monday,
            Scan(Monday, "A"), Scan(Monday.AddHours(3), "A"), Scan(Monday, "B"), Scan(Monday, "C"), Scan(Monday, "D"), Scan(Monday, "E"), Scan(Monday, "F"),
            Scan(Monday.AddDays(1), "A"), Scan(Monday.AddDays(1), "B"), Scan(Monday.AddDays(1), "G"),
            Scan(Monday.AddDays(2), "A"), Scan(Monday.AddDays(2), "B"), Scan(Monday.AddDays(2), "C"), Scan(Monday.AddDays(2), "D"), Scan(Monday.AddDays(2), "E"),
            Scan(Monday.AddDays(2), "H"), Scan(Monday.AddDays(2), "I"),
            Scan(Monday.AddDays(7), "G"))]);
        // Visits through the main door: 40 on Monday (one reading lost: the totals bring it back), 12 on Tuesday.
        store.Commit([Batch("pi-entrance", 2, Monday,
            Door(DoorMain, Monday.AddMinutes(-1), 0, 0, 1000, 1000),
            Door(DoorMain, Monday.AddMinutes(1), 30, 0, 1030, 1000),
            Door(DoorMain, Monday.AddMinutes(3), 5, 0, 1040, 1000),
            Door(DoorMain, Monday.AddDays(1), 12, 0, 1052, 1000))]);
    }

    [Fact]
    public void Unique_and_returning_visitors_per_day_week_and_month_with_small_counts_hidden()
    {
        using var store = Store(_dir);
        CraftedWeek(store);
        var clock = new FakeTimeProvider(Monday.AddDays(10));
        var (visitors, _) = Services(store, SmallSite, clock);

        var days = visitors.Report(Monday.AddHours(-9), Monday.AddDays(3).AddHours(-9), CalendarBucket.Day).Buckets;
        Assert.Equal(["2026-06-01", "2026-06-02", "2026-06-03"], days.Select(d => d.Label));
        Assert.Equal([6L, null, 7L], days.Select(d => d.UniqueVisitors.Value));
        Assert.Equal(["6", "< 5", "7"], days.Select(d => d.UniqueVisitors.Display));
        Assert.Equal(["0", "< 5", "5"], days.Select(d => d.ReturningVisitors.Display));
        Assert.Equal([40L, 12L, 0L], days.Select(d => d.Visits));

        var weeks = visitors.Report(Monday, Monday.AddDays(8), CalendarBucket.Week).Buckets;
        Assert.Equal("2026-W23", weeks[0].Label);
        Assert.Equal(9, weeks[0].UniqueVisitors.Value);   // A–I
        Assert.Equal(5, weeks[0].ReturningVisitors.Value); // A, B on Tuesday; C, D, E on Wednesday
        Assert.Equal("< 5", weeks[1].UniqueVisitors.Display); // G alone
        Assert.Equal("< 5", weeks[1].ReturningVisitors.Display); // G came back

        var june = visitors.Report(Monday, Monday.AddDays(20), CalendarBucket.Month).Buckets.Single();
        Assert.Equal((9L, 6L, 52L), (june.UniqueVisitors.Value!.Value, june.ReturningVisitors.Value!.Value, june.Visits));
    }

    [Fact]
    public void Raw_scans_are_purged_after_the_retention_and_the_figures_stay()
    {
        using var store = Store(_dir);
        CraftedWeek(store);
        var clock = new FakeTimeProvider(Monday.AddDays(10));
        var (visitors, _) = Services(store, SmallSite, clock);
        var before = visitors.Report(Monday.AddHours(-9), Monday.AddDays(14), CalendarBucket.Week);

        Assert.Equal(0, visitors.FreezeAndPurge()); // frozen where complete, nothing old enough to delete
        clock.SetUtcNow(Monday.AddDays(420));
        Assert.Equal(18, visitors.FreezeAndPurge());
        using (var connection = store.OpenReader())
        using (var count = connection.CreateCommand())
        {
            count.CommandText = "SELECT count(*) FROM badge_scans";
            Assert.Equal(0L, (long)count.ExecuteScalar()!);
        }

        var after = visitors.Report(Monday.AddHours(-9), Monday.AddDays(14), CalendarBucket.Week);
        Assert.Equal(before.Buckets.Select(b => (b.UniqueVisitors, b.ReturningVisitors)), after.Buckets.Select(b => (b.UniqueVisitors, b.ReturningVisitors)));
        var year = visitors.Report(Monday, Monday.AddDays(1), CalendarBucket.Year).Buckets.Single();
        Assert.Equal((9L, 6L), (year.UniqueVisitors.Value!.Value, year.ReturningVisitors.Value!.Value));
    }

    [Fact]
    public void Group_visits_are_checked_and_counted_per_bucket()
    {
        using var store = Store(_dir);
        var clock = new FakeTimeProvider(Monday);
        var (visitors, groups) = Services(store, SmallSite, clock);

        Assert.NotEmpty(groups.Check(new GroupVisitRequest(null, "Technodiscovery", "groep 7", 0, "nowhere", null, null)));
        Assert.Equal(4, groups.Check(new GroupVisitRequest(null, "Technodiscovery", "groep 7", 0, "nowhere", null, null)).Count);
        var request = new GroupVisitRequest(new DateOnly(2026, 6, 2), "technodiscovery", "po", 27, Lab, null, "De Zonnewijzer, groep 7");
        Assert.Empty(groups.Check(request));
        var visit = groups.Register(request);
        Assert.Equal(("Technodiscovery", "PO", 27), (visit.Programme, visit.TargetGroup, visit.HeadCount));
        groups.Register(new GroupVisitRequest(new DateOnly(2026, 6, 3), "Techniekfestival", "VO", 3, null, true, null));

        var days = visitors.Report(Monday.AddHours(-9), Monday.AddDays(3).AddHours(-9), CalendarBucket.Day).Buckets;
        Assert.Equal([0L, 1L, 1L], days.Select(d => d.GroupVisits));
        Assert.Equal([0L, 27L, 3L], days.Select(d => d.GroupHeadCount)); // registered head counts are not hidden
        Assert.Equal([0, 0, 1], days.Select(d => d.EventDays));
        Assert.True(groups.Delete(visit.Id));
        Assert.False(groups.Delete(visit.Id));
    }
}
