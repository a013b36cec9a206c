using Microsoft.Data.Sqlite;

namespace NewTechPark.Edge.Collector.Storage.Visitors;

/// <summary>Frozen or counted badge figures of one bucket.</summary>
public readonly record struct BadgeAggregate(long Start, long Scans, long Unique, long Returning);

/// <summary>One pseudonym's scans on one local day, and whether the day is after its first kept day.</summary>
public readonly record struct VisitorDayRow(long DayMs, string Visitor, long Scans, bool Returning);

/// <summary>
/// The SQL of visitors: raw badge scans (pseudonyms, written by the ingest), each pseudonym's scans
/// per local day (<c>visitor_days</c>, rebuilt for the days <c>changed_days</c> names and read in
/// day order by the service's copy in memory), their frozen aggregates (<c>visitor_aggregates</c>,
/// dropped by a rebuild that makes them stale) and the purge of scans past their retention. Day rebuilds, freezing
/// and purging write through a second writer (Storage/README.md: housekeeping); whatever deletes a
/// row with a pseudonym runs with <c>secure_delete</c>, so no copy stays in the file's free space.
/// </summary>
public sealed class VisitorsStore(SqliteStore store)
{
    /// <summary>The frozen aggregates of one bucket kind whose start lies in [from, to).</summary>
    public List<BadgeAggregate> Frozen(string site, string bucket, long fromMs, long toMs)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT start_ms, scans, unique_visitors, returning_visitors FROM visitor_aggregates WHERE site = $site AND bucket = $bucket AND start_ms >= $from AND start_ms < $to";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$bucket", bucket);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        using var reader = command.ExecuteReader();
        var result = new List<BadgeAggregate>();
        while (reader.Read())
        {
            result.Add(new BadgeAggregate(reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
        }

        return result;
    }

    /// <summary>Stores (or replaces) frozen aggregates of one bucket kind, in one transaction.</summary>
    public void Freeze(string site, string bucket, IEnumerable<BadgeAggregate> aggregates)
    {
        using var connection = store.OpenSecondWriter();
        using var transaction = connection.BeginTransaction();
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = "INSERT OR REPLACE INTO visitor_aggregates (site, bucket, start_ms, scans, unique_visitors, returning_visitors) VALUES ($site, $bucket, $start, $scans, $unique, $returning)";
        var p = new[] { "$site", "$bucket", "$start", "$scans", "$unique", "$returning" }.Select(n => insert.Parameters.Add(new SqliteParameter { ParameterName = n })).ToArray();
        foreach (var a in aggregates)
        {
            p[0].Value = site;
            p[1].Value = bucket;
            p[2].Value = a.Start;
            p[3].Value = a.Scans;
            p[4].Value = a.Unique;
            p[5].Value = a.Returning;
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    /// <summary>
    /// Rebuilds the visitor days of the local days (start, end) from the kept scans, clears the
    /// changed-day marks they were rebuilt for, and drops the frozen aggregates the new rows make
    /// stale, in one transaction: of each bucket kind those starting at or after its
    /// <paramref name="thaw"/> start and at or after <paramref name="keptSinceMs"/> (older buckets
    /// may have lost scans to the purge, so their frozen figures stay). Housekeeping freezes them
    /// again from the visitor days.
    /// </summary>
    public void RebuildDays(string site, IReadOnlyList<(long Start, long End)> days, IReadOnlyList<ChangedDay> cleared, IReadOnlyList<(string Bucket, long FromMs)> thaw, long keptSinceMs)
    {
        using var connection = store.OpenSecondWriter();
        SqliteStore.Execute(connection, "PRAGMA secure_delete = ON");
        try
        {
            using var transaction = connection.BeginTransaction();
            RebuildDays(connection, transaction, site, days);
            using var unfreeze = connection.CreateCommand();
            unfreeze.Transaction = transaction;
            unfreeze.CommandText = "DELETE FROM visitor_aggregates WHERE site = $site AND bucket = $bucket AND start_ms >= $from AND start_ms >= $kept";
            unfreeze.Parameters.AddWithValue("$site", site);
            unfreeze.Parameters.AddWithValue("$kept", keptSinceMs);
            var bucket = unfreeze.Parameters.Add(new SqliteParameter { ParameterName = "$bucket" });
            var from = unfreeze.Parameters.Add(new SqliteParameter { ParameterName = "$from" });
            foreach (var (kind, fromMs) in thaw)
            {
                bucket.Value = kind;
                from.Value = fromMs;
                unfreeze.ExecuteNonQuery();
            }

            ChangedDays.Clear(connection, transaction, site, ChangedDays.Badge, cleared);
            transaction.Commit();
        }
        finally
        {
            SqliteStore.Execute(connection, "PRAGMA secure_delete = OFF");
        }
    }

    /// <summary>The site's visitor days from the day <paramref name="fromDayMs"/> on, in day order (the primary key's order: a range search, no sort).</summary>
    public IEnumerable<VisitorDayRow> Days(string site, long fromDayMs)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT day_ms, visitor, scans, is_returning FROM visitor_days WHERE site = $site AND day_ms >= $from ORDER BY day_ms";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$from", fromDayMs);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return new VisitorDayRow(reader.GetInt64(0), reader.GetString(1), reader.GetInt64(2), reader.GetInt64(3) == 1);
        }
    }

    /// <summary>The time of the site's oldest kept scan, or null when none is kept.</summary>
    public long? EarliestScan(string site)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT min(ts_ms) FROM badge_scans WHERE site = $site";
        command.Parameters.AddWithValue("$site", site);
        return command.ExecuteScalar() as long?;
    }

    /// <summary>
    /// Deletes the site's scans older than the cutoff and their visitor days (the local day holding
    /// the cutoff, <paramref name="cutoffDay"/>, is rebuilt from what is kept), overwriting them in
    /// the file, in one transaction; the number of scans deleted.
    /// </summary>
    public long PurgeScans(string site, long cutoffMs, (long Start, long End) cutoffDay)
    {
        using var connection = store.OpenSecondWriter();
        // A deleted row stays in the file's free space until SQLite happens to reuse it; with
        // secure_delete the purge overwrites it, so a purged pseudonym leaves the file, not just the table.
        SqliteStore.Execute(connection, "PRAGMA secure_delete = ON");
        try
        {
            using var transaction = connection.BeginTransaction();
            using var purge = connection.CreateCommand();
            purge.Transaction = transaction;
            purge.CommandText = "DELETE FROM badge_scans WHERE site = $site AND ts_ms < $cutoff";
            purge.Parameters.AddWithValue("$site", site);
            purge.Parameters.AddWithValue("$cutoff", cutoffMs);
            var deleted = purge.ExecuteNonQuery();
            using var days = connection.CreateCommand();
            days.Transaction = transaction;
            days.CommandText = "DELETE FROM visitor_days WHERE site = $site AND day_ms < $day";
            days.Parameters.AddWithValue("$site", site);
            days.Parameters.AddWithValue("$day", cutoffDay.Start);
            days.ExecuteNonQuery();
            RebuildDays(connection, transaction, site, [cutoffDay]);
            if (deleted > 0)
            {
                // A pseudonym's first kept day may have moved: "returning" looks back as far as the kept scans go.
                using var flags = connection.CreateCommand();
                flags.Transaction = transaction;
                flags.CommandText = """
                    UPDATE visitor_days SET is_returning = day_ms > (SELECT min(f.day_ms) FROM visitor_days f WHERE f.site = visitor_days.site AND f.visitor = visitor_days.visitor)
                    WHERE site = $site
                    """;
                flags.Parameters.AddWithValue("$site", site);
                flags.ExecuteNonQuery();
            }

            transaction.Commit();
            return deleted;
        }
        finally
        {
            // The connection goes back to the pool; other deletes keep SQLite's default.
            SqliteStore.Execute(connection, "PRAGMA secure_delete = OFF");
        }
    }

    /// <summary>Rebuilds the days' rows from the kept scans, and the returning flags of every row of the pseudonyms seen on them (a late scan can be a pseudonym's new first day).</summary>
    private static void RebuildDays(SqliteConnection connection, SqliteTransaction transaction, string site, IReadOnlyList<(long Start, long End)> days)
    {
        using var delete = connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = "DELETE FROM visitor_days WHERE site = $site AND day_ms = $day";
        delete.Parameters.AddWithValue("$site", site);
        var deleteDay = delete.Parameters.Add(new SqliteParameter { ParameterName = "$day" });
        using var insert = connection.CreateCommand();
        insert.Transaction = transaction;
        insert.CommandText = """
            INSERT INTO visitor_days (site, day_ms, visitor, scans)
            SELECT $site, $day, visitor, count(*) FROM badge_scans WHERE site = $site AND ts_ms >= $day AND ts_ms < $end GROUP BY visitor
            """;
        insert.Parameters.AddWithValue("$site", site);
        var day = insert.Parameters.Add(new SqliteParameter { ParameterName = "$day" });
        var end = insert.Parameters.Add(new SqliteParameter { ParameterName = "$end" });
        using var flags = connection.CreateCommand();
        flags.Transaction = transaction;
        // Each row's flag: its day is after the pseudonym's first kept day.
        flags.CommandText = """
            UPDATE visitor_days SET is_returning = day_ms > (SELECT min(f.day_ms) FROM visitor_days f WHERE f.site = visitor_days.site AND f.visitor = visitor_days.visitor)
            WHERE site = $site AND visitor IN (SELECT visitor FROM visitor_days WHERE site = $site AND day_ms = $day)
            """;
        flags.Parameters.AddWithValue("$site", site);
        var flagDay = flags.Parameters.Add(new SqliteParameter { ParameterName = "$day" });
        foreach (var (a, b) in days)
        {
            deleteDay.Value = a;
            delete.ExecuteNonQuery();
            day.Value = a;
            end.Value = b;
            insert.ExecuteNonQuery();
        }

        foreach (var (a, _) in days)
        {
            flagDay.Value = a;
            flags.ExecuteNonQuery();
        }
    }
}

