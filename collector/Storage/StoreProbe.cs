using Microsoft.Data.Sqlite;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>
/// The health check's tiny write: one row added to <c>dead_letters</c> and removed again in the
/// same transaction. The commit still appends and fsyncs a WAL frame, so a full disk, a read-only
/// file or a store locked for too long shows up here before the ingest trips over it; readers never
/// see the row.
/// </summary>
public sealed class StoreProbe(SqliteStore store)
{
    private long _lastSuccess = long.MinValue;

    /// <summary>
    /// A probe that succeeded this recently is not written again: anyone may poll /healthz, and
    /// each probe is an fsync (an SD card's write budget). Failures are never reused.
    /// </summary>
    public TimeSpan ReuseSuccessFor { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Writes the probe unless one succeeded within <see cref="ReuseSuccessFor"/>; true when it wrote.</summary>
    public bool WriteUnlessRecent(TimeSpan wait)
    {
        var last = Interlocked.Read(ref _lastSuccess);
        if (last != long.MinValue && TimeProvider.System.GetElapsedTime(last) < ReuseSuccessFor)
        {
            return false;
        }

        Write(wait);
        Interlocked.Exchange(ref _lastSuccess, TimeProvider.System.GetTimestamp());
        return true;
    }

    /// <summary>Writes and commits the probe; throws <see cref="SqliteException"/> when the store cannot take a write within <paramref name="wait"/>.</summary>
    public void Write(TimeSpan wait)
    {
        using var connection = store.OpenSecondWriter();
        using var transaction = connection.BeginTransaction();
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandTimeout = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        command.CommandText = """
            INSERT INTO dead_letters (received_ms, topic, rule, reason, payload) VALUES (0, '', 'health-probe', '', x'');
            DELETE FROM dead_letters WHERE id = last_insert_rowid();
            """;
        command.ExecuteNonQuery();
        transaction.Commit();
    }
}
