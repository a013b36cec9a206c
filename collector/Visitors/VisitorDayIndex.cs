using NewTechPark.Edge.Collector.Storage.Visitors;

namespace NewTechPark.Edge.Collector.Visitors;

/// <summary>
/// The site's visitor days in memory as numbers: per local day, each pseudonym's number, scans and
/// returning flag, in day order. A year's unique and returning visitors per bucket are then one
/// pass over integer arrays (about 17,000 rows a year for the default site) instead of a pass over
/// <c>visitor_days</c> that decodes every pseudonym. The owner (<see cref="VisitorsService"/>)
/// changes it under its lock, right after each change of <c>visitor_days</c>: the days from the
/// first rebuilt day on are read again (a late scan changes "returning" only on later days), and
/// after a purge everything, with fresh numbers, so no purged pseudonym stays in memory. Readers
/// take the current snapshot, which never changes. It holds what the scan retention keeps.
/// </summary>
public sealed class VisitorDayIndex
{
    private Dictionary<string, int> _numbers = new(StringComparer.Ordinal);
    private volatile Snapshot? _current;

    /// <summary>The rows as they are now, or null when not loaded.</summary>
    public Snapshot? Current => _current;

    /// <summary>Forgets everything, pseudonyms included; the next <see cref="Replace"/> loads all days.</summary>
    public void Clear()
    {
        _current = null;
        _numbers = new Dictionary<string, int>(StringComparer.Ordinal);
    }

    /// <summary>Replaces the rows of the days from <paramref name="fromDayMs"/> on by <paramref name="rows"/> (in day order, all of those days); the caller holds the owner's lock.</summary>
    public void Replace(long fromDayMs, IEnumerable<VisitorDayRow> rows)
    {
        var old = _current;
        var keepDays = old is null ? 0 : LowerBound(old.Days, old.Days.Length, fromDayMs);
        var keepRows = old is null ? 0 : old.Starts[keepDays];
        var days = new List<long>(keepDays + 8);
        var starts = new List<int>(keepDays + 9);
        var visitors = new List<int>(keepRows + 64);
        var scans = new List<long>(keepRows + 64);
        var returning = new List<bool>(keepRows + 64);
        if (old is not null)
        {
            days.AddRange(old.Days.AsSpan(0, keepDays));
            starts.AddRange(old.Starts.AsSpan(0, keepDays));
            visitors.AddRange(old.Visitors.AsSpan(0, keepRows));
            scans.AddRange(old.Scans.AsSpan(0, keepRows));
            returning.AddRange(old.Returning.AsSpan(0, keepRows));
        }

        foreach (var row in rows)
        {
            if (days.Count == 0 || days[^1] != row.DayMs)
            {
                if (days.Count > 0 && row.DayMs < days[^1])
                {
                    throw new InvalidOperationException("visitor days must come in day order");
                }

                days.Add(row.DayMs);
                starts.Add(visitors.Count);
            }

            ref var number = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(_numbers, row.Visitor, out var exists);
            if (!exists)
            {
                number = _numbers.Count - 1;
            }

            visitors.Add(number);
            scans.Add(row.Scans);
            returning.Add(row.Returning);
        }

        starts.Add(visitors.Count);
        _current = new Snapshot([.. days], [.. starts], [.. visitors], [.. scans], [.. returning], _numbers.Count);
    }

    /// <summary>The index of the first day at or after <paramref name="ms"/>.</summary>
    private static int LowerBound(long[] days, int count, long ms)
    {
        int low = 0, high = count;
        while (low < high)
        {
            var mid = (low + high) >>> 1;
            if (days[mid] < ms)
            {
                low = mid + 1;
            }
            else
            {
                high = mid;
            }
        }

        return low;
    }

    /// <summary>The rows at one moment: day starts, where each day's rows start (one more entry than days), and per row the pseudonym's number, scans and returning flag.</summary>
    public sealed record Snapshot(long[] Days, int[] Starts, int[] Visitors, long[] Scans, bool[] Returning, int VisitorCount)
    {
        /// <summary>
        /// Scans, distinct pseudonyms and returning ones (a row flagged returning) of each bucket
        /// (sorted, not overlapping; rows outside every bucket count only to the whole) and of the
        /// whole range [from, to) of day starts.
        /// </summary>
        public (BadgeAggregate[] Buckets, BadgeAggregate Whole) Count(long fromMs, long toMs, IReadOnlyList<(long Start, long End)> buckets)
        {
            for (var i = 1; i < buckets.Count; i++)
            {
                if (buckets[i].Start < buckets[i - 1].End)
                {
                    throw new ArgumentException("buckets must be sorted and must not overlap", nameof(buckets));
                }
            }

            var scans = new long[buckets.Count];
            var unique = new long[buckets.Count];
            var returning = new long[buckets.Count];
            long wholeScans = 0, wholeUnique = 0, wholeReturning = 0;
            // Per pseudonym: the last bucket it was counted in (index + 1), as unique and as
            // returning, and whether it was seen and returned anywhere in the range. Days come in
            // order, so a pseudonym's bucket only moves forward.
            var lastUnique = new int[VisitorCount];
            var lastReturning = new int[VisitorCount];
            var seen = new byte[VisitorCount];
            var bucket = 0;
            for (var d = LowerBound(Days, Days.Length, fromMs); d < Days.Length && Days[d] < toMs; d++)
            {
                var day = Days[d];
                while (bucket < buckets.Count && buckets[bucket].End <= day)
                {
                    bucket++;
                }

                var inBucket = bucket < buckets.Count && buckets[bucket].Start <= day;
                for (var r = Starts[d]; r < Starts[d + 1]; r++)
                {
                    var v = Visitors[r];
                    var isReturning = Returning[r];
                    wholeScans += Scans[r];
                    if ((seen[v] & 1) == 0)
                    {
                        seen[v] |= 1;
                        wholeUnique++;
                    }

                    if (isReturning && (seen[v] & 2) == 0)
                    {
                        seen[v] |= 2;
                        wholeReturning++;
                    }

                    if (!inBucket)
                    {
                        continue;
                    }

                    scans[bucket] += Scans[r];
                    if (lastUnique[v] != bucket + 1)
                    {
                        lastUnique[v] = bucket + 1;
                        unique[bucket]++;
                    }

                    if (isReturning && lastReturning[v] != bucket + 1)
                    {
                        lastReturning[v] = bucket + 1;
                        returning[bucket]++;
                    }
                }
            }

            var result = new BadgeAggregate[buckets.Count];
            for (var i = 0; i < result.Length; i++)
            {
                result[i] = new BadgeAggregate(buckets[i].Start, scans[i], unique[i], returning[i]);
            }

            return (result, new BadgeAggregate(fromMs, wholeScans, wholeUnique, wholeReturning));
        }
    }
}