/// <summary>The SQL of registered group visits (<c>group_visits</c>); registrations write through a second writer (admin actions, Storage/README.md).</summary>
public sealed class GroupVisitsStore(SqliteStore store)
{
    /// <summary>Stores a registration; its id.</summary>
    public long Add(string site, string date, long dayMs, string programme, string targetGroup, int headCount, string? room, bool isEvent, string? note, long createdMs)
    {
        using var connection = store.OpenSecondWriter();
        using var command = connection.CreateCommand();
        command.CommandText = """
            INSERT INTO group_visits (site, date, day_ms, programme, target_group, head_count, room, is_event, note, created_ms)
            VALUES ($site, $date, $day, $programme, $group, $count, $room, $event, $note, $created) RETURNING id
            """;
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$date", date);
        command.Parameters.AddWithValue("$day", dayMs);
        command.Parameters.AddWithValue("$programme", programme);
        command.Parameters.AddWithValue("$group", targetGroup);
        command.Parameters.AddWithValue("$count", headCount);
        command.Parameters.AddWithValue("$room", (object?)room ?? DBNull.Value);
        command.Parameters.AddWithValue("$event", isEvent ? 1 : 0);
        command.Parameters.AddWithValue("$note", (object?)note ?? DBNull.Value);
        command.Parameters.AddWithValue("$created", createdMs);
        return (long)command.ExecuteScalar()!;
    }

    public bool Delete(string site, long id)
    {
        using var connection = store.OpenSecondWriter();
        using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM group_visits WHERE site = $site AND id = $id";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$id", id);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>The registrations whose local day starts in [from, to), by day.</summary>
    public List<(long Id, string Date, string Programme, string TargetGroup, int HeadCount, string? Room, bool Event, string? Note, long CreatedMs)> List(string site, long fromMs, long toMs)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT id, date, programme, target_group, head_count, room, is_event, note, created_ms FROM group_visits
            WHERE site = $site AND day_ms >= $from AND day_ms < $to ORDER BY day_ms, id
            """;
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        using var reader = command.ExecuteReader();
        var list = new List<(long, string, string, string, int, string?, bool, string?, long)>();
        while (reader.Read())
        {
            list.Add((reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetString(3), reader.GetInt32(4),
                reader.IsDBNull(5) ? null : reader.GetString(5), reader.GetInt64(6) == 1, reader.IsDBNull(7) ? null : reader.GetString(7), reader.GetInt64(8)));
        }

        return list;
    }
}
