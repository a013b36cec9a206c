using Microsoft.Data.Sqlite;

namespace NewTechPark.Edge.Collector.Storage.Visitors;

/// <summary>Frozen or counted badge figures of one bucket.</summary>
public readonly record struct BadgeAggregate(long Start, long Scans, long Unique, long Returning);

/// <summary>
/// The SQL of visitors: raw badge scans (pseudonyms, written by the ingest), their frozen
/// aggregates (<c>visitor_aggregates</c>) and the purge of scans past their retention. Freezing and
/// purging write through a second writer (Storage/README.md: housekeeping).
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

    /// <summary>The time of the site's oldest kept scan, or null when none is kept.</summary>
    public long? EarliestScan(string site)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT min(ts_ms) FROM badge_scans WHERE site = $site";
        command.Parameters.AddWithValue("$site", site);
        return command.ExecuteScalar() as long?;
    }

    /// <summary>The scans in [from, to), read as they are enumerated.</summary>
    public IEnumerable<(string Visitor, long Ts)> Scans(string site, long fromMs, long toMs)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT visitor, ts_ms FROM badge_scans WHERE site = $site AND ts_ms >= $from AND ts_ms < $to";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            yield return (reader.GetString(0), reader.GetInt64(1));
        }
    }

    /// <summary>The first kept scan (Unix ms) of each visitor seen in [from, to).</summary>
    public Dictionary<string, long> FirstScans(string site, long fromMs, long toMs)
    {
        using var connection = store.OpenReader();
        using var command = connection.CreateCommand();
        command.CommandText = """
            SELECT visitor, min(ts_ms) FROM badge_scans
            WHERE site = $site AND visitor IN (SELECT visitor FROM badge_scans WHERE site = $site AND ts_ms >= $from AND ts_ms < $to)
            GROUP BY visitor
            """;
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$from", fromMs);
        command.Parameters.AddWithValue("$to", toMs);
        using var reader = command.ExecuteReader();
        var result = new Dictionary<string, long>(StringComparer.Ordinal);
        while (reader.Read())
        {
            result[reader.GetString(0)] = reader.GetInt64(1);
        }

        return result;
    }

    /// <summary>Deletes the site's scans older than the cutoff, overwriting them in the file; the number deleted.</summary>
    public long PurgeScans(string site, long cutoffMs)
    {
        using var connection = store.OpenSecondWriter();
        // A deleted row stays in the file's free space until SQLite happens to reuse it; with
        // secure_delete the purge overwrites it, so a purged pseudonym leaves the file, not just the table.
        SqliteStore.Execute(connection, "PRAGMA secure_delete = ON");
        try
        {
            using var purge = connection.CreateCommand();
            purge.CommandText = "DELETE FROM badge_scans WHERE site = $site AND ts_ms < $cutoff";
            purge.Parameters.AddWithValue("$site", site);
            purge.Parameters.AddWithValue("$cutoff", cutoffMs);
            return purge.ExecuteNonQuery();
        }
        finally
        {
            // The connection goes back to the pool; other deletes keep SQLite's default.
            SqliteStore.Execute(connection, "PRAGMA secure_delete = OFF");
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
