using System.Text;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace NewTechPark.Edge.Collector.Sinks;

/// <summary>A chunk of line protocol waiting to be written.</summary>
public sealed record QueuedChunk(long Id, int Points, byte[] Body)
{
    public List<string> Lines() => [.. Encoding.UTF8.GetString(Body).Split('\n', StringSplitOptions.RemoveEmptyEntries)];
}

/// <summary>
/// A first-in first-out queue of line-protocol chunks in an SQLite file of its own (WAL,
/// <c>synchronous=FULL</c>): a chunk is on disk before the MQTT message it came from is
/// acknowledged, and leaves only after the sink wrote it. Bounded by bytes; past the bound the
/// oldest chunks are dropped, logged and counted.
/// </summary>
public sealed class DurableQueue : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SqliteConnection _connection;
    private readonly long _maxBytes;
    private readonly int _maxPointsPerChunk;
    private readonly ILogger _logger;
    private readonly Channel<byte> _signal = Channel.CreateBounded<byte>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private long _bytes;
    private long _points;
    private long _chunks;
    private long _droppedPoints;

    public DurableQueue(string path, long maxBytes, int maxPointsPerChunk, ILogger logger)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        FilePath = path;
        _maxBytes = maxBytes;
        _maxPointsPerChunk = maxPointsPerChunk;
        _logger = logger;
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        Execute("PRAGMA auto_vacuum=INCREMENTAL;");
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA journal_size_limit=67108864;");
        Execute("""
            CREATE TABLE IF NOT EXISTS chunks (id INTEGER PRIMARY KEY AUTOINCREMENT, created_ms INTEGER NOT NULL, points INTEGER NOT NULL, bytes INTEGER NOT NULL, body BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS rejected (id INTEGER PRIMARY KEY, rejected_ms INTEGER NOT NULL, reason TEXT NOT NULL, body BLOB NOT NULL);
            CREATE TABLE IF NOT EXISTS counters (id INTEGER PRIMARY KEY CHECK (id = 1), dropped_points INTEGER NOT NULL);
            INSERT OR IGNORE INTO counters (id, dropped_points) VALUES (1, 0);
            """);
        using var command = _connection.CreateCommand();
        command.CommandText = "SELECT count(*), coalesce(sum(bytes), 0), coalesce(sum(points), 0), (SELECT dropped_points FROM counters WHERE id = 1) FROM chunks";
        using var reader = command.ExecuteReader();
        reader.Read();
        _chunks = reader.GetInt64(0);
        _bytes = reader.GetInt64(1);
        _points = reader.GetInt64(2);
        _droppedPoints = reader.GetInt64(3);
        if (_chunks > 0)
        {
            _signal.Writer.TryWrite(0);
        }
    }

    public string FilePath { get; }

    public long Points => Interlocked.Read(ref _points);

    public long Bytes => Interlocked.Read(ref _bytes);

    public long Chunks => Interlocked.Read(ref _chunks);

    /// <summary>Points dropped because the queue passed its byte bound (over the file's life).</summary>
    public long DroppedPoints => Interlocked.Read(ref _droppedPoints);

    /// <summary>Appends the lines in chunks, in one fsynced transaction; throws when the disk refuses.</summary>
    public void Append(IReadOnlyList<string> lines, long nowMs)
    {
        if (lines.Count == 0)
        {
            return;
        }

        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using var insert = _connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = "INSERT INTO chunks (created_ms, points, bytes, body) VALUES ($created, $points, $bytes, $body)";
            var created = insert.Parameters.Add("$created", SqliteType.Integer);
            var points = insert.Parameters.Add("$points", SqliteType.Integer);
            var bytes = insert.Parameters.Add("$bytes", SqliteType.Integer);
            var body = insert.Parameters.Add("$body", SqliteType.Blob);
            long addedBytes = 0;
            var addedChunks = 0;
            for (var start = 0; start < lines.Count; start += _maxPointsPerChunk)
            {
                var count = Math.Min(_maxPointsPerChunk, lines.Count - start);
                var data = Encoding.UTF8.GetBytes(string.Join('\n', lines.Skip(start).Take(count)));
                created.Value = nowMs;
                points.Value = count;
                bytes.Value = data.Length;
                body.Value = data;
                insert.ExecuteNonQuery();
                addedBytes += data.Length;
                addedChunks++;
            }

            var dropped = DropOldest(transaction, Bytes + addedBytes - _maxBytes);
            transaction.Commit();
            Interlocked.Add(ref _bytes, addedBytes - dropped.Bytes);
            Interlocked.Add(ref _points, lines.Count - dropped.Points);
            Interlocked.Add(ref _chunks, addedChunks - dropped.Chunks);
            if (dropped.Chunks > 0)
            {
                Interlocked.Add(ref _droppedPoints, dropped.Points);
                _logger.LogError("The queue {Path} passed its bound of {Max} bytes: dropped the {Points} oldest point(s) ({Total} in all)",
                    FilePath, _maxBytes, dropped.Points, DroppedPoints);
            }
        }

        _signal.Writer.TryWrite(0);
    }

    /// <summary>The oldest chunk, or null when the queue is empty.</summary>
    public QueuedChunk? Peek()
    {
        lock (_gate)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "SELECT id, points, body FROM chunks ORDER BY id LIMIT 1";
            using var reader = command.ExecuteReader();
            return reader.Read() ? new QueuedChunk(reader.GetInt64(0), reader.GetInt32(1), (byte[])reader.GetValue(2)) : null;
        }
    }

    /// <summary>The chunk was written: remove it.</summary>
    public void Remove(QueuedChunk chunk) => Remove(chunk, null, 0);

    /// <summary>The server refuses the chunk for good (bad data): keep it aside with the reason, out of the queue.</summary>
    public void Reject(QueuedChunk chunk, string reason, long nowMs) => Remove(chunk, reason, nowMs);

    /// <summary>Completes when something was appended since the last wait (or at once when a chunk waits).</summary>
    public ValueTask<bool> WaitAsync(CancellationToken cancellationToken) => _signal.Reader.WaitToReadAsync(cancellationToken);

    public void ResetSignal() => _signal.Reader.TryRead(out _);

    public void Dispose()
    {
        lock (_gate)
        {
            _connection.Dispose();
        }
    }

    private void Remove(QueuedChunk chunk, string? rejectedFor, long nowMs)
    {
        lock (_gate)
        {
            using var transaction = _connection.BeginTransaction();
            using (var delete = _connection.CreateCommand())
            {
                delete.Transaction = transaction;
                delete.CommandText = "DELETE FROM chunks WHERE id = $id RETURNING bytes";
                delete.Parameters.AddWithValue("$id", chunk.Id);
                if (delete.ExecuteScalar() is not long bytes)
                {
                    return; // dropped for the bound meanwhile
                }

                Interlocked.Add(ref _bytes, -bytes);
            }

            if (rejectedFor is not null)
            {
                using var keep = _connection.CreateCommand();
                keep.Transaction = transaction;
                keep.CommandText = "INSERT INTO rejected (rejected_ms, reason, body) VALUES ($t, $reason, $body)";
                keep.Parameters.AddWithValue("$t", nowMs);
                keep.Parameters.AddWithValue("$reason", rejectedFor);
                keep.Parameters.AddWithValue("$body", chunk.Body);
                keep.ExecuteNonQuery();
            }

            transaction.Commit();
            Interlocked.Add(ref _points, -chunk.Points);
            Interlocked.Decrement(ref _chunks);
            if (Interlocked.Read(ref _chunks) == 0)
            {
                // Drained after a backlog: give its pages back to the file system (only when there
                // are many, so the steady state does not pay a vacuum per batch).
                using var free = _connection.CreateCommand();
                free.CommandText = "PRAGMA freelist_count";
                if (free.ExecuteScalar() is long pages && pages > 1024)
                {
                    Execute("PRAGMA incremental_vacuum;");
                }
            }
        }
    }

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
