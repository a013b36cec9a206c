using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Collector.Configuration;
using NewTechPark.Edge.Collector.Site;
using NewTechPark.Edge.Collector.Storage;
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
/// time occupied within opening hours, person-time and peak count. Utilisation is the share of
/// opening hours with someone present. A day is rebuilt when its door readings or corrections
/// change (late data), and the current day on every run.
/// </summary>
public sealed class OccupancyHistory(SqliteStore store, SiteModel site, IOptions<CollectorOptions> options, TimeProvider clock)
{
    private static readonly HashSet<string> LabKinds = ["lab", "tech-hub"];

    private readonly TimeBuckets _buckets = new(TimeZoneInfo.FindSystemTimeZoneById(site.TimeZone));
    private readonly TimeSpan _resetAt = options.Value.Occupancy.DailyReset;
    private readonly Lock _gate = new();

    /// <summary>Brings every occupancy day up to date; returns how many days were rebuilt.</summary>
    public int Update()
    {
        lock (_gate)
        {
            var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
            using var connection = store.OpenReader();
            if (FirstDoorPoint(connection) is not { } first)
            {
                return 0;
            }

            var built = Built(connection);
            var raw = options.Value.Retention.Raw;
            var rawCutoff = Math.Max(store.Rollups.RawCutoffMs, raw > TimeSpan.Zero ? TimeBuckets.FloorTo(now - (long)raw.TotalMilliseconds, TimeBuckets.HourMs) : 0);
            var rebuilt = 0;
            for (var start = DayStart(first); start <= now; start = NextDay(start))
            {
                var end = NextDay(start);
                if (start < rawCutoff)
                {
                    continue; // its raw door readings are (partly) purged: keep the history built before
                }

                var fingerprint = Fingerprint(connection, start, end);
                if (end <= now && built.TryGetValue(start, out var known) && known == fingerprint)
                {
                    continue;
                }

                BuildDay(connection, start, end, Math.Min(end, now), fingerprint, now);
                rebuilt++;
            }

            return rebuilt;
        }
    }

