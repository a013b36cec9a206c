using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>
/// Keeps the store's WAL file small beside a writer that has automatic checkpoints off. Every tick
/// runs a PASSIVE checkpoint (never blocks anyone). PASSIVE alone can be starved: while the ingest
/// commits without pause and a reader holds an old snapshot, the WAL never catches up and never
/// starts over (measured: 1.28 GB after 561,710 readings, and it stayed that size). So when the WAL
/// holds more than <see cref="ForceThresholdBytes"/>, or nothing was written since the last tick
/// (idle), it runs TRUNCATE with a busy timeout: that waits for the write lock and for the readers,
/// copies everything back and cuts the file to zero bytes. A failed attempt (a reader held on
/// longer than the timeout) is tried again after <see cref="RetryAfterFailure"/>, so a long reader
/// costs the ingest at most a third of its time, not all of it.
/// </summary>
public sealed class WalCheckpointer : IDisposable
{
    /// <summary>What every writing connection of the store sets: the WAL file is cut back to this when it starts over.</summary>
    public const long JournalSizeLimitBytes = 64L * 1024 * 1024;

    /// <summary>Above this much WAL content a checkpoint no longer waits for a quiet moment.</summary>
    public const long ForceThresholdBytes = 32L * 1024 * 1024;

    /// <summary>How long a TRUNCATE waits for the write lock and the readers (it holds the ingest back meanwhile).</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Pause after a TRUNCATE that timed out, so the ingest gets the lock back for a while.</summary>
    public static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(2);

    private readonly SqliteConnection _connection;
    private readonly ILogger _logger;
    private readonly string _file;
    private readonly TimeProvider _clock;
    private readonly long _frameBytes;
    private long _lastFrames = -1;
    private long _nextForcedAttempt;

    public WalCheckpointer(string connectionString, string file, ILogger logger, TimeProvider? clock = null)
    {
        _file = file;
        _logger = logger;
        _clock = clock ?? TimeProvider.System;
        // A connection of its own (not pooled), so its busy timeout reaches no reader of the pool.
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder(connectionString) { Pooling = false }.ToString());
        _connection.Open();
        SqliteStore.Execute(_connection, FormattableString.Invariant(
            $"PRAGMA journal_size_limit={JournalSizeLimitBytes}; PRAGMA busy_timeout={(int)BusyTimeout.TotalMilliseconds};"));
        using var pageSize = _connection.CreateCommand();
        pageSize.CommandText = "PRAGMA page_size";
        _frameBytes = (long)pageSize.ExecuteScalar()! + 24; // a WAL frame is a page and a 24-byte header
    }

    /// <summary>The pragmas every writing connection of the store needs (the ingest writer and the second writers).</summary>
    public static void LimitJournal(SqliteConnection connection) =>
        SqliteStore.Execute(connection, FormattableString.Invariant($"PRAGMA journal_size_limit={JournalSizeLimitBytes};"));

    /// <summary>The WAL file's size on disk, 0 when there is none.</summary>
    public static long WalFileBytes(string databaseFile)
    {
        var wal = new FileInfo(databaseFile + "-wal");
        return wal.Exists ? wal.Length : 0;
    }

    /// <summary>One tick: PASSIVE, then TRUNCATE when the WAL is large or the writer is idle.</summary>
    public void Tick()
    {
        var (_, frames, _) = Run("PASSIVE");
        var idle = frames > 0 && frames == _lastFrames;
        _lastFrames = frames;
        var large = frames * _frameBytes > ForceThresholdBytes;
        if (!idle && !large && !(frames == 0 && WalFileBytes(_file) > JournalSizeLimitBytes))
        {
            return;
        }

        var now = _clock.GetTimestamp();
        if (now < _nextForcedAttempt)
        {
            return;
        }

        var (busy, left, _) = Run("TRUNCATE");
        if (busy)
        {
            _nextForcedAttempt = now + (long)(RetryAfterFailure.TotalSeconds * _clock.TimestampFrequency);
            _logger.LogDebug("WAL of {Store} could not be truncated ({Frames} frames): a reader or writer held on longer than {Timeout}", _file, left, BusyTimeout);
        }
        else
        {
            _lastFrames = 0;
        }
    }

    private (bool Busy, long Frames, long Checkpointed) Run(string mode)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = $"PRAGMA wal_checkpoint({mode})";
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0) != 0, reader.GetInt64(1), reader.GetInt64(2));
    }

    public void Dispose() => _connection.Dispose();
}
