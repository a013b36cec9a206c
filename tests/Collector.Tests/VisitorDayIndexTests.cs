using NewTechPark.Edge.Collector.Storage.Visitors;
using NewTechPark.Edge.Collector.Visitors;

namespace NewTechPark.Edge.Collector.Tests;

/// <summary>The in-memory visitor days: counts per bucket and over the whole range, partial replacement from a day on, and clearing.</summary>
public sealed class VisitorDayIndexTests
{
    private const long Day = 86_400_000;

    private static VisitorDayRow Row(int day, string visitor, long scans = 1, bool returning = false) => new(day * Day, visitor, scans, returning);

    [Fact]
    public void Counts_each_bucket_and_the_whole_range_in_one_pass()
    {
        var index = new VisitorDayIndex();
        index.Replace(long.MinValue, [Row(0, "A", 2), Row(0, "B"), Row(1, "A", 1, true), Row(3, "C"), Row(4, "B", 1, true), Row(9, "D")]);
        var (buckets, whole) = index.Current!.Count(0, 7 * Day, [(0, 2 * Day), (3 * Day, 4 * Day)]);

        Assert.Equal(new BadgeAggregate(0, 4, 2, 1), buckets[0]);           // A twice (returning on day 1), B
        Assert.Equal(new BadgeAggregate(3 * Day, 1, 1, 0), buckets[1]);     // C
        Assert.Equal(new BadgeAggregate(0, 6, 3, 2), whole);                // A, B, C; day 4 (B) is in no bucket but in the whole
        Assert.Throws<ArgumentException>(() => index.Current.Count(0, 7 * Day, [(3 * Day, 4 * Day), (0, Day)]));
    }

    [Fact]
    public void Replacing_from_a_day_keeps_the_earlier_days_and_clearing_forgets_every_pseudonym()
    {
        var index = new VisitorDayIndex();
        index.Replace(long.MinValue, [Row(0, "A"), Row(1, "B"), Row(2, "A", 1, true)]);
        var before = index.Current!;
        index.Replace(1 * Day, [Row(1, "B"), Row(1, "C"), Row(2, "A", 3, true)]);

        Assert.Equal(new BadgeAggregate(0, 3, 2, 1), before.Count(0, 3 * Day, [(0, 3 * Day)]).Buckets[0]); // a snapshot never changes
        Assert.Equal(new BadgeAggregate(0, 6, 3, 1), index.Current!.Count(0, 3 * Day, [(0, 3 * Day)]).Buckets[0]);
        Assert.Equal(3, index.Current.VisitorCount);
        Assert.Throws<InvalidOperationException>(() => index.Replace(0, [Row(2, "A"), Row(1, "B")]));

        index.Clear();
        Assert.Null(index.Current);
        index.Replace(long.MinValue, [Row(5, "Z")]);
        Assert.Equal(1, index.Current!.VisitorCount); // A, B and C are gone with the purge that clears
    }
}
