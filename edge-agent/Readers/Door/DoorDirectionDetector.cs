namespace NewTechPark.Edge.Agent.Readers.Door;

/// <summary>Which of a door's two beams.</summary>
public enum Beam
{
    /// <summary>The beam on the door's <c>from</c> side (outside, or the corridor).</summary>
    Outer,

    /// <summary>The beam on the door's <c>to</c> side (inside the room).</summary>
    Inner,
}

/// <summary>A completed passage through the door.</summary>
public enum Crossing
{
    /// <summary>Towards the door's <c>to</c> room.</summary>
    In,

    /// <summary>Towards the door's <c>from</c> side.</summary>
    Out,
}

/// <summary>
/// Turns the two beams of a door into crossings. Pure logic over timestamped beam changes, so it
/// is tested without hardware and without a clock.
/// </summary>
/// <remarks>
/// <para>Debounce: a beam change counts only when the beam has stayed in its new state for the
/// debounce time; a flicker shorter than that (contact bounce, a swinging bag strap) is ignored.
/// Pending changes are committed when the next event arrives or when <see cref="Advance"/> is
/// called after the debounce time.</para>
/// <para>Direction: a body walking in breaks the outer beam, then the inner, leaves the outer, then
/// leaves the inner. The crossing is counted at the moment the body leaves the first beam while
/// still in the second (both → only the second): from then on it is through. A body that turns
/// back before that leaves the first beam again, which counts nothing (an aborted crossing). One
/// that is through and then blocks the first beam again while still in the second is taken to be
/// the next person walking the same way (back to back, the common case at a busy door), so each
/// of them is counted.</para>
/// </remarks>
public sealed class DoorDirectionDetector(TimeSpan debounce, TimeSpan? stuckAfter = null)
{
    /// <summary>What the door counter uses: both beams blocked for 30 s is not a person walking through.</summary>
    public static readonly TimeSpan DefaultStuckAfter = TimeSpan.FromSeconds(30);

    private readonly BeamState _outer = new();
    private readonly BeamState _inner = new();

    /// <summary>The beam broken first in the current episode of both beams blocked.</summary>
    private Beam? _leading;

    /// <summary>The direction of a body just counted that still blocks its exit beam.</summary>
    private Crossing? _through;

    public TimeSpan Debounce { get; } = debounce;

    /// <summary>
    /// Both beams blocked for longer than this (a trolley parked in the door, a beam knocked out
    /// of line, a wire cut on a pull-down input) is not a passage: when the beams clear, nothing is
    /// counted, and <see cref="IsStuck"/> tells the reader to report the door. Null (the pure
    /// detector's default): no limit, the beams' order alone decides.
    /// </summary>
    public TimeSpan? StuckAfter { get; } = stuckAfter;

    /// <summary>Since when both beams have been blocked, if they are.</summary>
    public DateTimeOffset? BothBlockedSince { get; private set; }

    /// <summary>When both beams have been blocked for longer than <see cref="StuckAfter"/> by <paramref name="now"/>.</summary>
    public bool IsStuck(DateTimeOffset now) => StuckAfter is { } limit && BothBlockedSince is { } since && now - since > limit;

    public bool OuterBlocked => _outer.Accepted;

    public bool InnerBlocked => _inner.Accepted;

    /// <summary>
    /// Feeds one raw beam change. Returns the crossings completed by changes that became stable
    /// up to <paramref name="at"/> (usually none, sometimes one, rarely two).
    /// </summary>
    public IReadOnlyList<(Crossing Crossing, DateTimeOffset At)> OnBeam(Beam beam, bool blocked, DateTimeOffset at)
    {
        var crossings = Advance(at);
        var state = beam == Beam.Outer ? _outer : _inner;
        // Back to the accepted level within the debounce time: the change was a flicker. Otherwise
        // the latest change (re)starts the stability time.
        state.Pending = blocked == state.Accepted ? null : (blocked, at);

        if (Debounce == TimeSpan.Zero)
        {
            crossings = Concat(crossings, Advance(at));
        }

        return crossings;
    }

