using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
using NewTechPark.Edge.Collector.Storage.Occupancy;
using NewTechPark.Edge.Collector.Storage.Rollups;

namespace NewTechPark.Edge.Collector.Occupancy;

/// <summary>A room's occupancy in one bucket.</summary>
/// <remarks><see cref="Entries"/>: people who walked into the room (through any of its doors).</remarks>
public sealed record RoomHistoryBucket(DateTimeOffset Start, DateTimeOffset End, string Label, long MaxCount, double MeanCount, double OccupiedShare, double? Utilisation, long Entries);

/// <summary>A room's history.</summary>
public sealed record RoomHistory(string Room, string Bucket, IReadOnlyList<RoomHistoryBucket> Buckets);

/// <summary>A room's use over a period.</summary>
public sealed record RoomUse(string Room, string NameNl, string Kind, double Utilisation, int DaysInUse, int OpenDays, bool InUse, long Entries);

/// <summary>All rooms' use over a period, as the annual report counts "rooms in use" and "labs active".</summary>
public sealed record RoomUseSummary(DateTimeOffset From, DateTimeOffset To, int Rooms, int RoomsInUse, double RoomsInUsePct, int Labs, int LabsActive, double MinShareOfOpenDays, IReadOnlyList<RoomUse> PerRoom);

/// <summary>
/// Per-room occupancy history: each occupancy day (from one daily reset to the next) is replayed
/// from the stored door readings and staff corrections, with the same rules as live occupancy
/// (never below zero, gaps closed from totals), into per-room, per-hour rows: time occupied,
/// time occupied within opening hours, person-time and peak count, and their sums per local day.
/// Utilisation is the share of opening hours with someone present. Only the days that need it are
/// rebuilt: days not built yet, days the store marked changed (<c>changed_days</c>: late door
/// readings, corrections), and the current day; a page load reads the stored rows (a year is 365
/// day rows per room) and never walks the year.
/// </summary>
public sealed class OccupancyHistory(SqliteStore store, SiteModel site, IOptions<CollectorOptions> options, TimeProvider clock)
{
    private static readonly HashSet<string> LabKinds = ["lab", "tech-hub"];

    /// <summary>How old the current day's rows may be before a page load rebuilds them when no door reading changed it (time alone adds occupied time).</summary>
    public static readonly TimeSpan CurrentDayMaxAge = TimeSpan.FromSeconds(30);

