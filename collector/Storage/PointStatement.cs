using Microsoft.Data.Sqlite;
using NewTechPark.Edge.Collector.Storage.Rollups;
using SQLitePCL;

namespace NewTechPark.Edge.Collector.Storage;

/// <summary>
/// The writer's hottest line, one raw point per value, through SQLite's C API: bound and stepped
/// without Microsoft.Data.Sqlite's per-call parameter objects (boxed values, name lookups), which
/// cost as much as SQLite's own insert. Runs on the writer's connection, inside its transaction.
/// </summary>
internal sealed class PointStatement : IDisposable
{
    // Same series and millisecond: the later write wins (a device resending the same reading);
    // the rollups need to know whether a value was replaced.
    private const string InsertSql = "INSERT INTO points (series_id, ts_ms, value) VALUES (?1, ?2, ?3) ON CONFLICT (series_id, ts_ms) DO NOTHING";
    private const string UpdateSql = "UPDATE points SET value = ?3 WHERE series_id = ?1 AND ts_ms = ?2 AND value <> ?3";

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _insert;
    private readonly sqlite3_stmt _update;

    public PointStatement(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the writer's connection is not open");
        _insert = Prepare(InsertSql);
        try
        {
            _update = Prepare(UpdateSql);
        }
        catch
        {
            _insert.Dispose();
            throw;
        }
    }

    public PointWrite Write(long seriesId, long tsMs, double value)
    {
        if (Step(_insert, seriesId, tsMs, value) == 1)
        {
            return PointWrite.Inserted;
        }

        return Step(_update, seriesId, tsMs, value) == 1 ? PointWrite.Replaced : PointWrite.Unchanged;
    }

    public void Dispose()
    {
        _insert.Dispose();
        _update.Dispose();
    }

    /// <summary>Runs the statement once; the rows it changed. A failure (disk full, I/O) is a <see cref="SqliteException"/>, as everywhere else.</summary>
    private int Step(sqlite3_stmt statement, long seriesId, long tsMs, double value)
    {
        raw.sqlite3_bind_int64(statement, 1, seriesId);
        raw.sqlite3_bind_int64(statement, 2, tsMs);
        raw.sqlite3_bind_double(statement, 3, value);
        var rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc != raw.SQLITE_DONE)
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        return raw.sqlite3_changes(_db);
    }

    private sqlite3_stmt Prepare(string sql)
    {
        var rc = raw.sqlite3_prepare_v2(_db, sql, out var statement);
        if (rc != raw.SQLITE_OK)
        {
            statement?.Dispose();
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        return statement!;
    }
}
