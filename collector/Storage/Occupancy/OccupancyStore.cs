using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Blocks;
using NewTechPark.Edge.Contracts.Payloads;

namespace NewTechPark.Edge.Collector.Storage.Occupancy;

/// <summary>One door reading as stored: crossings and, when the device sends them, totals.</summary>
public readonly record struct DoorReadingRow(string Door, long Ts, long In, long Out, double? InTotal, double? OutTotal);

/// <summary>A staff correction as the audit trail keeps it (times in Unix ms).</summary>
public readonly record struct CorrectionRow(long Id, string Room, long TsMs, long Previous, long Count, string Reason, string Actor);

/// <summary>
/// The SQL of occupancy: the stored door readings the live count and the history are replayed
/// from, and staff corrections (<c>occupancy_corrections</c>). A correction is written through a
/// second writer (Storage/README.md): one row per staff action.
/// </summary>
public sealed class OccupancyStore(SqliteStore store)
{
    /// <summary>Records a correction and marks its day changed (the room history is rebuilt), in one transaction; its id.</summary>
    public long AddCorrection(string site, string room, long tsMs, long previous, long count, string reason, string actor)
    {
        using var connection = store.OpenSecondWriter();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = """
            INSERT INTO occupancy_corrections (site, room, ts_ms, previous, count, reason, actor)
            VALUES ($site, $room, $ts, $previous, $count, $reason, $actor) RETURNING id
            """;
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$room", room);
        command.Parameters.AddWithValue("$ts", tsMs);
        command.Parameters.AddWithValue("$previous", previous);
        command.Parameters.AddWithValue("$count", count);
        command.Parameters.AddWithValue("$reason", reason);
        command.Parameters.AddWithValue("$actor", actor);
        var id = (long)command.ExecuteScalar()!;
        ChangedDays.Mark(connection, transaction, site, ChangedDays.Door, ChangedDays.UtcDay(tsMs));
        transaction.Commit();
        return id;
    }