    /// <summary>
    /// Commits pending changes that have been stable for the debounce time by <paramref name="now"/>,
    /// oldest first, and returns the crossings they complete.
    /// </summary>
    public IReadOnlyList<(Crossing Crossing, DateTimeOffset At)> Advance(DateTimeOffset now)
    {
        List<(Crossing, DateTimeOffset)>? crossings = null;
        while (true)
        {
            var next = Due(_outer, now) is { } o && (Due(_inner, now) is not { } i0 || o <= i0) ? Beam.Outer
                : Due(_inner, now) is not null ? Beam.Inner
                : (Beam?)null;
            if (next is not { } beam)
            {
                return crossings ?? (IReadOnlyList<(Crossing, DateTimeOffset)>)[];
            }

            var state = beam == Beam.Outer ? _outer : _inner;
            var (blocked, at) = state.Pending!.Value;
            state.Pending = null;
            if (Commit(beam, blocked, at) is { } crossing)
            {
                (crossings ??= []).Add((crossing, at));
            }
        }
    }

    /// <summary>When the next pending change becomes stable, if one is pending.</summary>
    public DateTimeOffset? NextDue =>
        (_outer.Pending, _inner.Pending) switch
        {
            (null, null) => null,
            ({ } o, null) => o.At + Debounce,
            (null, { } i) => i.At + Debounce,
            ({ } o, { } i) => (o.At < i.At ? o.At : i.At) + Debounce,
        };

    private DateTimeOffset? Due(BeamState state, DateTimeOffset now) =>
        state.Pending is { } p && p.At + Debounce <= now ? p.At : null;

    private Crossing? Commit(Beam beam, bool blocked, DateTimeOffset at)
    {
        var bothBefore = _outer.Accepted && _inner.Accepted;
        (beam == Beam.Outer ? _outer : _inner).Accepted = blocked;
        var other = beam == Beam.Outer ? _inner : _outer;
        if (blocked && other.Accepted)
        {
            BothBlockedSince ??= at;
        }
        else if (bothBefore)
        {
            var stuck = StuckAfter is { } limit && BothBlockedSince is { } since && at - since > limit;
            BothBlockedSince = null;
            if (stuck)
            {
                // Not a passage: whatever blocked both beams for so long, nobody is counted for it.
                _leading = null;
                _through = null;
                return null;
            }
        }

        if (blocked && other.Accepted)
        {
            // Both beams blocked. Usually the beam that was blocked first leads. But when the body
            // in the other beam has just been counted through, the new block is the next person
            // walking the same way, back to back, and the new beam leads.
            var alreadyBlocked = beam == Beam.Outer ? Beam.Inner : Beam.Outer;
            var nextPersonSameWay = _through is { } through && ExitBeam(through) == alreadyBlocked;
            _leading = nextPersonSameWay ? beam : alreadyBlocked;
            _through = null;
            return null;
        }

        if (!blocked && bothBefore && _leading is { } leading)
        {
            _leading = null;
            if (beam == leading)
            {
                // The leading beam cleared while the other is still blocked: the body is through.
                _through = leading == Beam.Outer ? Crossing.In : Crossing.Out;
                return _through;
            }

            // The trailing beam cleared first: the body went back the way it came.
            return null;
        }

        if (!_outer.Accepted && !_inner.Accepted)
        {
            _through = null;
        }

        return null;
    }

    /// <summary>The beam a body walking that way passes last.</summary>
    private static Beam ExitBeam(Crossing crossing) => crossing == Crossing.In ? Beam.Inner : Beam.Outer;

    private static IReadOnlyList<(Crossing, DateTimeOffset)> Concat(
        IReadOnlyList<(Crossing, DateTimeOffset)> first, IReadOnlyList<(Crossing, DateTimeOffset)> second) =>
        second.Count == 0 ? first : first.Count == 0 ? second : [.. first, .. second];

    private sealed class BeamState
    {
        public bool Accepted { get; set; }

        public (bool Blocked, DateTimeOffset At)? Pending { get; set; }
    }
}
