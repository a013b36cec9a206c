namespace NewTechPark.Edge.Collector.Occupancy;

/// <summary>
/// Closes gaps in door counts from the doors' cumulative totals. A door reading carries its
/// crossings (<c>in</c>, <c>out</c>) and the door's totals (<c>in_total</c>, <c>out_total</c>);
/// when a reading goes missing, the next one's totals jump by more than its crossings, and the
/// difference is the missing crossings. A reading that arrives late, inside the span already
/// covered by totals, was counted through that jump and is not counted again. Totals that go down
/// (the counter or its device was reset) or jump by more than <see cref="MaxGap"/> start a new
/// segment: only the reading's own crossings count, so nothing goes negative and nothing spikes.
/// </summary>
public sealed class DoorTotals(int maxGap = 1000)
{
    private readonly Dictionary<string, Span> _doors = new(StringComparer.Ordinal);

    public int MaxGap { get; } = maxGap;

    /// <summary>Crossings recovered from jumps so far (for metrics and tests).</summary>
    public long Recovered { get; private set; }

    /// <summary>New counter segments started (totals that went down or jumped too far).</summary>
    public long Segments { get; private set; }

    /// <summary>
    /// The crossings to apply for one reading: its own, plus those of readings that went missing
    /// before it; zero for a late reading whose crossings a jump already brought in.
    /// </summary>
    public (long Entered, long Left) Crossings(string door, long tsMs, long entered, long left, double? inTotal, double? outTotal)
    {
        if (inTotal is not { } inT || outTotal is not { } outT || (inT == 0 && outT == 0) || inT < 0 || outT < 0)
        {
            return (entered, left); // a device that sends no totals
        }

        var now = new Mark(tsMs, Saturating.Count(inT), Saturating.Count(outT));
        if (!_doors.TryGetValue(door, out var span))
        {
            _doors[door] = new Span(now, now);
            return (entered, left);
        }

        if (tsMs > span.Last.Ts || (tsMs == span.Last.Ts && (now.In > span.Last.In || now.Out > span.Last.Out)))
        {
            // Marks are never negative, so these differences cannot overflow.
            var dIn = now.In - span.Last.In;
            var dOut = now.Out - span.Last.Out;
            span.Last = now;
            if (dIn < 0 || dOut < 0 || dIn > Saturating.Add(entered, MaxGap) || dOut > Saturating.Add(left, MaxGap))
            {
                Segments++;
                span.First = now;
                return (entered, left);
            }

            var result = (Math.Max(entered, dIn), Math.Max(left, dOut));
            Recovered = Saturating.Add(Recovered, Saturating.Add(result.Item1 - entered, result.Item2 - left));
            return result;
        }

        if (tsMs < span.First.Ts)
        {
            // Older than anything seen: its crossings were not in any jump.
            span.First = now;
            return (entered, left);
        }

        return (0, 0); // late, and inside a span the totals already covered (or a repeat)
    }

    /// <summary>Seeds a door with its last known totals (the last reading before a replay starts).</summary>
    public void Seed(string door, long tsMs, double inTotal, double outTotal)
    {
        var mark = new Mark(tsMs, Saturating.Count(inTotal), Saturating.Count(outTotal));
        _doors[door] = new Span(mark, mark);
    }

    /// <summary>A copy that goes on independently (a replay state kept at an hour's end).</summary>
    public DoorTotals Clone()
    {
        var copy = new DoorTotals(MaxGap) { Recovered = Recovered, Segments = Segments };
        foreach (var (door, span) in _doors)
        {
            copy._doors[door] = new Span(span.First, span.Last);
        }

        return copy;
    }

    private readonly record struct Mark(long Ts, long In, long Out);

    private sealed class Span(Mark first, Mark last)
    {
        public Mark First { get; set; } = first;

        public Mark Last { get; set; } = last;
    }
}
