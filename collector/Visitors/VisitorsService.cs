using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Rollups;
using NewTechPark.Edge.Collector.Storage.Visitors;
using NewTechPark.Edge.Contracts.Payloads;
using NewTechPark.Edge.Collector.Occupancy;

namespace NewTechPark.Edge.Collector.Visitors;

/// <summary>A count as shown: the number, or null with "&lt; 5" when it is too small to show (privacy).</summary>
public sealed record ShownCount(long? Value, string Display)
{
    public static ShownCount Of(long value, int minimum) =>
        value > 0 && value < minimum ? new ShownCount(null, $"< {minimum}") : new ShownCount(value, value.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>Visitors in one bucket.</summary>
public sealed record VisitorBucket(
    DateTimeOffset Start,
    DateTimeOffset End,
    string Label,
    long Visits,
    ShownCount UniqueVisitors,
    ShownCount ReturningVisitors,
    long GroupVisits,
    long GroupHeadCount,
    int EventDays);

/// <summary>Visitors per day, week, month or year.</summary>
public sealed record VisitorsReport(DateTimeOffset From, DateTimeOffset To, string Bucket, string TimeZone, int MinimumCount, IReadOnlyList<VisitorBucket> Buckets, VisitorBucket Totals);

/// <summary>Unique and returning badge visitors of one bucket.</summary>
public readonly record struct BadgeCounts(long Scans, long Unique, long Returning);

/// <summary>
/// Visits, unique and returning visitors. Visits are entries through the doors from outside,
/// per local day from the door rollups: the increase of <c>in_total</c> (which brings back
/// crossings of lost readings and starts a new segment on a reset) or the sum of <c>in</c>,
/// whichever is larger (devices that send no totals). Unique visitors are distinct badge
/// pseudonyms in the bucket; returning visitors are those of them seen on an earlier local day
/// (in an earlier bucket or earlier in the same one). Badge counts from 1 to 4 are shown as
/// "&lt; 5". A bucket's badge counts are frozen a week after it ended, so raw scans can be
/// purged after the retention while the figures stay; late scans thaw the frozen buckets they
/// change (within the retention) and housekeeping freezes them again. Open buckets, and a window of
/// several buckets, are counted from the visitor days (each pseudonym's scans per local day),
/// rebuilt only for the days that got new scans and held in memory as numbers
/// (<see cref="VisitorDayIndex"/>): a request is one pass over a year's rows, whatever the buckets.
/// </summary>
public sealed class VisitorsService(SqliteStore store, SiteModel site, StoreQueries queries, GroupVisits groups, IOptions<CollectorOptions> options, TimeProvider clock)
{
    private readonly TimeBuckets _buckets = new(TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));
    private static readonly CalendarBucket[] FrozenKinds = [CalendarBucket.Day, CalendarBucket.Week, CalendarBucket.Month, CalendarBucket.Year];

    private readonly VisitorsStore _db = new(store);
    private readonly Lock _gate = new();
    private readonly VisitorDayIndex _days = new();

    public TimeBuckets Buckets => _buckets;

    public VisitorsReport Report(DateTimeOffset from, DateTimeOffset to, CalendarBucket bucket)
    {
        RefreshDays();
        var minimum = options.Value.Visitors.MinimumCount;
        var cover = _buckets.Cover(bucket, from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
        var fromMs = cover.Count == 0 ? from.ToUnixTimeMilliseconds() : cover[0].Start;
        var toMs = cover.Count == 0 ? to.ToUnixTimeMilliseconds() : cover[^1].End;
        var visits = VisitsPerDay(fromMs, toMs);
        // Over one bucket the totals are that bucket (frozen figures survive the scan purge);
        // over several, unique visitors are counted again from the kept visitor days, in the same
        // pass that counts the buckets that are not frozen.
        var (badges, whole) = BadgesAndWhole(cover, bucket, (fromMs, toMs));
        var groupList = groups.List(fromMs, toMs);
        var eventDays = EventDays(visits, groupList);
        // Buckets are in time order: each day, group and event day finds its bucket by a binary search.
        var visitsIn = new long[cover.Count];
        var groupsIn = new long[cover.Count];
        var headsIn = new long[cover.Count];
        var eventsIn = new int[cover.Count];
        foreach (var (day, count) in visits)
        {
            if (IndexOf(cover, day) is var i and >= 0)
            {
                visitsIn[i] = checked(visitsIn[i] + count);
            }
        }

        foreach (var g in groupList)
        {
            if (IndexOf(cover, groups.DayStart(g.Date)) is var i and >= 0)
            {
                groupsIn[i]++;
                headsIn[i] = checked(headsIn[i] + g.HeadCount);
            }
        }

        foreach (var day in eventDays)
        {
            if (IndexOf(cover, day) is var i and >= 0)
            {
                eventsIn[i]++;
            }
        }

        var buckets = cover.Select((c, i) =>
        {
            var b = badges.GetValueOrDefault(c.Start);
            return new VisitorBucket(At(c.Start), At(c.End), _buckets.Label(bucket, c.Start), visitsIn[i],
                ShownCount.Of(b.Unique, minimum), ShownCount.Of(b.Returning, minimum), groupsIn[i], headsIn[i], eventsIn[i]);
        }).ToList();
        var totals = new VisitorBucket(At(fromMs), At(toMs), "total", buckets.Sum(b => b.Visits), ShownCount.Of(whole.Unique, minimum), ShownCount.Of(whole.Returning, minimum),
            groupList.Count, groupList.Sum(v => (long)v.HeadCount), eventDays.Count);
        return new VisitorsReport(At(fromMs), At(toMs), bucket.Name(), site.TimeZone, minimum, buckets, totals);
    }

    /// <summary>
    /// The report's whole window as the single bucket that <c>Report(from, to, bucket)</c> gives
    /// when the window is exactly one bucket of that kind (a year of month buckets: the year), from
    /// the report's totals and that bucket's frozen figures, without counting the window again;
    /// null when the window is not one such bucket.
    /// </summary>
    public VisitorBucket? AsOneBucket(VisitorsReport report, CalendarBucket bucket)
    {
        var fromMs = report.From.ToUnixTimeMilliseconds();
        var toMs = report.To.ToUnixTimeMilliseconds();
        var cover = _buckets.Cover(bucket, fromMs, toMs);
        if (cover.Count != 1 || cover[0] != (fromMs, toMs))
        {
            return null;
        }

        var whole = report.Totals with { Label = _buckets.Label(bucket, fromMs) };
        return Frozen(bucket.Name(), fromMs, fromMs + 1).TryGetValue(fromMs, out var frozen)
            ? whole with { UniqueVisitors = ShownCount.Of(frozen.Unique, report.MinimumCount), ReturningVisitors = ShownCount.Of(frozen.Returning, report.MinimumCount) }
            : whole;
    }

    /// <summary>Entries from outside per local day (day start → visits).</summary>
    public Dictionary<long, long> VisitsPerDay(long fromMs, long toMs)
    {
        var days = new Dictionary<long, long>();
        foreach (var door in site.Doors.Where(d => d.From == SiteModel.Outside))
        {
            var totals = Rows(door.Id, ReadingKinds.DoorValues.InTotal, fromMs, toMs);
            var crossings = Rows(door.Id, ReadingKinds.DoorValues.In, fromMs, toMs);
            foreach (var day in totals.Keys.Union(crossings.Keys))
            {
                var fromTotals = Saturating.Count(Math.Round(totals.GetValueOrDefault(day)?.Increase ?? 0));
                var fromCrossings = Saturating.Count(Math.Round(crossings.GetValueOrDefault(day)?.Sum ?? 0));
                days[day] = Saturating.Add(days.GetValueOrDefault(day), Math.Max(fromTotals, fromCrossings));
            }
        }

        return days;
    }

    /// <summary>Local days (start) that count as event days: visits at or above the threshold, or a group registered as an event.</summary>
    public HashSet<long> EventDays(Dictionary<long, long> visitsPerDay, IReadOnlyList<GroupVisit> groupList)
    {
        var threshold = options.Value.Visitors.EventDayVisits;
        var days = visitsPerDay.Where(d => d.Value >= threshold).Select(d => d.Key).ToHashSet();
        days.UnionWith(groupList.Where(g => g.Event).Select(g => groups.DayStart(g.Date)));
        return days;
    }

    /// <summary>Badge counts per bucket (local days or longer): frozen aggregates where they exist, else from the visitor days.</summary>
    public Dictionary<long, BadgeCounts> Badges(IReadOnlyList<(long Start, long End)> cover, CalendarBucket? bucket)
    {
        if (cover.Count == 0)
        {
            return [];
        }

        var sorted = cover.OrderBy(c => c.Start).ToList();
        return BadgesAndWhole(sorted, bucket, whole: null).Buckets;
    }

    /// <summary>
    /// Badge counts of each bucket of the sorted cover (frozen where they exist, else counted from
    /// the visitor days) and, when <paramref name="whole"/> is given, of that whole range, all in
    /// one pass over the visitor days. A whole that is the cover's single bucket is that bucket.
    /// </summary>
    private (Dictionary<long, BadgeCounts> Buckets, BadgeCounts Whole) BadgesAndWhole(IReadOnlyList<(long Start, long End)> cover, CalendarBucket? bucket, (long From, long To)? whole)
    {
        var days = Days();
        var result = new Dictionary<long, BadgeCounts>();
        var frozen = bucket is { } b && cover.Count > 0 ? Frozen(b.Name(), cover[0].Start, cover[^1].End) : [];
        var open = new List<(long Start, long End)>();
        foreach (var c in cover)
        {
            if (frozen.TryGetValue(c.Start, out var counts))
            {
                result[c.Start] = counts;
            }
            else
            {
                open.Add(c);
            }
        }

        var single = whole is { } w && cover.Count == 1 && cover[0] == w;
        var range = whole is { } r && !single ? r : open.Count > 0 ? (open[0].Start, open[^1].End) : ((long, long)?)null;
        var counted = default(BadgeAggregate);
        if (range is var (from, to))
        {
            var (perBucket, all) = days.Count(from, to, open);
            foreach (var a in perBucket)
            {
                result[a.Start] = new BadgeCounts(a.Scans, a.Unique, a.Returning);
            }

            counted = all;
        }

        return (result, single ? result[cover[0].Start] : new BadgeCounts(counted.Scans, counted.Unique, counted.Returning));
    }

    /// <summary>Rebuilds the visitor days of the local days that got new badge scans since the last call (<c>changed_days</c>).</summary>
    public void RefreshDays()
    {
        lock (_gate)
        {
            RefreshDaysLocked();
        }
    }

    /// <summary>
    /// Upkeep (<see cref="Reports.DerivedFiguresService"/>): rebuilds the marked days and loads the
    /// visitor days into memory if they are not yet, so the first page load after a start finds them.
    /// </summary>
    public void Follow() => Days();

    /// <summary>The visitor days as they are after bringing the marked days up to date (loaded on first use).</summary>
    private VisitorDayIndex.Snapshot Days()
    {
        lock (_gate)
        {
            RefreshDaysLocked();
            if (_days.Current is not { } current)
            {
                _days.Replace(long.MinValue, _db.Days(site.Site, long.MinValue));
                current = _days.Current!;
            }

            return current;
        }
    }

    private void RefreshDaysLocked()
    {
        var marks = ChangedDays.Read(store, site.Site, ChangedDays.Badge);
        if (marks.Count == 0)
        {
            return;
        }

        // A mark is a UTC day: rebuild every local day it overlaps.
        var days = new SortedSet<long>();
        foreach (var mark in marks)
        {
            for (var day = _buckets.Floor(Resolution.Day, mark.DayMs); day < mark.DayMs + ChangedDays.DayMs; day = _buckets.Next(Resolution.Day, day))
            {
                days.Add(day);
            }
        }

        // Late scans change the figures of the buckets that hold their days, and a pseudonym's new
        // first day changes "returning" on its later days: every frozen bucket that ends after the
        // first rebuilt day is dropped (frozen buckets ended a week ago, so scans of the last days
        // drop none) and frozen again by the next housekeeping.
        var first = days.Min;
        var thaw = FrozenKinds.Select(b => (b.Name(), _buckets.Floor(b, first))).ToList();
        var keptSince = clock.GetUtcNow().ToUnixTimeMilliseconds() - (long)options.Value.Visitors.ScanRetention.TotalMilliseconds;
        try
        {
            _db.RebuildDays(site.Site, days.Select(d => (d, _buckets.Next(Resolution.Day, d))).ToList(), marks, thaw, keptSince);

            // Rows before the first rebuilt day did not change (its pseudonyms' earlier days keep
            // their flags); from it on they are read again.
            if (_days.Current is not null)
            {
                _days.Replace(first, _db.Days(site.Site, first));
            }
        }
        catch
        {
            // Whatever failed, the copy in memory is loaded again on its next use, never left stale.
            _days.Clear();
            throw;
        }
    }

    /// <summary>
    /// Freezes the badge counts of every day, week, month and year that ended at least
    /// <see cref="VisitorsOptions.FreezeAfter"/> ago, then deletes raw scans older than the retention.
    /// Returns the number of scans deleted.
    /// </summary>
    public long FreezeAndPurge()
    {
        // Counted and frozen under the lock of the day rebuilds: a late scan's rebuild (which thaws
        // the buckets it touches) cannot fall between a bucket's count and its freeze.
        lock (_gate)
        {
            return FreezeAndPurgeLocked();
        }
    }

    private long FreezeAndPurgeLocked()
    {
        var o = options.Value.Visitors;
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var freezeBefore = now - (long)o.FreezeAfter.TotalMilliseconds;
        var earliest = _db.EarliestScan(site.Site);
        if (earliest is not { } from)
        {
            return 0;
        }

        foreach (var bucket in FrozenKinds)
        {
            var complete = _buckets.Cover(bucket, from, freezeBefore).Where(c => c.End <= freezeBefore).ToList();
            var frozen = Frozen(bucket.Name(), from - (400L * 86_400_000), freezeBefore);
            var unfrozen = complete.Where(c => !frozen.ContainsKey(c.Start)).ToList();
            if (unfrozen.Count == 0)
            {
                continue;
            }

            var counts = Badges(unfrozen, null);
            _db.Freeze(site.Site, bucket.Name(), unfrozen.Select(c =>
            {
                var value = counts.GetValueOrDefault(c.Start);
                return new BadgeAggregate(c.Start, value.Scans, value.Unique, value.Returning);
            }));
        }

        var cutoff = now - (long)o.ScanRetention.TotalMilliseconds;
        var cutoffDay = _buckets.Floor(Resolution.Day, cutoff);
        long deleted;
        try
        {
            deleted = _db.PurgeScans(site.Site, cutoff, (cutoffDay, _buckets.Next(Resolution.Day, cutoffDay)));
        }
        catch
        {
            _days.Clear();
            throw;
        }

        if (deleted > 0 && _days.Current is not null)
        {
            // Purged pseudonyms leave memory too; the days are read again here, not by a page load.
            _days.Clear();
            _days.Replace(long.MinValue, _db.Days(site.Site, long.MinValue));
        }

        return deleted;
    }

    private Dictionary<long, BadgeCounts> Frozen(string bucket, long fromMs, long toMs) =>
        _db.Frozen(site.Site, bucket, fromMs, toMs).ToDictionary(a => a.Start, a => new BadgeCounts(a.Scans, a.Unique, a.Returning));

    private Dictionary<long, RollupRow> Rows(string sensor, string field, long fromMs, long toMs) =>
        queries.SeriesId(site.Site, sensor, field) is { } id
            ? queries.Rollups(id, Resolution.Day, _buckets.Floor(Resolution.Day, fromMs), toMs).ToDictionary(r => r.BucketMs)
            : [];

    /// <summary>The index of the bucket of a sorted cover that holds the time, or -1.</summary>
    private static int IndexOf(IReadOnlyList<(long Start, long End)> cover, long ms)
    {
        int low = 0, high = cover.Count - 1;
        while (low <= high)
        {
            var mid = (low + high) >>> 1;
            if (ms < cover[mid].Start)
            {
                high = mid - 1;
            }
            else if (ms >= cover[mid].End)
            {
                low = mid + 1;
            }
            else
            {
                return mid;
            }
        }

        return -1;
    }

    private static DateTimeOffset At(long ms) => DateTimeOffset.FromUnixTimeMilliseconds(ms);
}
