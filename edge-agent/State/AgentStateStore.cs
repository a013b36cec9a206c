using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using NewTechPark.Edge.Agent.Configuration;

namespace NewTechPark.Edge.Agent.State;

/// <summary>
/// What the agent must remember across restarts and power cuts: the last batch sequence number
/// and the cumulative counter totals. An SQLite file in WAL mode with <c>synchronous=FULL</c>, so a
/// committed sequence number is on disk before the batch that carries it is published. The
/// <see cref="Outbox"/> lives in the same file, so a batch, its sequence number and the counter
/// totals it carries are committed in one transaction.
/// </summary>
public sealed class AgentStateStore : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SqliteConnection _connection;
    private readonly Dictionary<(string Sensor, string Name), long> _counters = [];
    private readonly HashSet<(string Sensor, string Name)> _dirty = [];
    private ulong _lastSeq;

    public AgentStateStore(IOptions<AgentOptions> options, TimeProvider clock)
        : this(Path.Combine(options.Value.DataDirectory, $"agent-{options.Value.Device}.db"), clock)
    {
    }

    public AgentStateStore(string path)
        : this(path, TimeProvider.System)
    {
    }

    /// <summary>
    /// Opens (or creates) the state file. A new file starts its sequence at the current time in
    /// microseconds since 1970, so a Pi whose state was lost (a new SD card, a reflash) still
    /// numbers its batches above everything it sent before, and the collector never takes them
    /// for duplicates: a device sends far fewer than a million batches a second.
    /// </summary>
    public AgentStateStore(string path, TimeProvider clock)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        FilePath = path;
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        _connection.Open();
        // auto_vacuum must be chosen before the first table exists: an outbox that drained after
        // an outage gives its pages back (incremental_vacuum) instead of keeping the file large.
        Execute("PRAGMA auto_vacuum=INCREMENTAL;");
        // WAL: readers and the writer do not block each other, a commit is one append.
        // synchronous=FULL: every commit is fsynced before it returns, so a batch whose number
        // went out is on disk after a power cut (NORMAL could roll the last commits back and a
        // number could then be used again for other readings, which the collector would drop
        // as duplicates). journal_size_limit keeps the WAL file from staying huge after a burst.
        Execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA journal_size_limit=67108864;");
        Execute("""
            CREATE TABLE IF NOT EXISTS sequence (id INTEGER PRIMARY KEY CHECK (id = 1), last_seq INTEGER NOT NULL);
            CREATE TABLE IF NOT EXISTS counters (sensor TEXT NOT NULL, name TEXT NOT NULL, value INTEGER NOT NULL, PRIMARY KEY (sensor, name));
            """);
        using (var seed = _connection.CreateCommand())
        {
            seed.CommandText = "INSERT OR IGNORE INTO sequence (id, last_seq) VALUES (1, $start)";
            seed.Parameters.AddWithValue("$start", Math.Max(0, (clock.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks / 10));
            seed.ExecuteNonQuery();
        }

        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT last_seq FROM sequence WHERE id = 1";
            _lastSeq = unchecked((ulong)(long)command.ExecuteScalar()!);
        }

        using (var command = _connection.CreateCommand())
        {
            command.CommandText = "SELECT sensor, name, value FROM counters";
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                _counters[(reader.GetString(0), reader.GetString(1))] = reader.GetInt64(2);
            }
        }
    }

    public string FilePath { get; }

    public ulong LastSequence
    {
        get
        {
            lock (_gate)
            {
                return _lastSeq;
            }
        }
    }

    public long GetCounter(string sensor, string name)
    {
        lock (_gate)
        {
            return _counters.GetValueOrDefault((sensor, name));
        }
    }

    /// <summary>Records a counter total; it reaches the disk with the next sequence number.</summary>
    public void SetCounter(string sensor, string name, long value)
    {
        lock (_gate)
        {
            _counters[(sensor, name)] = value;
            _dirty.Add((sensor, name));
        }
    }

    /// <summary>
    /// Takes the next sequence number and commits it, together with every changed counter, in one
    /// transaction. A batch is published only with a number that is already durable, so a number is
    /// never used twice, even after a power cut.
    /// </summary>
    public ulong NextSequence()
    {
        lock (_gate)
        {
            var next = _lastSeq + 1;
            using var transaction = _connection.BeginTransaction();
            WriteSequence(transaction, next);
            transaction.Commit();
            SequenceCommitted(next);
            return next;
        }
    }

    /// <summary>The lock that guards the connection; the outbox takes it for its transactions.</summary>
    internal Lock Gate => _gate;

    internal SqliteConnection Connection => _connection;

    /// <summary>The last committed sequence number; only under <see cref="Gate"/>.</summary>
    internal ulong LastSequenceUnlocked => _lastSeq;

    /// <summary>
    /// Writes the sequence number and every changed counter inside <paramref name="transaction"/>;
    /// call <see cref="SequenceCommitted"/> after the commit. Only under <see cref="Gate"/>.
    /// </summary>
    internal void WriteSequence(SqliteTransaction transaction, ulong seq)
    {
        using (var command = _connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "UPDATE sequence SET last_seq = $seq WHERE id = 1";
            command.Parameters.AddWithValue("$seq", unchecked((long)seq));
            command.ExecuteNonQuery();
        }

        if (_dirty.Count > 0)
        {
            using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText = "INSERT INTO counters (sensor, name, value) VALUES ($s, $n, $v) ON CONFLICT (sensor, name) DO UPDATE SET value = excluded.value";
            var sensor = command.Parameters.Add("$s", SqliteType.Text);
            var name = command.Parameters.Add("$n", SqliteType.Text);
            var value = command.Parameters.Add("$v", SqliteType.Integer);
            foreach (var key in _dirty)
            {
                sensor.Value = key.Sensor;
                name.Value = key.Name;
                value.Value = _counters[key];
                command.ExecuteNonQuery();
            }
        }
    }

    /// <summary>After the commit of <see cref="WriteSequence"/>. Only under <see cref="Gate"/>.</summary>
    internal void SequenceCommitted(ulong seq)
    {
        _dirty.Clear();
        _lastSeq = seq;
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _connection.Dispose();
        }
    }

    private void Execute(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
