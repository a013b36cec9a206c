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
    // Same series and millisecond: the first value stored stays. Another batch (a replay, or a
    // device trying to rewrite history) never replaces it; a different value is reported as a
    // conflict, so it is counted and logged with who sent it.
    private const string InsertSql = "INSERT INTO points (series_id, ts_ms, value) VALUES (?1, ?2, ?3) ON CONFLICT (series_id, ts_ms) DO NOTHING";
    private const string SameSql = "SELECT 1 FROM points WHERE series_id = ?1 AND ts_ms = ?2 AND value = ?3";

    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _insert;
    private readonly sqlite3_stmt _same;

    public PointStatement(SqliteConnection connection)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("the writer's connection is not open");
        _insert = Prepare(InsertSql);
        try
        {
            _same = Prepare(SameSql);
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

        return Row(_same, seriesId, tsMs, value) ? PointWrite.Unchanged : PointWrite.Conflict;
    }

    public void Dispose()
    {
        _insert.Dispose();
        _same.Dispose();
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

    /// <summary>Runs a query once; whether it found a row.</summary>
    private bool Row(sqlite3_stmt statement, long seriesId, long tsMs, double value)
    {
        raw.sqlite3_bind_int64(statement, 1, seriesId);
        raw.sqlite3_bind_int64(statement, 2, tsMs);
        raw.sqlite3_bind_double(statement, 3, value);
        var rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        if (rc is not (raw.SQLITE_ROW or raw.SQLITE_DONE))
        {
            SqliteException.ThrowExceptionForRC(rc, _db);
        }

        return rc == raw.SQLITE_ROW;
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
