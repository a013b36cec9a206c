using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Occupancy;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Contracts.Payloads;
using static NewTechPark.Edge.Collector.Tests.TestData;

namespace NewTechPark.Edge.Collector.Tests;

public sealed class RetentionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void Each_resolution_is_kept_for_its_own_retention()
    {
        using var store = Store(_dir);
        var now = new DateTimeOffset(2027, 6, 1, 12, 0, 0, TimeSpan.Zero);
        var old = now.AddDays(-450);
        var recent = now.AddDays(-10);
        store.Commit([Batch("pi-dc-lab", 1, now,
            Value("dc-bench-1", ReadingKinds.Dc, old, "power_w", 10), Value("dc-bench-1", ReadingKinds.Dc, old.AddSeconds(1), "power_w", 20),
            Value("dc-bench-1", ReadingKinds.Dc, recent, "power_w", 30))]);
        var clock = new FakeTimeProvider(now);
        var options = new CollectorOptions();
        options.Retention.Raw = TimeSpan.FromDays(30);
        var o = Options.Create(options);
        var (visitors, _) = VisitorsTests.Services(store, SmallSite, clock, options);
        var retention = new RetentionService(store, new OccupancyHistory(store, SmallSite, o, clock), visitors, o, clock, NullLogger<RetentionService>.Instance);

        retention.RunOnce();

        var queries = new StoreQueries(store);
        Assert.Equal(1, queries.Counts().Points); // only the recent raw point
        var id = queries.SeriesId(SiteId, "dc-bench-1", "power_w")!.Value;
        Assert.Single(queries.Rollups(id, Resolution.Minute, 0, long.MaxValue)); // minutes: 400 days
        Assert.Equal(2, queries.Rollups(id, Resolution.Hour, 0, long.MaxValue).Count); // hours: for ever
        var oldDay = queries.Rollups(id, Resolution.Day, 0, long.MaxValue).First();
        Assert.Equal((10.0, 20.0, 30.0, 2L), (oldDay.Min, oldDay.Max, oldDay.Sum, oldDay.Count));
        // A series chart over the old day still answers from the hour rollups.
        var chart = queries.Series(SiteId, "dc-bench-1", "power_w", old.AddHours(-12), old.AddHours(12), 24)!;
        Assert.Equal(2, chart.Points.Sum(p => p.Count));
    }
}