    /// <summary>One room's history per hour, day, week, month or year.</summary>
    public RoomHistory History(string room, DateTimeOffset from, DateTimeOffset to, CalendarBucket bucket)
    {
        var rows = Rows(room, from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds());
        var list = new List<RoomHistoryBucket>();
        foreach (var (start, end) in _buckets.Cover(bucket, from.ToUnixTimeMilliseconds(), to.ToUnixTimeMilliseconds()))
        {
            var inBucket = rows.Where(r => r.Hour >= start && r.Hour < end).ToList();
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

        var all = Rows(null, fromMs, toMs);
        var perRoom = site.Rooms.Select(room =>
        {
            var rows = all.Where(r => r.Room == room.Id).ToList();
            var open = rows.Sum(r => r.OpenMs);
            var utilisation = open == 0 ? 0 : (double)rows.Sum(r => r.OccupiedOpenMs) / open;
            var daysInUse = rows.Where(r => r.OccupiedOpenMs > 0).Select(r => _buckets.Floor(Resolution.Day, r.Hour)).Distinct().Count();
            var inUse = daysInUse > 0 && daysInUse >= share * openDays;
            return new RoomUse(room.Id, room.Name.Nl, room.Kind, Math.Round(utilisation, 4), daysInUse, openDays, inUse, rows.Sum(r => r.Entries));
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

    private void BuildDay(SqliteConnection connection, long start, long end, long until, string fingerprint, long now)
    {
        var counts = site.Rooms.ToDictionary(r => r.Id, _ => (Count: 0L, Since: start), StringComparer.Ordinal);
        var doors = site.Doors.ToDictionary(d => d.Id, StringComparer.Ordinal);
        var totals = new DoorTotals(options.Value.Occupancy.MaxDoorGap);
        foreach (var (door, ts, inTotal, outTotal) in OccupancyReplay.LastTotalsBefore(connection, start))
        {
            totals.Seed(door, ts, inTotal, outTotal);
        }

        var open = new List<(long From, long To)>();
        for (var d = _buckets.LocalDay(start); _buckets.DayStart(d) < end; d = d.AddDays(1))
        {
            open.AddRange(OpeningHours.Intervals(site.OpeningHours, d, _buckets.ToUtcMs));
        }

        var hours = new Dictionary<(string Room, long Hour), HourRow>();
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

        var corrections = new Queue<(long Ts, string Room, long Count)>(OccupancyReplay.Corrections(connection, site.Site, start, until));
        foreach (var r in OccupancyReplay.DoorReadings(connection, start, until).ToList())
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

            var (entered, left) = totals.Crossings(r.Door, r.Ts, r.In, r.Out, r.InTotal, r.OutTotal);
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

        foreach (var room in site.Rooms)
        {
            var c = counts[room.Id];
            Integrate(hours, open, room.Id, c.Count, c.Since, until);
        }

        // Opening time of every hour, for every room (so a room nobody entered still has its open hours).
        for (var hour = TimeBuckets.FloorTo(start, TimeBuckets.HourMs); hour < until; hour += TimeBuckets.HourMs)
        {
            var openMs = Overlap(open, Math.Max(hour, start), Math.Min(hour + TimeBuckets.HourMs, until));
            foreach (var room in site.Rooms)
            {
                ref var row = ref System.Runtime.InteropServices.CollectionsMarshal.GetValueRefOrAddDefault(hours, (room.Id, hour), out _);
                row.OpenMs = openMs;
            }
        }

        using var transaction = connection.BeginTransaction();
        using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM room_hours WHERE site = $site AND hour_ms >= $a AND hour_ms < $b";
            delete.Parameters.AddWithValue("$site", site.Site);
            delete.Parameters.AddWithValue("$a", TimeBuckets.FloorTo(start, TimeBuckets.HourMs));
            delete.Parameters.AddWithValue("$b", end);
            delete.ExecuteNonQuery();
        }

        using (var insert = connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = """
                INSERT OR REPLACE INTO room_hours (site, room, hour_ms, occupied_ms, open_ms, occupied_open_ms, person_ms, max_count, entries)
                VALUES ($site, $room, $hour, $occupied, $open, $occupiedOpen, $person, $max, $entries)
                """;
            var p = new[] { "$site", "$room", "$hour", "$occupied", "$open", "$occupiedOpen", "$person", "$max", "$entries" }.Select(n => insert.Parameters.Add(new SqliteParameter { ParameterName = n })).ToArray();
            foreach (var ((room, hour), row) in hours)
            {
                p[0].Value = site.Site;
                p[1].Value = room;
                p[2].Value = hour;
                p[3].Value = row.OccupiedMs;
                p[4].Value = row.OpenMs;
                p[5].Value = row.OccupiedOpenMs;
                p[6].Value = row.PersonMs;
                p[7].Value = row.MaxCount;
                p[8].Value = row.Entries;
                insert.ExecuteNonQuery();
            }
        }

        using (var mark = connection.CreateCommand())
        {
            mark.Transaction = transaction;
            mark.CommandText = "INSERT OR REPLACE INTO room_history_days (site, start_ms, fingerprint, built_ms) VALUES ($site, $start, $fingerprint, $now)";
            mark.Parameters.AddWithValue("$site", site.Site);
            mark.Parameters.AddWithValue("$start", start);
            mark.Parameters.AddWithValue("$fingerprint", fingerprint);
            mark.Parameters.AddWithValue("$now", now);
            mark.ExecuteNonQuery();
        }

        transaction.Commit();
    }

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

    private long? FirstDoorPoint(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT min((SELECT min(ts_ms) FROM points WHERE series_id = s.id)) FROM series s WHERE s.kind = 'door' AND s.site = $site";
        command.Parameters.AddWithValue("$site", site.Site);
        var first = command.ExecuteScalar();
        var cutoff = store.Rollups.RawCutoffMs;
        return first is long ms ? Math.Max(ms, cutoff) : null;
    }

    private Dictionary<long, string> Built(SqliteConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT start_ms, fingerprint FROM room_history_days WHERE site = $site";
        command.Parameters.AddWithValue("$site", site.Site);
        using var reader = command.ExecuteReader();
        var built = new Dictionary<long, string>();
        while (reader.Read())
        {
            built[reader.GetInt64(0)] = reader.GetString(1);
        }

        return built;
    }

    private string Fingerprint(SqliteConnection connection, long start, long end)
    {
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT (SELECT count(*) || ':' || coalesce(sum(p.value), 0) FROM series s JOIN points p ON p.series_id = s.id
                    WHERE s.site = $site AND s.kind = 'door' AND p.ts_ms >= $a AND p.ts_ms < $b)
                || '/' || (SELECT count(*) || ':' || coalesce(max(id), 0) FROM occupancy_corrections WHERE site = $site AND ts_ms >= $a AND ts_ms < $b)
            """;
        command.Parameters.AddWithValue("$site", site.Site);
        command.Parameters.AddWithValue("$a", start);
        command.Parameters.AddWithValue("$b", end);
        return (string)command.ExecuteScalar()!;
    }

    private List<(string Room, long Hour, long OccupiedMs, long OpenMs, long OccupiedOpenMs, double PersonMs, long MaxCount, long Entries)> Rows(string? room, long fromMs, long toMs)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT room, hour_ms, occupied_ms, open_ms, occupied_open_ms, person_ms, max_count, entries FROM room_hours
            WHERE site = $site AND hour_ms >= $a AND hour_ms < $b AND ($room IS NULL OR room = $room)
            """;
        command.Parameters.AddWithValue("$site", site.Site);
        command.Parameters.AddWithValue("$a", _buckets.Floor(Resolution.Day, fromMs));
        command.Parameters.AddWithValue("$b", toMs);
        command.Parameters.AddWithValue("$room", (object?)room ?? DBNull.Value);
        using var reader = command.ExecuteReader();
        var rows = new List<(string, long, long, long, long, double, long, long)>();
        while (reader.Read())
        {
            var hour = reader.GetInt64(1);
            if (hour >= fromMs)
            {
                rows.Add((reader.GetString(0), hour, reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetDouble(5), reader.GetInt64(6), reader.GetInt64(7)));
            }
        }

        return rows;
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