    /// <summary>The audit trail in [from, to), oldest first; every room when <paramref name="room"/> is null.</summary>
    public List<CorrectionRow> CorrectionTrail(string site, long fromMs, long toMs, string? room)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, room, ts_ms, previous, count, reason, actor FROM occupancy_corrections
            WHERE site = $site AND ts_ms >= $from AND ts_ms < $to AND ($room IS NULL OR room = $room) ORDER BY ts_ms, id
            """;
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        command.Parameters.AddWithValue("$room", (object?)room ?? DBNull.Value);
        using var reader = command.ExecuteReader();
        var list = new List<CorrectionRow>();
        while (reader.Read())
        {
            list.Add(new CorrectionRow(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetString(5), reader.GetString(6)));
        }

        return list;
    }

    /// <summary>Staff corrections in [from, to), oldest first: what a replay applies.</summary>
    public List<(long Ts, string Room, long Count)> Corrections(string site, long fromMs, long toMs = long.MaxValue)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT ts_ms, room, count FROM occupancy_corrections WHERE site = $site AND ts_ms >= $from AND ts_ms < $to ORDER BY ts_ms, id";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        using var reader = command.ExecuteReader();
        var list = new List<(long, string, long)>();
        while (reader.Read())
        {
            list.Add((reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2)));
        }

        return list;
    }

    /// <summary>Door readings in [from, to), one row per (door, time), oldest first; read as they are enumerated (one block per series in memory).</summary>
    public IEnumerable<DoorReadingRow> DoorReadings(long fromMs, long toMs, string? site = null)
    {
        using var connection = store.OpenReader();
        var series = DoorSeries(connection, site, ReadingKinds.DoorValues.In, ReadingKinds.DoorValues.Out, ReadingKinds.DoorValues.InTotal, ReadingKinds.DoorValues.OutTotal);
        var cursors = new List<IEnumerator<RawPoint>>(series.Count);
        var queue = new PriorityQueue<int, (long Ts, string Door)>(DoorTimeOrder.Instance);
        try
        {
            // A merge of every door series' points by (time, door).
            for (var i = 0; i < series.Count; i++)
            {
                cursors.Add(PointReader.Range(connection, null, series[i].Id, fromMs, toMs).GetEnumerator());
                if (cursors[i].MoveNext())
                {
                    queue.Enqueue(i, (cursors[i].Current.Ts, series[i].Door));
                }
            }

            while (queue.TryPeek(out _, out var key))
            {
                var row = new DoorReadingRow(key.Door, key.Ts, 0, 0, null, null);
                while (queue.TryPeek(out var i, out var next) && next.Ts == key.Ts && next.Door == key.Door)
                {
                    queue.Dequeue();
                    var value = cursors[i].Current.Value;
                    row = series[i].Field switch
                    {
                        ReadingKinds.DoorValues.In => row with { In = row.In + (long)value },
                        ReadingKinds.DoorValues.Out => row with { Out = row.Out + (long)value },
                        ReadingKinds.DoorValues.InTotal => row with { InTotal = Math.Max(row.InTotal ?? double.MinValue, value) },
                        _ => row with { OutTotal = Math.Max(row.OutTotal ?? double.MinValue, value) },
                    };
                    if (cursors[i].MoveNext())
                    {
                        queue.Enqueue(i, (cursors[i].Current.Ts, series[i].Door));
                    }
                }

                yield return row;
            }
        }
        finally
        {
            foreach (var cursor in cursors)
            {
                cursor.Dispose();
            }
        }
    }

    /// <summary>
    /// How many door points (every door series, every field) have a time in [from, to): the blocks
    /// wholly inside are counted from their row, only the (at most two) blocks across an edge are
    /// decoded. Points are only ever added inside a day that can still be built, so an equal count
    /// means the same points (what a replay state saved from them may rely on). Per site: counting
    /// every site's doors made each site's derived figures cost O(sites) and rebuild on any site's
    /// crossing (the `sites` bench: CPU per message grew with the number of sites).
    /// </summary>
    public long DoorPointCount(long fromMs, long toMs, string? site = null)
    {
        if (fromMs >= toMs)
        {
            return 0;
        }

        using var connection = store.OpenReader();
        var total = 0L;
        foreach (var (id, _, _) in DoorSeries(connection, site, ReadingKinds.DoorValues.In, ReadingKinds.DoorValues.Out, ReadingKinds.DoorValues.InTotal, ReadingKinds.DoorValues.OutTotal))
        {
            using var inside = connection.CreateCommand();
            inside.CommandText = "SELECT coalesce(sum(count), 0) FROM point_blocks WHERE series_id = $s AND start_ms >= $from AND end_ms < $to";
            inside.Parameters.AddWithValue("$s", id);
            inside.Parameters.AddWithValue("$from", fromMs);
            inside.Parameters.AddWithValue("$to", toMs);
            total += (long)inside.ExecuteScalar()!;

            using var edges = connection.CreateCommand();
            edges.CommandText = """
                SELECT data FROM point_blocks
                WHERE series_id = $s AND start_ms < $to AND end_ms >= $from AND NOT (start_ms >= $from AND end_ms < $to)
                  AND start_ms >= coalesce((SELECT max(start_ms) FROM point_blocks WHERE series_id = $s AND start_ms <= $from), $from)
                """;
            edges.Parameters.AddWithValue("$s", id);
            edges.Parameters.AddWithValue("$from", fromMs);
            edges.Parameters.AddWithValue("$to", toMs);
            using var reader = edges.ExecuteReader();
            while (reader.Read())
            {
                var (ts, _) = PointCodec.Decode((byte[])reader.GetValue(0));
                foreach (var t in ts)
                {
                    total += t >= fromMs && t < toMs ? 1 : 0;
                }
            }
        }

        return total;
    }

    /// <summary>Oldest time first, then the door (ordinal, as SQLite's BINARY collation).</summary>
    private sealed class DoorTimeOrder : IComparer<(long Ts, string Door)>
    {
        public static readonly DoorTimeOrder Instance = new();

        public int Compare((long Ts, string Door) x, (long Ts, string Door) y) =>
            x.Ts != y.Ts ? x.Ts.CompareTo(y.Ts) : string.CompareOrdinal(x.Door, y.Door);
    }

    /// <summary>Each door's last totals before <paramref name="beforeMs"/>.</summary>
    public List<(string Door, long Ts, double InTotal, double OutTotal)> LastTotalsBefore(long beforeMs, string? site = null)
    {
        using var connection = store.OpenReader();
        var totals = new Dictionary<string, (long Ts, double In, double Out)>(StringComparer.Ordinal);
        foreach (var (id, door, field) in DoorSeries(connection, site, ReadingKinds.DoorValues.InTotal, ReadingKinds.DoorValues.OutTotal))
        {
            if (PointReader.LastBefore(connection, null, id, beforeMs) is not { } last)
            {
                continue;
            }

            var t = totals.GetValueOrDefault(door);
            t.Ts = Math.Max(t.Ts, last.Ts);
            if (field == ReadingKinds.DoorValues.InTotal)
            {
                t.In = last.Value;
            }
            else
            {
                t.Out = last.Value;
            }

            totals[door] = t;
        }

        return totals.Select(t => (t.Key, t.Value.Ts, t.Value.In, t.Value.Out)).ToList();
    }

    /// <summary>The door series (id, door, field) with one of the fields, of one site or all.</summary>
    internal static List<(long Id, string Door, string Field)> DoorSeries(SqliteConnection connection, string? site, params string[] fields)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, sensor, field FROM series WHERE kind = $kind AND ($site IS NULL OR site = $site) ORDER BY id";
        command.Parameters.AddWithValue("$kind", ReadingKinds.Door);
        command.Parameters.AddWithValue("$site", (object?)site ?? DBNull.Value);
        using var reader = command.ExecuteReader();
        var series = new List<(long, string, string)>();
        while (reader.Read())
        {
            var field = reader.GetString(2);
            if (fields.Contains(field, StringComparer.Ordinal))
            {
                series.Add((reader.GetInt64(0), reader.GetString(1), field));
            }
        }

        return series;
    }
}

/// <summary>A room's occupancy in one hour (or, summed, one local day), as the history stores it (times in Unix ms).</summary>
public record struct RoomHourRow(string Room, long Hour, long OccupiedMs, long OpenMs, long OccupiedOpenMs, double PersonMs, long MaxCount, long Entries);

/// <summary>A room's use summed over whole local days: opening time, occupied opening time, entries, days in use.</summary>
public readonly record struct RoomUseSums(long OpenMs, long OccupiedOpenMs, long Entries, long DaysInUse);

/// <summary>An occupancy day as built: when, and whether its local days' sums (<c>room_days</c>) are written.</summary>
public readonly record struct BuiltDay(long BuiltMs, bool Aggregated);

/// <summary>
/// The SQL of the per-room occupancy history: per hour (<c>room_hours</c>), summed per local day
/// (<c>room_days</c>, so a year is 365 rows per room), and which occupancy days are built
/// (<c>room_history_days</c>). A day is replaced in one transaction through a second writer
/// (Storage/README.md: housekeeping), together with its local days' sums and the clearing of the
/// <c>changed_days</c> marks it was built for.
/// </summary>
public sealed class OccupancyHistoryStore(SqliteStore store)
{
    /// <summary>The time of the site's first stored door reading, or null when there is none.</summary>
    public long? FirstDoorPoint(string site)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT min((SELECT min(start_ms) FROM point_blocks WHERE series_id = s.id)) FROM series s WHERE s.kind = $kind AND s.site = $site";
        command.Parameters.AddWithValue("$kind", ReadingKinds.Door);
        command.Parameters.AddWithValue("$site", site);
        return command.ExecuteScalar() is long ms ? ms : null;
    }

    /// <summary>The occupancy days built so far (start → when, and whether their day sums are written).</summary>
    public Dictionary<long, BuiltDay> Built(string site)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT start_ms, built_ms, aggregated FROM room_history_days WHERE site = $site";
        command.Parameters.AddWithValue("$site", site);
        using var reader = command.ExecuteReader();
        var built = new Dictionary<long, BuiltDay>();
        while (reader.Read())
        {
            built[reader.GetInt64(0)] = new BuiltDay(reader.GetInt64(1), reader.GetInt64(2) == 1);
        }

        return built;
    }

    /// <summary>
    /// Replaces the hours from <paramref name="fromHour"/> to <paramref name="end"/> with the rows,
    /// sums the local days they touch again, marks the day built and clears the changed-day marks
    /// it was built for, in one transaction.
    /// </summary>
    public void ReplaceDay(string site, long start, long fromHour, long end, IEnumerable<RoomHourRow> rows, IReadOnlyList<(long Start, long End)> localDays,
        IReadOnlyList<ChangedDay> cleared, long nowMs)
    {
        using var connection = store.OpenSecondWriter();
        using var transaction = connection.BeginTransaction();
        using (var delete = connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM room_hours WHERE site = $site AND hour_ms >= $a AND hour_ms < $b";
            delete.Parameters.AddWithValue("$site", site);
            delete.Parameters.AddWithValue("$a", fromHour);
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
            foreach (var row in rows)
            {
                p[0].Value = site;
                p[1].Value = row.Room;
                p[2].Value = row.Hour;
                p[3].Value = row.OccupiedMs;
                p[4].Value = row.OpenMs;
                p[5].Value = row.OccupiedOpenMs;
                p[6].Value = row.PersonMs;
                p[7].Value = row.MaxCount;
                p[8].Value = row.Entries;
                insert.ExecuteNonQuery();
            }
        }

        SumDays(connection, transaction, site, localDays);
        MarkBuilt(connection, transaction, site, start, nowMs);
        ChangedDays.Clear(connection, transaction, site, ChangedDays.Door, cleared);
        transaction.Commit();
    }

    /// <summary>Sums the local days of a day built before the day sums existed (a store from before migration 3), and marks it aggregated.</summary>
    public void Aggregate(string site, long start, IReadOnlyList<(long Start, long End)> localDays)
    {
        using var connection = store.OpenSecondWriter();
        using var transaction = connection.BeginTransaction();
        SumDays(connection, transaction, site, localDays);
        using (var mark = connection.CreateCommand())
        {
            mark.Transaction = transaction;
            mark.CommandText = "UPDATE room_history_days SET aggregated = 1 WHERE site = $site AND start_ms = $start";
            mark.Parameters.AddWithValue("$site", site);
            mark.Parameters.AddWithValue("$start", start);
            mark.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>Clears changed-day marks that need no rebuild (their days are before the raw cutoff or hold no history).</summary>
    public void ClearChanged(string site, IReadOnlyList<ChangedDay> cleared)
    {
        if (cleared.Count == 0)
        {
            return;
        }

        using var connection = store.OpenSecondWriter();
        using var transaction = connection.BeginTransaction();
        ChangedDays.Clear(connection, transaction, site, ChangedDays.Door, cleared);
        transaction.Commit();
    }

    /// <summary>The hour rows in [from, to) of one room, or of every room when <paramref name="room"/> is null, by time.</summary>
    public List<RoomHourRow> Hours(string site, string? room, long fromMs, long toMs) => room is null
        ? Read("SELECT room, hour_ms, occupied_ms, open_ms, occupied_open_ms, person_ms, max_count, entries FROM room_hours WHERE site = $site AND hour_ms >= $a AND hour_ms < $b ORDER BY hour_ms", site, room, fromMs, toMs)
        : Read("SELECT room, hour_ms, occupied_ms, open_ms, occupied_open_ms, person_ms, max_count, entries FROM room_hours WHERE site = $site AND room = $room AND hour_ms >= $a AND hour_ms < $b ORDER BY hour_ms", site, room, fromMs, toMs);

    /// <summary>The local days' sums whose day starts in [from, to), of one room or of every room, by time (<see cref="RoomHourRow.Hour"/> is the day's start).</summary>
    // Two texts rather than "($room IS NULL OR room = $room)": with the OR, SQLite uses neither the
    // (site, room, time) key for one room nor the time index for all, and reads every row of the site.
    public List<RoomHourRow> Days(string site, string? room, long fromMs, long toMs) => room is null
        ? Read("SELECT room, day_ms, occupied_ms, open_ms, occupied_open_ms, person_ms, max_count, entries FROM room_days WHERE site = $site AND day_ms >= $a AND day_ms < $b ORDER BY day_ms", site, room, fromMs, toMs)
        : Read("SELECT room, day_ms, occupied_ms, open_ms, occupied_open_ms, person_ms, max_count, entries FROM room_days WHERE site = $site AND room = $room AND day_ms >= $a AND day_ms < $b ORDER BY day_ms", site, room, fromMs, toMs);

    /// <summary>
    /// Per room, over the local days whose start is in [from, to): opening time, time occupied within
    /// it, entries, and the days with someone present in opening hours; summed by SQLite, so a year
    /// of every room is one grouped read.
    /// </summary>
    public Dictionary<string, RoomUseSums> UseSums(string site, long fromMs, long toMs)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT room, sum(open_ms), sum(occupied_open_ms), sum(entries), count(CASE WHEN occupied_open_ms > 0 THEN 1 END)
            FROM room_days WHERE site = $site AND day_ms >= $a AND day_ms < $b GROUP BY room
            """;
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$a", fromMs);
        command.Parameters.AddWithValue("$b", toMs);
        using var reader = command.ExecuteReader();
        var sums = new Dictionary<string, RoomUseSums>(StringComparer.Ordinal);
        while (reader.Read())
        {
            sums[reader.GetString(0)] = new RoomUseSums(reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4));
        }

        return sums;
    }

    private List<RoomHourRow> Read(string sql, string site, string? room, long fromMs, long toMs)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$a", fromMs);
        command.Parameters.AddWithValue("$b", toMs);
        if (room is not null)
        {
            command.Parameters.AddWithValue("$room", room);
        }

        using var reader = command.ExecuteReader();
        var rows = new List<RoomHourRow>();
        while (reader.Read())
        {
            rows.Add(new RoomHourRow(reader.GetString(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetDouble(5), reader.GetInt64(6), reader.GetInt64(7)));
        }

        return rows;
    }

    private static void SumDays(SqliteConnection connection, SqliteTransaction transaction, string site, IReadOnlyList<(long Start, long End)> localDays)
    {
        using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = "DELETE FROM room_days WHERE site = $site AND day_ms = $day";
        delete.Parameters.AddWithValue("$site", site);
        var deleteDay = delete.Parameters.Add(new SqliteParameter { ParameterName = "$day" });
        using var sum = connection.CreateCommand();
        sum.Transaction = transaction;
        sum.CommandText = """
            INSERT INTO room_days (site, room, day_ms, occupied_ms, open_ms, occupied_open_ms, person_ms, max_count, entries)
            SELECT site, room, $day, sum(occupied_ms), sum(open_ms), sum(occupied_open_ms), sum(person_ms), max(max_count), sum(entries)
            FROM room_hours WHERE site = $site AND hour_ms >= $day AND hour_ms < $end GROUP BY room
            """;
        sum.Parameters.AddWithValue("$site", site);
        var day = sum.Parameters.Add(new SqliteParameter { ParameterName = "$day" });
        var end = sum.Parameters.Add(new SqliteParameter { ParameterName = "$end" });
        foreach (var (a, b) in localDays)
        {
            deleteDay.Value = a;
            delete.ExecuteNonQuery();
            day.Value = a;
            end.Value = b;
            sum.ExecuteNonQuery();
        }
    }

    private static void MarkBuilt(SqliteConnection connection, SqliteTransaction transaction, string site, long start, long nowMs)
    {
        using var mark = connection.CreateCommand();
        mark.Transaction = transaction;
        // fingerprint: a column of migration 1, no longer read (changed_days replaced it).
        mark.CommandText = "INSERT OR REPLACE INTO room_history_days (site, start_ms, fingerprint, built_ms, aggregated) VALUES ($site, $start, '', $now, 1)";
        mark.Parameters.AddWithValue("$site", site);
        mark.Parameters.AddWithValue("$start", start);
        mark.Parameters.AddWithValue("$now", nowMs);
        mark.ExecuteNonQuery();
    }
}