    private readonly TimeBuckets _buckets = new(TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));
    private readonly OccupancyHistoryStore _db = new(store);
    private readonly OccupancyStore _doors = new(store);
    private readonly TimeSpan _resetAt = options.Value.Occupancy.DailyReset;
    private readonly Lock _gate = new();
    private SavedDay? _saved; // in memory only: the first build after a start is a full replay

    // The current day's kept state trails the build by at least this (whole minutes).
    private const long KeepBehindMs = 60_000;

    // Below this, a count times an hour's milliseconds and their sums are exact doubles (2^31 × 3.6e6 < 2^53).
    private const long ExactCount = 1L << 31;

    /// <summary>Builds of the current day that went on from the state kept at its last whole hour instead of replaying the day (for metrics and tests).</summary>
    public long ContinuedBuilds { get; private set; }

    /// <summary>Housekeeping: brings every occupancy day up to date and rebuilds the current day; returns how many days were rebuilt.</summary>
    public int Update() => Bring(CurrentDay.Always);

    /// <summary>
    /// As data arrives (<c>DerivedFiguresService</c>): rebuilds days not built yet or marked
    /// changed, and the current day when it is marked or older than <see cref="CurrentDayMaxAge"/>.
    /// </summary>
    public int Follow() => Bring(CurrentDay.WhenChangedOrStale);

    /// <summary>
    /// Before a page load: rebuilds days not built yet or marked changed (late data), and the
    /// current day only when it is older than <see cref="CurrentDayMaxAge"/>, so a page load under
    /// a steady stream of door readings does not replay the day every time; returns how many days were rebuilt.
    /// </summary>
    public int Refresh() => Bring(CurrentDay.WhenStale);

    private enum CurrentDay
    {
        Always,
        WhenChangedOrStale,
        WhenStale,
    }

    private int Bring(CurrentDay policy)
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            var marks = ChangedDays.Read(store, site.Site, ChangedDays.Door);
            var built = _db.Built(site.Site);
            foreach (var (start, b) in built.Where(b => !b.Value.Aggregated).ToList())
            {
                // Built by a collector before the day sums (migration 3); its raw door readings may be purged, so sum its hours, do not replay it.
                _db.Aggregate(site.Site, start, LocalDays(start, NextDay(start)));
                built[start] = b with { Aggregated = true };
            }

            if (FirstDoorPoint() is not { } first)
            {
                return 0;
            }

            // Each mark (a UTC day) names the occupancy days it overlaps; it is cleared with the last of them.
            // A mark that reaches the current day waits for the current day's rebuild (at most
            // CurrentDayMaxAge away), or a page load under a steady stream of door readings would
            // replay the day before it every time.
            var currentStart = DayStart(now);
            var currentMarked = marks.Any(m => DayStart(m.DayMs) <= currentStart && currentStart < m.DayMs + ChangedDays.DayMs);
            var buildCurrent = policy == CurrentDay.Always
                || !built.TryGetValue(currentStart, out var currentBuilt)
                || now - currentBuilt.BuiltMs >= CurrentDayMaxAge.TotalMilliseconds
                || (policy == CurrentDay.WhenChangedOrStale && currentMarked);
            var dirty = new HashSet<long>();
            var clearedWith = new Dictionary<long, List<ChangedDay>>();
            var firstStart = DayStart(first);
            var raw = options.Value.Retention.Raw;
            var rawCutoff = Math.Max(store.Rollups.RawCutoffMs, raw > TimeSpan.Zero ? TimeBuckets.FloorTo(now - (long)raw.TotalMilliseconds, TimeBuckets.HourMs) : 0);
            var nothingToBuild = new List<ChangedDay>();
            foreach (var mark in marks)
            {
                if (!buildCurrent && DayStart(mark.DayMs) <= currentStart && currentStart < mark.DayMs + ChangedDays.DayMs)
                {
                    continue;
                }

                long? last = null;
                for (var day = DayStart(mark.DayMs); day < mark.DayMs + ChangedDays.DayMs; day = NextDay(day))
                {
                    dirty.Add(day);
                    last = day <= now ? day : last;
                }

                if (last is null)
                {
                    continue; // only days to come (a clock a little ahead): kept until they begin
                }

                if (last < firstStart || last < rawCutoff)
                {
                    nothingToBuild.Add(mark); // before the history starts, or its raw door readings are purged
                }
                else
                {
                    (clearedWith.TryGetValue(last.Value, out var list) ? list : clearedWith[last.Value] = []).Add(mark);
                }
            }

            var rebuilt = 0;
            for (var start = firstStart; start <= now; start = NextDay(start))
            {
                var end = NextDay(start);
                if (start < rawCutoff)
                {
                    continue; // its raw door readings are (partly) purged: keep the history built before
                }

                if (!(start == currentStart ? buildCurrent : !built.ContainsKey(start) || dirty.Contains(start)))
                {
                    continue;
                }

                BuildDay(start, end, Math.Min(end, now), clearedWith.GetValueOrDefault(start) ?? [], now,
                    start == currentStart, built.TryGetValue(start, out var stored) ? stored.BuiltMs : null);
                rebuilt++;
            }

            _db.ClearChanged(site.Site, nothingToBuild);
            return rebuilt;
        }
    }

    /// <summary>One room's history per hour, day, week, month or year.</summary>
    public RoomHistory History(string room, DateTimeOffset from, DateTimeOffset to, CalendarBucket bucket)
    {
        var rows = Rows(room, from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds(), days: bucket != CalendarBucket.Hour);
        var list = new List<RoomHistoryBucket>();
        var next = 0;
        foreach (var (start, end) in _buckets.Cover(bucket, from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds()))
        {
            // Rows and buckets are both in time order: one pass, not a scan of every row per bucket.
            while (next < rows.Count && rows[next].Hour < start)
            {
                next++;
            }

            var first = next;
            while (next < rows.Count && rows[next].Hour < end)
            {
                next++;
            }

            var inBucket = rows.GetRange(first, next - first);
            var span = (double)(end - start);
            var open = inBucket.Sum(r => r.OpenMs);
            list.Add(new RoomHistoryBucket(
                DateTimeOffset.FromUnixTimeMilliseconds(start),
                DateTimeOffset.FromUnixTimeMilliseconds(end),
                _buckets.Label(bucket, start),
                inBucket.Count == 0 ? 0 : inBucket.Max(r => r.MaxCount),
                Math.Round(inBucket.Sum(r => r.PersonMs) / span, 3),
                Math.Round(inBucket.Sum(r => r.OccupiedMs) / span, 4),
                open == 0 ? null : Math.Round((double)inBucket.Sum(r => r.OccupiedOpenMs) / open, 4),
                inBucket.Sum(r => r.Entries)));
        }

        return new RoomHistory(room, bucket.Name(), list);
    }

    /// <summary>
    /// Utilisation per room and "rooms in use": a room is in use in the period when someone was
    /// present during opening hours on at least the configured share of its open days.
    /// </summary>
    public RoomUseSummary Use(DateTimeOffset from, DateTimeOffset to)
    {
        var share = options.Value.Report.RoomInUseMinShareOfOpenDays;
        var fromMs = from.ToUnixTimeMilliseconds();
        var toMs = to.ToUnixTimeMilliseconds();
        var openDays = 0;
        for (var day = _buckets.Floor(Resolution.Day, fromMs); day < toMs; day = _buckets.Next(Resolution.Day, day))
        {
            if (day >= fromMs && OpeningHours.Intervals(site.OpeningHours, _buckets.LocalDay(day), _buckets.ToUtcMs).Count > 0)
            {
                openDays++;
            }
        }

        // Whole local days from their sums (grouped by SQLite), the partial days at either end from their hours.
        var (firstWhole, lastWhole) = WholeDays(fromMs, toMs);
        var sums = firstWhole < lastWhole ? _db.UseSums(site.Site, firstWhole, lastWhole) : [];
        var edges = (firstWhole < lastWhole ? _db.Hours(site.Site, null, fromMs, firstWhole).Concat(_db.Hours(site.Site, null, lastWhole, toMs)) : _db.Hours(site.Site, null, fromMs, toMs))
            .ToLookup(r => r.Room, StringComparer.Ordinal);
        var perRoom = site.Rooms.Select(room =>
        {
            var rows = edges[room.Id].ToList();
            var whole = sums.GetValueOrDefault(room.Id);
            var open = whole.OpenMs + rows.Sum(r => r.OpenMs);
            var utilisation = open == 0 ? 0 : (double)(whole.OccupiedOpenMs + rows.Sum(r => r.OccupiedOpenMs)) / open;
            var daysInUse = (int)whole.DaysInUse + rows.Where(r => r.OccupiedOpenMs > 0).Select(r => _buckets.Floor(Resolution.Day, r.Hour)).Distinct().Count();
            var inUse = daysInUse > 0 && daysInUse >= share * openDays;
            return new RoomUse(room.Id, room.Name.Nl, room.Kind, Math.Round(utilisation, 4), daysInUse, openDays, inUse, whole.Entries + rows.Sum(r => r.Entries));
        }).ToList();
        var labs = perRoom.Where(r => LabKinds.Contains(r.Kind)).ToList();
        var inUseCount = perRoom.Count(r => r.InUse);
        return new RoomUseSummary(from, to, perRoom.Count, inUseCount, perRoom.Count == 0 ? 0 : Math.Round(100.0 * inUseCount / perRoom.Count, 1),
            labs.Count, labs.Count(r => r.InUse), share, perRoom);
    }

    private long DayStart(long ms)
    {
        var local = _buckets.LocalDate(ms);
        var candidate = local.Date + _resetAt;
        if (candidate > local)
        {
            candidate = candidate.AddDays(-1);
        }

        return _buckets.ToUtcMs(candidate);
    }

    private long NextDay(long start) => _buckets.ToUtcMs(_buckets.LocalDate(start).Date.AddDays(1) + _resetAt);

    /// <summary>The local days (start, end) that an occupancy day touches: their sums change with it.</summary>
    private List<(long Start, long End)> LocalDays(long start, long end)
    {
        var days = new List<(long, long)>();
        for (var day = _buckets.Floor(Resolution.Day, start); day < end; day = _buckets.Next(Resolution.Day, day))
        {
            days.Add((day, _buckets.Next(Resolution.Day, day)));
        }

        return days;
    }

    /// <summary>
    /// Replays an occupancy day into its hour rows. For the current day it keeps, in memory, the
    /// replay state at a point a minute or more behind the build (room counts, door totals, the
    /// rows of that point's hour so far) with a fingerprint of what it was built from, and the next
    /// build goes on from there, rewriting only the hours from that point's hour on. Figures are
    /// the same as a full replay: the state closes each room's time at the point, and the parts'
    /// sums are exact (whole milliseconds times counts far below 2^53; a state with a larger count
    /// is not kept). A full replay whenever the state may be wrong: a new day, a restart, a change
    /// before the point (late reading, correction, a door's totals before the day), the day
    /// rebuilt or its build not stored.
    /// </summary>
    private void BuildDay(long start, long end, long until, IReadOnlyList<ChangedDay> cleared, long now, bool current, long? builtMs)
    {
        var saved = current ? _saved : null;
        if (current)
        {
            _saved = null; // kept again only once this build is stored
        }

        // Taken before the replay reads: data that lands after it makes the next check differ (a
        // full replay then), never the reverse.
        Fingerprint? atSaved = saved is not null && saved.Start == start && saved.BuiltMs == builtMs && saved.At <= until
            ? Print(start, saved.At)
            : null;
        var replay = atSaved is not null && atSaved == saved!.Print ? saved.State : null;
        var from = replay is null ? start : saved!.At;
        ContinuedBuilds += replay is null ? 0 : 1;

        // Readings on time arrive within seconds: a point a minute behind is not passed by them.
        var checkpoint = current ? Math.Max(from, TimeBuckets.FloorTo(until - KeepBehindMs, KeepBehindMs)) : start;
        var keep = checkpoint > start;
        var print = !keep ? null : replay is not null && saved!.At == checkpoint ? atSaved : Print(start, checkpoint);
        if (replay is null)
        {
            replay = new ReplayState(site.Rooms.ToDictionary(r => r.Id, _ => (Count: 0L, Since: start), StringComparer.Ordinal), new DoorTotals(options.Value.Occupancy.MaxDoorGap));
            foreach (var (door, ts, inTotal, outTotal) in _doors.LastTotalsBefore(start, site.Site))
            {
                replay.Totals.Seed(door, ts, inTotal, outTotal);
            }
        }

        var open = new List<(long From, long To)>();
        for (var d = _buckets.LocalDay(start); _buckets.DayStart(d) < end; d = d.AddDays(1))
        {
            open.AddRange(OpeningHours.Intervals(site.OpeningHours, d, _buckets.ToUtcMs));
        }

        var hours = new Dictionary<(string Room, long Hour), HourRow>();
        foreach (var (key, row) in replay == saved?.State ? saved.Partial : [])
        {
            hours[key] = row;
        }

        SavedDay? next = null;
        if (keep && from < checkpoint)
        {
            Replay(replay, hours, open, from, checkpoint);
        }

        if (keep)
        {
            // Close every room's time at the hour's end: the hours before it are final, and the
            // rest integrates from there (split at an hour boundary, as the hour rows are anyway).
            foreach (var room in site.Rooms)
            {
                var c = replay.Counts[room.Id];
                Integrate(hours, open, room.Id, c.Count, c.Since, checkpoint);
                replay.Counts[room.Id] = (c.Count, Math.Max(c.Since, checkpoint));
            }

            var hour = TimeBuckets.FloorTo(checkpoint, TimeBuckets.HourMs);
            var partial = hours.Where(h => h.Key.Hour >= hour).Select(h => (h.Key, h.Value)).ToList();
            next = partial.All(p => p.Value.MaxCount < ExactCount) && replay.Counts.Values.All(c => c.Count < ExactCount)
                ? new SavedDay(start, checkpoint, print!, replay.Copy(), partial, now)
                : null;
        }

        Replay(replay, hours, open, Math.Max(from, keep ? checkpoint : from), until);
        foreach (var room in site.Rooms)
        {
            var c = replay.Counts[room.Id];
            Integrate(hours, open, room.Id, c.Count, c.Since, until);
        }

        // Opening time of every hour rewritten, for every room (so a room nobody entered still has its open hours).
        var fromHour = TimeBuckets.FloorTo(from, TimeBuckets.HourMs);
        for (var hour = fromHour; hour < until; hour += TimeBuckets.HourMs)
        {
            var openMs = Overlap(open, Math.Max(hour, start), Math.Min(hour + TimeBuckets.HourMs, until));
            foreach (var room in site.Rooms)
            {
                ref var row = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(hours, (room.Id, hour), out _);
                row.OpenMs = openMs;
            }
        }

        _db.ReplaceDay(site.Site, start, fromHour, end,
            hours.Select(h => new RoomHourRow(h.Key.Room, h.Key.Hour, h.Value.OccupiedMs, h.Value.OpenMs, h.Value.OccupiedOpenMs, h.Value.PersonMs, h.Value.MaxCount, h.Value.Entries)),
            LocalDays(from == start ? start : fromHour, end), cleared, now);
        if (current)
        {
            _saved = next;
        }
    }

    /// <summary>Applies the door readings and corrections of [from, to) to <paramref name="state"/>, in the order a replay of the whole day applies them.</summary>
    private void Replay(ReplayState state, Dictionary<(string Room, long Hour), HourRow> hours, List<(long From, long To)> open, long from, long to)
    {
        var counts = state.Counts;
        var doors = site.Doors.ToDictionary(d => d.Id, StringComparer.Ordinal);
        void Set(string room, long count, long at)
        {
            if (!counts.TryGetValue(room, out var c))
            {
                return;
            }

            Integrate(hours, open, room, c.Count, c.Since, at);
            counts[room] = (Math.Max(0, count), at);
            Peak(hours, room, at, Math.Max(0, count));
        }

        var corrections = new Queue<(long Ts, string Room, long Count)>(_doors.Corrections(site.Site, from, to));
        foreach (var r in _doors.DoorReadings(from, to, site.Site).ToList())
        {
            while (corrections.TryPeek(out var c) && c.Ts <= r.Ts)
            {
                corrections.Dequeue();
                Set(c.Room, c.Count, c.Ts);
            }

            if (!doors.TryGetValue(r.Door, out var door))
            {
                continue;
            }

            var (entered, left) = state.Totals.Crossings(r.Door, r.Ts, r.In, r.Out, r.InTotal, r.OutTotal);
            var net = entered - left;
            Enter(hours, door.To, r.Ts, entered);
            if (door.From != SiteModel.Outside)
            {
                Enter(hours, door.From, r.Ts, left);
            }

            if (net == 0)
            {
                continue;
            }

            Set(door.To, counts[door.To].Count + net, r.Ts);
            if (door.From != SiteModel.Outside)
            {
                Set(door.From, counts[door.From].Count - net, r.Ts);
            }
        }

        while (corrections.TryDequeue(out var c))
        {
            Set(c.Room, c.Count, c.Ts);
        }
    }

    /// <summary>What a saved state was built from in [start, at): the door points, each door's totals before the day, the corrections.</summary>
    private Fingerprint Print(long start, long at) => new(
        _doors.DoorPointCount(start, at, site.Site),
        string.Join(';', _doors.LastTotalsBefore(start, site.Site).OrderBy(t => t.Door, StringComparer.Ordinal).Select(t => FormattableString.Invariant($"{t.Door},{t.Ts},{t.InTotal:R},{t.OutTotal:R}"))),
        string.Join(';', _doors.Corrections(site.Site, start, at).Select(c => FormattableString.Invariant($"{c.Ts},{c.Room},{c.Count}"))));

    private sealed record Fingerprint(long DoorPoints, string TotalsBefore, string Corrections);

    /// <summary>Room counts (and since when) and door totals part way through a replay.</summary>
    private sealed record ReplayState(Dictionary<string, (long Count, long Since)> Counts, DoorTotals Totals)
    {
        public ReplayState Copy() => new(new Dictionary<string, (long, long)>(Counts, StringComparer.Ordinal), Totals.Clone());
    }

    /// <summary>The current day's replay state at <see cref="At"/> (an hour's end), what it was built from, and the build that stored it.</summary>
    private sealed record SavedDay(long Start, long At, Fingerprint Print, ReplayState State, List<((string Room, long Hour) Key, HourRow Row)> Partial, long BuiltMs);

    private static void Integrate(Dictionary<(string Room, long Hour), HourRow> hours, List<(long From, long To)> open, string room, long count, long from, long to)
    {
        for (var hour = TimeBuckets.FloorTo(from, TimeBuckets.HourMs); hour < to; hour += TimeBuckets.HourMs)
        {
            var a = Math.Max(hour, from);
            var b = Math.Min(hour + TimeBuckets.HourMs, to);
            if (b <= a)
            {
                continue;
            }

            ref var row = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(hours, (room, hour), out _);
            row.PersonMs += count * (double)(b - a);
            row.MaxCount = Math.Max(row.MaxCount, count);
            if (count > 0)
            {
                row.OccupiedMs += b - a;
                row.OccupiedOpenMs += Overlap(open, a, b);
            }
        }
    }

    private static void Enter(Dictionary<(string Room, long Hour), HourRow> hours, string room, long at, long people)
    {
        if (people > 0)
        {
            ref var row = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(hours, (room, TimeBuckets.FloorTo(at, TimeBuckets.HourMs)), out _);
            row.Entries += people;
        }
    }

    private static void Peak(Dictionary<(string Room, long Hour), HourRow> hours, string room, long at, long count)
    {
        ref var row = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(hours, (room, TimeBuckets.FloorTo(at, TimeBuckets.HourMs)), out _);
        row.MaxCount = Math.Max(row.MaxCount, count);
    }

    private static long Overlap(List<(long From, long To)> intervals, long a, long b) =>
        intervals.Sum(i => Math.Max(0, Math.Min(b, i.To) - Math.Max(a, i.From)));

    private long? FirstDoorPoint()
    {
        var first = _db.FirstDoorPoint(site.Site);
        var cutoff = store.Rollups.RawCutoffMs;
        return first is { } ms ? Math.Max(ms, cutoff) : null;
    }

    /// <summary>
    /// The rows in [from, to), by time: hour rows, or with <paramref name="days"/> the local days'
    /// sums for the whole days inside and hour rows only for the partial days at either end. The
    /// same figures: a day's sum holds exactly the hour rows that start in that day, which is how
    /// the buckets and days in use assign hour rows; a year is 365 rows instead of 8,760 per room.
    /// </summary>
    private List<RoomHourRow> Rows(string? room, long fromMs, long toMs, bool days)
    {
        var (firstWhole, lastWhole) = WholeDays(fromMs, toMs);
        if (!days || firstWhole >= lastWhole)
        {
            return _db.Hours(site.Site, room, fromMs, toMs);
        }

        var rows = _db.Hours(site.Site, room, fromMs, firstWhole);
        rows.AddRange(_db.Days(site.Site, room, firstWhole, lastWhole));
        rows.AddRange(_db.Hours(site.Site, room, lastWhole, toMs));
        return rows;
    }

    /// <summary>The whole local days inside [from, to): [first, last), empty when first &gt;= last.</summary>
    private (long First, long Last) WholeDays(long fromMs, long toMs)
    {
        var floor = _buckets.Floor(Resolution.Day, fromMs);
        return (floor == fromMs ? fromMs : _buckets.Next(Resolution.Day, floor), _buckets.Floor(Resolution.Day, toMs));
    }

    private struct HourRow
    {
        public long OccupiedMs;
        public long OpenMs;
        public long OccupiedOpenMs;
        public double PersonMs;
        public long MaxCount;
        public long Entries;
    }
}
