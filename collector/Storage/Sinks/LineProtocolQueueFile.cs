using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Schema;

namespace NewTechPark.Edge.Collector.Storage.Sinks;

/// <summary>
/// The SQL of the InfluxDB sink's durable queue: an SQLite file of its own (not the store), WAL with
/// <c>synchronous=FULL</c>, written only through this one connection (the caller serialises calls).
/// Its schema has its own migration ledger (<see cref="Migrations"/>).
/// </summary>
public sealed class LineProtocolQueueFile : IDisposable
{
    /// <summary>The queue file's schema, as numbered migrations.</summary>
    public static readonly IReadOnlyList<Migration> Migrations =
    [
        new(1, "baseline: chunks, rejected chunks and the drop counter", db => db.Execute("""
            CREATE TABLE IF NOT EXISTS chunks (id INTEGER PRIMARY KEY AUTOINCREMENT, created_ms INTEGER NOT NULL, points INTEGER NOT NULL, bytes INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS rejected (id INTEGER PRIMARY KEY, rejected_ms INTEGER NOT NULL, reason TEXT NOT NULL, body BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS counters (id INTEGER PRIMARY KEY CHECK (id = 1), dropped_points INTEGER NOT NULL);
            INSERT OR IGNORE INTO counters (id, dropped_points) VALUES (1, 0);
            """)),
        new(2, "region feed: a watermark per site and figure kind", db => db.Execute("""
            CREATE TABLE IF NOT EXISTS region_watermarks (site TEXT NOT NULL, kind TEXT NOT NULL, until_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, PRIMARY KEY (site, kind)) WITHOUT ROWID;
            """)),
    ];

    private readonly SqliteConnection _connection;

    public LineProtocolQueueFile(string path)
    {
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        try
        {
            Execute("PRAGMA auto_vacuum=INCREMENTAL;");
            Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA journal_size_limit=67108864;");
            SchemaLedger.Migrate(_connection, path, Migrations);
        }
        catch
        {
            _connection.Dispose();
            throw;
        }
    }

    /// <summary>What the file holds: chunks, their bytes and points, and the points dropped over its life.</summary>
    public (long Chunks, long Bytes, long Points, long DroppedPoints) Totals()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT count(*), coalesce(sum(bytes), 0), coalesce(sum(points), 0), (SELECT dropped_points FROM counters WHERE id = 1) FROM chunks";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3));
    }

    /// <summary>
    /// Appends the chunks, then drops the oldest chunks until the queue (<paramref name="bytesBefore"/>
    /// plus the chunks) fits in <paramref name="maxBytes"/>, in one fsynced transaction; what was dropped.
    /// </summary>
    public (long Chunks, long Bytes, long Points) Append(IReadOnlyList<(int Points, byte[] Body)> chunks, long nowMs, long bytesBefore, long maxBytes) =>
        Append(chunks, nowMs, bytesBefore, maxBytes, null);

    /// <summary>
    /// As <see cref="Append(IReadOnlyList{ValueTuple{int, byte[]}}, long, long, long)"/>, and in the same
    /// transaction moves the watermark of <c>(site, kind)</c> to <c>until_ms</c>: the points and the
    /// mark that says they were made are committed together or not at all (region feed, exactly once).
    /// </summary>
    public (long Chunks, long Bytes, long Points) Append(IReadOnlyList<(int Points, byte[] Body)> chunks, long nowMs, long bytesBefore, long maxBytes, (string Site, string Kind, long UntilMs)? watermark)
    {
        using var transaction = _connection.BeginTransaction();
        if (watermark is { } mark)
        {
            using var upsert = _connection.CreateCommand();
            upsert.Transaction = transaction;
            upsert.CommandText = """
                INSERT INTO region_watermarks (site, kind, until_ms, updated_ms) VALUES ($site, $kind, $until, $now)
                ON CONFLICT (site, kind) DO UPDATE SET until_ms = excluded.until_ms, updated_ms = excluded.updated_ms
                """;
            upsert.Parameters.AddWithValue("$site", mark.Site);
            upsert.Parameters.AddWithValue("$kind", mark.Kind);
            upsert.Parameters.AddWithValue("$until", mark.UntilMs);
            upsert.Parameters.AddWithValue("$now", nowMs);
            upsert.ExecuteNonQuery();
        }

        long addedBytes = 0;
        using (var insert = _connection.CreateCommand())
        {
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO chunks (created_ms, points, bytes, body) VALUES ($created, $points, $bytes, $body)";
            var created = insert.Parameters.Add("$created", SqliteType.Integer);
            var points = insert.Parameters.Add("$points", SqliteType.Integer);
            var bytes = insert.Parameters.Add("$bytes", SqliteType.Integer);
            var body = insert.Parameters.Add("$body", SqliteType.Blob);
            foreach (var (count, data) in chunks)
            {
                created.Value = nowMs;
                points.Value = count;
                bytes.Value = data.Length;
                body.Value = data;
                insert.ExecuteNonQuery();
                addedBytes += data.Length;
            }
        }

        var dropped = DropOldest(transaction, bytesBefore + addedBytes - maxBytes);
        transaction.Commit();
        return dropped;
    }

    /// <summary>The end (exclusive, Unix ms) of the last period of <c>(site, kind)</c> the region feed queued, or null before the first.</summary>
    public long? Watermark(string site, string kind)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT until_ms FROM region_watermarks WHERE site = $site AND kind = $kind";
        command.Parameters.AddWithValue("$site", site);
        command.Parameters.AddWithValue("$kind", kind);
        return command.ExecuteScalar() is long until ? until : null;
    }

    /// <summary>The oldest chunk, or null when the queue is empty.</summary>
    public (long Id, int Points, byte[] Body)? Oldest()
    {
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT id, points, body FROM chunks ORDER BY id LIMIT 1";
        using var reader = command.ExecuteReader();
        return reader.Read() ? (reader.GetInt64(0), reader.GetInt32(1), (byte[])reader.GetValue(2)) : null;
    }

    /// <summary>
    /// Removes a chunk (and keeps it aside with the reason when it was rejected) in one transaction;
    /// its bytes, or null when it was gone already (dropped for the bound).
    /// </summary>
    public long? Remove(long id, string? rejectedFor, byte[] body, long nowMs)
    {
        using var transaction = _connection.BeginTransaction();
        long bytes;
        using (var delete = _connection.CreateCommand())
        {
            delete.Transaction = transaction;
            delete.CommandText = "DELETE FROM chunks WHERE id = $id RETURNING bytes";
            delete.Parameters.AddWithValue("$id", id);
            if (delete.ExecuteScalar() is not long removed)
            {
                return null;
            }

            bytes = removed;
        }

        if (rejectedFor is not null)
        {
            using var keep = _connection.CreateCommand();
            keep.Transaction = transaction;
            keep.CommandText = "INSERT INTO rejected (rejected_ms, reason, body) VALUES ($t, $reason, $body)";
            keep.Parameters.AddWithValue("$t", nowMs);
            keep.Parameters.AddWithValue("$reason", rejectedFor);
            keep.Parameters.AddWithValue("$body", body);
            keep.ExecuteNonQuery();
        }

        transaction.Commit();
        return bytes;
    }

    /// <summary>Gives free pages back to the file system when there are more than <paramref name="minPages"/>.</summary>
    public void ReleaseFreePages(long minPages)
    {
        using var free = _connection.CreateCommand();
        free.CommandText = "PRAGMA freelist_count";
        if (free.ExecuteScalar() is long pages && pages > minPages)
        {
            Execute("PRAGMA incremental_vacuum;");
            // And cut the WAL the backlog grew to zero bytes (one connection: nothing waits).
            Execute("PRAGMA wal_checkpoint(TRUNCATE);");
        }
    }

    public void Dispose() => _connection.Dispose();

    private (long Chunks, long Bytes, long Points) DropOldest(SqliteTransaction transaction, long over)
    {
        if (over <= 0)
        {
            return default;
        }

        long chunks = 0, bytes = 0, points = 0;
        var ids = new List<long>();
        using (var select = _connection.CreateCommand())
        {
            select.Transaction = transaction;
            select.CommandText = "SELECT id, bytes, points FROM chunks ORDER BY id";
            using var reader = select.ExecuteReader();
            while (over > 0 && reader.Read())
            {
                ids.Add(reader.GetInt64(0));
                bytes += reader.GetInt64(1);
                points += reader.GetInt64(2);
                over -= reader.GetInt64(1);
                chunks++;
            }
        }

        using var delete = _connection.CreateCommand();
        delete.Transaction = transaction;
        delete.CommandText = "DELETE FROM chunks WHERE id = $id";
        var p = delete.Parameters.Add("$id", SqliteType.Integer);
        foreach (var id in ids)
        {
            p.Value = id;
            delete.ExecuteNonQuery();
        }

        using var count = _connection.CreateCommand();
        count.Transaction = transaction;
        count.CommandText = "UPDATE counters SET dropped_points = dropped_points + $p WHERE id = 1";
        count.Parameters.AddWithValue("$p", points);
        count.ExecuteNonQuery();
        return (chunks, bytes, points);
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
